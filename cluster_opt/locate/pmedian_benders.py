"""p-median by Benders decomposition of the radius formulation (Durán-Mateluna, Alès & Elloumi 2023).

The master holds the open sites y and each client's cost θ_i. With y fixed, a client's
subproblem has a closed-form optimum whose dual gives the cut, for a distance t of its list:

    θ_i ≥ t − Σ_{j: d_ij < t} (t − d_ij) y_j

(valid for every t: the nearest open site is either below t or not). The LP master is
solved by a cutting-plane loop separating at in-out points between the LP optimum and a
core point; its reduced costs then fix sites against the incumbent, and the integer phase
re-solves the master as a MIP, adding the cuts of each integer answer, until its bound
meets the best true cost found.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from ..model.backend import _quiet_stdout

EPS = 1e-9
PROBE_ROUNDS = 30
PROBE_MISSES = 10**9
PROBE_ITER = 2**31 - 1
CUTOFF = True
INTEGRAL_GAP = True


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

    def thresholds(self, y: np.ndarray, rows: np.ndarray, core: np.ndarray | None = None) -> np.ndarray:
        """Per client in rows, the distance t of the subproblem's optimal dual at y.

        Where several are optimal (y integral: any t from the nearest to the second-nearest
        open site), the one strongest at the core point is taken (Pareto-optimal choice).
        """
        srt = self.srt[rows]
        cum = np.cumsum(y[self.order[rows]], axis=1)
        pos = np.arange(len(rows))
        reach = cum >= 1 - EPS
        r1 = np.where(reach.any(axis=1), reach.argmax(axis=1), self.last[rows])
        t = srt[pos, r1]
        if core is None:
            return t
        past = cum > 1 + EPS
        r2 = np.where(past.any(axis=1), past.argmax(axis=1), self.last[rows])
        return np.clip(self.thresholds(core, rows), t, srt[pos, r2])

    def cut_rows(self, rows: np.ndarray, t: np.ndarray, n: int) -> tuple[sp.csr_matrix, np.ndarray]:
        """Cut rows θ_i + Σ_{d_ij < t_i} (t_i − d_ij) y_j ≥ t_i over columns (y, θ)."""
        srt = self.srt[rows]
        ri, rp = np.nonzero(srt < t[:, None])
        vals = t[ri] - srt[ri, rp]
        cols = self.order[rows[ri], rp]
        k = len(rows)
        a = sp.csr_matrix((np.concatenate([vals, np.ones(k)]), (np.concatenate([ri, np.arange(k)]), np.concatenate([cols, n + rows]))),
                          shape=(k, n + len(self.srt)))
        return a, t

    def values(self, y: np.ndarray) -> np.ndarray:
        """Each client's subproblem optimum at y: its unit demand filled from the nearest sites."""
        cum = np.cumsum(y[self.order], axis=1)
        before = np.concatenate([np.zeros((len(cum), 1)), np.minimum(cum[:, :-1], 1.0)], axis=1)
        return (self.srt * np.clip(np.minimum(cum, 1.0) - before, 0.0, None)).sum(axis=1)


@dataclass
class Outcome:
    facilities: np.ndarray
    cost: float
    bound: float
    iterations: int
    lp_bound: float
    fixed: int  # sites fixed open or closed by reduced costs


class Master:
    """The master problem in one HiGHS instance: columns y (sites) then θ (clients), cuts appended as rows."""

    def __init__(self, cl: Clients, n: int, p: int, forced: np.ndarray, threads: int | None):
        import highspy

        self.hs = highspy
        m = len(cl.srt)
        self.n, self.m = n, m
        with _quiet_stdout(True):
            h = highspy.Highs()
        self.h = h
        h.setOptionValue("output_flag", False)
        h.setOptionValue("presolve", "off")
        if threads:
            # HiGHS keeps one thread pool per process: start a new one of the size asked for.
            highspy.Highs.resetGlobalScheduler(True)
            h.setOptionValue("threads", int(threads))
        inf = highspy.kHighsInf
        lo = np.zeros(n + m)
        lo[forced] = 1.0
        lo[n:] = cl.srt[:, 0]
        self.lo, self.hi = lo[:n].copy(), np.ones(n)
        hi = np.concatenate([np.ones(n), np.full(m, inf)])
        h.addVars(n + m, lo, hi)
        h.changeColsCost(m, np.arange(n, n + m, dtype=np.int32), cl.w.astype(float))
        h.addRow(p, p, n, np.arange(n, dtype=np.int32), np.ones(n))
        # A client with unreachable sites needs one reachable site open (the subproblem is finite then).
        short = np.flatnonzero(cl.last < n - 1)
        if len(short):
            ri, rp = np.nonzero(np.arange(n)[None, :] <= cl.last[short, None])
            self._add(sp.csr_matrix((np.ones(len(ri)), (ri, cl.order[short[ri], rp])), shape=(len(short), n + m)), np.ones(len(short)))
        self.fixed_rows = h.getNumRow()  # the p row and the reach rows: never purged

    def _add(self, a: sp.csr_matrix, lo: np.ndarray) -> None:
        self.h.addRows(a.shape[0], lo, np.full(a.shape[0], self.hs.kHighsInf), a.nnz,
                       a.indptr[:-1].astype(np.int32), a.indices.astype(np.int32), a.data)

    def add_cuts(self, cl: Clients, y: np.ndarray, theta: np.ndarray | None, core: np.ndarray | None, rows: np.ndarray) -> int:
        """Add the cuts at y of the clients in rows that (y, θ) violates (all when θ is None); the count added."""
        a, t = cl.cut_rows(rows, cl.thresholds(y, rows, core), self.n)
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
        self.h.setOptionValue("time_limit", max(float(limit), 0.01))
        self.h.run()
        if self.h.getInfo().primal_solution_status == 2:
            x = np.asarray(self.h.getSolution().col_value)
            self.y_now, self.theta_now = x[:self.n], x[self.n:]
        return self.h.getModelStatus() == self.hs.HighsModelStatus.kOptimal

    def purge(self) -> None:
        """Drop the cuts slack at the current LP answer (the basis stays valid: their slacks are basic)."""
        sol = self.h.getSolution()
        act, dual = np.asarray(sol.row_value), np.asarray(sol.row_dual)
        lo = np.asarray(self.h.getLp().row_lower_)
        slack = (act - lo > 1e-6 * np.maximum(1.0, np.abs(lo))) & (np.abs(dual) < 1e-12)
        slack[:self.fixed_rows] = False
        idx = np.flatnonzero(slack).astype(np.int32)
        if len(idx):
            self.h.deleteRows(len(idx), idx)

    def infeasible(self) -> bool:
        return self.h.getModelStatus() == self.hs.HighsModelStatus.kInfeasible

    def objective(self) -> float:
        return float(self.h.getInfo().objective_function_value)


def _true_cost(c: np.ndarray, w: np.ndarray, sites: np.ndarray) -> tuple[float, np.ndarray]:
    d = c[:, sites].min(axis=1)
    return (float(w @ d) if np.isfinite(d).all() else np.inf), d


def benders(c, w, p, forced, inc, deadline: float, threads: int | None, integral: bool, improve, reduced=None) -> Outcome:
    """Solve to optimality (or until ``deadline``, a perf_counter time) from the incumbent sites ``inc``.

    ``integral``: all costs and weights are whole numbers (a better solution is then 1 lower).
    ``improve(sites)``: a local search from a set of sites (used on the LP answer).
    ``reduced(columns, forced, start)``: solves the problem on the sites left after fixing,
    returning (sites, cost, bound, iterations); None: iterate MIP masters instead.
    """
    m, n = c.shape
    cl = Clients(c, w)
    master = Master(cl, n, p, forced, threads)
    inc_cost, _ = _true_cost(c, w, inc)
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

    it, lb, lp_done, core = _lp_loop(master, cl, core, deadline, 0.5, 10**9)
    lp_bound = lb
    if lp_done:
        score = master.y_now.copy()
        score[forced] = 2.0
        cand = improve(np.argsort(-score, kind="stable")[:p])
        cand_cost, _ = _true_cost(c, w, cand)
        if cand_cost < inc_cost:
            inc, inc_cost = cand, cand_cost
    bound = np.inf if master.infeasible() else lb  # infeasible: no choice reaches every demand point
    if inc_cost - bound < margin(inc_cost) or not lp_done:
        return _outcome(inc, inc_cost, bound, it, lp_bound, 0, margin, integral)

    # Fixing: reduced costs, then probing. The choices ruled out cost at least the incumbent (less the margin).
    fixed = _rc_fix(master, lb, inc_cost - margin(inc_cost), forced)
    more, fixed2, inc, inc_cost = _probe(master, cl, c, w, p, core, deadline, inc_cost - margin(inc_cost), inc, inc_cost)
    it, fixed = it + more, fixed + fixed2
    more, lb, lp_done, core = _lp_loop(master, cl, core, deadline, 0.0, 10**9)
    it += more
    if master.infeasible():
        bound = inc_cost  # nothing left below the incumbent
    elif lp_done:
        bound = max(bound, lb)
        if inc_cost - bound >= margin(inc_cost):
            fixed += _rc_fix(master, lb, inc_cost - margin(inc_cost), forced)
            if reduced is not None:
                keep = np.flatnonzero(master.hi > 0.5)
                start = np.searchsorted(keep, inc) if np.isin(inc, keep).all() else np.zeros(0, int)
                sites, cost, rbound, more = reduced(keep, np.flatnonzero(master.lo[keep] > 0.5), start)
                if cost < inc_cost:
                    inc, inc_cost = keep[sites], cost
                bound = max(bound, rbound)
            else:
                inc, inc_cost, bound, more = _integer_master(master, cl, c, w, inc, inc_cost, bound, core, deadline, margin)
            it += more
    return _outcome(inc, inc_cost, bound, it, lp_bound, fixed, margin, integral)


def _outcome(inc, inc_cost, bound, it, lp_bound, fixed, margin, integral) -> Outcome:
    """The answer with its bound: the incumbent's cost once no better choice is left (a whole number below it, when integral)."""
    if inc_cost - bound < margin(inc_cost):
        bound = inc_cost
    elif integral and np.isfinite(bound):
        bound = np.ceil(bound - 1e-6)
    return Outcome(inc, inc_cost, min(bound, inc_cost), it, lp_bound, fixed)


def _rc_fix(master, lb: float, target: float, forced: np.ndarray) -> int:
    """Reduced-cost fixing: a site whose opening (closing) lifts the LP bound to ``target`` keeps its value; the count fixed."""
    rc = np.asarray(master.h.getSolution().col_dual)[:master.n]
    y = master.y_now
    free = master.lo < master.hi
    close = free & (y < EPS) & (lb + rc >= target)
    open_ = free & (y > 1 - EPS) & (lb - rc >= target)
    close[forced] = False
    master.set_bounds(np.flatnonzero(close), 0.0, 0.0)
    master.set_bounds(np.flatnonzero(open_), 1.0, 1.0)
    return int(close.sum() + open_.sum())


def _probe(master, cl, c, w, p, core, deadline, target, inc, inc_cost):
    """Probing: open (close) each undecided site in the LP master; where the bound reaches ``target`` it stays closed (open).

    Each probe re-solves from the root basis; its LP answer, rounded to its p largest sites,
    may improve the incumbent. Returns (LP solves, sites fixed, incumbent, its cost).
    """
    if PROBE_ROUNDS == 0:
        return 0, 0, inc, inc_cost
    master.purge()
    master.solve(deadline - time.perf_counter())
    y0 = master.y_now.copy()
    basis = master.h.getBasis()
    rc = np.asarray(master.h.getSolution().col_dual)[:master.n]
    cand = np.flatnonzero(master.lo < master.hi)
    cand = cand[np.argsort(-np.abs(rc[cand]), kind="stable")]
    it = fixed = misses = 0
    master.h.setOptionValue("objective_bound", float(target))  # the dual simplex stops once the bound reaches it
    master.h.setOptionValue("simplex_iteration_limit", PROBE_ITER)
    for j in cand:
        if time.perf_counter() >= deadline or misses >= PROBE_MISSES:
            break
        value = 1.0 if y0[j] < 0.5 else 0.0
        master.set_bounds(j, value, value)
        master.h.setBasis(basis)
        more, lb, done, _ = _lp_loop(master, cl, core, deadline, 0.0, PROBE_ROUNDS)
        it += more
        st = master.h.getModelStatus()
        out = master.infeasible() or st == master.hs.HighsModelStatus.kObjectiveBound or (done and lb >= target)
        if not out and done:
            top = np.argsort(-(master.y_now + 2 * master.lo), kind="stable")[:p]
            cost, _ = _true_cost(c, w, top)
            if cost < inc_cost:
                inc, inc_cost = top, cost
        master.set_bounds(j, 1.0 - value if out else 0.0, 1.0 - value if out else 1.0)
        fixed += out
        misses = 0 if out else misses + 1
    master.h.setOptionValue("objective_bound", float("inf"))
    master.h.setOptionValue("simplex_iteration_limit", 2**31 - 1)
    master.h.setBasis(basis)
    return it, fixed, inc, inc_cost


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


def _integer_master(master, cl, c, w, inc, inc_cost, bound, core, deadline, margin):
    """The master as a MIP, with the cuts of each integer answer, until its bound meets the incumbent."""
    hs, n, rows, it = master.hs, master.n, cl.active, 0
    master.h.changeColsIntegrality(n, np.arange(n, dtype=np.int32), np.full(n, hs.HighsVarType.kInteger))
    master.h.setOptionValue("mip_rel_gap", 0.0)
    master.h.setOptionValue("mip_abs_gap", min(margin(inc_cost), 1e-6 * max(1.0, abs(inc_cost))) if not INTEGRAL_GAP else margin(inc_cost))
    while time.perf_counter() < deadline:
        it += 1
        _, d_inc = _true_cost(c, w, inc)
        start = hs.HighsSolution()
        start.col_value = list(np.concatenate([y_of(inc, n), np.maximum(d_inc, cl.srt[:, 0])]))
        start.value_valid = True
        master.h.setSolution(start)
        if CUTOFF:
            master.h.setOptionValue("objective_bound", float(inc_cost - margin(inc_cost)))
        master.solve(deadline - time.perf_counter())
        info = master.h.getInfo()
        status = master.h.getModelStatus()
        if np.isfinite(info.mip_dual_bound):
            bound = max(bound, float(info.mip_dual_bound))
        if status in (hs.HighsModelStatus.kInfeasible, hs.HighsModelStatus.kObjectiveBound):
            bound = max(bound, inc_cost)  # nothing below the incumbent
            break
        if info.primal_solution_status != 2:
            break
        sites = np.flatnonzero(master.y_now > 0.5)
        cost, _ = _true_cost(c, w, sites)
        if cost < inc_cost:
            inc, inc_cost = sites, cost
        if inc_cost - bound < margin(inc_cost) or status != hs.HighsModelStatus.kOptimal:
            break
        if not master.add_cuts(cl, y_of(sites, n), master.theta_now, core, rows):
            bound = max(bound, cost)
            break
    return inc, inc_cost, bound, it


def y_of(sites: np.ndarray, n: int) -> np.ndarray:
    y = np.zeros(n)
    y[sites] = 1.0
    return y
