"""Solve the selection MILP with HiGHS or CBC through PuLP, and read back the clusters."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from ..config import Solver
from ..errors import InfeasibleError, SolverError
from .backend import solve_linear, solver_version
from .chain import SitingProblem
from .chain_solution import Facilities, Supplies, read_chain
from .chain_solve import ChainSolver
from .components import Vars, build_model, separate_spacing
from .start import greedy_start
from .problem import SelectionProblem


@dataclass
class Solution:
    """The chosen clusters and how sure the solver is of them."""

    hub_index: np.ndarray  # row position of each cluster's hub among the problem's units, cluster k = hub_index[k]
    hubs: np.ndarray  # the unit id of each cluster's hub
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
    # A chain's solution (None for one facility type): every facility, who supplies whom, open cluster centres.
    facilities: Facilities | None = None
    supplies: Supplies | None = None
    centres: np.ndarray | None = None

    @property
    def proven_optimal(self) -> bool:
        return self.status == "optimal"

    def sites(self, single_type: str) -> list[tuple[str, int]]:
        """What was picked, as (type, unit row): the hubs (of the one type), or a chain's new facilities."""
        fac = self.facilities
        if fac is None:
            return [(single_type, int(h)) for h in self.hub_index]
        return [(str(t), int(j)) for t, j in zip(fac.type[fac.new], fac.unit[fac.new])]

    def summary(self) -> dict:
        return {
            "status": self.status, "proven_optimal": self.proven_optimal, "objective": self.objective,
            "bound": self.bound, "gap": self.gap, "solver": self.solver, "solver_version": self.solver_version,
            "variables": self.n_vars, "constraints": self.n_rows, "constraint_blocks": self.blocks,
            "build_seconds": round(self.build_seconds, 3), "solve_seconds": round(self.solve_seconds, 3),
        }


def solve(pb: SelectionProblem, cfg: Solver | None = None, diagnose: bool = True) -> Solution:
    """Build and solve; raise InfeasibleError (no selection meets the rules, and why) or SolverError."""
    cfg = cfg or Solver()
    t0 = time.perf_counter()
    model, v = build_model(pb)
    if (model.lb > model.ub).any():
        raise InfeasibleError(_why(pb, cfg, diagnose, t0))
    built = time.perf_counter() - t0
    added: set[int] = set()
    rounds, build_s, solve_s = 0, built, 0.0
    while True:
        rounds += 1
        left = cfg.time_limit_s - (time.perf_counter() - t0)
        start = greedy_start(pb, model, v) if rounds == 1 else None
        res = solve_linear(model, cfg.model_copy(update={"time_limit_s": max(left, 1.0)}), start)
        build_s, solve_s = build_s + res.build_seconds, solve_s + res.solve_seconds
        if res.status == "infeasible":
            raise InfeasibleError(_why(pb, cfg, diagnose, t0))
        if res.values is None:
            raise SolverError(f"solver {cfg.name} stopped without a solution (status: {res.status}); try a longer solver.time_limit_s")
        if not pb.lazy_spacing or separate_spacing(pb, model, v, res.values, added) == 0:
            break
        if time.perf_counter() - t0 > cfg.time_limit_s:
            raise SolverError(f"solver {cfg.name}: the time limit ran out while enforcing min_spacing_km; allow a longer solver.time_limit_s")
    hubs, member_of = _clusters(pb, v, res.values)
    blocks = model.block_sizes() | ({"spacing_rounds": rounds} if pb.lazy_spacing else {})
    return Solution(hubs, pb.ids[hubs], member_of, res.objective, res.bound, res.gap, res.status, cfg.name, solver_version(cfg.name),
                    model.n_vars, model.n_rows, blocks, build_s, solve_s)


def _why(pb: SelectionProblem, cfg: Solver, diagnose: bool, started: float) -> str:
    """Why no selection exists, found within what is left of the solver's time budget."""
    if not diagnose:
        return "no selection meets the rules"
    from .diagnose import explain_infeasible

    left = max(0.0, cfg.time_limit_s - (time.perf_counter() - started))
    return explain_infeasible(pb, cfg, deadline=time.monotonic() + left)


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


def solve_siting(sp: SitingProblem, cfg: Solver | None = None, diagnose: bool = True, unit_names: np.ndarray | None = None) -> Solution:
    """Solve a siting problem: the one-type case exactly as ``solve``, a chain as one MILP over every type (in rounds)."""
    cfg = cfg or Solver()
    if sp.single:
        return solve(sp.first, cfg, diagnose)
    t0 = time.perf_counter()
    if diagnose:  # rules that fail on their own are named before anything is built
        from .chain_diagnose import plain_reason

        reason = plain_reason(sp)
        if reason:
            raise InfeasibleError(reason)
    sp.check_links()
    chain = ChainSolver(sp, cfg)
    if chain.impossible:
        raise InfeasibleError(_why_chain(sp, cfg, diagnose, t0))
    build_s = time.perf_counter() - t0
    try:
        res, served = chain.solve(time.monotonic() + max(cfg.time_limit_s - build_s, 1.0))
    except InfeasibleError:
        raise InfeasibleError(_why_chain(sp, cfg, diagnose, t0)) from None
    return chain_solution(sp, chain, res, served, cfg, build_s, unit_names)


def chain_solution(sp: SitingProblem, chain, res, served: np.ndarray, cfg: Solver, build_s: float = 0.0, unit_names: np.ndarray | None = None) -> Solution:
    """A chain's answer as a Solution: its facilities, members, suppliers and clusters."""
    fac, member_of, supplies, centres = read_chain(sp, chain.vars, res.values, served, unit_names)
    m = chain.model
    blocks = m.block_sizes() | {"rounds": chain.rounds}
    return Solution(fac.unit[fac.new], fac.ident[fac.new], member_of, res.objective, res.bound, res.gap, res.status, cfg.name,
                    solver_version(cfg.name), m.n_vars, m.n_rows, blocks, build_s, res.solve_seconds, fac, supplies, centres)


def _why_chain(sp: SitingProblem, cfg: Solver, diagnose: bool, started: float) -> str:
    """Which rule of a chain cannot be met, found within what is left of the solver's time budget."""
    if not diagnose:
        return "no siting meets the rules"
    from .chain_diagnose import explain_chain

    left = max(0.0, cfg.time_limit_s - (time.perf_counter() - started))
    return explain_chain(sp, cfg, deadline=time.monotonic() + min(left, 60.0))
