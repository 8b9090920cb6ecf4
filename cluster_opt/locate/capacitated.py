"""Fixed-charge capacitated facility location."""

from __future__ import annotations

import time

import numpy as np

from ..config import Solver
from ..errors import InfeasibleError, InputError
from ..model.backend import solve_linear
from ..model.linear import INF, LinearModel
from .inputs import check_matrix, solved
from .result import LocateResult


def capacitated_facility_location(cost, demand, capacity, fixed_cost, single_source: bool = False,
                                  solver: Solver | None = None) -> LocateResult:
    """Open sites and assign all demand within capacities at least fixed plus assignment cost.

    ``cost[i, j]`` is the cost of serving all of demand point i from site j; with
    multi-sourcing a demand point may be split across sites (``flows``), with
    ``single_source=True`` each is served by one site.
    """
    t0 = time.perf_counter()
    c = check_matrix(cost)
    m, n = c.shape
    d = np.asarray(demand, float).reshape(-1)
    cap = np.asarray(capacity, float).reshape(-1)
    f = np.asarray(fixed_cost, float).reshape(-1)
    for name, arr, size in (("demand", d, m), ("capacity", cap, n), ("fixed_cost", f, n)):
        if len(arr) != size or not np.isfinite(arr).all() or (arr < 0).any():
            raise InputError(f"{name}: expected {size} finite numbers ≥ 0")
    if cap.sum() < d.sum():
        raise InfeasibleError(f"total capacity {cap.sum():,.6g} is below total demand {d.sum():,.6g}: no assignment can serve all demand")
    if single_source and d.max(initial=0) > cap.max(initial=0):
        i = int(np.argmax(d))
        raise InfeasibleError(f"demand point {i} needs {d[i]:,.6g}, more than the largest site capacity {cap.max():,.6g}; allow multi-sourcing")
    lm = LinearModel(sense="min")
    y = lm.add_vars("open", n, obj=f)
    x = lm.add_vars("serve", m * n, obj=c.reshape(-1), binary=single_source)
    xi, xj = np.divmod(np.arange(m * n), n)
    lm.add_rows("serve_all", xi, x, np.ones(m * n), 1.0, 1.0, m)
    lm.add_rows("capacity", np.concatenate([xj, np.arange(n)]), np.concatenate([x, y]),
                np.concatenate([d[xi], -cap]), -INF, 0.0, n)
    k = m * n
    lm.add_rows("open_to_serve", np.concatenate([np.arange(k), np.arange(k)]), np.concatenate([x, y[xj]]),
                np.concatenate([np.ones(k), -np.ones(k)]), -INF, 0.0, k)
    lm.add_rows("enough_capacity", np.zeros(n, int), y, cap, d.sum(), INF, 1)
    res = solved(solve_linear(lm, solver), "capacitated facility location")
    flows = res.values[x].reshape(m, n)
    flows[flows < 1e-9] = 0.0
    facilities = np.flatnonzero(res.values[y] > 0.5)
    assignment = np.argmax(flows, axis=1)
    objective = float(f[facilities].sum() + (c * flows).sum())
    return LocateResult(objective, facilities, assignment, res.status, res.gap, res.bound, time.perf_counter() - t0, 1,
                        lm.n_vars, lm.n_rows, flows)
