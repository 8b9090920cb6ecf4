"""Solve the selection MILP with HiGHS or CBC through PuLP, and read back the clusters."""

from __future__ import annotations

import os
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np
import pulp

from ..config import Solver
from ..errors import InfeasibleError, SolverError
from .components import Vars, build_model
from .problem import SelectionProblem


@dataclass
class Solution:
    """The chosen clusters and how sure the solver is of them."""

    hubs: np.ndarray  # unit index of each cluster's hub, cluster k = hubs[k]
    member_of: np.ndarray  # per unit: cluster number (0-based) or -1
    objective: float
    bound: float | None
    gap: float | None
    status: str  # "optimal" or "time_limit" (best found, not proven)
    solver: str
    solver_version: str
    n_vars: int
    n_rows: int
    blocks: dict[str, int] = field(default_factory=dict)
    build_seconds: float = 0.0
    solve_seconds: float = 0.0

    @property
    def proven_optimal(self) -> bool:
        return self.status == "optimal"

    def summary(self) -> dict:
        return {
            "status": self.status, "proven_optimal": self.proven_optimal, "objective": self.objective,
            "bound": self.bound, "gap": self.gap, "solver": self.solver, "solver_version": self.solver_version,
            "variables": self.n_vars, "constraints": self.n_rows, "constraint_blocks": self.blocks,
            "build_seconds": round(self.build_seconds, 3), "solve_seconds": round(self.solve_seconds, 3),
        }


@contextmanager
def _quiet_stdout(quiet: bool):
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
    """PuLP's HiGHS interface without the banner HiGHS prints when it starts."""

    def createAndConfigureSolver(self, lp):
        with _quiet_stdout(not self.msg):
            super().createAndConfigureSolver(lp)


def _solver(cfg: Solver):
    if cfg.name == "highs":
        return _HiGHS(msg=cfg.log, timeLimit=cfg.time_limit_s, gapRel=cfg.mip_gap, threads=cfg.threads)
    return pulp.PULP_CBC_CMD(msg=cfg.log, timeLimit=cfg.time_limit_s, gapRel=cfg.mip_gap, threads=cfg.threads)


def solver_version(name: str) -> str:
    if name == "highs":
        import highspy

        return f"HiGHS {highspy.HIGHS_VERSION_MAJOR}.{highspy.HIGHS_VERSION_MINOR}.{highspy.HIGHS_VERSION_PATCH}"
    return f"CBC (PuLP {pulp.__version__})"


def solve(pb: SelectionProblem, cfg: Solver | None = None) -> Solution:
    """Build and solve; raise InfeasibleError (no selection meets the rules) or SolverError."""
    cfg = cfg or Solver()
    t0 = time.perf_counter()
    model, v = build_model(pb)
    if (model.lb > model.ub).any():
        from .diagnose import explain_infeasible

        raise InfeasibleError(explain_infeasible(pb, cfg))
    prob, xs = model.to_pulp()
    t1 = time.perf_counter()
    try:
        prob.solve(_solver(cfg))
    except pulp.PulpSolverError as e:
        raise SolverError(f"solver {cfg.name}: {e}") from None
    t2 = time.perf_counter()
    status, objective, bound, gap = _read_status(prob, cfg)
    if status == "infeasible":
        from .diagnose import explain_infeasible

        raise InfeasibleError(explain_infeasible(pb, cfg))
    if status not in ("optimal", "time_limit"):
        raise SolverError(f"solver {cfg.name} stopped without a solution (status: {status}); try a longer solver.time_limit_s")
    values = np.array([x.varValue if x.varValue is not None else 0.0 for x in xs])
    hubs, member_of = _clusters(pb, v, values)
    return Solution(hubs, member_of, objective, bound, gap, status, cfg.name, solver_version(cfg.name),
                    model.n_vars, model.n_rows, model.block_sizes(), t1 - t0, t2 - t1)


def _read_status(prob: pulp.LpProblem, cfg: Solver) -> tuple[str, float, float | None, float | None]:
    if cfg.name == "highs":
        import highspy

        h = prob.solverModel
        ms = h.getModelStatus()
        info = h.getInfo()
        S = highspy.HighsModelStatus
        if ms in (S.kInfeasible, S.kUnboundedOrInfeasible):
            return "infeasible", float("nan"), None, None
        has_sol = info.primal_solution_status == 2  # kSolutionStatusFeasible
        # PuLP hands HiGHS the minimization of -objective: flip the signs back.
        if ms == S.kOptimal:
            obj = -float(info.objective_function_value)
            bound = -float(info.mip_dual_bound) if np.isfinite(info.mip_dual_bound) else obj
            return "optimal", obj, bound, max(0.0, float(info.mip_gap)) if np.isfinite(info.mip_gap) else 0.0
        if has_sol:
            obj = -float(info.objective_function_value)
            bound = -float(info.mip_dual_bound) if np.isfinite(info.mip_dual_bound) else None
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


def _clusters(pb: SelectionProblem, v: Vars, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    y = values[v.y] > 0.5
    # Without member variables (disjoint clusters) every unit in reach of an open hub is its member.
    x = values[v.x] > 0.5 if len(v.x) else y[v.pair_j]
    hub_idx = np.flatnonzero(y)
    owner = np.full(pb.n, -1)
    owner[v.pair_i[x]] = v.pair_j[x]
    owner[hub_idx] = hub_idx
    # Number clusters by total member score (best first), ties by hub id: stable across runs.
    totals = np.array([pb.score[owner == h].sum() for h in hub_idx])
    order = np.lexsort((pb.ids[hub_idx], -np.round(totals, 9)))
    hubs = hub_idx[order]
    number = np.full(pb.n, -1)
    number[hubs] = np.arange(len(hubs))
    member_of = np.where(owner >= 0, number[np.maximum(owner, 0)], -1)
    return hubs, member_of
