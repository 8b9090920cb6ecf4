"""Unit, cluster and state outlines for display: simplified, then packed as small integer lists.

A packed shape is a list of polygons, each a list of rings, each ring a flat list
``[x0, y0, dx1, dy1, ...]`` in steps of 1e-5 degree (about a metre): the first point
absolute, the others as differences from the point before. map.js unpacks them.
"""

from __future__ import annotations

import numpy as np
import shapely
from shapely.geometry import box

from .. import geodata

DISPLAY_TOLERANCE_DEG = 0.005  # ~500 m: simplification for display only
STATE_TOLERANCE_DEG = 0.01
PACK_SCALE = 100_000
_POLYGON = 3  # shapely type id


def simplify_for_display(geoms, tolerance: float = DISPLAY_TOLERANCE_DEG) -> np.ndarray:
    """Fast simplification; shapes it empties or breaks are simplified again keeping their topology."""
    geoms = np.asarray(geoms, dtype=object)
    out = shapely.simplify(geoms, tolerance, preserve_topology=False)
    bad = shapely.is_empty(out) | ~shapely.is_valid(out)
    if bad.any():
        out[bad] = shapely.simplify(geoms[bad], tolerance, preserve_topology=True)
    return out


def pack_shapes(geoms) -> list[list[list[list[int]]]]:
    """The polygons of each geometry, packed (see the module docstring); other parts are left out."""
    geoms = np.asarray(geoms, dtype=object)
    parts, part_of = shapely.get_parts(geoms, return_index=True)
    keep = (shapely.get_type_id(parts) == _POLYGON) & ~shapely.is_empty(parts)
    parts, part_of = parts[keep], part_of[keep]
    rings, ring_of = shapely.get_rings(parts, return_index=True)
    xy, point_of = shapely.get_coordinates(rings, return_index=True)
    q = np.rint(xy * PACK_SCALE).astype(np.int64)
    steps = q.copy()
    steps[1:] -= q[:-1]
    counts = np.bincount(point_of, minlength=len(rings))
    ends = np.cumsum(counts)
    begins = ends - counts
    steps[begins[counts > 0]] = q[begins[counts > 0]]
    flat = steps.ravel().tolist()
    polygons: list[list[list[int]]] = [[] for _ in range(len(parts))]
    for r, (b, e) in enumerate(zip(begins.tolist(), ends.tolist())):
        if e > b:
            polygons[ring_of[r]].append(flat[2 * b:2 * e])
    out: list[list[list[list[int]]]] = [[] for _ in range(len(geoms))]
    for p, k in enumerate(part_of.tolist()):
        out[k].append(polygons[p])
    return out


def bounds_latlng(bounds) -> list[list[float]]:
    """[[south, west], [north, east]] as Leaflet's fitBounds takes them."""
    minx, miny, maxx, maxy = (float(v) for v in bounds)
    return [[miny, minx], [maxy, maxx]]


def state_shapes(bounds, tolerance: float = STATE_TOLERANCE_DEG) -> list:
    """The packed outlines of the states near ``bounds`` (the offline basemap)."""
    minx, miny, maxx, maxy = bounds
    st = geodata.states()
    st = st[st.intersects(box(minx - 5, miny - 5, maxx + 5, maxy + 5))]
    return pack_shapes(merged(simplify_for_display(st.geometry.to_numpy(), tolerance)))


def county_shapes(states: list[str]) -> list:
    """The packed outlines of the counties of ``states``, drawn over units that are not counties."""
    cty = geodata.counties()
    cty = cty[cty["state"].isin(states)]
    return pack_shapes(merged(simplify_for_display(cty.geometry.to_numpy(), STATE_TOLERANCE_DEG)))


def merged(geoms: np.ndarray) -> np.ndarray:
    """All shapes as one multipolygon (drawn as one path: the basemap is not interactive)."""
    parts = shapely.get_parts(geoms)
    return np.array([shapely.multipolygons(parts[shapely.get_type_id(parts) == _POLYGON])], dtype=object)
