"""The p-dispersion problem (Kuby 1987): open p sites as far apart as possible."""

from __future__ import annotations

import time

import numpy as np

from ..config import Solver
from ..errors import InputError
from ..model.backend import solve_linear
from ..model.linear import INF, LinearModel
from .inputs import check_costs, check_forced, check_p, open_sites
from .result import LocateResult


def _spread(d: np.ndarray, sites) -> float:
    """The smallest distance between two of the sites (+inf when no pair is within reach)."""
    s = np.asarray(sites)
    sub = d[np.ix_(s, s)]
    return float(sub[np.triu_indices(len(s), 1)].min(initial=np.inf))


def _greedy(d: np.ndarray, p: int, forced: np.ndarray) -> np.ndarray:
    """Forced sites (or the farthest pair), then each time the site farthest from those chosen: a lower bound."""
    n = len(d)
    off = np.where(np.eye(n, dtype=bool), -np.inf, d)
    chosen = [int(j) for j in forced] if len(forced) else [int(j) for j in np.unravel_index(int(np.argmax(off)), off.shape)]
    if len(chosen) == 1:
        chosen.append(int(np.argmax(off[chosen[0]])))
    gap = off[chosen].min(axis=0)
    gap[chosen] = -np.inf
    while len(chosen) < p:
        j = int(np.argmax(gap))
        chosen.append(j)
        gap = np.minimum(gap, off[j])
        gap[chosen] = -np.inf
    return np.array(sorted(chosen), dtype=np.int64)


def _upper_level(d: np.ndarray, p: int, forced: np.ndarray) -> float:
    """No spread beats the p-th largest of the sites' (p−1)-th largest distances, nor the forced sites' own spread."""
    off = np.where(np.eye(len(d), dtype=bool), -np.inf, d)
    own = -np.sort(-off, axis=1)[:, p - 2]  # each site's (p−1)-th largest distance to another
    top = float(-np.sort(-own)[p - 1])
    return min(top, _spread(d, forced)) if len(forced) >= 2 else top


def _spread_model(conflict: np.ndarray, p: int, forced: np.ndarray) -> tuple[LinearModel, np.ndarray]:
    """max Σ y ≤ p  s.t.  y_i + y_j ≤ 1 for every pair closer than the level: p sites that far apart exist iff it reaches p."""
    n = len(conflict)
    lm = LinearModel(sense="max")
    y = open_sites(lm, n, forced)
    lm.obj[y] = 1.0
    a, b = np.nonzero(np.triu(conflict, 1))
    k = len(a)
    lm.add_rows("apart", np.concatenate([np.arange(k), np.arange(k)]), np.concatenate([y[a], y[b]]), np.ones(2 * k), -INF, 1.0, k)
    lm.add_rows("p_sites", np.zeros(n, int), y, np.ones(n), -INF, p, 1)
    return lm, y


def p_dispersion(distance, p: int, forced=None, solver: Solver | None = None) -> LocateResult:
    """Open exactly p sites (the ``forced`` ones among them) maximizing the smallest distance between two open sites.

    ``distance`` is a symmetric site × site matrix (its diagonal is ignored); +inf marks a pair
    that never constrains. The optimum is one of the distinct distances: a greedy solution and an
    upper bound frame them, and a binary search asks at each level whether p sites pairwise at
    least that far apart exist (an independent-set MILP: at most one site of each closer pair,
    which HiGHS strengthens with its clique table). A found set's own spread moves the lower end
    up at once. ``assignment`` is empty: the model has no demand points.
    """
    t0 = time.perf_counter()
    solver = solver or Solver()
    d = check_costs(distance, "distance", square=True)
    n = len(d)
    p = check_p(p, n)
    if p < 2:
        raise InputError("p: p-dispersion needs p ≥ 2 (one site has no distance to another)")
    with np.errstate(invalid="ignore"):
        if not ((d == d.T) | np.isclose(d, d.T)).all():
            raise InputError("distance: expected a symmetric matrix (distance[i, j] equal to distance[j, i])")
    forced = check_forced(forced, n, p)
    best = _greedy(d, p, forced)
    low, high = _spread(d, best), _upper_level(d, p, forced)
    upper = d[np.triu_indices(n, 1)]
    levels = np.unique(upper[(upper >= low) & (upper <= high)])
    lo, hi = 0, len(levels) - 1  # the optimum is one of levels[lo..hi]; levels[lo] is reached by ``best``
    status, it, size, ceiling = "optimal", 0, (0, 0), hi  # ceiling: no level above levels[ceiling] can be reached
    while lo < hi:
        mid = (lo + hi + 1) // 2
        lm, y = _spread_model(d < levels[mid], p, forced)
        left = solver.time_limit_s - (time.perf_counter() - t0)
        res = solve_linear(lm, solver.model_copy(update={"time_limit_s": max(left, 1.0)}))
        it, size = it + 1, (lm.n_vars, lm.n_rows)
        sites = np.flatnonzero(res.values[y] > 0.5) if res.values is not None else None
        if sites is not None and len(sites) >= p:
            best = sites
            lo = int(np.searchsorted(levels, _spread(d, best)))
            continue
        if res.status in ("optimal", "infeasible") or (res.bound is not None and res.bound < p - 1e-6):
            ceiling = min(ceiling, mid - 1)
        else:
            status = "time_limit"
        hi = mid - 1
    objective = _spread(d, best)
    bound = objective if status == "optimal" else float(levels[ceiling])
    gap = 0.0 if status == "optimal" else (bound - objective) / max(abs(bound), 1e-12)
    return LocateResult(objective, best, np.zeros(0, dtype=np.int64), status, gap, bound, time.perf_counter() - t0, it, *size)
