"""The planner's files, read safely: only regular files (never a FIFO, a device or a folder), with a size cap; and single
files written without replacing anything but a file written before (with --overwrite), atomically."""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

from .errors import DataError, OutputError

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


def replaceable_file(out: Path | str, overwrite: bool, key: str = "--out") -> Path:
    """``out``, when a file may be written there: nothing is there yet, or it is a regular file and ``overwrite`` is
    given. Anything else (a folder, a link, a file without ``overwrite``) is refused with one line."""
    out = Path(out)
    if (out.exists() or out.is_symlink()) and not (overwrite and out.is_file() and not out.is_symlink()):
        raise OutputError(f"{out}: {key} already exists{'' if out.is_file() and not out.is_symlink() else ' and is not a regular file'}; "
                          "choose a new file name, or give --overwrite to replace a file written before")
    return out


def write_atomically(out: Path | str, write) -> None:
    """Write ``out`` through ``write(temporary path)`` beside it, then move it into place in one step."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.stem}.{os.getpid()}.tmp{out.suffix}")
    try:
        write(tmp)
        os.replace(tmp, out)
    finally:
        if tmp.exists():
            tmp.unlink()
