"""Which units serve the chosen facilities' requirements: a small exact assignment, or the facilities that cannot all be served.

A facility draws on its own unit and on units within its radius; a unit's amounts serve one
facility at most. Facilities whose radii do not overlap never compete, so the chosen facilities
are split into groups that do, and each group is solved on its own as a small MILP (fewest
units drawn, so the answer is stable). A group that cannot be served is returned as a conflict.
"""

from __future__ import annotations

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from ..config import Solver
from ..errors import SolverError
from ..geo import haversine_km, pairs_within
from .backend import solve_linear
from .chain import SitingProblem
from .linear import INF, LinearModel
from .problem import requirement_floor


def assign_members(sp: SitingProblem, chosen: list[tuple[str, int]], cfg: Solver | None = None) -> tuple[np.ndarray, list[list[tuple[str, int]]]]:
    """(member_of: per unit, the index into ``chosen`` it serves or -1; the groups of chosen facilities that cannot be served)."""
    member_of = np.full(sp.n, -1)
    needy = [f for f, (t, j) in enumerate(chosen) if len(sp.types[t].requirements)]
    if not needy:
        return member_of, []
    p = sp.first
    lat = np.array([p.lat[chosen[f][1]] for f in needy])
    lon = np.array([p.lon[chosen[f][1]] for f in needy])
    radius = np.array([sp.types[chosen[f][0]].radius_km for f in needy])
    d = haversine_km(lat[:, None], lon[:, None], lat[None, :], lon[None, :])
    touch = coo_matrix(d <= radius[:, None] + radius[None, :] + 1e-6)
    _, group = connected_components(touch, directed=False)
    conflicts = []
    for g in np.unique(group):
        members = [needy[k] for k in np.flatnonzero(group == g)]
        got = _serve(sp, [chosen[f] for f in members], cfg)
        if got is None:
            conflicts.append([chosen[f] for f in members])
            continue
        for unit, slot in got:
            member_of[unit] = members[slot]
    return member_of, conflicts


def _serve(sp: SitingProblem, facilities: list[tuple[str, int]], cfg: Solver | None) -> list[tuple[int, int]] | None:
    """(unit, facility slot) pairs serving every facility's requirements with the fewest units, or None if impossible."""
    xyz = sp.xyz
    own = {j: s for s, (_, j) in enumerate(facilities)}
    if len(own) < len(facilities):
        return None  # two facilities with requirements on one unit: each needs its own unit first
    m = LinearModel(sense="min")
    cols, units, slots = [], [], []
    for s, (t, j) in enumerate(facilities):
        pb = sp.types[t]
        _, i, _ = pairs_within(xyz[[j]], xyz, pb.radius_km)
        i = i[(i == j) | ~np.isin(i, list(own))]  # another facility's own unit serves that facility
        units.append(i)
        slots.append(np.full(len(i), s))
    units_all, slots_all = np.concatenate(units), np.concatenate(slots)
    own_pair = np.array([own.get(int(u)) == int(s) for u, s in zip(units_all, slots_all)])
    x = m.add_vars("serves", len(units_all), obj=np.where(own_pair, 0.0, 1.0), lb=own_pair.astype(float))
    cols.append(x)
    uniq, row = np.unique(units_all, return_inverse=True)
    m.add_rows("one_facility", row, x, np.ones(len(x)), -INF, 1.0, len(uniq))
    for s, (t, _) in enumerate(facilities):
        pb = sp.types[t]
        mine = np.flatnonzero(slots_all == s)
        for r, need in enumerate(requirement_floor(pb.requirements)):
            m.add_rows("requirement", np.zeros(len(mine), int), x[mine], pb.amounts[units_all[mine], r], need, INF, 1)
    res = solve_linear(m, (cfg or Solver()).model_copy(update={"mip_gap": 0.0, "time_limit_s": 60.0, "presolve": "auto"}))
    if res.status == "infeasible":
        return None
    if res.values is None:  # never a conflict unless proven: a cut must not remove a feasible siting
        raise SolverError(f"could not decide within 60 s which units serve {len(facilities)} facilities ({res.status})")
    take = np.flatnonzero(res.values[x] > 0.5)
    return [(int(units_all[k]), int(slots_all[k])) for k in take]
