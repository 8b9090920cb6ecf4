"""A chain solved exactly in rounds on one HiGHS instance: each round re-solves warm after adding what the last answer lacked.

After each solve: spacing rows for hubs that break a lazily kept spacing rule; requirement
conflicts for chosen facilities that cannot all be served (``members``); and, where the
optimum took a costed link's "farther" option, more nearest suppliers for those sites (the
model is rebuilt, conflicts kept). The last answer breaks no rule and uses no farther option,
so it is optimal for the whole model. The time limit covers every round.
"""

from __future__ import annotations

import dataclasses
import time

import numpy as np

from ..config import Solver
from ..errors import InfeasibleError, SolverError
from .backend import LinearResult, solve_linear
from .highs import ReusableHighs, SolverProgress
from .chain import SitingProblem
from .chain_model import ChainPlan, add_conflict, add_shortfall, build_siting_model
from .components import separate_spacing
from .members import assign_members


class ChainSolver:
    """A chain's model held for solving and re-solving (new scores, bounds on sites), with its rounds."""

    def __init__(self, sp: SitingProblem, cfg: Solver):
        # presolve auto: on where clusters co-locate types (their centre rows are what presolve and the primal
        # heuristics, given more effort, settle at the root), off otherwise (its probing of dense link rows is slow).
        if cfg.presolve == "auto":
            cfg = cfg.model_copy(update={"presolve": "on" if sp.clusters is not None else "off"})
        # Co-location's relaxation is fractional: the MIP is run at once, with more effort on primal heuristics.
        self.options = {"mip_heuristic_effort": 0.3} if sp.clusters is not None else {}
        self.sp, self.cfg = sp, cfg
        self.plan = ChainPlan.start(sp)
        self.scores: dict[str, np.ndarray] = {}
        self.fixed: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None  # (type-site keys, lo, hi) kept across rebuilds
        self.rounds = 0
        self.cost_of = None  # another objective, for near-optimal alternatives
        self.on_progress = None  # called with a SolverProgress while HiGHS works
        self._build()

    def _build(self) -> None:
        self.model, self.vars = build_siting_model(self.sp, self.plan)
        self.added = {t: set() for t in self.sp.types}
        self.highs = ReusableHighs(self.model, self.cfg, self.options, relax_first=self.sp.clusters is None) if self.cfg.name == "highs" and not self.impossible else None
        if self.scores:
            self.set_scores(self.scores)
        if self.cost_of is not None and self.highs is not None:
            self.highs.set_cost(self.cost_of(self.model, self.vars))

    def solve_cost(self, cost_of, deadline: float) -> tuple[LinearResult, np.ndarray]:
        """The answer maximizing another objective, cost_of(model, vars) (asked again after each rebuild), over the same
        rules; its objective is then the model's own."""
        if self.highs is None:
            raise SolverError("another objective needs HiGHS")
        self.cost_of = cost_of
        self.highs.set_cost(cost_of(self.model, self.vars))
        try:
            res, served = self.solve(deadline)
        finally:
            self.cost_of = None
            if self.highs is not None:
                self.highs.set_cost(self.model.obj)
        return dataclasses.replace(res, objective=float(self.model.obj @ res.values), bound=None, gap=None), served

    @property
    def impossible(self) -> bool:
        return bool((self.model.lb > self.model.ub).any())

    def set_scores(self, scores: dict[str, np.ndarray]) -> None:
        """New site scores per type (the rows stay; only the objective changes)."""
        self.scores = {**self.scores, **scores}
        for t, s in scores.items():
            self.model.obj[self.vars.types[t].y] = np.asarray(s, dtype=float)
        if self.highs is not None:
            self.highs.set_cost(self.model.obj)

    def solve(self, deadline: float, bounds: list[tuple[str, np.ndarray, float, float]] = ()) -> tuple[LinearResult, np.ndarray]:
        """(the optimum, member_of per unit as an index into the chosen new facilities in type order), within the deadline.

        ``bounds``: (type, unit rows, lower, upper) for sites forced in or out during this solve only."""
        if self.impossible:
            raise InfeasibleError("no siting meets the rules (a rule rules out every choice before solving)")
        while True:
            self.rounds += 1
            if self.on_progress is not None and self.rounds > 1:
                self.on_progress(SolverProgress(None, None, None, max(0.0, deadline - time.monotonic()),
                                                f"round {self.rounds}, the chain's rules added where the last answer broke them"))
            res = self._once(deadline, bounds)
            if res.status == "infeasible":
                raise InfeasibleError("no siting meets the rules")
            if res.values is None:
                raise SolverError(f"solver {self.cfg.name} stopped without a solution (status: {res.status}); try a longer solver.time_limit_s")
            if time.monotonic() > deadline and res.status != "optimal":
                break
            cut = sum(separate_spacing(pb, self.model, self.vars.types[t], res.values, self.added[t])
                      for t, pb in self.sp.types.items() if pb.lazy_spacing)
            if cut:
                continue
            if self._enlarge(res.values):
                self._build()
                continue
            chosen = self.chosen(res.values)
            short = [(li, s) for li, link in enumerate(self.sp.links) if link.capacity is not None and link.cost_per_km == 0
                     for s in [shortfall(self.sp, li, chosen)] if s is not None]
            for li, sites in short:
                self.plan.shortfalls.append((li, sites))
                add_shortfall(self.sp, self.model, self.vars, li, sites)
            if short:
                continue
            member_of, conflicts = assign_members(self.sp, chosen, self.cfg)
            if not conflicts:
                return res, member_of
            for group in conflicts:
                self.plan.conflicts.append(group)
                add_conflict(self.model, self.vars, group)
        raise SolverError(f"solver {self.cfg.name}: the time limit ran out before the chain's rules were all enforced; allow a longer solver.time_limit_s")

    def chosen(self, values: np.ndarray) -> list[tuple[str, int]]:
        """The new facilities of an answer as (type, unit row), in type order."""
        return [(t, int(j)) for t in self.sp.types for j in np.flatnonzero(values[self.vars.types[t].y] > 0.5)]

    def _once(self, deadline: float, bounds) -> LinearResult:
        left = max(deadline - time.monotonic(), 1.0)
        cols = [self.vars.types[t].y[np.asarray(units, dtype=int)] for t, units, _, _ in bounds]
        if self.highs is None:
            saved = [(c, self.model.lb[c].copy(), self.model.ub[c].copy()) for c in cols]
            for c, (_, _, lo, hi) in zip(cols, bounds):
                self.model.lb[c], self.model.ub[c] = lo, hi
            try:
                return solve_linear(self.model, self.cfg.model_copy(update={"time_limit_s": left}))
            finally:
                for c, lo, hi in saved:
                    self.model.lb[c], self.model.ub[c] = lo, hi
        h = self.highs
        h.on_progress = self.on_progress
        h.finish_by(deadline)
        saved = [h.bounds(c) for c in cols]
        try:
            for c, (_, _, lo, hi) in zip(cols, bounds):
                if not h.set_bounds(c, np.full(len(c), lo), np.full(len(c), hi)):
                    return LinearResult("infeasible", None, float("nan"), None, None, 0.0, 0.0)
            return h.solve()
        finally:
            for c, lo, hi in saved:
                h.set_bounds(c, lo, hi)

    def _enlarge(self, values: np.ndarray) -> bool:
        """Where the optimum takes a farther supplier option, write more nearest suppliers; True if the model must be rebuilt."""
        grew = False
        for li, lv in enumerate(self.vars.links):
            if lv is None or not len(lv.far):
                continue
            used = lv.far_site[values[lv.far] > 1e-6]
            if len(used):
                self.plan.nearest[li][used] *= 4
                grew = True
        return grew


def shortfall(sp: SitingProblem, li: int, chosen: list[tuple[str, int]]) -> np.ndarray | None:
    """The downstream sites of a capacitated link that the open suppliers cannot all serve (a set S with fewer than
    |S| / capacity open suppliers in reach, found by a maximum flow), or None when every facility has a supplier."""
    from scipy.sparse import csr_matrix
    from scipy.sparse.csgraph import breadth_first_order, maximum_flow

    from ..geo import haversine_km

    link = sp.links[li]
    p = sp.first
    down = np.array([j for t, j in chosen if t == link.to], dtype=int)
    up = [(p.lat[j], p.lon[j]) for t, j in chosen if t == link.source]
    ex = sp.existing.get(link.source)
    if ex is not None:
        up += list(zip(ex.lat, ex.lon))
    if not len(down):
        return None
    a, b = len(down), len(up)
    lat, lon = np.array([u[0] for u in up]), np.array([u[1] for u in up])
    reach = haversine_km(p.lat[down][:, None], p.lon[down][:, None], lat[None, :], lon[None, :]) <= link.max_km + 1e-6 if b else np.zeros((a, 0), bool)
    src, sink = 0, a + b + 1
    di, si = np.nonzero(reach)
    rows = np.concatenate([np.zeros(a, int), 1 + di, 1 + a + np.arange(b)])
    cols = np.concatenate([1 + np.arange(a), 1 + a + si, np.full(b, sink)])
    caps = np.concatenate([np.ones(a, int), np.ones(len(di), int), np.full(b, int(link.capacity))])
    graph = csr_matrix((caps.astype(np.int32), (rows, cols)), shape=(sink + 1, sink + 1))
    flow = maximum_flow(graph, src, sink)
    if flow.flow_value >= a:
        return None
    residual = graph - flow.flow
    residual.data = np.maximum(residual.data, 0)
    residual.eliminate_zeros()
    seen = breadth_first_order(residual, src, directed=True, return_predecessors=False)
    s = seen[(seen >= 1) & (seen <= a)] - 1
    return np.sort(down[s])
