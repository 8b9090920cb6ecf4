"""Checks of a location model's inputs, each failing with one line in the planner's words, and the solver's answer read back."""

from __future__ import annotations

import numpy as np

from ..errors import InfeasibleError, InputError, SolverError
from ..geo import haversine_km


def great_circle_matrix(lat_a, lon_a, lat_b, lon_b) -> np.ndarray:
    """Great-circle kilometres between every point of a (rows) and of b (columns)."""
    return haversine_km(np.asarray(lat_a, float)[:, None], np.asarray(lon_a, float)[:, None],
                        np.asarray(lat_b, float)[None, :], np.asarray(lon_b, float)[None, :])


def check_matrix(cost, name: str = "cost") -> np.ndarray:
    c = np.asarray(cost, dtype=float)
    if c.ndim != 2 or c.shape[0] == 0 or c.shape[1] == 0:
        raise InputError(f"{name}: expected a 2-D matrix (demand points × candidate sites), got shape {c.shape}")
    if not np.isfinite(c).all():
        raise InputError(f"{name}: has NaN or infinite entries; expected finite costs (use a large number for 'unreachable')")
    return c


def check_weights(weights, m: int) -> np.ndarray:
    if weights is None:
        return np.ones(m)
    w = np.asarray(weights, dtype=float).reshape(-1)
    if len(w) != m or not np.isfinite(w).all() or (w < 0).any():
        raise InputError(f"weights: expected {m} finite numbers ≥ 0 (one per demand point)")
    return w


def check_p(p, n: int) -> int:
    if int(p) != p or p < 1:
        raise InputError(f"p: expected a whole number ≥ 1, got {p}")
    if p > n:
        raise InputError(f"p = {p} is larger than the {n} candidate sites")
    return int(p)


def solved(res, name: str):
    if res.status == "infeasible":
        raise InfeasibleError(f"{name}: no solution meets the constraints")
    if res.values is None:
        raise SolverError(f"{name}: the solver stopped without a solution (status: {res.status}); allow more time")
    return res


def check_reachable_costs(cost, name: str = "cost") -> np.ndarray:
    """A cost matrix where np.inf marks a pair that cannot be used; NaN and -inf are refused."""
    c = np.asarray(cost, dtype=float)
    if c.ndim != 2 or c.shape[0] == 0 or c.shape[1] == 0:
        raise InputError(f"{name}: expected a 2-D matrix (demand points × candidate sites), got shape {c.shape}")
    if np.isnan(c).any() or (c == -np.inf).any():
        raise InputError(f"{name}: has NaN or -inf entries; expected finite costs, or np.inf for a pair that cannot be used")
    return c


def check_sites(sites, n: int, name: str = "forced") -> np.ndarray:
    """Site (column) indices as a boolean mask over the n candidate sites."""
    mask = np.zeros(n, bool)
    if sites is None:
        return mask
    idx = np.asarray(sites).reshape(-1)
    if len(idx) and (idx.dtype.kind not in "iu" or idx.min() < 0 or idx.max() >= n):
        raise InputError(f"{name}: expected site indices in 0..{n - 1}, got {idx.tolist()}")
    mask[idx.astype(int)] = True
    return mask
