"""Layers from CSV and vector files, filters, and the candidate units."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
from shapely.geometry import Point

from cluster_opt.config import Layer, parse_config
from cluster_opt.errors import DataError
from cluster_opt.layers import load_layer
from cluster_opt.units import build_units


def _csv(tmp_path, text, name="pts.csv"):
    p = tmp_path / name
    p.write_text(text)
    return p


def test_csv_with_guessed_coordinates_and_where(tmp_path):
    p = _csv(tmp_path, "Site,Latitude,Longitude,commodities,tons\nA,46.5,-92.1,nickel;copper,10\nB,47.0,-91.5,iron,5\nC,45.0,-93.0,Cobalt,\"1,200\"\n")
    lay = load_layer("m", Layer(source=str(p), value="tons", where={"commodities": ["cobalt", "nickel"]}))
    assert lay.points["feature"].tolist() == ["C", "A"]  # sorted by position, west to east
    assert lay.values.tolist() == [1200.0, 10.0]
    assert lay.points.crs.to_epsg() == 4326
    lay = load_layer("m", Layer(source=str(p), value="tons", where={"tons": {"min": 6}}))
    assert sorted(lay.points["feature"]) == ["A", "C"]


def test_vector_files_and_polygons(tmp_path):
    g = gpd.GeoDataFrame({"name": ["a", "b"], "mw": [100.0, 50.0]}, geometry=[Point(-90, 45), Point(-89, 44)], crs="EPSG:4326")
    for ext, driver in ((".geojson", "GeoJSON"), (".gpkg", "GPKG")):
        p = tmp_path / f"plants{ext}"
        g.to_crs("EPSG:3857").to_file(p, driver=driver)
        lay = load_layer("g", Layer(source=str(p), value="mw"))
        assert lay.values.sum() == 150.0
        np.testing.assert_allclose(sorted(lay.points.geometry.x), [-90, -89], atol=1e-9)
    p = tmp_path / "plants.parquet"
    g.to_parquet(p)
    assert len(load_layer("g", Layer(source=str(p))).points) == 2
    polys = g.copy()
    polys["geometry"] = g.geometry.to_crs("EPSG:5070").buffer(20000).to_crs("EPSG:4326")
    polys.to_file(tmp_path / "areas.geojson", driver="GeoJSON")
    lay = load_layer("a", Layer(source=str(tmp_path / "areas.geojson"), value="mw"))
    assert (lay.points.geom_type == "Point").all() and lay.notes


@pytest.mark.parametrize(
    "text, spec, phrase",
    [
        ("lat,lon,v\n46,-92,x\n", {"value": "v"}, 'column "v" is not numeric (row 2: "x")'),
        ("lat,lon,v\n46,-92,1\n", {"value": "mw"}, 'layers.k.value: no column "mw"'),
        ("lat,lon,v\n146,-92,1\n", {}, "latitude out of range"),
        ("a,b\n1,2\n", {}, "no coordinate columns"),
        ("lat,lon,kind,size\n46,-92,x,1\n47,-92,y,2\n", {"where": {"kind": "x", "size": 2}}, "no features left after filtering (2 rows read; where kind keeps 1; where size keeps 1)"),
        ("lat,lon,metal\n46,-92,nickel;copper\n", {"where": {"metal": ["nickle"]}}, '"nickle" matches no row (did you mean "nickel"?)'),
        ("lat,lon,v\n46,-92,\"1.234,5\"\n", {"value": "v"}, 'it looks like a decimal comma: set layers.k.decimal: ","'),
        ("lat,lon\n46,-92\n", {"name": "site"}, 'layers.k.name: no column "site"'),
        ("lat,lon,kind\n46,-92,x\n", {"where": {"knd": "y"}}, 'where: no column "knd" (did you mean "kind"?)'),
        ("lat,lon,v\n46,-92,-3\n", {"value": "v"}, "negative values"),
        ("", {}, "the file is empty"),
    ],
)
def test_bad_layer_files(tmp_path, text, spec, phrase):
    p = _csv(tmp_path, text)
    with pytest.raises(DataError) as e:
        load_layer("k", Layer(source=str(p), **spec))
    assert str(p) in str(e.value) and phrase in str(e.value)


def test_broken_geojson_and_missing_file(tmp_path):
    p = tmp_path / "broken.geojson"
    p.write_text('{"type": "FeatureCollection", "features": [')
    with pytest.raises(DataError, match="cannot read it"):
        load_layer("k", Layer(source=str(p)))
    with pytest.raises(DataError, match="no such file"):
        load_layer("k", Layer(source=str(tmp_path / "nope.gpkg")))
    with pytest.raises(Exception, match='unknown builtin layer "builtin:port" \\(did you mean "ports"\\?\\)'):
        Layer(source="builtin:port")


def _cfg(**units):
    return parse_config({"name": "t", "study_area": {"states": ["RI", "DE"]}, "units": units or {"kind": "county"},
                         "layers": {"l": {"source": "builtin:labor", "value": "labor_force"}},
                         "criteria": {"l": {"layer": "l", "measure": "sum_inside", "weight": 1}},
                         "selection": {"clusters": 1, "cluster_radius_km": 10}})


def test_county_units():
    u = build_units(_cfg())
    # Rhode Island has 5 counties, Delaware 3.
    assert len(u) == 8 and set(u["state"]) == {"RI", "DE"}
    assert u["id"].str.fullmatch(r"\d{5}").all() and u["id"].is_monotonic_increasing
    assert u.crs.to_epsg() == 4326
    assert set(u[u.state == "DE"]["name"]) == {"Kent County", "New Castle County", "Sussex County"}
    # Every centroid lies inside or next to its county, and areas are real (Delaware is ~5,000 km² of land and water).
    assert 4500 < u[u.state == "DE"]["area_km2"].sum() < 6500


def test_h3_units_cover_the_states():
    u = build_units(_cfg(kind="h3", resolution=5))
    assert len(u) > 20 and set(u["state"]) <= {"RI", "DE"}
    assert u["id"].is_unique
    # Hexagons at resolution 5 are ~250 km²; each is named after the county holding its centre.
    assert 150 < u["area_km2"].median() < 350
    assert u["name"].str.contains("County").mean() > 0.9


def test_file_units(tmp_path):
    g = gpd.GeoDataFrame({"code": ["a", "b"], "label": ["Alpha", "Beta"], "st": ["RI", "MA"]},
                         geometry=[Point(-71.5, 41.7).buffer(0.1), Point(-71.0, 42.3).buffer(0.1)], crs="EPSG:4326")
    g.to_file(tmp_path / "regions.gpkg", driver="GPKG")
    cfg = _cfg(kind="file", path=str(tmp_path / "regions.gpkg"), id="code", name="label", state="st")
    u = build_units(cfg)
    assert u["id"].tolist() == ["a"] and u["name"].tolist() == ["Alpha"]
    cfg = _cfg(kind="file", path=str(tmp_path / "regions.gpkg"), id="cod")
    with pytest.raises(DataError, match='units.id: no column "cod" \\(did you mean "code"\\?\\)'):
        build_units(cfg)


def test_units_across_the_antimeridian_get_their_own_centroid():
    """Aleutians West (02016) spans ±180°: its centroid lies in the Aleutians, not near 0° longitude (Colorado)."""
    from cluster_opt.geo import haversine_km

    u = build_units(parse_config({"name": "t", "study_area": {"states": ["AK"]},
                                  "layers": {"l": {"source": "builtin:labor", "value": "labor_force"}},
                                  "criteria": {"l": {"layer": "l", "measure": "sum_inside", "weight": 1}},
                                  "selection": {"clusters": 1, "cluster_radius_km": 10}}))
    row = u[u["id"] == "02016"].iloc[0]
    assert 50 < row["lat"] < 56 and abs(row["lon"]) > 165
    # The centroid is near the islands: within 300 km of some vertex of the county.
    xy = np.concatenate([np.asarray(p.exterior.coords) for p in row.geometry.geoms])
    assert haversine_km(row["lat"], row["lon"], xy[:, 1], xy[:, 0]).min() < 300
    # Every other Alaskan unit keeps the centroid of its own shape.
    assert u["lon"].between(-180, -129).sum() + (u["lon"] > 165).sum() == len(u)
