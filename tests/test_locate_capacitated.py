"""Capacitated location against brute force, spopt, the published OR-Library optima, and bad inputs."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import linprog

from cluster_opt.errors import DataError, InfeasibleError, InputError
from cluster_opt.locate import capacitated_facility_location, capacitated_p_median
from cluster_opt.locate.orlib_cap import read_cap, read_capopt

CAP_DATA = Path(__file__).resolve().parents[1] / "benchmarks" / "data" / "orlib_cap"

pytestmark = pytest.mark.filterwarnings("ignore:Constructing LpVariable:DeprecationWarning")  # spopt builds its model so


def _serve_cost(cost, d, cap, s, single):
    """Least assignment cost from the open sites s (inf if they cannot serve all demand)."""
    m = len(d)
    sub = cost[:, s]
    if single:
        best = np.inf
        for pick in itertools.product(range(len(s)), repeat=m):
            c = sub[np.arange(m), pick]
            load = np.bincount(pick, weights=d, minlength=len(s))
            if np.isfinite(c).all() and (load <= cap[s] + 1e-9).all():
                best = min(best, c.sum())
        return best
    rows, cols = np.nonzero(np.isfinite(sub))
    if len(np.unique(rows)) < m:
        return np.inf
    a_eq = np.zeros((m, len(rows)))
    a_eq[rows, np.arange(len(rows))] = 1.0
    a_ub = np.zeros((len(s), len(rows)))
    a_ub[cols, np.arange(len(rows))] = d[rows]
    r = linprog(sub[rows, cols], A_ub=a_ub, b_ub=cap[s], A_eq=a_eq, b_eq=np.ones(m), bounds=(0, 1), method="highs")
    return r.fun if r.status == 0 else np.inf


def _brute(cost, d, cap, f, single, forced=(), p=None):
    n = cost.shape[1]
    best = np.inf
    for k in range(1, n + 1) if p is None else [p]:
        for s in itertools.combinations(range(n), k):
            if set(forced) <= set(s):
                best = min(best, f[list(s)].sum() + _serve_cost(cost, d, cap, list(s), single))
    return best


def _case(seed, inf_share=0.0):
    rng = np.random.default_rng(seed)
    m, n = int(rng.integers(1, 5)), int(rng.integers(1, 5))
    cost = rng.integers(0, 20, (m, n)).astype(float)
    cost[rng.random((m, n)) < inf_share] = np.inf
    d = rng.integers(1, 6, m).astype(float)
    cap = rng.integers(2, 12, n).astype(float)
    f = rng.integers(0, 15, n).astype(float)
    forced = sorted(set(rng.integers(0, n, int(rng.integers(0, 2))).tolist()))
    return rng, cost, d, cap, f, forced


def _solved(best, solve):
    """The result of ``solve()``, or None after checking it fails as infeasible when brute force found nothing."""
    if np.isfinite(best):
        return solve()
    with pytest.raises(InfeasibleError):
        solve()
    return None


def _check(res, cost, d, cap, best, single):
    assert res.objective == pytest.approx(best, abs=1e-6)
    assert np.allclose(res.flows.sum(axis=1), 1.0)
    assert (res.flows.T @ d <= cap + 1e-6).all()
    assert np.isfinite(cost[res.flows > 0]).all()
    if single:
        assert set(np.unique(res.flows)) <= {0.0, 1.0}


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 2**32 - 1), st.booleans(), st.sampled_from([0.0, 0.3]))
def test_facility_location_matches_brute_force(seed, single, inf_share):
    _, cost, d, cap, f, forced = _case(seed, inf_share)
    best = _brute(cost, d, cap, f, single, forced)
    res = _solved(best, lambda: capacitated_facility_location(cost, d, cap, f, single_source=single, forced=forced))
    if res is None:
        return
    _check(res, cost, d, cap, best, single)
    assert set(forced) <= set(res.facilities.tolist()) and res.status == "optimal"


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 2**32 - 1), st.booleans(), st.sampled_from([0.0, 0.3]), st.data())
def test_p_median_matches_brute_force(seed, single, inf_share, data):
    _, cost, d, cap, _, forced = _case(seed, inf_share)
    n = cost.shape[1]
    p = data.draw(st.integers(max(1, len(forced)), n))
    best = _brute(cost, d, cap, np.zeros(n), single, forced, p)
    res = _solved(best, lambda: capacitated_p_median(cost, p, d, cap, forced=forced, single_source=single))
    if res is None:
        return
    _check(res, cost, d, cap, best, single)
    assert len(res.facilities) == p and set(forced) <= set(res.facilities.tolist())


@pytest.mark.parametrize("seed", range(4))
def test_p_median_matches_spopt(seed):
    pulp = pytest.importorskip("pulp")
    spopt = pytest.importorskip("spopt.locate")
    rng = np.random.default_rng(seed)
    m, n, p = 30, 8, 3
    unit = np.round(rng.uniform(1, 50, (m, n)), 2)
    d = rng.integers(1, 10, m).astype(float)
    cap = np.full(n, np.ceil(d.sum() / p * 1.2))
    model = spopt.PMedian.from_cost_matrix(unit, d, p_facilities=p, facility_capacities=cap)
    model.solve(pulp.HiGHS(msg=False, gapRel=0.0))
    res = capacitated_p_median(unit * d[:, None], p, d, cap, single_source=True)
    assert res.status == "optimal"
    assert res.objective == pytest.approx(pulp.value(model.problem.objective), rel=1e-7)


@pytest.mark.parametrize("name", ["cap41", "cap71", "cap131"])
def test_or_library_published_optimum(name):
    inst = read_cap(CAP_DATA / f"{name}.txt")
    res = capacitated_facility_location(inst.cost, inst.demand, inst.capacity, inst.fixed_cost)
    assert res.status == "optimal"
    assert res.objective == pytest.approx(read_capopt(CAP_DATA / "capopt.txt")[(name, None)], abs=1e-3)


def test_or_library_files_read(tmp_path):
    optima = read_capopt(CAP_DATA / "capopt.txt")
    assert optima[("capa", 8000.0)] == 19240822.449 and optima[("capc", 7250.0)] == 11505767.394 and len(optima) == 49
    with pytest.raises(DataError, match="pass capacity="):
        read_cap(CAP_DATA / "capb.txt")
    inst = read_cap(CAP_DATA / "capb.txt", 5000)
    assert inst.cost.shape == (1000, 100) and (inst.capacity == 5000).all()
    bad = tmp_path / "cap.txt"
    bad.write_text("2 1\n10 5\n10 5\n3 1.0\n")
    with pytest.raises(DataError, match="expected 9 numbers for 2 warehouses and 1 customers, found 8"):
        read_cap(bad)


def test_bad_inputs_are_clear():
    cost = np.arange(12, dtype=float).reshape(3, 4)
    with pytest.raises(InfeasibleError, match="total capacity 6 is below total demand 9"):
        capacitated_facility_location(cost, [3, 3, 3], [1, 2, 1, 2], [1, 1, 1, 1])
    with pytest.raises(InfeasibleError, match="demand point 0 needs 5, more than any site it can reach can hold"):
        capacitated_facility_location(cost, [5, 1, 1], [4, 4, 4, 4], [1, 1, 1, 1], single_source=True)
    unreachable = cost.copy()
    unreachable[1] = np.inf
    with pytest.raises(InfeasibleError, match="demand point 1 has no site it can reach"):
        capacitated_facility_location(unreachable, [1, 1, 1], [4, 4, 4, 4], [1, 1, 1, 1])
    with pytest.raises(InputError, match=r"forced: site index 4 is out of range 0\.\.3"):
        capacitated_facility_location(cost, [1, 1, 1], [4, 4, 4, 4], [1, 1, 1, 1], forced=[4])
    with pytest.raises(InputError, match="forced: 3 sites must be open but p = 2"):
        capacitated_p_median(cost, 2, [1, 1, 1], [4, 4, 4, 4], forced=[0, 1, 2])
    with pytest.raises(InfeasibleError, match="total capacity of the 1 largest sites 4 is below total demand 6"):
        capacitated_p_median(cost, 1, [2, 2, 2], [4, 4, 4, 4])
    with pytest.raises(InputError, match="NaN or -inf"):
        capacitated_p_median(np.array([[1.0, np.nan]]), 1, [1], [1, 1])
