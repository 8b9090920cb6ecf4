"""Hand a LinearModel to a solver through PuLP and read back status, values, bound and gap."""

from __future__ import annotations

import os
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
import pulp

from ..config import Solver
from ..errors import SolverError
from .linear import LinearModel


@dataclass
class LinearResult:
    status: str  # "optimal", "time_limit" (a solution, not proven), "infeasible", or the solver's word
    values: np.ndarray | None
    objective: float
    bound: float | None
    gap: float | None
    build_seconds: float
    solve_seconds: float


@contextmanager
def quiet_stdout(quiet: bool):
    """Silence output written straight to file descriptor 1 by a native library."""
    if not quiet:
        yield
        return
    sys.stdout.flush()
    saved = os.dup(1)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 1)
        yield
    finally:
        os.dup2(saved, 1)
        os.close(saved)
        os.close(devnull)


class _HiGHS(pulp.HiGHS):
    """PuLP's HiGHS interface without the banner HiGHS prints when it starts, and with a starting solution."""

    start: list[tuple[pulp.LpVariable, float]] | None = None

    def createAndConfigureSolver(self, lp):
        with quiet_stdout(not self.msg):
            super().createAndConfigureSolver(lp)

    def callSolver(self, lp):
        if self.start:
            import highspy

            values = [0.0] * len(lp.variables())
            for var, val in self.start:
                values[var.index] = val
            sol = highspy.HighsSolution()
            sol.col_value = values
            sol.value_valid = True
            lp.solverModel.setSolution(sol)
        super().callSolver(lp)


def _solver(cfg: Solver):
    if cfg.name == "highs":
        extra = {"presolve": cfg.presolve} if cfg.presolve != "auto" else {}
        return _HiGHS(msg=cfg.log, timeLimit=cfg.time_limit_s, gapRel=cfg.mip_gap, threads=cfg.threads, **extra)
    return pulp.PULP_CBC_CMD(msg=cfg.log, timeLimit=cfg.time_limit_s, gapRel=cfg.mip_gap, threads=cfg.threads)


def solver_version(name: str) -> str:
    if name == "highs":
        import highspy

        return f"HiGHS {highspy.HIGHS_VERSION_MAJOR}.{highspy.HIGHS_VERSION_MINOR}.{highspy.HIGHS_VERSION_PATCH}"
    return f"CBC (PuLP {pulp.__version__})"


def _read_status(prob: pulp.LpProblem, cfg: Solver, sign: float) -> tuple[str, float, float | None, float | None]:
    if cfg.name == "highs":
        import highspy

        h = prob.solverModel
        ms = h.getModelStatus()
        info = h.getInfo()
        S = highspy.HighsModelStatus
        if ms in (S.kInfeasible, S.kUnboundedOrInfeasible):
            return "infeasible", float("nan"), None, None
        has_sol = info.primal_solution_status == 2  # kSolutionStatusFeasible
        # PuLP hands HiGHS a minimization (of -objective when maximizing): ``sign`` flips it back.
        if ms == S.kOptimal:
            obj = sign * float(info.objective_function_value)
            bound = sign * float(info.mip_dual_bound) if np.isfinite(info.mip_dual_bound) else obj
            return "optimal", obj, bound, max(0.0, float(info.mip_gap)) if np.isfinite(info.mip_gap) else 0.0
        if has_sol:
            obj = sign * float(info.objective_function_value)
            bound = sign * float(info.mip_dual_bound) if np.isfinite(info.mip_dual_bound) else None
            gap = float(info.mip_gap) if np.isfinite(info.mip_gap) else None
            return "time_limit", obj, bound, gap
        return h.modelStatusToString(ms).lower(), float("nan"), None, None
    st, sol = prob.status, prob.sol_status
    if st == pulp.LpStatusInfeasible or sol == pulp.LpSolutionInfeasible:
        return "infeasible", float("nan"), None, None
    obj = pulp.value(prob.objective)
    obj = float(obj) if obj is not None else float("nan")
    if sol == pulp.LpSolutionOptimal:
        return "optimal", obj, obj, 0.0
    if sol == pulp.LpSolutionIntegerFeasible:
        return "time_limit", obj, None, None
    return pulp.LpStatus.get(st, "unknown").lower(), obj, None, None


def solve_linear(model: LinearModel, cfg: Solver | None = None, start: np.ndarray | None = None) -> LinearResult:
    """Solve through PuLP with HiGHS or CBC (from ``start`` when given); values are None when no solution was found."""
    cfg = cfg or Solver()
    t0 = time.perf_counter()
    prob, xs = model.to_pulp()
    solver = _solver(cfg)
    if start is not None:
        if cfg.name == "highs":
            solver.start = list(zip(xs, start.tolist()))
        else:
            for x, val in zip(xs, start.tolist()):
                x.setInitialValue(val)
            solver.optionsDict["warmStart"] = True
    t1 = time.perf_counter()
    try:
        prob.solve(solver)
    except pulp.PulpSolverError as e:
        raise SolverError(f"solver {cfg.name}: {e}") from None
    t2 = time.perf_counter()
    status, objective, bound, gap = _read_status(prob, cfg, -1.0 if model.sense == "max" else 1.0)
    values = None
    if status in ("optimal", "time_limit"):
        values = np.array([x.varValue if x.varValue is not None else 0.0 for x in xs])
        if start is not None and not np.isclose(float(model.obj @ values), objective, rtol=1e-7, atol=1e-7):
            # HiGHS can report the optimum's value with the starting solution's columns when presolve
            # solves the model outright: solve again without a start rather than trust either.
            return solve_linear(model, cfg)
    return LinearResult(status, values, objective, bound, gap, t1 - t0, t2 - t1)
