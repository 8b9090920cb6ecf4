"""An independent check of a selection against the rules, from first principles.

It shares no code with the model builder: distances come from the haversine
formula on the raw coordinates, not from the k-d tree pairs the model used, and
every rule is re-stated directly on the clusters.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import SolverError
from ..geo import haversine_km
from .problem import SelectionProblem

TOL_KM = 1e-6


@dataclass
class Evaluation:
    objective: float
    violations: list[str]
    cluster_totals: np.ndarray  # clusters × requirements
    cluster_scores: np.ndarray  # each cluster's share of the objective: hub score + what its members bring

    @property
    def ok(self) -> bool:
        return not self.violations


def evaluate(pb: SelectionProblem, hubs: np.ndarray, member_of: np.ndarray) -> Evaluation:
    """Re-check every rule and recompute the objective of a selection."""
    v: list[str] = []
    hubs = np.asarray(hubs, dtype=int)
    member_of = np.asarray(member_of, dtype=int)
    p = len(hubs)
    if p != pb.clusters:
        v.append(f"{p} clusters chosen, {pb.clusters} asked")
    if len(set(hubs.tolist())) != p:
        v.append("a unit hosts two clusters")
    for u in pb.exclude:
        if pb.index[u] in set(hubs.tolist()):
            v.append(f"excluded unit {u} hosts a cluster")
    for u in pb.include:
        if pb.index[u] not in set(hubs.tolist()):
            v.append(f"included unit {u} hosts no cluster")
    # Spacing between hubs.
    for a in range(p):
        for b in range(a + 1, p):
            d = float(haversine_km(pb.lat[hubs[a]], pb.lon[hubs[a]], pb.lat[hubs[b]], pb.lon[hubs[b]]))
            if d < pb.spacing_km - TOL_KM:
                v.append(f"hubs {pb.ids[hubs[a]]} and {pb.ids[hubs[b]]} are {d:.1f} km apart, less than {pb.spacing_km} km")
    # Per-state limit.
    if pb.max_per_state is not None:
        st, cnt = np.unique(pb.states[hubs], return_counts=True)
        for s, c in zip(st, cnt):
            if c > pb.max_per_state:
                v.append(f"{c} hubs in {s}, more than {pb.max_per_state}")
    # Membership: each hub in its own cluster; members within the radius; no unit in reach left out.
    d_all = haversine_km(pb.lat[:, None], pb.lon[:, None], pb.lat[hubs][None, :], pb.lon[hubs][None, :]) if p else np.zeros((pb.n, 0))
    for k, h in enumerate(hubs):
        if member_of[h] != k:
            v.append(f"hub {pb.ids[h]} is not a member of its own cluster")
    members = np.flatnonzero(member_of >= 0)
    far = d_all[members, member_of[members]] > pb.radius_km + TOL_KM
    for i in members[far][:5]:
        v.append(f"unit {pb.ids[i]} joins cluster {member_of[i] + 1} from {d_all[i, member_of[i]]:.1f} km, beyond {pb.radius_km} km")
    in_reach = (d_all < pb.radius_km - TOL_KM).any(axis=1) if p else np.zeros(pb.n, bool)
    left_out = np.flatnonzero(in_reach & (member_of < 0))
    for i in left_out[:5]:
        v.append(f"unit {pb.ids[i]} is within {pb.radius_km} km of a hub but in no cluster")
    # Requirements.
    totals = np.zeros((p, len(pb.requirements)))
    scores = np.zeros(p)
    brings = pb.member_weight * pb.member_scale * pb.score
    for k in range(p):
        mask = member_of == k
        totals[k] = pb.amounts[mask].sum(axis=0)
        scores[k] = pb.score[hubs[k]] + brings[mask].sum() - brings[hubs[k]]
        for r, need in enumerate(pb.requirements):
            if totals[k, r] < need * (1 - 1e-9) - 1e-9:
                v.append(f"cluster {k + 1} has {pb.requirement_names[r]} {totals[k, r]:,.0f}, below the required {need:,.0f}")
    hub_mask = np.zeros(pb.n, bool)
    hub_mask[hubs] = True
    objective = float(pb.score[hub_mask].sum() + brings[(member_of >= 0) & ~hub_mask].sum())
    return Evaluation(objective, v, totals, scores)


def check(pb: SelectionProblem, hubs: np.ndarray, member_of: np.ndarray, reported_objective: float) -> Evaluation:
    """Evaluate and raise SolverError if any rule is broken or the objective does not match."""
    ev = evaluate(pb, hubs, member_of)
    problems = list(ev.violations)
    if not np.isclose(ev.objective, reported_objective, rtol=1e-6, atol=1e-6):
        problems.append(f"objective {reported_objective:.9g} reported, {ev.objective:.9g} recomputed")
    if problems:
        raise SolverError("the solver's selection failed the independent check: " + "; ".join(problems[:5]))
    return ev
