"""The planner's files, read safely: only regular files (never a FIFO, a device or a folder), with a size cap."""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

from .errors import DataError

MAX_CONFIG_BYTES = 1 << 20  # 1 MB: a config is a page of YAML
MAX_DATA_BYTES = 4 << 30  # 4 GB: a layer file


def regular_file(path: Path | str, key: str, max_bytes: int = MAX_DATA_BYTES, error=DataError, folders_ok: tuple[str, ...] = ()) -> Path:
    """The path if it names a readable regular file no larger than ``max_bytes``; else ``error`` naming it.

    ``folders_ok``: suffixes of folders that are file formats in their own right (e.g. ``.gdb``).
    """
    path = Path(path)
    try:
        st = os.stat(path)
    except OSError as e:
        if e.errno == errno.ELOOP:
            raise error(f"{path}: {key}: the path is a loop of symbolic links; expected a file") from None
        if e.errno in (errno.ENOENT, errno.ENOTDIR):
            raise error(f"{path}: {key}: no such file") from None
        raise error(f"{path}: {key}: cannot read it ({e.strerror})") from None
    if stat.S_ISDIR(st.st_mode):
        if path.suffix.lower() in folders_ok:
            return path
        raise error(f"{path}: {key}: is a folder; expected a file")
    if not stat.S_ISREG(st.st_mode):
        raise error(f"{path}: {key}: is not a regular file (a pipe, socket or device); expected a file")
    if st.st_size > max_bytes:
        raise error(f"{path}: {key}: the file is {st.st_size / 1e6:,.0f} MB, more than the {max_bytes / 1e6:,.0f} MB allowed")
    if not os.access(path, os.R_OK):
        raise error(f"{path}: {key}: permission denied")
    return path


def read_bytes(path: Path | str, key: str, max_bytes: int = MAX_DATA_BYTES, error=DataError) -> bytes:
    """The bytes of a regular file (checked by ``regular_file``)."""
    path = regular_file(path, key, max_bytes, error)
    try:
        with open(path, "rb") as f:
            data = f.read(max_bytes + 1)
    except OSError as e:
        raise error(f"{path}: {key}: cannot read it ({e.strerror})") from None
    if len(data) > max_bytes:
        raise error(f"{path}: {key}: the file is larger than the {max_bytes / 1e6:,.0f} MB allowed")
    return data
