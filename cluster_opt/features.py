"""Raw measures: for every unit and criterion, one number measured from a layer.

Neighbour searches run on a k-d tree of unit-sphere coordinates (great-circle
distances, see ``geo``), a block of units at a time so that memory stays bounded
however many points a layer holds.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
from scipy.spatial import cKDTree

from .config import Config, Criterion, Measure
from .geo import EQUAL_AREA_CRS, chord_to_km, km_to_chord, to_xyz
from .errors import DataError
from .layers import LayerData

PAIRS_PER_BLOCK = 2_000_000  # unit-point pairs held at once by a neighbour search


def unit_xyz(units: gpd.GeoDataFrame) -> np.ndarray:
    return to_xyz(units["lat"].to_numpy(), units["lon"].to_numpy())


def layer_xyz(layer: LayerData) -> np.ndarray:
    g = layer.points.geometry
    return to_xyz(g.y.to_numpy(), g.x.to_numpy())


def measure(units: gpd.GeoDataFrame, layer: LayerData, crit: Criterion) -> np.ndarray:
    """One criterion's raw measure for every unit (in the units' order)."""
    m = crit.measure
    if m is Measure.sum_inside:
        return amounts_inside(units, layer)
    if m is Measure.share_inside:
        return share_covered(units, _shapes(layer, crit, "polygon"))
    if m is Measure.state_value:
        return state_values(units, layer)
    if m is Measure.nearest_km and layer.shapes is not None:
        return nearest_shape_km(units, layer.shapes)
    uxyz = unit_xyz(units)
    if m is Measure.length_within:
        pxyz, values = line_pieces(_shapes(layer, crit, "line"), layer.values)
    else:
        pxyz, values = layer_xyz(layer), layer.values if m is not Measure.count_within else np.ones(len(layer.points))
    tree = cKDTree(pxyz)
    if m is Measure.nearest_km:
        d, _ = tree.query(uxyz, k=1)
        return np.asarray(chord_to_km(d), dtype=float)
    r = float(km_to_chord(crit.radius_km)) * (1 + 1e-9)
    out = np.zeros(len(uxyz))
    step = block_size(tree, uxyz, r)
    for start in range(0, len(uxyz), step):
        block = uxyz[start:start + step]
        hits = cKDTree(block).sparse_distance_matrix(tree, r, output_type="ndarray")
        i, j = hits["i"], hits["j"]
        dk = chord_to_km(hits["v"])
        keep = dk <= crit.radius_km + 1e-9
        i, j, dk = i[keep], j[keep], dk[keep]
        w = values[j]
        if m is Measure.decay_sum:
            w = w * np.exp2(-dk / crit.half_distance_km)
        out[start:start + len(block)] = np.bincount(i, weights=w, minlength=len(block))
    return out


LINE_STEP_M = 1000.0  # lines are cut into pieces this long (at most) for length_within: a piece counts where its middle lies


SHAPE_KINDS = {"line": {"LineString", "MultiLineString"}, "polygon": {"Polygon", "MultiPolygon"}}


def _shapes(layer: LayerData, crit: Criterion, what: str) -> gpd.GeoSeries:
    """The layer's lines or polygons (``what``), or a DataError naming the measure that needs them."""
    kinds = set() if layer.shapes is None else set(layer.shapes.geom_type.unique())
    if not kinds or kinds - SHAPE_KINDS[what]:
        raise DataError(f"{layer.path}: criteria measured by {crit.measure.value} need a {what} layer; layers.{layer.key} holds "
                        f"{'/'.join(sorted(kinds)) or 'points'}")
    return layer.shapes


def line_pieces(lines: gpd.GeoSeries, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Every line cut into pieces of about LINE_STEP_M (in an equal-area CRS): each piece's middle on the unit sphere
    and its great-circle length in km times its line's value. A radius then catches a line's length to within a piece
    at each crossing."""
    import shapely
    from pyproj import Transformer

    eq = shapely.segmentize(lines.to_crs(EQUAL_AREA_CRS).to_numpy(), LINE_STEP_M)
    parts, owner = shapely.get_parts(eq, return_index=True)
    coords, ring = shapely.get_coordinates(parts, return_index=True)
    same = ring[1:] == ring[:-1]  # consecutive vertices of one part make a piece
    back = Transformer.from_crs(EQUAL_AREA_CRS, "EPSG:4326", always_xy=True)
    lon, lat = back.transform(coords[:, 0], coords[:, 1])
    ends = to_xyz(lat, lon)
    a, b = ends[:-1][same], ends[1:][same]
    length_km = np.asarray(chord_to_km(np.linalg.norm(b - a, axis=1)), dtype=float)  # great-circle, as every distance here
    mid = (a + b) / 2
    mid /= np.linalg.norm(mid, axis=1, keepdims=True)
    return mid, length_km * np.asarray(values, dtype=float)[owner[ring[:-1][same]]]


def nearest_shape_km(units: gpd.GeoDataFrame, shapes: gpd.GeoSeries) -> np.ndarray:
    """Per unit: great-circle km from its centroid to the nearest line or polygon outline (0 inside a polygon),
    measured along outlines densified to BOUNDARY_STEP_M."""
    tree = cKDTree(outline_points(shapes))
    d, _ = tree.query(unit_xyz(units), k=1)
    out = np.asarray(chord_to_km(d), dtype=float)
    polys = shapes[shapes.geom_type.isin(["Polygon", "MultiPolygon"])]
    if len(polys):
        pts = gpd.GeoDataFrame(geometry=gpd.points_from_xy(units["lon"], units["lat"]), crs="EPSG:4326")
        hit = gpd.sjoin(pts, gpd.GeoDataFrame(geometry=polys.to_numpy(), crs=polys.crs), predicate="within", how="inner")
        out[np.unique(hit.index.to_numpy())] = 0.0
    return out


def state_values(units: gpd.GeoDataFrame, layer: LayerData) -> np.ndarray:
    """Per unit: the layer's value for the unit's state (a state-level table such as electricity prices)."""
    col = next((c for c in layer.points.columns if str(c).lower() == "state"), None)
    if col is None:
        raise DataError(f"{layer.path}: layers.{layer.key}: state_value needs a state column (USPS codes)")
    table = pd.Series(layer.values, index=layer.points[col].astype(str).str.strip().str.upper())
    table = table[~table.index.duplicated(keep="first")]
    states = units["state"].astype(str).to_numpy()
    missing = sorted(set(states) - set(table.index))
    if missing:
        raise DataError(f"{layer.path}: layers.{layer.key}: no row for {', '.join(missing[:5])}"
                        f"{' and more' if len(missing) > 5 else ''}; state_value needs a row for every state of the study area")
    return table.reindex(states).to_numpy(dtype=float)


def block_size(tree: cKDTree, uxyz: np.ndarray, r: float) -> int:
    """Units per block so that one block's neighbour pairs stay near PAIRS_PER_BLOCK (bounded memory)."""
    sample = uxyz[:: max(1, len(uxyz) // 64)]
    mean = float(np.mean(tree.query_ball_point(sample, r, return_length=True))) if len(sample) else 0.0
    return int(np.clip(PAIRS_PER_BLOCK / max(mean, 1.0), 16, 4096))


def amounts_inside(units: gpd.GeoDataFrame, layer: LayerData) -> np.ndarray:
    """Sum of a layer's values located inside each unit (0 where none).

    Each point counts for exactly one unit, which is what makes cluster totals
    additive: a power plant is never counted for two clusters.
    """
    pts = layer.points
    joined = gpd.sjoin(
        gpd.GeoDataFrame({"_v": layer.values}, geometry=pts.geometry.to_numpy(), crs=pts.crs).to_crs(EQUAL_AREA_CRS),
        gpd.GeoDataFrame({"_u": np.arange(len(units))}, geometry=units.geometry.to_numpy(), crs=units.crs).to_crs(EQUAL_AREA_CRS),
        how="inner",
        predicate="within",
    )
    # A point on a shared border lands in two polygons: keep the lower unit index.
    joined = joined.sort_values("_u", kind="stable")
    joined = joined[~joined.index.duplicated(keep="first")]
    return np.bincount(joined["_u"].to_numpy(), weights=joined["_v"].to_numpy(), minlength=len(units)).astype(float)


def requirement_layers(cfg: Config) -> list[str]:
    """The layers that requirements add up: the selection's, or every facility type's (each once, in config order)."""
    if cfg.selection is not None:
        return list(cfg.selection.requirements)
    return list(dict.fromkeys(r for f in cfg.facilities.values() for r in f.requires))


def compute_amounts(units: gpd.GeoDataFrame, layers: dict[str, LayerData], cfg: Config) -> pd.DataFrame:
    """Unit × requirement table: each requirement layer's value located inside the unit."""
    data = {name: amounts_inside(units, layers[name]) for name in requirement_layers(cfg)}
    return pd.DataFrame(data, index=pd.Index(units["id"].to_numpy(), name="id"), dtype=float)


BOUNDARY_STEP_M = 1000.0  # shapes' outlines are measured at points this far apart (distance error ≤ half of it)


def outline_points(shapes: gpd.GeoSeries) -> np.ndarray:
    """Unit-sphere points along every outline (lines, polygon rings), densified to BOUNDARY_STEP_M in an equal-area CRS."""
    import shapely
    from pyproj import Transformer

    eq = shapes.to_crs(EQUAL_AREA_CRS).boundary.where(shapes.geom_type.str.contains("Polygon"), shapes.to_crs(EQUAL_AREA_CRS))
    xy = shapely.get_coordinates(shapely.segmentize(eq.to_numpy(), BOUNDARY_STEP_M))
    lon, lat = Transformer.from_crs(EQUAL_AREA_CRS, "EPSG:4326", always_xy=True).transform(xy[:, 0], xy[:, 1])
    return to_xyz(lat, lon)


def near_shapes(units: gpd.GeoDataFrame, shapes: gpd.GeoSeries, km: float) -> np.ndarray:
    """Per unit: whether a shape lies within km of its centroid (great-circle, to the shape's outline or inside it);
    at 0 km, whether any shape touches the unit."""
    pts = gpd.GeoDataFrame(geometry=gpd.points_from_xy(units["lon"], units["lat"]), crs="EPSG:4326")
    if km <= 0:
        hit = gpd.sjoin(gpd.GeoDataFrame(geometry=units.geometry.to_numpy(), crs=units.crs), gpd.GeoDataFrame(geometry=shapes.to_numpy(), crs=shapes.crs),
                        predicate="intersects", how="inner")
    else:
        hit = gpd.sjoin(pts, gpd.GeoDataFrame(geometry=shapes.to_numpy(), crs=shapes.crs), predicate="within", how="inner")
    out = np.zeros(len(units), bool)
    out[np.unique(hit.index.to_numpy())] = True
    if km > 0:
        tree = cKDTree(outline_points(shapes))
        d, _ = tree.query(unit_xyz(units), k=1)
        out |= np.asarray(chord_to_km(d)) <= km
    return out


def share_covered(units: gpd.GeoDataFrame, shapes: gpd.GeoSeries) -> np.ndarray:
    """Per unit: the share of its area that the union of the shapes covers (areas in an equal-area CRS)."""
    import shapely

    cover = shapely.union_all(shapes.to_crs(EQUAL_AREA_CRS).make_valid().to_numpy())
    eq = units.geometry.to_crs(EQUAL_AREA_CRS).to_numpy()
    inter = shapely.area(shapely.intersection(eq, cover))
    return inter / np.maximum(shapely.area(eq), 1e-9)
