"""compare and sweep take chain configs: sites compared as type and unit, every type's weights moved by a sweep."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from cluster_opt import load_config
from cluster_opt.analysis.sweep import build_setup, run_sweep
from cluster_opt.cli import app
from cluster_opt.geo import haversine_km
from cluster_opt.pipeline import prepare, select

CHAIN = """\
name: NAME
study_area: {states: [RI, CT, MA]}
layers:
  ports: {source: "builtin:ports", value: total_tons}
  labor: {source: "builtin:labor", value: labor_force}
  grid: {source: "builtin:power_plants", value: capacity_mw}
criteria:
  ports: {layer: ports, measure: nearest_km, direction: cost, weight: 1}
  labor: {layer: labor, measure: sum_within, radius_km: 50, weight: 1}
  grid: {layer: grid, measure: sum_within, radius_km: 50, weight: 1}
facilities:
  port: {existing: {layer: ports, where: {kind: coastal}}}
  refinery: {new: 1, criteria: {ports: 1, grid: 1}}
  cell: {new: CELLS, requires: {labor: 50000}, radius_km: 40}
links:
  - {from: port, to: refinery, max_km: 150, cost_per_km: 0.001}
  - {from: refinery, to: cell, max_km: 200}
"""


def _write(d: Path, name: str, cells: int) -> Path:
    p = d / f"{name}.yaml"
    p.write_text(CHAIN.replace("NAME", name).replace("CELLS", str(cells)), encoding="utf-8")
    return p


def _rows(path: Path) -> list[dict]:
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def test_compare_of_chains_counts_shared_sites_by_type_and_unit(tmp_path):
    a, b = _write(tmp_path, "two-cells", 2), _write(tmp_path, "three-cells", 3)
    r = CliRunner().invoke(app, ["compare", str(a), str(b), "--out", str(tmp_path / "cmp"), "-q"])
    assert r.exit_code == 0, r.output
    runs = {n: select(prepare(load_config(p))) for n, p in (("a", a), ("b", b))}
    picks = {n: {f"{t}:{res.prepared.units['id'].iat[u]}" for t, u in zip(res.solution.facilities.type[res.solution.facilities.new],
                                                                         res.solution.facilities.unit[res.solution.facilities.new])}
             for n, res in runs.items()}
    (row,) = _rows(tmp_path / "cmp" / "overlap.csv")
    assert int(row["sites_a"]) == 3 and int(row["sites_b"]) == 4
    assert int(row["shared_sites"]) == len(picks["a"] & picks["b"]) and row["shared_site_ids"] == ";".join(sorted(picks["a"] & picks["b"]))
    table = {x["id"]: x for x in _rows(tmp_path / "cmp" / "compare.csv")}
    for key in picks["b"]:
        t, uid = key.split(":")
        assert t in table[uid]["role_three-cells"].split(";")
    html = (tmp_path / "cmp" / "compare.html").read_text(encoding="utf-8")
    assert "new facilities" in html and "supplied_by" in html


def test_chain_sweep_moves_every_type_and_reproduces_the_run(tmp_path):
    cfg = load_config(_write(tmp_path, "sweep-chain", 2))
    prep = prepare(cfg)
    base = select(prep)
    setup = build_setup(prep, base)
    assert setup.own and set(setup.own) == {"refinery"}  # the refinery weighs criteria its own way; cell follows the scenario
    w0 = setup.base
    for t, s in setup.scores(w0).items():  # the config's weights give the run's own site scores
        np.testing.assert_allclose(s, base.type_scores[t].to_numpy(), atol=1e-12)
    w = np.array([0.2, 0.2, 0.6])
    moved = setup.type_weights(w)
    assert moved["cell"] is w
    ports, labor, grid = setup.criteria.index("ports"), setup.criteria.index("labor"), setup.criteria.index("grid")
    assert moved["refinery"][labor] == 0 and moved["refinery"][grid] > moved["refinery"][ports]  # grid weighed up 1.8x, ports down
    assert moved["refinery"].sum() == pytest.approx(1.0)
    sweep = run_sweep(setup, np.array([w0, w]), workers=0)
    first = sweep.results[0]
    assert first["objective"] == pytest.approx(base.solution.objective, abs=1e-9)
    assert sorted(zip(first["types"].tolist(), first["hubs"].tolist())) == sorted(
        zip(base.solution.facilities.type[base.solution.facilities.new].tolist(), base.solution.hub_index.tolist()))


def test_chain_sweep_command_names_sites_by_type(tmp_path):
    p = _write(tmp_path, "sweep-cli", 2)
    r = CliRunner().invoke(app, ["sweep", str(p), "--samples", "4", "--workers", "0", "--out", str(tmp_path / "sw"), "-q"])
    assert r.exit_code == 0, r.output
    rows = _rows(tmp_path / "sw" / "weightings.csv")
    assert len(rows) == 4 and all(len(x["sites"].split(";")) == 3 for x in rows)
    assert all(k.split(":")[0] in ("refinery", "cell") for x in rows for k in x["sites"].split(";"))
    ranges = _rows(tmp_path / "sw" / "hub_weight_ranges.csv")
    assert sorted(x["type"] for x in ranges) == ["cell", "cell", "refinery"]
    roles = {x["base_role"] for x in _rows(tmp_path / "sw" / "frequency.csv")}
    assert roles & {"refinery", "cell", "refinery;cell", "cell;refinery"}


def test_python_api_gives_a_chains_facilities_links_and_clusters(tmp_path):
    import cluster_opt as co

    text = CHAIN.replace("NAME", "api-chain").replace("CELLS", "2") + "clusters: {count: 2, radius_km: 150, must_contain: [refinery, cell]}\n"
    (tmp_path / "c.yaml").write_text(text, encoding="utf-8")
    res = co.run(str(tmp_path / "c.yaml"))
    fac = res.facilities
    assert (fac["status"] == "new").sum() == 3 and set(fac.loc[fac["status"] == "new", "type"]) == {"refinery", "cell"}
    assert fac.crs.to_epsg() == 4326 and fac.geometry.x.tolist() == pytest.approx(fac["lon"].tolist())
    links = res.links
    cells = fac.index[(fac["type"] == "cell") & (fac["status"] == "new")]
    assert sorted(links.loc[links["to_type"] == "cell", "to_facility"]) == sorted(cells)  # every new cell has its refinery
    assert (links["km"] <= links["max_km"]).all()
    clusters = res.clusters
    assert len(clusters) == 2
    for c in clusters.itertuples():  # each cluster lists every facility within its radius: both types, as the rule demands
        assert {"refinery", "cell"} <= set(c.types.split(";"))
        assert c.facilities == int((haversine_km(fac["lat"].to_numpy(), fac["lon"].to_numpy(), c.lat, c.lon) <= 150 + 1e-6).sum())
