"""One re-solve engine: a siting problem built once into one HiGHS instance and re-solved warm after small changes.

Sweeps, why / why-not, alternatives, stability and the live explorer all solve one model many
times: with other scores (weights), with a site forced in or out, or with a cut that forbids
an earlier answer. The rows never change (lazy spacing rows aside), so the model is passed to
HiGHS once; each change is a cost or bound change and a warm re-solve (the LP relaxation
first, the MIP only when its optimum is fractional). Every answer is re-checked by the
independent evaluator before it is returned.
"""

from __future__ import annotations

import dataclasses
import time

import numpy as np

from ..config import Solver
from ..errors import InfeasibleError, SolverError
from .backend import solver_version
from .highs import ReusableHighs
from .overlap import assign_or_cut, hubs_first, small_solver
from .chain import SitingProblem
from .chain_check import check_chain
from .chain_model import add_conflict, build_siting_model
from .chain_solve import ChainSolver
from .components import separate_spacing
from .evaluate import check
from .solve import Solution, _clusters, chain_solution


class Engine:
    """A prepared model of a siting problem. ``solve`` takes new type scores, sites forced in or out, and cuts."""

    def __init__(self, sp: SitingProblem, cfg: Solver | None = None, unit_names=None):
        """``unit_names``: each unit's name, for a chain's new facilities (default: the unit ids)."""
        cfg = (cfg or Solver()).model_copy(update={"threads": None, "name": "highs"})
        self.sp, self.cfg, self.unit_names = sp, cfg, unit_names
        self.chain = None if sp.single else ChainSolver(sp, cfg)
        self.hubs_first = sp.single and hubs_first(sp.first)
        self.owner: np.ndarray | None = None  # with hubs first: each unit's hub in the last answer
        if self.chain is None:
            self.model, self.vars = build_siting_model(sp)
            self.impossible = bool((self.model.lb > self.model.ub).any())
            self.highs = None if self.impossible else ReusableHighs(self.model, cfg)
        else:
            self.impossible = self.chain.impossible
        self.added: dict[str, set[int]] = {t: set() for t in sp.types}

    def objective(self, scores: dict[str, np.ndarray]) -> np.ndarray:
        """The objective of the one-type model for new site scores."""
        obj = self.model.obj.copy()
        for t, s in scores.items():
            pb, v = self.sp.types[t], self.vars.types[t]
            s = np.asarray(s, dtype=float)
            brings = pb.member_weight * pb.member_scale * s
            if len(v.x):
                obj[v.y] = s
                obj[v.x] = brings[v.pair_i]
            elif self.hubs_first:  # overlapping clusters, hubs first: a hub its score, a covered unit what it brings
                obj[v.y] = s
                if len(v.z):
                    obj[v.z] = brings
            else:  # hub-only forms: a hub carries what its members bring (nothing, for a chain's facility)
                obj[v.y] = s + np.bincount(v.pair_j, weights=brings[v.pair_i], minlength=pb.n) if len(v.pair_j) else s
        return obj

    def problem(self, scores: dict[str, np.ndarray] | None) -> SitingProblem:
        """The siting problem with the given scores (for the independent check)."""
        if not scores:
            return self.sp
        return dataclasses.replace(self.sp, types={t: dataclasses.replace(pb, score=np.asarray(scores.get(t, pb.score), dtype=float))
                                                  for t, pb in self.sp.types.items()})

    def solve(self, scores: dict[str, np.ndarray] | None = None, forced_in: dict[str, list[int]] | None = None,
              forced_out: dict[str, list[int]] | None = None) -> Solution:
        """The optimum with these scores and these sites (unit rows) forced in or out of each type; InfeasibleError if none."""
        if self.impossible:
            raise InfeasibleError("no siting meets the rules (a rule rules out every choice before solving)")
        if self.chain is not None:
            return self._solve_chain(scores, forced_in or {}, forced_out or {})
        cols, lo, hi = self._bounds(forced_in or {}, forced_out or {})
        obj = self.objective(scores) if scores else None
        h = self.highs
        saved = h.bounds(cols)
        try:
            if not h.set_bounds(cols, lo, hi):
                raise InfeasibleError("a site forced in is ruled out by the rules")
            res = self._lazy(obj, "no siting meets the rules with these changes")
        finally:
            h.set_bounds(*saved)
        return self._solution(self.problem(scores), res)

    def forbid(self, solution: Solution) -> None:
        """A cut that rules out this exact set of new sites: at least one of them must change."""
        if self.chain is not None:
            group = solution.sites(next(iter(self.sp.types)))
            self.chain.plan.conflicts.append(group)  # kept if the model is rebuilt
            add_conflict(self.chain.model, self.chain.vars, group)
        else:
            cols = self.vars.types[next(iter(self.sp.types))].y[solution.hub_index]
            self.model.add_rows("no_good", np.zeros(len(cols), int), cols, np.ones(len(cols)), -np.inf, float(len(cols) - 1), 1)

    def keep_objective_at_least(self, floor: float) -> None:
        """A row that keeps every later answer's objective (with the scores the model holds now) at least floor."""
        if self.chain is not None:
            from .chain_model import objective_floor

            self.chain.plan.floor = float(floor)  # kept if the model is rebuilt
            objective_floor(self.sp, self.chain.model, self.chain.vars, self.chain.plan)
            return
        cols = np.flatnonzero(self.model.obj)
        self.model.add_rows("near_optimal", np.zeros(len(cols), int), cols, self.model.obj[cols], float(floor), np.inf, 1)

    def solve_cost(self, cost_of) -> Solution:
        """The answer that maximizes another objective, cost_of(model, vars), over the same rules and cuts, valued and
        re-checked with the model's own objective."""
        if self.chain is not None:
            res, served = self.chain.solve_cost(cost_of, time.monotonic() + self.cfg.time_limit_s)
            sp = self.problem(self.chain.scores)
            sol = chain_solution(sp, self.chain, res, served, self.cfg, unit_names=self.unit_names)
            check_chain(sp, sol)
            return sol
        own = self.model.obj.copy()
        h = self.highs
        try:
            res = self._lazy(np.asarray(cost_of(self.model, self.vars), dtype=float),
                             "no other selection meets the rules and the objective's floor")
        finally:
            h.set_cost(own)
        value = float(own @ res.values)
        return self._solution(self.sp, dataclasses.replace(res, objective=value, bound=None, gap=None))

    def _lazy(self, obj: np.ndarray | None, infeasible: str):
        """Solve with this cost (None: keep it), adding the spacing rows an answer breaks until it breaks none."""
        while True:
            res = self.highs.solve(obj)
            obj = None  # the cost is set; lazy rounds re-solve with it
            if res.status == "infeasible":
                raise InfeasibleError(infeasible)
            if res.values is None:
                raise SolverError(f"a re-solve stopped without a solution ({res.status}); allow a longer solver.time_limit_s")
            if sum(separate_spacing(pb, self.model, self.vars.types[t], res.values, self.added[t])
                   for t, pb in self.sp.types.items() if pb.lazy_spacing):
                continue
            if not self.hubs_first:
                return res
            deadline = time.monotonic() + self.cfg.time_limit_s
            self.owner = assign_or_cut(self.sp.first, self.model, self.vars.types[next(iter(self.sp.types))], res.values,
                                       small_solver(self.cfg, deadline), deadline)
            if self.owner is not None:
                return res

    def _solve_chain(self, scores, forced_in: dict[str, list[int]], forced_out: dict[str, list[int]]) -> Solution:
        chain = self.chain
        if scores:
            chain.set_scores(scores)
        bounds = [(t, u, 1.0, 1.0) for t, u in forced_in.items()] + [(t, u, 0.0, 0.0) for t, u in forced_out.items()]
        res, served = chain.solve(time.monotonic() + self.cfg.time_limit_s, bounds)
        sp = self.problem(chain.scores)
        sol = chain_solution(sp, chain, res, served, self.cfg, unit_names=self.unit_names)
        check_chain(sp, sol)
        return sol

    def _bounds(self, forced_in: dict[str, list[int]], forced_out: dict[str, list[int]]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        cols, lo, hi = [], [], []
        for t, units in forced_in.items():
            y = self.vars.types[t].y[np.asarray(units, dtype=int)]
            cols.append(y), lo.append(np.ones(len(y))), hi.append(np.ones(len(y)))
        for t, units in forced_out.items():
            y = self.vars.types[t].y[np.asarray(units, dtype=int)]
            cols.append(y), lo.append(np.zeros(len(y))), hi.append(np.zeros(len(y)))
        if not cols:
            return np.empty(0, int), np.empty(0), np.empty(0)
        return np.concatenate(cols), np.concatenate(lo), np.concatenate(hi)

    def _solution(self, sp: SitingProblem, res) -> Solution:
        """Read the values back as a Solution and re-check it independently."""
        m = self.model
        common = dict(objective=res.objective, bound=res.bound, gap=res.gap, status=res.status, solver="highs",
                      solver_version=solver_version("highs"), n_vars=m.n_vars, n_rows=m.n_rows, blocks=m.block_sizes(),
                      solve_seconds=res.solve_seconds)
        pb = sp.first
        hubs, member_of = _clusters(pb, self.vars.types[next(iter(sp.types))], res.values, self.owner if self.hubs_first else None)
        check(pb, hubs, member_of, res.objective)
        return Solution(hubs, pb.ids[hubs], member_of, **common)
