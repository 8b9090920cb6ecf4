"""The p-center problem: open p sites minimizing the largest (weighted) distance of a demand point to its nearest open site."""

from __future__ import annotations

import time

import numpy as np

from ..config import Solver
from ..errors import InfeasibleError, SolverError
from ..model.backend import solve_linear
from .covering import cover_model
from .inputs import check_p_inputs, nearest_open, unreachable_point
from .result import LocateResult


def weighted_costs(c: np.ndarray, w: np.ndarray) -> np.ndarray:
    """w_i × c_ij where reachable, +inf where not (a zero weight never turns an unreachable pair into 0)."""
    with np.errstate(invalid="ignore"):
        return np.where(np.isfinite(c), c * w[:, None], np.inf)


def _greedy(wc: np.ndarray, p: int, forced: np.ndarray) -> tuple[np.ndarray, float]:
    """Forced sites, then each time the site that lowers the largest distance most: an upper bound."""
    m, n = wc.shape
    chosen = list(forced)
    reach = wc[:, forced].min(axis=1) if len(forced) else np.full(m, np.inf)
    for _ in range(p - len(chosen)):
        worst = np.minimum(reach[:, None], wc).max(axis=0)
        worst[chosen] = np.inf
        # Among equally good sites, the one that brings the most points closer keeps later choices open.
        j = int(np.lexsort((-(wc < reach[:, None]).sum(axis=0), worst))[0])
        chosen.append(j)
        reach = np.minimum(reach, wc[:, j])
    return np.array(sorted(chosen), dtype=np.int64), float(reach.max())


def p_center(cost, p: int, weights=None, forced=None, solver: Solver | None = None) -> LocateResult:
    """Open exactly p sites (the ``forced`` ones among them) minimizing max_i weight_i × cost to i's nearest open site.

    Without weights this is spopt's ``PCenter``. An infinite cost marks a site that can never
    serve that demand point. The optimum is one of the distinct costs: a greedy solution and
    max_i min_j cost bound them, and a binary search over them asks a set-covering MILP whether
    p sites reach every demand point within that cost (each answer's own largest cost moves the
    upper end down at once).
    """
    t0 = time.perf_counter()
    solver = solver or Solver()
    c, p, w, forced = check_p_inputs(cost, p, weights, forced)
    m = c.shape[0]
    wc = weighted_costs(c, w)
    unreachable_point(np.isfinite(wc), "is unreachable from every candidate site (all its costs are infinite)")
    low = float(wc.min(axis=1).max())
    facilities, high = _greedy(wc, p, forced)
    levels = np.unique(wc[np.isfinite(wc) & (wc >= low) & (wc <= high)])
    lo, hi = 0, len(levels) - 1  # the optimum is one of levels[lo..hi]
    status, it, size = "optimal", 0, (0, 0)
    while lo < hi or not np.isfinite(high):
        mid = (lo + hi) // 2 if np.isfinite(high) else hi  # a greedy miss: first ask whether any p sites reach all
        lm, y = cover_model(wc <= levels[mid], forced)
        left = solver.time_limit_s - (time.perf_counter() - t0)
        res = solve_linear(lm, solver.model_copy(update={"time_limit_s": max(left, 1.0)}))
        it, size = it + 1, (lm.n_vars, lm.n_rows)
        sites = np.flatnonzero(res.values[y] > 0.5) if res.values is not None else None
        if sites is not None and len(sites) <= p:
            facilities, high = _greedy(wc, p, sites)
            hi = int(np.searchsorted(levels, high))
            continue
        proven = res.status in ("optimal", "infeasible") or (res.bound is not None and res.bound > p + 1e-6)
        if not np.isfinite(high):
            if proven:
                extra = " with the forced ones" if len(forced) else ""
                raise InfeasibleError(f"p-center: no {p} sites{extra} can reach every demand point (too many are reachable from few sites)")
            raise SolverError(f"p-center: the solver could not tell within the time limit whether {p} sites reach every demand point; allow more time")
        status = status if proven else "time_limit"
        lo = mid + 1
    assignment = nearest_open(c, facilities)
    objective = float(wc[np.arange(m), assignment].max())
    bound = objective if status == "optimal" else float(levels[lo])
    gap = 0.0 if status == "optimal" else (objective - bound) / max(abs(objective), 1e-12)
    return LocateResult(objective, facilities, assignment, status, gap, bound, time.perf_counter() - t0, it, *size)
