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
from cluster_opt.model.solve import Solution
from cluster_opt.pipeline import run

CONFIGS = Path(__file__).resolve().parents[1] / "configs"


def _battery_belt(**selection) -> dict:
    cfg = yaml.safe_load((CONFIGS / "battery_belt.yaml").read_text())
    cfg.pop("explain", None)
    cfg["selection"].update(selection)
    return cfg


def test_a_time_limited_run_keeps_its_best_selection_with_a_real_bound_and_reports_progress():
    """Overlapping clusters whose members carry value have a weak relaxation: in 6 s the solver cannot prove the
    optimum. The run still returns a checked selection, the bound the solver proved, and its gap; progress came in."""
    raw = _battery_belt(cluster_radius_km=150, min_spacing_km=200, member_weight=1.0)
    raw["solver"]["time_limit_s"] = 6
    heard: list[SolverProgress] = []

    def step(stage: str) -> None:
        pass

    step.solver = heard.append
    res = run(parse_config(raw, "limits", CONFIGS), step=step)
    sol = res.solution
    assert sol.status == "time_limit" and not sol.proven_optimal
    assert res.evaluation.ok
    assert sol.bound is not None and sol.bound >= sol.objective - 1e-9
    assert sol.gap == pytest.approx((sol.bound - sol.objective) / abs(sol.objective), rel=1e-6)
    assert "NOT proven optimal" in sol.certainty() and f"{sol.bound:.4f}" in sol.certainty()
    assert heard, "no progress reached the caller while HiGHS worked"
    assert all(p.seconds_left is not None and 0 <= p.seconds_left <= 6 for p in heard)
    assert any(p.incumbent is not None for p in heard)
    assert "best" in heard[-1].text() and "s left" in heard[-1].text()


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
