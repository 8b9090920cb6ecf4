"""Distances and raw measures against direct, brute-force computations."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pyproj import Geod

from cluster_opt.config import Criterion, Layer
from cluster_opt.features import measure
from cluster_opt.geo import chord_to_km, haversine_km, km_to_chord, pairs_within, to_xyz
from cluster_opt.layers import LayerData


def test_haversine_known_distance():
    # Duluth, MN to Detroit, MI: about 900 km great-circle; the WGS84 geodesic agrees within 0.5%.
    d = float(haversine_km(46.7867, -92.1005, 42.3314, -83.0458))
    geod = Geod(ellps="WGS84").inv(-92.1005, 46.7867, -83.0458, 42.3314)[2] / 1000
    assert d == pytest.approx(geod, rel=0.005)
    assert 850 < d < 900


@given(st.floats(0, 20000))
def test_chord_roundtrip(km):
    assert float(chord_to_km(km_to_chord(km))) == pytest.approx(km, abs=1e-6)


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 10**6), st.floats(1, 800))
def test_pairs_within_matches_all_pairs(seed, km):
    rng = np.random.default_rng(seed)
    a = np.column_stack([rng.uniform(35, 48, 40), rng.uniform(-100, -75, 40)])
    b = np.column_stack([rng.uniform(35, 48, 50), rng.uniform(-100, -75, 50)])
    i, j, d = pairs_within(to_xyz(a[:, 0], a[:, 1]), to_xyz(b[:, 0], b[:, 1]), km)
    full = haversine_km(a[:, 0][:, None], a[:, 1][:, None], b[:, 0][None, :], b[:, 1][None, :])
    want = set(zip(*np.nonzero(full <= km)))
    assert set(zip(i.tolist(), j.tolist())) == want
    np.testing.assert_allclose(d, full[i, j], atol=1e-6)


def _random_case(seed):
    rng = np.random.default_rng(seed)
    units = gpd.GeoDataFrame({"id": [f"{k:05d}" for k in range(30)], "lat": rng.uniform(38, 46, 30), "lon": rng.uniform(-95, -80, 30)},
                             geometry=gpd.points_from_xy(rng.uniform(-95, -80, 30), rng.uniform(38, 46, 30)).buffer(0.1), crs="EPSG:4326")
    plat, plon = rng.uniform(37, 47, 200), rng.uniform(-96, -79, 200)
    pts = gpd.GeoDataFrame({"feature": [f"p{k}" for k in range(200)], "value": rng.uniform(0, 1000, 200)},
                           geometry=gpd.points_from_xy(plon, plat), crs="EPSG:4326")
    layer = LayerData("l", Layer(source="x.csv", value="value"), pts, None, "", amounts=pts["value"].to_numpy())
    d = haversine_km(units["lat"].to_numpy()[:, None], units["lon"].to_numpy()[:, None], plat[None, :], plon[None, :])
    return units, layer, d, pts["value"].to_numpy()


@settings(max_examples=15, deadline=None)
@given(st.integers(0, 10**6))
def test_measures_match_direct_formulas(seed):
    units, layer, d, v = _random_case(seed)
    r = 150.0
    got = measure(units, layer, Criterion(layer="l", measure="sum_within", radius_km=r, weight=1))
    np.testing.assert_allclose(got, (v[None, :] * (d <= r)).sum(axis=1), rtol=1e-9)
    got = measure(units, layer, Criterion(layer="l", measure="count_within", radius_km=r, weight=1))
    np.testing.assert_array_equal(got, (d <= r).sum(axis=1))
    got = measure(units, layer, Criterion(layer="l", measure="nearest_km", weight=1))
    np.testing.assert_allclose(got, d.min(axis=1), atol=1e-6)
    got = measure(units, layer, Criterion(layer="l", measure="decay_sum", half_distance_km=100, radius_km=300, weight=1))
    np.testing.assert_allclose(got, (v[None, :] * 0.5 ** (d / 100) * (d <= 300)).sum(axis=1), rtol=1e-9)


def test_sum_inside_counts_each_point_once():
    units, layer, _, v = _random_case(7)
    got = measure(units, layer, Criterion(layer="l", measure="sum_inside", weight=1))
    inside = np.array([[poly.contains(p) for p in layer.points.geometry] for poly in units.geometry])
    np.testing.assert_allclose(got, (inside * v[None, :]).sum(axis=1))


# --------------------------------------------------------------------------- lines, polygons and state tables


def _layer_from(tmp_path, name: str, frame: gpd.GeoDataFrame, **spec):
    from cluster_opt.layers import load_layer

    path = tmp_path / f"{name}.gpkg"
    frame.to_file(path, driver="GPKG")
    return load_layer(name, Layer(source=str(path), **spec))


def _units_at(lats, lons, half=0.05):
    from shapely.geometry import box

    return gpd.GeoDataFrame({"id": [f"{k:05d}" for k in range(len(lats))], "lat": lats, "lon": lons, "state": ["MN"] * len(lats)},
                            geometry=[box(x - half, y - half, x + half, y + half) for y, x in zip(lats, lons)], crs="EPSG:4326")


def test_length_within_matches_the_exact_length_of_line_inside_each_circle(tmp_path):
    """km of line within R of each unit, against shapely's exact intersection with a geodesic circle (as a polygon of
    720 geodesic points), for three lines and units on, beside and far from them."""
    from shapely.geometry import LineString, Polygon

    geod = Geod(ellps="sphere")
    lines = gpd.GeoDataFrame({"name": ["a", "b", "c"], "kv": [345.0, 230.0, 500.0]}, crs="EPSG:4326", geometry=[
        LineString([(-94.0, 44.0), (-94.0, 46.0)]), LineString([(-95.5, 45.2), (-92.5, 45.0), (-92.0, 46.0)]),
        LineString([(-90.0, 40.0), (-89.0, 40.5)])])
    layer = _layer_from(tmp_path, "lines", lines)
    units = _units_at([45.0, 45.1, 45.0, 42.0], [-94.0, -93.5, -94.4, -85.0])
    got = measure(units, layer, Criterion(layer="lines", measure="length_within", radius_km=60, weight=1))
    eq = "EPSG:5070"
    for k, (lat, lon) in enumerate(zip(units["lat"], units["lon"])):
        lo, la, _ = geod.fwd(np.full(720, lon), np.full(720, lat), np.linspace(0, 360, 720, endpoint=False), np.full(720, 60_000))
        circle = gpd.GeoSeries([Polygon(zip(lo, la))], crs="EPSG:4326").to_crs(eq).iloc[0]
        want = sum(ln.intersection(circle).length for ln in lines.to_crs(eq).geometry) / 1000
        assert got[k] == pytest.approx(want, abs=2.0), k
    assert got[0] > 110 and got[3] == 0
    # With a value (e.g. voltage), each km counts that much; a where keeps only some lines.
    crit = {"measure": "length_within", "radius_km": 60, "weight": 1}
    by_kv = measure(units, _layer_from(tmp_path, "kv", lines, value="kv"), Criterion(layer="kv", **crit))
    only = {n: measure(units, _layer_from(tmp_path, n, lines, where={"name": [n]}), Criterion(layer=n, **crit)) for n in "abc"}
    np.testing.assert_allclose(only["a"] + only["b"] + only["c"], got, rtol=1e-9)
    np.testing.assert_allclose(by_kv, 345 * only["a"] + 230 * only["b"] + 500 * only["c"], rtol=1e-9)


def test_nearest_km_to_lines_and_polygons_is_to_the_shape_not_a_point_inside_it(tmp_path):
    from shapely.geometry import LineString, box

    shapes = gpd.GeoDataFrame({"name": ["line", "park"]}, crs="EPSG:4326",
                              geometry=[LineString([(-96.0, 45.0), (-90.0, 45.0)]), box(-88.0, 40.0, -86.0, 42.0)])
    layer = _layer_from(tmp_path, "shapes", shapes)
    units = _units_at([45.3, 41.0, 41.0], [-93.0, -87.0, -85.0])
    got = measure(units, layer, Criterion(layer="shapes", measure="nearest_km", weight=1))
    assert got[0] == pytest.approx(float(haversine_km(45.3, -93.0, 45.0, -93.0)), abs=1.0)  # straight down to the line
    assert got[1] == 0.0  # inside the polygon
    assert got[2] == pytest.approx(float(haversine_km(41.0, -85.0, 41.0, -86.0)), abs=1.0)  # to its east edge


def test_share_inside_is_the_covered_share_of_each_unit(tmp_path):
    from shapely.geometry import box

    polys = gpd.GeoDataFrame({"name": ["zone"]}, crs="EPSG:4326", geometry=[box(-94.0, 44.0, -93.0, 46.0)])
    layer = _layer_from(tmp_path, "zone", polys)
    units = _units_at([45.0, 45.0, 45.0], [-94.0, -93.5, -92.0])  # on the west edge, inside, outside
    got = measure(units, layer, Criterion(layer="zone", measure="share_inside", weight=1))
    np.testing.assert_allclose(got, [0.5, 1.0, 0.0], atol=0.01)


def test_state_value_reads_a_state_level_table(tmp_path):
    from cluster_opt.errors import DataError
    from cluster_opt.layers import load_layer

    (tmp_path / "prices.csv").write_text("state,cents\nMN,9.1\nWI,8.2\nUS,8.0\n", encoding="utf-8")
    layer = load_layer("prices", Layer(source=str(tmp_path / "prices.csv"), value="cents"))
    assert len(layer.points) == 2 and any("state-level table" in n for n in layer.notes)
    units = _units_at([45.0, 44.0], [-93.0, -89.0]).assign(state=["MN", "WI"])
    np.testing.assert_allclose(measure(units, layer, Criterion(layer="prices", measure="state_value", weight=1)), [9.1, 8.2])
    with pytest.raises(DataError, match="no row for IA"):
        measure(units.assign(state=["MN", "IA"]), layer, Criterion(layer="prices", measure="state_value", weight=1))
    with pytest.raises(DataError, match="need a line layer"):
        measure(units, layer, Criterion(layer="prices", measure="length_within", radius_km=10, weight=1))
