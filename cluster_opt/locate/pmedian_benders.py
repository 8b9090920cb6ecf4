"""p-median by Benders decomposition of the radius formulation (Durán-Mateluna, Alès & Elloumi 2023).

The master holds the open sites y and each client's cost θ_i. With y fixed, a client's
subproblem has a closed-form optimum whose dual gives the cut, for a distance t of its list:

    θ_i ≥ t − Σ_{j: d_ij < t} (t − d_ij) y_j

(valid for every t: the nearest open site is either below t or not). The LP master is
solved by a cutting-plane loop separating at in-out points between the LP optimum and a
core point; its reduced costs then fix sites against the incumbent, and a depth-first
branch and bound over the LP master (cuts separated at every node) closes the gap to the
best true cost found. HiGHS is driven directly, with arrays and warm-started re-solves.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from ..model.highs import new_highs

EPS = 1e-9
IPM_ABOVE = 200_000  # nonzeros of the first master LP above which it is solved by interior point
PURGE_EVERY = 5  # nodes between purges of slack cuts


class Clients:
    """Each client's sites sorted by cost, unreachable ones (inf) last and read as the farthest reachable cost."""

    def __init__(self, c: np.ndarray, w: np.ndarray):
        self.order = np.argsort(c, axis=1, kind="stable")
        srt = np.take_along_axis(c, self.order, axis=1)
        finite = np.isfinite(srt)
        self.last = finite.sum(axis=1) - 1  # position of the farthest reachable site
        self.far = srt[np.arange(len(c)), self.last]
        self.srt = np.where(finite, srt, self.far[:, None])
        self.w = w
        self.active = np.flatnonzero(w > 0)  # clients that count in the objective

    def _positions(self, y: np.ndarray, rows: np.ndarray, above: float) -> np.ndarray:
        """Per client in rows, the first position of its sorted list where the open share (y) summed exceeds ``above``.

        Read on a short prefix first; only the clients it does not settle are read in full.
        """
        width = min(self.srt.shape[1], 64)
        out = np.empty(len(rows), dtype=np.int64)
        todo = np.arange(len(rows))
        while len(todo):
            cum = np.cumsum(y[self.order[rows[todo], :width]], axis=1)
            hit = cum >= above
            found = hit.any(axis=1) | (width == self.srt.shape[1])
            out[todo[found]] = np.where(hit[found].any(axis=1), hit[found].argmax(axis=1), self.last[rows[todo[found]]])
            todo = todo[~found]
            width = self.srt.shape[1]
        return np.minimum(out, self.last[rows])

    def thresholds(self, y: np.ndarray, rows: np.ndarray, core: np.ndarray | None = None) -> tuple[np.ndarray, int]:
        """Per client in rows, the distance t of the subproblem's optimal dual at y, and a width of the lists that holds every t.

        Where several are optimal (y integral: any t from the nearest to the second-nearest
        open site), the one strongest at the core point is taken (Pareto-optimal choice).
        """
        r1 = self._positions(y, rows, 1 - EPS)
        t = self.srt[rows, r1]
        if core is None:
            return t, int(r1.max(initial=0)) + 1
        r2 = self._positions(y, rows, 1 + EPS)
        t_core, _ = self.thresholds(core, rows)
        return np.clip(t_core, t, self.srt[rows, r2]), int(r2.max(initial=0)) + 1

    def cut_rows(self, rows: np.ndarray, t: np.ndarray, width: int, n: int) -> sp.csr_matrix:
        """Cut rows θ_i + Σ_{d_ij < t_i} (t_i − d_ij) y_j ≥ t_i over columns (y, θ); the sites below t_i lie within ``width``."""
        srt = self.srt[rows, :width]
        ri, rp = np.nonzero(srt < t[:, None])
        vals = t[ri] - srt[ri, rp]
        cols = self.order[rows[ri], rp]
        k = len(rows)
        return sp.csr_matrix((np.concatenate([vals, np.ones(k)]), (np.concatenate([ri, np.arange(k)]), np.concatenate([cols, n + rows]))),
                             shape=(k, n + len(self.srt)))


@dataclass
class Outcome:
    """The best sites found, their true cost, a lower bound, and the work done (LP rounds and nodes)."""

    facilities: np.ndarray
    cost: float
    bound: float
    iterations: int


class Master:
    """The master problem in one HiGHS instance: columns y (sites) then θ (clients), cuts appended as rows."""

    def __init__(self, cl: Clients, n: int, p: int, forced: np.ndarray, threads: int | None):
        import highspy

        self.hs = highspy
        m = len(cl.srt)
        self.n, self.m = n, m
        self.h = h = new_highs(threads)
        h.setOptionValue("presolve", "off")
        inf = highspy.kHighsInf
        lo = np.zeros(n + m)
        lo[forced] = 1.0
        lo[n:] = cl.srt[:, 0]
        self.lo, self.hi = lo[:n].copy(), np.ones(n)
        hi = np.concatenate([np.ones(n), np.full(m, inf)])
        h.addVars(n + m, lo, hi)
        h.changeColsCost(m, np.arange(n, n + m, dtype=np.int32), cl.w.astype(float))
        h.addRow(p, p, n, np.arange(n, dtype=np.int32), np.ones(n))
        self.row_lo = np.array([float(p)])
        # A client with unreachable sites needs one reachable site open (the subproblem is finite then).
        short = np.flatnonzero(cl.last < n - 1)
        if len(short):
            ri, rp = np.nonzero(np.arange(n)[None, :] <= cl.last[short, None])
            self._add(sp.csr_matrix((np.ones(len(ri)), (ri, cl.order[short[ri], rp])), shape=(len(short), n + m)), np.ones(len(short)))
        self.fixed_rows = h.getNumRow()  # the p row and the reach rows: never purged

    def _add(self, a: sp.csr_matrix, lo: np.ndarray) -> None:
        self.row_lo = np.concatenate([self.row_lo, lo])
        self.h.addRows(a.shape[0], lo, np.full(a.shape[0], self.hs.kHighsInf), a.nnz,
                       a.indptr[:-1].astype(np.int32), a.indices.astype(np.int32), a.data)

    def add_cuts(self, cl: Clients, y: np.ndarray, theta: np.ndarray | None, core: np.ndarray | None, rows: np.ndarray) -> int:
        """Add the cuts separated at y (toward ``core`` where several are optimal) that the master's answer
        (y_now, ``theta``) violates, for the clients in rows (all of them when theta is None); the count added."""
        t, width = cl.thresholds(y, rows, core)
        a = cl.cut_rows(rows, t, width, self.n)
        if theta is not None:
            cut_at = t - a[:, :self.n] @ self.y_now
            keep = cut_at > theta[rows] + 1e-7 * np.maximum(1.0, np.abs(t))
            a, t = a[keep], t[keep]
        if a.shape[0]:
            self._add(a, t)
        return a.shape[0]

    def set_bounds(self, idx: np.ndarray, lo, hi) -> None:
        """Bounds of the site columns idx (kept in lo / hi)."""
        idx = np.atleast_1d(idx).astype(np.int32)
        self.lo[idx], self.hi[idx] = lo, hi
        self.h.changeColsBounds(len(idx), idx, self.lo[idx], self.hi[idx])

    def solve(self, limit: float) -> bool:
        """Solve; True when optimal (y_now, theta_now hold the answer, or the best solution found)."""
        # HiGHS counts its time limit from its own start, over all runs.
        self.h.setOptionValue("time_limit", self.h.getRunTime() + max(float(limit), 0.01))
        self.h.run()
        if self.h.getInfo().primal_solution_status == 2:
            x = np.asarray(self.h.getSolution().col_value)
            self.y_now, self.theta_now = x[:self.n], x[self.n:]
        return self.h.getModelStatus() == self.hs.HighsModelStatus.kOptimal

    def purge(self) -> None:
        """Drop the cuts slack at the current LP answer (the basis stays valid: their slacks are basic)."""
        sol = self.h.getSolution()
        act, dual = np.asarray(sol.row_value), np.asarray(sol.row_dual)
        lo = self.row_lo
        slack = (act - lo > 1e-6 * np.maximum(1.0, np.abs(lo))) & (np.abs(dual) < 1e-12)
        slack[:self.fixed_rows] = False
        idx = np.flatnonzero(slack).astype(np.int32)
        if len(idx):
            self.h.deleteRows(len(idx), idx)
            self.row_lo = np.delete(self.row_lo, idx)

    def infeasible(self) -> bool:
        return self.h.getModelStatus() == self.hs.HighsModelStatus.kInfeasible

    def objective(self) -> float:
        return float(self.h.getInfo().objective_function_value)


def _true_cost(c: np.ndarray, w: np.ndarray, sites: np.ndarray) -> float:
    """Σ weight × cost to the nearest of these sites (inf if a demand point reaches none)."""
    d = c[:, sites].min(axis=1)
    return float(w @ d) if np.isfinite(d).all() else np.inf


def benders(c, w, p, forced, inc, deadline: float, threads: int | None, integral: bool, improve) -> Outcome:
    """Solve to optimality (or until ``deadline``, a perf_counter time) from the incumbent sites ``inc``.

    ``integral``: all costs and weights are whole numbers (a better solution is then 1 lower).
    ``improve(sites)``: a local search from a set of sites (used on the LP answer).
    """
    m, n = c.shape
    cl = Clients(c, w)
    master = Master(cl, n, p, forced, threads)
    inc_cost = _true_cost(c, w, inc)
    free = np.setdiff1d(np.arange(n), forced)
    core = np.zeros(n)
    core[forced] = 1.0
    core[free] = (p - len(forced)) / max(len(free), 1)
    y_inc = np.zeros(n)
    y_inc[inc] = 1.0
    rows = cl.active
    if np.isfinite(inc_cost):
        master.y_now = y_inc
        master.add_cuts(cl, y_inc, None, core, rows)
        core = 0.5 * core + 0.5 * y_inc

    def margin(ub):  # a solution must cost below ub − margin to be better than the incumbent
        return 1.0 - 1e-6 if integral else 1e-9 * max(1.0, abs(ub))

    if master.h.getNumNz() > IPM_ABOVE:  # a large first LP: interior point (with crossover) beats simplex from scratch
        master.h.setOptionValue("solver", "ipm")
        master.solve(deadline - time.perf_counter())
        master.h.setOptionValue("solver", "simplex")
    it, lb, lp_done, core = _lp_loop(master, cl, core, deadline, 0.5, 10**9)
    if lp_done:
        score = master.y_now.copy()
        score[forced] = 2.0
        cand = improve(np.argsort(-score, kind="stable")[:p])
        cand_cost = _true_cost(c, w, cand)
        if cand_cost < inc_cost:
            inc, inc_cost = cand, cand_cost
    bound = np.inf if master.infeasible() else lb  # infeasible: no choice reaches every demand point
    if inc_cost - bound < margin(inc_cost) or not lp_done:
        return _outcome(inc, inc_cost, bound, it, margin, integral)

    # Reduced-cost fixing, then branch and bound; the choices ruled out cost at least the incumbent (less the margin).
    _rc_fix(master, lb, inc_cost - margin(inc_cost), forced)
    inc, inc_cost, bound, nodes = _branch(master, cl, c, w, p, core, deadline, inc, inc_cost, bound, margin)
    it += nodes
    return _outcome(inc, inc_cost, bound, it, margin, integral)


def _outcome(inc, inc_cost, bound, it, margin, integral) -> Outcome:
    """The answer with its bound: the incumbent's cost once no better choice is left (a whole number below it, when integral)."""
    if inc_cost - bound < margin(inc_cost):
        bound = inc_cost
    elif integral and np.isfinite(bound):
        bound = np.ceil(bound - 1e-6)
    return Outcome(inc, inc_cost, min(bound, inc_cost), it)


def _rc_fix(master, lb: float, target: float, forced: np.ndarray) -> None:
    """Reduced-cost fixing: a site whose opening (closing) lifts the LP bound to ``target`` keeps its value."""
    rc = np.asarray(master.h.getSolution().col_dual)[:master.n]
    y = master.y_now
    free = master.lo < master.hi
    close = free & (y < EPS) & (lb + rc >= target)
    open_ = free & (y > 1 - EPS) & (lb - rc >= target)
    close[forced] = False
    master.set_bounds(np.flatnonzero(close), 0.0, 0.0)
    master.set_bounds(np.flatnonzero(open_), 1.0, 1.0)


def _lp_loop(master, cl, core, deadline, lam, rounds):
    """Cutting planes on the LP master, separated at in-out points λ·core + (1−λ)·y* (λ = 0: at y*).

    Returns (rounds done, LP bound, converged, core).
    """
    it, lb, rows = 0, -np.inf, cl.active
    while time.perf_counter() < deadline and it < rounds:
        it += 1
        if not master.solve(deadline - time.perf_counter()):
            return it, lb, False, core
        lb = master.objective()
        y, theta = master.y_now, master.theta_now
        added = master.add_cuts(cl, lam * core + (1 - lam) * y, theta, None, rows) if lam > 0 else 0
        if not added:
            lam = 0.0
            added = master.add_cuts(cl, y, theta, None, rows)
        if not added:
            return it, lb, True, core
        lam = 0.5 if lam > 0 or it % 5 == 0 else lam
        core = 0.5 * core + 0.5 * y
    return it, lb, False, core


def _branch(master, cl, c, w, p, core, deadline, inc, inc_cost, bound, margin):
    """Depth-first branch and bound on the sites; each node's bound is the LP master's, cuts separated until none is violated.

    A node's LP answer rounded to its p largest sites may improve the incumbent; reduced
    costs fix sites in its subtree. Returns (incumbent, its cost, bound, nodes).
    """
    stack = [(master.lo.copy(), master.hi.copy(), bound)]  # (site bounds, the parent's LP bound)
    nodes = 0
    while stack:
        lo, hi, parent = stack.pop()
        target = inc_cost - margin(inc_cost)
        if parent >= target:
            continue
        if time.perf_counter() >= deadline:
            stack.append((lo, hi, parent))
            break
        nodes += 1
        idx = np.flatnonzero((lo != master.lo) | (hi != master.hi))
        master.set_bounds(idx, lo[idx], hi[idx])
        _, lb, done, _ = _lp_loop(master, cl, core, deadline, 0.0, 10**9)
        if master.infeasible():
            continue
        if lb == -np.inf:  # out of time
            stack.append((lo, hi, parent))
            break
        y = master.y_now
        top = np.argsort(-(y + 2 * lo), kind="stable")[:p]
        cost = _true_cost(c, w, top)
        if cost < inc_cost:
            inc, inc_cost = top, cost
            target = inc_cost - margin(inc_cost)
        if lb >= target:
            continue
        frac = (y > EPS) & (y < 1 - EPS)
        if not frac.any():
            sites = np.flatnonzero(y > 0.5)
            cost = _true_cost(c, w, sites)
            if cost < inc_cost:
                inc, inc_cost = sites, cost
            if done:  # integral, and no cut violated: its LP value is its true cost
                continue
            stack.append((lo, hi, parent))  # separate further
            continue
        rc = np.asarray(master.h.getSolution().col_dual)[:master.n]
        lo, hi = lo.copy(), hi.copy()
        hi[(lo < hi) & (y < EPS) & (lb + rc >= target)] = 0.0
        lo[(lo < hi) & (y > 1 - EPS) & (lb - rc >= target)] = 1.0
        j = int(np.argmax(np.where(frac, -np.abs(y - 0.5), -np.inf)))  # the most fractional site; closed first
        closed_hi, open_lo = hi.copy(), lo.copy()
        closed_hi[j], open_lo[j] = 0.0, 1.0
        stack.append((open_lo, hi, lb))
        stack.append((lo, closed_hi, lb))
        if nodes % PURGE_EVERY == 0:
            master.purge()
    bound = min([b for _, _, b in stack], default=inc_cost)
    return inc, inc_cost, bound, nodes
