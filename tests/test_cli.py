"""The command line end to end: outputs, determinism, exit codes and messages."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]


def cli(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "cluster_opt", *map(str, args)], capture_output=True, text=True, cwd=cwd)


SMALL = {
    "name": "lakes",
    "study_area": {"states": ["MN", "WI", "MI"]},
    "layers": {"ports": {"source": "builtin:ports", "value": "total_tons"}, "labor": {"source": "builtin:labor", "value": "labor_force"}},
    "criteria": {
        "ports": {"layer": "ports", "measure": "nearest_km", "weight": 2},
        "labor": {"layer": "labor", "measure": "sum_within", "radius_km": 80, "weight": 3},
    },
    "selection": {"clusters": 3, "cluster_radius_km": 100, "min_spacing_km": 250, "requirements": {"labor": 150000}, "max_per_state": 1},
}


@pytest.fixture
def small_config(tmp_path):
    p = tmp_path / "lakes.yaml"
    p.write_text(yaml.safe_dump(SMALL))
    return p


def test_run_writes_every_output_and_is_deterministic(small_config, tmp_path):
    out = tmp_path / "run1"
    r = cli("run", small_config, "--out", out, "-q")
    assert r.returncode == 0, r.stderr
    for f in ("scores.csv", "clusters.csv", "selection.geojson", "map.html", "manifest.json"):
        assert (out / f).stat().st_size > 0, f
    scores = pd.read_csv(out / "scores.csv", dtype={"id": str})
    assert len(scores) == 87 + 72 + 83  # counties of MN, WI, MI
    assert {"id", "name", "state", "raw_ports", "norm_labor", "contrib_ports", "score", "rank", "selected", "cluster"} <= set(scores.columns)
    assert scores["selected"].sum() == 3
    assert scores["rank"].tolist() == list(range(1, len(scores) + 1))
    clusters = pd.read_csv(out / "clusters.csv", dtype={"hub_id": str})
    assert len(clusters) == 3 and clusters["hub_state"].is_unique  # max_per_state: 1
    assert (clusters["labor_total"] >= 150000).all()
    # Members counted in clusters.csv match scores.csv.
    assert clusters["members"].tolist() == scores["cluster"].value_counts().sort_index().tolist()
    man = json.loads((out / "manifest.json").read_text())
    assert man["solver"]["status"] == "optimal" and man["check"]["passed"]
    assert man["weights"]["rescaled"] and man["weights"]["used"] == {"ports": 0.4, "labor": 0.6}
    assert man["config"]["selection"]["member_weight"] == 0.0  # defaults written back
    assert set(man["timings_seconds"]) >= {"units", "layers", "features", "scores", "solve", "check"}
    geo = json.loads((out / "selection.geojson").read_text())
    assert {f["properties"]["cluster"] for f in geo["features"]} == {1, 2, 3}
    html = (out / "map.html").read_text()
    assert "leaflet" in html.lower() and 'id="co-run-data"' in html
    # Byte-identical tables on a second run.
    out2 = tmp_path / "run2"
    assert cli("run", small_config, "--out", out2, "-q").returncode == 0
    for f in ("scores.csv", "clusters.csv", "selection.geojson"):
        assert (out / f).read_bytes() == (out2 / f).read_bytes(), f


def test_only_an_earlier_run_is_replaced(small_config, tmp_path):
    out = tmp_path / "run"
    out.mkdir()
    (out / "keep.txt").write_text("earlier")
    r = cli("run", small_config, "--out", out, "-q")
    assert r.returncode == 2 and "--overwrite" in r.stderr
    r = cli("run", small_config, "--out", out, "-q", "--overwrite")
    assert r.returncode == 2 and "is not a cluster-opt output" in r.stderr  # a folder of the planner's is never replaced
    assert (out / "keep.txt").read_text() == "earlier"
    shutil.rmtree(out)
    assert cli("run", small_config, "--out", out, "-q").returncode == 0
    first = json.loads((out / "manifest.json").read_text())["created"]
    assert cli("run", small_config, "--out", out, "-q", "--overwrite").returncode == 0  # an earlier run is
    assert (out / "scores.csv").exists() and json.loads((out / "manifest.json").read_text())["output"]["kind"] == "run"
    assert first <= json.loads((out / "manifest.json").read_text())["created"]
    assert not list(tmp_path.glob(".run*"))  # no partial or replaced folders left behind


def _one_line_error(r, code, phrase):
    assert r.returncode == code, (r.returncode, r.stdout, r.stderr)
    assert "Traceback" not in r.stderr
    lines = [line for line in r.stderr.strip().splitlines() if line.strip()]
    assert len(lines) == 1, r.stderr
    assert phrase in " ".join(r.stderr.split()), r.stderr


def test_bad_config_exits_2_with_one_line(small_config, tmp_path):
    bad = dict(SMALL, criteria={"ports": {"layer": "ports", "measure": "nearest_km", "wieght": 1}})
    p = tmp_path / "bad.yaml"
    p.write_text(yaml.safe_dump(bad))
    _one_line_error(cli("run", p, "--out", tmp_path / "x"), 2, 'criteria.ports.wieght: unknown key (did you mean "weight"?)')
    assert not (tmp_path / "x").exists()
    _one_line_error(cli("run", tmp_path / "missing.yaml"), 2, "missing.yaml: config: no such file")
    data = tmp_path / "pts.csv"
    data.write_text("lat,lon,mw\n45,-93,lots\n")
    bad = dict(SMALL, layers={**SMALL["layers"], "ports": {"source": "pts.csv", "value": "mw"}})
    p.write_text(yaml.safe_dump(bad))
    _one_line_error(cli("run", p, "--out", tmp_path / "x"), 2, f'{data}: layers.ports.value: column "mw" is not numeric')


def test_infeasible_exits_3_and_names_the_requirement(tmp_path):
    cfg = dict(SMALL, selection={**SMALL["selection"], "requirements": {"labor": 10_000_000}})
    p = tmp_path / "inf.yaml"
    p.write_text(yaml.safe_dump(cfg))
    r = cli("run", p, "--out", tmp_path / "x")
    _one_line_error(r, 3, "labor 10,000,000 per cluster is not reachable: the best cluster")
    assert not (tmp_path / "x").exists()


def test_validate_reports_all_problems(tmp_path):
    bad = dict(SMALL, selection={**SMALL["selection"], "clusters": 0, "bogus": 1})
    p = tmp_path / "bad.yaml"
    p.write_text(yaml.safe_dump(bad))
    r = cli("validate", p)
    assert r.returncode == 2 and "selection.clusters" in r.stderr and "selection.bogus" in r.stderr
    good = tmp_path / "good.yaml"
    good.write_text(yaml.safe_dump(SMALL))
    r = cli("validate", good)
    assert r.returncode == 0 and "valid" in r.stdout


def test_schema_and_help():
    r = cli("schema")
    assert r.returncode == 0 and json.loads(r.stdout)["title"] == "Config"
    for cmd in ("run", "validate", "schema"):
        r = cli(cmd, "--help")
        assert r.returncode == 0 and "Usage" in r.stdout


def test_default_battery_belt_config_end_to_end(tmp_path):
    """The Quickstart's run: the shipped scenario on the embedded data, every output, every rule."""
    out = tmp_path / "bb"
    r = cli("run", ROOT / "configs" / "battery_belt.yaml", "--out", out)
    assert r.returncode == 0, r.stderr
    assert "proven optimal" in r.stdout and "re-checked: passed" in r.stdout
    cfg = yaml.safe_load((ROOT / "configs" / "battery_belt.yaml").read_text())
    sel = cfg["selection"]
    clusters = pd.read_csv(out / "clusters.csv", dtype={"hub_id": str})
    assert len(clusters) == sel["clusters"]
    assert (clusters["labor_total"] >= sel["requirements"]["labor"]).all()
    assert (clusters["grid_total"] >= sel["requirements"]["grid"]).all()
    assert clusters["hub_state"].value_counts().max() <= sel["max_per_state"]
    assert set(clusters["hub_state"]) <= set(cfg["study_area"]["states"])
    scores = pd.read_csv(out / "scores.csv", dtype={"id": str})
    assert set(scores["state"]) == set(cfg["study_area"]["states"])
    man = json.loads((out / "manifest.json").read_text())
    assert man["solver"]["proven_optimal"] and man["solver"]["gap"] == 0.0
    assert {"minerals", "grid", "ports", "labor", "units"} <= set(man["data"])
