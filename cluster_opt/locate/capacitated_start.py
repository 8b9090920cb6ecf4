"""A good first solution of capacitated location: sites from the Lagrangian bound, demand sent by a
transportation LP, then drop, add and swap moves while they pay."""

from __future__ import annotations

import time

import numpy as np
import scipy.sparse as sp
from scipy.optimize import linprog

from .capacitated_bound import Bound, Problem, site_values


def transport(prob: Problem, open_mask: np.ndarray) -> tuple[float, np.ndarray | None]:
    """(fixed plus assignment cost, shares demand points × sites) of serving all demand from the
    open sites at least cost; (inf, None) when they cannot."""
    sites = np.flatnonzero(open_mask)
    m, n = prob.cost.shape
    if not len(sites) or prob.capacity[sites].sum() < prob.total_demand - 1e-9:
        return np.inf, None
    sub = prob.cost[:, sites]
    rows, cols = np.nonzero(np.isfinite(sub))
    if len(np.unique(rows)) < m:
        return np.inf, None
    k = len(rows)
    a_eq = sp.csr_matrix((np.ones(k), (rows, np.arange(k))), shape=(m, k))
    a_ub = sp.csr_matrix((prob.demand[rows], (cols, np.arange(k))), shape=(len(sites), k))
    res = linprog(sub[rows, cols], A_ub=a_ub, b_ub=prob.capacity[sites], A_eq=a_eq, b_eq=np.ones(m),
                  bounds=(0, 1), method="highs")
    if res.status != 0:
        return np.inf, None
    flows = np.zeros((m, n))
    flows[rows, sites[cols]] = np.clip(res.x, 0.0, 1.0)
    return float(prob.fixed_cost[sites].sum() + res.fun), flows


class Incumbent:
    """The best solution seen; open sets already priced are remembered."""

    def __init__(self, prob: Problem):
        self.prob = prob
        self.cost = np.inf
        self.open: np.ndarray | None = None
        self.flows: np.ndarray | None = None
        self.seen: dict[bytes, float] = {}

    def feasible(self, open_mask: np.ndarray) -> bool:
        p = self.prob
        if p.p is not None and int(open_mask.sum()) != p.p:
            return False
        return bool((open_mask | ~p.forced).all()) and p.capacity[open_mask].sum() >= p.total_demand - 1e-9

    def price(self, open_mask: np.ndarray) -> float:
        open_mask = np.asarray(open_mask, bool)
        if not self.feasible(open_mask):
            return np.inf
        key = np.packbits(open_mask).tobytes()
        if key not in self.seen:
            cost, flows = transport(self.prob, open_mask)
            self.seen[key] = cost
            if cost < self.cost - 1e-9 * abs(cost):
                self.cost, self.open, self.flows = cost, open_mask.copy(), flows
        return self.seen[key]

    def repair(self, open_mask: np.ndarray, order: np.ndarray) -> np.ndarray:
        """The sites chosen, topped up in ``order`` (or trimmed from its end) to a feasible count and capacity."""
        s = np.asarray(open_mask, bool) | self.prob.forced
        p = self.prob.p
        if p is not None:
            while s.sum() > p:
                s[[j for j in order[::-1] if s[j] and not self.prob.forced[j]][0]] = False
            for j in order:
                if s.sum() >= p:
                    break
                s[j] = True
            return s
        for j in order:
            if self.prob.capacity[s].sum() >= self.prob.total_demand:
                break
            s[j] = True
        return s


SWAP_IN = 30  # closed sites considered for a move: the most promising by their saving


def move_estimates(inc: Incumbent, allowed: np.ndarray) -> tuple[list[list[int]], np.ndarray]:
    """Drop, add and swap moves with a quick estimate of the change in cost each brings (capacities
    ignored but for the site opened): demand of a dropped site goes to the next cheapest open site
    (or the site swapped in); a site added takes the demand it saves most on (site_values at the
    current costs)."""
    prob, cur, x = inc.prob, inc.open, inc.flows
    c = np.where(np.isfinite(prob.cost), prob.cost, np.inf)
    now = (np.where(x > 0, c, 0.0) * x).sum(axis=1)
    added, _ = site_values(prob, now)  # fixed cost plus the (negative) saving of opening each site
    opened = np.flatnonzero(cur & ~prob.forced)
    closed = np.flatnonzero(~cur & allowed)
    closed = closed[np.argsort(added[closed], kind="stable")[:SWAP_IN]]  # swaps are sized open × SWAP_IN × demand points
    ranked = np.sort(np.where(cur[None, :], c, np.inf), axis=1)
    first, second = ranked[:, 0], ranked[:, 1] if ranked.shape[1] > 1 else np.full(len(c), np.inf)
    home = c[:, opened]
    alt = np.where(home <= first[:, None], second[:, None], first[:, None])  # cheapest other open site
    share = x[:, opened]
    with np.errstate(invalid="ignore"):
        drop = -prob.fixed_cost[opened] + np.nansum(share * (alt - home), axis=0)
        via = np.minimum(alt[:, :, None], c[:, None, closed])  # customers × dropped × added
        swap = (-prob.fixed_cost[opened][:, None] + np.nansum(share[:, :, None] * (via - home[:, :, None]), axis=0)
                + added[closed][None, :])
    moves, est = [], []
    if prob.p is None:
        moves += [[int(j)] for j in opened] + [[int(j)] for j in closed]
        est += list(drop) + list(added[closed])
    moves += [[int(a), int(b)] for a in opened for b in closed]
    est += list(swap.reshape(-1))
    return moves, np.nan_to_num(np.asarray(est, float), nan=np.inf, posinf=np.inf)


def improve(inc: Incumbent, bound: Bound, deadline: float, tries: int = 400) -> None:
    """Moves around the incumbent, best-looking first, each priced exactly, until none of the
    ``tries`` best-looking pays or time runs out."""
    allowed = ~bound.fixed_closed
    improved = inc.open is not None
    while improved and time.perf_counter() < deadline:
        improved = False
        moves, est = move_estimates(inc, allowed)
        cur = inc.open
        for k in np.argsort(est, kind="stable")[:tries]:
            if time.perf_counter() >= deadline:
                return
            trial = cur.copy()
            trial[moves[k]] = ~trial[moves[k]]
            before = inc.cost
            inc.price(trial)
            if inc.cost < before:
                improved = True
                break


def first_solution(prob: Problem, bound_fn, time_budget: float) -> tuple[Incumbent, Bound]:
    """The Lagrangian bound with its sites priced on the way, then local improvement, within ``time_budget`` seconds."""
    now = time.perf_counter()
    deadline = now + time_budget
    inc = Incumbent(prob)
    order = np.argsort(prob.fixed_cost / np.maximum(prob.capacity, 1e-9), kind="stable")

    def on_sites(open_mask):
        if time.perf_counter() < deadline:
            inc.price(inc.repair(open_mask, order))
        return inc.cost

    bound = bound_fn(on_sites, now + 0.7 * time_budget)  # the rest is for the moves
    if inc.open is None:
        inc.price(inc.repair(bound.open_at, np.argsort(bound.site_value, kind="stable")))
    improve(inc, bound, deadline)
    return inc, bound
