"""The location set covering problem (Toregas et al. 1971) and its capacitated form (spopt's ``LSCP`` with capacities)."""

from __future__ import annotations

import time

import numpy as np

from ..config import Solver
from ..errors import InfeasibleError, InputError
from ..model.backend import solve_linear
from ..model.linear import INF, LinearModel
from .inputs import check_amounts, check_costs, check_forced, check_radius, nearest_open, open_sites, solved, unreachable_point
from .result import LocateResult


def cover_model(reach: np.ndarray, forced: np.ndarray) -> tuple[LinearModel, np.ndarray]:
    """Fewest open sites such that every demand point (row) reaches one: min Σ y  s.t.  Σ_{j: reach_ij} y_j ≥ 1."""
    m, n = reach.shape
    lm = LinearModel(sense="min")
    y = open_sites(lm, n, forced)
    lm.obj[y] = 1.0
    ri, rj = np.nonzero(reach)
    lm.add_rows("cover", ri, y[rj], np.ones(len(ri)), 1.0, INF, m)
    return lm, y


def lazy_cover(reach: np.ndarray, forced: np.ndarray, rows: np.ndarray, solver: Solver, t0: float,
               most: int | None = None, top_up=None):
    """Set covering over the demand points in ``rows`` only, which relaxes the whole model, until its sites reach every point.

    The points an answer leaves out join ``rows`` (in place, so later calls keep them) and it
    is solved again. ``most``: give up as soon as the relaxation needs more sites (then so does
    the whole model); ``top_up(sites)``: the sites to check in place of the answer's own.
    Returns (sites or None, the last solve's result, solves, model size).
    """
    solves = 0
    while True:
        lm, y = cover_model(reach[rows], forced)
        left = solver.time_limit_s - (time.perf_counter() - t0)
        res = solve_linear(lm, solver.model_copy(update={"time_limit_s": max(left, 1.0)}))
        solves += 1
        size = (lm.n_vars, lm.n_rows)
        if res.values is None:
            return None, res, solves, size
        sites = np.flatnonzero(res.values[y] > 0.5)
        if most is not None and len(sites) > most:
            return None, res, solves, size
        sites = top_up(sites) if top_up else sites
        left_out = ~reach[:, sites].any(axis=1)
        if not left_out.any():
            return sites, res, solves, size
        rows |= left_out


def _capacitated_model(reach: np.ndarray, demand: np.ndarray, capacity: np.ndarray, forced: np.ndarray):
    """min Σ y  s.t.  Σ_j x_ij = 1 (i's demand fully served from sites within reach),
    Σ_i demand_i x_ij ≤ capacity_j y_j,  x_ij ≤ y_j,  x ≥ 0 on the pairs within reach only."""
    m, n = reach.shape
    lm = LinearModel(sense="min")
    y = open_sites(lm, n, forced)
    lm.obj[y] = 1.0
    ri, rj = np.nonzero(reach)
    k = len(ri)
    x = lm.add_vars("serve", k, binary=False)
    lm.add_rows("serve_all", ri, x, np.ones(k), 1.0, 1.0, m)
    lm.add_rows("capacity", np.concatenate([rj, np.arange(n)]), np.concatenate([x, y]),
                np.concatenate([demand[ri], -capacity]), -INF, 0.0, n)
    lm.add_rows("open_to_serve", np.concatenate([np.arange(k), np.arange(k)]), np.concatenate([x, y[rj]]),
                np.concatenate([np.ones(k), -np.ones(k)]), -INF, 0.0, k)
    return lm, y, x, ri, rj


def set_covering(cost, radius: float, forced=None, solver: Solver | None = None, *, demand=None,
                 capacity=None) -> LocateResult:
    """Open the fewest sites (the ``forced`` ones among them) so that every demand point has one within ``radius``.

    With ``capacity`` (and ``demand``, default 1 each), each demand point's demand must be fully
    served, possibly split, by open sites within ``radius``, no site beyond its capacity; ``flows``
    holds the shares. An infinite cost marks a site that can never serve that demand point.
    """
    t0 = time.perf_counter()
    c = check_costs(cost)
    m, n = c.shape
    radius = check_radius(radius)
    forced = check_forced(forced, n)
    if demand is not None and capacity is None:
        raise InputError("demand: given without capacity; a capacitated set covering needs both (or capacity alone: demand 1 each)")
    reach = c <= radius
    unreachable_point(reach, f"has no candidate site within radius {radius:,.6g}")
    if capacity is None:
        facilities, res, solves, size = lazy_cover(reach, forced, np.ones(m, dtype=bool), solver or Solver(), t0)
        if facilities is None:
            solved(res, "set covering")  # raises: the solver stopped without an answer
        assignment = nearest_open(c, facilities, radius)
        return LocateResult(float(len(facilities)), facilities, assignment, res.status, res.gap, res.bound,
                            time.perf_counter() - t0, solves, *size)
    d = np.ones(m) if demand is None else check_amounts("demand", demand, m)
    cap = check_amounts("capacity", capacity, n)
    if cap.sum() < d.sum():
        raise InfeasibleError(f"total capacity {cap.sum():,.6g} is below total demand {d.sum():,.6g}: no set of sites can serve all demand")
    near_cap = reach.astype(float) @ cap
    short = d > near_cap + 1e-9
    if short.any():
        i = int(np.argmax(short))
        raise InfeasibleError(f"demand point {i} needs {d[i]:,.6g}, more than the {near_cap[i]:,.6g} that the sites within radius {radius:,.6g} can hold")
    lm, y, x, ri, rj = _capacitated_model(reach, d, cap, forced)
    res = solve_linear(lm, solver)
    if res.status == "infeasible":
        raise InfeasibleError(f"capacitated set covering: even with every site open, the sites within radius {radius:,.6g} cannot hold all demand (demand points that share sites need more than those sites hold)")
    res = solved(res, "capacitated set covering")
    flows = np.zeros((m, n))
    flows[ri, rj] = res.values[x]
    flows[flows < 1e-9] = 0.0
    facilities = np.flatnonzero(res.values[y] > 0.5)
    assignment = np.argmax(flows, axis=1)
    return LocateResult(float(len(facilities)), facilities, assignment, res.status, res.gap, res.bound,
                        time.perf_counter() - t0, 1, lm.n_vars, lm.n_rows, flows)
