"""Lagrangian lower bound of capacitated facility location, and the sites it proves open or closed.

The rows "serve all of each demand point" are priced with multipliers u (Beasley 1988). What is
left splits by site: each open site fills its capacity with the demand points of negative priced
cost (a continuous knapsack), and the sites are chosen to cover total demand (exactly p of them
for the p-median). Any u gives a lower bound; subgradient steps raise it. A site whose opposite
choice lifts the bound above the best known solution's cost is fixed.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np


@dataclass
class Problem:
    """A capacitated location problem as the bound and the heuristic read it."""

    cost: np.ndarray  # demand points × sites, np.inf where a pair cannot be used
    demand: np.ndarray
    capacity: np.ndarray
    fixed_cost: np.ndarray
    forced: np.ndarray  # bool per site: must be open
    p: int | None = None  # exactly p open sites, or None

    @property
    def total_demand(self) -> float:
        return float(self.demand.sum())


@dataclass
class Bound:
    value: float  # best lower bound found
    u: np.ndarray  # multipliers giving it
    site_value: np.ndarray  # per site: fixed cost plus its priced knapsack at u
    open_at: np.ndarray  # bool per site: chosen at the multipliers u
    fixed_open: np.ndarray  # bool per site: proven open in every solution better than the incumbent
    fixed_closed: np.ndarray


def site_values(prob: Problem, u: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(per site: fixed cost + cheapest priced fill of its capacity, the fill as shares of each demand)."""
    reduced = prob.cost - u[:, None]
    neg = reduced < 0
    d = prob.demand[:, None]
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(neg, np.where(d > 0, reduced / np.where(d > 0, d, 1.0), -np.inf), np.inf)
    order = np.argsort(ratio, axis=0, kind="stable")
    take_d = np.take_along_axis(np.where(neg, np.broadcast_to(d, neg.shape), 0.0), order, axis=0)
    before = np.cumsum(take_d, axis=0) - take_d
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(take_d > 0, np.clip((prob.capacity[None, :] - before) / np.where(take_d > 0, take_d, 1.0), 0.0, 1.0), 1.0)
    share = share * np.take_along_axis(neg, order, axis=0)
    fill = np.empty_like(share)
    np.put_along_axis(fill, order, share, axis=0)
    values = prob.fixed_cost + (np.where(fill > 0, reduced, 0.0) * fill).sum(axis=0)
    return values, fill


def choose_sites(prob: Problem, values: np.ndarray, must_open: np.ndarray, must_close: np.ndarray) -> tuple[float, np.ndarray]:
    """Cheapest choice of sites (LP relaxation of the covering knapsack): (its value, share opened per site)."""
    n = len(values)
    y = np.where(must_open, 1.0, 0.0)
    free = ~must_open & ~must_close
    if prob.p is not None:
        need = prob.p - int(must_open.sum())
        idx = np.flatnonzero(free)
        if need < 0 or need > len(idx):
            return np.inf, y
        y[idx[np.argsort(values[idx], kind="stable")[:need]]] = 1.0
        return float(values @ y), y
    y[free & (values < 0)] = 1.0
    short = prob.total_demand - float(prob.capacity @ y)
    unit = _unit(prob.capacity)
    if short > 1e-9 and unit and len(values) * short / unit <= DP_WORK:
        idx = np.flatnonzero(free & (y == 0) & (prob.capacity > 0))
        cost, take = cover(values[idx], (prob.capacity[idx] / unit).round().astype(np.int64), int(np.ceil(short / unit - 1e-9)))
        if not np.isfinite(cost):
            return np.inf, y
        y[idx[take]] = 1.0
    elif short > 1e-9:
        idx = np.flatnonzero(free & (y == 0) & (prob.capacity > 0))
        idx = idx[np.argsort(values[idx] / prob.capacity[idx], kind="stable")]
        room = np.cumsum(prob.capacity[idx])
        if not len(idx) or room[-1] < short - 1e-9:
            return np.inf, y
        last = int(np.searchsorted(room, short - 1e-9))
        y[idx[:last]] = 1.0
        y[idx[last]] = (short - (room[last - 1] if last else 0.0)) / prob.capacity[idx[last]]
    return float(values @ y), y[:n]


DP_WORK = 5_000_000  # sites × capacity units up to which the sites are chosen exactly (dynamic programming)


def _unit(capacity: np.ndarray) -> int:
    """The greatest common divisor of whole-number capacities (0 if some capacity is fractional or huge)."""
    if not np.all(capacity == np.round(capacity)) or capacity.max(initial=0) > 2**53:
        return 0
    return int(np.gcd.reduce(capacity.astype(np.int64))) if len(capacity) else 0


def cover(values: np.ndarray, capacity: np.ndarray, need: int) -> tuple[float, np.ndarray]:
    """Cheapest set of items whose capacities sum to at least ``need`` (0-1 knapsack, exact): (cost, chosen mask)."""
    best = np.full(need + 1, np.inf)
    best[0] = 0.0
    took = np.zeros((len(values), need + 1), bool)
    reach = np.arange(need + 1)
    for k, (v, c) in enumerate(zip(values.tolist(), capacity.tolist())):
        trial = v + best[np.maximum(reach - c, 0)]
        took[k] = trial < best
        best = np.minimum(best, trial)
    chosen = np.zeros(len(values), bool)
    if not np.isfinite(best[need]):
        return np.inf, chosen
    at = need
    for k in range(len(values) - 1, -1, -1):
        if at > 0 and took[k, at]:
            chosen[k] = True
            at = max(at - int(capacity[k]), 0)
    return float(best[need]), chosen


def fix_sites(prob: Problem, u: np.ndarray, values: np.ndarray, incumbent: float,
              fixed_open: np.ndarray, fixed_closed: np.ndarray, deadline: float = np.inf) -> None:
    """Fix, in place, each site whose opposite choice proves a bound above ``incumbent`` (those tried by ``deadline``)."""
    above = incumbent + 1e-9 * max(1.0, abs(incumbent)) - float(u.sum())

    def beats_incumbent(mask: np.ndarray, j: int) -> bool:
        """Whether the bound with site j also in ``mask`` (closed or open) rises above the incumbent."""
        mask[j] = True
        try:
            return choose_sites(prob, values, fixed_open, fixed_closed)[0] > above
        finally:
            mask[j] = False

    for j in np.flatnonzero(~fixed_open & ~fixed_closed):
        if time.perf_counter() > deadline:
            return
        if beats_incumbent(fixed_closed, j):
            fixed_open[j] = True
        elif beats_incumbent(fixed_open, j):
            fixed_closed[j] = True


def lagrangian_bound(prob: Problem, incumbent: float = np.inf, iterations: int = 3000, on_sites=None, fix: bool = True,
                     deadline: float = np.inf) -> Bound:
    """Subgradient optimization of the Lagrangian bound; ``on_sites(open_mask)`` is called every few
    steps with the sites chosen and returns the cost of the best solution known (the target).
    ``fix``: fix sites against that cost (only when it is the cost of a solution of the problem solved)."""
    m, n = prob.cost.shape
    finite = np.where(np.isfinite(prob.cost), prob.cost, np.nan)
    ordered = np.sort(finite, axis=1)
    u = ordered[:, min(1, n - 1)] if n > 1 else ordered[:, 0]
    u = np.where(np.isnan(u), np.nanmin(finite, axis=1), u)
    fixed_open, fixed_closed = prob.forced.copy(), np.zeros(n, bool)
    best = Bound(-np.inf, u.copy(), np.zeros(n), prob.forced.copy(), fixed_open, fixed_closed)
    step, stall = 2.0, 0
    for it in range(iterations):
        if time.perf_counter() > deadline:
            break
        values, fill = site_values(prob, u)
        value, y = choose_sites(prob, values, fixed_open, fixed_closed)
        if not np.isfinite(value):
            break
        lb = float(u.sum()) + value
        if lb > best.value + 1e-12 * abs(lb):
            best.value, best.u, best.site_value, best.open_at, stall = lb, u.copy(), values, y > 0, 0
        else:
            stall += 1
            if stall >= 20:
                step, stall = step / 2, 0
        if on_sites is not None and (it < 5 or it % 10 == 0):
            incumbent = min(incumbent, on_sites(y > 0))
        if fix and np.isfinite(incumbent) and it % 100 == 99:
            fix_sites(prob, u, values, incumbent, fixed_open, fixed_closed, deadline)
        g = 1.0 - fill @ y
        norm = float(g @ g)
        if norm < 1e-12 or step < 1e-4 or (np.isfinite(incumbent) and best.value >= incumbent - 1e-9 * abs(incumbent)):
            break
        target = incumbent if np.isfinite(incumbent) else lb + 0.05 * abs(lb) + 1.0
        u = u + step * max(target - lb, 1e-9 * abs(lb)) / norm * g
    if fix and np.isfinite(incumbent):
        fix_sites(prob, best.u, best.site_value, incumbent, fixed_open, fixed_closed)
    return best
