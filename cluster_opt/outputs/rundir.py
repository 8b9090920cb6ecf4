"""Output folders that appear whole or not at all, and that replace nothing but an earlier cluster-opt output.

A folder is written under a hidden staging name beside its target and moved into
place only when complete. An existing target is replaced only with ``overwrite``,
and only when it is recognisably one of ours: its ``manifest.json`` says cluster-opt
wrote it and lists every file in it. The current directory, the home folder, their
parents, and any folder that holds the config or its data are refused up front.

The replace is one atomic exchange of the two folders (Linux ``renameat2`` with
``RENAME_EXCHANGE``). Where the system has no such call, a journal beside the target
records the two renames, and the next run finishes or undoes them: a complete copy
is always restored to the target, never deleted.
"""

from __future__ import annotations

import ctypes
import errno
import json
import os
import shutil
import signal
import tempfile
import uuid
from contextlib import contextmanager
from pathlib import Path
from typing import Iterable, Iterator

from ..errors import OutputError, stop_requested

PARTIAL = ".partial-"
REPLACED = ".replaced-"
JOURNAL = ".swap-journal.json"
GENERATOR = "cluster-opt"
MAX_MANIFEST_BYTES = 50 << 20
# Files of outputs written before manifests listed their files, by kind.
LEGACY_FILES = {
    "run": {"scores.csv", "clusters.csv", "selection.geojson", "map.html", "report.html", "stability.csv", "manifest.json"},
    "compare": {"compare.html", "compare.csv", "overlap.csv", "manifest.json"},
    "sweep": {"frequency.csv", "weightings.csv", "hub_weight_ranges.csv", "stability.csv", "sweep.html", "manifest.json"},
}


def _resolve(p: Path | str) -> Path:
    """The real location of a path (links followed as far as they go), so a link cannot hide a folder."""
    return Path(os.path.realpath(os.path.expanduser(str(p))))


def _is_within(child: Path, parent: Path) -> bool:
    """True when ``child`` is ``parent`` or lies inside it (both resolved)."""
    try:
        child.relative_to(parent)
        return True
    except ValueError:
        return False


def foreign_entries(folder: Path) -> tuple[str | None, list[str]]:
    """(kind, entries cluster-opt did not write) for an existing folder; kind None when it is not one of ours."""
    man = folder / "manifest.json"
    try:
        if not man.is_file() or man.stat().st_size > MAX_MANIFEST_BYTES:
            return None, []
        data = json.loads(man.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None, []
    if not isinstance(data, dict):
        return None, []
    output = data.get("output")
    if isinstance(output, dict) and output.get("generator") == GENERATOR and isinstance(output.get("files"), list):
        kind, known = str(output.get("kind")), {str(f) for f in output["files"]} | {"manifest.json"}
    elif isinstance(data.get("versions"), dict) and GENERATOR in data["versions"]:
        kind = "sweep" if "weightings" in data else "compare" if "scenarios" in data else "run"
        known = LEGACY_FILES[kind]
    else:
        return None, []
    entries = sorted(os.listdir(folder))
    return kind, [e for e in entries if e not in known or not (folder / e).is_file() or (folder / e).is_symlink()]


def check_target(out: Path, overwrite: bool, protect: Iterable[Path | str] = (), kind: str = "run") -> None:
    """Refuse, before any work, an output folder that would replace or hold what is not an earlier output.

    ``protect``: the config and data files of the scenario; no output folder may contain them.
    A replace that a killed run left half done is finished first (see ``recover``).
    """
    target = _resolve(out)
    recover(target)
    flag = "--overwrite (overwrite=True in Python)"
    if target.parent == target:
        raise OutputError(f"{out}: is the root folder; choose a new folder for the {kind}, such as runs/<name>")
    for name, place in (("the current directory", Path.cwd()), ("your home folder", Path.home())):
        if _is_within(_resolve(place), target):
            what = name if _resolve(place) == target else f"a parent of {name}"
            raise OutputError(f"{out}: is {what}; a {kind} is written into a folder of its own: choose a new one, such as runs/<name>")
    for p in protect:
        p = _resolve(p)
        if _is_within(p, target):
            raise OutputError(f"{out}: holds {p}, which this {kind} reads; choose an output folder that does not contain the config or its data")
    if not os.path.lexists(target):
        _check_writable(target, out)
        return
    if target.is_symlink() or not target.is_dir():
        raise OutputError(f"{out}: exists and is not a folder; expected a new folder for the {kind}")
    if not overwrite:
        raise OutputError(f"{out}: a folder of that name already exists; choose another --out, or pass {flag} to replace an earlier {kind}")
    found, foreign = foreign_entries(target)
    if found is None:
        raise OutputError(f"{out}: is not a cluster-opt output (no manifest.json written by cluster-opt); it is never replaced. Choose another --out")
    if found != kind:
        raise OutputError(f"{out}: holds a cluster-opt {found}, not a {kind}; it is not replaced. Choose another --out")
    if foreign:
        shown = ", ".join(foreign[:5]) + (f" and {len(foreign) - 5} more" if len(foreign) > 5 else "")
        raise OutputError(f"{out}: holds files cluster-opt did not write ({shown}); move them out, or choose another --out")
    _check_writable(target, out)


def _check_writable(target: Path, shown: Path) -> None:
    """The nearest existing folder above the target must take a new folder (read-only file systems refused early)."""
    base = target.parent
    while not base.exists():
        base = base.parent
    if not base.is_dir():
        raise OutputError(f"{shown}: {base} is a file, not a folder; choose another --out")
    try:
        probe = tempfile.mkdtemp(prefix=".cluster-opt-probe-", dir=base)
        os.rmdir(probe)
    except OSError as e:
        raise OutputError(f"{shown}: cannot write into {base} ({_reason(e)}); choose a writable --out") from None


def _reason(e: OSError) -> str:
    if e.errno in (errno.ENOSPC, errno.EDQUOT):
        return "disk full"
    if e.errno == errno.EROFS:
        return "read-only file system"
    if e.errno in (errno.EACCES, errno.EPERM):
        return "permission denied"
    return e.strerror or e.__class__.__name__


def _pid_of(name: str) -> int | None:
    try:
        return int(name.rsplit("-", 2)[-2])
    except (ValueError, IndexError):
        return None


def _alive(pid: int | None) -> bool:
    if pid is None:
        return True  # not ours to judge: leave it
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def recover(out: Path) -> None:
    """Finish or undo a replace that a killed run left half done, then clear its staging folders.

    With a journal: if the target is missing, the complete new copy (or else the earlier one)
    is moved back into place. Staging folders of dead runs hold either an unfinished copy or
    the earlier run already swapped out; the target holds a complete run in both cases.
    """
    out = _resolve(out)
    parent = out.parent
    if not parent.is_dir():
        return
    journal = parent / f".{out.name}{JOURNAL}"
    if journal.exists():
        try:
            j = json.loads(journal.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            j = {}
        if not _alive(j.get("pid")):
            # The journal is written only once the new copy is complete: finish the replace.
            new = parent / str(j.get("new") or "-")
            old = parent / str(j.get("old") or "-")
            if new.is_dir():
                if os.path.lexists(out) and not os.path.lexists(old):
                    os.replace(out, old)
                if not os.path.lexists(out):
                    os.replace(new, out)
            elif not os.path.lexists(out) and old.is_dir():
                os.replace(old, out)
            journal.unlink(missing_ok=True)
    for p in parent.glob(f".{out.name}{REPLACED}*"):
        if not _alive(_pid_of(p.name)):
            if not os.path.lexists(out):
                os.replace(p, out)  # an earlier run whose replacement never arrived: put it back
            else:
                shutil.rmtree(p, ignore_errors=True)
    for p in parent.glob(f".{out.name}{PARTIAL}*"):
        if not _alive(_pid_of(p.name)):
            shutil.rmtree(p, ignore_errors=True)


_RENAME_EXCHANGE = 2


def exchange(a: Path, b: Path) -> bool:
    """Swap two paths in one atomic step (Linux renameat2); False where the system cannot."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        fn = libc.renameat2
    except (OSError, AttributeError):
        return False
    fn.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    at_fdcwd = -100
    if fn(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EXDEV):
        return False
    raise OSError(err, os.strerror(err), str(b))


def _replace_with_journal(tmp: Path, out: Path) -> None:
    """Two renames, recorded first in a journal so that ``recover`` can finish or undo them."""
    parent = out.parent
    old = parent / f".{out.name}{REPLACED}{os.getpid()}-{uuid.uuid4().hex[:8]}"
    journal = parent / f".{out.name}{JOURNAL}"
    staged = journal.with_suffix(f".{os.getpid()}.tmp")
    staged.write_text(json.dumps({"pid": os.getpid(), "new": tmp.name, "old": old.name}), encoding="utf-8")
    os.replace(staged, journal)
    os.replace(out, old)
    os.replace(tmp, out)
    journal.unlink()
    shutil.rmtree(old, ignore_errors=True)


def swap_into_place(tmp: Path, out: Path) -> None:
    """Move a complete staging folder to the target, replacing an earlier output atomically."""
    if not os.path.lexists(out):
        os.rename(tmp, out)
    elif not os.environ.get("CLUSTER_OPT_NO_EXCHANGE") and exchange(tmp, out):
        shutil.rmtree(tmp, ignore_errors=True)  # tmp now holds the earlier output
    else:
        _replace_with_journal(tmp, out)


def stamp_manifest(folder: Path, kind: str) -> None:
    """Record in manifest.json that cluster-opt wrote this folder, and every file it holds."""
    man = folder / "manifest.json"
    data = json.loads(man.read_text(encoding="utf-8"))
    files = sorted(p.name for p in folder.iterdir() if p.name != "manifest.json")
    data["output"] = {"generator": GENERATOR, "kind": kind, "files": files}
    man.write_text(json.dumps(data, indent=2, default=str) + "\n", encoding="utf-8")


@contextmanager
def atomic_dir(out: Path, overwrite: bool, protect: Iterable[Path | str] = (), kind: str = "run") -> Iterator[Path]:
    """Yield a hidden sibling folder to write into; move it into place only if the block completes.

    The block must write ``manifest.json``; it is stamped with the list of files before the move.
    """
    out = _resolve(out)
    protect = list(protect)
    check_target(out, overwrite, protect, kind)
    parent = out.parent
    parent.mkdir(parents=True, exist_ok=True)
    tmp = parent / f".{out.name}{PARTIAL}{os.getpid()}-{uuid.uuid4().hex[:8]}"
    previous = signal.getsignal(signal.SIGTERM)

    def _term(signum, frame):  # turn SIGTERM into an exception so cleanup runs
        stop_requested.set()
        raise KeyboardInterrupt

    try:
        signal.signal(signal.SIGTERM, _term)
    except ValueError:  # not the main thread
        previous = None
    try:
        tmp.mkdir()
        yield tmp
        if stop_requested.is_set():  # stopped while writing, even if a library swallowed the interrupt
            raise KeyboardInterrupt
        stamp_manifest(tmp, kind)
        check_target(out, overwrite, protect, kind)
        swap_into_place(tmp, out)
    except OSError as e:
        raise OutputError(f"{out}: cannot write the {kind} ({_reason(e)}); nothing was written and earlier outputs are untouched") from None
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
