"""Exact stability of the chosen selection: for each criterion's weight (the others rescaled in proportion), the
interval in which the sites chosen stay an optimal answer.

The selection S (its hubs, or a chain's new facilities by type) is optimal at weight t when the best objective
at t equals the best objective with S forced in. Both come from the re-solve engine. The set of t where S stays
optimal is an interval around the config's weight: the objective is linear in the weights, so S's optimality
region is a polyhedron, and a line through it meets it in an interval. Where every facility type follows the
weights (one-type scenarios, chains without weights of their own) the objective is linear in t and each side's
breakpoint is found exactly: the crossing of S's value line with the line of the answer that beats it at the far
end, moved in to the next answer's crossing wherever another one wins there, and confirmed by re-solves at the
crossing (S optimal) and just beyond it (S beaten). Otherwise each side is bracketed by bisection to 1e-3.
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd

from ..errors import InfeasibleError
from ..model.engine import Engine
from .stability import weights_at

TOL = 1e-7  # objective tolerance of "equally good"
STEP = 1e-3  # bracket width of a side found by bisection
STABILITY_BUDGET_S = 20.0  # what a run spends on the stability of its selection at most


class Probe:
    """Solves at a weighting: the optimum, and the best with the selection forced in."""

    def __init__(self, setup, selection: dict[str, list[int]], engine: Engine | None = None):
        self.setup = setup
        self.engine = engine or Engine(setup.problem, setup.solver)
        self.selection = selection
        self.linear = not self.setup.own  # every type follows the weights: the objective is linear in them
        # Where members add nothing and the selection fills every type's count, what completes it (members, supplies)
        # does not depend on the weights: its best completion, found once, gives its value at any weighting.
        types = self.setup.problem.types
        self.completion_fixed = all(pb.member_weight == 0 and len(self.selection.get(t, [])) == pb.most for t, pb in types.items())
        self._completion = None
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
        best = self.engine.solve(scores)
        self.solves += 1
        if self._completion is not None:
            mine = self._value(w, self._completion)
        else:
            self.solves += 1
            try:
                completion = self.engine.solve(scores, forced_in=self.selection)
                mine = completion.objective
                if self.completion_fixed:
                    self._completion = completion
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
    if time.monotonic() > deadline:
        return t0, "not settled"
    ok, *_ = p.at(weights_at(base, c, end))
    if ok:
        return end, "exact"
    if p.linear:
        found = _crossings(p, base, c, t0, end, deadline)
        if found is not None:
            return found
    return _bisect(p, base, c, t0, end, deadline)


def _crossings(p: Probe, base: np.ndarray, c: int, inside: float, outside: float, deadline: float) -> tuple[float, str] | None:
    """The boundary as the crossing of the selection's value line with the line of the answer that beats it at
    ``outside``; where another answer wins at that crossing, it becomes the new outside, and so on (each answer
    is met once). A crossing where the selection is optimal is confirmed by a re-solve just beyond it. None where
    the lines do not cross as they must (then bisection decides)."""
    sign = 1.0 if outside > inside else -1.0
    for _ in range(64):
        if time.monotonic() > deadline:
            return inside, "not settled"
        wa, wb = weights_at(base, c, inside), weights_at(base, c, outside)
        _, s_in, *_ = p.at(wa)
        _, s_out, _, winner = p.at(wb)
        a_in, a_out = p.value_line(wa, wb, winner)
        da, db = s_in - a_in, s_out - a_out  # selection minus winner: ≥ 0 inside, < 0 outside
        if not (da >= -TOL and db < 0 and da != db):
            return None
        cross = inside + (outside - inside) * max(da, 0.0) / (da - db)
        ok, *_ = p.at(weights_at(base, c, cross))
        if not ok:
            outside = cross
            continue
        # just beyond: far enough that the winner's lead there clearly exceeds the "equally good" tolerance
        slope = (da - db) / abs(outside - inside)
        beyond = cross + sign * min(STEP, max(STEP * 1e-3, 10 * TOL * max(1.0, abs(s_in)) / slope))
        if (beyond - outside) * sign >= 0:
            return cross, "exact"
        ok, *_ = p.at(weights_at(base, c, beyond))
        if not ok:
            return cross, "exact"
        inside = beyond
    return None


def _bisect(p: Probe, base: np.ndarray, c: int, inside: float, outside: float, deadline: float) -> tuple[float, str]:
    """The boundary bracketed to STEP by bisection (where the objective is not linear in the weight)."""
    while abs(outside - inside) > STEP:
        if time.monotonic() > deadline:
            return inside, "not settled"
        mid = 0.5 * (inside + outside)
        ok, *_ = p.at(weights_at(base, c, mid))
        if ok:
            inside = mid
        else:
            outside = mid
    return inside, "within 1e-3"


def selection_of(res) -> dict[str, list[int]]:
    """The chosen selection as unit rows by facility type."""
    out: dict[str, list[int]] = {}
    for t, j in res.solution.sites(next(iter(res.siting.types))):
        out.setdefault(t, []).append(j)
    return out


def stability_sides(setup, sides) -> list[tuple[float, str, int]]:
    """One batch of sides (runs on a worker): each (selection, criterion, its weight, the far end, seconds allowed)
    gives (boundary, how it was found, solves)."""
    from .workers import engine_for

    out = []
    for selection, c, t0, end, budget in sides:
        p = Probe(setup, selection, engine_for(setup))
        found = _side(p, setup.base / setup.base.sum(), c, t0, end, time.monotonic() + budget)
        out.append((*found, p.solves))
    return out


def selection_stability(res, budget_s: float | None = None, engine: Engine | None = None, workers: int = 0,
                        scheduler: str | None = None, progress=None) -> pd.DataFrame:
    """Per criterion: its weight and the [low, high] range of it (others rescaled in proportion) in which the chosen
    selection stays optimal, how each end was found, and the solves it took. Each side of each range is one task:
    here, one after the other within ``budget_s``, or spread over Dask ``workers`` (or a ``scheduler``), each side
    then within ``budget_s``. ``progress(n)`` is told as n sides are done."""
    from .sweep import build_setup
    from .workers import run_batches

    names = list(res.scores.normalized.columns)
    base = np.array([res.scores.weights[k] for k in names], dtype=float)
    base = base / base.sum()
    rows = []
    if budget_s is not None and res.resolve_seconds > budget_s / 8:  # a side takes several re-solves
        for k, name in enumerate(names):
            rows.append({"criterion": name, "weight": base[k], "low": np.nan, "high": np.nan, "low_found": "not computed", "high_found": "not computed",
                         "solves": 0})
        return pd.DataFrame(rows)
    setup = build_setup(res.prepared, res)
    selection = selection_of(res)
    sides = [(selection, k, base[k], end, np.inf if budget_s is None else budget_s) for k in range(len(names)) for end in (0.0, 1.0)]
    if workers or scheduler:
        found = run_batches(stability_sides, setup, sides, workers, scheduler, batch=1, progress=progress).results
    else:  # here: one engine, and one time budget for every side together
        p = Probe(setup, selection, engine)
        deadline = time.monotonic() + (budget_s if budget_s is not None else np.inf)
        found = []
        for _, k, t0, end, _ in sides:
            before = p.solves
            found.append((*_side(p, base, k, t0, end, deadline), p.solves - before))
            if progress:
                progress(1)
    for k, name in enumerate(names):
        (low, how_low, n_low), (high, how_high, n_high) = found[2 * k], found[2 * k + 1]
        rows.append({"criterion": name, "weight": base[k], "low": low, "high": high, "low_found": how_low, "high_found": how_high,
                     "solves": n_low + n_high})
    return pd.DataFrame(rows)
