"""Why no selection exists, in a planner's terms."""

from __future__ import annotations

import dataclasses
import time

import numpy as np

from ..config import Solver
from .problem import SelectionProblem


def _fmt(x: float) -> str:
    return f"{x:,.0f}" if abs(x) >= 10 else f"{x:,.3g}"


def reach(pb: SelectionProblem) -> np.ndarray:
    """The problem's reach, with units that may not host a cluster at -inf."""
    out = pb.reach.copy()
    out[~pb.can_host] = -np.inf
    return out


DIAGNOSIS_SECONDS = 60.0  # the whole explanation; each feasibility check gets at most 10 s of it


def feasible(pb: SelectionProblem, cfg: Solver, deadline: float | None = None) -> bool:
    """Whether a selection meets the rules (any solution will do, so the solver stops at the first).

    A check that runs out of time counts as infeasible: the explanation then errs on the safe side.
    """
    from ..errors import ClusterOptError
    from .solve import solve

    left = 10.0 if deadline is None else min(10.0, deadline - time.monotonic())
    if left <= 0.5:
        return False
    try:
        solve(pb, cfg.model_copy(update={"mip_gap": 1.0, "time_limit_s": min(cfg.time_limit_s, left)}), diagnose=False)
        return True
    except ClusterOptError:
        return False


def largest_feasible(make, candidates: np.ndarray, cfg: Solver, deadline: float) -> float | None:
    """The largest candidate value v (sorted ascending) for which make(v) is feasible, by bisection."""
    lo, hi, best = 0, len(candidates) - 1, None
    if hi < 0 or not feasible(make(candidates[0]), cfg, deadline):
        return None
    while lo <= hi and time.monotonic() < deadline:
        mid = (lo + hi) // 2
        if feasible(make(candidates[mid]), cfg, deadline):
            best, lo = candidates[mid], mid + 1
        else:
            hi = mid - 1
    return None if best is None else float(best)


def explain_infeasible(pb: SelectionProblem, cfg: Solver) -> str:
    """The first rule that cannot be met, with the largest value that would be feasible where it can be found."""
    deadline = time.monotonic() + DIAGNOSIS_SECONDS
    if len(pb.requirements):
        full = reach(pb)
        for r, need in enumerate(pb.requirements):
            best = int(np.argmax(full[:, r]))
            if full[best, r] < need:
                return (f"{pb.requirement_names[r]} {_fmt(need)} per cluster is not reachable: the best cluster "
                        f"(hub {pb.ids[best]}, radius {pb.radius_km:g} km) has {_fmt(full[best, r])}")
        for u in pb.include:
            k = pb.index[u]
            ok_k = (full[k] >= pb.requirements).all()
            if not ok_k:
                r = int(np.argmin(full[k] - pb.requirements))
                return f"included unit {u} cannot meet {pb.requirement_names[r]} {_fmt(pb.requirements[r])}: its cluster reaches at most {_fmt(full[k, r])}"
    trials = []
    if pb.spacing_km > 0:
        trials.append(("spacing", {"spacing_km": 0.0}))
    if pb.max_per_state is not None:
        trials.append(("state", {"max_per_state": None}))
    if pb.include:
        trials.append(("include", {"include": []}))
    for r in range(len(pb.requirements)):
        trials.append((f"requirement {r}", {"requirements": np.where(np.arange(len(pb.requirements)) == r, 0.0, pb.requirements)}))
    for what, change in trials:
        if not feasible(dataclasses.replace(pb, **change), cfg, deadline):
            continue
        if what == "spacing":
            cands = np.unique(np.round(np.linspace(0.0, pb.spacing_km, 33), 1))[:-1]
            best = largest_feasible(lambda v: dataclasses.replace(pb, spacing_km=float(v)), cands, cfg, deadline)
            return (f"min_spacing_km {pb.spacing_km:g} cannot be kept: {pb.clusters} hubs that meet the other rules cannot all be that far apart"
                    + (f"; the largest spacing found to work is {best:g} km" if best is not None else ""))
        if what == "state":
            return f"max_per_state {pb.max_per_state}: the units that can host a cluster lie in too few states for {pb.clusters} clusters"
        if what == "include":
            return f"include {', '.join(pb.include)}: the included units cannot be combined with the other rules"
        r = int(what.split()[1])
        name, need = pb.requirement_names[r], pb.requirements[r]
        full = reach(pb)[:, r]
        cands = np.unique(full[np.isfinite(full) & (full < need)])
        best = largest_feasible(lambda v: dataclasses.replace(pb, requirements=np.where(np.arange(len(pb.requirements)) == r, v, pb.requirements)),
                                cands, cfg, deadline)
        return (f"{name} {_fmt(need)} per cluster cannot be met by {pb.clusters} clusters at once (a unit counts for one cluster only"
                + (", hubs must stay apart" if pb.spacing_km > 0 else "") + (", and within the state limits" if pb.max_per_state else "") + ")"
                + (f"; the largest {name} every cluster can reach is {_fmt(best)}" if best is not None else ""))
    return "the rules together (clusters, spacing, requirements, state limits, include/exclude) admit no selection"
