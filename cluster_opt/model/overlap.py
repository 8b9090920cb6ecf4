"""Overlapping clusters (spacing below twice the radius), solved hubs first.

When members add nothing to the objective (``member_weight`` 0, the default), a
selection is worth its hubs' scores, and members only decide whether the hubs can
meet their requirements while sharing the units between them. So the hubs are
chosen by the small hub-only model (as for clusters that cannot overlap), with

- every hub whose whole neighbourhood falls short of a requirement ruled out, and
- one row y[j] + y[k] ≤ 1 for every pair of overlapping hubs whose neighbourhoods
  together hold less than twice a requirement (they can never both meet it);

then the members of the chosen hubs are assigned by the full model restricted to
their neighbourhoods (a few hundred columns). When no assignment meets every
requirement, the smallest set of chosen hubs that cannot share is cut off
(Σ y ≤ |set| − 1) and the hubs are chosen again. Every row is implied by the rules,
so the hub model's optimum bounds the true optimum; the first choice that can be
assigned is optimal.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import scipy.sparse as sp

from ..geo import haversine_km
from .components import DISJOINT_COMPONENTS, Vars, build_model, disjoint_hub_variables
from .linear import LinearModel
from .problem import SelectionProblem, requirement_floor

MAX_OVERLAP_PAIRS = 20_000_000  # hub pairs with a shared unit: above this the pair rows are left to the rounds


def hubs_first(pb: SelectionProblem) -> bool:
    """Whether the selection can be decided hubs first: clusters may overlap, and members carry no value."""
    return not pb.disjoint and pb.complete_members and not np.any(pb.member_value)


def hub_model(pb: SelectionProblem) -> tuple[LinearModel, Vars]:
    """The hub-only model of an overlapping selection, with the pair rows above."""
    m = LinearModel()
    v = disjoint_hub_variables(pb, m)
    for comp in DISJOINT_COMPONENTS:
        comp(pb, m, v)
    pair_conflicts(pb, m, v)
    return m, v


def neighbourhoods(pb: SelectionProblem) -> sp.csc_matrix:
    """(units × hubs): 1 where the unit lies within the radius of the possible hub, the hub itself included."""
    pi, pj = pb.member_pairs
    host = np.flatnonzero(pb.can_host)
    rows = np.concatenate([pi, host])
    cols = np.concatenate([pj, host])
    return sp.csc_matrix((np.ones(len(rows)), (rows, cols)), shape=(pb.n, pb.n))


def pair_conflicts(pb: SelectionProblem, m: LinearModel, v: Vars) -> int:
    """y[j] + y[k] ≤ 1 for overlapping hubs that together cannot gather twice a requirement; returns the rows added."""
    if not len(pb.requirements):
        return 0
    open_ok = m.ub[v.y] > 0.5
    nb = neighbourhoods(pb)[:, open_ok]
    hubs = np.flatnonzero(open_ok)
    shared_units = (nb.T @ nb).tocoo()
    if shared_units.nnz > MAX_OVERLAP_PAIRS:
        return 0
    a, b = shared_units.row, shared_units.col
    keep = a < b
    a, b = a[keep], b[keep]
    floor = requirement_floor(pb.requirements)
    short = np.zeros(len(a), dtype=bool)
    for r in range(len(floor)):
        shared = np.asarray((nb.T @ sp.diags(pb.amounts[:, r]) @ nb).tocsr()[a, b]).reshape(-1)
        together = pb.reach[hubs[a], r] + pb.reach[hubs[b], r] - shared
        short |= together < 2.0 * floor[r]
    a, b = hubs[a[short]], hubs[b[short]]
    k = len(a)
    m.add_rows("hub_pair_conflict", np.repeat(np.arange(k), 2), v.y[np.column_stack([a, b]).reshape(-1)], np.ones(2 * k), -np.inf, 1.0, k)
    return k


def assign_members(pb: SelectionProblem, hubs: np.ndarray, solve_feasibility, nearest: bool = False) -> np.ndarray | None:
    """Per unit, the hub (row) whose cluster it joins, -1 if none; None when the hubs cannot all meet the requirements.

    ``solve_feasibility(model)`` solves a small model and returns its values, or None if it has no solution.
    ``nearest``: among the assignments that meet the requirements, one with the least member-to-hub distance.
    """
    hubs = np.asarray(hubs, dtype=np.int64)
    pi, pj = pb.member_pairs
    near = np.union1d(hubs, pi[np.isin(pj, hubs)])
    host = np.isin(near, hubs)
    sub = replace(pb, ids=pb.ids[near], lat=pb.lat[near], lon=pb.lon[near], score=np.zeros(len(near)), clusters=len(hubs),
                  clusters_max=None, spacing_km=0.0, states=pb.states[near], max_per_state=None, amounts=pb.amounts[near],
                  include=list(pb.ids[hubs]), exclude=[], member_scale=np.ones(len(near)), site_ok=host, site_checks=[])
    model, v = build_model(sub)
    if nearest:
        model.obj[v.x] = -haversine_km(sub.lat[v.pair_i], sub.lon[v.pair_i], sub.lat[v.pair_j], sub.lon[v.pair_j])
    values = solve_feasibility(model)
    if values is None:
        return None
    owner = np.full(pb.n, -1)
    x = values[v.x] > 0.5
    owner[near[v.pair_i[x]]] = near[v.pair_j[x]]
    owner[hubs] = hubs
    return owner


def infeasible_core(pb: SelectionProblem, hubs: np.ndarray, solve_feasibility) -> np.ndarray:
    """A smallest-found set of the chosen hubs that cannot all meet the requirements: within the first group of
    hubs linked by shared units that fails, drop each hub that is not needed for the failure."""
    nb = neighbourhoods(pb)[:, hubs]
    linked = (nb.T @ nb).toarray() > 0
    n_groups, group = sp.csgraph.connected_components(sp.csr_matrix(linked), directed=False)
    core = hubs
    for g in range(n_groups):
        members = hubs[group == g]
        if assign_members(pb, members, solve_feasibility) is None:
            core = members
            break
    for j in list(core):
        if len(core) > 1:
            rest = core[core != j]
            if assign_members(pb, rest, solve_feasibility) is None:
                core = rest
    return core


def cut_off(m: LinearModel, v: Vars, core: np.ndarray) -> None:
    """Σ y over the set ≤ its size − 1: these hubs are never chosen together."""
    m.add_rows("hub_set_conflict", np.zeros(len(core), int), v.y[core], np.ones(len(core)), -np.inf, float(len(core) - 1), 1)
