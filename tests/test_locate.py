"""Maximal coverage against brute force, great-circle distances, and bad inputs (p-median, capacitated location
and the other models are tested in files of their own)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cluster_opt.errors import InputError
from cluster_opt.locate import great_circle_matrix, max_coverage


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


def test_bad_inputs_are_clear():
    cost = np.arange(12, dtype=float).reshape(3, 4)
    with pytest.raises(InputError, match="p = 9 is larger"):
        max_coverage(cost, 3.0, 9)
    with pytest.raises(InputError, match="NaN"):
        max_coverage(np.array([[1.0, np.nan]]), 1.0, 1)
    with pytest.raises(InputError, match="weights"):
        max_coverage(cost, 1.0, 1, weights=[1, -1, 1])


def test_great_circle_matrix_shape_and_symmetry():
    lat, lon = np.array([46.78, 42.33, 41.88]), np.array([-92.10, -83.05, -87.63])
    d = great_circle_matrix(lat, lon, lat, lon)
    assert d.shape == (3, 3) and np.allclose(d, d.T) and np.allclose(np.diag(d), 0)
    assert 850 < d[0, 1] < 900  # Duluth - Detroit


@pytest.mark.parametrize("p", ["3", None, float("nan"), 2.5, True])
def test_a_p_that_is_not_a_whole_number_is_one_line(p):
    with pytest.raises(InputError, match=r"^p: expected a whole number ≥ 1, got "):
        max_coverage(np.ones((3, 3)), 1.0, p)


def test_amounts_say_which_entry_is_wrong():
    from cluster_opt.locate import capacitated_facility_location

    with pytest.raises(InputError, match=r"^capacity: expected 3 finite numbers ≥ 0; entry 1 is -2.0$"):
        capacitated_facility_location(np.ones((2, 3)), [1, 1], [4, -2, 4], [1, 1, 1])
    with pytest.raises(InputError, match=r"^demand: expected 2 finite numbers ≥ 0, got 3$"):
        capacitated_facility_location(np.ones((2, 3)), [1, 1, 1], [4, 4, 4], [1, 1, 1])
