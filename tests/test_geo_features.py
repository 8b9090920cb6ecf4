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
