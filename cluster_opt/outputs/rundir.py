"""Atomic run directories: a run appears whole or not at all, and never clobbers another."""

from __future__ import annotations

import os
import shutil
import signal
import uuid
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from ..errors import InputError

PARTIAL = ".partial-"


def check_target(out: Path, overwrite: bool) -> None:
    """Refuse early, before any work, to replace an earlier run without --overwrite."""
    if out.exists() and not overwrite:
        raise InputError(f"{out}: a run directory already exists; choose another --out or pass --overwrite to replace it")
    if out.exists() and not out.is_dir():
        raise InputError(f"{out}: exists and is not a folder; expected a run directory path")


def _clean_stale(parent: Path, name: str) -> None:
    """Remove partial directories left by runs that were killed outright (SIGKILL)."""
    for p in parent.glob(f".{name}{PARTIAL}*"):
        try:
            pid = int(p.name.rsplit("-", 2)[-2])
            os.kill(pid, 0)
        except (ValueError, IndexError):
            continue
        except ProcessLookupError:
            shutil.rmtree(p, ignore_errors=True)
        except PermissionError:
            continue


@contextmanager
def atomic_dir(out: Path, overwrite: bool) -> Iterator[Path]:
    """Yield a hidden sibling folder to write into; move it into place only if the block completes."""
    out = Path(out)
    parent = out.resolve().parent
    parent.mkdir(parents=True, exist_ok=True)
    _clean_stale(parent, out.name)
    tmp = parent / f".{out.name}{PARTIAL}{os.getpid()}-{uuid.uuid4().hex[:8]}"
    tmp.mkdir()
    previous = signal.getsignal(signal.SIGTERM)

    def _term(signum, frame):  # turn SIGTERM into an exception so cleanup runs
        raise KeyboardInterrupt

    try:
        signal.signal(signal.SIGTERM, _term)
    except ValueError:  # not the main thread
        previous = None
    try:
        yield tmp
        check_target(out, overwrite)
        if out.exists():
            old = parent / f".{out.name}.replaced-{os.getpid()}-{uuid.uuid4().hex[:8]}"
            os.replace(out, old)
            os.replace(tmp, out)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, out)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
