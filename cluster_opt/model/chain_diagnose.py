"""Why no siting of a chain exists, in a planner's terms: the rule that cannot be met, stating only what was proved."""

from __future__ import annotations

import dataclasses
import time

import numpy as np

from ..config import Solver
from ..errors import ClusterOptError, InfeasibleError
from .chain import SitingProblem
from .diagnose import Feasibility, _fmt
from .problem import requirement_floor


def _check(sp: SitingProblem, cfg: Solver, deadline: float) -> Feasibility:
    """Whether a relaxed chain has any siting (the solver stops at the first); a timeout is unknown."""
    from .solve import solve_siting

    left = deadline - time.monotonic()
    if left < 0.2:
        return Feasibility.UNKNOWN
    try:
        solve_siting(sp, cfg.model_copy(update={"mip_gap": 1.0, "time_limit_s": max(0.2, left / 2)}), diagnose=False)
        return Feasibility.FEASIBLE
    except InfeasibleError:
        return Feasibility.INFEASIBLE
    except ClusterOptError as e:
        return Feasibility.UNKNOWN if "stopped without a solution" in str(e) or "time limit" in str(e) else Feasibility.FAILED


def plain_reason(sp: SitingProblem) -> str | None:
    """Rules that fail on their own, found without solving."""
    for t, pb in sp.types.items():
        key = f"facilities.{t}"
        for u in pb.include:
            if not pb.can_host[pb.index[u]]:
                return f"{key}.site.include: unit {u} breaks the site rules of {t} (avoid, avoid_share or near)"
        hosts = int(pb.can_host.sum())
        if pb.clusters > hosts:
            return f"{key}.new: {pb.clusters} {t} facilities wanted but only {hosts} units may host one under its site rules"
        if len(pb.requirements) and pb.clusters > 0:
            full = pb.reach.copy()
            full[~pb.can_host] = -np.inf
            for r, need in enumerate(pb.requirements):
                best = int(np.argmax(full[:, r]))
                if full[best, r] < requirement_floor(need):
                    return (f"{key}.requires.{pb.requirement_names[r]}: {_fmt(need)} is not reachable: the best site (unit {pb.ids[best]}, "
                            f"radius {pb.radius_km:g} km) draws on {_fmt(full[best, r], down=True)}")
    return None


def _relaxations(sp: SitingProblem):
    """(what, relaxed problem) for each rule that could be the one that cannot be met."""
    for k, link in enumerate(sp.links):
        yield f"links[{k}] {link.name} (max {link.max_km:g} km" + (f", capacity {link.capacity}" if link.capacity else "") + ")", \
            dataclasses.replace(sp, links=sp.links[:k] + sp.links[k + 1:])
    if sp.clusters is not None:
        yield f"clusters ({sp.clusters.count} within {sp.clusters.radius_km:g} km holding {', '.join(sp.clusters.must_contain) or 'any type'})", \
            dataclasses.replace(sp, clusters=None)
    for t, pb in sp.types.items():
        key = f"facilities.{t}"
        if pb.spacing_km > 0:
            yield f"{key}.site.min_spacing_km {pb.spacing_km:g}", _with(sp, t, spacing_km=0.0)
        if pb.max_per_state is not None:
            yield f"{key}.site.max_per_state {pb.max_per_state}", _with(sp, t, max_per_state=None)
        if len(pb.requirements):
            yield f"{key}.requires ({', '.join(f'{n} {_fmt(q)}' for n, q in zip(pb.requirement_names, pb.requirements))}; a unit serves one facility)", \
                _with(sp, t, requirements=np.zeros(len(pb.requirements)))
        if pb.include:
            yield f"{key}.site.include {', '.join(pb.include)}", _with(sp, t, include=[])


def _with(sp: SitingProblem, t: str, **change) -> SitingProblem:
    return dataclasses.replace(sp, types={**sp.types, t: dataclasses.replace(sp.types[t], **change)})


def explain_chain(sp: SitingProblem, cfg: Solver, deadline: float | None = None) -> str:
    """The first rule that cannot be met with the others, or what could not be decided in time."""
    deadline = time.monotonic() + 60.0 if deadline is None else deadline
    plain = plain_reason(sp)
    if plain:
        return plain
    unknown = []
    for what, relaxed in _relaxations(sp):
        try:
            found = _check(relaxed, cfg, deadline)
        except InfeasibleError:  # the relaxed chain fails up front (a link out of reach)
            found = Feasibility.INFEASIBLE
        if found is Feasibility.FEASIBLE:
            return f"{what} cannot be met together with the other rules; without it a siting exists"
        if found is not Feasibility.INFEASIBLE:
            unknown.append(what)
    tail = f"; whether relaxing {', '.join(unknown[:3])} would help is unknown: the check ran out of time" if unknown else ""
    return "the rules together (counts, site rules, requirements, links, clusters) admit no siting; no single rule is to blame" + tail
