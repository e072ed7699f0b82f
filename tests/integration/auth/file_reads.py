"""FileReads: counts the times any process opened a file for reading and closed it again
(Linux inotify IN_CLOSE_NOWRITE on its folder, so a file replaced by a rename stays watched).
A test waits on these events to know that the server has (re)read a file, instead of sleeping
for as long as the server's checks might take."""

from __future__ import annotations

import ctypes
import os
import struct
from pathlib import Path

IN_CLOSE_NOWRITE = 0x10
_EVENT_HEADER = struct.Struct("iIII")  # wd, mask, cookie, len (struct inotify_event)

_libc = ctypes.CDLL(None, use_errno=True)


class FileReads:
    def __init__(self, path: Path):
        self._name = path.name.encode()
        self._fd = _libc.inotify_init1(os.O_NONBLOCK | os.O_CLOEXEC)
        if self._fd < 0:
            raise OSError(ctypes.get_errno(), "inotify_init1")
        if _libc.inotify_add_watch(self._fd, str(path.parent).encode(), IN_CLOSE_NOWRITE) < 0:
            os.close(self._fd)
            raise OSError(ctypes.get_errno(), f"inotify_add_watch {path.parent}")
        self._count = 0

    def count(self) -> int:
        """Reads of the file since the watch began (events not yet read are counted now)."""
        while True:
            try:
                data = os.read(self._fd, 64 * 1024)
            except BlockingIOError:
                return self._count
            offset = 0
            while offset < len(data):
                _, mask, _, size = _EVENT_HEADER.unpack_from(data, offset)
                offset += _EVENT_HEADER.size
                name = data[offset:offset + size].rstrip(b"\0")
                offset += size
                if mask & IN_CLOSE_NOWRITE and name == self._name:
                    self._count += 1

    def close(self) -> None:
        os.close(self._fd)

    def __enter__(self) -> "FileReads":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
