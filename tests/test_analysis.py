"""AHP weights, weight-stability intervals, sweeps and comparisons."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cluster_opt.analysis.ahp import ahp
from cluster_opt.analysis.stability import stability_intervals, top_k, weights_at
from cluster_opt.config import parse_config
from cluster_opt.errors import ConfigError


def test_ahp_leader_example():
    """The 'leader' example of the Analytic Hierarchy Process (Wikipedia, "Analytic hierarchy process – leader
    example"): criteria weights .547 experience, .127 education, .270 charisma, .056 age; consistency ratio 0.044."""
    res = ahp(["experience", "education", "charisma", "age"],
              {"experience": {"education": 4, "charisma": 3, "age": 7}, "education": {"charisma": "1/3", "age": 3}, "charisma": {"age": 5}})
    published = {"experience": 0.547, "education": 0.127, "charisma": 0.270, "age": 0.056}
    assert res.weights == pytest.approx(published, abs=1e-3)
    assert res.consistency_ratio == pytest.approx(0.044, abs=5e-4)
    assert res.lambda_max == pytest.approx(4.118, abs=1e-3)


def _cfg(**weights):
    crit = {k: {"layer": "ports", "measure": "nearest_km"} for k in ("a", "b", "c")}
    data = {"name": "t", "layers": {"ports": {"source": "builtin:ports"}}, "criteria": crit,
            "selection": {"clusters": 1, "cluster_radius_km": 10}}
    data.update(weights)
    return data


def test_ahp_in_config_and_its_errors():
    cfg = parse_config(_cfg(weights={"ahp": {"a": {"b": 3, "c": 5}, "b": {"c": 3}}}))
    w = cfg.criterion_weights()
    assert w["a"] > w["b"] > w["c"] and sum(w.values()) == pytest.approx(1)
    assert cfg.ahp_result.consistency_ratio < 0.1
    # d is judged 4 times as important as b where every other judgment puts b above d.
    four = _cfg(weights={"ahp": {"a": {"b": 2, "c": 4, "d": 8}, "b": {"c": 2, "d": "1/4"}, "c": {"d": 2}}})
    four["criteria"]["d"] = {"layer": "ports", "measure": "nearest_km"}
    with pytest.raises(ConfigError, match=r"^<config>: weights.ahp: the judgments are inconsistent \(consistency ratio 0.40.*most inconsistent pair is b versus d"):
        parse_config(four)
    with pytest.raises(ConfigError, match="no judgment of b versus c"):
        parse_config(_cfg(weights={"ahp": {"a": {"b": 3, "c": 5}}}))
    bad = _cfg(weights={"ahp": {"a": {"b": 3, "c": 5}, "b": {"c": 3}}})
    bad["criteria"]["a"]["weight"] = 1
    with pytest.raises(ConfigError, match="give them in one place only"):
        parse_config(bad)
    with pytest.raises(ConfigError, match=r"criteria.a.weight: required"):
        parse_config(_cfg())


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(1, 5))
def test_stability_bounds_are_exact(seed, k):
    rng = np.random.default_rng(seed)
    n, c = 25, 3
    norm = pd.DataFrame(rng.uniform(0, 1, (n, c)), columns=["a", "b", "c"], index=[f"{i:05d}" for i in range(n)])
    w = rng.dirichlet(np.ones(c))
    table = stability_intervals(norm, dict(zip(norm.columns, w)), k)
    ids = norm.index.to_numpy()
    base = top_k(norm.to_numpy() @ w, ids, k)
    eps = 1e-7
    for ci, row in table.iterrows():
        assert row["low"] <= w[ci] + 1e-12 <= row["high"] + 2e-12
        for t, same in ((row["low"] + eps, True), (row["low"] - eps, False), (row["high"] - eps, True), (row["high"] + eps, False)):
            if not 0.0 <= t <= 1.0 or (same and not row["low"] + eps <= row["high"] - eps):
                continue
            if not same and (row["low"] == 0.0 and t < 0 or row["high"] == 1.0 and t > 1):
                continue
            moved = top_k(norm.to_numpy() @ weights_at(w, ci, t), ids, k)
            assert (moved == base) == same, (row.to_dict(), t)


# --------------------------------------------------------------------------- compare and sweep

import json  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402

import yaml  # noqa: E402

LAKES = {
    "name": "lakes",
    "study_area": {"states": ["MN", "WI", "MI"]},
    "layers": {"ports": {"source": "builtin:ports", "value": "total_tons"}, "labor": {"source": "builtin:labor", "value": "labor_force"},
               "grid": {"source": "builtin:power_plants", "value": "capacity_mw"}},
    "criteria": {
        "ports": {"layer": "ports", "measure": "nearest_km", "weight": 1},
        "labor": {"layer": "labor", "measure": "sum_within", "radius_km": 80, "weight": 1},
        "grid": {"layer": "grid", "measure": "sum_within", "radius_km": 100, "weight": 1},
    },
    "selection": {"clusters": 3, "cluster_radius_km": 90, "min_spacing_km": 200, "requirements": {"labor": 100000}},
}


def _write(tmp_path, name, **weights):
    cfg = json.loads(json.dumps(LAKES))
    cfg["name"] = name
    for k, w in weights.items():
        cfg["criteria"][k]["weight"] = w
    p = tmp_path / f"{name}.yaml"
    p.write_text(yaml.safe_dump(cfg))
    return p


def test_compare_overlap_matches_a_hand_computation(tmp_path):
    from cluster_opt.analysis.compare import compare
    from cluster_opt.config import load_config
    from cluster_opt.pipeline import run

    a = _write(tmp_path, "ports-first", ports=6, labor=1, grid=1)
    b = _write(tmp_path, "labor-first", ports=1, labor=6, grid=1)
    cmp = compare([a, b])
    # By hand, from two independent runs.
    ra, rb = run(load_config(a)), run(load_config(b))
    ids = ra.units.index.to_numpy()
    hubs_a, hubs_b = set(ids[ra.solution.hub_index]), set(ids[rb.solution.hub_index])
    mem_a, mem_b = set(ids[ra.solution.member_of >= 0]), set(ids[rb.solution.member_of >= 0])
    row = cmp.overlap.iloc[0]
    assert row["shared_hubs"] == len(hubs_a & hubs_b)
    assert row["shared_hub_ids"] == ";".join(sorted(hubs_a & hubs_b))
    assert row["shared_member_units"] == len(mem_a & mem_b)
    assert row["jaccard_members"] == pytest.approx(len(mem_a & mem_b) / len(mem_a | mem_b))
    from scipy.stats import kendalltau

    assert row["kendall_tau_scores"] == pytest.approx(kendalltau(ra.scores.score, rb.scores.score).statistic)
    # Scores in the table are each scenario's own.
    t = cmp.table.set_index("id")
    assert np.allclose(t.loc[ids, "score_ports-first"], ra.scores.score.to_numpy())
    assert cmp.movers["rank_shift"].is_monotonic_decreasing


def test_compare_command_writes_a_synchronized_page(tmp_path):
    a = _write(tmp_path, "even")
    b = _write(tmp_path, "grid-first", grid=5)
    r = subprocess.run([sys.executable, "-m", "cluster_opt", "compare", a, b, "--out", tmp_path / "cmp", "-q"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    html = (tmp_path / "cmp" / "compare.html").read_text()
    assert len(_panels(html)["panels"]) == 2 and "https://unpkg" not in html
    table = pd.read_csv(tmp_path / "cmp" / "compare.csv", dtype={"id": str})
    assert {"score_even", "rank_grid-first", "role_even", "cluster_grid-first"} <= set(table.columns)


def _panels(html: str) -> dict:
    """The compare page's map data (the JSON block map.js draws)."""
    block = html.split('<script type="application/json" id="co-panels">', 1)[1].split("</script>", 1)[0]
    return json.loads(block)


def test_compare_of_different_study_areas_draws_each_scenario_on_its_own_units(tmp_path):
    a = _write(tmp_path, "lakes")
    data = yaml.safe_load(a.read_text())
    data.update(name="east", study_area={"states": ["WI", "IL"]})
    b = tmp_path / "east.yaml"
    b.write_text(yaml.safe_dump(data))
    for order in ((a, b), (b, a)):
        out = tmp_path / f"cmp-{order[0].stem}"
        r = subprocess.run([sys.executable, "-m", "cluster_opt", "compare", *order, "--out", out, "-q"], capture_output=True, text=True)
        assert r.returncode == 0, r.stderr
        table = pd.read_csv(out / "compare.csv", dtype={"id": str}).set_index("id")
        # Every unit of either study area, named; each scenario scores only its own.
        assert set(table["state"]) == {"MN", "WI", "MI", "IL"}
        assert table.loc["17031", "name"] == "Cook County" and np.isnan(table.loc["17031", "score_lakes"])
        assert table.loc["27137", "name"] == "St. Louis County" and np.isnan(table.loc["27137", "score_east"])
        panels = _panels((out / "compare.html").read_text())["panels"]
        first = order[0].stem
        tips = dict(zip(sorted(table.index), panels[0]["tip"]))
        outside = "17031" if first == "lakes" else "27137"
        assert tips[outside].endswith("outside this scenario's study area")
        assert tips["55079"].startswith("Milwaukee County, WI: score")


def test_sweep_on_a_local_dask_cluster_matches_in_process(tmp_path):
    from cluster_opt.analysis.sweep import build_setup, frequencies, run_sweep, sample_weights
    from cluster_opt.config import load_config
    from cluster_opt.pipeline import prepare

    cfg = load_config(_write(tmp_path, "sweep"))
    prep = prepare(cfg)
    setup = build_setup(prep)
    w = sample_weights(cfg.criterion_weights(), 24, concentration=5, seed=3)
    local = run_sweep(setup, w, workers=0)
    dist = run_sweep(setup, w, workers=2, batch=5)
    assert dist.workers == 2 and dist.scheduler.startswith("tcp://127.0.0.1:")
    assert [sorted(r["hubs"].tolist()) for r in dist.results] == [sorted(r["hubs"].tolist()) for r in local.results]
    assert all(r["check"] and r["status"] == "optimal" for r in dist.results)
    f = frequencies(setup, dist, prep.units["id"].to_numpy())
    assert f["frequency"].between(0, 1).all() and (f["frequency"] >= f["hub_frequency"]).all()
    assert f["hub_frequency"].sum() == pytest.approx(cfg.selection.clusters)
    # Each weighting re-solved from scratch through PuLP gives the same objective.
    from cluster_opt.pipeline import select

    for r in dist.results[:4]:
        ref = select(prep, dict(zip(setup.criteria, r["weights"])))
        assert r["objective"] == pytest.approx(ref.solution.objective, abs=1e-6)


def test_sweep_command_and_grid(tmp_path):
    from cluster_opt.analysis.sweep import sample_weights

    g = sample_weights({"a": 1, "b": 1, "c": 1}, 0, grid_step=0.25)
    assert len(g) == 15 and np.allclose(g.sum(axis=1), 1) and (g >= 0).all()
    cfg = _write(tmp_path, "sw")
    out = tmp_path / "sweep"
    r = subprocess.run([sys.executable, "-m", "cluster_opt", "sweep", cfg, "--samples", "30", "--workers", "0", "--out", out, "-q"],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    man = json.loads((out / "manifest.json").read_text())
    assert man["weightings"] == 30 and man["all_optimal"] and man["all_checked"] and man["scheduler"] == "in-process"
    freq = pd.read_csv(out / "frequency.csv", dtype={"id": str})
    assert set(man["robust_core"]) == set(freq.loc[freq["frequency"] >= 0.9, "id"])
    assert "Weight ranges" in (out / "sweep.html").read_text()
