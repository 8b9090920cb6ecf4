"""p-median against brute force (both methods, unreachable pairs, forced sites), the OR-Library optima, and bad inputs."""

from __future__ import annotations

import itertools
import os
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cluster_opt.config import Solver
from cluster_opt.errors import InfeasibleError, InputError
from cluster_opt.locate import p_median
from cluster_opt.locate.orlib import OPTIMA, read_pmed

# Beasley's instances beside the checkout, or where ORLIB_DIR points.
ORLIB = Path(os.environ.get("ORLIB_DIR") or Path(__file__).resolve().parents[2] / "shared" / "data" / "orlib")


def brute_pmedian(cost, w, p, forced=()):
    """Best weighted cost over every choice of p sites holding ``forced``; inf when none reaches every demand point."""
    m, n = cost.shape
    best = np.inf
    for s in itertools.combinations(range(n), p):
        if not set(forced) <= set(s):
            continue
        d = cost[:, list(s)].min(axis=1)
        if np.isfinite(d).all():
            best = min(best, float(w @ d))
    return best


@st.composite
def cases(draw, max_m=9, max_n=7):
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    m, n = draw(st.integers(1, max_m)), draw(st.integers(1, max_n))
    if draw(st.booleans()):
        cost = rng.integers(0, 12, (m, n)).astype(float)  # small integers: many ties, the hard case for levels
    else:
        cost = np.round(rng.uniform(0, 50, (m, n)), 3)
    if draw(st.booleans()):
        cost[rng.random((m, n)) < draw(st.sampled_from([0.2, 0.5]))] = np.inf
    w = np.round(rng.uniform(0, 3, m), 2) if draw(st.booleans()) else np.ones(m)
    p = draw(st.integers(1, n))
    forced = sorted(rng.choice(n, size=draw(st.integers(0, min(p, 2))), replace=False).tolist())
    return cost, w, p, forced


@settings(max_examples=250, deadline=None)
@given(cases(), st.sampled_from(["benders", "levels"]), st.sampled_from([None, 1, 2]))
def test_p_median_matches_brute_force(case, method, levels):
    cost, w, p, forced = case
    m = len(cost)
    best = brute_pmedian(cost, w, p, forced)
    if not np.isfinite(cost).any(axis=1).all() or not np.isfinite(best):
        with pytest.raises(InfeasibleError, match="p-median: "):
            p_median(cost, p, w, forced=forced, method=method, levels=levels)
        return
    res = p_median(cost, p, w, forced=forced, method=method, levels=levels)
    assert res.status == "optimal"
    assert res.objective == pytest.approx(best, abs=1e-6)
    assert res.bound is not None and res.bound <= best + 1e-6 and res.bound >= best - 1e-6 * max(1.0, best)
    assert len(res.facilities) == p and set(forced) <= set(res.facilities.tolist())
    assert (w * cost[np.arange(m), res.assignment]).sum() == pytest.approx(best, abs=1e-6)


def test_unreachable_demand_point_is_one_line():
    cost = np.array([[1.0, 2.0], [np.inf, np.inf], [3.0, 1.0]])
    with pytest.raises(InfeasibleError, match=r"^p-median: demand point 1 cannot be reached from any site"):
        p_median(cost, 1)
    # Each point is reachable, but no single site reaches both.
    with pytest.raises(InfeasibleError, match=r"^p-median: no choice of 1 sites reaches every demand point$"):
        p_median(np.array([[1.0, np.inf], [np.inf, 1.0]]), 1)
    assert p_median(np.array([[1.0, np.inf], [np.inf, 1.0]]), 2).objective == 2.0


def test_bad_inputs_are_clear():
    cost = np.arange(12, dtype=float).reshape(3, 4)
    with pytest.raises(InputError, match="p = 5 is larger than the 4 candidate sites"):
        p_median(cost, 5)
    with pytest.raises(InputError, match="NaN"):
        p_median(np.array([[1.0, np.nan]]), 1)
    with pytest.raises(InputError, match="weights"):
        p_median(cost, 1, weights=[1, -1, 1])
    with pytest.raises(InputError, match=r"forced: site index 4 is out of range 0\.\.3"):
        p_median(cost, 2, forced=[4])
    with pytest.raises(InputError, match="forced: 3 sites must be open but p = 2"):
        p_median(cost, 2, forced=[0, 1, 2])
    with pytest.raises(InputError, match="method: expected one of"):
        p_median(cost, 2, method="fast")


needs_orlib = pytest.mark.skipif(not ORLIB.is_dir(), reason="OR-Library instances: neither ../shared/data/orlib nor ORLIB_DIR")


@needs_orlib
@pytest.mark.parametrize("name,method", [("pmed1", "auto"), ("pmed1", "levels"), ("pmed5", "auto"), ("pmed5", "benders")])
def test_or_library_published_optimum(name, method):
    cost, p = read_pmed(ORLIB / f"{name}.txt")
    assert cost.shape == (100, 100)
    res = p_median(cost, p, method=method)
    assert res.status == "optimal" and res.objective == OPTIMA[name] and res.bound == OPTIMA[name]


@needs_orlib
def test_or_library_few_sites_proven_optimal():
    """pmed16 (400 vertices, p = 5): the radius LP leaves a gap that fixing and the integer phase close."""
    cost, p = read_pmed(ORLIB / "pmed16.txt")
    res = p_median(cost, p, solver=Solver(threads=1, time_limit_s=60))
    assert res.status == "optimal" and res.objective == OPTIMA["pmed16"] and res.bound == OPTIMA["pmed16"]


@needs_orlib
def test_cbc_finds_the_same_optimum():
    cost, p = read_pmed(ORLIB / "pmed5.txt")
    assert p_median(cost, p, solver=Solver(name="cbc")).objective == OPTIMA["pmed5"]
