"""The p-median problem: open p sites minimizing the weighted distance of every demand point to its nearest open site."""

from __future__ import annotations

import time

import numpy as np

from ..config import Solver
from ..errors import InfeasibleError, InputError
from .inputs import check_costs, check_forced, check_p, check_weights
from .pmedian_benders import benders
from .pmedian_levels import levels_solve
from .result import LocateResult

METHODS = ("auto", "benders", "levels")


def greedy_swap(c: np.ndarray, w: np.ndarray, p: int, forced: np.ndarray, start: np.ndarray | None = None) -> np.ndarray:
    """A good p-median solution: greedy addition (or ``start``), then single swaps until none improves (Teitz-Bart).

    Unreachable pairs count as a cost above any set of reachable ones, so the search first reaches every demand point.
    """
    m, n = c.shape
    wc = w[:, None] * c
    finite = np.isfinite(c)
    big = float(m * np.abs(wc[finite]).max() + 1.0) if finite.any() else 1.0
    wc = np.where(finite, wc, big)
    fixed = set(forced.tolist())
    if start is None:
        chosen = list(forced.tolist())
        best = wc[:, chosen].min(axis=1) if chosen else np.full(m, np.inf)
        while len(chosen) < p:
            total = np.minimum(best[:, None], wc).sum(axis=0)
            total[chosen] = np.inf
            j = int(np.argmin(total))
            chosen.append(j)
            best = np.minimum(best, wc[:, j])
    else:
        chosen = [int(j) for j in start]
    current = float(wc[:, chosen].min(axis=1).sum())
    for _ in range(50 * p):
        improved = False
        for a in range(p):
            if chosen[a] in fixed:
                continue
            others = [chosen[b] for b in range(p) if b != a]
            base = wc[:, others].min(axis=1) if others else np.full(m, np.inf)
            total = np.minimum(base[:, None], wc).sum(axis=0)
            total[others] = np.inf
            j = int(np.argmin(total))
            if total[j] < current - 1e-9 * max(1.0, abs(current)):
                chosen[a], current, improved = j, float(total[j]), True
        if not improved:
            break
    return np.array(sorted(chosen))


def p_median(cost, p: int, weights=None, solver: Solver | None = None, levels: int | None = None,
             forced=None, method: str = "auto") -> LocateResult:
    """Open exactly p sites minimizing Σ_i weight_i × cost to the nearest open site.

    ``cost`` may hold np.inf for a pair that cannot be served. ``forced``: sites (columns)
    that must be open. ``method``: "benders" (Benders decomposition of the radius
    formulation on HiGHS, see pmedian_benders), "levels" (the radius formulation truncated
    at each client's nearest ``levels`` distance levels, default n/p + 1, enlarged until
    certified, through PuLP) or "auto" (Benders with HiGHS, levels with CBC). Both start
    from a greedy-swap solution, keep the best true cost found, and call it optimal once a
    lower bound reaches it; Benders always proves optimality (``mip_gap`` is not used).
    """
    t0 = time.perf_counter()
    solver = solver or Solver()
    c = check_costs(cost)
    m, n = c.shape
    p = check_p(p, n)
    w = check_weights(weights, m)
    forced = check_forced(forced, n, p)
    if method not in METHODS:
        raise InputError(f"method: expected one of {', '.join(METHODS)}, got {method!r}")
    lost = np.flatnonzero(~np.isfinite(c).any(axis=1))
    if len(lost):
        raise InfeasibleError(f"p-median: demand point {lost[0]} cannot be reached from any site (cost inf in its whole row)"
                              + (f", and {len(lost) - 1} more" if len(lost) > 1 else ""))
    deadline = t0 + solver.time_limit_s
    inc = greedy_swap(c, w, p, forced)
    if method == "levels" or (method == "auto" and solver.name != "highs"):
        try:
            inc, inc_cost, bound, status, it, nv, nr = levels_solve(c, w, p, forced, inc, solver, deadline, levels)
        except InfeasibleError:
            inc_cost, bound = np.inf, np.inf
    else:
        integral = bool(np.all(w == np.round(w)) and np.all(c[np.isfinite(c)] == np.round(c[np.isfinite(c)])))
        out = benders(c, w, p, forced, inc, deadline, solver.threads, integral, lambda s: greedy_swap(c, w, p, forced, s))
        inc, inc_cost, bound, it = out.facilities, out.cost, out.bound, out.iterations
        status = "optimal" if inc_cost - bound <= 1e-9 * max(1.0, abs(inc_cost)) else "time_limit"
        nv, nr = n + m, 0
    if not np.isfinite(inc_cost):
        raise InfeasibleError(f"p-median: no choice of {p} sites reaches every demand point" if bound == np.inf
                              else f"p-median: no choice of {p} sites reaching every demand point was found in the time limit")
    assignment = inc[np.argmin(c[:, inc], axis=1)]
    gap = 0.0 if status == "optimal" else (abs(inc_cost - bound) / max(abs(inc_cost), 1e-12) if np.isfinite(bound) else None)
    return LocateResult(inc_cost, inc, assignment, status, gap, float(bound) if np.isfinite(bound) else None,
                        time.perf_counter() - t0, it, nv, nr)
