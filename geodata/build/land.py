#!/usr/bin/env python3
"""Build the land / logistics layers used by cluster-opt.

Every subcommand reads a local, already-downloaded copy of an official public
dataset and writes one output file.  Nothing is fetched over the network.

Subcommands
-----------
terminals
    BTS NTAD "Intermodal Freight Facilities - Rail TOFC/COFC" (rail-truck
    intermodal terminals) -> intermodal_terminals.csv.

    Input (``--src``) may be either
      * a GeoJSON FeatureCollection / CSV export of the NTAD layer (fields
        OBJECTID, TERMINAL, CITY, STATE, LAT, LON, EQUIPMENT, RAIL_COMPA, DATE), or
      * an executed Jupyter notebook whose ``GeoDataFrame.explore()`` output
        embeds that FeatureCollection (this is how the 2018 vintage is currently
        obtained; see card.md).

rail-lines
    NTAD North American Rail Network (NARN) Lines -> rail_lines.parquet,
    filtered to US arcs whose primary owner (RROWNER1) is a Class I railroad,
    simplified to ~200 m and written as GeoParquet in EPSG:4326.
    Input: any file pyogrio can read (GeoJSON, shapefile, file geodatabase).

water-states
    WRI Aqueduct 4.0 province rankings, sheet ``province_baseline`` exported to
    CSV -> state-level baseline water stress, expanded to one row per county
    (every county inherits its state's score; the method column says so).

Usage
-----
    python build_land.py terminals   --src intermodal.ipynb --source-note "..." --out intermodal_terminals.csv
    python build_land.py rail-lines  --src NARN_lines.geojson --out rail_lines.parquet
    python build_land.py water-states --src province_baseline.csv --out water_stress.csv

The ``--source-note`` text is written verbatim into the ``source`` column, so it
should name the dataset, vintage and the public copy it came from.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import urllib.parse
from pathlib import Path

import pandas as pd

# --------------------------------------------------------------------------- #
# Intermodal terminals
# --------------------------------------------------------------------------- #

TERMINAL_COLUMNS = ["id", "name", "city", "state", "lat", "lon", "kind",
                    "railroads", "year", "source"]


def _features_from_notebook(path: Path) -> list[dict]:
    """Return the NTAD TOFC/COFC features embedded in a folium map output."""
    nb = json.loads(path.read_text(encoding="utf-8"))
    decoder = json.JSONDecoder()
    for cell in nb.get("cells", []):
        for out in cell.get("outputs", []):
            html = out.get("data", {}).get("text/html")
            if not html:
                continue
            html = "".join(html) if isinstance(html, list) else html
            for match in re.finditer(r'data-html=([^ >"]+)', html):
                doc = urllib.parse.unquote(match.group(1))
                for start in [m.end() for m in re.finditer(r"_add\(", doc)]:
                    try:
                        obj, _ = decoder.raw_decode(doc[start:])
                    except json.JSONDecodeError:
                        continue
                    feats = obj.get("features", []) if isinstance(obj, dict) else []
                    if feats and {"TERMINAL", "RAIL_COMPA"} <= set(feats[0].get("properties", {})):
                        return feats
    raise SystemExit(f"{path}: no NTAD TOFC/COFC FeatureCollection found")


def _load_terminal_table(path: Path) -> pd.DataFrame:
    suffix = path.suffix.lower()
    if suffix == ".ipynb":
        rows = [f["properties"] for f in _features_from_notebook(path)]
        return pd.DataFrame(rows)
    if suffix in (".json", ".geojson"):
        data = json.loads(path.read_text(encoding="utf-8"))
        return pd.DataFrame([f["properties"] for f in data["features"]])
    if suffix == ".csv":
        return pd.read_csv(path, dtype=str)
    raise SystemExit(f"{path}: unsupported input type")


def build_terminals(src: Path, out: Path, source_note: str) -> pd.DataFrame:
    raw = _load_terminal_table(src)
    raw.columns = [c.upper() for c in raw.columns]
    need = {"OBJECTID", "TERMINAL", "CITY", "STATE", "LAT", "LON", "EQUIPMENT", "RAIL_COMPA", "DATE"}
    missing = need - set(raw.columns)
    if missing:
        raise SystemExit(f"{src}: missing fields {sorted(missing)}")

    def clean(s):
        return s.astype(str).str.strip().replace({"nan": "", "None": ""})

    df = pd.DataFrame({
        "id": "ntad-tofc-" + raw["OBJECTID"].astype(int).map("{:03d}".format),
        "name": clean(raw["TERMINAL"]),
        "city": clean(raw["CITY"]),
        "state": clean(raw["STATE"]).str.upper(),
        "lat": pd.to_numeric(raw["LAT"]).round(6),
        "lon": pd.to_numeric(raw["LON"]).round(6),
        "kind": "rail-truck intermodal (" + clean(raw["EQUIPMENT"]) + ")",
        "railroads": clean(raw["RAIL_COMPA"]).str.replace(r"\s*,\s*", ";", regex=True),
        "year": pd.to_datetime(raw["DATE"], utc=True, errors="coerce").dt.year.astype("Int64"),
        "source": source_note,
    })
    bad = df[(df.lat.abs() > 90) | (df.lon.abs() > 180) | df.lat.isna() | df.lon.isna()]
    if len(bad):
        raise SystemExit(f"{len(bad)} rows with unusable coordinates")
    if df["id"].duplicated().any():
        raise SystemExit("duplicate OBJECTID values")
    df = df.sort_values("id").reset_index(drop=True)[TERMINAL_COLUMNS]
    df.to_csv(out, index=False)
    return df


# --------------------------------------------------------------------------- #
# Class I rail lines (NARN)
# --------------------------------------------------------------------------- #

# NARN reporting marks of the Class I railroads (RROWNER1).  CPRS/KCS were
# merged into CPKC in 2023; older vintages still carry the separate marks.
CLASS_I_OWNERS = {"BNSF", "UP", "CSXT", "NS", "CN", "CPRS", "CPKC", "KCS"}


def build_rail_lines(src: Path, out: Path, source_note: str, tolerance_m: float = 200.0) -> "object":
    import geopandas as gpd

    gdf = gpd.read_file(src)
    gdf.columns = [c.upper() if c != "geometry" else c for c in gdf.columns]
    for col in ("RROWNER1", "COUNTRY"):
        if col not in gdf.columns:
            raise SystemExit(f"{src}: field {col} missing")
    sel = gdf[gdf["RROWNER1"].astype(str).str.strip().isin(CLASS_I_OWNERS)
              & (gdf["COUNTRY"].astype(str).str.strip() == "US")].copy()
    if sel.crs is None:
        sel = sel.set_crs(4326)
    # Equal-area / metric CRS for simplification and length.
    metric = sel.to_crs(5070)
    metric["geometry"] = metric.geometry.simplify(tolerance_m, preserve_topology=False)
    metric = metric[~metric.geometry.is_empty & metric.geometry.notna()]
    length_km = (metric.geometry.length / 1000.0).round(3)
    id_col = "FRAARCID" if "FRAARCID" in metric.columns else "OBJECTID"
    result = gpd.GeoDataFrame({
        "id": metric[id_col].astype("int64").astype(str).radd("narn-"),
        "owner": metric["RROWNER1"].astype(str).str.strip(),
        "class": "I",
        "length_km": length_km,
        "source": source_note,
    }, geometry=metric.geometry, crs=metric.crs).to_crs(4326)
    result.to_parquet(out, index=False, compression="zstd")
    return result


# --------------------------------------------------------------------------- #
# Aqueduct 4.0 water stress (state rankings expanded to counties)
# --------------------------------------------------------------------------- #

def build_water_states(src: Path, out: Path, source_note: str, weight: str = "Tot") -> pd.DataFrame:
    from cluster_opt import geodata  # project county polygons (Census 2016 CB)

    frame = pd.read_csv(src, dtype={"gid_1": str})
    usa = frame[(frame["gid_0"] == "USA") & (frame["indicator_name"] == "bws")
                & (frame["weight"] == weight)].copy()
    if usa.empty:
        raise SystemExit(f"{src}: no USA bws/{weight} rows")
    usa.loc[usa["score"] < 0, "score"] = pd.NA  # -9999 = no data
    counties = geodata.counties()  # columns: id (5-digit county FIPS), name, state, geometry
    geoid = counties["id"].astype(str).str.zfill(5)
    statefp = geoid.str[:2]
    name = counties["name"].astype(str)
    # GADM name_1 -> state FIPS via the Census state names shipped with the project.
    state_names = _state_fips_by_name()
    usa["statefp"] = usa["name_1"].map(state_names)
    abbr = counties["state"].astype(str)
    merged = pd.DataFrame({"id": geoid, "name": name, "abbr": abbr, "statefp": statefp}).merge(
        usa[["statefp", "name_1", "score", "label"]], on="statefp", how="left")
    result = pd.DataFrame({
        "id": merged["id"],
        "name": merged["name"],
        "state": merged["abbr"],
        "water_stress_score": pd.to_numeric(merged["score"]).round(3),
        "water_stress_label": merged["label"],
        "method": f"state value: Aqueduct 4.0 province_baseline, indicator bws, weight {weight} "
                  "(demand-weighted mean of HydroBASINS-6 scores over the GADM 3.6 state); "
                  "each county inherits its state's score",
        "year": 2023,
        "source": source_note,
    }).sort_values("id")
    result.to_csv(out, index=False)
    return result


def _state_fips_by_name() -> dict:
    # Census state FIPS codes (ANSI INCITS 38); names as spelled in GADM 3.6.
    pairs = """01 Alabama|02 Alaska|04 Arizona|05 Arkansas|06 California|08 Colorado|09 Connecticut|10 Delaware|
    11 District of Columbia|12 Florida|13 Georgia|15 Hawaii|16 Idaho|17 Illinois|18 Indiana|19 Iowa|20 Kansas|
    21 Kentucky|22 Louisiana|23 Maine|24 Maryland|25 Massachusetts|26 Michigan|27 Minnesota|28 Mississippi|
    29 Missouri|30 Montana|31 Nebraska|32 Nevada|33 New Hampshire|34 New Jersey|35 New Mexico|36 New York|
    37 North Carolina|38 North Dakota|39 Ohio|40 Oklahoma|41 Oregon|42 Pennsylvania|44 Rhode Island|
    45 South Carolina|46 South Dakota|47 Tennessee|48 Texas|49 Utah|50 Vermont|51 Virginia|53 Washington|
    54 West Virginia|55 Wisconsin|56 Wyoming"""
    out = {}
    for item in pairs.split("|"):
        code, nm = item.strip().split(" ", 1)
        out[nm.strip()] = code
    return out


# --------------------------------------------------------------------------- #

def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    for name in ("terminals", "rail-lines", "water-states"):
        p = sub.add_parser(name)
        p.add_argument("--src", type=Path, required=True, help="downloaded public copy")
        p.add_argument("--out", type=Path, required=True, help="output file")
        p.add_argument("--source-note", required=True,
                       help="text for the source column (dataset, vintage, public copy)")
    args = ap.parse_args(argv)
    if args.cmd == "terminals":
        df = build_terminals(args.src, args.out, args.source_note)
    elif args.cmd == "rail-lines":
        df = build_rail_lines(args.src, args.out, args.source_note)
    else:
        df = build_water_states(args.src, args.out, args.source_note)
    print(f"{args.out}: {len(df)} rows")
    return 0


if __name__ == "__main__":
    sys.exit(main())
