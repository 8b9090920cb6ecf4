"""Time limits are honest and the solver reports its progress: a time-limited run returns its best selection with a
real bound and gap, or says plainly that none was found; wide spacings and overlapping clusters stay exact."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import yaml

from cluster_opt.config import parse_config
from cluster_opt.model.highs import SolverProgress
from cluster_opt.model.evaluate import check
from cluster_opt.model.problem import SelectionProblem
from cluster_opt.model.solve import Solution, solve
from cluster_opt.config import Solver
from cluster_opt.pipeline import run

CONFIGS = Path(__file__).resolve().parents[1] / "configs"


def _battery_belt(**selection) -> dict:
    cfg = yaml.safe_load((CONFIGS / "battery_belt.yaml").read_text())
    cfg.pop("explain", None)
    cfg["selection"].update(selection)
    return cfg


def test_a_time_limited_solve_keeps_its_best_selection_with_a_real_bound_and_reports_progress():
    """4,000 random sites of nearly equal score, 26 hubs at least 200 km apart: packing them best takes the solver far
    longer than 1.5 s (about 25 s on 2 cores). It returns a selection that meets every rule, the least bound of its
    lazy rounds (each a relaxation of the next) and their gap; progress came in while HiGHS worked."""
    n = 4000
    rng = np.random.default_rng(7)
    pb = SelectionProblem(ids=np.array([f"{i:05d}" for i in range(n)]), lat=rng.uniform(36, 46, n), lon=rng.uniform(-98, -84, n),
                          score=np.round(1 + rng.uniform(0, 0.01, n), 6), clusters=26, radius_km=50.0, spacing_km=200.0, member_weight=0.0)
    heard: list[SolverProgress] = []
    sol = solve(pb, Solver(time_limit_s=1.5), on_progress=heard.append)
    assert sol.status == "time_limit" and not sol.proven_optimal
    assert check(pb, sol.hub_index, sol.member_of, sol.objective).ok  # spacing met, though found in a relaxation's rounds
    assert sol.bound is not None and sol.bound >= sol.objective - 1e-9
    assert sol.bound < pb.score.sum()  # a bound the solver proved, not the sum of every score
    assert sol.gap == pytest.approx((sol.bound - sol.objective) / abs(sol.objective), rel=1e-6)
    assert "NOT proven optimal" in sol.certainty() and f"{sol.bound:.4f}" in sol.certainty()
    assert heard, "no progress reached the caller while HiGHS worked"
    assert all(p.seconds_left is not None and 0 <= p.seconds_left <= 1.5 for p in heard)
    assert "s left" in heard[-1].text()


def test_overlapping_clusters_with_valued_members_are_proven():
    """Members that count toward the objective (member_weight 1) on overlapping clusters: the covering model
    (each covered unit counted once) proves the optimum the member model could not bound in minutes."""
    res = run(parse_config(_battery_belt(cluster_radius_km=150, min_spacing_km=200, member_weight=1.0), "valued", CONFIGS))
    sol = res.solution
    assert sol.proven_optimal and res.evaluation.ok
    assert sol.blocks["covered_by_hub"] > 0 and "member_hub" not in sol.blocks
    assert sol.objective == pytest.approx(res.evaluation.objective, rel=1e-9)


def test_without_a_bound_the_run_says_so():
    sol = Solution(np.array([0]), np.array(["a"]), np.array([0]), 1.0, None, None, "time_limit", "highs", "HiGHS", 1, 1)
    assert "before the solver found any bound" in sol.certainty()
    assert SolverProgress.read(1e30, -1e30, float("inf"), None, 0.0).text() == "best none yet, bound none yet"


def test_wide_spacing_on_the_lower_48_is_solved_lazily_and_proven():
    """The lower 48 counties, 3 clusters at least 600 km apart, one per state, with labor and grid requirements:
    the close pairs (about 800,000) are not written down; spacing rows are added only where chosen hubs break it."""
    raw = _battery_belt(clusters=3, min_spacing_km=600, cluster_radius_km=100, max_per_state=1)
    raw["study_area"] = "conus"
    raw["criteria"].pop("power_price")  # the state price table has no row for Wyoming
    raw["layers"].pop("power_price")
    res = run(parse_config(raw, "wide", CONFIGS))
    sol, pb = res.solution, res.problem
    assert pb.lazy_spacing and pb.conflict_count > 500_000
    assert sol.proven_optimal and res.evaluation.ok
    assert sol.n_rows < 2_000  # clique rows on a lattice and a few spacing rows, not one per close pair
    assert len(set(pb.states[sol.hub_index])) == 3  # (the evaluator also re-checked the 600 km spacing)


def test_overlapping_clusters_are_decided_hubs_first_and_proven():
    """Radius 150 km with hubs only 200 km apart on the Battery Belt: hubs first, members assigned afterwards."""
    res = run(parse_config(_battery_belt(cluster_radius_km=150, min_spacing_km=200), "overlap", CONFIGS))
    sol = res.solution
    assert sol.proven_optimal and res.evaluation.ok
    assert "assignment_rounds" in sol.blocks and "member_hub" not in sol.blocks
    assert check(res.problem, sol.hub_index, sol.member_of, sol.objective).ok
    shared = np.bincount(sol.member_of[sol.member_of >= 0], minlength=len(sol.hub_index))
    assert (shared > 1).all()  # every cluster has members besides its hub


def test_an_answer_cut_short_that_breaks_the_spacing_is_repaired_not_returned():
    """When the time runs out on a lazy round whose answer has hubs too close, the run keeps the hubs that fit,
    fills the rest greedily and keeps the round's bound: what it returns always meets every rule."""
    from cluster_opt.model.components import build_model
    from cluster_opt.model.backend import LinearResult
    from cluster_opt.model.solve import _clusters, _repaired

    rng = np.random.default_rng(3)
    n = 300
    pb = SelectionProblem(ids=np.array([f"{i:05d}" for i in range(n)]), lat=rng.uniform(40, 44, n), lon=rng.uniform(-92, -84, n),
                          score=rng.uniform(0, 1, n), clusters=4, radius_km=30.0, spacing_km=150.0, member_weight=0.0)
    model, v = build_model(pb)
    close = np.argsort(np.hypot(pb.lat - pb.lat[0], pb.lon - pb.lon[0]))[:4]  # four hubs far closer than 150 km
    values = np.zeros(model.n_vars)
    values[v.y[close]] = 1.0
    cut_short = LinearResult("time_limit", values, float(model.obj @ values), 4.0, 0.1, 0.0, 0.0)  # 4 hubs of score below 1
    res, owner = _repaired(pb, model, v, cut_short, [close], False, None)
    hubs, member_of = _clusters(pb, v, res.values, owner)
    assert check(pb, hubs, member_of, res.objective).ok
    assert res.status == "time_limit" and res.bound == 4.0 and res.objective <= 4.0
    assert close[np.argmax(pb.score[close])] in hubs  # the best of the offending hubs is kept
