"""The selection MILP against brute force, and the independent evaluator."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cluster_opt.errors import ConfigError, InfeasibleError, SolverError
from cluster_opt.model.evaluate import check, evaluate
from cluster_opt.model.problem import SelectionProblem
from cluster_opt.model.solve import solve

from .bruteforce import assert_optimum, brute_force


@st.composite
def problems(draw):
    n = draw(st.integers(3, 9))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    lat = rng.uniform(40.0, 43.0, n)
    lon = rng.uniform(-90.0, -85.0, n)
    score = np.round(rng.uniform(-0.3, 1.0, n), 3) if draw(st.booleans()) else np.round(rng.uniform(0, 1, n), 3)
    p = draw(st.integers(1, min(3, n)))
    n_req = draw(st.integers(0, 2))
    amounts = rng.integers(0, 100, (n, n_req)).astype(float)
    req = rng.integers(0, 150, n_req).astype(float)
    states = rng.choice(["MN", "WI", "MI"], n)
    ids = np.array([f"{k:05d}" for k in range(n)])
    include = [str(x) for x in rng.choice(ids, draw(st.integers(0, 1)), replace=False)]
    exclude = [str(x) for x in rng.choice([i for i in ids if i not in include], draw(st.integers(0, 2)), replace=False)]
    if p > n - len(exclude):
        exclude = []
    return SelectionProblem(
        ids=ids, lat=lat, lon=lon, score=score, clusters=p,
        radius_km=draw(st.sampled_from([0.0, 60.0, 120.0, 200.0])),
        spacing_km=draw(st.sampled_from([0.0, 100.0, 250.0, 450.0])),
        states=states, max_per_state=draw(st.sampled_from([None, 1, 2])),
        amounts=amounts, requirement_names=[f"r{k}" for k in range(n_req)], requirements=req,
        include=include, exclude=exclude, member_weight=draw(st.sampled_from([0.0, 1.0, 0.5])),
        member_scale=np.round(rng.uniform(0.2, 3.0, n), 2) if draw(st.booleans()) else None,
    )


def assert_matches_brute_force(pb):
    """The solver's optimum equals exhaustive enumeration, and the evaluator accepts the selection."""
    ref = brute_force(pb)
    assert_optimum(None if ref is None else ref[0], lambda: solve(pb),
                   lambda sol: check(pb, sol.hub_index, sol.member_of, sol.objective).ok)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(problems())
def test_milp_matches_brute_force(pb):
    assert_matches_brute_force(pb)


@st.composite
def overlapping_problems(draw):
    """Overlapping clusters whose members carry no value, with requirements tight enough that hubs compete for members."""
    n = draw(st.integers(4, 9))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    radius = draw(st.sampled_from([120.0, 200.0]))
    amounts = rng.integers(0, 60, (n, draw(st.integers(1, 2)))).astype(float)
    return SelectionProblem(
        ids=np.array([f"{k:05d}" for k in range(n)]), lat=rng.uniform(41.0, 42.5, n), lon=rng.uniform(-89.0, -86.0, n),
        score=np.round(rng.uniform(0, 1, n), 3), clusters=draw(st.integers(2, 3)), radius_km=radius,
        spacing_km=draw(st.sampled_from([0.0, 60.0, radius])), amounts=amounts,
        requirements=np.round(amounts.sum(axis=0) * draw(st.sampled_from([0.15, 0.25, 0.35])), 0), member_weight=0.0,
    )


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(overlapping_problems())
def test_hubs_first_matches_brute_force(pb):
    """Overlapping clusters decided hubs first (pair rows, then cuts on hub sets that cannot share) stay exact."""
    from cluster_opt.model.overlap import hubs_first

    assert hubs_first(pb)
    assert_matches_brute_force(pb)


def test_hubs_first_cuts_off_hubs_that_cannot_share():
    """Three hubs in a row, each needing one of the two units between them: every pair can share, all three cannot.
    The hub model picks the three first; the cut on that set leads to the best selection that can be assigned."""
    lon = np.array([-88.0, -87.0, -86.0, -87.5, -86.5, -80.0])
    pb = SelectionProblem(ids=np.array(["a", "b", "c", "ab", "bc", "far"]), lat=np.full(6, 42.0), lon=lon,
                          score=np.array([1.0, 1.0, 1.0, 0.0, 0.0, 0.5]), clusters=3, radius_km=45.0, spacing_km=0.0,
                          amounts=np.array([[0.0], [0.0], [0.0], [1.0], [1.0], [1.0]]), requirements=np.array([1.0]), member_weight=0.0)
    ref = brute_force(pb)
    assert ref is not None and ref[0] == pytest.approx(2.5)
    sol = solve(pb)
    assert sol.objective == pytest.approx(2.5)
    assert sol.blocks["assignment_rounds"] == 2 and sol.blocks["hub_set_conflict"] == 1
    assert check(pb, sol.hub_index, sol.member_of, sol.objective).ok


def _line_problem(**kw):
    # Five units 100 km apart along a parallel (about 0.9 degrees of longitude at 45N... computed exactly below).
    lon = np.arange(5) * (100.0 / (111.19492664455873 * np.cos(np.radians(45.0))))
    base = dict(ids=[f"{k:05d}" for k in range(5)], lat=np.full(5, 45.0), lon=lon, score=[0.1, 0.9, 0.2, 0.8, 0.3],
                clusters=2, radius_km=110.0, spacing_km=250.0)
    base.update(kw)
    return SelectionProblem(**base)


def test_disjoint_and_full_forms_agree():
    pb = _line_problem(radius_km=130.0)
    assert not pb.disjoint
    full = solve(pb)
    pb2 = _line_problem(radius_km=90.0, spacing_km=250.0)
    assert pb2.disjoint
    assert solve(pb2).objective == pytest.approx(brute_force(pb2)[0])
    assert full.objective == pytest.approx(brute_force(pb)[0])


def test_evaluator_catches_broken_selections():
    pb = _line_problem(requirements=[2.0], amounts=[[1], [1], [1], [1], [1]], requirement_names=["labor"])
    sol = solve(pb)
    assert evaluate(pb, sol.hub_index, sol.member_of).ok
    # Too close hubs.
    bad = evaluate(pb, np.array([1, 2]), np.array([0, 0, 1, 1, 1]))
    assert any("apart" in v for v in bad.violations)
    # A unit in reach left out, and a requirement missed.
    member_of = sol.member_of.copy()
    sizes = np.bincount(member_of[member_of >= 0])
    leaf = [i for i in range(pb.n) if member_of[i] == sizes.argmin() and i not in sol.hub_index][0]
    member_of[leaf] = -1
    bad = evaluate(pb, sol.hub_index, member_of)
    assert not bad.ok
    assert any("in no cluster" in v for v in bad.violations)
    assert any("below the required" in v for v in bad.violations)
    # A wrong objective is caught by check().
    with pytest.raises(SolverError, match="objective"):
        check(pb, sol.hub_index, sol.member_of, sol.objective + 1.0)


def test_infeasible_requirement_names_the_best_cluster():
    pb = _line_problem(requirements=[10.0], amounts=[[1], [1], [1], [1], [1]], requirement_names=["labor"])
    with pytest.raises(InfeasibleError, match=r"labor 10 per cluster is not reachable: the best cluster .* has 3"):
        solve(pb)


def test_include_exclude_and_errors():
    pb = _line_problem(include=["00000"], exclude=["00003"])
    sol = solve(pb)
    assert 0 in sol.hub_index and 3 not in sol.hub_index
    with pytest.raises(ConfigError, match="unknown unit id"):
        _line_problem(include=["99999"])
    with pytest.raises(ConfigError, match="clusters asked"):
        _line_problem(clusters=5, exclude=["00001"])


def test_cbc_agrees_with_highs():
    from cluster_opt.config import Solver

    pb = _line_problem(spacing_km=150.0)
    assert solve(pb, Solver(name="cbc")).objective == pytest.approx(solve(pb).objective)


def test_infeasible_jointly_says_why():
    # Five units in a row, two clusters of three each: six units needed, five exist.
    pb = _line_problem(radius_km=110.0, spacing_km=0.0, requirements=[3.0], amounts=[[1]] * 5, requirement_names=["labor"])
    with pytest.raises(InfeasibleError, match=r"labor 3 per cluster cannot be met by 2 clusters at once .*the largest labor every cluster can reach is 2$"):
        solve(pb)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(problems())
def test_lazy_spacing_and_lattice_cliques_match_brute_force(pb):
    """The large-grid path (spacing rows added only when broken, thinned clique centres) stays exact."""
    from unittest import mock

    from cluster_opt.model import components, problem

    with mock.patch.object(problem, "LAZY_SPACING_PAIRS", -1), mock.patch.object(components, "CLIQUE_ALL_CENTRES", 0):
        assert pb.lazy_spacing
        assert_matches_brute_force(pb)


@pytest.mark.parametrize("radius, spacing", [(110.0, 250.0), (110.0, 150.0)], ids=["disjoint", "overlapping"])
def test_a_requirement_equal_to_the_reachable_total_is_met(radius, spacing):
    """0.7 + 0.1 adds up to 0.7999999999999999 in floating point: a requirement of 0.8 is still met (relative tolerance 1e-9)."""
    amounts = np.array([[0.0], [0.7], [0.1], [0.0], [0.0]])
    pb = _line_problem(clusters=1, radius_km=radius, spacing_km=spacing, amounts=amounts, requirements=[0.8],
                       requirement_names=["labor"], include=["00001"])
    sol = solve(pb)
    ev = check(pb, sol.hub_index, sol.member_of, sol.objective)
    assert ev.cluster_totals[0, 0] < 0.8 and ev.ok
    with pytest.raises(InfeasibleError):
        solve(_line_problem(clusters=1, radius_km=radius, spacing_km=spacing, amounts=amounts, requirements=[0.8001],
                            requirement_names=["labor"], include=["00001"]))


def test_a_radius_that_pairs_too_many_units_is_refused_before_building():
    from cluster_opt.model import problem

    rng = np.random.default_rng(0)
    n = 3000
    kw = dict(ids=[str(k) for k in range(n)], lat=rng.uniform(40, 42, n), lon=rng.uniform(-90, -88, n), score=np.zeros(n), clusters=2)
    with pytest.raises(ConfigError, match=r"selection.cluster_radius_km: 500 km pairs 8,997,000 units with possible hubs, more than the 3,000,000"):
        SelectionProblem(radius_km=500.0, **kw)
    assert problem.MAX_DISJOINT_PAIRS > 8_997_000
    SelectionProblem(radius_km=500.0, spacing_km=1200.0, **kw)  # clusters cannot overlap: only hubs are decided


@pytest.mark.parametrize("spacing", [0.0, 500.0], ids=["overlapping", "disjoint"])
def test_forcing_out_an_included_hub_in_a_re_solve_is_infeasible_not_an_empty_selection(spacing):
    """The re-solve engine drops rows its columns can never break; an included hub (fixed at 1) may later be forced
    out, so the count row must stay: the answer is 'infeasible', never a selection without hubs."""
    from cluster_opt.model.chain import SitingProblem
    from cluster_opt.model.engine import Engine

    pb = _line_problem(clusters=1, radius_km=50.0, spacing_km=spacing, include=["00000"], amounts=[[1.0], [0.0], [0.0], [0.0], [0.0]],
                       requirements=[1.0], requirement_names=["labor"])
    engine = Engine(SitingProblem({"cluster": pb}))
    assert engine.solve().hub_index.tolist() == [0]
    with pytest.raises(InfeasibleError):
        engine.solve(forced_out={"cluster": [0]})


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(overlapping_problems(), st.integers(0, 2**32 - 1))
def test_hubs_first_re_solves_with_new_scores_match_a_fresh_solve(pb, seed):
    """The re-solve engine keeps the covering model built for the first scores: members valued at nothing when it was
    built (a score of 0) must count in full once a new weighting values them."""
    import dataclasses

    from cluster_opt.model.chain import SitingProblem
    from cluster_opt.model.engine import Engine

    rng = np.random.default_rng(seed)
    pb = dataclasses.replace(pb, member_weight=1.0, score=np.where(rng.random(pb.n) < 0.5, 0.0, pb.score))
    new = np.round(rng.uniform(0, 1, pb.n), 3)
    engine = Engine(SitingProblem({"cluster": pb}))
    try:
        engine.solve()
    except InfeasibleError:
        return
    fresh = brute_force(dataclasses.replace(pb, score=new))
    assert fresh is not None
    assert engine.solve({"cluster": new}).objective == pytest.approx(fresh[0], abs=1e-6)
