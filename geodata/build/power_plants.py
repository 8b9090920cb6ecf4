#!/usr/bin/env python3
"""Build cluster-opt's US power plant table (power_plants.csv).

Inputs (paths given on the command line):

  --atlas   EIA "Power Plants" layer (U.S. Energy Atlas), CSV export.
            One row per operable plant of >= 1 MW combined nameplate, built by
            EIA from Form EIA-860, EIA-860M and EIA-923. The vintage is given
            in its `Period` column (YYYYMM). Columns used: Plant_Code,
            Plant_Name, County, State (full name), Latitude, Longitude,
            Install_MW (nameplate MW), Total_MW (net summer MW), PrimSource,
            the per-source net summer MW columns (Bat_MW ... Other_MW), Period.
  --plant   Form EIA-860 Schedule 2 plant file (2___Plant_Y<year>), either the
            original .xlsx or a CSV export of its "Plant" sheet. Used only
            for the plant's grid voltage(s) "Grid Voltage (kV)",
            "Grid Voltage 2 (kV)" and "Grid Voltage 3 (kV)".
  --proposed (optional) Form EIA-860 Schedule 3 "Proposed" generator sheet
            (3_1_Generator_Y<year>.xlsx, or a CSV export of that sheet). When
            given, one extra row per plant with planned generators is written
            (status "planned", capacity_mw = planned nameplate MW).
  --out     Output CSV path (default: power_plants.csv).
  --atlas-source / --plant-source / --proposed-source
            Short citation strings written into the `source` column.

Output columns:
  plant_id,name,state,county,lat,lon,capacity_mw,summer_mw,primary_fuel,
  status,grid_voltage_kv,year,source

Rules:
  * operating rows: capacity_mw = plant nameplate MW of operable generators
    (Install_MW), summer_mw = net summer MW (Total_MW); kept if capacity_mw >= 1.
  * primary_fuel = source with the largest share of the plant's MW, taken
    from the per-source MW columns (net summer MW, the only per-source split
    the layer publishes); if those are all empty or zero, EIA's PrimSource.
    Normalised to: coal, natural_gas, petroleum, nuclear, hydro,
    pumped_storage, wind, solar, battery_storage, geothermal, biomass, other.
  * grid_voltage_kv = largest of the (up to three) Schedule 2 grid voltages;
    empty when the plant is not in the Schedule 2 file or reports none.
  * lat/lon rounded to 5 decimals (WGS84, as published by EIA); state as
    2-letter USPS code. Puerto Rico is kept (state "PR"); drop it with
    --no-pr.

Example:
  python build_power_plants.py --atlas Power_Plants.csv \
      --plant 2___Plant_Y2023.csv --out power_plants.csv
"""

import argparse
import sys

import numpy as np
import pandas as pd

from cluster_opt.importers import STATE_NAMES as STATE_CODES  # state name -> USPS code

# Per-source MW columns of the EIA Power Plants layer -> normalised fuel.
SOURCE_COLUMNS = {
    "Coal_MW": "coal",
    "NG_MW": "natural_gas",
    "Crude_MW": "petroleum",
    "Nuclear_MW": "nuclear",
    "Hydro_MW": "hydro",
    "HydroPS_MW": "pumped_storage",
    "Wind_MW": "wind",
    "Solar_MW": "solar",
    "Bat_MW": "battery_storage",
    "Geo_MW": "geothermal",
    "Bio_MW": "biomass",
    "Other_MW": "other",
}

# EIA PrimSource labels -> normalised fuel.
PRIMSOURCE = {
    "coal": "coal",
    "natural gas": "natural_gas",
    "petroleum": "petroleum",
    "nuclear": "nuclear",
    "hydroelectric": "hydro",
    "pumped storage": "pumped_storage",
    "wind": "wind",
    "solar": "solar",
    "batteries": "battery_storage",
    "geothermal": "geothermal",
    "biomass": "biomass",
    "other": "other",
}

# Form EIA-860 energy source codes -> normalised fuel (for planned units).
ENERGY_SOURCE_CODES = {
    "ANT": "coal", "BIT": "coal", "LIG": "coal", "SUB": "coal", "SGC": "coal",
    "WC": "coal", "RC": "coal",
    "NG": "natural_gas",
    "DFO": "petroleum", "JF": "petroleum", "KER": "petroleum",
    "PC": "petroleum", "PG": "petroleum", "RFO": "petroleum",
    "SGP": "petroleum", "WO": "petroleum",
    "NUC": "nuclear",
    "WAT": "hydro",
    "WND": "wind",
    "SUN": "solar",
    "MWH": "battery_storage",
    "GEO": "geothermal",
    "AB": "biomass", "MSW": "biomass", "OBS": "biomass", "WDS": "biomass",
    "OBL": "biomass", "SLW": "biomass", "BLQ": "biomass", "WDL": "biomass",
    "LFG": "biomass", "OBG": "biomass",
}

OUT_COLUMNS = [
    "plant_id", "name", "state", "county", "lat", "lon", "capacity_mw",
    "summer_mw", "primary_fuel", "status", "grid_voltage_kv", "year",
    "source",
]


def read_table(path, sheet=None):
    """Read an EIA-860 sheet (xlsx) or its CSV export; the header is row 2."""
    if path.lower().endswith((".xlsx", ".xls")):
        df = pd.read_excel(path, sheet_name=sheet or 0, header=1)
    else:
        df = pd.read_csv(path, header=1, low_memory=False)
    df.columns = [str(c).strip() for c in df.columns]
    return df


def to_num(series):
    return pd.to_numeric(series.astype(str).str.strip().replace("", np.nan),
                         errors="coerce")


def primary_fuel(atlas):
    """Normalised fuel with the largest MW share; EIA PrimSource as fallback."""
    mw = pd.DataFrame({fuel: to_num(atlas[col]).fillna(0.0)
                       for col, fuel in SOURCE_COLUMNS.items()})
    fallback = atlas["PrimSource"].str.strip().str.lower().map(PRIMSOURCE)
    best = mw.idxmax(axis=1)
    top = mw.max(axis=1)
    # On an exact tie keep EIA's own label if it is among the tied sources.
    tied = mw.eq(top, axis=0).sum(axis=1) > 1
    for i in np.flatnonzero(tied.to_numpy()):
        fb = fallback.iloc[i]
        if isinstance(fb, str) and mw.iloc[i][fb] == top.iloc[i]:
            best.iloc[i] = fb
    return best.where(top > 0, fallback)


def plant_schedule(plant_path):
    """Schedule 2: max grid voltage (kV) and coordinates per plant code."""
    plants = read_table(plant_path, sheet="Plant")
    cols = [c for c in plants.columns if c.startswith("Grid Voltage")]
    kv = pd.concat([to_num(plants[c]) for c in cols], axis=1).max(axis=1)
    out = pd.DataFrame({"plant_id": to_num(plants["Plant Code"]), "kv": kv,
                        "lat": to_num(plants["Latitude"]).round(5),
                        "lon": to_num(plants["Longitude"]).round(5)})
    out = out.dropna(subset=["plant_id"])
    out["plant_id"] = out["plant_id"].astype(int)
    out.loc[out["kv"] <= 0, "kv"] = np.nan
    return out.drop_duplicates("plant_id").set_index("plant_id")


def operating_rows(atlas_path, source):
    atlas = pd.read_csv(atlas_path, dtype=str, keep_default_na=False)
    state = atlas["State"].str.strip().map(STATE_CODES)
    unknown = sorted(set(atlas.loc[state.isna(), "State"]))
    if unknown:
        sys.exit(f"unmapped state names: {unknown}")
    period = atlas["Period"].str.strip()
    df = pd.DataFrame({
        "plant_id": to_num(atlas["Plant_Code"]).astype(int),
        "name": atlas["Plant_Name"].str.strip(),
        "state": state,
        "county": atlas["County"].str.strip(),
        "lat": to_num(atlas["Latitude"]).round(5),
        "lon": to_num(atlas["Longitude"]).round(5),
        "capacity_mw": to_num(atlas["Install_MW"]),
        "summer_mw": to_num(atlas["Total_MW"]),
        "primary_fuel": primary_fuel(atlas),
        "status": "operating",
        "year": period.str[:4].astype(int),
        "source": source,
    })
    return df, sorted(period.unique())


def planned_rows(proposed_path, plant_geo, source):
    gens = read_table(proposed_path, sheet="Proposed")
    gens = gens.dropna(subset=["Plant Code"])
    gens["plant_id"] = to_num(gens["Plant Code"]).astype(int)
    gens["mw"] = to_num(gens["Nameplate Capacity (MW)"]).fillna(0.0)
    gens["summer"] = to_num(gens["Summer Capacity (MW)"])
    gens["fuel"] = gens["Energy Source 1"].str.strip().map(
        ENERGY_SOURCE_CODES).fillna("other")
    by_fuel = gens.groupby(["plant_id", "fuel"])["mw"].sum().reset_index()
    by_fuel = by_fuel.sort_values(["plant_id", "mw"], ascending=[True, False])
    fuel = by_fuel.drop_duplicates("plant_id").set_index("plant_id")["fuel"]
    agg = gens.groupby("plant_id").agg(
        name=("Plant Name", "first"), state=("State", "first"),
        county=("County", "first"), capacity_mw=("mw", "sum"),
        summer_mw=("summer", lambda s: s.sum(min_count=1)),
        year=("Planned Operation Year", "min"))
    agg["primary_fuel"] = fuel
    agg = agg.join(plant_geo, how="left").reset_index()
    agg["status"] = "planned"
    agg["source"] = source
    return agg


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--atlas", required=True)
    ap.add_argument("--plant", required=True)
    ap.add_argument("--proposed")
    ap.add_argument("--out", default="power_plants.csv")
    ap.add_argument("--atlas-source",
                    default="EIA Power Plants layer 2023-11 (EIA-860/860M)")
    ap.add_argument("--plant-source", default="kV: EIA-860 2023 Sch.2")
    ap.add_argument("--proposed-source", default="EIA-860 2023 Sch.3 Proposed")
    ap.add_argument("--no-pr", action="store_true",
                    help="drop Puerto Rico plants")
    args = ap.parse_args(argv)

    ops, periods = operating_rows(args.atlas, args.atlas_source)
    ops = ops[ops["capacity_mw"] >= 1].copy()
    sched2 = plant_schedule(args.plant)
    kv = sched2["kv"]
    ops["grid_voltage_kv"] = ops["plant_id"].map(kv)
    has_kv = ops["grid_voltage_kv"].notna()
    ops.loc[has_kv, "source"] = ops.loc[has_kv, "source"] + "; " + \
        args.plant_source
    frames = [ops]

    if args.proposed:
        # Coordinates: the operating row's if the plant already exists,
        # else the Schedule 2 record (which also lists proposed plants).
        geo = ops.set_index("plant_id")[["lat", "lon"]]
        geo = pd.concat([geo, sched2.loc[~sched2.index.isin(geo.index),
                                         ["lat", "lon"]]])
        plan = planned_rows(args.proposed, geo, args.proposed_source)
        plan["grid_voltage_kv"] = plan["plant_id"].map(kv)
        frames.append(plan[plan["capacity_mw"] > 0])

    out = pd.concat(frames, ignore_index=True)
    if args.no_pr:
        out = out[out["state"] != "PR"]
    out = out.sort_values(["plant_id", "status"])[OUT_COLUMNS]
    out["lat"] = out["lat"].map(lambda v: "" if pd.isna(v) else f"{v:.5f}")
    out["lon"] = out["lon"].map(lambda v: "" if pd.isna(v) else f"{v:.5f}")
    for col in ("capacity_mw", "summer_mw", "grid_voltage_kv"):
        out[col] = out[col].map(
            lambda v: "" if pd.isna(v) else f"{v:.3f}".rstrip("0").rstrip("."))
    out.to_csv(args.out, index=False, lineterminator="\n")

    op = out[out["status"] == "operating"]
    mw = pd.to_numeric(op["capacity_mw"])
    print(f"atlas period(s): {', '.join(periods)}")
    print(f"operating plants: {len(op)}  nameplate MW: {mw.sum():,.1f}")
    print(f"  of which 50 states + DC: {(op['state'] != 'PR').sum()} plants, "
          f"{mw[op['state'] != 'PR'].sum():,.1f} MW")
    print(f"plants with grid voltage: {op['grid_voltage_kv'].ne('').sum()}")
    print(f"planned rows: {(out['status'] == 'planned').sum()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
