"""Real media files generated with Pillow for the darwin-sim tests."""

from __future__ import annotations

from pathlib import Path

from PIL import Image


def make_image(path: Path, width: int, height: int, color=(200, 40, 90)) -> Path:
    """Writes a solid-colour image whose format follows the file extension."""
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (width, height), color).save(path)
    return path
