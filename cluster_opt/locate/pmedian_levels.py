"""p-median by the radius formulation truncated at each client's nearest distance levels, enlarged until certified."""

from __future__ import annotations

import time

import numpy as np

from ..config import Solver
from ..model.backend import solve_linear
from ..model.linear import INF, LinearModel
from .inputs import solved


def _distance_levels(cost: np.ndarray):
    """Per client, the sites sorted by cost and each entry's distinct-distance level (0 = nearest; unreachable sites last)."""
    order = np.argsort(cost, axis=1, kind="stable")
    srt = np.take_along_axis(cost, order, axis=1)
    with np.errstate(invalid="ignore"):  # inf − inf between unreachable sites: the same level
        step = np.diff(srt, axis=1) > 0
    level = np.concatenate([np.zeros((cost.shape[0], 1), dtype=np.int64), np.cumsum(step, axis=1)], axis=1)
    return order, srt, level


def _pmedian_model(cost, w, p, order, srt, level, K, forced):
    """Radius formulation truncated at level K_i for client i (a lower bound of the true cost).

    z[i,k] (k = 1..K_i) = 1 when no open site lies below distance level k of client i:
        z[i,1] + Σ_{j at level 0} y_j ≥ 1,   z[i,k] + Σ_{j at level k-1} y_j ≥ z[i,k-1].
    Cost: Σ_i w_i (D_i^0 + Σ_k (D_i^k − D_i^{k−1}) z[i,k]). A client with unreachable
    sites needs one reachable site open.
    """
    m, n = cost.shape
    lm = LinearModel(sense="min")
    y = lm.add_vars("open", n)
    lm.lb[y[forced]] = 1.0
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
    short = np.flatnonzero(~np.isfinite(srt[:, -1]))
    if len(short):
        ri, rp = np.nonzero(np.isfinite(srt[short]))
        lm.add_rows("reach", ri, y[order[short[ri], rp]], np.ones(len(ri)), 1.0, INF, len(short))
    const = float((w * srt[:, 0]).sum())
    return lm, y, z, zi, zk, const


def levels_solve(c, w, p, forced, inc, solver: Solver, deadline: float, levels: int | None):
    """(sites, cost, bound, status, iterations, variables, rows) from the incumbent sites ``inc``, until ``deadline``."""
    m, n = c.shape
    order, srt, level = _distance_levels(c)
    rank = np.argsort(order, axis=1)  # rank[i, j]: position of site j in client i's sorted list
    last = np.isfinite(srt).sum(axis=1) - 1
    top = level[np.arange(m), last]  # the farthest reachable level
    K = np.minimum(top, levels if levels is not None else int(np.ceil(n / p)) + 1)
    K = np.maximum(K, np.minimum(top, 1))
    d = c[:, inc].min(axis=1)
    inc_cost = float(w @ d) if np.isfinite(d).all() else np.inf
    bound, status, it = -np.inf, "time_limit", 0
    while True:
        it += 1
        lm, y, z, zi, zk, const = _pmedian_model(c, w, p, order, srt, level, K, forced)
        served = level[np.arange(m), rank[np.arange(m), inc[np.argmin(c[:, inc], axis=1)]]]
        start = np.zeros(lm.n_vars)
        start[y[inc]] = 1.0
        start[z] = (zk <= served[zi]).astype(float)
        left = deadline - time.perf_counter()
        res = solved(solve_linear(lm, solver.model_copy(update={"time_limit_s": max(left, 1.0)}), start), "p-median")
        facilities = np.flatnonzero(res.values[y] > 0.5)
        d = c[:, facilities].min(axis=1)
        true = float(w @ d) if np.isfinite(d).all() else np.inf
        if true < inc_cost - 1e-12:
            inc, inc_cost = facilities, true
        if res.bound is not None:
            bound = max(bound, res.bound + const if res.status != "optimal" else res.objective + const)
        if inc_cost <= bound + 1e-9 * max(1.0, abs(inc_cost)):
            status = "optimal"
            break
        if res.status != "optimal" or time.perf_counter() >= deadline:
            break
        assigned = facilities[np.argmin(c[:, facilities], axis=1)]
        lvl = level[np.arange(m), rank[np.arange(m), assigned]]
        short = lvl > K  # modeled as level K, truly farther
        if not short.any():  # cannot happen: then the model's cost is the true cost and the bound meets it
            break
        K = np.where(short, np.minimum(top, np.maximum(2 * K, lvl + 1)), K)
    return inc, inc_cost, bound, status, it, lm.n_vars, lm.n_rows
