"""Classic location models on plain cost matrices (rows: demand points, columns: candidate sites).

Each is an exact MILP built from arrays, handed to PuLP and solved by HiGHS (CBC
selectable), and returns a :class:`LocateResult`.

- :func:`p_median`: the radius formulation (Elloumi 2010; García, Labbé & Marín
  2011), truncated to each client's nearest distance levels and enlarged until
  an optimality certificate holds, so large instances never build n² variables.
- :func:`max_coverage`: the maximal covering location problem (Church & ReVelle 1974).
- :func:`capacitated_facility_location`: fixed-charge capacitated location with
  multi- or single-sourcing, with the strong linking rows x ≤ y.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from ..config import Solver
from ..errors import InfeasibleError, InputError, SolverError
from ..geo import haversine_km
from ..model.backend import solve_linear
from ..model.linear import INF, LinearModel

__all__ = ["LocateResult", "p_median", "max_coverage", "capacitated_facility_location", "great_circle_matrix"]


@dataclass
class LocateResult:
    """What a location model chose, and how sure the solver is."""

    objective: float
    facilities: np.ndarray  # column indices of the open sites, ascending
    assignment: np.ndarray  # per demand point: the site (column) serving it, -1 if none
    status: str  # "optimal" or "time_limit"
    gap: float | None
    bound: float | None
    seconds: float
    iterations: int = 1
    variables: int = 0
    constraints: int = 0
    flows: np.ndarray | None = field(default=None, repr=False)  # capacitated: share of each demand served by each site


def great_circle_matrix(lat_a, lon_a, lat_b, lon_b) -> np.ndarray:
    """Great-circle kilometres between every point of a (rows) and of b (columns)."""
    return haversine_km(np.asarray(lat_a, float)[:, None], np.asarray(lon_a, float)[:, None],
                        np.asarray(lat_b, float)[None, :], np.asarray(lon_b, float)[None, :])


def _check_matrix(cost, name: str = "cost") -> np.ndarray:
    c = np.asarray(cost, dtype=float)
    if c.ndim != 2 or c.shape[0] == 0 or c.shape[1] == 0:
        raise InputError(f"{name}: expected a 2-D matrix (demand points × candidate sites), got shape {c.shape}")
    if not np.isfinite(c).all():
        raise InputError(f"{name}: has NaN or infinite entries; expected finite costs (use a large number for 'unreachable')")
    return c


def _weights(weights, m: int) -> np.ndarray:
    if weights is None:
        return np.ones(m)
    w = np.asarray(weights, dtype=float).reshape(-1)
    if len(w) != m or not np.isfinite(w).all() or (w < 0).any():
        raise InputError(f"weights: expected {m} finite numbers ≥ 0 (one per demand point)")
    return w


def _check_p(p, n: int) -> int:
    if int(p) != p or p < 1:
        raise InputError(f"p: expected a whole number ≥ 1, got {p}")
    if p > n:
        raise InputError(f"p = {p} is larger than the {n} candidate sites")
    return int(p)


def _solved(res, name: str):
    if res.status == "infeasible":
        raise InfeasibleError(f"{name}: no solution meets the constraints")
    if res.values is None:
        raise SolverError(f"{name}: the solver stopped without a solution (status: {res.status}); allow more time")
    return res


# --------------------------------------------------------------------------- p-median


def _distance_levels(cost: np.ndarray):
    """Per client, the sites sorted by cost and each entry's distinct-distance level (0 = nearest)."""
    order = np.argsort(cost, axis=1, kind="stable")
    srt = np.take_along_axis(cost, order, axis=1)
    step = np.diff(srt, axis=1) > 0
    level = np.concatenate([np.zeros((cost.shape[0], 1), dtype=np.int64), np.cumsum(step, axis=1)], axis=1)
    return order, srt, level


def _pmedian_model(cost, w, p, order, srt, level, K):
    """Radius formulation truncated at level K_i for client i (a lower bound of the true cost).

    z[i,k] (k = 1..K_i) = 1 when no open site lies below distance level k of client i:
        z[i,1] + Σ_{j at level 0} y_j ≥ 1,   z[i,k] + Σ_{j at level k-1} y_j ≥ z[i,k-1].
    Cost: Σ_i w_i (D_i^0 + Σ_k (D_i^k − D_i^{k−1}) z[i,k]).
    """
    m, n = cost.shape
    lm = LinearModel(sense="min")
    y = lm.add_vars("open", n)
    # Distinct distances per level: the first sorted entry of each level.
    first = np.ones_like(level, dtype=bool)
    first[:, 1:] = np.diff(level, axis=1) > 0
    li, pos = np.nonzero(first)
    lv = level[li, pos]
    dist = srt[li, pos]
    keep = (lv >= 1) & (lv <= K[li])
    zi, zk = li[keep], lv[keep]
    # z rows are ordered by (i, k) because np.nonzero walks row-major.
    step = dist[keep] - dist[np.flatnonzero(keep) - 1]
    z = lm.add_vars("far", len(zi), obj=w[zi] * step, binary=False)
    start = np.concatenate([[0], np.cumsum(np.bincount(zi, minlength=m))[:-1]])  # first z row of each client
    nz = len(zi)
    rows = np.arange(nz)
    # y terms: entries of client i at level k-1 go to row (i, k).
    ei, ep = np.nonzero(level < K[:, None])
    el = level[ei, ep]
    erow = start[ei] + el  # row index of (i, el+1)
    # previous-z terms: row (i, k) with k ≥ 2 has -z[i,k-1].
    prev = zk >= 2
    r_rows = np.concatenate([rows, erow, rows[prev]])
    r_cols = np.concatenate([z, y[order[ei, ep]], z[rows[prev] - 1]])
    r_vals = np.concatenate([np.ones(nz), np.ones(len(erow)), -np.ones(int(prev.sum()))])
    lo = np.where(zk == 1, 1.0, 0.0)
    lm.add_rows("radius", r_rows, r_cols, r_vals, lo, INF, nz)
    lm.add_rows("p_sites", np.zeros(n, int), y, np.ones(n), p, p, 1)
    const = float((w * srt[:, 0]).sum())
    return lm, y, z, zi, zk, const


def _greedy_swap(c: np.ndarray, w: np.ndarray, p: int) -> np.ndarray:
    """A good p-median solution: greedy addition, then single swaps until none improves (Teitz-Bart)."""
    m, n = c.shape
    chosen: list[int] = []
    best = np.full(m, np.inf)
    for _ in range(p):
        total = w @ np.minimum(best[:, None], c)
        total[chosen] = np.inf
        j = int(np.argmin(total))
        chosen.append(j)
        best = np.minimum(best, c[:, j])
    current = float(w @ best)
    for _ in range(50 * p):
        improved = False
        for a in range(p):
            others = [chosen[b] for b in range(p) if b != a]
            base = c[:, others].min(axis=1) if others else np.full(m, np.inf)
            total = w @ np.minimum(base[:, None], c)
            total[others] = np.inf
            j = int(np.argmin(total))
            if total[j] < current - 1e-9 * max(1.0, abs(current)):
                chosen[a], current, improved = j, float(total[j]), True
        if not improved:
            break
    return np.array(sorted(chosen))


def p_median(cost, p: int, weights=None, solver: Solver | None = None, levels: int | None = None) -> LocateResult:
    """Open exactly p sites minimizing Σ_i weight_i × cost to the nearest open site.

    The truncated radius model (each client's nearest ``levels`` distance levels, default
    n/p + 1) is a relaxation: its bound is a lower bound of the true optimum. A greedy-swap
    solution starts the search; every solution's true cost is kept, and the best one is
    proven optimal once a bound reaches it. Otherwise the clients served beyond their levels
    get more levels and the model is solved again, within one overall time limit.
    """
    t0 = time.perf_counter()
    solver = solver or Solver()
    c = _check_matrix(cost)
    m, n = c.shape
    p = _check_p(p, n)
    w = _weights(weights, m)
    order, srt, level = _distance_levels(c)
    rank = np.argsort(order, axis=1)  # rank[i, j]: position of site j in client i's sorted list
    top = level[:, -1]
    K = np.minimum(top, levels if levels is not None else int(np.ceil(n / p)) + 1)
    K = np.maximum(K, np.minimum(top, 1))
    inc = _greedy_swap(c, w, p)
    inc_cost = float(w @ c[:, inc].min(axis=1))
    bound, status, it = -np.inf, "time_limit", 0
    while True:
        it += 1
        lm, y, z, zi, zk, const = _pmedian_model(c, w, p, order, srt, level, K)
        served = level[np.arange(m), rank[np.arange(m), inc[np.argmin(c[:, inc], axis=1)]]]
        start = np.zeros(lm.n_vars)
        start[y[inc]] = 1.0
        start[z] = (zk <= served[zi]).astype(float)
        left = solver.time_limit_s - (time.perf_counter() - t0)
        res = _solved(solve_linear(lm, solver.model_copy(update={"time_limit_s": max(left, 1.0)}), start), "p-median")
        facilities = np.flatnonzero(res.values[y] > 0.5)
        true = float(w @ c[:, facilities].min(axis=1))
        if true < inc_cost - 1e-12:
            inc, inc_cost = facilities, true
        if res.bound is not None:
            bound = max(bound, res.bound + const if res.status != "optimal" else res.objective + const)
        if inc_cost <= bound + 1e-9 * max(1.0, abs(inc_cost)):
            status = "optimal"
            break
        if res.status != "optimal" or time.perf_counter() - t0 >= solver.time_limit_s:
            break
        assigned = facilities[np.argmin(c[:, facilities], axis=1)]
        short = level[np.arange(m), rank[np.arange(m), assigned]] > K  # modeled as level K, truly farther
        if not short.any():  # cannot happen: then the model's cost is the true cost and the bound meets it
            break
        lvl = level[np.arange(m), rank[np.arange(m), assigned]]
        K = np.where(short, np.minimum(top, np.maximum(2 * K, lvl + 1)), K)
    assignment = inc[np.argmin(c[:, inc], axis=1)]
    gap = 0.0 if status == "optimal" else (abs(inc_cost - bound) / max(abs(inc_cost), 1e-12) if np.isfinite(bound) else None)
    return LocateResult(inc_cost, inc, assignment, status, gap, float(bound) if np.isfinite(bound) else None,
                        time.perf_counter() - t0, it, lm.n_vars, lm.n_rows)


# --------------------------------------------------------------------------- maximal covering


def max_coverage(cost, radius: float, p: int, weights=None, solver: Solver | None = None) -> LocateResult:
    """Open exactly p sites maximizing the weight of demand points within ``radius`` of an open site."""
    t0 = time.perf_counter()
    c = _check_matrix(cost)
    m, n = c.shape
    p = _check_p(p, n)
    w = _weights(weights, m)
    if not np.isfinite(radius) or radius < 0:
        raise InputError(f"radius: expected a number ≥ 0, got {radius}")
    ci, cj = np.nonzero(c <= radius)
    coverable = np.unique(ci)
    lm = LinearModel(sense="max")
    y = lm.add_vars("open", n)
    z = lm.add_vars("covered", len(coverable), obj=w[coverable], binary=False)
    row_of = np.full(m, -1)
    row_of[coverable] = np.arange(len(coverable))
    k = len(coverable)
    lm.add_rows("coverage", np.concatenate([np.arange(k), row_of[ci]]), np.concatenate([z, y[cj]]),
                np.concatenate([np.ones(k), -np.ones(len(ci))]), -INF, 0.0, k)
    lm.add_rows("p_sites", np.zeros(n, int), y, np.ones(n), p, p, 1)
    res = _solved(solve_linear(lm, solver), "max coverage")
    facilities = np.flatnonzero(res.values[y] > 0.5)
    best = c[:, facilities]
    near = facilities[np.argmin(best, axis=1)]
    covered = best.min(axis=1) <= radius
    assignment = np.where(covered, near, -1)
    objective = float(w[covered].sum())
    return LocateResult(objective, facilities, assignment, res.status, res.gap, res.bound, time.perf_counter() - t0, 1, lm.n_vars, lm.n_rows)


# --------------------------------------------------------------------------- capacitated facility location


def capacitated_facility_location(cost, demand, capacity, fixed_cost, single_source: bool = False,
                                  solver: Solver | None = None) -> LocateResult:
    """Open sites and assign all demand within capacities at least fixed plus assignment cost.

    ``cost[i, j]`` is the cost of serving all of demand point i from site j; with
    multi-sourcing a demand point may be split across sites (``flows``), with
    ``single_source=True`` each is served by one site.
    """
    t0 = time.perf_counter()
    c = _check_matrix(cost)
    m, n = c.shape
    d = np.asarray(demand, float).reshape(-1)
    cap = np.asarray(capacity, float).reshape(-1)
    f = np.asarray(fixed_cost, float).reshape(-1)
    for name, arr, size in (("demand", d, m), ("capacity", cap, n), ("fixed_cost", f, n)):
        if len(arr) != size or not np.isfinite(arr).all() or (arr < 0).any():
            raise InputError(f"{name}: expected {size} finite numbers ≥ 0")
    if cap.sum() < d.sum():
        raise InfeasibleError(f"total capacity {cap.sum():,.6g} is below total demand {d.sum():,.6g}: no assignment can serve all demand")
    if single_source and d.max(initial=0) > cap.max(initial=0):
        i = int(np.argmax(d))
        raise InfeasibleError(f"demand point {i} needs {d[i]:,.6g}, more than the largest site capacity {cap.max():,.6g}; allow multi-sourcing")
    lm = LinearModel(sense="min")
    y = lm.add_vars("open", n, obj=f)
    x = lm.add_vars("serve", m * n, obj=c.reshape(-1), binary=single_source)
    xi, xj = np.divmod(np.arange(m * n), n)
    lm.add_rows("serve_all", xi, x, np.ones(m * n), 1.0, 1.0, m)
    lm.add_rows("capacity", np.concatenate([xj, np.arange(n)]), np.concatenate([x, y]),
                np.concatenate([d[xi], -cap]), -INF, 0.0, n)
    k = m * n
    lm.add_rows("open_to_serve", np.concatenate([np.arange(k), np.arange(k)]), np.concatenate([x, y[xj]]),
                np.concatenate([np.ones(k), -np.ones(k)]), -INF, 0.0, k)
    lm.add_rows("enough_capacity", np.zeros(n, int), y, cap, d.sum(), INF, 1)
    res = _solved(solve_linear(lm, solver), "capacitated facility location")
    flows = res.values[x].reshape(m, n)
    flows[flows < 1e-9] = 0.0
    facilities = np.flatnonzero(res.values[y] > 0.5)
    assignment = np.argmax(flows, axis=1)
    objective = float(f[facilities].sum() + (c * flows).sum())
    return LocateResult(objective, facilities, assignment, res.status, res.gap, res.bound, time.perf_counter() - t0, 1,
                        lm.n_vars, lm.n_rows, flows)
