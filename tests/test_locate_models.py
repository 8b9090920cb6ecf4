"""p-center, set covering (plain and capacitated), p-dispersion and max coverage with forced sites and
unreachable pairs: against brute force over site subsets, against spopt, through GeoDataFrames, and bad inputs."""

from __future__ import annotations

import itertools
from pathlib import Path

import geopandas as gpd
import numpy as np
import pulp
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import linprog

from cluster_opt.errors import InfeasibleError, InputError
from cluster_opt.locate.orlib import read_pmed
from cluster_opt.locate import FrameResult, capacitated_facility_location, from_geodataframes, max_coverage, p_center, p_dispersion, p_median, set_covering

INF = np.inf
# spopt builds its variables in a way PuLP now warns about.
pytestmark = pytest.mark.filterwarnings("ignore:Constructing LpVariable:DeprecationWarning")


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
@given(instances(max_m=12, max_n=6))
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


def spread(d, s):
    return min([d[a, b] for a, b in itertools.combinations(s, 2)], default=INF)


@settings(max_examples=120, deadline=None)
@given(instances(max_n=7, square=True))
def test_p_dispersion_matches_brute_force(case):
    d, p, forced, _ = case
    n = len(d)
    best = max(spread(d, s) for s in subsets(n, p, forced))
    res = p_dispersion(d, p, forced)
    assert res.status == "optimal" and res.objective == best == spread(d, list(res.facilities))
    assert len(res.facilities) == p and set(forced if forced is not None else []) <= set(res.facilities)


# Against spopt: its own models (from_cost_matrix) solved by HiGHS through PuLP, on random planar instances.
@pytest.fixture(scope="module")
def spopt():
    return pytest.importorskip("spopt.locate")


def _planar(seed, m, n):
    rng = np.random.default_rng(seed)
    a, b = rng.uniform(0, 100, (m, 2)), rng.uniform(0, 100, (n, 2))
    return np.round(np.hypot(*(a[:, None] - b[None]).transpose(2, 0, 1)), 1), rng


def _spopt_objective(model):
    return model.solve(pulp.HiGHS(msg=False)).problem.objective.value()


def _mask(n, forced):
    out = np.zeros(n, dtype=int)
    out[forced] = 1
    return out


@pytest.mark.parametrize("seed", range(3))
def test_p_center_as_spopt(spopt, seed):
    cost, rng = _planar(seed, 30, 10)
    forced = rng.choice(10, seed, replace=False)
    ref = spopt.PCenter.from_cost_matrix(cost, 3, predefined_facilities_arr=_mask(10, forced) if seed else None)
    res = p_center(cost, 3, forced=forced)
    assert res.objective == pytest.approx(_spopt_objective(ref), rel=1e-3) and set(forced) <= set(res.facilities)


@pytest.mark.parametrize("seed", range(3))
def test_set_covering_as_spopt(spopt, seed):
    cost, rng = _planar(seed, 40, 15)
    cost[rng.random(cost.shape) < 0.2] = INF  # unreachable pairs; spopt reads them as "beyond the radius" too
    radius = float(np.sort(np.where(np.isfinite(cost), cost, 1e9).min(axis=1))[-1]) + 5
    forced = rng.choice(15, seed, replace=False)
    ref = spopt.LSCP.from_cost_matrix(cost, radius, predefined_facilities_arr=_mask(15, forced) if seed else None)
    assert set_covering(cost, radius, forced).objective == _spopt_objective(ref)


@pytest.mark.parametrize("seed", range(2))
def test_capacitated_set_covering_as_spopt(spopt, seed):
    cost, rng = _planar(seed, 25, 10)
    d = rng.integers(1, 10, 25).astype(float)
    cap = rng.integers(20, 60, 10).astype(float)
    ref = spopt.LSCP.from_cost_matrix(cost, 60.0, demand_quantity_arr=d, facility_capacity_arr=cap)
    res = set_covering(cost, 60.0, demand=d, capacity=cap)
    assert res.objective == _spopt_objective(ref)


@pytest.mark.parametrize("seed", range(3))
def test_p_dispersion_as_spopt(spopt, seed):
    pts = np.random.default_rng(seed).uniform(0, 100, (15, 2))
    d = np.round(np.hypot(*(pts[:, None] - pts[None]).transpose(2, 0, 1)), 1)
    forced = [seed] if seed else None
    ref = spopt.PDispersion.from_cost_matrix(d, 4, predefined_facilities_arr=_mask(15, forced) if seed else None)
    assert p_dispersion(d, 4, forced).objective == pytest.approx(_spopt_objective(ref), rel=1e-3)


@pytest.mark.parametrize("seed", range(3))
def test_max_coverage_as_spopt(spopt, seed):
    cost, rng = _planar(seed, 40, 12)
    cost[rng.random(cost.shape) < 0.2] = INF
    w = rng.integers(1, 20, 40).astype(float)
    forced = rng.choice(12, seed, replace=False)
    ref = spopt.MCLP.from_cost_matrix(cost, w, 25.0, 3, predefined_facilities_arr=_mask(12, forced) if seed else None)
    res = max_coverage(cost, 25.0, 3, w, forced)
    assert res.objective == pytest.approx(_spopt_objective(ref)) and set(forced) <= set(res.facilities)


# Through GeoDataFrames: the same answer as on the matrix the frames give, in the frames' labels.


@pytest.fixture(scope="module")
def frames():
    from shapely.geometry import box

    rng = np.random.default_rng(7)
    lon, lat = rng.uniform(-95, -80, 25), rng.uniform(35, 45, 25)
    demand = gpd.GeoDataFrame({"people": rng.integers(1, 9, 25)}, geometry=gpd.points_from_xy(lon, lat), crs=4326,
                              index=[f"county {i}" for i in range(25)])
    x, y = rng.uniform(-95, -80, 8), rng.uniform(35, 45, 8)
    sites = gpd.GeoDataFrame({"room": np.full(8, 40.0), "kept": [False, True] + [False] * 6},
                             geometry=[box(a, b, a + 0.3, b + 0.3) for a, b in zip(x, y)], crs=4326, index=list("ABCDEFGH"))
    return demand, sites


def _check_frame(out, demand, sites):
    assert isinstance(out, FrameResult) and list(out.sites) == list(sites.index[out.result.facilities])
    if out.assignment is not None:
        assert list(out.assignment.index) == list(demand.index)
        served = out.result.assignment >= 0
        assert list(out.assignment[served]) == list(sites.index[out.result.assignment[served]])


def test_p_center_from_geodataframes(frames):
    demand, sites = frames
    out = from_geodataframes("p_center", demand, sites, p=3, weights="people", forced="kept")
    cost = out.cost
    assert cost.shape == (25, 8) and 0 < cost.min() and cost.max() < 2500  # kilometres
    assert "B" in out.sites and out.objective == pytest.approx(p_center(cost, 3, demand["people"], [1]).objective)
    _check_frame(out, demand, sites)


def test_set_covering_from_geodataframes(frames):
    demand, sites = frames
    plain = from_geodataframes(set_covering, demand, sites, radius=700.0)
    full = from_geodataframes("set_covering", demand, sites, radius=700.0, demand="people", capacity="room")
    assert plain.objective == set_covering(plain.cost, 700.0).objective
    assert full.objective == set_covering(full.cost, 700.0, demand=demand["people"], capacity=sites["room"]).objective
    for out in (plain, full):
        _check_frame(out, demand, sites)


def test_max_coverage_from_geodataframes_in_a_projected_crs(frames):
    demand, sites = (f.to_crs(5070) for f in frames)  # metres
    out = from_geodataframes("max_coverage", demand, sites, radius=300_000.0, p=2, weights="people", forced=["C"])
    assert out.cost.max() > 1e5 and "C" in out.sites
    assert out.objective == max_coverage(out.cost, 300_000.0, 2, demand["people"], [2]).objective
    assert out.assignment.isna().sum() == (out.result.assignment < 0).sum()
    _check_frame(out, demand, sites)


def test_p_dispersion_from_geodataframes(frames):
    _, sites = frames
    out = from_geodataframes("p_dispersion", None, sites, p=3, forced="kept")
    assert out.cost.shape == (8, 8) and "B" in out.sites and out.assignment is None
    assert out.objective == p_dispersion(out.cost, 3, [1]).objective


def test_p_median_from_geodataframes(frames):
    demand, sites = frames
    out = from_geodataframes("p_median", demand, sites, p=2)
    assert out.objective == pytest.approx(p_median(out.cost, 2).objective)
    _check_frame(out, demand, sites)


def test_capacitated_facility_location_from_geodataframes(frames):
    demand, sites = frames
    out = from_geodataframes("capacitated_facility_location", demand, sites, demand="people", capacity="room",
                             fixed_cost=np.full(8, 500.0))
    ref = capacitated_facility_location(out.cost, demand["people"], sites["room"], np.full(8, 500.0))
    assert out.objective == pytest.approx(ref.objective)
    _check_frame(out, demand, sites)


ORLIB = Path(__file__).resolve().parents[2] / "shared" / "data" / "orlib"
# p-center optima of Beasley's p-median graphs, as published (Daskin 1995; Elloumi, Labbé & Pochet 2004).
PCENTER_OPTIMA = {"pmed1": 127, "pmed2": 98, "pmed3": 93, "pmed4": 74, "pmed5": 48}


@pytest.mark.skipif(not ORLIB.is_dir(), reason="../shared/data/orlib (OR-Library instances) is not beside this checkout")
@pytest.mark.parametrize("name", ["pmed2", "pmed5"])
def test_p_center_published_optimum(name):
    cost, p = read_pmed(ORLIB / f"{name}.txt")
    res = p_center(cost, p)
    assert res.status == "optimal" and res.objective == PCENTER_OPTIMA[name]


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
    (lambda: p_dispersion(np.ones((3, 4)), 2), "distance: expected a square site × site matrix"),
    (lambda: p_dispersion([[0, 1], [2, 0]], 2), "distance: expected a symmetric matrix"),
    (lambda: p_dispersion([[0, 1], [1, 0]], 1), "p-dispersion needs p ≥ 2"),
    (lambda: p_dispersion([[0, 1], [1, 0]], 3), "p = 3 is larger than the 2 candidate sites"),
    (lambda: p_dispersion([[0, 1], [1, 0]], 2, forced=[2]), "forced: site index 2 is out of range 0..1"),
]


@pytest.mark.parametrize("call, message", BAD, ids=[m for _, m in BAD])
def test_each_bad_argument_is_one_clear_line(call, message):
    with pytest.raises(InputError, match=message) as e:
        call()
    assert "\n" not in str(e.value)


def test_a_search_cut_short_says_so_and_keeps_its_best_answer(monkeypatch):
    """Solves that stop without an answer: the greedy solution comes back, marked, with a bound that holds."""
    from cluster_opt.locate import covering, dispersion
    from cluster_opt.model.backend import LinearResult

    stopped = LinearResult("time_limit", None, float("nan"), None, None, 0.0, 0.0)
    cost = np.random.default_rng(2).integers(0, 12, (8, 5)).astype(float)
    pts = np.random.default_rng(0).integers(0, 12, (7, 2))
    d = np.abs(pts[:, None] - pts[None]).sum(axis=2).astype(float)
    exact = p_center(cost, 2).objective, p_dispersion(d, 3).objective
    monkeypatch.setattr(covering, "solve_linear", lambda *a, **k: stopped)
    monkeypatch.setattr(dispersion, "solve_linear", lambda *a, **k: stopped)
    pc, pd = p_center(cost, 2), p_dispersion(d, 3)
    assert pc.status == pd.status == "time_limit"
    assert pc.bound <= exact[0] < pc.objective and pc.objective == cost[:, pc.facilities].min(axis=1).max()
    assert pd.objective <= exact[1] <= pd.bound and pd.objective == spread(d, list(pd.facilities))


def _frame_bad_inputs():
    from shapely.geometry import Point

    dem = gpd.GeoDataFrame({"w": [1, 2]}, geometry=[Point(0, 0), Point(1, 1)], crs=3857)
    sites = gpd.GeoDataFrame({"cap": [3, 4], "flag": [0, 2]}, geometry=[Point(0, 1), Point(2, 2)], crs=3857, index=["x", "y"])
    return [
        (lambda: from_geodataframes("p_centre", dem, sites, p=1), "model: unknown location model 'p_centre'.*did you mean \"p_center\""),
        (lambda: from_geodataframes("p_center", dem.drop(columns="w").to_numpy(), sites, p=1), "demand_points: expected a GeoDataFrame"),
        (lambda: from_geodataframes("p_center", dem.iloc[:0], sites, p=1), "demand_points: has no rows"),
        (lambda: from_geodataframes("p_center", dem, sites.to_crs(4326), p=1), "demand_points and sites: different CRS"),
        (lambda: from_geodataframes("p_center", dem, sites, p=1, weights="weight"), "weights: demand_points have no column 'weight'"),
        (lambda: from_geodataframes("p_center", dem, sites, p=1, radius=3), "radius: p_center takes no such argument"),
        (lambda: from_geodataframes("p_center", dem, sites, p=1, forced="flag"), "forced: column 'flag' of sites must hold True/False"),
        (lambda: from_geodataframes("p_center", dem, sites, p=1, forced=["z"]), "forced: site label 'z' is not in the sites' index"),
        (lambda: from_geodataframes("set_covering", dem, sites, radius=9, capacity="room"), "capacity: sites have no column 'room'"),
        (lambda: from_geodataframes("p_dispersion", dem, sites, p=2), "demand_points: p_dispersion measures between the sites only"),
        (lambda: from_geodataframes("p_center", dem.set_geometry([None, Point(0, 0)]), sites, p=1), "demand_points: row 0 has no geometry"),
    ]


def test_each_bad_frame_argument_is_one_clear_line():
    for call, message in _frame_bad_inputs():
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
