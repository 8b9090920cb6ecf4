"""The bad-input corpus: every broken config or data file gets its exit code and one readable line, no traceback."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from cluster_opt.cli import app
from cluster_opt.config import parse_config
from cluster_opt.errors import ConfigError

HERE = Path(__file__).resolve().parent / "bad_inputs"
CASES = yaml.safe_load((HERE / "cases.yaml").read_text())
HOSTILE = yaml.safe_load((HERE / "hostile.yaml").read_text())
ROOT = Path(__file__).resolve().parents[1]


def test_the_corpus_is_large_enough():
    assert len(CASES) >= 39 and len(HOSTILE) >= 50
    assert {c["exit"] for c in CASES} == {2, 3}
    assert len({c["name"] for c in HOSTILE}) == len(HOSTILE)


@pytest.mark.parametrize("case", CASES, ids=[c["file"] for c in CASES])
def test_bad_input(case, tmp_path):
    args = [case["command"], str(HERE / case["file"])]
    if case["command"] == "run":
        args += ["--out", str(tmp_path / "run"), "-q"]
    r = CliRunner().invoke(app, args)
    assert r.exit_code == case["exit"], (r.exit_code, r.stdout, r.stderr, r.exception)
    assert not isinstance(r.exception, Exception) or isinstance(r.exception, SystemExit), repr(r.exception)
    err = r.stderr.strip()
    assert "Traceback" not in err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 or case["command"] == "validate", err
    assert case["phrase"] in " ".join(err.split()), err
    assert not (tmp_path / "run").exists()


def test_validate_lists_every_problem():
    data = yaml.safe_load((HERE / "unknown_key.yaml").read_text())
    data["selection"] = {"clusters": 0, "cluster_radius_km": -1, "bogus": 1}
    data["normalize"] = "rank"
    with pytest.raises(ConfigError) as e:
        parse_config(data, "c.yaml")
    joined = " ".join(e.value.problems)
    assert len(e.value.problems) >= 4
    for key in ("selction", "selection.clusters", "selection.cluster_radius_km", "selection.bogus", "normalize"):
        assert key in joined, key


# Random YAML-like structures: the loader answers with a Config or a ConfigError, nothing else.
scalars = st.one_of(st.none(), st.booleans(), st.integers(-10**12, 10**12), st.floats(allow_nan=True, allow_infinity=True),
                    st.text(max_size=12), st.sampled_from(["builtin:ports", "nearest_km", "conus", "county", "h3", "highs", "1/3"]))
keys = st.sampled_from(["name", "layers", "criteria", "selection", "study_area", "units", "solver", "normalize", "weights", "ahp",
                        "source", "value", "layer", "measure", "weight", "radius_km", "clusters", "cluster_radius_km", "states",
                        "kind", "resolution", "where", "include", "exclude", "requirements", "ports", "x"])
structures = st.recursive(scalars, lambda children: st.one_of(st.lists(children, max_size=4), st.dictionaries(keys, children, max_size=6)), max_leaves=30)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(structures)
def test_config_loader_never_crashes(data):
    try:
        parse_config(data, "fuzz.yaml")
    except ConfigError as e:
        assert str(e).startswith("fuzz.yaml")


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=200))
def test_yaml_text_never_crashes(tmp_path_factory, text):
    p = tmp_path_factory.mktemp("fuzz") / "c.yaml"
    p.write_text(text, encoding="utf-8")
    from cluster_opt.config import load_config

    try:
        load_config(p)
    except ConfigError:
        pass


# --------------------------------------------------------------------------- nothing lost


SMALL = {
    "name": "small", "study_area": {"states": ["MN", "WI", "MI"]},
    "layers": {"ports": {"source": "builtin:ports", "value": "total_tons"}, "labor": {"source": "builtin:labor", "value": "labor_force"}},
    "criteria": {"ports": {"layer": "ports", "measure": "nearest_km", "weight": 1}, "labor": {"layer": "labor", "measure": "sum_within", "radius_km": 80, "weight": 1}},
    "selection": {"clusters": 3, "cluster_radius_km": 90, "min_spacing_km": 200},
}


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM, signal.SIGINT], ids=["SIGKILL", "SIGTERM", "SIGINT"])
def test_a_killed_run_leaves_earlier_runs_intact(tmp_path, sig):
    cfg = tmp_path / "small.yaml"
    cfg.write_text(yaml.safe_dump(SMALL))
    out = tmp_path / "runs" / "small"
    r = subprocess.run([sys.executable, "-m", "cluster_opt", "run", cfg, "--out", out, "-q"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    for delay in (0.5, 1.0, 1.5, 3.0):  # early (loading), then solving and writing (a small run takes about 2 s)
        proc = subprocess.Popen([sys.executable, "-m", "cluster_opt", "run", cfg, "--out", out, "--overwrite", "-q"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        time.sleep(delay)
        proc.send_signal(sig)
        proc.wait(timeout=60)
        after = {p.name: p.read_bytes() for p in out.iterdir()}
        if delay < 1.0:
            assert after == before, f"earlier run changed after {sig.name} at {delay}s"
        elif after != before:
            # Only a whole new run may have replaced the earlier one (moved into place before the signal landed).
            assert set(after) == set(before), f"partial run after {sig.name} at {delay}s: {sorted(after)}"
            assert __import__("json").loads(after["manifest.json"])["check"]["passed"]
        visible = [p.name for p in out.parent.iterdir() if not p.name.startswith(".")]
        assert visible == ["small"]
        if sig != signal.SIGKILL:
            assert not [p for p in out.parent.iterdir() if p.name.startswith(".")], "temporary folder left behind"
    # The next run clears what a SIGKILL left in the hidden staging folders.
    r = subprocess.run([sys.executable, "-m", "cluster_opt", "run", cfg, "--out", out, "--overwrite", "-q"], capture_output=True, text=True)
    assert r.returncode == 0
    assert [p.name for p in out.parent.iterdir()] == ["small"]


def test_shuffled_input_rows_give_identical_tables(tmp_path):
    import pandas as pd

    ports = pd.read_csv(ROOT / "geodata" / "ports.csv")
    ports.to_csv(tmp_path / "ports_a.csv", index=False)
    ports.sample(frac=1.0, random_state=7).to_csv(tmp_path / "ports_b.csv", index=False)
    outs = []
    for tag in ("a", "b"):
        cfg = yaml.safe_load(yaml.safe_dump(SMALL))
        cfg["layers"]["ports"]["source"] = f"ports_{tag}.csv"
        (tmp_path / f"{tag}.yaml").write_text(yaml.safe_dump(cfg))
        out = tmp_path / f"run_{tag}"
        r = subprocess.run([sys.executable, "-m", "cluster_opt", "run", f"{tag}.yaml", "--out", out, "-q"], capture_output=True, text=True, cwd=tmp_path)
        assert r.returncode == 0, r.stderr
        outs.append(out)
    for f in ("scores.csv", "clusters.csv", "selection.geojson", "stability.csv"):
        assert (outs[0] / f).read_bytes() == (outs[1] / f).read_bytes(), f


def test_time_limit_returns_the_best_selection_marked_not_proven(tmp_path):
    cfg = yaml.safe_load((ROOT / "configs" / "battery_belt.yaml").read_text())
    cfg.update(name="rushed", study_area="conus")
    for key in ("layers", "criteria"):  # the embedded price table has no row for Wyoming (see geodata/README.md)
        cfg[key].pop("power_price")
    cfg["selection"].update(clusters=40, max_per_state=2)  # about 40 s of spacing rounds to prove on 2 cores
    cfg["solver"] = {"time_limit_s": 1.0}
    (tmp_path / "rushed.yaml").write_text(yaml.safe_dump(cfg))
    r = subprocess.run([sys.executable, "-m", "cluster_opt", "run", "rushed.yaml", "--out", "run"], capture_output=True, text=True, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    man = __import__("json").loads((tmp_path / "run" / "manifest.json").read_text())
    if man["solver"]["status"] == "optimal":
        pytest.skip("this machine proved the optimum within 1 s")
    assert man["solver"]["status"] == "time_limit" and not man["solver"]["proven_optimal"] and man["check"]["passed"]
    assert "NOT proven optimal" in r.stdout
    assert "NOT proven optimal" in (tmp_path / "run" / "map.html").read_text()
    assert "NOT proven optimal" in (tmp_path / "run" / "report.html").read_text()


# --------------------------------------------------------------------------- hostile inputs, nothing lost

BASE = {
    "name": "case", "study_area": {"states": ["RI", "CT"]},
    "layers": {"ports": {"source": "builtin:ports", "value": "total_tons"}, "labor": {"source": "builtin:labor", "value": "labor_force"}},
    "criteria": {"ports": {"layer": "ports", "measure": "nearest_km", "weight": 1},
                 "labor": {"layer": "labor", "measure": "sum_within", "radius_km": 50, "weight": 1}},
    "selection": {"clusters": 1, "cluster_radius_km": 30},
}


CHAIN = {
    "name": "chain", "study_area": {"states": ["RI", "CT", "MA"]},
    "layers": {"ports": {"source": "builtin:ports", "value": "total_tons"}, "labor": {"source": "builtin:labor", "value": "labor_force"}},
    "criteria": {"ports": {"layer": "ports", "measure": "nearest_km", "weight": 1},
                 "labor": {"layer": "labor", "measure": "sum_within", "radius_km": 50, "weight": 1}},
    "facilities": {"port": {"existing": {"layer": "ports", "where": {"kind": "coastal"}}},
                   "refinery": {"new": 1, "criteria": {"ports": 1}}, "cell": {"new": 2, "requires": {"labor": 50000}, "radius_km": 40}},
    "links": [{"from": "port", "to": "refinery", "max_km": 150}, {"from": "refinery", "to": "cell", "max_km": 200}],
}


def _square(lon, lat, d=0.25):
    return {"type": "Polygon", "coordinates": [[[lon, lat], [lon + d, lat], [lon + d, lat + d], [lon, lat + d], [lon, lat]]]}


def _collection(features):
    return json.dumps({"type": "FeatureCollection", "features": [{"type": "Feature", "properties": p, "geometry": g} for p, g in features]})


FIXTURES = {
    "@base": yaml.safe_dump(BASE),
    "@east": yaml.safe_dump({**BASE, "name": "east", "study_area": {"states": ["MA", "RI"]}}),
    "@regions": _collection([({"code": c, "label": f"Region {c}"}, _square(lon, 41.5)) for c, lon in (("a", -71.8), ("b", -72.4), ("c", -73.0))]),
    "@numbered": _collection([({"code": k}, _square(lon, 41.5)) for k, lon in ((1, -71.8), (2, -72.4), (3, -73.0))]),
    "@points": _collection([({"code": "p1"}, {"type": "Point", "coordinates": [-71.5, 41.7]}),
                            ({"code": "p2"}, {"type": "Point", "coordinates": [-72.5, 41.7]}), ({"code": "q"}, _square(-73.0, 41.5))]),
    "@bowtie": _collection([({"code": "bow"}, {"type": "Polygon", "coordinates": [[[-71.8, 41.5], [-71.5, 41.8], [-71.5, 41.5], [-71.8, 41.8], [-71.8, 41.5]]]}),
                            ({"code": "b"}, _square(-72.4, 41.5)), ({"code": "c"}, _square(-73.0, 41.5))]),
}


def _merge(base, change):
    out = dict(base)
    for k, v in change.items():
        if v is None:
            out.pop(k, None)
        elif isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = _merge(out[k], v)
        else:
            out[k] = v
    return out


def _snapshot(root: Path) -> dict:
    """Every entry under root: file bytes, folder, link target or other kind (FIFOs are never opened)."""
    import stat

    out = {}
    for p in sorted(root.rglob("*")):
        st = p.lstat()
        rel = str(p.relative_to(root))
        if stat.S_ISLNK(st.st_mode):
            out[rel] = ("link", os.readlink(p))
        elif stat.S_ISDIR(st.st_mode):
            out[rel] = ("dir",)
        elif stat.S_ISREG(st.st_mode):
            out[rel] = ("file", p.read_bytes())
        else:
            out[rel] = ("other",)
    return out


def _stand_in_output(folder: Path, kind: str, extra: list[str]) -> None:
    from cluster_opt.outputs.rundir import LEGACY_FILES

    folder.mkdir(parents=True)
    files = sorted(LEGACY_FILES[kind] - {"manifest.json"})
    for f in files + list(extra):
        (folder / f).write_text(f"earlier {f}")
    (folder / "manifest.json").write_text(json.dumps({"output": {"generator": "cluster-opt", "kind": kind, "files": files}}))


def _setup(work: Path, case: dict) -> None:
    base = CHAIN if case.get("base") == "chain" else BASE
    text = case.get("config_text") or yaml.safe_dump(_merge(base, case.get("config", {})))
    (work / "cfg.yaml").write_text(text)
    for rel, content in case.get("files", {}).items():
        (work / rel).parent.mkdir(parents=True, exist_ok=True)
        (work / rel).write_text(FIXTURES.get(content, content) if rel != "proj/cfg.yaml" else text)
    for step in case.get("setup", []):
        if "fifo" in step:
            os.mkfifo(work / step["fifo"])
        if "symlink" in step:
            os.symlink(step["symlink"][0], work / step["symlink"][1])
        if "output" in step:
            o = step["output"]
            _stand_in_output(work / o["path"], o["kind"], o.get("extra", []))


@pytest.mark.parametrize("case", HOSTILE, ids=[c["name"] for c in HOSTILE])
def test_hostile_input(case, tmp_path, monkeypatch):
    work = tmp_path / "work"
    work.mkdir()
    _setup(work, case)
    monkeypatch.chdir(work)
    env = {k: v.replace("{work}", str(work)) for k, v in case.get("env", {}).items()}
    args = [a.replace("{cfg}", "cfg.yaml").replace("{work}", str(work)) for a in case["args"]]
    before = _snapshot(tmp_path)
    signal.signal(signal.SIGALRM, lambda *_: (_ for _ in ()).throw(TimeoutError(f"{case['name']} hangs")))
    signal.alarm(120)
    try:
        if case.get("subprocess"):  # a real process: what it prints to stderr (e.g. library warnings) counts
            done = subprocess.run([sys.executable, "-m", "cluster_opt", *args], cwd=work, env={**os.environ, **env},
                                  capture_output=True, text=True, timeout=120)
            r = type("Result", (), {"exit_code": done.returncode, "stdout": done.stdout, "stderr": done.stderr, "exception": None})
        else:
            r = CliRunner().invoke(app, args, env=env)
    finally:
        signal.alarm(0)
    assert r.exit_code == case["exit"], (r.exit_code, r.stdout, r.stderr, r.exception)
    assert not isinstance(r.exception, Exception) or isinstance(r.exception, SystemExit), repr(r.exception)
    err = r.stderr.strip()
    assert "Traceback" not in err and "Traceback" not in r.stdout
    said = " ".join((err if case["exit"] else r.stdout + " " + err).split())
    for phrase in case.get("phrases", [case.get("phrase", "")]):
        assert phrase in said, said
    if case["exit"]:
        lines = [line for line in err.splitlines() if line.strip()]
        assert len(lines) == case.get("lines", 1), err
    if case.get("silent"):
        assert err == "", err
    # Nothing lost: every earlier entry is byte-identical; a failed command adds nothing at all,
    # a successful one only its output folder; no staging folder is left anywhere.
    after = _snapshot(tmp_path)
    for rel, what in before.items():
        assert after.get(rel) == what, f"{rel} changed or vanished"
    added = sorted(set(after) - set(before))
    out = Path(args[args.index("--out") + 1]) if "--out" in args else None
    if case["exit"]:
        assert added == [], added
    else:
        prefix = str((work / out).relative_to(tmp_path))
        assert all(a == prefix or a.startswith(prefix + os.sep) for a in added), added
        man = json.loads((work / out / "manifest.json").read_text())
        assert man["check"]["passed"] if "check" in man else True
        if "note" in case:
            assert any(case["note"] in n for n in man["notes"]), man["notes"]
    assert not any(Path(a).name.startswith(".") for a in added), added
