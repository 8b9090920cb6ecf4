"""Why no selection exists, in a planner's terms."""

from __future__ import annotations

import dataclasses

import numpy as np

from ..config import Solver
from ..geo import pairs_within
from .problem import SelectionProblem


def _fmt(x: float) -> str:
    return f"{x:,.0f}" if abs(x) >= 10 else f"{x:,.3g}"


def reach(pb: SelectionProblem) -> np.ndarray:
    """(n × r): what a cluster hosted at each unit collects if it takes every unit in its radius."""
    i, j, _ = pairs_within(pb.xyz, pb.xyz, pb.radius_km)
    out = np.zeros((pb.n, len(pb.requirements)))
    for r in range(len(pb.requirements)):
        out[:, r] = np.bincount(j, weights=pb.amounts[i, r], minlength=pb.n)
    out[~pb.can_host] = -np.inf
    return out


def explain_infeasible(pb: SelectionProblem, cfg: Solver) -> str:
    """The first rule that cannot be met, with the largest value that would be feasible where known."""
    if len(pb.requirements):
        full = reach(pb)
        for r, need in enumerate(pb.requirements):
            best = int(np.argmax(full[:, r]))
            if full[best, r] < need:
                return (f"{pb.requirement_names[r]} {_fmt(need)} per cluster is not reachable: the best cluster "
                        f"(hub {pb.ids[best]}, radius {pb.radius_km:g} km) has {_fmt(full[best, r])}")
        ok = (full >= pb.requirements[None, :]).all(axis=1)
        if ok.sum() < pb.clusters:
            kth = np.sort(full.min(axis=1) if len(pb.requirements) == 1 else full[:, 0])[::-1]
            msg = (f"only {int(ok.sum())} unit(s) can host a cluster that meets every requirement "
                   f"({', '.join(f'{n} {_fmt(v)}' for n, v in zip(pb.requirement_names, pb.requirements))}), but {pb.clusters} clusters are asked")
            if len(pb.requirements) == 1:
                msg += f"; with {pb.clusters} clusters the most each can reach is {_fmt(kth[pb.clusters - 1])}"
            return msg
        for u in pb.include:
            k = pb.index[u]
            if not ok[k]:
                r = int(np.argmin(full[k] - pb.requirements))
                return f"included unit {u} cannot meet {pb.requirement_names[r]} {_fmt(pb.requirements[r])}: its cluster reaches at most {_fmt(full[k, r])}"
    # Relax one rule at a time and see which one the selection hinges on.
    from .solve import solve

    quick = dataclasses.replace(cfg, mip_gap=1.0, time_limit_s=min(cfg.time_limit_s, 30.0)) if dataclasses.is_dataclass(cfg) else cfg.model_copy(update={"mip_gap": 1.0, "time_limit_s": min(cfg.time_limit_s, 30.0)})
    trials = []
    if pb.spacing_km > 0:
        trials.append((f"min_spacing_km {pb.spacing_km:g}: {pb.clusters} hubs that meet the other rules cannot all be that far apart", {"spacing_km": 0.0}))
    if pb.max_per_state is not None:
        trials.append((f"max_per_state {pb.max_per_state}: the units that can host a cluster are concentrated in too few states", {"max_per_state": None}))
    if pb.include:
        trials.append((f"include {', '.join(pb.include)}: the included units cannot be combined with the other rules", {"include": []}))
    if len(pb.requirements):
        needs = ", ".join(f"{n} {_fmt(v)}" for n, v in zip(pb.requirement_names, pb.requirements))
        trials.append((f"{pb.clusters} clusters cannot each reach {needs} at the same time: a unit counts for one cluster only"
                       + (", and hubs must stay apart and within the state limits" if pb.spacing_km > 0 or pb.max_per_state else ""),
                       {"amounts": None, "requirement_names": [], "requirements": None}))
    for text, change in trials:
        relaxed = dataclasses.replace(pb, **change)
        try:
            solve(relaxed, quick)
        except Exception:
            continue
        return text
    return "the rules together (clusters, spacing, requirements, state limits, include/exclude) admit no selection"
