"""Turn official downloads into layers: ``cluster-opt data import KIND FILE --out PATH``.

Each importer reads the agency's own layout, checks it, and writes a point layer
(GeoParquet or GeoPackage, EPSG:4326) whose columns match the embedded tables,
so a config can swap ``builtin:ports`` for the imported file.
"""

from __future__ import annotations

import re
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from . import geodata
from .states import FIPS_STATE, STATE_FIPS
from .errors import DataError, did_you_mean
from .files import replaceable_file, write_atomically
from .geo import EQUAL_AREA_CRS, LONLAT_CRS
from .layers import read_csv

KINDS = ("power_plants", "ports", "labor", "minerals")

STATE_NAMES = {
    "Alabama": "AL", "Alaska": "AK", "Arizona": "AZ", "Arkansas": "AR", "California": "CA", "Colorado": "CO", "Connecticut": "CT",
    "Delaware": "DE", "District of Columbia": "DC", "Florida": "FL", "Georgia": "GA", "Hawaii": "HI", "Idaho": "ID", "Illinois": "IL",
    "Indiana": "IN", "Iowa": "IA", "Kansas": "KS", "Kentucky": "KY", "Louisiana": "LA", "Maine": "ME", "Maryland": "MD",
    "Massachusetts": "MA", "Michigan": "MI", "Minnesota": "MN", "Mississippi": "MS", "Missouri": "MO", "Montana": "MT",
    "Nebraska": "NE", "Nevada": "NV", "New Hampshire": "NH", "New Jersey": "NJ", "New Mexico": "NM", "New York": "NY",
    "North Carolina": "NC", "North Dakota": "ND", "Ohio": "OH", "Oklahoma": "OK", "Oregon": "OR", "Pennsylvania": "PA",
    "Rhode Island": "RI", "South Carolina": "SC", "South Dakota": "SD", "Tennessee": "TN", "Texas": "TX", "Utah": "UT",
    "Vermont": "VT", "Virginia": "VA", "Washington": "WA", "West Virginia": "WV", "Wisconsin": "WI", "Wyoming": "WY",
    "Puerto Rico": "PR",
}

FUELS = {
    "coal": "coal", "natural gas": "natural_gas", "nuclear": "nuclear", "hydroelectric": "hydro", "pumped storage": "pumped_storage",
    "wind": "wind", "solar": "solar", "petroleum": "petroleum", "biomass": "biomass", "geothermal": "geothermal",
    "batteries": "battery", "other": "other",
}

PORT_KINDS = {"C": "coastal", "L": "great_lakes", "I": "inland"}

MRDS_STATUS = {"producer": "producer", "past producer": "past_producer", "prospect": "prospect", "occurrence": "occurrence",
               "plant": "producer", "unknown": "occurrence"}


def _require(df: pd.DataFrame, cols: list[str], path: Path, kind: str) -> None:
    missing = [c for c in cols if c not in df.columns]
    if missing:
        raise DataError(f'{path}: not a {kind} file: no column "{missing[0]}"{did_you_mean(missing[0], map(str, df.columns))}; '
                        f"expected columns {', '.join(cols)}")


def _num(s: pd.Series, path: Path, col: str) -> pd.Series:
    v = pd.to_numeric(s.astype("string").str.replace(",", "", regex=False).str.strip(), errors="coerce")
    bad = v.isna() & s.notna() & (s.astype("string").str.strip() != "")
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        raise DataError(f'{path}: column "{col}" is not numeric (row {row + 2}: "{s.iloc[row]}"); expected numbers')
    return v


def _points(df: pd.DataFrame, lat: pd.Series, lon: pd.Series, path: Path, lenient: bool = False) -> gpd.GeoDataFrame:
    """Point layer from coordinate columns. Rows without coordinates are left out (and counted);
    out-of-range coordinates are an error, or, for compilations known to be messy (``lenient``), left out too."""
    lat, lon = lat.reset_index(drop=True), lon.reset_index(drop=True)
    ok = lat.between(-90, 90) & lon.between(-180, 180)
    bad = ~ok & lat.notna() & lon.notna()
    if bad.any() and not lenient:
        row = int(np.flatnonzero(bad.to_numpy())[0])
        raise DataError(f"{path}: coordinates out of range at row {row + 2} ({lat.iloc[row]}, {lon.iloc[row]}); expected degrees")
    g = gpd.GeoDataFrame(df.reset_index(drop=True)[ok.to_numpy()].reset_index(drop=True),
                         geometry=gpd.points_from_xy(lon[ok], lat[ok]), crs=LONLAT_CRS)
    g.attrs["skipped"] = {"without coordinates": int((lat.isna() | lon.isna()).sum()), "coordinates out of range": int(bad.sum())}
    return g


def import_power_plants(path: Path) -> gpd.GeoDataFrame:
    """EIA power plants layer (EIA-860/860M based): Plant_Code, Plant_Name, State, PrimSource, Total_MW, Latitude, Longitude."""
    df = read_csv(path)
    _require(df, ["Plant_Name", "State", "PrimSource", "Total_MW", "Latitude", "Longitude"], path, "EIA power plants")
    state = df["State"].astype(str).str.strip()
    code = state.map(STATE_NAMES).fillna(state.where(state.isin(list(STATE_FIPS))))
    fuel = df["PrimSource"].astype(str).str.strip().str.lower().map(FUELS).fillna("other")
    out = pd.DataFrame({
        "name": df["Plant_Name"].astype(str).str.strip(),
        "state": code,
        "capacity_mw": _num(df["Total_MW"], path, "Total_MW"),
        "installed_mw": _num(df["Install_MW"], path, "Install_MW") if "Install_MW" in df else np.nan,
        "primary_fuel": fuel,
        "plant_code": df["Plant_Code"].astype("Int64") if "Plant_Code" in df else pd.NA,
        "year": df["Period"].astype(str).str[:4].astype(int) if "Period" in df else pd.NA,
        "source": "EIA power plants layer (EIA-860, EIA-860M, EIA-923)" + (f", period {df['Period'].iloc[0]}" if "Period" in df and len(df) else ""),
    })
    return _points(out, _num(df["Latitude"], path, "Latitude"), _num(df["Longitude"], path, "Longitude"), path)


def import_ports(path: Path) -> gpd.GeoDataFrame:
    """USACE / BTS principal ports: PORT_NAME, TYPE, TOTAL, LATITUDE1, LONGITUDE1 (UTF-8 with BOM)."""
    df = read_csv(path)
    _require(df, ["PORT_NAME", "TYPE", "TOTAL", "LATITUDE1", "LONGITUDE1"], path, "USACE principal ports")
    kind = df["TYPE"].astype(str).str.strip().str.upper()
    bad = ~kind.isin(list(PORT_KINDS))
    if bad.any():
        raise DataError(f'{path}: column "TYPE" has "{kind[bad].iloc[0]}"; expected C (coastal), L (Great Lakes) or I (inland)')
    names = df["PORT_NAME"].astype(str).str.strip()
    # The state is the first postal code in the name: "Duluth-Superior, MN and WI", "Coos Bay OR, Port of".
    codes = set(STATE_FIPS)
    state = names.str.findall(r"\b([A-Z]{2})\b").map(lambda xs: next((x for x in xs if x in codes), pd.NA))
    out = pd.DataFrame({
        "name": names, "state": state, "kind": kind.map(PORT_KINDS),
        "total_tons": _num(df["TOTAL"], path, "TOTAL"),
        **{c.lower(): _num(df[c], path, c) for c in ("IMPORTS", "EXPORTS", "DOMESTIC", "FOREIGN_", "RANK") if c in df},
        "port_code": df["PORT"].astype(str) if "PORT" in df else pd.NA,
        "source": "USACE Waterborne Commerce Statistics Center, Principal Ports of the United States",
    })
    out = out.rename(columns={"foreign_": "foreign"})
    return _points(out, _num(df["LATITUDE1"], path, "LATITUDE1"), _num(df["LONGITUDE1"], path, "LONGITUDE1"), path)


def import_labor(path: Path) -> gpd.GeoDataFrame:
    """Census county population estimates (co-est*-alldata.csv, Latin-1): one point per county, inside it."""
    df = read_csv(path)
    _require(df, ["SUMLEV", "STATE", "COUNTY", "CTYNAME"], path, "Census county population estimates")
    years = sorted(int(m.group(1)) for c in df.columns if (m := re.fullmatch(r"POPESTIMATE(\d{4})", str(c))))
    if not years:
        raise DataError(f'{path}: not a Census population estimates file: no "POPESTIMATEyyyy" column; expected e.g. POPESTIMATE2019')
    latest = years[-1]
    sumlev = pd.to_numeric(df["SUMLEV"], errors="coerce")
    cty = df[sumlev == 50].copy()
    if cty.empty:
        raise DataError(f"{path}: no county rows (SUMLEV 50); expected a county-level estimates file")
    cty["id"] = pd.to_numeric(cty["STATE"]).astype(int).map("{:02d}".format) + pd.to_numeric(cty["COUNTY"]).astype(int).map("{:03d}".format)
    counties = geodata.counties().to_crs(EQUAL_AREA_CRS)
    cent = counties.geometry.centroid
    inside = np.where(cent.within(counties.geometry), cent, counties.geometry.representative_point())
    where = gpd.GeoSeries(inside, crs=EQUAL_AREA_CRS, index=counties["id"]).to_crs(LONLAT_CRS)
    known = cty["id"].isin(where.index)
    cty = cty[known]
    out = pd.DataFrame({
        "id": cty["id"].to_numpy(), "name": cty["CTYNAME"].astype(str).to_numpy(),
        "state": cty["id"].str[:2].map(FIPS_STATE).to_numpy(),
        "population": _num(cty[f"POPESTIMATE{latest}"], path, f"POPESTIMATE{latest}").to_numpy(),
        **({"census_2010": _num(cty["CENSUS2010POP"], path, "CENSUS2010POP").to_numpy()} if "CENSUS2010POP" in cty else {}),
        "year": latest, "source": f"US Census Bureau county population estimates, July 1 {latest} ({path.name})",
    })
    pts = where.loc[out["id"]]
    g = gpd.GeoDataFrame(out, geometry=pts.to_numpy(), crs=LONLAT_CRS)
    g.attrs["skipped"] = {"counties without a 2016 boundary": int((~known).sum())}
    return g


def _mineral_status(s: pd.Series) -> pd.Series:
    return s.astype("string").str.strip().str.lower().map(MRDS_STATUS).fillna("occurrence")


def _commodities(s: pd.Series) -> pd.Series:
    items = s.astype("string").fillna("").str.lower().str.replace(r"[^a-z,;\- ]", "", regex=True)
    parts = items.str.split(r"\s*[,;]\s*", regex=True)
    norm = parts.map(lambda xs: ";".join(dict.fromkeys(x.strip().replace(" ", "_").replace("-", "_") for x in xs if x.strip())))
    return norm


def import_minerals(path: Path) -> gpd.GeoDataFrame:
    """Mineral sites: the USGS MRDS CSV layout (latitude, longitude, commod1..3, dev_stat) or the MinMod layout (WKT location, commodity list)."""
    df = read_csv(path)
    cols = {str(c).lower(): c for c in df.columns}
    if "location" in cols and "commodity" in cols:  # MinMod
        # Locations are WKT points; some rows join several ("POINT(..),POINT(..)"): the first one counts.
        loc = df[cols["location"]].astype("string").fillna("").str.extract(r"^\s*((?:MULTI)?POINT\s*\(\s*\(?[^)]*\)?\s*\))", expand=False)
        has = loc.notna()
        df = df[has.to_numpy()].reset_index(drop=True)
        try:
            geom = gpd.GeoSeries.from_wkt(loc[has].tolist()).representative_point()
        except Exception as e:
            raise DataError(f'{path}: column "location" holds text that is not WKT ({str(e)[:100]}); expected POINT(lon lat)') from None
        crs = (df[cols["crs"]].astype("string").fillna("").str.strip().str.upper() if "crs" in cols
               else pd.Series("", index=df.index, dtype="string")).replace("", "EPSG:4326")
        for code in sorted(set(crs) - {"EPSG:4326"}):  # e.g. NAD27 (EPSG:4267) rows: reproject them
            sel = (crs == code).to_numpy()
            try:
                geom[sel] = gpd.GeoSeries(geom[sel], crs=code).to_crs(LONLAT_CRS).to_numpy()
            except Exception:
                raise DataError(f'{path}: column "crs" has "{code}", which is not a known coordinate system; expected e.g. EPSG:4326') from None
        state_raw = df[cols["state_or_province"]].astype("string").fillna("") if "state_or_province" in cols else pd.Series("", index=df.index)
        name = df[cols["site_name"]].astype("string").str.strip().replace("", pd.NA)
        if "other_names" in cols:
            name = name.fillna(df[cols["other_names"]].astype("string").str.split(",").str[0].str.strip().replace("", pd.NA))
        name = name.fillna("site " + df[cols["record_id"]].astype(str) if "record_id" in cols else "unnamed site")
        out = pd.DataFrame({
            "name": name, "country": df[cols["country"]].astype(str) if "country" in cols else "",
            "state": state_raw.map(lambda s: STATE_NAMES.get(s, s if s in STATE_FIPS else pd.NA)),
            "commodities": _commodities(df[cols["commodity"]]),
            "status": "occurrence",
            "deposit_type": df[cols["deposit_type"]].astype("string").fillna("").str.strip(",") if "deposit_type" in cols else "",
            "record_id": df[cols["record_id"]].astype(str) if "record_id" in cols else pd.NA,
            "source": "DARPA CriticalMAAS MinMod (" + path.name + ")",
        })
        g = _points(out, pd.Series(geom.y.to_numpy()), pd.Series(geom.x.to_numpy()), path, lenient=True)
        g.attrs["skipped"]["without coordinates"] += int((~has).sum())
        return g
    if "latitude" in cols and "longitude" in cols and ("commod1" in cols or "commodity" in cols):  # MRDS
        commod = df[[cols[c] for c in ("commod1", "commod2", "commod3") if c in cols]].astype("string").fillna("").agg(",".join, axis=1) \
            if "commod1" in cols else df[cols["commodity"]]
        state_raw = df[cols["state"]].astype("string").fillna("") if "state" in cols else pd.Series("", index=df.index)
        out = pd.DataFrame({
            "name": df[cols["site_name"]].astype(str) if "site_name" in cols else df[cols.get("dep_id", list(cols.values())[0])].astype(str),
            "country": df[cols["country"]].astype(str) if "country" in cols else "",
            "state": state_raw.map(lambda s: STATE_NAMES.get(s, s if s in STATE_FIPS else pd.NA)),
            "commodities": _commodities(commod),
            "status": _mineral_status(df[cols["dev_stat"]]) if "dev_stat" in cols else "occurrence",
            "deposit_type": df[cols["dep_type"]].astype("string").fillna("") if "dep_type" in cols else "",
            "record_id": df[cols["dep_id"]].astype(str) if "dep_id" in cols else pd.NA,
            "source": "USGS Mineral Resources Data System (" + path.name + ")",
        })
        return _points(out, _num(df[cols["latitude"]], path, "latitude"), _num(df[cols["longitude"]], path, "longitude"), path, lenient=True)
    raise DataError(f"{path}: not a mineral-site table: expected the MinMod layout (site_name, location as WKT, commodity) "
                    "or the USGS MRDS layout (site_name, latitude, longitude, commod1)")


IMPORTERS = {"power_plants": import_power_plants, "ports": import_ports, "labor": import_labor, "minerals": import_minerals}


def import_file(kind: str, path: Path, out: Path, overwrite: bool = False) -> gpd.GeoDataFrame:
    """Import an official file and write it atomically as GeoParquet (.parquet) or GeoPackage (.gpkg); an existing
    ``out`` is replaced only with ``overwrite``."""
    if kind not in IMPORTERS:
        raise DataError(f'data import: unknown kind "{kind}"{did_you_mean(kind, KINDS)}; expected one of: {", ".join(KINDS)}')
    path, out = Path(path), Path(out)
    if not path.exists():
        raise DataError(f"{path}: no such file")
    if out.suffix.lower() not in (".parquet", ".gpkg"):
        raise DataError(f"{out}: --out must end in .parquet (GeoParquet) or .gpkg (GeoPackage)")
    replaceable_file(out, overwrite)
    g = IMPORTERS[kind](path)
    if g.empty:
        raise DataError(f"{path}: no rows with coordinates; expected at least one")
    skipped = g.attrs.get("skipped", {})
    g = g.sort_values(["name"] + (["id"] if "id" in g else []), kind="stable").reset_index(drop=True)
    g.attrs["skipped"] = skipped
    write_atomically(out, g.to_parquet if out.suffix.lower() == ".parquet" else lambda tmp: g.to_file(tmp, driver="GPKG", layer=kind))
    return g
