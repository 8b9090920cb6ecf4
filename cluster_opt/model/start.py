"""A greedy first selection, handed to the solver as its starting incumbent.

With a time limit the solver then always has a selection to return, and on large
models it starts pruning at once. The start is checked against every row of the
model before it is used, so a greedy choice that breaks a rule is simply dropped.
"""

from __future__ import annotations

import numpy as np

from ..geo import haversine_km
from .components import Vars
from .linear import LinearModel
from .problem import SelectionProblem


def greedy_start(pb: SelectionProblem, model: LinearModel, v: Vars, prefer: np.ndarray | None = None) -> np.ndarray | None:
    """Values for every column, or None when the greedy pass finds no selection that satisfies the model.

    ``prefer``: hubs tried first (those of an answer that breaks a rule, to repair it), then the rest by gain."""
    gain = model.obj[v.y]
    order = np.lexsort((pb.ids, -gain))
    if prefer is not None and len(prefer):
        order = np.concatenate([np.asarray(prefer)[np.argsort(-gain[prefer], kind="stable")], order[~np.isin(order, prefer)]])
    chosen: list[int] = [pb.index[u] for u in pb.include]
    per_state: dict[str, int] = {}
    for j in chosen:
        per_state[pb.states[j]] = per_state.get(pb.states[j], 0) + 1
    for j in order:
        if len(chosen) >= pb.clusters:
            break
        if j in chosen or model.ub[v.y[j]] < 0.5:
            continue
        if pb.max_per_state is not None and per_state.get(pb.states[j], 0) >= pb.max_per_state:
            continue
        if chosen and (haversine_km(pb.lat[j], pb.lon[j], pb.lat[chosen], pb.lon[chosen]) < pb.spacing_km).any():
            continue
        chosen.append(int(j))
        per_state[pb.states[j]] = per_state.get(pb.states[j], 0) + 1
    if len(chosen) != pb.clusters:
        return None
    x = np.zeros(model.n_vars)
    x[v.y[chosen]] = 1.0
    if len(v.x):
        # Members join the nearest chosen hub in reach; units that are hubs stay in their own cluster.
        open_ = np.zeros(pb.n, bool)
        open_[chosen] = True
        ok = open_[v.pair_j] & ~open_[v.pair_i]
        d = haversine_km(pb.lat[v.pair_i], pb.lon[v.pair_i], pb.lat[v.pair_j], pb.lon[v.pair_j])
        cand = np.flatnonzero(ok)
        cand = cand[np.lexsort((d[cand], v.pair_i[cand]))]
        first = cand[np.unique(v.pair_i[cand], return_index=True)[1]]
        x[v.x[first]] = 1.0
        in_cluster = open_.astype(float)
        in_cluster[v.pair_i[first]] = 1.0
        x[v.z] = in_cluster
    elif len(v.z):  # the covering model of overlapping clusters: z marks the units a chosen hub reaches that are no hub
        open_ = np.zeros(pb.n, bool)
        open_[chosen] = True
        covered = np.zeros(pb.n)
        covered[v.pair_i[open_[v.pair_j]]] = 1.0
        covered[open_] = 0.0
        x[v.z] = covered
    return x if satisfies(model, x) else None


def satisfies(model: LinearModel, x: np.ndarray, tol: float = 1e-7) -> bool:
    """Whether x meets every bound and row of the model."""
    if (x < model.lb - tol).any() or (x > model.ub + tol).any():
        return False
    a, lo, hi, _ = model.matrix()
    ax = a @ x
    return bool(((ax >= lo - tol) & (ax <= hi + tol)).all())
