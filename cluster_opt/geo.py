"""Distances on the Earth: great-circle kilometres on the mean-radius sphere.

Everything that measures distance goes through here, so the optimizer, the
feature measures and the evaluator agree on what "within 100 km" means. Points
are embedded on the unit sphere (3-D), where a k-d tree finds neighbours by
chord length, and chords convert exactly to great-circle distances.
"""

from __future__ import annotations

import numpy as np
from scipy.spatial import cKDTree

EARTH_RADIUS_KM = 6371.0088  # IUGG mean radius; within 0.5% of the ellipsoid everywhere
EQUAL_AREA_CRS = "EPSG:6933"  # WGS 84 / NSIDC EASE-Grid 2.0 Global: equal-area, for centroids
LONLAT_CRS = "EPSG:4326"


def to_xyz(lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    """Unit-sphere coordinates (n, 3) of points given in degrees."""
    la = np.radians(np.asarray(lat, dtype=float))
    lo = np.radians(np.asarray(lon, dtype=float))
    c = np.cos(la)
    return np.column_stack([c * np.cos(lo), c * np.sin(lo), np.sin(la)])


def km_to_chord(km: float | np.ndarray) -> float | np.ndarray:
    """Chord length on the unit sphere for a great-circle distance in km."""
    ang = np.minimum(np.asarray(km, dtype=float) / EARTH_RADIUS_KM, np.pi)
    return 2.0 * np.sin(ang / 2.0)


def chord_to_km(chord: float | np.ndarray) -> float | np.ndarray:
    return 2.0 * EARTH_RADIUS_KM * np.arcsin(np.clip(np.asarray(chord, dtype=float) / 2.0, 0.0, 1.0))


def haversine_km(lat1, lon1, lat2, lon2) -> np.ndarray:
    """Great-circle distance by the haversine formula (broadcasts)."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dp, dl = p2 - p1, np.radians(np.asarray(lon2) - np.asarray(lon1))
    a = np.sin(dp / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))


def pairs_within(xyz_a: np.ndarray, xyz_b: np.ndarray, km: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """All pairs (i in a, j in b) no farther apart than ``km``: (i, j, distance_km), sorted by (i, j)."""
    if len(xyz_a) == 0 or len(xyz_b) == 0:
        return np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0)
    ta, tb = cKDTree(xyz_a), cKDTree(xyz_b)
    r = ta.sparse_distance_matrix(tb, float(km_to_chord(km)) * (1 + 1e-9), output_type="ndarray")
    i, j = r["i"].astype(np.int64), r["j"].astype(np.int64)
    d = chord_to_km(r["v"])
    keep = d <= km + 1e-9
    i, j, d = i[keep], j[keep], d[keep]
    order = np.lexsort((j, i))
    return i[order], j[order], d[order]
