"""Coverage and capacitated location against brute force, and bad inputs (p-median: test_locate_pmedian.py)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import linprog

from cluster_opt.errors import InfeasibleError, InputError
from cluster_opt.locate import capacitated_facility_location, great_circle_matrix, max_coverage


@st.composite
def matrices(draw, max_m=8, max_n=6):
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    m, n = draw(st.integers(1, max_m)), draw(st.integers(1, max_n))
    cost = rng.integers(0, 12, (m, n)).astype(float)  # small integers: many ties, the hard case for levels
    w = np.round(rng.uniform(0, 3, m), 2) if draw(st.booleans()) else None
    return cost, w, rng


@settings(max_examples=100, deadline=None)
@given(matrices(), st.data())
def test_max_coverage_matches_brute_force(case, data):
    cost, w, rng = case
    m, n = cost.shape
    p = data.draw(st.integers(1, n))
    radius = data.draw(st.sampled_from([0.0, 3.0, 6.0, 11.0]))
    res = max_coverage(cost, radius, p, w)
    ww = np.ones(m) if w is None else w
    best = max((ww * (cost[:, list(s)].min(axis=1) <= radius)).sum() for s in itertools.combinations(range(n), p))
    assert res.objective == pytest.approx(best, abs=1e-6)
    covered = res.assignment >= 0
    assert (cost[np.flatnonzero(covered), res.assignment[covered]] <= radius).all()


def _cfl_brute(cost, d, cap, f, single):
    m, n = cost.shape
    best = np.inf
    for k in range(1, n + 1):
        for s in itertools.combinations(range(n), k):
            s = list(s)
            if cap[s].sum() < d.sum():
                continue
            if single:
                for assign in itertools.product(s, repeat=m):
                    load = np.bincount(assign, weights=d, minlength=n)
                    if (load <= cap + 1e-9).all():
                        best = min(best, f[s].sum() + cost[np.arange(m), assign].sum())
            else:
                # Transportation LP over the open sites: x[i, j] shares, Σ_j x = 1, Σ_i d x ≤ cap.
                k_ = len(s)
                c = cost[:, s].reshape(-1)
                a_eq = np.kron(np.eye(m), np.ones(k_))
                a_ub = np.zeros((k_, m * k_))
                for i in range(m):
                    a_ub[:, i * k_:(i + 1) * k_] = np.eye(k_) * d[i]
                r = linprog(c, A_ub=a_ub, b_ub=cap[s], A_eq=a_eq, b_eq=np.ones(m), bounds=(0, 1), method="highs")
                if r.status == 0:
                    best = min(best, f[s].sum() + r.fun)
    return best


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 2**32 - 1), st.booleans())
def test_capacitated_matches_brute_force(seed, single):
    rng = np.random.default_rng(seed)
    m, n = int(rng.integers(1, 5)), int(rng.integers(1, 4))
    cost = rng.integers(0, 20, (m, n)).astype(float)
    d = rng.integers(1, 6, m).astype(float)
    cap = rng.integers(2, 12, n).astype(float)
    f = rng.integers(0, 15, n).astype(float)
    best = _cfl_brute(cost, d, cap, f, single)
    if not np.isfinite(best):
        with pytest.raises(InfeasibleError):
            capacitated_facility_location(cost, d, cap, f, single_source=single)
        return
    res = capacitated_facility_location(cost, d, cap, f, single_source=single)
    assert res.objective == pytest.approx(best, abs=1e-6)
    assert np.allclose(res.flows.sum(axis=1), 1.0)
    assert (res.flows.T @ d <= cap + 1e-6).all()


def test_bad_inputs_are_clear():
    cost = np.arange(12, dtype=float).reshape(3, 4)
    with pytest.raises(InputError, match="p = 9 is larger"):
        max_coverage(cost, 3.0, 9)
    with pytest.raises(InputError, match="NaN"):
        max_coverage(np.array([[1.0, np.nan]]), 1.0, 1)
    with pytest.raises(InfeasibleError, match="total capacity 6 is below total demand 9"):
        capacitated_facility_location(cost, [3, 3, 3], [1, 2, 1, 2], [1, 1, 1, 1])
    with pytest.raises(InfeasibleError, match="more than the largest site capacity"):
        capacitated_facility_location(cost, [5, 1, 1], [4, 4, 4, 4], [1, 1, 1, 1], single_source=True)
    with pytest.raises(InputError, match="weights"):
        max_coverage(cost, 1.0, 1, weights=[1, -1, 1])


def test_great_circle_matrix_shape_and_symmetry():
    lat, lon = np.array([46.78, 42.33, 41.88]), np.array([-92.10, -83.05, -87.63])
    d = great_circle_matrix(lat, lon, lat, lon)
    assert d.shape == (3, 3) and np.allclose(d, d.T) and np.allclose(np.diag(d), 0)
    assert 850 < d[0, 1] < 900  # Duluth - Detroit
