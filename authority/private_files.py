"""Local state under var/ (the SQLite database, the file broker, SoftHSM2 tokens and PINs, the
development secret key) is for this service's user alone: directories 0700, files 0600.

`mkdir(mode=…)` applies the mode to the last directory only (parents get the umask's), and an
existing file keeps whatever mode an older version gave it, so both are set here, explicitly.
"""

from __future__ import annotations

import os
from pathlib import Path

DIRECTORY_MODE = 0o700
FILE_MODE = 0o600


def private_directory(path: Path) -> Path:
    """`path` and each directory this call makes on the way to it, 0700; an existing `path`
    is tightened to 0700 when this user owns it."""
    missing = [parent for parent in (path, *path.parents) if not parent.exists()]
    for directory in reversed(missing):
        try:
            directory.mkdir(mode=DIRECTORY_MODE)
        except FileExistsError:  # another process made it first
            pass
        _tighten(directory, DIRECTORY_MODE)
    _tighten(path, DIRECTORY_MODE)
    return path


def private_file(path: Path) -> Path:
    """`path` made (empty) if missing, 0600, in a private directory."""
    private_directory(path.parent)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT, FILE_MODE)
    os.close(descriptor)
    _tighten(path, FILE_MODE)
    return path


def _tighten(path: Path, mode: int) -> None:
    try:
        if path.stat().st_uid == os.getuid() and path.stat().st_mode & 0o777 != mode:
            path.chmod(mode)
    except FileNotFoundError:
        pass
