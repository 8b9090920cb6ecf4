"""Overlapping clusters (spacing below twice the radius), solved hubs first.

Every unit within the radius of a chosen hub joins exactly one cluster (complete
membership), so what members bring does not depend on which cluster each joins:
a selection is worth its hubs' scores plus the member value of every unit covered
by a chosen hub (a hub itself counts as a hub). Members only decide whether the
hubs can meet their requirements while sharing units. So the hubs are chosen by a
small covering model:

- y[j] per possible hub (its score), w[i] per unit (its member value): w[i] = 1 when
  a chosen hub reaches unit i and i is no hub itself (w[i] ≤ Σ y over the hubs that
  reach it, w[i] ≤ 1 − y[i]; for a negative member value, w[i] ≥ y[j] − y[i]);
- every hub whose whole neighbourhood falls short of a requirement ruled out;
- y[j] + y[k] ≤ 1 for every pair of overlapping hubs whose neighbourhoods together
  hold less than twice a requirement (they can never both meet it);

then the members of the chosen hubs are assigned by the full model restricted to
their neighbourhoods (a few hundred columns). When no assignment meets every
requirement, the smallest set of chosen hubs found that cannot share is cut off
(Σ y ≤ |set| − 1) and the hubs are chosen again. Every row is implied by the rules,
so the covering model's optimum bounds the true optimum; the first choice that can
be assigned is optimal.
"""

from __future__ import annotations

import time
from dataclasses import replace

import numpy as np
import scipy.sparse as sp

from ..errors import SolverError
from ..geo import haversine_km
from .backend import solve_linear
from .components import DISJOINT_COMPONENTS, Vars, build_model, disjoint_hub_variables
from .linear import LinearModel
from .problem import SelectionProblem, requirement_floor

MAX_OVERLAP_PAIRS = 20_000_000  # hub pairs with a shared unit: above this the pair rows are left to the rounds


def hubs_first(pb: SelectionProblem) -> bool:
    """Whether the selection is decided hubs first: clusters may overlap, and every unit in a hub's radius joins."""
    return not pb.disjoint and pb.complete_members


def hub_model(pb: SelectionProblem) -> tuple[LinearModel, Vars]:
    """The covering model of an overlapping selection, with the pair rows above."""
    m = LinearModel()
    v = disjoint_hub_variables(pb, m)
    m.obj[v.y] = pb.score
    for comp in DISJOINT_COMPONENTS:
        comp(pb, m, v)
    pair_conflicts(pb, m, v)
    covered_members(pb, m, v)
    return m, v


def covered_members(pb: SelectionProblem, m: LinearModel, v: Vars) -> None:
    """w[i] (binary): unit i is a member of some cluster (a chosen hub reaches it, and it is no hub); objective: its member value.

    The rows hold w to exactly that for every unit, whatever its value now, so that re-solves with new scores
    (why / why not, stability, the explorer) stay exact: w[i] ≤ Σ_{j reaching i} y[j], w[i] + y[i] ≤ 1, and
    |R(i)| (w[i] + y[i]) ≥ Σ_{j in R(i)} y[j]. Units worth less than nothing now also get the tighter w[i] ≥ y[j] − y[i].
    """
    if pb.member_weight == 0:
        return  # members never carry value: no w
    value = pb.member_value
    pi, pj = v.pair_i, v.pair_j
    n = pb.n
    w = m.add_vars("covered", n, obj=value)
    v.z = w
    units = np.arange(n)
    m.add_rows("covered_by_hub", np.concatenate([units, pi]), np.concatenate([w, v.y[pj]]),
               np.concatenate([np.ones(n), -np.ones(len(pi))]), -np.inf, 0.0, n)
    m.add_rows("hub_not_member", np.repeat(units, 2), np.column_stack([w, v.y]).reshape(-1), np.ones(2 * n), -np.inf, 1.0, n)
    reach = np.bincount(pi, minlength=n).astype(float)
    m.add_rows("member_when_reached", np.concatenate([units, units, pi]), np.concatenate([w, v.y, v.y[pj]]),
               np.concatenate([reach, reach, -np.ones(len(pi))]), 0.0, np.inf, n)
    loss = value[pi] < 0
    if loss.any():  # w[i] ≥ y[j] − y[i] for each hub j reaching i
        k = int(loss.sum())
        r = np.arange(k)
        m.add_rows("member_of_hub", np.concatenate([r, r, r]), np.concatenate([w[pi[loss]], v.y[pj[loss]], v.y[pi[loss]]]),
                   np.concatenate([np.ones(k), -np.ones(k), np.ones(k)]), 0.0, np.inf, k)


def pair_conflicts(pb: SelectionProblem, m: LinearModel, v: Vars) -> int:
    """y[j] + y[k] ≤ 1 for overlapping hubs that together cannot gather twice a requirement; returns the rows added."""
    if not len(pb.requirements):
        return 0
    open_ok = m.ub[v.y] > 0.5
    nb = pb.neighbourhoods[:, open_ok]
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
    if not len(hubs):
        return np.full(pb.n, -1)
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


def infeasible_core(pb: SelectionProblem, hubs: np.ndarray, solve_feasibility, deadline: float = np.inf) -> np.ndarray:
    """A smallest-found set of the chosen hubs that cannot all meet the requirements: within the first group of
    hubs linked by shared units that fails, drop each hub that is not needed for the failure (while time is left)."""
    nb = pb.neighbourhoods[:, hubs]
    linked = (nb.T @ nb).toarray() > 0
    n_groups, group = sp.csgraph.connected_components(sp.csr_matrix(linked), directed=False)
    core = hubs
    for g in range(n_groups):
        members = hubs[group == g]
        if assign_members(pb, members, solve_feasibility) is None:
            core = members
            break
    for j in list(core):
        if len(core) > 1 and time.monotonic() < deadline:
            rest = core[core != j]
            if assign_members(pb, rest, solve_feasibility) is None:
                core = rest
    return core


def assign_or_cut(pb: SelectionProblem, m: LinearModel, v: Vars, values: np.ndarray, solve_feasibility,
                  deadline: float = np.inf) -> np.ndarray | None:
    """The members of the chosen hubs (each unit's hub, nearest where the requirements allow); or, when they cannot
    share, None after cutting off the smallest set found that cannot (the hubs are then chosen again)."""
    hubs = np.flatnonzero(values[v.y] > 0.5)
    owner = assign_members(pb, hubs, solve_feasibility, nearest=True)
    if owner is None:
        cut_off(m, v, infeasible_core(pb, hubs, solve_feasibility, deadline))
    return owner


def cut_off(m: LinearModel, v: Vars, core: np.ndarray) -> None:
    """Σ y over the set ≤ its size − 1: these hubs are never chosen together."""
    m.add_rows("hub_set_conflict", np.zeros(len(core), int), v.y[core], np.ones(len(core)), -np.inf, float(len(core) - 1), 1)


def small_solver(cfg, deadline: float):
    """A solve_feasibility for assign_members: the small model solved by HiGHS (or CBC) through PuLP within the deadline."""
    def solve_small(model: LinearModel) -> np.ndarray | None:
        """Values of a solution (any, or near the optimum if the model has an objective), None if it has none."""
        c = cfg.model_copy(update={"time_limit_s": max(deadline - time.monotonic(), 0.5), "mip_gap": 1e-3 if model.obj.any() else 1.0})
        res = solve_linear(model, c)
        if res.status == "infeasible":
            return None
        if res.values is None:
            raise SolverError(f"solver {c.name}: the time limit ran out while assigning members to the chosen hubs; allow a longer solver.time_limit_s")
        return res.values

    return solve_small
