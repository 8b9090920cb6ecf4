"""Solve the selection MILP with HiGHS or CBC through PuLP, and read back the clusters."""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass, field

import numpy as np

from ..config import Solver
from ..errors import InfeasibleError, SolverError
from .backend import LinearResult, solve_linear, solver_version
from .highs import ReusableHighs, SolverProgress, highs_options
from .chain import SitingProblem
from .chain_solution import Facilities, Supplies, read_chain
from .chain_solve import ChainSolver
from .components import Vars, build_model, separate_spacing
from .overlap import assign_members, assign_or_cut, hub_model, hubs_first, small_solver
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

    def certainty(self) -> str:
        """How sure the solver is, in words: proven, or the time limit ran out with (or without) a bound."""
        if self.proven_optimal:
            return "proven optimal"
        if self.bound is None:
            return ("NOT proven optimal: the time limit ran out before the solver found any bound on the best objective, "
                    "so how far this selection is from the best is unknown; allow a longer solver.time_limit_s")
        gap = f" (gap {self.gap:.2%})" if self.gap is not None else ""
        return f"NOT proven optimal: the time limit ran out; no selection can score above {self.bound:.4f}{gap}"

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


def solve(pb: SelectionProblem, cfg: Solver | None = None, diagnose: bool = True, on_progress=None) -> Solution:
    """Build and solve; raise InfeasibleError (no selection meets the rules, and why) or SolverError.

    The whole stage, lazy rounds and diagnosis included, keeps to ``cfg.time_limit_s``: when it runs
    out, the best selection found is returned with the solver's bound, or with none if it found none.
    ``on_progress`` is called with a SolverProgress while HiGHS works.
    """
    cfg = cfg or Solver()
    t0 = time.perf_counter()
    deadline = time.monotonic() + cfg.time_limit_s
    split = hubs_first(pb)
    model, v = hub_model(pb) if split else build_model(pb)
    if (model.lb > model.ub).any():
        raise InfeasibleError(_why(pb, cfg, diagnose, t0))
    built = time.perf_counter() - t0
    runner = _Runner(model, cfg, deadline, on_progress, members=len(v.x) > 0)
    added: set[int] = set()
    rounds = assign_rounds = 0
    owner = bound = None
    earlier: list[np.ndarray] = []  # the hubs of each earlier round's answer, to repair if the time runs out
    while True:
        rounds += 1
        res = runner.solve(greedy_start(pb, model, v) if rounds == 1 else None)
        if res.status == "infeasible":
            raise InfeasibleError(_why(pb, cfg, diagnose, t0))
        if res.values is None:
            raise SolverError(f"solver {cfg.name}: no selection found within solver.time_limit_s = {cfg.time_limit_s:g} s "
                              f"(status: {res.status}); allow a longer time limit")
        hubs = np.flatnonzero(res.values[v.y] > 0.5)
        if res.bound is not None:  # every round solves a relaxation of the next: the least bound holds for all
            bound = res.bound if bound is None else min(bound, res.bound)
            res = dataclasses.replace(res, bound=bound, gap=0.0 if res.status == "optimal" else abs(bound - res.objective) / max(abs(res.objective), 1e-9))
        if pb.lazy_spacing and separate_spacing(pb, model, v, res.values, added) > 0:
            note = f"round {rounds + 1}, spacing rows added where chosen hubs were too close"
        elif not split:
            break
        else:
            assign_rounds += 1
            owner = assign_or_cut(pb, model, v, res.values, runner.assign, deadline)
            if owner is not None:
                break
            note = f"round {rounds + 1}, hubs that cannot share their members ruled out together"
        if res.status != "optimal" or time.monotonic() > deadline:
            # The time ran out on an answer that breaks a rule: the best that can be said is a repair of it.
            res, owner = _repaired(pb, model, v, res, [hubs, *earlier], split, runner)
            break
        earlier.append(hubs)
        if on_progress is not None:
            on_progress(SolverProgress(None, res.bound, None, max(0.0, deadline - time.monotonic()), note))
    hubs, member_of = _clusters(pb, v, res.values, owner)
    blocks = model.block_sizes() | ({"spacing_rounds": rounds} if pb.lazy_spacing else {}) | ({"assignment_rounds": assign_rounds} if split else {})
    return Solution(hubs, pb.ids[hubs], member_of, res.objective, res.bound, res.gap, res.status, cfg.name, solver_version(cfg.name),
                    model.n_vars, model.n_rows, blocks, built + runner.build_s, runner.solve_s)


def _repaired(pb: SelectionProblem, model, v: Vars, res, answers: list[np.ndarray], split: bool, runner: "_Runner"):
    """(the result, each unit's hub or None) when the time ran out on an answer that breaks spacing or cannot share its
    members: each round's answer repaired (its hubs kept where they fit the rules, the rest filled greedily), the best
    repair kept, with the solver's bound (the rules' relaxation)."""
    repairs = [x for x in (greedy_start(pb, model, v, prefer=hubs) for hubs in answers) if x is not None]
    for k, x in enumerate(sorted(repairs, key=lambda x: -float(model.obj @ x))):
        if split and k and time.monotonic() > runner.deadline:
            break  # each try assigns members: past the deadline, one try only
        owner = assign_members(pb, np.flatnonzero(x[v.y] > 0.5), runner.assign, nearest=True) if split else None
        if split and owner is None:
            continue
        value = float(model.obj @ x)
        gap = None if res.bound is None else abs(res.bound - value) / max(abs(value), 1e-9)
        return LinearResult("time_limit", x, value, res.bound, gap, 0.0, 0.0), owner
    raise SolverError(f"solver {runner.cfg.name}: the time limit ran out before a selection meeting every rule was found; "
                      "allow a longer solver.time_limit_s")


class _Runner:
    """One model solved, and re-solved after lazy rows, within one deadline: HiGHS held in one instance
    (passed as arrays, warm between rounds, watched for the deadline and for progress), or CBC through PuLP."""

    def __init__(self, model, cfg: Solver, deadline: float, on_progress=None, members: bool = True):
        t = time.perf_counter()
        self.model, self.cfg, self.deadline = model, cfg, deadline
        self.highs = None
        self.assign = small_solver(cfg, deadline)  # solves the members' assignment of chosen hubs
        if cfg.name == "highs":
            self.highs = ReusableHighs(model, cfg, options=highs_options(cfg, model, deadline - time.monotonic(), members), relax_first=False)
            self.highs.watch(deadline=deadline, on_progress=on_progress)
        self.build_s, self.solve_s = time.perf_counter() - t, 0.0

    def solve(self, start: np.ndarray | None):
        left = max(self.deadline - time.monotonic(), 0.5)
        if self.highs is None:
            res = solve_linear(self.model, self.cfg.model_copy(update={"time_limit_s": left}), start)
            self.build_s += res.build_seconds
        else:
            if start is not None:
                self.highs.warm_start(start)
            self.highs.finish_by(self.deadline)
            res = self.highs.solve()
        self.solve_s += res.solve_seconds
        return res


def _why(pb: SelectionProblem, cfg: Solver, diagnose: bool, started: float) -> str:
    """Why no selection exists, found within what is left of the solver's time budget."""
    if not diagnose:
        return "no selection meets the rules"
    from .diagnose import explain_infeasible

    left = max(0.0, cfg.time_limit_s - (time.perf_counter() - started))
    return explain_infeasible(pb, cfg, deadline=time.monotonic() + left)


def _clusters(pb: SelectionProblem, v: Vars, values: np.ndarray, owner: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(hubs, cluster of each unit); ``owner``: each unit's hub when members were assigned apart from the hubs."""
    y = values[v.y] > 0.5
    hub_idx = np.flatnonzero(y)
    if owner is None:
        # Without member variables (disjoint clusters) every unit in reach of an open hub is its member.
        x = values[v.x] > 0.5 if len(v.x) else y[v.pair_j]
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


def solve_siting(sp: SitingProblem, cfg: Solver | None = None, diagnose: bool = True, unit_names: np.ndarray | None = None,
                 on_progress=None) -> Solution:
    """Solve a siting problem: the one-type case exactly as ``solve``, a chain as one MILP over every type (in rounds).
    ``on_progress`` is called with a SolverProgress (best, bound, gap, time left) while HiGHS works."""
    cfg = cfg or Solver()
    if sp.single:
        return solve(sp.first, cfg, diagnose, on_progress)
    t0 = time.perf_counter()
    if diagnose:  # rules that fail on their own are named before anything is built
        from .chain_diagnose import plain_reason

        reason = plain_reason(sp)
        if reason:
            raise InfeasibleError(reason)
    sp.check_links()
    chain = ChainSolver(sp, cfg)
    chain.on_progress = on_progress
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
