"""Why these sites, and why not that one: exact re-solves with a site forced out or in, and the reason in words.

For every chosen site, the **replacement cost** is the objective lost when it is forbidden
and the model is solved again. For a unit that was not chosen, the **force-in cost** is the
objective lost when it must host one. Both come from the re-solve engine (one HiGHS
instance, warm), and every answer is re-checked by the independent evaluator. The reason
names what binds:
- a rule that rules the unit out (excluded, site rules, a requirement its circle cannot reach);
- the chosen sites it would have to displace by spacing or a per-state limit;
- or, when it is merely worse, the criterion on which it falls furthest behind the site it would replace.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..errors import InfeasibleError, InputError, SolverError, did_you_mean
from ..geo import haversine_km
from ..model.engine import Engine

TIE = 1e-9


@dataclass
class Verdict:
    unit: int  # row among the units
    type: str
    chosen: bool
    replacement_cost: float | None = None  # chosen: objective lost without it (inf: nothing else meets the rules)
    force_in_cost: float | None = None  # not chosen: objective lost with it (inf: no selection with it meets the rules)
    reason: str = ""


def _fmt(x: float) -> str:
    return f"{x:,.0f}" if abs(x) >= 100 else f"{x:,.3g}"


class Why:
    """Answers for one run: built once (the engine), asked for any unit."""

    def __init__(self, res, engine: Engine | None = None):
        self.res = res
        self.sp = res.siting
        self._engine = engine
        self.base = res.solution.objective
        u = res.prepared.units
        self.names = [f"{n}, {s}" if isinstance(s, str) and s else str(n) for n, s in zip(u["name"], u["state"])]
        from ..siting import type_weights

        norm = res.scores.normalized
        self.criteria = list(norm.columns)
        # Per type: each unit's weighted criteria (what its site score is made of).
        self.contrib = {t: norm.to_numpy(dtype=float) * np.array([type_weights(res.cfg, t, res.scores.weights)[k] for k in self.criteria])
                        if res.cfg.is_chain else res.scores.contributions.to_numpy(dtype=float) for t in self.sp.types}
        self.labels = {k: (c.label or k) for k, c in res.cfg.criteria.items()}
        self.picked = self._picks(res.solution)
        self.supplier_km: dict[int, np.ndarray] = {}  # per link: each unit's distance to its nearest possible supplier
        self.answers: dict[tuple, object] = {}  # re-solves done ahead (on workers): a solution, None (infeasible) or an error

    @property
    def engine(self) -> Engine:
        """The warm model, built on the first re-solve asked here (none where every answer was solved ahead)."""
        if self._engine is None:
            self._engine = Engine(self.sp, self.res.cfg.solver)
        return self._engine

    # -- costs ------------------------------------------------------------------------------
    def _cost(self, forced_in=None, forced_out=None) -> tuple[float, object | None]:
        key = _change_key(forced_in, forced_out)
        if key in self.answers:
            sol = self.answers[key]
            if isinstance(sol, str):
                raise SolverError(sol)
        else:
            sol = solve_change(self.engine, _scores(self.sp), forced_in, forced_out)
        if sol is None:
            return float("inf"), None
        return max(self.base - sol.objective, 0.0), sol

    def needs_solve(self, t: str, j: int, chosen: bool) -> dict | None:
        """The change whose re-solve answers for this site (None where a rule answers on its own)."""
        if chosen:
            return {"forced_out": {t: [j]}}
        return None if self._ruled_out(t, j) else {"forced_in": {t: [j]}}

    def solve_ahead(self, asks: list[tuple[str, int, bool]], workers: int, scheduler: str | None, progress=None) -> int:
        """Every re-solve these answers need, spread over Dask workers (or a scheduler); how many there were."""
        from .sweep import build_setup
        from .workers import run_batches

        changes = [c for c in (self.needs_solve(*a) for a in asks) if c is not None]
        done = run_batches(solve_changes, build_setup(self.res.prepared, self.res), changes, workers, scheduler, batch=2, progress=progress)
        for c, sol in zip(changes, done.results):
            self.answers[_change_key(c.get("forced_in"), c.get("forced_out"))] = sol
        return len(changes)

    def chosen(self, t: str, j: int) -> Verdict:
        cost, sol = self._cost(forced_out={t: [j]})
        v = Verdict(j, t, True, replacement_cost=cost)
        if sol is None:
            v.reason = f"no selection without it meets the rules: {self.names[j]} is irreplaceable"
            return v
        new = sorted(set(self._picks(sol)) - set(self.picked))
        into = "; ".join(f"{self.names[k]}" + (f" ({tt})" if len(self.sp.types) > 1 else "") for tt, k in new)
        share = cost / abs(self.base) if self.base else 0.0
        v.reason = (f"without it the best selection loses {_fmt(cost)} ({share:.1%})" + (f"; the next best takes {into}" if into else "")
                    if cost > TIE else "an equally good selection exists without it" + (f" (with {into})" if into else ""))
        return v

    def not_chosen(self, t: str, j: int) -> Verdict:
        v = Verdict(j, t, False)
        ruled = self._ruled_out(t, j)
        if ruled:
            v.force_in_cost, v.reason = float("inf"), ruled
            return v
        cost, sol = self._cost(forced_in={t: [j]})
        v.force_in_cost = cost
        if sol is None:
            v.reason = self._unreachable(t, j) or (f"no selection with {self.names[j]} as {t} meets the rules together"
                                                   if len(self.sp.types) > 1 else f"no selection with {self.names[j]} meets the rules together")
            return v
        share = cost / abs(self.base) if self.base else 0.0
        out = sorted(set(self.picked) - set(self._picks(sol)))
        if cost <= TIE:
            v.reason = "forcing it in costs nothing: it ties the optimum"
            return v
        head = f"forcing it in costs {_fmt(cost)} ({share:.1%})"
        parts = [head, self._conflict(t, j), self._weaker(t, j, sol, [k for tt, k in out if tt == t])]
        v.reason = "; ".join(p for p in parts if p)
        return v

    # -- reasons ----------------------------------------------------------------------------
    def _picks(self, sol) -> list[tuple[str, int]]:
        return sol.sites(next(iter(self.sp.types)))

    def _ruled_out(self, t: str, j: int) -> str:
        """A rule that forbids the site on its own, in words ('' if none)."""
        pb = self.sp.types[t]
        key = pb.key
        if pb.ids[j] in pb.exclude:
            return f"{key}.exclude rules it out"
        if not pb.can_host[j]:
            return f"the site rules of {t} rule it out"
        if len(pb.requirements):
            reach = pb.reach[j]  # every unit within the radius, its own included
            short = [(name, reach[r], need) for r, (name, need) in enumerate(zip(pb.requirement_names, pb.requirements))
                     if reach[r] < need * (1 - 1e-9)]
            if short:
                name, got, need = short[0]
                return f"its {pb.radius_km:g} km circle reaches {_fmt(got)} {name}, below the {_fmt(need)} required"
        return ""

    def _unreachable(self, t: str, j: int) -> str:
        """A supply link that no supplier could serve at this site, in words ('' if every link could be served)."""
        for li, link in enumerate(self.sp.links):
            if link.to != t:
                continue
            if li not in self.supplier_km:
                self.supplier_km[li] = self.sp.supplier_km(link)
            d = float(self.supplier_km[li][j])
            if d > link.max_km:
                near = f"; the nearest possible one is {d:,.0f} km away" if np.isfinite(d) else ""
                return f"no {link.source} can lie within {link.max_km:g} km of it (link {link.source} → {t}){near}"
        return ""

    def _conflict(self, t: str, j: int) -> str:
        """The chosen sites of the same type it cannot stand beside (spacing, per-state limit), in words."""
        pb = self.sp.types[t]
        same = [k for tt, k in self.picked if tt == t]
        if not same:
            return ""
        d = haversine_km(pb.lat[j], pb.lon[j], pb.lat[same], pb.lon[same])
        close = [k for k, dk in zip(same, np.atleast_1d(d)) if dk < pb.spacing_km]
        parts = []
        if close:
            parts.append(f"it lies within {pb.spacing_km:g} km of {', '.join(self.names[k] for k in close)}, which would have to give way")
        if pb.max_per_state is not None:
            in_state = [k for k in same if pb.states[k] == pb.states[j]]
            if len(in_state) >= pb.max_per_state:
                parts.append(f"{pb.states[j]} already holds {len(in_state)} of the chosen sites (at most {pb.max_per_state} per state)")
        return "; ".join(parts)

    def _brings(self, t: str, j: int, member_of: np.ndarray, k: int) -> np.ndarray:
        """Per criterion, what the site at j (cluster or facility k of a solution) puts into the objective: its own
        weighted criteria, plus what its members bring (clusters of hubs)."""
        pb = self.sp.types[t]
        c = self.contrib[t]
        out = c[j].copy()
        if self.res.solution.facilities is None and pb.member_weight:
            members = np.flatnonzero(member_of == k)
            members = members[members != j]
            out += pb.member_weight * (pb.member_scale[members][:, None] * c[members]).sum(axis=0)
        return out

    def _weaker(self, t: str, j: int, sol, displaced: list[int]) -> str:
        """What its cluster (or site) would bring against what the sites it displaces brought, and the criterion
        on which it falls furthest behind. Where the re-solve also moves other sites of its type, the comparison is
        of every site that comes in against every site that goes."""
        if not displaced:
            return ""
        picks = self._picks(sol)
        arriving = [k for tt, k in picks if tt == t and (tt, k) not in self.picked]
        gained = sum(self._brings(t, k, sol.member_of, picks.index((t, k))) for k in arriving)
        base = self.res.solution
        lost = sum(self._brings(t, k, base.member_of, self.picked.index((t, k))) for k in displaced)
        gap = lost - gained
        c = int(np.argmax(gap))
        name = self.criteria[c]
        names = ", ".join(self.names[k] for k in displaced)
        behind = f"falling furthest behind on {self.labels.get(name, name)} ({gained[c]:.3f} against {lost[c]:.3f})"
        if arriving == [j]:
            what = "its cluster" if base.facilities is None else "it"
            return f"{what} would bring {gained.sum():.3f} to the objective against {lost.sum():.3f} from {names}, {behind}"
        came = ", ".join(self.names[k] for k in arriving)
        return (f"the sites that come in with it ({came}) would bring {gained.sum():.3f} to the objective against "
                f"{lost.sum():.3f} from those that go ({names}), {behind}")

def _scores(sp) -> dict[str, np.ndarray]:
    """The site scores the run was solved with, named every time (an engine shared with other analyses may hold others)."""
    return {t: pb.score for t, pb in sp.types.items()}


def _change_key(forced_in, forced_out) -> tuple:
    return tuple(sorted((t, "in", tuple(u)) for t, u in (forced_in or {}).items())) + tuple(sorted((t, "out", tuple(u)) for t, u in (forced_out or {}).items()))


def solve_change(engine: Engine, scores, forced_in=None, forced_out=None):
    """The optimum with these sites forced in or out: a checked solution, or None where no selection meets the rules."""
    try:
        return engine.solve(scores, forced_in=forced_in, forced_out=forced_out)
    except InfeasibleError:
        return None


def solve_changes(setup, changes: list[dict]) -> list:
    """One batch of forced-in / forced-out re-solves (runs on a worker): per change, a checked solution, None
    (infeasible) or the solver's error in words."""
    from .workers import engine_for

    engine = engine_for(setup)
    out = []
    for c in changes:
        try:
            out.append(solve_change(engine, _scores(setup.problem), c.get("forced_in"), c.get("forced_out")))
        except SolverError as e:
            out.append(str(e))
    return out


RUN_BUDGET_S = 20.0  # what a run spends on why / why not at most (cluster-opt why has no limit)


def importance(res, top: int | None = None, units: list[str] | None = None, budget_s: float | None = None,
               engine: Engine | None = None, key: str = "why", workers: int = 0, scheduler: str | None = None,
               progress=None) -> pd.DataFrame:
    """``importance.csv``: every chosen site's replacement cost, and the force-in cost of ``units`` (unit ids) and of
    the ``top`` best-ranked units not chosen (20, 5 per facility type for a chain; none when units are given and top
    is not), each with its reason. ``key`` names where the units came from, for messages.

    ``budget_s`` bounds the time spent here (a re-solve is not cut short: none starts once a solve would overrun
    it); the rows it leaves unsolved say so. With Dask ``workers`` (or a ``scheduler``) every re-solve is spread
    over them instead, with no budget. ``progress(0, total)`` is told how many answers to expect, then ``progress(n)`` as
    n more are answered."""
    t0 = time.monotonic()
    chain = res.solution.facilities is not None
    top = (5 if chain else 20) if top is None else top
    why = Why(res, engine) if budget_s is None or res.solution.solve_seconds <= budget_s / 2 else None
    if why is None:  # one re-solve would take most of the budget: say so, and how to get it
        return _unsolved(res, f"not computed in the run: a re-solve takes about {res.solution.solve_seconds:.0f} s; "
                              "cluster-opt why CONFIG UNIT_ID computes it")
    ids = res.prepared.units["id"].to_numpy()
    asks = [(t, j, True) for t, j in why.picked]
    asked = set(why.picked)
    pos = {u: k for k, u in enumerate(ids)}
    for u in units or []:
        if u not in pos:
            raise InputError(f'{key}: unknown unit id "{u}"{did_you_mean(u, ids[:5000])}; expected ids of units in the study area '
                             "(5-digit FIPS for counties, as in scores.csv)")
        j = pos[u]
        for t in (tt for tt, pb in why.sp.types.items() if pb.most > 0):
            if (t, j) not in asked:
                asked.add((t, j))
                asks.append((t, j, False))
    for t, pb in why.sp.types.items():
        if pb.most == 0:
            continue
        order = np.lexsort((ids, -pb.score))  # best site score first, ties by id
        for j in [int(j) for j in order if (t, int(j)) not in asked][:top]:
            asked.add((t, j))
            asks.append((t, j, False))
    if progress:
        progress(0, len(asks))  # how many answers to expect
    if workers or scheduler:
        solved = why.solve_ahead(asks, workers, scheduler, progress)
        if progress:
            progress(len(asks) - solved)  # the answers a rule gives without a re-solve
        budget_s, progress = None, None
    rows: list[Verdict] = []
    last = [float(res.solution.solve_seconds)]  # how long a re-solve takes: the solver's time, then the last one's
    for t, j, chosen in asks:
        if budget_s is not None and time.monotonic() - t0 + last[0] > budget_s:  # the next re-solve would overrun
            rows.append(Verdict(j, t, chosen, reason="not computed: the time allowed for why / why not ran out; "
                                                     "cluster-opt why CONFIG UNIT_ID computes it"))
            continue
        started = time.monotonic()
        try:
            rows.append(why.chosen(t, j) if chosen else why.not_chosen(t, j))
        except SolverError as e:
            rows.append(Verdict(j, t, chosen, reason=f"not settled: {e}"))
        last[0] = time.monotonic() - started
        if progress:
            progress(1)
    return _table(res, rows, why.sp)


def _unsolved(res, reason: str) -> pd.DataFrame:
    rows = [Verdict(j, t, True, reason=reason) for t, j in res.solution.sites(next(iter(res.siting.types)))]
    return _table(res, rows, res.siting)


def _table(res, rows: list[Verdict], sp) -> pd.DataFrame:
    ids = res.prepared.units["id"].to_numpy()
    u = res.prepared.units
    rank = res.scores.rank.to_numpy()
    chain = res.solution.facilities is not None
    df = pd.DataFrame({
        "unit_id": [ids[v.unit] for v in rows], "name": [u["name"].iat[v.unit] for v in rows], "state": [u["state"].iat[v.unit] for v in rows],
        **({"type": [v.type for v in rows]} if chain else {}),
        "rank": [int(rank[v.unit]) for v in rows], "site_score": [float(sp.types[v.type].score[v.unit]) for v in rows],
        "chosen": [v.chosen for v in rows],
        "replacement_cost": [v.replacement_cost for v in rows], "force_in_cost": [v.force_in_cost for v in rows],
        "reason": [v.reason for v in rows],
    })
    return df
