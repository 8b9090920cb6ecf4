"""The maximal covering location problem (Church & ReVelle 1974)."""

from __future__ import annotations

import time

import numpy as np

from ..config import Solver
from ..model.backend import solve_linear
from ..model.linear import INF, LinearModel
from .inputs import check_p_inputs, check_radius, nearest_open, open_sites, solved
from .result import LocateResult


def max_coverage(cost, radius: float, p: int, weights=None, forced=None, solver: Solver | None = None) -> LocateResult:
    """Open exactly p sites (the ``forced`` ones among them) maximizing the weight of demand points within ``radius`` of an open site.

    An infinite cost marks a site that can never cover that demand point.
    """
    t0 = time.perf_counter()
    c, p, w, forced = check_p_inputs(cost, p, weights, forced)
    m, n = c.shape
    radius = check_radius(radius)
    ci, cj = np.nonzero(c <= radius)
    coverable = np.unique(ci)
    lm = LinearModel(sense="max")
    y = open_sites(lm, n, forced)
    z = lm.add_vars("covered", len(coverable), obj=w[coverable], binary=False)
    row_of = np.full(m, -1)
    row_of[coverable] = np.arange(len(coverable))
    k = len(coverable)
    lm.add_rows("coverage", np.concatenate([np.arange(k), row_of[ci]]), np.concatenate([z, y[cj]]),
                np.concatenate([np.ones(k), -np.ones(len(ci))]), -INF, 0.0, k)
    lm.add_rows("p_sites", np.zeros(n, int), y, np.ones(n), p, p, 1)
    res = solved(solve_linear(lm, solver), "max coverage")
    facilities = np.flatnonzero(res.values[y] > 0.5)
    assignment = nearest_open(c, facilities, radius)
    objective = float(w[assignment >= 0].sum())
    return LocateResult(objective, facilities, assignment, res.status, res.gap, res.bound, time.perf_counter() - t0, 1, lm.n_vars, lm.n_rows)
