"""labelport: Python client for the labelport annotation-run service."""

from labelport.client import SETTLED_STATES, Client, file_digest, run_name
from labelport.errors import LabelportError

__all__ = ["Client", "LabelportError", "SETTLED_STATES", "file_digest", "run_name"]
__version__ = "0.1.0"
