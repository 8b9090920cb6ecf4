"""The explanation of an infeasible selection against brute force: every value it states is true."""

from __future__ import annotations

import dataclasses
import itertools
import re
import time
from unittest import mock

import numpy as np
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from cluster_opt.config import Solver
from cluster_opt.errors import InfeasibleError
from cluster_opt.geo import haversine_km
from cluster_opt.model import diagnose as dg
from cluster_opt.model import problem
from cluster_opt.model.backend import LinearResult
from cluster_opt.model.problem import SelectionProblem
from cluster_opt.model.solve import solve

from .bruteforce import brute_force


@st.composite
def problems(draw):
    """Tiny instances in a 300 km box, in both model forms: overlapping clusters (member variables) or disjoint ones.

    Requirements are drawn around what the best cluster can reach, so that most instances that fail do
    so because clusters compete for units; or well below it with wide spacing, so that hubs cannot stay apart.
    """
    n = draw(st.integers(4, 8))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    radius = round(float(rng.uniform(20.0, 150.0)), 1)
    if draw(st.sampled_from(["requirements", "spacing"])) == "spacing":
        spacing, share = round(float(rng.uniform(100.0, 400.0)), 1), (0.1, 0.6)
    elif draw(st.sampled_from(["disjoint", "member"])) == "disjoint":
        spacing, share = round(2.0 * radius + float(rng.uniform(1.0, 100.0)), 1), (0.4, 1.02)
    else:
        spacing, share = draw(st.sampled_from([0.0, round(float(rng.uniform(1.0, 2.0 * radius)), 1)])), (0.4, 1.02)
    n_req = draw(st.integers(1, 2))
    ids = np.array([f"{k:05d}" for k in range(n)])
    pb = SelectionProblem(
        ids=ids, lat=42.0 + rng.uniform(0.0, 2.7, n), lon=-88.0 + rng.uniform(0.0, 3.6, n), score=np.round(rng.uniform(0, 1, n), 3),
        clusters=draw(st.integers(2, 3)), radius_km=radius, spacing_km=spacing,
        states=rng.choice(["MN", "WI", "MI"], n), max_per_state=draw(st.sampled_from([None, None, 1, 2])),
        amounts=np.round(rng.uniform(0.0, 100.0, (n, n_req)), 1), requirement_names=[f"r{k}" for k in range(n_req)],
        requirements=np.zeros(n_req), include=[str(u) for u in rng.choice(ids, int(draw(st.integers(0, 7)) == 0), replace=False)],
    )
    pb.requirements = np.round(pb.reach.max(axis=0) * rng.uniform(*share, n_req), 1)
    return pb


def _km(pb: SelectionProblem) -> np.ndarray:
    return haversine_km(pb.lat[:, None], pb.lon[:, None], pb.lat[None, :], pb.lon[None, :])


def _clusterings(pb: SelectionProblem, keep_spacing: bool = True):
    """Every hub set meeting the count, include/exclude and state rules (and spacing when kept), with the
    requirement totals of every way its units can join: (hubs, array ways × clusters × requirements)."""
    d = _km(pb)
    for hubs in itertools.combinations(np.flatnonzero(pb.can_host).tolist(), pb.clusters):
        if not {pb.index[u] for u in pb.include} <= set(hubs):
            continue
        if keep_spacing and min(d[a, b] for a, b in itertools.combinations(hubs, 2)) < pb.spacing_km:
            continue
        if pb.max_per_state is not None and np.unique(pb.states[list(hubs)], return_counts=True)[1].max() > pb.max_per_state:
            continue
        near = d[:, hubs] <= pb.radius_km
        ways = [[hubs.index(i)] if i in hubs else (np.flatnonzero(near[i]).tolist() or [-1]) for i in range(pb.n)]
        joins = np.array(list(itertools.product(*ways)))
        yield hubs, np.einsum("wnc,nr->wcr", (joins[:, :, None] == np.arange(pb.clusters)).astype(float), pb.amounts)


def true_largest_requirement(pb: SelectionProblem, r: int) -> float | None:
    """max over selections meeting every other rule of the smallest cluster total of requirement r."""
    others = np.arange(len(pb.requirements)) != r
    best = None
    for _, totals in _clusterings(pb):
        ok = (totals[:, :, others] >= pb.requirements[others] - 1e-9).all(axis=(1, 2))
        if ok.any():
            value = float(totals[ok][:, :, r].min(axis=1).max())
            best = value if best is None else max(best, value)
    return best


def true_largest_spacing(pb: SelectionProblem) -> float | None:
    """max over selections meeting every other rule of the distance between their two closest hubs."""
    d = _km(pb)
    best = None
    for hubs, totals in _clusterings(pb, keep_spacing=False):
        if (totals >= pb.requirements - 1e-9).all(axis=(1, 2)).any():
            value = float(min(d[a, b] for a, b in itertools.combinations(hubs, 2)))
            best = value if best is None else max(best, value)
    return best


def _shown(message: str, after: str) -> float:
    """The number the message states after ``after``."""
    return float(re.search(re.escape(after) + r"(?:at least )?(-?[\d,.]+)", message).group(1).replace(",", ""))


def _at_most(value: float, truth: float) -> bool:
    """value ≤ truth up to the rounding of sums of decimal amounts."""
    return value <= truth * (1 + 1e-9) + 1e-9


def assert_states_only_truths(pb: SelectionProblem, d: dg.Diagnosis) -> None:
    """Each claim of the diagnosis against brute force; a proven value is exact, a lower bound is never above the truth."""
    msg = d.message
    if d.best is not None and d.best.value is not None:
        assert d.best.proven == ("not proven" not in msg)
    if d.rule == "reach":
        r = d.requirement
        reach = np.where(_km(pb) <= pb.radius_km, 1.0, 0.0) @ pb.amounts[:, r]
        best = reach[pb.can_host].max()
        assert best < pb.requirements[r] and d.best.value == pytest.approx(best, rel=1e-9)
        assert best - 0.1 <= _shown(msg, ") has ") and _at_most(_shown(msg, ") has "), best)
    elif d.rule == "include_reach":
        assert d.best.value < pb.requirements[d.requirement]
    elif d.rule == "spacing":
        assert brute_force(dataclasses.replace(pb, spacing_km=0.0)) is not None
        truth = true_largest_spacing(pb)
        assert truth < pb.spacing_km
        if d.best.proven:
            assert d.best.value == pytest.approx(truth, rel=1e-6)
        assert _at_most(d.best.value, truth) and _at_most(_shown(msg, "found to work is "), truth)
    elif d.rule == "state":
        assert brute_force(dataclasses.replace(pb, max_per_state=None)) is not None
    elif d.rule == "include":
        assert brute_force(dataclasses.replace(pb, include=[])) is not None
    elif d.rule == "requirement":
        r = d.requirement
        truth = true_largest_requirement(pb, r)
        assert truth is not None and truth < pb.requirements[r]
        if d.best.proven:
            assert d.best.value == pytest.approx(truth, rel=1e-6)
        assert _at_most(d.best.value, truth) and _at_most(_shown(msg, "every cluster can reach is "), truth)
    elif not d.unknown:
        # No single rule found: relaxing any one of them must leave the problem infeasible.
        assert brute_force(dataclasses.replace(pb, spacing_km=0.0)) is None
        assert brute_force(dataclasses.replace(pb, max_per_state=None)) is None
        assert brute_force(dataclasses.replace(pb, include=[])) is None
        assert all(true_largest_requirement(pb, r) is None for r in range(len(pb.requirements)))


def check_diagnosis(pb: SelectionProblem) -> None:
    """Diagnose an infeasible instance and check every claim; feasible instances need no explanation."""
    if brute_force(pb) is not None:
        event("feasible")
        return
    d = dg.diagnose(pb, Solver())
    event(f"{d.rule}, {'disjoint' if pb.disjoint else 'member'} form")
    assert not d.unknown  # tiny models: every check ends well within its time
    assert_states_only_truths(pb, d)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(problems())
def test_diagnosis_matches_brute_force(pb):
    check_diagnosis(pb)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(problems())
def test_large_grid_paths_match_brute_force(pb):
    """Spacing rows added only when broken, and the spacing search bisecting over values, state the same truths."""
    with mock.patch.object(problem, "LAZY_SPACING_PAIRS", -1), mock.patch.object(dg, "SPACING_PAIRS", -1):
        check_diagnosis(pb)


@settings(max_examples=40, deadline=None)
@given(st.floats(-1e7, 1e7, allow_nan=False))
def test_values_are_shown_rounded_down(x):
    assert float(dg._fmt(x, down=True).replace(",", "")) <= x + abs(x) * 1e-12


def _shared_units() -> SelectionProblem:
    """Six units close together (each within reach of all others) and one far away with nothing.

    Each of the six reaches 251.7 and the far one 0, so the only full-reach value below 201.5 is 0;
    three hubs among the six split them in pairs, and the best split gives every cluster 83.9.
    """
    lat = np.array([45.0, 45.1, 45.2, 45.0, 45.1, 45.2, 47.0])
    lon = np.array([-90.0, -90.0, -90.0, -90.15, -90.15, -90.15, -88.0])
    return SelectionProblem(ids=[f"{k:05d}" for k in range(7)], lat=lat, lon=lon, score=np.ones(7), clusters=3, radius_km=54.6,
                            amounts=[[40.0], [41.0], [45.0], [43.9], [42.9], [38.9], [0.0]], requirement_names=["labor"],
                            requirements=[201.5])


def test_shared_units_give_the_exact_largest_requirement():
    pb = _shared_units()
    assert not pb.disjoint and brute_force(pb) is None
    assert set(pb.reach[pb.reach[:, 0] < 201.5, 0]) == {0.0}  # the only candidate a search over full reaches would try
    assert true_largest_requirement(pb, 0) == pytest.approx(83.9)
    with pytest.raises(InfeasibleError, match=r"labor 201.5 per cluster cannot be met by 3 clusters at once .*the largest labor every cluster can reach is 83.9$"):
        solve(pb)
    d = dg.diagnose(pb, Solver())
    assert d.rule == "requirement" and d.best.proven and d.best.value == pytest.approx(83.9, rel=1e-9)


def _far_apart() -> SelectionProblem:
    """Eight units in a box about 250 km wide: three hubs cannot all be 300 km apart, and without spacing the requirement is met."""
    rng = np.random.default_rng(7)
    n = 8
    return SelectionProblem(ids=[f"{k:05d}" for k in range(n)], lat=42.0 + rng.uniform(0, 2.2, n), lon=-88.0 + rng.uniform(0, 3.0, n),
                            score=np.ones(n), clusters=3, radius_km=40.0, spacing_km=300.0, amounts=np.round(rng.uniform(0, 100, (n, 1)), 1),
                            requirement_names=["labor"], requirements=[30.0])


def test_spacing_search_is_exact_and_shown_rounded_down():
    pb = _far_apart()
    assert brute_force(pb) is None
    d = dg.diagnose(pb, Solver())
    truth = true_largest_spacing(pb)
    assert d.rule == "spacing" and d.best.proven and d.best.value == pytest.approx(truth, rel=1e-9)
    assert d.message.startswith("min_spacing_km 300 cannot be kept: 3 hubs that meet the other rules cannot all be that far apart")
    assert truth - 0.1 < _shown(d.message, "found to work is ") and _at_most(_shown(d.message, "found to work is "), truth)


def test_no_time_left_says_unknown_and_never_infeasible():
    for pb in (_shared_units(), _far_apart()):
        d = dg.diagnose(pb, Solver(), deadline=time.monotonic())
        assert d.rule == "rules" and d.unknown
        assert d.message.endswith("whether relaxing a single rule would help is unknown: the check ran out of time")
        assert "admit no selection" in dg.explain_infeasible(pb, Solver(), deadline=time.monotonic() - 1.0)


@pytest.mark.parametrize("status, state", [("time limit reached", dg.Feasibility.UNKNOWN), ("solve error", dg.Feasibility.FAILED),
                                           ("infeasible", dg.Feasibility.INFEASIBLE)])
def test_a_check_is_infeasible_only_when_proven(status, state):
    stopped = LinearResult(status, None, float("nan"), None, None, 0.0, 0.0)
    with mock.patch.object(dg.ReusableHighs, "solve", return_value=stopped):
        assert dg.feasibility(_far_apart(), {}, Solver(), time.monotonic() + 10) == (state, None)


def test_search_cut_short_gives_a_lower_bound():
    # Spacing: the first check (spacing 0) succeeds, every later one runs out of time.
    pb = _far_apart()
    real = dg.feasibility
    calls = []

    def first_only(*args):
        calls.append(1)
        return real(*args) if len(calls) == 1 else (dg.Feasibility.UNKNOWN, None)

    with mock.patch.object(dg, "feasibility", first_only):
        d = dg.diagnose(pb, Solver())
    assert d.rule == "spacing" and not d.best.proven and d.unknown
    assert re.search(r"the largest spacing found to work is at least [\d.]+ km \(not proven: the check ran out of time\)$", d.message)
    assert _at_most(_shown(d.message, "found to work is "), d.best.value) and _at_most(d.best.value, true_largest_spacing(pb))
    # Requirement: the solver stops with a selection but no proof.
    solve_linear = dg.solve_linear

    def unproven(*args):
        return dataclasses.replace(solve_linear(*args), status="time_limit")

    pb = _shared_units()
    with mock.patch.object(dg, "solve_linear", unproven):
        d = dg.diagnose(pb, Solver())
    assert d.rule == "requirement" and not d.best.proven
    assert re.search(r"the largest labor every cluster can reach is at least [\d.]+ \(not proven: the check ran out of time\)$", d.message)
    assert _at_most(d.best.value, true_largest_requirement(pb, 0))
