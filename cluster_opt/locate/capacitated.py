"""Capacitated location: fixed-charge facility location and the p-median with exactly p sites.

Both are solved the same way. A Lagrangian bound (capacitated_bound) proves sites open or closed
and, with drop/add/swap moves priced by a transportation LP (capacitated_start), gives a first
solution. The MIP then holds x ≤ y for every usable pair, the capacity rows and the aggregate row
Σ capacity·y ≥ Σ demand, is passed to HiGHS as arrays and starts from that solution. Each answer is
checked against the raw inputs before it is returned.
"""

from __future__ import annotations

import time

import numpy as np

from ..config import Solver
from ..errors import InfeasibleError, SolverError
from ..model.backend import solve_linear
from ..model.highs import ReusableHighs
from ..model.linear import INF, LinearModel
from .capacitated_bound import Problem, fix_sites, lagrangian_bound
from .capacitated_start import first_solution
from .inputs import check_amounts, check_costs, check_forced, check_p
from .result import LocateResult

START_SHARE = 0.25  # share of the time limit given to the bound and the first solution
NARROW_SHARE = 0.15  # share given to the MIP over the first solution's sites and the most promising others
NARROW_MIN = 20  # sites in that MIP, at least (twice the first solution's, if more)


def capacitated_facility_location(cost, demand, capacity, fixed_cost, single_source: bool = False,
                                  forced=None, solver: Solver | None = None) -> LocateResult:
    """Open sites and assign all demand within capacities at least fixed plus assignment cost.

    ``cost[i, j]`` is the cost of serving all of demand point i from site j (np.inf: site j cannot
    serve i); with multi-sourcing a demand point may be split across sites (``flows``), with
    ``single_source=True`` each is served by one site. ``forced``: indices of sites that must open.
    """
    prob = _problem(cost, demand, capacity, fixed_cost, forced, None, single_source)
    return _solve(prob, single_source, solver, "capacitated facility location")


def capacitated_p_median(cost, p, demand, capacity, forced=None, single_source: bool = False,
                         solver: Solver | None = None) -> LocateResult:
    """Open exactly p sites and assign all demand within capacities at least assignment cost.

    ``cost``, ``demand``, ``capacity``, ``single_source`` and ``forced`` as for
    :func:`capacitated_facility_location`; the forced sites count towards the p.
    """
    c = check_costs(cost)
    p = check_p(p, c.shape[1])
    prob = _problem(c, demand, capacity, np.zeros(c.shape[1]), forced, p, single_source)
    return _solve(prob, single_source, solver, "capacitated p-median")


def _problem(cost, demand, capacity, fixed_cost, forced, p, single_source) -> Problem:
    c = check_costs(cost)
    m, n = c.shape
    d, cap, f = check_amounts("demand", demand, m), check_amounts("capacity", capacity, n), check_amounts("fixed_cost", fixed_cost, n)
    must = np.zeros(n, bool)
    must[check_forced(forced, n, p)] = True
    reach = np.isfinite(c)
    if single_source:
        reach &= d[:, None] <= cap[None, :]
    lost = np.flatnonzero(~reach.any(axis=1))
    if len(lost):
        i = int(lost[0])
        why = f"needs {d[i]:,.6g}, more than any site it can reach can hold" if single_source and np.isfinite(c[i]).any() else "has no site it can reach (every cost is infinite)"
        raise InfeasibleError(f"demand point {i} {why}; no assignment can serve all demand")
    most = np.sort(cap[~must])[::-1][:None if p is None else p - int(must.sum())].sum() + cap[must].sum()
    if most < d.sum() - 1e-9 * max(1.0, d.sum()):
        within = "" if p is None else f" of the {p} largest sites"
        raise InfeasibleError(f"total capacity{within} {most:,.6g} is below total demand {d.sum():,.6g}: no assignment can serve all demand")
    return Problem(np.where(reach, c, np.inf), d, cap, f, must, p)


def _solve(prob: Problem, single_source: bool, solver: Solver | None, name: str) -> LocateResult:
    t0 = time.perf_counter()
    cfg = solver or Solver()
    # The first solution splits demand: with single-sourcing its cost is no ground for fixing sites.
    inc, bound = first_solution(prob, lambda cb, until: lagrangian_bound(prob, on_sites=cb, fix=not single_source, deadline=until),
                                START_SHARE * cfg.time_limit_s)
    open_mask, flows = inc.open, inc.flows
    if single_source and open_mask is not None:
        flows = single_assignment(prob, open_mask)
    start_cost = _cost(prob, open_mask, flows) if flows is not None else np.inf
    if single_source and np.isfinite(start_cost):
        fix_sites(prob, bound.u, bound.site_value, start_cost, bound.fixed_open, bound.fixed_closed)
    ref = next((v for v in (start_cost, bound.value) if np.isfinite(v)), 1.0)
    tol = max(cfg.mip_gap * abs(ref), 1e-9 * max(1.0, abs(ref)))
    if start_cost - bound.value <= tol:  # the first solution is proven optimal by the bound
        return _result(prob, open_mask, flows, single_source, "optimal", bound.value, t0, 0, 0)
    if open_mask is not None and cfg.time_limit_s - (time.perf_counter() - t0) > 2 * NARROW_SHARE * cfg.time_limit_s:
        # The MIP over the incumbent's sites and the next most promising ones, briefly: a better start.
        rank = np.argsort(np.where(bound.fixed_closed, np.inf, bound.site_value), kind="stable")
        keep = open_mask.copy()
        keep[rank[:max(NARROW_MIN, 2 * int(open_mask.sum()))]] = True
        _, _, o, fl = _mip(prob, single_source, bound.fixed_open, bound.fixed_closed | ~keep, open_mask, flows,
                           cfg, NARROW_SHARE * cfg.time_limit_s)
        if fl is not None and _cost(prob, o, fl) < start_cost - tol:
            open_mask, flows, start_cost = o, fl, _cost(prob, o, fl)
            fix_sites(prob, bound.u, bound.site_value, start_cost, bound.fixed_open, bound.fixed_closed)
    res, lm, got_open, got = _mip(prob, single_source, bound.fixed_open, bound.fixed_closed, open_mask, flows,
                                  cfg, cfg.time_limit_s - (time.perf_counter() - t0))
    if res.status == "infeasible":
        raise InfeasibleError(f"{name}: no choice of sites serves all demand within capacities")
    if got is None:
        if flows is None:
            raise SolverError(f"{name}: the solver stopped without a solution (status: {res.status}); allow more time")
        return _result(prob, open_mask, flows, single_source, "time_limit", bound.value, t0, lm.n_vars, lm.n_rows)
    if start_cost < _cost(prob, got_open, got) - tol:
        got_open, got = open_mask, flows
    lower = max(bound.value, res.bound if res.bound is not None else -np.inf)
    return _result(prob, got_open, got, single_source, res.status, lower, t0, lm.n_vars, lm.n_rows)


def _mip(prob: Problem, single_source: bool, fixed_open, fixed_closed, open_mask, flows, cfg: Solver, seconds: float):
    """(solver result, model, open sites, shares) of the MIP over the sites not fixed closed, from the
    given solution; the last two are None when the solver found none."""
    lm, y, x, pairs = _model(prob, single_source, fixed_open, fixed_closed)
    start = None
    if flows is not None:
        start = np.zeros(lm.n_vars)
        start[y] = open_mask
        start[x] = flows[pairs]
    res = _run(lm, cfg.model_copy(update={"time_limit_s": max(1.0, seconds)}), start)
    if res.values is None:
        return res, lm, None, None
    got = np.zeros(prob.cost.shape)
    got[pairs] = np.clip(res.values[x], 0.0, 1.0)
    if single_source:
        got = np.where(got > 0.5, 1.0, 0.0)
    return res, lm, res.values[y] > 0.5, got


def _model(prob: Problem, single_source: bool, fixed_open, fixed_closed) -> tuple[LinearModel, np.ndarray, np.ndarray, tuple]:
    """The MIP over the sites not fixed closed: columns y (sites) then x (usable pairs)."""
    m, n = prob.cost.shape
    usable = np.isfinite(prob.cost) & ~fixed_closed[None, :]
    pi, pj = np.nonzero(usable)
    k = len(pi)
    lm = LinearModel(sense="min")
    lb = np.where(fixed_open | prob.forced, 1.0, 0.0)
    y = lm.add_vars("open", n, obj=prob.fixed_cost, lb=lb, ub=np.where(fixed_closed, 0.0, 1.0))
    x = lm.add_vars("serve", k, obj=prob.cost[pi, pj], binary=single_source)
    lm.add_rows("serve_all", pi, x, np.ones(k), 1.0, 1.0, m)
    lm.add_rows("capacity", np.concatenate([pj, np.arange(n)]), np.concatenate([x, y]),
                np.concatenate([prob.demand[pi], -prob.capacity]), -INF, 0.0, n)
    lm.add_rows("open_to_serve", np.concatenate([np.arange(k), np.arange(k)]), np.concatenate([x, y[pj]]),
                np.concatenate([np.ones(k), -np.ones(k)]), -INF, 0.0, k)
    lm.add_rows("enough_capacity", np.zeros(n, int), y, prob.capacity, prob.total_demand, INF, 1)
    if prob.p is not None:
        lm.add_rows("p_sites", np.zeros(n, int), y, np.ones(n), prob.p, prob.p, 1)
    return lm, y, x, (pi, pj)


def _run(lm: LinearModel, cfg: Solver, start: np.ndarray | None):
    """Solve: HiGHS from arrays, CBC through PuLP."""
    if cfg.name != "highs":
        return solve_linear(lm, cfg, start)
    rh = ReusableHighs(lm, cfg, options={"presolve": "off" if cfg.presolve == "off" else "on"}, relax_first=False)
    if start is not None:
        rh.warm_start(start)
    return rh.solve()


def single_assignment(prob: Problem, open_mask: np.ndarray) -> np.ndarray | None:
    """Each demand point to one open site, largest demands first, cheapest site with room left (None if one has none)."""
    m, n = prob.cost.shape
    room = np.where(open_mask, prob.capacity, 0.0)
    flows = np.zeros((m, n))
    for i in np.argsort(-prob.demand, kind="stable"):
        fits = np.flatnonzero(open_mask & (room >= prob.demand[i] - 1e-9) & np.isfinite(prob.cost[i]))
        if not len(fits):
            return None
        j = fits[np.argmin(prob.cost[i, fits])]
        room[j] -= prob.demand[i]
        flows[i, j] = 1.0
    return flows


def _cost(prob: Problem, open_mask, flows) -> float:
    used = flows > 0
    return float(prob.fixed_cost[open_mask].sum() + (np.where(used, prob.cost, 0.0) * flows).sum())


def check_solution(prob: Problem, open_mask: np.ndarray, flows: np.ndarray, single_source: bool) -> float:
    """The solution's cost from the raw inputs, after checking it serves all demand within capacities."""
    tol = 1e-6
    if (flows < -tol).any() or not np.allclose(flows.sum(axis=1), 1.0, atol=tol):
        raise SolverError("the solution does not serve each demand point exactly once")
    if ((flows > tol) & ~open_mask[None, :]).any() or ((flows > tol) & ~np.isfinite(prob.cost)).any():
        raise SolverError("the solution serves demand from a closed site or over an unusable pair")
    load = prob.demand @ flows
    if (load > prob.capacity * (1 + tol) + tol).any():
        raise SolverError(f"the solution loads site {int(np.argmax(load - prob.capacity))} beyond its capacity")
    if (prob.forced & ~open_mask).any():
        raise SolverError("the solution leaves a forced site closed")
    if prob.p is not None and int(open_mask.sum()) != prob.p:
        raise SolverError(f"the solution opens {int(open_mask.sum())} sites, not p = {prob.p}")
    if single_source and not np.all((flows < tol) | (flows > 1 - tol)):
        raise SolverError("the solution splits a demand point across sites")
    return _cost(prob, open_mask, flows)


def _result(prob, open_mask, flows, single_source, status, lower, t0, n_vars, n_rows) -> LocateResult:
    flows = np.where(flows < 1e-9, 0.0, flows)
    objective = check_solution(prob, open_mask, flows, single_source)
    # Sites the solver opened without serving anything cost their fixed charge only: close them.
    idle = open_mask & (flows.sum(axis=0) == 0) & ~prob.forced & (prob.fixed_cost > 0)
    if prob.p is None and idle.any():
        open_mask = open_mask & ~idle
        objective = check_solution(prob, open_mask, flows, single_source)
    lower = min(float(lower), objective) if np.isfinite(lower) else None
    gap = 0.0 if status == "optimal" else (None if lower is None else (objective - lower) / max(abs(objective), 1e-12))
    return LocateResult(objective, np.flatnonzero(open_mask), np.argmax(flows, axis=1), status, gap, lower,
                        time.perf_counter() - t0, 1, n_vars, n_rows, flows)

