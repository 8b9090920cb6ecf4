"""One LinearModel held in a HiGHS instance, passed as arrays: solved and re-solved (new costs, bounds or rows),
watched for a deadline, a stop request and progress."""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from ..config import Solver
from .backend import LinearResult, quiet_stdout
from .linear import LinearModel

PROGRESS_EVERY_S = 0.25
SOLVER_SHARE, SOLVER_LATENCY_S = 0.95, 0.1  # of the time left, and seconds: what a solve is given, to end on time
# HiGHS checks its time limit between presolve passes, not within them, and a pass grows faster than
# the model: presolve runs only on models it can finish within a small share of the time limit.
PROBING_MAX_NONZEROS = 100_000  # above this, probing alone can outlast the limit: switched off
PRESOLVE_NONZEROS_PER_S = 20_000  # presolve (without probing) runs when the model has at most this many nonzeros a second of limit
PRESOLVE_MAX_NONZEROS = 1_000_000  # and never above this


def highs_options(cfg: Solver, model: LinearModel, seconds: float | None = None, members: bool = True) -> dict:
    """HiGHS options for a first solve of ``model`` within ``seconds`` (default: the time limit): presolve as
    configured; with auto, on only where it fits in the time limit and pays off, without probing on large models.
    ``members``: the model has member columns. Without them (hub-only models) presolve costs more than it saves
    (2.5 s against 0.7 s on the Battery Belt)."""
    nnz = model.nnz
    seconds = cfg.time_limit_s if seconds is None else seconds
    if cfg.presolve == "off" or (cfg.presolve == "auto" and (not members or nnz > min(PRESOLVE_MAX_NONZEROS, PRESOLVE_NONZEROS_PER_S * seconds))):
        return {"presolve": "off"}
    options: dict = {"presolve": "on"}
    if cfg.presolve == "auto" and nnz > PROBING_MAX_NONZEROS:
        options["presolve_rule_off"] = 32768  # bit 15: probing
    return options


def new_highs(threads: int | None = None, log: bool = False):
    """A HiGHS instance, created without its banner; ``threads``: resize the process's one thread pool for it."""
    import highspy

    with quiet_stdout(True):
        h = highspy.Highs()
    h.setOptionValue("output_flag", bool(log))
    if threads:
        # HiGHS shares one thread pool per process, sized by the first solve: resized here for this one.
        highspy.Highs.resetGlobalScheduler(True)
        h.setOptionValue("threads", int(threads))
    return h


@dataclass
class SolverProgress:
    """Where a MIP solve stands: the best selection's objective, the proven bound, their gap and the time left."""

    incumbent: float | None
    bound: float | None
    gap: float | None
    seconds_left: float | None
    note: str = ""  # which round of a solve in rounds (lazy spacing, member assignment)

    @classmethod
    def read(cls, primal: float, dual: float, gap: float, deadline: float | None, now: float) -> "SolverProgress":
        def finite(v):
            return float(v) if np.isfinite(v) and abs(v) < 1e29 else None

        inc, bd = finite(primal), finite(dual)
        return cls(inc, bd, finite(gap) if inc is not None and bd is not None else None,
                   None if deadline is None else max(0.0, deadline - now))

    def text(self) -> str:
        """In words, for a progress line."""
        parts = ["best " + ("none yet" if self.incumbent is None else f"{self.incumbent:.4f}"),
                 "bound " + ("none yet" if self.bound is None else f"{self.bound:.4f}")]
        if self.gap is not None:
            parts.append(f"gap {self.gap:.2%}")
        if self.seconds_left is not None:
            parts.append(f"{self.seconds_left:.0f} s left")
        return (f"{self.note}: " if self.note else "") + ", ".join(parts)


class ReusableHighs:
    """A LinearModel held in one HiGHS instance, passed as arrays, for many re-solves.

    Only the objective (or appended rows) change between solves; each solve starts from
    the previous solution as an incumbent. Used by weight sweeps, where rebuilding the
    model through PuLP for every weighting would cost more than solving it.
    """

    def __init__(self, model: LinearModel, cfg: Solver | None = None, options: dict | None = None, relax_first: bool = True):
        """``options``: HiGHS options over the defaults here (presolve off: re-solves of a model this size are faster without it).
        ``relax_first``: try the LP relaxation before the MIP (worth it where it is often integral)."""
        self.relax_first = relax_first
        import highspy

        cfg = cfg or Solver()
        self.model = model
        self.cfg = cfg
        h = new_highs(cfg.threads, log=cfg.log)
        h.setOptionValue("mip_rel_gap", float(cfg.mip_gap))
        h.setOptionValue("time_limit", float(cfg.time_limit_s))
        # Re-solves start from the last basis, and an LP answer that is integral is taken as the MIP optimum: with
        # HiGHS's default dual tolerance (1e-7 per column) such an answer can fall 1e-5 short of the optimum on near-ties
        # (seen with 1,082 hub columns); a tighter tolerance keeps "optimal" exact to far below any score difference.
        settings = {"presolve": "on" if cfg.presolve == "on" else "off", "dual_feasibility_tolerance": 1e-10, **(options or {})}
        for key, value in settings.items():
            h.setOptionValue(key, value)
        self.presolve = settings["presolve"] == "on"
        a, lo, hi, _ = model.matrix()
        # Columns fixed at zero (hubs ruled out up front) are left out of the instance.
        self.keep = np.flatnonzero(~((model.lb == 0) & (model.ub == 0)))
        csc = a.tocsc()[:, self.keep]
        # Rows that the remaining columns can never violate are left out too.
        # (set_bounds may later free a column fixed at 1, e.g. an included site forced out: it counts as [0, ub])
        lb_k, ub_k = np.minimum(model.lb[self.keep], 0.0), model.ub[self.keep]
        pos, neg = csc.maximum(0).tocsr(), csc.minimum(0).tocsr()
        with np.errstate(invalid="ignore"):
            act_max = pos @ ub_k + neg @ lb_k
            act_min = pos @ lb_k + neg @ ub_k
        needed = (act_max > hi + 1e-9) | (act_min < lo - 1e-9)
        csc = csc.tocsr()[needed].tocsc()
        lo, hi = lo[needed], hi[needed]
        self.rows_needed = needed
        inf = highspy.kHighsInf
        lp = highspy.HighsLp()
        lp.num_col_, lp.num_row_ = len(self.keep), csc.shape[0]
        lp.sense_ = highspy.ObjSense.kMaximize if model.sense == "max" else highspy.ObjSense.kMinimize
        self.cost = model.obj[self.keep].astype(float)
        lp.col_cost_ = self.cost
        lp.col_lower_ = np.where(np.isinf(model.lb[self.keep]), -inf, model.lb[self.keep])
        lp.col_upper_ = np.where(np.isinf(model.ub[self.keep]), inf, model.ub[self.keep])
        lp.row_lower_ = np.where(np.isinf(lo), -inf, lo)
        lp.row_upper_ = np.where(np.isinf(hi), inf, hi)
        lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        lp.a_matrix_.start_ = csc.indptr.astype(np.int32)
        lp.a_matrix_.index_ = csc.indices.astype(np.int32)
        lp.a_matrix_.value_ = csc.data.astype(float)
        lp.integrality_ = [highspy.HighsVarType.kInteger if b else highspy.HighsVarType.kContinuous for b in model.binary[self.keep]]
        h.passModel(lp)
        self.h = h
        # The same rows as a pure LP: after a cost change the previous basis is re-optimized in a
        # few iterations, and an integral LP optimum is a proven MIP optimum.
        relax = new_highs()
        relax.setOptionValue("presolve", "off")
        relax.setOptionValue("dual_feasibility_tolerance", 1e-10)
        lp.integrality_ = []
        relax.passModel(lp)
        self.relax = relax
        self.integer = model.binary[self.keep]
        self.rows_passed = a.shape[0]  # rows of the LinearModel accounted for (passed or found redundant)
        self.last: np.ndarray | None = None
        self.stop = None  # a threading.Event that stops a solve under way (see watch)
        self.deadline: float | None = None  # time.monotonic() at which a solve under way stops with its best so far
        self.on_progress = None  # called with a SolverProgress while the MIP runs
        self._watched = False  # the interrupt callbacks are subscribed
        self._reported = 0.0
        self._mip_progress = highspy.cb.HighsCallbackType.kCallbackMipInterrupt

    def watch(self, stop=None, deadline: float | None = None, on_progress=None) -> None:
        """Stop the solves under way as soon as ``stop`` (a threading.Event) is set, or once ``deadline``
        (time.monotonic()) passes, keeping the best selection found; report progress to ``on_progress``."""
        if not self._watched and (stop is not None or deadline is not None or on_progress is not None):
            for h in (self.h, self.relax):
                h.cbSimplexInterrupt += self._interrupt
                h.cbMipInterrupt += self._interrupt
                h.cbIpmInterrupt += self._interrupt
            self._watched = True
        self.stop, self.deadline, self.on_progress = stop, deadline, on_progress

    def _interrupt(self, event) -> None:
        now = time.monotonic()
        if (self.stop is not None and self.stop.is_set()) or (self.deadline is not None and now > self.deadline):
            event.interrupt()
        if self.on_progress is not None and now - self._reported > PROGRESS_EVERY_S and event.callback_type == self._mip_progress:
            self._reported = now
            d = event.data_out
            self.on_progress(SolverProgress.read(d.mip_primal_bound, d.mip_dual_bound, d.mip_gap, self.deadline, now))

    def warm_start(self, values: np.ndarray) -> None:
        """Values for every model column to start the next MIP solve from (HiGHS checks them against the rows)."""
        self.last = np.asarray(values, float)[self.keep]

    def set_cost(self, obj: np.ndarray) -> None:
        """A new objective for the model's columns (the kept ones are passed on)."""
        n = len(self.keep)
        self.cost = np.asarray(obj, float)[self.keep]
        for h in (self.h, self.relax):
            h.changeColsCost(n, np.arange(n, dtype=np.int32), self.cost)

    def time_limit(self, seconds: float) -> None:
        """The time limit of the next solve, for the LP relaxation and the MIP alike."""
        for h in (self.h, self.relax):
            h.setOptionValue("time_limit", float(seconds))

    def finish_by(self, deadline: float) -> None:
        """The next solve returns by ``deadline`` (time.monotonic()) with its best so far. HiGHS notices its
        limit up to about half a second late, so it is asked to stop a little before."""
        left = deadline - time.monotonic()
        budget = max(SOLVER_SHARE * left - SOLVER_LATENCY_S, 0.2)
        self.time_limit(budget)
        self.deadline = time.monotonic() + budget
        if not self._watched:
            self.watch(self.stop, self.deadline, self.on_progress)

    def bounds(self, cols: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(cols, lower, upper) as the instance has them now, to restore after a temporary change."""
        cols = np.asarray(cols, dtype=int)
        return cols, self.model.lb[cols].copy(), self.model.ub[cols].copy()

    def set_bounds(self, cols: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> bool:
        """Change the bounds of model columns in both instances; False if a column left out up front (fixed at 0) must move."""
        cols = np.asarray(cols, dtype=int)
        if not len(cols):
            return True
        at = np.searchsorted(self.keep, cols)
        kept = (at < len(self.keep)) & (self.keep[np.minimum(at, len(self.keep) - 1)] == cols)
        if (~kept & (np.asarray(lo) > 0)).any():
            return False
        idx = at[kept].astype(np.int32)
        for h in (self.h, self.relax):
            h.changeColsBounds(len(idx), idx, np.asarray(lo, float)[kept], np.asarray(hi, float)[kept])
        self.last = None  # the previous answer may break the new bounds
        return True

    def sync_rows(self) -> None:
        """Pass rows appended to the LinearModel since the last solve (lazy constraints)."""
        if self.model.n_rows == self.rows_passed:
            return
        a, lo, hi, _ = self.model.matrix()
        new = a[self.rows_passed:].tocsc()[:, self.keep].tocsr()
        inf = 1e30
        for h in (self.h, self.relax):
            h.addRows(new.shape[0], np.clip(lo[self.rows_passed:], -inf, inf), np.clip(hi[self.rows_passed:], -inf, inf),
                      new.nnz, new.indptr[:-1].astype(np.int32), new.indices.astype(np.int32), new.data.astype(float))
        self.rows_passed = a.shape[0]

    def solve(self, obj: np.ndarray | None = None) -> LinearResult:
        import highspy

        t0 = time.perf_counter()
        if obj is not None:
            self.set_cost(obj)
        self.sync_rows()
        if not len(self.keep):  # every column fixed at zero: the answer is all zeros, if the rows allow it
            a, lo, hi, _ = self.model.matrix()
            ok = bool(((lo <= 1e-9) & (hi >= -1e-9)).all())
            return LinearResult("optimal" if ok else "infeasible", np.zeros(self.model.n_vars) if ok else None,
                                0.0 if ok else float("nan"), 0.0 if ok else None, 0.0 if ok else None, 0.0, time.perf_counter() - t0)
        if self.relax_first:
            self.relax.run()
        if self.relax_first and self.relax.getModelStatus() == highspy.HighsModelStatus.kOptimal:
            x = np.asarray(self.relax.getSolution().col_value)
            if np.all(np.abs(x[self.integer] - np.round(x[self.integer])) < 1e-9):
                x[self.integer] = np.round(x[self.integer])
                self.last = x
                values = np.zeros(self.model.n_vars)
                values[self.keep] = x
                obj_value = float(self.relax.getInfo().objective_function_value)
                return LinearResult("optimal", values, obj_value, obj_value, 0.0, 0.0, time.perf_counter() - t0)
        if self.last is not None:
            sol = highspy.HighsSolution()
            sol.col_value = list(self.last)
            sol.value_valid = True
            self.h.setSolution(sol)
        self.h.run()
        if self.h.getModelStatus() == highspy.HighsModelStatus.kSolveError and self.presolve:
            # HiGHS's presolve fails on some instances (status "solve error"): the same model without it.
            self.h.setOptionValue("presolve", "off")
            try:
                self.h.run()
            finally:
                self.h.setOptionValue("presolve", "on")
        info = self.h.getInfo()
        ms = self.h.getModelStatus()
        S = highspy.HighsModelStatus
        t1 = time.perf_counter()
        if ms in (S.kInfeasible, S.kUnboundedOrInfeasible):
            return LinearResult("infeasible", None, float("nan"), None, None, 0.0, t1 - t0)
        if ms == S.kInterrupt and self.stop is not None and self.stop.is_set():
            return LinearResult("interrupted", None, float("nan"), None, None, 0.0, t1 - t0)
        if info.primal_solution_status != 2:
            said = "time limit reached" if ms in (S.kInterrupt, S.kTimeLimit) else self.h.modelStatusToString(ms).lower()
            return LinearResult(said, None, float("nan"), None, None, 0.0, t1 - t0)
        x = np.asarray(self.h.getSolution().col_value)
        if self.last is not None and not np.isclose(float(self.cost @ x), float(info.objective_function_value), rtol=1e-7, atol=1e-7):
            self.last = None  # the starting columns came back in place of the solution's: solve again without them
            return self.solve()
        self.last = x
        values = np.zeros(self.model.n_vars)
        values[self.keep] = self.last
        status = "optimal" if ms == S.kOptimal else "time_limit"
        bound = float(info.mip_dual_bound) if np.isfinite(info.mip_dual_bound) else None
        gap = float(info.mip_gap) if np.isfinite(info.mip_gap) else None
        return LinearResult(status, values, float(info.objective_function_value), bound, 0.0 if status == "optimal" else gap, 0.0, t1 - t0)
