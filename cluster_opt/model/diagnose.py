"""Why no selection exists, in a planner's terms.

A diagnosis states only what it proved: a check that runs out of time is unknown, never
"infeasible", and a value found by a search that stopped early is given as a lower bound.
"""

from __future__ import annotations

import dataclasses
import enum
import math
import time
from dataclasses import dataclass

import numpy as np
from scipy.spatial import cKDTree

from ..config import Solver
from ..errors import ConfigError
from ..geo import chord_to_km, km_to_chord, pairs_within
from .backend import LinearResult, solve_linear
from .highs import ReusableHighs
from .components import Vars, build_model, separate_spacing
from .evaluate import evaluate
from .linear import INF, LinearModel
from .problem import SelectionProblem, requirement_floor
from .solve import _clusters
from .start import greedy_start

DIAGNOSIS_SECONDS = 60.0  # the whole explanation at most; less when the caller's time budget has less left
CHECK_SHARE = 0.5  # one check may use this share of the time left, so that a slow one leaves time for the rest
MIN_CHECK_SECONDS = 0.2  # with less time left a check is not started: its answer is unknown
SPACING_PAIRS = 2_000_000  # more close pairs of possible hubs than this: the spacing search bisects on values
SAME_KM = 1e-7  # distances closer than this are one candidate spacing


class Feasibility(enum.Enum):
    """A check's answer: FEASIBLE and INFEASIBLE are proven; the others say why there is no answer."""

    FEASIBLE = "feasible"
    INFEASIBLE = "infeasible"
    UNKNOWN = "the check ran out of time"
    FAILED = "the check could not be completed"  # the solver failed, or the check does not apply
    TOO_LARGE = "the model without that rule is too large to build"


@dataclass
class Bound:
    """The largest value of a rule that works: exact when ``proven``, else a value known to work (a lower bound)."""

    value: float | None
    proven: bool


@dataclass
class Diagnosis:
    """The rule that cannot be met, the message saying so, and the value behind it.

    ``rule`` and ``best``: "reach", no cluster reaches requirement ``requirement`` (best: the best
    cluster's total); "include_reach", an included unit's cluster cannot (best: its total);
    "spacing" and "requirement", the rule cannot be kept together with the others (best: the
    largest spacing, or value of the requirement, that works); "state"; "include"; "rules", no
    single rule found.
    """

    rule: str
    message: str
    requirement: int | None = None
    best: Bound | None = None
    unknown: bool = False  # some check was left without an answer


def _fmt(x: float, down: bool = False) -> str:
    """Thousands separated, one decimal from 10 up, three significant digits below; ``down``: never shown larger than it is."""
    decimals = 1 if x == 0 or abs(x) >= 10 else min(6, 2 - math.floor(math.log10(abs(x))))
    q = 10.0**decimals
    shown = math.floor(x * q + abs(x * q) * 1e-12) / q if down else x  # the allowance keeps a sum such as 125.39999999999999 at 125.4
    text = f"{shown:,.{decimals}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def reach(pb: SelectionProblem) -> np.ndarray:
    """The problem's reach, with units that may not host a cluster at -inf."""
    out = pb.reach.copy()
    out[~pb.can_host] = -np.inf
    return out


def _check_seconds(cfg: Solver, deadline: float) -> float | None:
    """The time limit of the next check: a share of what is left; None when too little is left to start one."""
    left = deadline - time.monotonic()
    if left < MIN_CHECK_SECONDS:
        return None
    return min(cfg.time_limit_s, max(MIN_CHECK_SECONDS, left * CHECK_SHARE))


def _solve(pb: SelectionProblem, model: LinearModel, v: Vars, cfg: Solver, deadline: float, presolve: bool = False) -> LinearResult | Feasibility:
    """Solve a check's model within the time box, adding spacing rows until no chosen hubs break the rule (large grids).

    Returns the result with a selection, or the check's state when there is none. Without
    ``presolve``, HiGHS solves the LP (held to half the time) and then the MIP, with no presolve:
    on dense spacing rows its presolve can run far past any time limit, while a yes-or-no check is
    often settled by the LP. Other solvers, and checks that gain from presolve, go through PuLP.
    """
    added: set[int] = set()
    while True:
        seconds = _check_seconds(cfg, deadline)
        if seconds is None:
            return Feasibility.UNKNOWN
        limited = cfg.model_copy(update={"mip_gap": 0.0, "time_limit_s": seconds})
        if cfg.name == "highs" and not presolve:
            highs = ReusableHighs(model, limited)
            highs.relax.setOptionValue("time_limit", seconds / 2)
            res = highs.solve()
        else:
            res = solve_linear(model, limited)
        if res.status == "infeasible":
            return Feasibility.INFEASIBLE
        if res.values is None:
            return Feasibility.UNKNOWN if "time" in res.status else Feasibility.FAILED
        if not pb.lazy_spacing or separate_spacing(pb, model, v, res.values, added) == 0:
            return res


def feasibility(pb: SelectionProblem, change: dict, cfg: Solver, deadline: float) -> tuple[Feasibility, np.ndarray | None]:
    """Whether a selection meets the rules with ``change`` made to them, and the hubs of one that does.

    The greedy start, checked against every row, proves feasibility without a solver; otherwise the
    model is solved with no objective, so that the first selection found ends the search.
    """
    if _check_seconds(cfg, deadline) is None:
        return Feasibility.UNKNOWN, None
    try:
        relaxed = dataclasses.replace(pb, **change)
    except ConfigError:
        return Feasibility.TOO_LARGE, None
    model, v = build_model(relaxed)
    if (model.lb > model.ub).any() or (model.ub[v.y] > 0.5).sum() < relaxed.clusters:
        return Feasibility.INFEASIBLE, None  # an included hub that cannot qualify, or too few hubs that can
    start = greedy_start(relaxed, model, v)
    if start is not None:
        return Feasibility.FEASIBLE, np.flatnonzero(start[v.y] > 0.5)
    model.obj = np.zeros(model.n_vars)
    res = _solve(relaxed, model, v, cfg, deadline)
    if isinstance(res, Feasibility):
        return res, None
    return Feasibility.FEASIBLE, np.flatnonzero(res.values[v.y] > 0.5)


def largest_requirement(pb: SelectionProblem, r: int, cfg: Solver, deadline: float) -> tuple[Feasibility, Bound]:
    """The largest t such that ``clusters`` hubs meeting every other rule give every cluster at least t of requirement r.

    One MILP over the problem's rows without requirement r: max t with t ≤ total_r(j) + (1 − y_j)
    for each possible hub j, t measured in units of the clusters-th largest reach so that t ≤ 1 and
    1 is a big M that holds (a closed hub's total is 0); and clusters · t ≤ the sum of all cluster
    totals, which tightens the LP bound. Also says whether the other rules admit a selection at all.
    """
    if (pb.amounts[:, r] < 0).any():
        return Feasibility.FAILED, Bound(None, False)  # the bound on t relies on totals ≥ 0 (layers refuse negative values)
    keep = np.arange(len(pb.requirements)) != r
    rest = dataclasses.replace(pb, amounts=pb.amounts[:, keep], requirements=pb.requirements[keep],
                               requirement_names=[n for k, n in enumerate(pb.requirement_names) if k != r])
    model, v = build_model(rest)
    host = np.flatnonzero(model.ub[v.y] > 0.5)
    if (model.lb > model.ub).any() or len(host) < pb.clusters:
        return Feasibility.INFEASIBLE, Bound(None, False)
    top = float(np.sort(pb.reach[host, r])[-pb.clusters])  # no t exceeds it: a chosen hub's total is at most its reach
    a, full = pb.amounts[:, r] / (top or 1.0), pb.reach[:, r] / (top or 1.0)
    model.obj = np.zeros(model.n_vars)
    t = model.add_vars("largest", 1, obj=1.0, ub=1.0, binary=False)[0]
    # Each possible hub's cluster total as (row, column, amount): its own amount and its members', or its whole reach when disjoint.
    rows, ones = np.arange(len(host)), np.ones(len(host))
    if len(v.x):
        row_of = np.full(pb.n, -1)
        row_of[host] = rows
        pairs = np.flatnonzero(row_of[v.pair_j] >= 0)
        tot_row, tot_col = np.concatenate([rows, row_of[v.pair_j[pairs]]]), np.concatenate([v.y[host], v.x[pairs]])
        tot_val = np.concatenate([a[host], a[v.pair_i[pairs]]])
    else:
        tot_row, tot_col, tot_val = rows, v.y[host], full[host]
    model.add_rows("largest_within_total", np.concatenate([rows, rows, tot_row]), np.concatenate([np.full(len(host), t), v.y[host], tot_col]),
                   np.concatenate([ones, ones, -tot_val]), -INF, 1.0, len(host))
    model.add_rows("largest_within_average", np.zeros(len(tot_col) + 1, int), np.append(tot_col, t), np.append(-tot_val, float(pb.clusters)),
                   -INF, 0.0, 1)
    res = _solve(rest, model, v, cfg, deadline, presolve=True)
    if isinstance(res, Feasibility):
        return res, Bound(None, False)
    # The value is read from the selection itself, re-checked by the independent evaluator.
    hubs, member_of = _clusters(rest, v, res.values)
    ev = evaluate(dataclasses.replace(pb, requirements=np.where(keep, pb.requirements, -np.inf)), hubs, member_of)
    if not ev.ok:
        return Feasibility.FAILED, Bound(None, False)
    return Feasibility.FEASIBLE, Bound(float(ev.cluster_totals[:, r].min()), res.status == "optimal")


def _closest_km(pb: SelectionProblem, hubs: np.ndarray) -> float:
    """The distance between the two closest hubs of a selection."""
    xyz = pb.xyz[np.asarray(hubs, dtype=int)]
    chords = np.linalg.norm(xyz[:, None, :] - xyz[None, :, :], axis=2)[np.triu_indices(len(xyz), 1)]
    return float(chord_to_km(chords.min())) if len(chords) else INF


def _pairs_between(tree: cKDTree, lo: float, hi: float) -> int:
    """How many pairs of the tree's points lie strictly between lo and hi km apart (counted, not listed)."""
    radii = km_to_chord(np.array([lo + SAME_KM, max(hi - SAME_KM, lo + SAME_KM)]))
    below = tree.count_neighbors(tree, radii)
    return int(below[1] - below[0]) // 2


def largest_spacing(pb: SelectionProblem, cfg: Solver, deadline: float, first: np.ndarray) -> tuple[Feasibility, Bound]:
    """The largest min_spacing_km at which ``clusters`` hubs meet the other rules, given hubs ``first`` that meet them.

    The answer is the distance between two units that may host and can reach every requirement, so
    the search bisects over those distances below the asked spacing (over values, when they are too
    many to list). A selection found lifts the lower end to its own closest pair, and the next check
    tries the next distance above it: infeasible there, the lower end is proven the answer. A check
    without an answer ends the search with the lower end as a lower bound.
    """
    if pb.clusters < 2:
        return Feasibility.FEASIBLE, Bound(None, False)
    qualify = pb.can_host.copy()
    if len(pb.requirements):  # a hub whose whole neighbourhood misses a requirement never qualifies
        qualify &= (pb.reach >= requirement_floor(pb.requirements)[None, :]).all(axis=1)
    tree = cKDTree(pb.xyz[qualify])
    lo, hi = _closest_km(pb, first), pb.spacing_km  # lo works; hi is the asked spacing, proven not to
    listed = None
    if _pairs_between(tree, 0.0, hi) <= SPACING_PAIRS:
        i, j, d = pairs_within(tree.data, tree.data, hi)
        listed = np.unique(d[i < j])
    next_above = False  # after a selection is found, try to prove it the best at once
    while True:
        if listed is not None:
            inside = listed[(listed > lo + SAME_KM) & (listed < hi - SAME_KM)]
            if not len(inside):
                return Feasibility.FEASIBLE, Bound(lo, True)
            trial = float(inside[0] if next_above else inside[len(inside) // 2])
        elif _pairs_between(tree, lo, hi) == 0:
            return Feasibility.FEASIBLE, Bound(lo, True)
        else:
            trial = (lo + hi) / 2
        state, hubs = feasibility(pb, {"spacing_km": trial}, cfg, deadline)
        if state is Feasibility.FEASIBLE:
            lo, next_above = max(lo, _closest_km(pb, hubs)), not next_above
        elif state is Feasibility.INFEASIBLE:
            hi, next_above = trial, False
        else:
            return state, Bound(lo, False)


def _deadline(cfg: Solver, deadline: float | None) -> float:
    """When the explanation must end: DIAGNOSIS_SECONDS (or the solver's time limit) from now, or the caller's deadline if sooner."""
    own = time.monotonic() + min(DIAGNOSIS_SECONDS, cfg.time_limit_s)
    return own if deadline is None else min(own, deadline)


def _largest(what: str, value: str, bound: Bound, why: Feasibility) -> str:
    """'; the largest ... is V', or 'is at least V (not proven: why)' for a lower bound."""
    return f"; the largest {what} is {value}" if bound.proven else f"; the largest {what} is at least {value} (not proven: {why.value})"


def diagnose(pb: SelectionProblem, cfg: Solver, deadline: float | None = None) -> Diagnosis:
    """The first rule that cannot be met, with the largest value that works where it can be found.

    ``deadline``: a time.monotonic() value by which the explanation must be done, such as the end of
    the caller's solver budget; the explanation never takes longer than DIAGNOSIS_SECONDS.
    """
    deadline = _deadline(cfg, deadline)
    names, needs = pb.requirement_names, pb.requirements
    if len(needs):
        full, floor = reach(pb), requirement_floor(needs)
        for r, need in enumerate(needs):
            k = int(np.argmax(full[:, r]))
            if full[k, r] < floor[r]:
                return Diagnosis("reach", f"{names[r]} {_fmt(need)} per cluster is not reachable: the best cluster "
                                          f"(hub {pb.ids[k]}, radius {pb.radius_km:g} km) has {_fmt(full[k, r], down=True)}",
                                 r, Bound(float(full[k, r]), True))
        for u in pb.include:
            k = pb.index[u]
            if (full[k] < floor).any():
                r = int(np.argmin(full[k] - needs))
                return Diagnosis("include_reach", f"included unit {u} cannot meet {names[r]} {_fmt(needs[r])}: "
                                                  f"its cluster reaches at most {_fmt(full[k, r], down=True)}", r, Bound(float(full[k, r]), True))
    trials: list[tuple[str, object]] = []
    if pb.spacing_km > 0:
        trials.append(("spacing", {"spacing_km": 0.0}))
    if pb.max_per_state is not None:
        trials.append(("state", {"max_per_state": None}))
    if pb.include:
        trials.append(("include", {"include": []}))
    trials += [("requirement", r) for r in range(len(needs))]
    left_open: set[Feasibility] = set()
    for what, change in trials:
        if what == "requirement":
            state, best = largest_requirement(pb, change, cfg, deadline)
        else:
            state, hubs = feasibility(pb, change, cfg, deadline)
            if state is Feasibility.TOO_LARGE and what == "spacing" and pb.disjoint:
                # Without spacing the clusters would overlap and the model is too large: relax it only
                # down to where clusters still cannot overlap.
                left_open.add(state)
                state, hubs = feasibility(pb, {"spacing_km": 2.0 * pb.radius_km + 1e-3}, cfg, deadline)
        if state is not Feasibility.FEASIBLE:
            left_open |= {state} - {Feasibility.INFEASIBLE}
            continue
        if what == "spacing":
            why, best = largest_spacing(pb, cfg, deadline, hubs)
            tail = "" if best.value is None else _largest("spacing found to work", _fmt(best.value, down=True) + " km", best, why)
            return Diagnosis("spacing", f"min_spacing_km {pb.spacing_km:g} cannot be kept: {pb.clusters} hubs that meet the other rules "
                                        f"cannot all be that far apart{tail}", best=best, unknown=bool(left_open) or not best.proven)
        if what == "state":
            return Diagnosis("state", f"max_per_state {pb.max_per_state}: the units that can host a cluster lie in too few states "
                                      f"for {pb.clusters} clusters", unknown=bool(left_open))
        if what == "include":
            return Diagnosis("include", f"include {', '.join(pb.include)}: the included units cannot be combined with the other rules",
                             unknown=bool(left_open))
        r = change
        stated = best.value is not None and best.value < requirement_floor(needs[r])
        tail = _largest(f"{names[r]} every cluster can reach", _fmt(best.value, down=True), best, Feasibility.UNKNOWN) if stated else ""
        return Diagnosis("requirement", f"{names[r]} {_fmt(needs[r])} per cluster cannot be met by {pb.clusters} clusters at once "
                                        "(a unit counts for one cluster only" + (", hubs must stay apart" if pb.spacing_km > 0 else "")
                                        + (", and within the state limits" if pb.max_per_state else "") + ")" + tail,
                         r, best, unknown=bool(left_open) or not best.proven)
    why = " or ".join(sorted(s.value for s in left_open))
    return Diagnosis("rules", "the rules together (clusters, spacing, requirements, state limits, include/exclude) admit no selection"
                              + (f"; whether relaxing a single rule would help is unknown: {why}" if why else ""), unknown=bool(left_open))


def explain_infeasible(pb: SelectionProblem, cfg: Solver, deadline: float | None = None) -> str:
    """The diagnosis as one line for the planner (see ``diagnose``)."""
    return diagnose(pb, cfg, deadline).message
