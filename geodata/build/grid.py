#!/usr/bin/env python3
"""Build the embedded high-voltage grid tables for cluster-opt.

Three independent steps, each reading a locally downloaded public copy of an
official dataset (paths are arguments; nothing is fetched over the network):

  hv-nodes           EIA-860 Schedule 2 plant file (e.g. 2___Plant_Y2023.xlsx)
                     -> hv_nodes.csv
                     plant_id,name,state,lat,lon,grid_kv,year,source,kv_standard
                     grid_kv is the highest of the up to three "Grid Voltage (kV)"
                     fields reported for the plant; rows below --min-kv (default
                     69), rows without coordinates or voltage, and rows whose
                     value is a utilisation voltage in volts (208, 277, 480, 600)
                     entered in the kV field are dropped and counted.
                     kv_standard is True when grid_kv is one of the common North
                     American transmission nominal voltages (see STANDARD_KV).

  hifld-substations  HIFLD "Electric Substations" as CSV / GeoJSON / shapefile /
                     GeoPackage (full layer or a column subset of it)
                     -> substations.csv
                     id,name,state,lat,lon,max_kv,min_kv,lines,status,year,source
                     (+ county when present). Keeps MAX_VOLT >= --min-kv
                     (default 69). -999999 / "NOT AVAILABLE" voltages count as
                     unknown and are reported, not kept. Columns missing from
                     the copy (ID, STATUS, SOURCEDATE in reduced extracts) are
                     left empty rather than filled in.

  hifld-lines        HIFLD "Electric Power Transmission Lines" (GeoJSON /
                     shapefile / GeoPackage / GeoParquet)
                     -> transmission_lines.parquet (GeoParquet, EPSG:4326)
                     id,voltage_kv,volt_class,owner,status,type,length_km,source
                     Keeps lines with VOLTAGE >= 115 kV, plus lines whose VOLTAGE
                     is unknown but whose VOLT_CLASS is 100-161 or higher, or DC.
                     Geometry is simplified to about 100 m (in EPSG:5070).
                     length_km is geodesic (WGS84 ellipsoid) on the unsimplified
                     geometry. A completeness report (counts and km by class,
                     unknown-voltage counts and km) is printed and written next
                     to the output as <out>.report.txt.

Every step prints counts of what was kept and dropped.

Usage
  python build_grid.py hv-nodes PLANT_XLSX --source-note "..." [--out hv_nodes.csv]
  python build_grid.py hifld-substations SUBSTATIONS_FILE --source-note "..."
        [--out substations.csv] [--year YEAR]
  python build_grid.py hifld-lines LINES_FILE --source-note "..."
        [--out transmission_lines.parquet]

Requirements: pandas; openpyxl for .xlsx input; geopandas, shapely>=2, pyproj,
pyarrow, pyogrio for the HIFLD spatial inputs.

Refresh: download the newer public copy (EIA-860 annual release, or an archived
HIFLD layer), rerun the matching step with the new path and source note, then
update card.md and summary.txt with the printed counts.
"""
from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

import numpy as np
import pandas as pd

UNKNOWN_VOLT = -999999
NOT_AVAILABLE = "NOT AVAILABLE"

# Common nominal transmission voltages (kV) in North American practice.
STANDARD_KV = {69, 115, 138, 161, 230, 345, 500, 765}
# Utilisation voltages in volts that appear in the kV field of EIA-860;
# no US transmission system operates at these values in kV.
VOLTS_ENTERED_AS_KV = {208, 277, 480, 600}

EIA_VOLT_FIELDS = ["Grid Voltage (kV)", "Grid Voltage 2 (kV)", "Grid Voltage 3 (kV)"]

LINE_CLASS_ORDER = ["100-161", "220-287", "345", "500", "735 AND ABOVE", "DC"]
LINE_CLASSES_KEPT_WHEN_VOLTAGE_UNKNOWN = set(LINE_CLASS_ORDER)
REPORT_CLASSES = ["115-161", "220-287", "345", "500", "735+", "DC"]


# ----------------------------------------------------------------- helpers
def _num(series: pd.Series) -> pd.Series:
    """Numeric conversion; blanks, text and the HIFLD -999999 sentinel become NaN."""
    text = series.astype(str).str.strip()
    out = pd.to_numeric(text.where(~text.isin(["", NOT_AVAILABLE])), errors="coerce")
    return out.mask(out <= UNKNOWN_VOLT + 1)


def _text(series: pd.Series) -> pd.Series:
    s = series.fillna("").astype(str).str.strip()
    return s.mask(s.str.upper() == NOT_AVAILABLE, "")


def _fmt_kv(x: float) -> str:
    if pd.isna(x):
        return ""
    return str(int(x)) if float(x).is_integer() else f"{x:g}"


# ------------------------------------------------------------- EIA-860 nodes
def build_hv_nodes(plant_xlsx: Path, out: Path, source_note: str, min_kv: float) -> dict:
    try:
        raw = pd.read_excel(plant_xlsx, sheet_name=0, header=None, dtype=str)
    except ImportError as exc:  # openpyxl missing
        sys.exit(f"reading {plant_xlsx} needs openpyxl: {exc}")
    title = str(raw.iloc[0, 0])
    header_row = next(i for i in range(5) if "Plant Code" in raw.iloc[i].astype(str).tolist())
    df = raw.iloc[header_row + 1:].copy()
    df.columns = raw.iloc[header_row].astype(str).str.strip().tolist()
    df = df[df["Plant Code"].notna() & (df["Plant Code"].astype(str).str.strip() != "")]

    year = None
    for tok in title.replace("-", " ").split():
        if tok.isdigit() and len(tok) == 4:
            year = int(tok)
            break
    if year is None:
        sys.exit(f"cannot read the data year from the sheet title: {title!r}")

    volts = pd.concat([_num(df[c]) for c in EIA_VOLT_FIELDS if c in df.columns], axis=1)
    n_reported = volts.notna().sum(axis=1)
    grid_kv = volts.max(axis=1)
    lat = _num(df["Latitude"])
    lon = _num(df["Longitude"])

    stats = {"title": title, "plants": len(df),
             "no_voltage": int(grid_kv.isna().sum()),
             "multi_voltage": int((n_reported > 1).sum())}
    volts_as_kv = grid_kv.isin(VOLTS_ENTERED_AS_KV)
    stats["volts_entered_as_kv"] = int(volts_as_kv.sum())
    below = grid_kv.notna() & ~volts_as_kv & (grid_kv < min_kv)
    stats["below_min_kv"] = int(below.sum())
    keep = grid_kv.notna() & ~volts_as_kv & (grid_kv >= min_kv)
    no_xy = keep & (lat.isna() | lon.isna())
    stats["no_coordinates"] = int(no_xy.sum())
    keep &= ~no_xy

    out_df = pd.DataFrame({
        "plant_id": df.loc[keep, "Plant Code"].astype(str).str.strip().astype(int),
        "name": df.loc[keep, "Plant Name"].astype(str).str.strip(),
        "state": df.loc[keep, "State"].astype(str).str.strip(),
        "lat": lat[keep].round(5),
        "lon": lon[keep].round(5),
        "grid_kv": grid_kv[keep],
        "year": year,
        "source": source_note,
    })
    out_df["kv_standard"] = out_df["grid_kv"].isin(STANDARD_KV)
    out_df["grid_kv"] = out_df["grid_kv"].map(_fmt_kv)
    out_df = out_df.sort_values(["state", "plant_id"]).reset_index(drop=True)
    out_df.to_csv(out, index=False)

    kv = pd.to_numeric(out_df["grid_kv"])
    stats.update({
        "kept": len(out_df),
        "states": int(out_df["state"].nunique()),
        "nonstandard_kv": int((~out_df["kv_standard"]).sum()),
        "by_band": kv_bands(kv),
    })
    return stats


def kv_bands(kv) -> dict[str, int]:
    """How many voltages (kV) fall in each band the data card reports."""
    kv = np.asarray(kv, dtype=float)
    return {
        "69-99": int(((kv >= 69) & (kv < 100)).sum()),
        "100-161": int(((kv >= 100) & (kv <= 161)).sum()),
        "162-287": int(((kv > 161) & (kv <= 287)).sum()),
        "288-399": int(((kv > 287) & (kv < 400)).sum()),
        "400-599": int(((kv >= 400) & (kv < 600)).sum()),
        "600+": int((kv >= 600).sum()),
    }


# --------------------------------------------------------- HIFLD substations
def _read_table(path: Path) -> pd.DataFrame:
    if path.suffix.lower() in {".csv", ".gz"}:
        return pd.read_csv(path, dtype=str, keep_default_na=False)
    import geopandas as gpd
    gdf = gpd.read_file(path)
    if "LATITUDE" not in gdf.columns or "LONGITUDE" not in gdf.columns:
        pts = gdf.to_crs(4326).geometry
        gdf["LATITUDE"], gdf["LONGITUDE"] = pts.y, pts.x
    return pd.DataFrame(gdf.drop(columns="geometry")).astype(str)


def build_substations(path: Path, out: Path, source_note: str, min_kv: float,
                      year: int | None) -> dict:
    df = _read_table(path)
    cols = {c.upper(): c for c in df.columns}

    def col(name: str) -> pd.Series:
        return df[cols[name]] if name in cols else pd.Series([""] * len(df), index=df.index)

    max_kv = _num(col("MAX_VOLT"))
    min_kv_s = _num(col("MIN_VOLT"))
    lat = _num(col("LATITUDE"))
    lon = _num(col("LONGITUDE"))
    if "SOURCEDATE" in cols:
        yr = pd.to_datetime(col("SOURCEDATE"), errors="coerce").dt.year
    else:
        yr = pd.Series([year] * len(df), index=df.index, dtype="object")

    stats = {"rows": len(df),
             "max_volt_unknown": int(max_kv.isna().sum()),
             "below_min_kv": int((max_kv < min_kv).sum()),
             "columns_missing": [c for c in ("ID", "STATUS", "SOURCEDATE") if c not in cols]}
    keep = max_kv >= min_kv
    no_xy = keep & (lat.isna() | lon.isna())
    stats["no_coordinates"] = int(no_xy.sum())
    keep &= ~no_xy

    out_df = pd.DataFrame({
        "id": _text(col("ID"))[keep],
        "name": _text(col("NAME"))[keep],
        "state": _text(col("STATE"))[keep],
        "lat": lat[keep].round(6),
        "lon": lon[keep].round(6),
        "max_kv": max_kv[keep].map(_fmt_kv),
        "min_kv": min_kv_s[keep].map(_fmt_kv),
        "lines": _num(col("LINES"))[keep].astype("Int64"),
        "status": _text(col("STATUS"))[keep],
        "year": yr[keep],
        "source": source_note,
    })
    if "COUNTY" in cols:
        out_df.insert(3, "county", _text(col("COUNTY"))[keep])
    out_df = out_df.sort_values(["state", "name", "lat", "lon"]).reset_index(drop=True)
    out_df.to_csv(out, index=False)

    mk = max_kv[keep]
    stats.update({
        "kept": len(out_df),
        "states": sorted(out_df["state"].unique().tolist()),
        "by_state": out_df["state"].value_counts().sort_index().to_dict(),
        "by_max_kv": kv_bands(mk),
    })
    return stats


# --------------------------------------------------------------- HIFLD lines
def _report_class(volt: float, volt_class: str, line_type: str) -> str:
    vc = (volt_class or "").upper()
    if vc == "DC" or (line_type or "").upper().startswith("DC"):
        return "DC"
    if not math.isnan(volt):
        if volt >= 600:
            return "735+"
        if volt >= 400:
            return "500"
        if volt >= 288:
            return "345"
        if volt >= 162:
            return "220-287"
        return "115-161"
    return {"100-161": "115-161", "220-287": "220-287", "345": "345", "500": "500",
            "735 AND ABOVE": "735+"}.get(vc, "unknown")


def build_lines(path: Path, out: Path, source_note: str, tolerance_m: float = 100.0,
                min_kv: float = 115.0) -> dict:
    import geopandas as gpd
    from pyproj import Geod

    gdf = gpd.read_file(path)
    if gdf.crs is None:
        gdf = gdf.set_crs(4326)
    gdf = gdf.to_crs(4326)
    cols = {c.upper(): c for c in gdf.columns}

    def col(name: str) -> pd.Series:
        return gdf[cols[name]] if name in cols else pd.Series([""] * len(gdf), index=gdf.index)

    geod = Geod(ellps="WGS84")
    length_km = gdf.geometry.map(lambda g: geod.geometry_length(g) / 1000.0 if g is not None else float("nan"))
    volt = _num(col("VOLTAGE"))
    vclass = _text(col("VOLT_CLASS")).str.upper()
    ltype = _text(col("TYPE"))

    unknown = volt.isna()
    stats = {
        "features": len(gdf),
        "km_total": float(length_km.sum()),
        "voltage_unknown": int(unknown.sum()),
        "voltage_unknown_km": float(length_km[unknown].sum()),
        "voltage_and_class_unknown": int((unknown & ~vclass.isin(LINE_CLASSES_KEPT_WHEN_VOLTAGE_UNKNOWN)).sum()),
        "voltage_and_class_unknown_km": float(length_km[unknown & ~vclass.isin(LINE_CLASSES_KEPT_WHEN_VOLTAGE_UNKNOWN)].sum()),
    }
    is_dc = (vclass == "DC") | ltype.str.upper().str.startswith("DC")
    keep = (volt >= min_kv) | (unknown & vclass.isin(LINE_CLASSES_KEPT_WHEN_VOLTAGE_UNKNOWN)) | is_dc
    keep &= gdf.geometry.notna() & ~gdf.geometry.is_empty
    stats["kept_voltage_unknown_class_known"] = int((keep & unknown).sum())
    stats["kept_voltage_unknown_class_known_km"] = float(length_km[keep & unknown].sum())

    sel = gdf.loc[keep].copy()
    simplified = sel.geometry.to_crs(5070).simplify(tolerance_m, preserve_topology=False).to_crs(4326)
    out_gdf = gpd.GeoDataFrame({
        "id": _text(col("ID"))[keep].values,
        "voltage_kv": volt[keep].values,
        "volt_class": vclass[keep].values,
        "owner": _text(col("OWNER"))[keep].values,
        "status": _text(col("STATUS"))[keep].values,
        "type": ltype[keep].values,
        "length_km": length_km[keep].round(3).values,
        "source": source_note,
    }, geometry=simplified.values, crs=4326)
    out_gdf.to_parquet(out, index=False, compression="zstd")

    rc = [
        _report_class(v, c, t)
        for v, c, t in zip(out_gdf["voltage_kv"], out_gdf["volt_class"], out_gdf["type"])
    ]
    km = out_gdf.assign(report_class=rc).groupby("report_class")["length_km"].agg(["count", "sum"])
    stats.update({
        "kept": len(out_gdf),
        "kept_km": float(out_gdf["length_km"].sum()),
        "km_by_class": {k: (int(km.loc[k, "count"]), round(float(km.loc[k, "sum"]), 1))
                        for k in REPORT_CLASSES + ["unknown"] if k in km.index},
        "output_mb": round(out.stat().st_size / 2**20, 2),
    })
    Path(str(out) + ".report.txt").write_text(
        "\n".join(f"{k}: {v}" for k, v in stats.items()) + "\n", encoding="utf-8")
    return stats


# --------------------------------------------------------------------- main
def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="step", required=True)

    a = sub.add_parser("hv-nodes")
    a.add_argument("plant_xlsx", type=Path)
    a.add_argument("--out", type=Path, default=Path("hv_nodes.csv"))
    a.add_argument("--min-kv", type=float, default=69.0)
    a.add_argument("--source-note", required=True)

    b = sub.add_parser("hifld-substations")
    b.add_argument("path", type=Path)
    b.add_argument("--out", type=Path, default=Path("substations.csv"))
    b.add_argument("--min-kv", type=float, default=69.0)
    b.add_argument("--year", type=int, default=None,
                   help="data year to record when the copy has no SOURCEDATE")
    b.add_argument("--source-note", required=True)

    c = sub.add_parser("hifld-lines")
    c.add_argument("path", type=Path)
    c.add_argument("--out", type=Path, default=Path("transmission_lines.parquet"))
    c.add_argument("--tolerance-m", type=float, default=100.0)
    c.add_argument("--source-note", required=True)

    args = ap.parse_args(argv)
    if args.step == "hv-nodes":
        stats = build_hv_nodes(args.plant_xlsx, args.out, args.source_note, args.min_kv)
    elif args.step == "hifld-substations":
        stats = build_substations(args.path, args.out, args.source_note, args.min_kv, args.year)
    else:
        stats = build_lines(args.path, args.out, args.source_note, args.tolerance_m)
    for k, v in stats.items():
        print(f"{k}: {v}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
