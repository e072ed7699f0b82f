"""labelport: Python client for the labelport annotation-run service."""
