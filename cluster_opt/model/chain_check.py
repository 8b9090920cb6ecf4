"""An independent check of a chain's siting against every rule, from first principles.

Like ``evaluate.py`` it shares no code with the model builder: distances come from the
haversine formula on raw coordinates, and every rule is re-stated on the facilities,
their members and their suppliers as the solution lists them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import SolverError
from ..geo import haversine_km
from .chain import SitingProblem

TOL_KM = 1e-6
TOL_REQ = 1e-9


@dataclass
class ChainEvaluation:
    objective: float
    violations: list[str]
    totals: dict[int, dict[str, float]]  # facility -> requirement -> total drawn
    link_cost: float

    @property
    def ok(self) -> bool:
        return not self.violations


def evaluate_chain(sp: SitingProblem, sol) -> ChainEvaluation:
    """Re-check counts, sites, spacing, state limits, requirements, unit use, links, capacities and clusters."""
    v: list[str] = []
    fac, sup = sol.facilities, sol.supplies
    ids = sp.first.ids
    lat, lon = sp.first.lat, sp.first.lon
    objective = 0.0
    totals: dict[int, dict[str, float]] = {}
    for t, pb in sp.types.items():
        mine = np.flatnonzero((fac.type == t) & (fac.status == "new"))
        units = fac.unit[mine]
        if not pb.clusters <= len(mine) <= pb.most:
            v.append(f"{len(mine)} new {t} facilities, expected {pb.clusters}" + (f" to {pb.most}" if pb.most != pb.clusters else ""))
        if len(set(units.tolist())) != len(units):
            v.append(f"a unit hosts two {t} facilities")
        for j in units:
            if ids[j] in pb.exclude or not pb.can_host[j]:
                v.append(f"{t} sited in unit {ids[j]}, which its site rules exclude")
        for u in pb.include:
            if u not in set(ids[units].tolist()):
                v.append(f"included unit {u} hosts no {t} facility")
        for check in pb.site_checks:
            d = haversine_km(lat[units][:, None], lon[units][:, None], check["lat"][None, :], check["lon"][None, :])
            near = (d <= check["within_km"] + TOL_KM) @ check["values"]
            bad = near < check["at_least"] - 1e-9 if check["kind"] == "near" else near > 0
            for j in units[bad][:3]:
                v.append(f"{t} in unit {ids[j]} breaks its site rule: {check['label']}")
        for a in range(len(units)):
            for b in range(a + 1, len(units)):
                d = float(haversine_km(lat[units[a]], lon[units[a]], lat[units[b]], lon[units[b]]))
                if d < pb.spacing_km - TOL_KM:
                    v.append(f"{t} facilities in {ids[units[a]]} and {ids[units[b]]} are {d:.1f} km apart, less than {pb.spacing_km:g} km")
        if pb.max_per_state is not None and len(units):
            st, cnt = np.unique(pb.states[units], return_counts=True)
            v += [f"{c} {t} facilities in {s}, more than {pb.max_per_state}" for s, c in zip(st, cnt) if c > pb.max_per_state]
        objective += float(pb.score[units].sum())
        for k in mine:
            members = np.flatnonzero(sol.member_of == k)
            if pb.has_members and fac.unit[k] not in members:
                v.append(f"the {t} facility in {ids[fac.unit[k]]} does not draw on its own unit")
            far = haversine_km(lat[members], lon[members], lat[fac.unit[k]], lon[fac.unit[k]]) > pb.radius_km + TOL_KM
            v += [f"unit {ids[i]} serves the {t} facility in {ids[fac.unit[k]]} from beyond {pb.radius_km:g} km" for i in members[far][:3]]
            brings = pb.member_weight * pb.member_scale * pb.score
            objective += float(brings[members].sum() - (brings[fac.unit[k]] if fac.unit[k] in members else 0.0))
            totals[int(k)] = {}
            for r, (name, need) in enumerate(zip(pb.requirement_names, pb.requirements)):
                total = float(pb.amounts[members, r].sum())
                totals[int(k)][name] = total
                if total < need * (1 - TOL_REQ) - TOL_REQ:
                    v.append(f"the {t} facility in {ids[fac.unit[k]]} draws {total:,.6g} {name}, below the required {need:,.6g}")
    served = sol.member_of[sol.member_of >= 0]
    if len(served) and not np.isin(fac.type[served], [t for t, pb in sp.types.items() if pb.has_members]).all():
        v.append("a unit serves a facility that has no requirements")
    cost = 0.0
    for li, link in enumerate(sp.links):
        rows = np.flatnonzero(sup.link == li)
        down = np.flatnonzero((fac.type == link.to) & (fac.status == "new"))
        counts = np.bincount(sup.to[rows], minlength=len(fac))
        for k in down:
            if counts[k] != 1:
                v.append(f"{link.to} in {fac.ident[k]} has {counts[k]} suppliers on link {link.name}, expected 1")
        for s, k in zip(sup.source[rows], sup.to[rows]):
            d = float(haversine_km(fac.lat[s], fac.lon[s], fac.lat[k], fac.lon[k]))
            if fac.type[s] != link.source or fac.type[k] != link.to:
                v.append(f"link {link.name} joins a {fac.type[s]} to a {fac.type[k]}")
            if d > link.max_km + TOL_KM:
                v.append(f"{link.to} in {fac.ident[k]} is supplied from {d:.1f} km, beyond {link.max_km:g} km")
            cost += link.cost_per_km * d
        if link.capacity is not None and len(rows):
            per = np.bincount(sup.source[rows], minlength=len(fac))
            v += [f"{link.source} {fac.ident[s]} supplies {per[s]} facilities, more than its capacity {link.capacity}" for s in np.flatnonzero(per > link.capacity)]
    rule = sp.clusters
    if rule is not None:
        centres = np.asarray(sol.centres, dtype=int)
        if len(centres) != rule.count:
            v.append(f"{len(centres)} cluster centres, expected {rule.count}")
        d = haversine_km(fac.lat[:, None], fac.lon[:, None], lat[centres][None, :], lon[centres][None, :]) if len(centres) else np.zeros((len(fac), 0))
        inside = d <= rule.radius_km + TOL_KM
        for k in np.flatnonzero(np.isin(fac.type, rule.types) & (fac.status == "new")):
            if not inside[k].any():
                v.append(f"{fac.type[k]} in {fac.ident[k]} lies in no cluster (farther than {rule.radius_km:g} km from every centre)")
        for c in range(len(centres)):
            for t in rule.must_contain:
                if not (inside[:, c] & (fac.type == t)).any():
                    v.append(f"the cluster around {ids[centres[c]]} holds no {t}")
    return ChainEvaluation(objective - cost, v, totals, cost)


def check_chain(sp: SitingProblem, sol) -> ChainEvaluation:
    """Evaluate and raise SolverError if any rule is broken or the objective does not match."""
    ev = evaluate_chain(sp, sol)
    problems = list(ev.violations)
    if not np.isclose(ev.objective, sol.objective, rtol=1e-6, atol=1e-6):
        problems.append(f"objective {sol.objective:.9g} reported, {ev.objective:.9g} recomputed")
    if problems:
        raise SolverError("the solver's siting failed the independent check: " + "; ".join(problems[:5]))
    return ev
