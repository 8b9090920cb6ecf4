"""Why these sites: replacement and force-in costs equal exhaustive enumeration; reasons name what binds; the run
writes importance.csv and the report's section; cluster-opt why answers for any unit."""

from __future__ import annotations

import csv
import dataclasses
import math
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

import cluster_opt as co
from cluster_opt.analysis.importance import importance
from cluster_opt.cli import app

from .bruteforce import brute_force

SMALL = {
    "name": "why-small", "study_area": {"states": ["RI", "CT", "MA"]},
    "layers": {"ports": {"source": "builtin:ports", "value": "total_tons"}, "labor": {"source": "builtin:labor", "value": "labor_force"}},
    "criteria": {"ports": {"layer": "ports", "measure": "nearest_km", "weight": 1},
                 "labor": {"layer": "labor", "measure": "sum_within", "radius_km": 50, "weight": 1}},
    "selection": {"clusters": 2, "cluster_radius_km": 30, "min_spacing_km": 80, "requirements": {"labor": 60000}, "max_per_state": 1},
}


@pytest.fixture(scope="module")
def small():
    return co.run(co.parse_config(SMALL))


def test_costs_equal_brute_force_for_every_unit(small):
    """Each chosen hub's replacement cost and each other unit's force-in cost, against enumeration with that unit
    excluded or included; infinite exactly where enumeration finds no selection."""
    pb = small.problem
    base = brute_force(pb)[0]
    assert small.solution.objective == pytest.approx(base, abs=1e-9)
    table = importance(small, top=pb.n)
    assert len(table) == pb.n  # every unit: the chosen ones and all others
    for r in table.to_dict("records"):
        u = str(r["unit_id"])
        if r["chosen"]:
            ref = brute_force(dataclasses.replace(pb, exclude=[*pb.exclude, u]))
            got = r["replacement_cost"]
        else:
            ref = brute_force(dataclasses.replace(pb, include=[*pb.include, u])) if pb.can_host[pb.index[u]] else None
            got = r["force_in_cost"]
        if ref is None:
            assert math.isinf(got), (u, r["reason"])
        else:
            assert got == pytest.approx(base - ref[0], abs=1e-7), (u, r["reason"])
        assert r["reason"]


def test_reasons_name_the_requirement_and_the_spacing(small):
    pb = small.problem
    table = importance(small, top=pb.n)
    short = table[table["reason"].str.contains("circle reaches")]
    assert len(short) and all(math.isinf(c) for c in short["force_in_cost"])
    for r in short.to_dict("records"):  # the total quoted is the labor within the radius, below 60,000
        assert "below the 60,000 required" in r["reason"]
    spaced = table[table["reason"].str.contains("within 80 km of")]
    assert len(spaced) and all(c > 0 for c in spaced["force_in_cost"])


def test_a_run_spends_no_more_than_its_budget(small):
    table = importance(small, budget_s=0.0)
    assert len(table) == 2 and table["reason"].str.startswith("not computed").all()
    assert table["replacement_cost"].isna().all()


def test_run_writes_importance_and_the_report_section(tmp_path, small):
    out = small.write(tmp_path / "run")
    with open(out / "importance.csv", newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert {"unit_id", "name", "state", "chosen", "replacement_cost", "force_in_cost", "reason"} <= set(rows[0])
    assert sum(r["chosen"] == "True" for r in rows) == 2
    assert "<h2>Why these sites</h2>" in (out / "report.html").read_text(encoding="utf-8")
    with open(out / "stability.csv", newline="", encoding="utf-8") as fh:
        stab = list(csv.DictReader(fh))
    assert [r["criterion"] for r in stab] == ["ports", "labor"]
    assert {"low", "high", "low_found", "high_found", "ranking_low", "ranking_high"} <= set(stab[0])


def test_why_command_answers_for_any_unit_and_refuses_unknown_ids(tmp_path):
    import yaml

    cfg = tmp_path / "small.yaml"
    cfg.write_text(yaml.safe_dump(SMALL), encoding="utf-8")
    pb = co.run(str(cfg)).problem
    not_chosen = next(u for u in pb.ids if u not in set(co.run(str(cfg)).hubs))
    r = CliRunner().invoke(app, ["why", str(cfg), not_chosen, "-q"])
    assert r.exit_code == 0, r.output
    assert f"- {not_chosen} " in r.output and "(not chosen" in r.output
    r = CliRunner().invoke(app, ["why", str(cfg), "99999", "-q"])
    assert r.exit_code == 2 and 'why: unknown unit id "99999"' in r.output
    assert "Traceback" not in r.output


def test_chain_costs_equal_re_solves_with_the_site_ruled_in_or_out(tmp_path):
    """A chain's replacement cost is its optimum less the optimum with that type barred from that unit."""
    text = Path(__file__).with_name("test_chain_analysis.py").read_text(encoding="utf-8")
    chain = text[text.index('CHAIN = """\\\n') + len('CHAIN = """\\\n'):text.index('"""\n\n\ndef _write')]
    (tmp_path / "c.yaml").write_text(chain.replace("NAME", "why-chain").replace("CELLS", "2"), encoding="utf-8")
    res = co.run(str(tmp_path / "c.yaml"))
    table = importance(res, top=2)
    assert "type" in table.columns
    fac = res.solution.facilities
    for t, j in zip(fac.type[fac.new], fac.unit[fac.new]):
        row = table[(table["type"] == t) & (table["unit_id"] == res.prepared.units["id"].iat[j]) & table["chosen"]].iloc[0]
        pb = res.siting.types[t]
        barred = dataclasses.replace(res.siting, types={**res.siting.types, t: dataclasses.replace(pb, exclude=[*pb.exclude, pb.ids[j]])})
        from cluster_opt.model.solve import solve_siting

        try:
            ref = res.solution.objective - solve_siting(barred).objective
        except co.InfeasibleError:
            ref = math.inf
        assert row["replacement_cost"] == pytest.approx(ref, abs=1e-7)


def test_selection_stability_endpoints_hold_by_brute_force(small):
    """Just inside each end of each interval the chosen hubs are optimal, by enumeration; just outside (where the end
    is not 0 or 1) they are not."""
    from cluster_opt.analysis.selection_stability import selection_stability
    from cluster_opt.analysis.stability import weights_at

    table = selection_stability(small)
    pb = small.problem
    norm = small.scores.normalized.to_numpy(dtype=float)
    names = list(small.scores.normalized.columns)
    base = [small.scores.weights[k] for k in names]
    hubs = [str(h) for h in small.hubs]

    def optimal_at(c: int, t: float) -> bool:
        scored = dataclasses.replace(pb, score=norm @ weights_at(base, c, t))
        best = brute_force(scored)[0]
        mine = brute_force(dataclasses.replace(scored, include=hubs))
        return mine is not None and mine[0] >= best - 1e-9

    eps = 2e-3
    for c, r in enumerate(table.to_dict("records")):
        assert r["low"] <= r["weight"] <= r["high"]
        assert r["low_found"] in ("exact", "within 1e-3") and r["high_found"] in ("exact", "within 1e-3")
        for end, inward in ((r["low"], +1), (r["high"], -1)):
            assert optimal_at(c, end + inward * min(eps, abs(r["weight"] - end) / 2))
            if 0 < end < 1:
                assert not optimal_at(c, end - inward * eps), (r["criterion"], end)
    assert (table["solves"] > 0).all()


def test_chain_selection_stability_holds_inside_and_breaks_outside(tmp_path):
    from cluster_opt.analysis.selection_stability import Probe, selection_of, selection_stability
    from cluster_opt.analysis.stability import weights_at
    from cluster_opt.analysis.sweep import build_setup

    text = Path(__file__).with_name("test_chain_analysis.py").read_text(encoding="utf-8")
    chain = text[text.index('CHAIN = """\\\n') + len('CHAIN = """\\\n'):text.index('"""\n\n\ndef _write')]
    (tmp_path / "c.yaml").write_text(chain.replace("NAME", "stable-chain").replace("CELLS", "2"), encoding="utf-8")
    res = co.run(str(tmp_path / "c.yaml"))
    table = selection_stability(res)
    probe = Probe(build_setup(res.prepared, res), selection_of(res))
    base = probe.setup.base
    for c, r in enumerate(table.to_dict("records")):
        assert r["low"] <= r["weight"] <= r["high"]
        for end, inward in ((r["low"], +1), (r["high"], -1)):
            assert probe.at(weights_at(base, c, end + inward * min(2e-3, abs(r["weight"] - end) / 2)))[0]
            if 0 < end < 1:
                assert not probe.at(weights_at(base, c, end - inward * 2e-3))[0]


def test_alternatives_are_within_the_gap_distinct_and_as_different_as_any(small):
    """Against enumeration of every hub set: each alternative lies within the gap and differs from all before it;
    the first differs from the optimum in as many hubs as any selection within the gap does; and the search stops
    only when no other selection is left within the gap."""
    import itertools

    from cluster_opt.analysis.alternatives import near_optimal

    pb = small.problem
    opt = small.solution.objective
    within = 0.10
    value = {}
    for combo in itertools.combinations(range(pb.n), pb.clusters):
        ref = brute_force(dataclasses.replace(pb, include=[str(pb.ids[i]) for i in combo]))
        if ref is not None and set(ref[1]) == set(combo):
            value[frozenset(combo)] = ref[0]
    floor = opt - within * abs(opt)
    eligible = {s for s, v in value.items() if v >= floor - 1e-9}
    alts = near_optimal(small, count=50, within=within)
    sets = [frozenset(a.solution.hub_index.tolist()) for a in alts]
    assert len(set(sets)) == len(sets) and set(sets) <= eligible
    assert len(sets) == len(eligible)  # every selection within the gap, and no more, once the count allows
    for a in alts:
        assert a.objective == pytest.approx(value[frozenset(a.solution.hub_index.tolist())], abs=1e-7)
        assert a.gap <= within + 1e-12
    base = sets[0]
    if len(alts) > 1:
        assert len(sets[1] - base) == max(len(s - base) for s in eligible - {base})


def test_run_writes_alternatives_and_their_page(tmp_path):
    cfg = dict(SMALL, selection={**SMALL["selection"], "alternatives": {"count": 2, "within": 0.2}})
    res = co.run(co.parse_config(cfg))
    out = res.write(tmp_path / "run")
    with open(out / "alternatives.csv", newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert [int(r["portfolio"]) for r in rows] == list(range(len(rows))) and 2 <= len(rows) <= 3
    assert all(float(r["gap_to_optimum"]) <= 0.2 + 1e-12 for r in rows)
    html = (out / "alternatives.html").read_text(encoding="utf-8")
    assert "Near-optimal alternatives" in html and "Selection frequency" in html and "alternative 1" in html


def test_default_report_answers_why_not_detroit_and_duluth(tmp_path):
    res = co.run(str(Path(__file__).resolve().parents[1] / "configs" / "battery_belt.yaml"))
    table = res.importance.set_index("unit_id")
    wayne, duluth = table.loc["26163"], table.loc["27137"]  # Wayne County, MI and St. Louis County, MN, named in explain.units
    # Detroit is not chosen: forcing it in costs a little, and the reason names the hub it displaces and the criterion.
    assert not wayne["chosen"] and 0 < wayne["force_in_cost"] < math.inf and wayne["reason"].startswith("forcing it in costs")
    assert "falling furthest behind on" in wayne["reason"]
    assert math.isinf(duluth["force_in_cost"]) and "below the 250,000 required" in duluth["reason"]
    html = res.write(tmp_path / "run").joinpath("report.html").read_text(encoding="utf-8")
    assert "Wayne County" in html[html.index("Why these sites"):]


def test_explain_units_must_exist():
    cfg = dict(SMALL, explain={"units": [99999]})
    with pytest.raises(co.InputError, match=r'explain.units: unknown unit id "99999"'):
        co.run(co.parse_config(cfg))


def test_chain_alternatives_are_within_the_gap_distinct_and_checked(tmp_path):
    from cluster_opt.model.chain_check import evaluate_chain

    text = Path(__file__).with_name("test_chain_analysis.py").read_text(encoding="utf-8")
    chain = text[text.index('CHAIN = """\\\n') + len('CHAIN = """\\\n'):text.index('"""\n\n\ndef _write')]
    cfg = chain.replace("NAME", "alt-chain").replace("CELLS", "2") + "alternatives: {count: 3, within: 0.1}\n"
    (tmp_path / "c.yaml").write_text(cfg, encoding="utf-8")
    res = co.run(str(tmp_path / "c.yaml"))
    alts = res.alternatives
    assert len(alts) == 4
    picks = [frozenset(a.solution.sites("refinery")) for a in alts]
    assert len(set(picks)) == len(picks)
    for a in alts:
        ev = evaluate_chain(res.siting, a.solution)
        assert ev.ok and ev.objective == pytest.approx(a.objective, abs=1e-9)
        assert a.objective >= res.solution.objective * 0.9 - 1e-9
    out = res.write(tmp_path / "run")
    rows = (out / "alternatives.csv").read_text(encoding="utf-8").splitlines()
    assert rows[0].startswith("portfolio,objective,gap_to_optimum,sites_not_in_optimum,sites") and len(rows) == 5
    assert all(":" in r.split(",")[4] for r in rows[1:])  # sites as type:unit id
    # The map holds a layer per alternative, off until switched on, with its new facilities named by type.
    import json
    import re

    html = (out / "map.html").read_text(encoding="utf-8")
    payload = json.loads(re.search(r"<script type=\"application/json\" id=\"co-run-data\">(.*?)</script>", html, re.S).group(1))
    layers = [g for g in payload["solution"]["groups"] if g["key"].startswith("alternative_")]
    assert len(layers) == 3 and all(g["hidden"] for g in layers)
    for g, a in zip(layers, alts[1:]):
        assert len(g["lat"]) == len(a.solution.sites("refinery"))
        assert all(n.endswith(("(refinery)", "(cell)")) for n in g["name"])
    with pytest.raises(co.ConfigError, match="give it under selection"):
        co.parse_config({**SMALL, "alternatives": {"count": 1}})


def test_why_and_stability_on_dask_workers_match_this_process():
    """The re-solves spread over Dask workers (each with its own warm model) give the same answers as here."""
    here = co.run(co.parse_config(SMALL))
    spread = co.run(co.parse_config(SMALL))
    seen = []
    spread.explain(workers=2, progress=lambda done, total: seen.append((done, total)))
    pd.testing.assert_frame_equal(spread.importance, here.importance)
    cols = ["criterion", "low", "high", "low_found", "high_found"]
    pd.testing.assert_frame_equal(spread.selection_stability[cols], here.selection_stability[cols])
    assert seen and seen[-1][0] == seen[-1][1] and [d for d, _ in seen] == sorted(d for d, _ in seen)
