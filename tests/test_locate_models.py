"""p-center, set covering (plain and capacitated), p-dispersion and max coverage with forced sites and
unreachable pairs: against brute force over site subsets, against spopt, through GeoDataFrames, and bad inputs."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import linprog

from cluster_opt.errors import InfeasibleError, InputError
from cluster_opt.locate import max_coverage, p_center, set_covering

INF = np.inf


@st.composite
def instances(draw, max_m=7, max_n=5, square=False):
    """A small cost matrix with many ties, some pairs unreachable (+inf), p and forced sites."""
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    n = draw(st.integers(2 if square else 1, max_n))
    m = n if square else draw(st.integers(1, max_m))
    cost = rng.integers(0, 12, (m, n)).astype(float)
    if draw(st.booleans()):
        cost[rng.random((m, n)) < draw(st.sampled_from([0.2, 0.5]))] = INF
    if square:
        cost = np.minimum(cost, cost.T)
        np.fill_diagonal(cost, 0.0)
    p = draw(st.integers(2 if square else 1, n))
    forced = rng.choice(n, draw(st.integers(0, min(p, n))), replace=False) if draw(st.booleans()) else None
    w = np.round(rng.uniform(0, 3, m), 2) if draw(st.booleans()) else None
    return cost, p, forced, w


def subsets(n, k, forced):
    """Every k-subset of n sites holding the forced ones."""
    need = set() if forced is None else set(int(j) for j in forced)
    return [list(s) for s in itertools.combinations(range(n), k) if need <= set(s)]


def weighted(cost, w):
    ww = np.ones(cost.shape[0]) if w is None else w
    with np.errstate(invalid="ignore"):
        return np.where(np.isfinite(cost), cost * ww[:, None], INF)


@settings(max_examples=120, deadline=None)
@given(instances(max_m=9, max_n=6))
def test_p_center_matches_brute_force(case):
    cost, p, forced, w = case
    n = cost.shape[1]
    wc = weighted(cost, w)
    best = min(wc[:, s].min(axis=1).max() for s in subsets(n, p, forced))
    if not np.isfinite(best):
        with pytest.raises(InfeasibleError, match="demand point|no .* sites"):
            p_center(cost, p, w, forced)
        return
    res = p_center(cost, p, w, forced)
    assert res.status == "optimal" and res.objective == pytest.approx(best)
    assert len(res.facilities) == p and set(forced if forced is not None else []) <= set(res.facilities)
    assert set(res.assignment) <= set(res.facilities)
    assert wc[np.arange(len(wc)), res.assignment].max() == pytest.approx(best)


@settings(max_examples=100, deadline=None)
@given(instances(), st.sampled_from([0.0, 3.0, 6.0]))
def test_set_covering_matches_brute_force(case, radius):
    cost, _, forced, _ = case
    m, n = cost.shape
    reach = cost <= radius
    fewest = next((k for k in range(n + 1) for s in subsets(n, k, forced) if reach[:, s].any(axis=1).all()), None)
    if fewest is None:
        with pytest.raises(InfeasibleError, match="demand point .* no candidate site within radius"):
            set_covering(cost, radius, forced)
        return
    res = set_covering(cost, radius, forced)
    assert res.objective == fewest == len(res.facilities)
    assert (cost[np.arange(m), res.assignment] <= radius).all() and set(res.assignment) <= set(res.facilities)


def _serves(reach, d, cap, s):
    """Whether the open sites s can serve all demand, split, within radius and capacities (a transportation LP)."""
    pi, pj = np.nonzero(reach[:, s])
    if not reach[:, s].any(axis=1).all():
        return False
    k = len(pi)
    a_eq = np.zeros((reach.shape[0], k))
    a_eq[pi, np.arange(k)] = 1
    a_ub = np.zeros((len(s), k))
    a_ub[pj, np.arange(k)] = d[pi]
    return linprog(np.zeros(k), A_ub=a_ub, b_ub=cap[s], A_eq=a_eq, b_eq=np.ones(len(d)), bounds=(0, 1), method="highs").status == 0


@settings(max_examples=60, deadline=None)
@given(instances(max_m=5, max_n=4), st.sampled_from([3.0, 6.0, 9.0]), st.integers(0, 2**32 - 1))
def test_capacitated_set_covering_matches_brute_force(case, radius, seed):
    cost, _, forced, _ = case
    rng = np.random.default_rng(seed)
    m, n = cost.shape
    d = rng.integers(1, 6, m).astype(float)
    cap = rng.integers(0, 12, n).astype(float)
    reach = cost <= radius
    fewest = next((k for k in range(n + 1) for s in subsets(n, k, forced) if _serves(reach, d, cap, s)), None)
    if fewest is None:
        with pytest.raises(InfeasibleError, match="demand point|capacity|cannot hold"):
            set_covering(cost, radius, forced, demand=d, capacity=cap)
        return
    res = set_covering(cost, radius, forced, demand=d, capacity=cap)
    assert res.objective == fewest == len(res.facilities)
    assert np.allclose(res.flows.sum(axis=1), 1.0) and (res.flows.T @ d <= cap + 1e-6).all()
    assert (res.flows[~reach] == 0).all() and (res.flows[:, np.setdiff1d(np.arange(n), res.facilities)] == 0).all()


@settings(max_examples=100, deadline=None)
@given(instances(), st.sampled_from([0.0, 3.0, 6.0, 11.0]))
def test_max_coverage_with_forced_sites_and_unreachable_pairs(case, radius):
    cost, p, forced, w = case
    m, n = cost.shape
    ww = np.ones(m) if w is None else w
    best = max((ww * (cost[:, s].min(axis=1) <= radius)).sum() for s in subsets(n, p, forced))
    res = max_coverage(cost, radius, p, w, forced)
    assert res.objective == pytest.approx(best)
    assert len(res.facilities) == p and set(forced if forced is not None else []) <= set(res.facilities)
    covered = res.assignment >= 0
    assert (cost[np.flatnonzero(covered), res.assignment[covered]] <= radius).all()


COST = np.arange(12, dtype=float).reshape(3, 4)
BAD = [
    (lambda: p_center(COST, 5), "p = 5 is larger than the 4 candidate sites"),
    (lambda: p_center(COST, 2, forced=[0, 1, 2]), "forced: 3 sites must be open but p = 2"),
    (lambda: p_center(COST, 2, forced=[4]), "forced: site index 4 is out of range 0..3"),
    (lambda: p_center(COST, 2, forced=[-1]), "forced: site index -1 is out of range"),
    (lambda: p_center(COST, 2, forced=[1, 1]), "forced: a site index is repeated"),
    (lambda: p_center(COST, 2, forced=[0.5]), "forced: expected whole-number site indices"),
    (lambda: p_center(COST, 2, forced=[True, False, False, False]), "forced: expected site indices, got True/False"),
    (lambda: p_center(COST, 2, weights=[1, 2]), "weights: expected 3 finite numbers"),
    (lambda: p_center([[1.0, np.nan]], 1), "NaN or -inf"),
    (lambda: p_center([[1.0, -np.inf]], 1), "NaN or -inf"),
    (lambda: p_center([1.0, 2.0], 1), "expected a 2-D matrix"),
    (lambda: set_covering(COST, -1), "radius: expected a finite number ≥ 0"),
    (lambda: set_covering(COST, np.inf), "radius: expected a finite number ≥ 0"),
    (lambda: set_covering(COST, "far"), "radius: expected a number"),
    (lambda: set_covering(COST, 5, forced=[7]), "forced: site index 7 is out of range"),
    (lambda: set_covering(COST, 20, demand=[1, 1, 1]), "demand: given without capacity"),
    (lambda: set_covering(COST, 20, capacity=[1, 1]), "capacity: expected 4 finite numbers ≥ 0"),
    (lambda: set_covering(COST, 20, demand=[1, -1, 1], capacity=[5] * 4), "demand: expected 3 finite numbers ≥ 0"),
    (lambda: max_coverage(COST, 3.0, 2, forced=[0, 1, 2]), "forced: 3 sites must be open but p = 2"),
    (lambda: max_coverage(COST, -3.0, 2), "radius"),
]


@pytest.mark.parametrize("call, message", BAD, ids=[m for _, m in BAD])
def test_each_bad_argument_is_one_clear_line(call, message):
    with pytest.raises(InputError, match=message) as e:
        call()
    assert "\n" not in str(e.value)


def test_unsatisfiable_models_name_the_demand_point():
    cost = np.array([[1.0, 2.0], [INF, INF], [3.0, 9.0]])
    with pytest.raises(InfeasibleError, match=r"^demand point 1 is unreachable from every candidate site"):
        p_center(cost, 1)
    with pytest.raises(InfeasibleError, match=r"^demand point 1 has no candidate site within radius 2"):
        set_covering(cost[[0, 2]], 2.0)
    with pytest.raises(InfeasibleError, match="no 1 sites can reach every demand point"):
        p_center(np.array([[1.0, INF], [INF, 1.0]]), 1)
    with pytest.raises(InfeasibleError, match="total capacity 3 is below total demand 4"):
        set_covering(cost[[0, 2]], 5.0, demand=[2, 2], capacity=[1, 2])
    with pytest.raises(InfeasibleError, match="demand point 1 needs 4, more than the 3 that the sites within radius 3"):
        set_covering(cost[[0, 2]], 3.0, demand=[1, 4], capacity=[3, 9])
    with pytest.raises(InfeasibleError, match="cannot hold all demand"):
        set_covering(np.array([[1.0, INF], [1.0, INF], [INF, 1.0]]), 1.0, demand=[2, 2, 1], capacity=[3, 9])
