"""Reading a local file with a byte limit that holds whatever the path is: FIFO, device, symlink, growing file.

Used wherever a path comes from an operator or a config (`file:` sources, `--papers`, `like --library`).
The size is never taken from `stat` (a device reports 0, a file may grow while read): the limit is
counted while reading. The path is opened non-blocking, so a FIFO with no writer cannot hang the
command, and anything but a regular file (after following symlinks) is refused with one line.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

_CHUNK = 1 << 16
_KINDS = ((stat.S_ISFIFO, "a FIFO (named pipe)"), (stat.S_ISCHR, "a character device"),
          (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"), (stat.S_ISDIR, "a directory"))


class BoundedReadError(ValueError):
    """The file cannot be read within the rules; the message is one line for the operator."""


def read_bounded(path: Path | str, max_bytes: int) -> bytes:
    """The bytes of regular file `path`, at most `max_bytes`; `BoundedReadError` (one line) otherwise."""
    path = Path(path)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOCTTY", 0))
    except OSError as exc:
        raise BoundedReadError(f"cannot read {path}: {exc.strerror or exc}") from None
    try:
        mode = os.fstat(fd).st_mode  # of what was opened (a symlink's target), not of the name
        if not stat.S_ISREG(mode):
            kind = next((name for test, name in _KINDS if test(mode)), "not a regular file")
            raise BoundedReadError(f"{path} is {kind}, not a regular file: give the path of a saved file")
        os.set_blocking(fd, True)
        chunks: list[bytes] = []
        total = 0
        while True:
            chunk = os.read(fd, min(_CHUNK, max_bytes + 1 - total))
            if not chunk:
                return b"".join(chunks)
            total += len(chunk)
            if total > max_bytes:
                raise BoundedReadError(f"{path} is larger than the {max_bytes}-byte limit")
            chunks.append(chunk)
    except OSError as exc:
        raise BoundedReadError(f"cannot read {path}: {exc.strerror or exc}") from None
    finally:
        os.close(fd)
