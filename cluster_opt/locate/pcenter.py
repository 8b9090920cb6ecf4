"""The p-center problem: open p sites minimizing the largest (weighted) distance of a demand point to its nearest open site."""

from __future__ import annotations

import time

import numpy as np

from ..config import Solver
from ..errors import InfeasibleError, SolverError
from .covering import lazy_cover
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


def _reach_all(wc, level, p, forced, rows, solver, t0):
    """Whether p sites reach every demand point within ``level``: set covering over the points in ``rows`` only
    (a relaxation: when it needs more than p sites, so does the whole problem), its sites topped up greedily to p.
    Returns (sites or None, their largest distance, proven, solves, model size).
    """
    sites, res, solves, size = lazy_cover(wc <= level, forced, rows, solver, t0, most=p, top_up=lambda s: _greedy(wc, p, s)[0])
    if sites is not None:
        return sites, float(wc[:, sites].min(axis=1).max()), True, solves, size
    proven = res.status in ("optimal", "infeasible") or (res.bound is not None and res.bound > p + 1e-6)
    return None, np.inf, proven, solves, size


def p_center(cost, p: int, weights=None, forced=None, solver: Solver | None = None) -> LocateResult:
    """Open exactly p sites (the ``forced`` ones among them) minimizing max_i weight_i × cost to i's nearest open site.

    Without weights this is spopt's ``PCenter``. An infinite cost marks a site that can never
    serve that demand point. The optimum is one of the distinct costs: a greedy solution and
    max_i min_j cost bound them, and a binary search over them asks a set-covering MILP whether
    p sites reach every demand point within that cost (each answer's own largest cost moves the
    upper end down at once). The covering models hold only the demand points that decide the
    answer, added as found (the relaxation of Chen & Chen 2009).
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
    rows = np.zeros(m, dtype=bool)  # the demand points the covering models hold: first the farthest from the greedy sites
    rows[np.argsort(-wc[:, facilities].min(axis=1), kind="stable")[:p + 1]] = True
    status, it, size, floor = "optimal", 0, (0, 0), 0  # floor: no level below levels[floor] can be reached
    while lo < hi or not np.isfinite(high):
        mid = (lo + hi) // 2 if np.isfinite(high) else hi  # a greedy miss: first ask whether any p sites reach all
        sites, value, proven, solves, size = _reach_all(wc, levels[mid], p, forced, rows, solver, t0)
        it += solves
        if sites is not None:
            facilities, high = sites, value
            hi = int(np.searchsorted(levels, high))
            continue
        if not np.isfinite(high):
            if proven:
                extra = " with the forced ones" if len(forced) else ""
                raise InfeasibleError(f"p-center: no {p} sites{extra} can reach every demand point (too many are reachable from few sites)")
            raise SolverError(f"p-center: the solver could not tell within the time limit whether {p} sites reach every demand point; allow more time")
        if proven:
            floor = max(floor, mid + 1)
        status = status if proven else "time_limit"
        lo = mid + 1
    assignment = nearest_open(c, facilities)
    objective = float(wc[np.arange(m), assignment].max())
    bound = objective if status == "optimal" else float(levels[floor])
    gap = 0.0 if status == "optimal" else (objective - bound) / max(abs(objective), 1e-12)
    return LocateResult(objective, facilities, assignment, status, gap, bound, time.perf_counter() - t0, it, *size)
