"""Output folders: only earlier outputs are ever replaced, the replace is crash-safe, and stops leave nothing half written."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from cluster_opt.errors import OutputError
from cluster_opt.outputs.rundir import JOURNAL, PARTIAL, REPLACED, atomic_dir, check_target, exchange, recover

SMALL = {
    "name": "small", "study_area": {"states": ["RI", "CT", "MA"]},
    "layers": {"ports": {"source": "builtin:ports", "value": "total_tons"}, "labor": {"source": "builtin:labor", "value": "labor_force"}},
    "criteria": {"ports": {"layer": "ports", "measure": "nearest_km", "weight": 1}, "labor": {"layer": "labor", "measure": "sum_within", "radius_km": 80, "weight": 1}},
    "selection": {"clusters": 2, "cluster_radius_km": 40, "min_spacing_km": 90},
}


def _output(folder: Path, tag: str) -> None:
    """A complete output folder as atomic_dir writes it, marked with ``tag``."""
    folder.mkdir(parents=True)
    (folder / "scores.csv").write_text(tag)
    (folder / "manifest.json").write_text(json.dumps({"tag": tag, "output": {"generator": "cluster-opt", "kind": "run", "files": ["scores.csv"]}}))


def _tag(folder: Path) -> str:
    return json.loads((folder / "manifest.json").read_text())["tag"]


def _dead_pid() -> int:
    p = subprocess.Popen([sys.executable, "-c", "pass"])
    p.wait()
    return p.pid


def test_exchange_swaps_two_folders_in_one_step(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    _output(a, "A")
    _output(b, "B")
    if not exchange(a, b):
        pytest.skip("this system has no atomic exchange; the journal path is tested below")
    assert _tag(a) == "B" and _tag(b) == "A"


@pytest.mark.parametrize("exchange_ok", [True, False], ids=["exchange", "journal"])
def test_replace_keeps_a_complete_run_at_every_moment(tmp_path, monkeypatch, exchange_ok):
    if not exchange_ok:
        monkeypatch.setenv("CLUSTER_OPT_NO_EXCHANGE", "1")
    out = tmp_path / "runs" / "x"
    _output(out, "old")
    with atomic_dir(out, overwrite=True) as tmp:
        (tmp / "scores.csv").write_text("new")
        (tmp / "manifest.json").write_text(json.dumps({"tag": "new"}))
    assert _tag(out) == "new"
    assert json.loads((out / "manifest.json").read_text())["output"] == {"generator": "cluster-opt", "kind": "run", "files": ["scores.csv"]}
    assert sorted(p.name for p in out.parent.iterdir()) == ["x"]


# What a run killed during the journal method's renames leaves behind, and what the next run makes of it.
@pytest.mark.parametrize("target, new, old, expected", [
    (None, "new", "old", "new"),    # killed after the first rename: the complete new copy is moved in
    ("old", "new", None, "new"),    # killed before the first rename: the replace is finished
    (None, None, "old", "old"),     # the new copy is gone: the earlier run is put back
], ids=["after_first_rename", "before_first_rename", "new_copy_gone"])
def test_recover_finishes_or_undoes_a_half_done_replace(tmp_path, target, new, old, expected):
    out = tmp_path / "x"
    pid = _dead_pid()
    names = {"new": f".x{PARTIAL}{pid}-aaaa", "old": f".x{REPLACED}{pid}-bbbb"}
    for folder, tag in ((out, target), (tmp_path / names["new"], new), (tmp_path / names["old"], old)):
        if tag:
            _output(folder, tag)
    (tmp_path / f".x{JOURNAL}").write_text(json.dumps({"pid": pid, **names}))
    recover(out)
    assert _tag(out) == expected and sorted(p.name for p in tmp_path.iterdir()) == ["x"]


def test_recover_leaves_a_live_run_alone(tmp_path):
    out = tmp_path / "x"
    new = tmp_path / f".x{PARTIAL}{os.getpid()}-aaaa"
    _output(new, "being written")
    recover(out)
    assert new.exists() and not out.exists()


@pytest.mark.parametrize("exchange_ok", [True, False], ids=["exchange", "journal"])
def test_a_kill_between_the_renames_never_loses_the_run(tmp_path, exchange_ok):
    """A process is killed (os._exit, like SIGKILL) right after the first rename of a replace; the next run completes it."""
    out = tmp_path / "runs" / "x"
    _output(out, "old")
    script = f"""
import json, os, sys
from pathlib import Path
from cluster_opt.outputs import rundir
real = os.replace
calls = []
def dying_replace(a, b):
    real(a, b)
    calls.append(1)
    if len(calls) == 2:  # the journal, then the first rename of the folders
        os._exit(9)
os.replace = dying_replace
with rundir.atomic_dir(Path({str(out)!r}), True) as tmp:
    (tmp / "scores.csv").write_text("new")
    (tmp / "manifest.json").write_text(json.dumps({{"tag": "new"}}))
"""
    env = {**os.environ, **({} if exchange_ok else {"CLUSTER_OPT_NO_EXCHANGE": "1"})}
    r = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True)
    if exchange_ok:
        assert r.returncode == 0, r.stderr  # one atomic exchange: no window to die in
        assert _tag(out) == "new"
        return
    assert r.returncode == 9, r.stderr
    assert not out.exists()  # the window the journal covers
    check_target(out, overwrite=True)  # the next run's first step finishes the replace
    assert _tag(out) == "new" and sorted(p.name for p in out.parent.iterdir()) == ["x"]


def test_nothing_but_an_earlier_output_is_replaced(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("mine")
    with pytest.raises(OutputError, match="is not a cluster-opt output"):
        check_target(tmp_path / "mine", overwrite=True)
    _output(tmp_path / "run", "old")
    (tmp_path / "run" / "notes.txt").write_text("mine")
    with pytest.raises(OutputError, match=r"holds files cluster-opt did not write \(notes.txt\)"):
        check_target(tmp_path / "run", overwrite=True)
    link = tmp_path / "link"
    link.symlink_to(tmp_path)
    with pytest.raises(OutputError, match="is the current directory"):
        check_target(link, overwrite=True)
    with pytest.raises(OutputError, match="which this run reads"):
        check_target(tmp_path / "data", overwrite=True, protect=[tmp_path / "data" / "sites.csv"])


# --------------------------------------------------------------------------- stops and full disks


def _write_small(tmp_path: Path, busy: bool = False) -> Path:
    """SMALL; ``busy``: over the lower 48 with 8 overlapping clusters, so that a command is still at work seconds in."""
    cfg = tmp_path / "small.yaml"
    data = dict(SMALL, study_area="conus", selection={"clusters": 8, "cluster_radius_km": 80, "min_spacing_km": 200}) if busy else SMALL
    cfg.write_text(yaml.safe_dump(data))
    return cfg


@pytest.mark.parametrize("command, delay", [("run", 0.9), ("run", 1.8), ("compare", 0.9), ("compare", 1.8), ("sweep", 6.0)])
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_stopped_command_says_so_and_exits_130(tmp_path, command, delay, sig):
    cfg = _write_small(tmp_path, busy=command != "sweep")
    args = {"run": ["run", cfg, "--out", "out"], "compare": ["compare", cfg, _twin(cfg), "--out", "out"],
            "sweep": ["sweep", cfg, "--samples", "100000", "--workers", "2", "--out", "out"]}[command]
    proc = subprocess.Popen([sys.executable, "-m", "cluster_opt", *map(str, args)], cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(delay)  # in the middle of loading, measuring, solving or (sweep) the Dask workers' re-solves
    proc.send_signal(sig)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, (proc.returncode, err)
    assert "interrupted: nothing was written; earlier outputs are untouched" in err
    assert "Traceback" not in err and "KeyError" not in err, err
    assert not (tmp_path / "out").exists() and not [p for p in tmp_path.iterdir() if p.name.startswith(".out")]


def _twin(cfg: Path) -> Path:
    data = yaml.safe_load(cfg.read_text())
    data["name"] = "twin"
    data["criteria"]["labor"]["weight"] = 3
    twin = cfg.with_name("twin.yaml")
    twin.write_text(yaml.safe_dump(data))
    return twin


@pytest.fixture
def small_disk(tmp_path):
    """A 256 kB file system: too small for a run's map."""
    mnt = tmp_path / "disk"
    mnt.mkdir()
    if os.geteuid() != 0 or not shutil.which("mount"):
        pytest.skip("mounting a small file system needs root")
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(mnt)], capture_output=True)
    if r.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {r.stderr.decode().strip()}")
    try:
        yield mnt
    finally:
        subprocess.run(["umount", str(mnt)], check=False)


def test_disk_full_says_so_in_one_line_and_leaves_nothing(tmp_path, small_disk):
    cfg = _write_small(tmp_path)
    r = subprocess.run([sys.executable, "-m", "cluster_opt", "run", cfg, "--out", small_disk / "run", "-q"], capture_output=True, text=True)
    assert r.returncode == 2, r.stderr
    assert "cannot write the run (disk full); nothing was written and earlier outputs are untouched" in " ".join(r.stderr.split())
    assert "Traceback" not in r.stderr and len(r.stderr.strip().splitlines()) == 1
    assert list(small_disk.iterdir()) == []


@pytest.mark.parametrize("out", ["/proc/cluster-opt-run", ".", "runs/.."])
def test_a_target_that_cannot_be_used_is_refused_before_any_work(tmp_path, monkeypatch, out):
    from typer.testing import CliRunner

    import cluster_opt.pipeline
    from cluster_opt.cli import app

    cfg = _write_small(tmp_path)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(cluster_opt.pipeline, "run", lambda *a, **k: pytest.fail("the pipeline ran before the target was checked"))
    r = CliRunner().invoke(app, ["run", str(cfg), "--out", out, "--overwrite", "-q"])
    assert r.exit_code == 2 and ("cannot write into /proc" in r.stderr or "is the current directory" in r.stderr), r.stderr
