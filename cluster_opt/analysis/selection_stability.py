"""Exact stability of the chosen selection: for each criterion's weight (the others rescaled in proportion), the
interval in which the sites chosen stay an optimal answer.

The selection S (its hubs, or a chain's new facilities by type) is optimal at weight t when the best objective
at t equals the best objective with S forced in. Both come from the re-solve engine. The set of t where S stays
optimal is an interval around the config's weight: the objective is linear in the weights, so S's optimality
region is a polyhedron, and a line through it meets it in an interval. Each side is bracketed by bisection to
1e-3; where every facility type follows the weights (one-type scenarios, chains without weights of their own)
the objective is linear in t and the breakpoint is then found exactly, as the crossing of S's value line with
the line of the answer that beats it just beyond, and confirmed by a re-solve there.
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd

from ..errors import InfeasibleError
from ..model.engine import Engine
from .stability import weights_at

TOL = 1e-7  # objective tolerance of "equally good"
STEP = 1e-3  # bracket width before the exact crossing is tried


class Probe:
    """Solves at a weighting: the optimum, and the best with the selection forced in."""

    def __init__(self, res, engine: Engine | None = None):
        from .sweep import build_setup

        self.res = res
        self.setup = build_setup(res.prepared, res)
        self.engine = engine or Engine(self.setup.problem, res.cfg.solver)
        self.selection: dict[str, list[int]] = {}
        for t, j in res.solution.sites(next(iter(self.setup.problem.types))):
            self.selection.setdefault(t, []).append(j)
        self.linear = not self.setup.own  # every type follows the weights: the objective is linear in them
        self.solves = 0
        self._seen: dict[bytes, tuple] = {}  # answers by weighting along one side: its crossing asks again for the last bracket

    def forget(self) -> None:
        self._seen.clear()

    def at(self, w: np.ndarray) -> tuple[bool, float, float, object]:
        """(selection optimal at w, its best value, the optimum, the optimal solution) at weights w."""
        key = np.asarray(w, dtype=float).tobytes()
        if key in self._seen:
            return self._seen[key]
        scores = self.setup.scores(w)
        self.solves += 2
        best = self.engine.solve(scores)
        try:
            mine = self.engine.solve(scores, forced_in=self.selection).objective
        except InfeasibleError:
            mine = -np.inf
        self._seen[key] = out = (best.objective - mine <= TOL * max(1.0, abs(best.objective)), mine, best.objective, best)
        return out

    def value_line(self, w0: np.ndarray, w1: np.ndarray, sol) -> tuple[float, float]:
        """A solution's value at w0 and at w1 (its sites, members and supplies fixed): two points of its line."""
        return self._value(w0, sol), self._value(w1, sol)

    def _value(self, w: np.ndarray, sol) -> float:
        scores = self.setup.scores(w)
        sp = self.engine.problem(scores)
        if sol.facilities is None:
            from ..model.evaluate import evaluate

            return float(evaluate(sp.first, sol.hub_index, sol.member_of).objective)
        from ..model.chain_check import evaluate_chain

        return float(evaluate_chain(sp, sol).objective)


def _side(p: Probe, base: np.ndarray, c: int, t0: float, end: float, deadline: float) -> tuple[float, str]:
    """How far from t0 toward end the selection stays optimal: (the boundary, "exact" | "within 1e-3" | "not settled")."""
    p.forget()
    ok, *_ = p.at(weights_at(base, c, end))
    if ok:
        return end, "exact"
    inside, outside = t0, end
    while abs(outside - inside) > STEP:
        if time.monotonic() > deadline:
            return inside, "not settled"
        mid = 0.5 * (inside + outside)
        ok, *_ = p.at(weights_at(base, c, mid))
        if ok:
            inside = mid
        else:
            outside = mid
    if p.linear:  # the crossing of the selection's line and the line of the answer that wins just outside
        ok, mine, best, sol = p.at(weights_at(base, c, outside))
        wa, wb = weights_at(base, c, inside), weights_at(base, c, outside)
        a_in, a_out = p.value_line(wa, wb, sol)
        _, s_in, *_ = p.at(wa)
        s_out = mine
        da, db = s_in - a_in, s_out - a_out  # selection minus winner: ≥ 0 inside, < 0 outside
        if da >= -TOL and db < 0 and da != db:
            cross = inside + (outside - inside) * da / (da - db)
            ok, *_ = p.at(weights_at(base, c, cross))
            if ok:
                return cross, "exact"
    return inside, "within 1e-3"


def selection_stability(res, budget_s: float | None = None, engine: Engine | None = None) -> pd.DataFrame:
    """Per criterion: its weight and the [low, high] range of it (others rescaled in proportion) in which the chosen
    selection stays optimal, how each end was found, and the solves it took."""
    names = list(res.scores.normalized.columns)
    base = np.array([res.scores.weights[k] for k in names], dtype=float)
    base = base / base.sum()
    rows = []
    if budget_s is not None and res.solution.solve_seconds > budget_s / 8:
        for k, name in enumerate(names):
            rows.append({"criterion": name, "weight": base[k], "low": np.nan, "high": np.nan, "low_found": "not computed", "high_found": "not computed",
                         "solves": 0})
        return pd.DataFrame(rows)
    p = Probe(res, engine)
    deadline = time.monotonic() + (budget_s if budget_s is not None else np.inf)
    for k, name in enumerate(names):
        before = p.solves
        low, how_low = _side(p, base, k, base[k], 0.0, deadline)
        high, how_high = _side(p, base, k, base[k], 1.0, deadline)
        rows.append({"criterion": name, "weight": base[k], "low": low, "high": high, "low_found": how_low, "high_found": how_high,
                     "solves": p.solves - before})
    return pd.DataFrame(rows)
