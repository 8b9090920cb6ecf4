"""The selection model, one small component per rule.

Each component adds its own variables or rows to the LinearModel and touches
nothing else, so a new rule is a new function in ``COMPONENTS``.

Variables: ``y[j]`` = 1 if unit j hosts a cluster hub; ``x[p]`` = 1 if, for the
member pair p = (i, j), unit i joins the cluster of hub j (i within the radius
of j, i != j). A hub is always a member of its own cluster.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from scipy.spatial import cKDTree

from ..geo import EQUAL_AREA_CRS, chord_to_km, km_to_chord, pairs_within
from .linear import INF, LinearModel
from .problem import SelectionProblem, requirement_floor


@dataclass
class Vars:
    y: np.ndarray  # column of y[j], per unit
    x: np.ndarray  # column of x[p], per member pair
    z: np.ndarray  # column of z[i] = y[i] + Σ_j x[i,j]: 1 if unit i is in a cluster
    pair_i: np.ndarray
    pair_j: np.ndarray


def hub_and_member_variables(pb: SelectionProblem, m: LinearModel) -> Vars:
    """Objective: the hubs' scores plus what their members bring (member_value)."""
    pi, pj = pb.member_pairs
    y = m.add_vars("hub", pb.n, obj=pb.score, lb=_include_lb(pb), ub=pb.can_host.astype(float))
    x = m.add_vars("member", len(pi), obj=pb.member_value[pi])
    z = m.add_vars("in_cluster", pb.n, binary=False)
    return Vars(y, x, z, pi, pj)


def facility_variables(pb: SelectionProblem, m: LinearModel, name: str) -> Vars:
    """A chain's facility type: y[j] = 1 if unit j hosts one (objective: its site score). Which units serve
    its requirements is decided on the chosen facilities (see chain_solve), not by columns here."""
    y = m.add_vars(f"{name}_site", pb.n, obj=pb.score, lb=_include_lb(pb), ub=pb.can_host.astype(float))
    empty = np.empty(0, np.int64)
    return Vars(y, empty, empty, empty, empty)


def _include_lb(pb: SelectionProblem) -> np.ndarray:
    lb = np.zeros(pb.n)
    lb[[pb.index[u] for u in pb.include]] = 1.0
    return lb


def disjoint_hub_variables(pb: SelectionProblem, m: LinearModel) -> Vars:
    """When hubs are more than two radii apart, clusters cannot overlap: a cluster is exactly
    its hub's neighbourhood, so only the hubs are decided and each carries its whole cluster.

    Objective coefficient of y[j]: score[j] + Σ member_value of the units within the radius. A hub whose neighbourhood cannot reach every requirement is ruled out up front.
    """
    pi, pj = pb.member_pairs
    gain = pb.score + np.bincount(pj, weights=pb.member_value[pi], minlength=pb.n)
    ub = pb.can_host.astype(float)
    if len(pb.requirements):
        ub[(pb.reach < requirement_floor(pb.requirements)[None, :]).any(axis=1)] = 0.0
    y = m.add_vars("hub", pb.n, obj=gain, lb=_include_lb(pb), ub=ub)  # lb > ub: an included hub that cannot qualify
    empty = np.empty(0, np.int64)
    return Vars(y, empty, empty, pi, pj)


def cluster_count(pb: SelectionProblem, m: LinearModel, v: Vars) -> None:
    """Exactly ``clusters`` hubs (or, with a range, at least ``clusters`` and at most ``clusters_max``)."""
    m.add_rows("cluster_count", np.zeros(pb.n, int), v.y, np.ones(pb.n), pb.clusters, pb.most, 1)


def members_need_open_hub(pb: SelectionProblem, m: LinearModel, v: Vars) -> None:
    """x[i,j] ≤ y[j]: a unit joins only a cluster whose hub is chosen."""
    k = len(v.x)
    rows = np.arange(k)
    m.add_rows("member_hub", np.concatenate([rows, rows]), np.concatenate([v.x, v.y[v.pair_j]]),
               np.concatenate([np.ones(k), -np.ones(k)]), -INF, 0.0, k)


def one_cluster_per_unit(pb: SelectionProblem, m: LinearModel, v: Vars) -> None:
    """z[i] = y[i] + Σ_j x[i,j] ≤ 1: a unit belongs to at most one cluster (a hub to its own)."""
    rows = np.concatenate([np.arange(pb.n), np.arange(pb.n), v.pair_i])
    cols = np.concatenate([v.z, v.y, v.x])
    vals = np.concatenate([np.ones(pb.n), -np.ones(pb.n), -np.ones(len(v.x))])
    m.add_rows("one_cluster", rows, cols, vals, 0.0, 0.0, pb.n)


def members_are_all_units_in_radius(pb: SelectionProblem, m: LinearModel, v: Vars) -> None:
    """z[i] ≥ y[j] for every possible hub j in reach of i: no unit in a cluster's radius is left out."""
    k = len(v.x)
    rows = np.arange(k)
    m.add_rows("complete_membership", np.concatenate([rows, rows]), np.concatenate([v.z[v.pair_i], v.y[v.pair_j]]),
               np.concatenate([np.ones(k), -np.ones(k)]), 0.0, INF, k)


def requirements(pb: SelectionProblem, m: LinearModel, v: Vars) -> None:
    """(a[j] - R) y[j] + Σ_i a[i] x[i,j] ≥ 0 for each hub j and requirement: every cluster reaches R (within its tolerance)."""
    for r, need in enumerate(requirement_floor(pb.requirements)):
        a = pb.amounts[:, r]
        rows = np.concatenate([np.arange(pb.n), v.pair_j])
        cols = np.concatenate([v.y, v.x])
        vals = np.concatenate([a - need, a[v.pair_i]])
        m.add_rows(f"requirement_{pb.requirement_names[r]}", rows, cols, vals, 0.0, INF, pb.n)


def spacing(pb: SelectionProblem, m: LinearModel, v: Vars) -> None:
    """|S(j)| y[j] + Σ_{k in S(j)} y[k] ≤ |S(j)|, S(j) = possible hubs closer than the spacing to j.

    One row per unit instead of one per close pair (the pairs grow with the square of the
    spacing); the clique rows of ``spacing_cliques`` restore the LP bound the pairs would give.
    """
    if pb.lazy_spacing:
        return  # rows are added as violated: see separate_spacing
    a, b = pb.conflict_pairs
    j = np.concatenate([a, b])
    k = np.concatenate([b, a])
    deg = np.bincount(j, minlength=pb.n).astype(float)
    has = deg > 0
    row = np.cumsum(has) - 1
    m.add_rows("spacing", np.concatenate([row[j], row[has]]), np.concatenate([v.y[k], v.y[has]]),
               np.concatenate([np.ones(len(k)), deg[has]]), -INF, deg[has], int(has.sum()))


def spacing_cliques(pb: SelectionProblem, m: LinearModel, v: Vars) -> None:
    """Σ y[k] ≤ 1 over the units within spacing/2 of a centre: any two of them are too close.

    Implied by the spacing rule, but much tighter in the LP relaxation. Centres are the
    units themselves, or, for large grids and wide spacings (lazy spacing), one unit per cell
    of a lattice a quarter of the spacing wide (nearby centres give nearly the same clique),
    so the rows stay few whatever the spacing.
    """
    if pb.spacing_km <= 0:
        return
    half = pb.spacing_km / 2.0
    few = pb.n <= CLIQUE_ALL_CENTRES and not pb.lazy_spacing
    centres = np.arange(pb.n) if few else _lattice_centres(pb, pb.spacing_km / 4.0)
    c, k, d = pairs_within(pb.xyz[centres], pb.xyz, half)
    keep = pb.can_host[k] & (d < half - 1e-9)
    c, k = c[keep], k[keep]
    sizes = np.bincount(c, minlength=len(centres))
    useful = sizes[c] >= 3  # a clique of two is at most one spacing row
    c, k = c[useful], k[useful]
    _, row = np.unique(c, return_inverse=True)
    m.add_rows("spacing_clique", row, v.y[k], np.ones(len(k)), -INF, 1.0, int(row.max()) + 1 if len(row) else 0)


CLIQUE_ALL_CENTRES = 5000  # units; above this, clique centres are thinned to a lattice


def _lattice_centres(pb: SelectionProblem, cell_km: float) -> np.ndarray:
    """One unit (the first by index) per cell of an equal-area lattice ``cell_km`` wide."""
    from pyproj import Transformer

    x, y = Transformer.from_crs("EPSG:4326", EQUAL_AREA_CRS, always_xy=True).transform(pb.lon, pb.lat)
    key = np.floor(np.column_stack([x, y]) / (cell_km * 1000.0)).astype(np.int64)
    _, first = np.unique(key, axis=0, return_index=True)
    return np.sort(first)


def separate_spacing(pb: SelectionProblem, m: LinearModel, v: Vars, values: np.ndarray, added: set[int]) -> int:
    """Lazy spacing: when chosen hubs are too close, add the spacing rows of every chosen hub; return rows added.

    Used when the close pairs are too many to write down (fine grids): the model is solved
    with the clique rows only, and rows are added until no chosen hubs break the rule. The
    last solution is then optimal for the full rule. Rows go to every chosen hub, not only
    the offenders, because the next solution tends to move a neighbouring hub.
    """
    hubs = np.flatnonzero(values[v.y] > 0.5)
    a, b, d = pairs_within(pb.xyz[hubs], pb.xyz[hubs], pb.spacing_km)
    bad = (a < b) & (d < pb.spacing_km - 1e-9)
    if not bad.any():
        return 0
    tree = cKDTree(pb.xyz)
    # A clique around the midpoint of each offending pair: it holds both and cuts this solution off.
    mid = pb.xyz[hubs[a[bad]]] + pb.xyz[hubs[b[bad]]]
    mid /= np.linalg.norm(mid, axis=1, keepdims=True)
    half = pb.spacing_km / 2.0
    crow, ccol = [], []
    for r, ks in enumerate(tree.query_ball_point(mid, float(km_to_chord(half)))):
        ks = np.asarray(ks, dtype=np.int64)
        ks = ks[(chord_to_km(np.linalg.norm(pb.xyz[ks] - mid[r], axis=1)) < half - 1e-9) & pb.can_host[ks]]
        crow.append(np.full(len(ks), r))
        ccol.append(v.y[ks])
    m.add_rows("spacing_clique", np.concatenate(crow), np.concatenate(ccol), np.ones(sum(map(len, ccol))), -INF, 1.0, len(mid))
    todo = [int(j) for j in hubs if int(j) not in added]
    if not todo:
        return len(mid)
    near = tree.query_ball_point(pb.xyz[todo], float(km_to_chord(pb.spacing_km)))
    rows, cols, vals, rhs = [], [], [], []
    for r, (j, ks) in enumerate(zip(todo, near)):
        ks = np.asarray(ks, dtype=np.int64)
        dk = chord_to_km(np.linalg.norm(pb.xyz[ks] - pb.xyz[j], axis=1))
        ks = ks[(ks != j) & (dk < pb.spacing_km - 1e-9) & pb.can_host[ks]]
        rows.append(np.full(len(ks) + 1, r))
        cols.append(np.concatenate([v.y[ks], [v.y[j]]]))
        vals.append(np.concatenate([np.ones(len(ks)), [float(len(ks))]]))
        rhs.append(float(len(ks)))
        added.add(j)
    m.add_rows("spacing", np.concatenate(rows), np.concatenate(cols), np.concatenate(vals), -INF, np.array(rhs), len(todo))
    return len(todo)


def per_state_limit(pb: SelectionProblem, m: LinearModel, v: Vars) -> None:
    """Σ_{j in state} y[j] ≤ max_per_state."""
    if pb.max_per_state is None:
        return
    codes, inv = np.unique(pb.states, return_inverse=True)
    sizes = np.bincount(inv, weights=pb.can_host.astype(float))
    binding = sizes > pb.max_per_state
    remap = np.cumsum(binding) - 1
    keep = binding[inv]
    m.add_rows("max_per_state", remap[inv[keep]], v.y[keep], np.ones(int(keep.sum())), -INF, float(pb.max_per_state), int(binding.sum()))


COMPONENTS = [cluster_count, members_need_open_hub, one_cluster_per_unit, members_are_all_units_in_radius, requirements, spacing,
              spacing_cliques, per_state_limit]


DISJOINT_COMPONENTS = [cluster_count, spacing, spacing_cliques, per_state_limit]

# A chain's facility type: its own rules; the rules shared between types are in chain_model.py.
FACILITY_COMPONENTS = [cluster_count, spacing, spacing_cliques, per_state_limit]


def build_model(pb: SelectionProblem, components=None) -> tuple[LinearModel, Vars]:
    """The MILP for a problem: the compact hub-only form when clusters cannot overlap, else the full form."""
    m = LinearModel()
    if pb.disjoint and components is None:
        v = disjoint_hub_variables(pb, m)
        components = DISJOINT_COMPONENTS
    else:
        v = hub_and_member_variables(pb, m)
    for comp in components or COMPONENTS:
        comp(pb, m, v)
    return m, v
