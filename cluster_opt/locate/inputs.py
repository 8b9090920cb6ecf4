"""Checks of a location model's inputs, each failing with one line in the planner's words, and the solver's answer read back."""

from __future__ import annotations

import numpy as np

from ..errors import InfeasibleError, InputError, SolverError
from ..geo import haversine_km


def great_circle_matrix(lat_a, lon_a, lat_b, lon_b) -> np.ndarray:
    """Great-circle kilometres between every point of a (rows) and of b (columns)."""
    return haversine_km(np.asarray(lat_a, float)[:, None], np.asarray(lon_a, float)[:, None],
                        np.asarray(lat_b, float)[None, :], np.asarray(lon_b, float)[None, :])


def check_costs(cost, name: str = "cost", square: bool = False) -> np.ndarray:
    """A cost matrix in which +inf marks an unreachable pair (never covered, assigned or counted)."""
    c = np.asarray(cost, dtype=float)
    if c.ndim != 2 or c.shape[0] == 0 or c.shape[1] == 0:
        raise InputError(f"{name}: expected a 2-D matrix (demand points × candidate sites), got shape {c.shape}")
    if square and c.shape[0] != c.shape[1]:
        raise InputError(f"{name}: expected a square site × site matrix, got shape {c.shape}")
    if np.isnan(c).any() or (c == -np.inf).any():
        raise InputError(f"{name}: has NaN or -inf entries; expected numbers, or +inf for an unreachable pair")
    return c


def check_radius(radius) -> float:
    try:
        r = float(radius)
    except (TypeError, ValueError):
        raise InputError(f"radius: expected a number ≥ 0, got {radius!r}") from None
    if not np.isfinite(r) or r < 0:
        raise InputError(f"radius: expected a finite number ≥ 0, got {radius}")
    return r


def check_forced(forced, n: int, p: int | None = None) -> np.ndarray:
    """Indices of the sites that must be open: whole numbers in 0..n-1, no repeats, at most p of them."""
    if forced is None:
        return np.zeros(0, dtype=np.int64)
    f = np.asarray(forced).reshape(-1)
    if f.dtype == bool:
        raise InputError("forced: expected site indices, got True/False values (use numpy.flatnonzero(mask))")
    if len(f) and (not np.issubdtype(f.dtype, np.number) or (f != np.round(f)).any()):
        raise InputError(f"forced: expected whole-number site indices, got {list(f)[:5]}")
    f = f.astype(np.int64)
    if len(f) and (f.min() < 0 or f.max() >= n):
        bad = f[(f < 0) | (f >= n)][0]
        raise InputError(f"forced: site index {bad} is out of range 0..{n - 1}")
    if len(np.unique(f)) != len(f):
        raise InputError("forced: a site index is repeated")
    if p is not None and len(f) > p:
        raise InputError(f"forced: {len(f)} sites must be open but p = {p}")
    return np.sort(f)


def check_p_inputs(cost, p, weights, forced) -> tuple[np.ndarray, int, np.ndarray, np.ndarray]:
    """(costs, p, weights, forced sites) of a model that opens p sites, each checked."""
    c = check_costs(cost)
    m, n = c.shape
    p = check_p(p, n)
    return c, p, check_weights(weights, m), check_forced(forced, n, p)


def open_sites(lm, n: int, forced: np.ndarray) -> np.ndarray:
    """The sites' open/closed variables, the forced ones fixed open."""
    lb = np.zeros(n)
    lb[forced] = 1.0
    return lm.add_vars("open", n, lb=lb)


def unreachable_point(reach: np.ndarray, why: str) -> None:
    """InfeasibleError naming the first demand point (row) that no site reaches."""
    none = ~reach.any(axis=1)
    if none.any():
        i = int(np.argmax(none))
        more = f" ({int(none.sum()) - 1} more alike)" if none.sum() > 1 else ""
        raise InfeasibleError(f"demand point {i} {why}{more}")


def nearest_open(cost: np.ndarray, facilities: np.ndarray, within: float = np.inf) -> np.ndarray:
    """Per demand point, its cheapest open site if that costs at most ``within`` (-1 otherwise)."""
    if not len(facilities):
        return np.full(cost.shape[0], -1)
    sub = cost[:, facilities]
    k = np.argmin(sub, axis=1)
    best = sub[np.arange(len(k)), k]
    return np.where((best <= within) & np.isfinite(best), facilities[k], -1)


def check_amounts(name: str, values, size: int, what: str = "") -> np.ndarray:
    """``size`` finite numbers ≥ 0 (demands, capacities, costs, weights), or one line saying what was found."""
    try:
        a = np.asarray(values, dtype=float).reshape(-1)
    except (TypeError, ValueError):
        raise InputError(f"{name}: expected {size} numbers ≥ 0{what}, got {values!r:.60}") from None
    if len(a) != size:
        raise InputError(f"{name}: expected {size} finite numbers ≥ 0{what}, got {len(a)}")
    bad = np.flatnonzero(~np.isfinite(a) | (a < 0))
    if len(bad):
        raise InputError(f"{name}: expected {size} finite numbers ≥ 0{what}; entry {bad[0]} is {a[bad[0]]}")
    return a


def check_weights(weights, m: int) -> np.ndarray:
    if weights is None:
        return np.ones(m)
    return check_amounts("weights", weights, m, " (one per demand point)")


def check_p(p, n: int) -> int:
    number = isinstance(p, (int, float, np.integer, np.floating)) and not isinstance(p, bool)
    if not number or not np.isfinite(p) or p != int(p) or p < 1:
        raise InputError(f"p: expected a whole number ≥ 1, got {p!r}")
    if p > n:
        raise InputError(f"p = {p} is larger than the {n} candidate sites")
    return int(p)


def solved(res, name: str):
    if res.status == "infeasible":
        raise InfeasibleError(f"{name}: no solution meets the constraints")
    if res.values is None:
        raise SolverError(f"{name}: the solver stopped without a solution (status: {res.status}); allow more time")
    return res
