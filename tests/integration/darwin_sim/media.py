"""Real media files for the darwin-sim tests: images from Pillow, videos from ffmpeg."""

from __future__ import annotations

import subprocess
from pathlib import Path

from PIL import Image


def make_image(path: Path, width: int, height: int, color=(200, 40, 90)) -> Path:
    """Writes a solid-colour image whose format follows the file extension."""
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (width, height), color).save(path)
    return path


def make_video(path: Path, width: int = 320, height: int = 240, rate: int = 10,
               seconds: float = 2, codec: str = "libx264") -> Path:
    """Encodes FFmpeg's test pattern into a real video (container from the extension)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    args = ["ffmpeg", "-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi",
            "-i", f"testsrc=size={width}x{height}:rate={rate}", "-t", str(seconds),
            "-c:v", codec]
    if codec == "libx264":
        args += ["-pix_fmt", "yuv420p"]
    subprocess.run([*args, str(path)], check=True, capture_output=True)
    return path
