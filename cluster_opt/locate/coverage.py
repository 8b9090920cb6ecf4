"""The maximal covering location problem (Church & ReVelle 1974)."""

from __future__ import annotations

import time

import numpy as np

from ..config import Solver
from ..errors import InputError
from ..model.backend import solve_linear
from ..model.linear import INF, LinearModel
from .inputs import check_matrix, check_p, solved, check_weights
from .result import LocateResult


def max_coverage(cost, radius: float, p: int, weights=None, solver: Solver | None = None) -> LocateResult:
    """Open exactly p sites maximizing the weight of demand points within ``radius`` of an open site."""
    t0 = time.perf_counter()
    c = check_matrix(cost)
    m, n = c.shape
    p = check_p(p, n)
    w = check_weights(weights, m)
    if not np.isfinite(radius) or radius < 0:
        raise InputError(f"radius: expected a number ≥ 0, got {radius}")
    ci, cj = np.nonzero(c <= radius)
    coverable = np.unique(ci)
    lm = LinearModel(sense="max")
    y = lm.add_vars("open", n)
    z = lm.add_vars("covered", len(coverable), obj=w[coverable], binary=False)
    row_of = np.full(m, -1)
    row_of[coverable] = np.arange(len(coverable))
    k = len(coverable)
    lm.add_rows("coverage", np.concatenate([np.arange(k), row_of[ci]]), np.concatenate([z, y[cj]]),
                np.concatenate([np.ones(k), -np.ones(len(ci))]), -INF, 0.0, k)
    lm.add_rows("p_sites", np.zeros(n, int), y, np.ones(n), p, p, 1)
    res = solved(solve_linear(lm, solver), "max coverage")
    facilities = np.flatnonzero(res.values[y] > 0.5)
    best = c[:, facilities]
    near = facilities[np.argmin(best, axis=1)]
    covered = best.min(axis=1) <= radius
    assignment = np.where(covered, near, -1)
    objective = float(w[covered].sum())
    return LocateResult(objective, facilities, assignment, res.status, res.gap, res.bound, time.perf_counter() - t0, 1, lm.n_vars, lm.n_rows)
