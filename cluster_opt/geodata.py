"""Where the embedded default data lives, and the boundaries built from installed packages."""

from __future__ import annotations

import hashlib
import os
from functools import lru_cache
from pathlib import Path

import geopandas as gpd
import pandas as pd

from .states import FIPS_STATE
from .errors import DataError

from .config import BUILTIN_LAYERS  # noqa: F401  (re-exported)


def geodata_dir() -> Path:
    """The embedded data folder: inside an installed wheel, or beside the package in a checkout."""
    env = os.environ.get("CLUSTER_OPT_GEODATA")
    if env:
        return Path(env)
    here = Path(__file__).resolve().parent
    for cand in (here / "_geodata", here.parent / "geodata"):
        if cand.is_dir():
            return cand
    raise DataError("geodata: the embedded data folder is missing; reinstall cluster-opt")


def cache_dir() -> Path:
    """A writable folder for boundaries built on first use."""
    base = os.environ.get("CLUSTER_OPT_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME", os.path.expanduser("~/.cache")), "cluster-opt"
    )
    p = Path(base)
    p.mkdir(parents=True, exist_ok=True)
    return p


def _plotly_geo_file(name: str) -> Path:
    try:
        import _plotly_geo
    except ImportError:  # pragma: no cover - a dependency
        raise DataError("plotly-geo is not installed; it provides the county boundaries (pip install plotly-geo)") from None
    return Path(_plotly_geo.__file__).parent / "package_data" / name


def file_digest(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


@lru_cache(maxsize=1)
def counties() -> gpd.GeoDataFrame:
    """US counties (Census cartographic boundary file 2016, 1:500k) in EPSG:4269.

    Built from the plotly-geo package on first use and cached as GeoParquet.
    Columns: id (5-digit FIPS), name, state (USPS), geometry.
    """
    src = _plotly_geo_file("cb_2016_us_county_500k.shp")
    cached = cache_dir() / f"counties-{file_digest(src)[:12]}.parquet"
    if cached.exists():
        return gpd.read_parquet(cached)
    g = gpd.read_file(src)
    g = g.set_crs("EPSG:4269", allow_override=True)  # the shapefile ships without .prj: NAD83 lon/lat
    g["id"] = g["GEOID"].astype(str)
    g["state"] = g["STATEFP"].map(FIPS_STATE)
    g = g[g["state"].notna()]
    g["name"] = g["NAME"] + _lsad_suffix(g["LSAD"])
    out = g[["id", "name", "state", "geometry"]].sort_values("id").reset_index(drop=True)
    tmp = cached.with_suffix(f".{os.getpid()}.tmp")
    out.to_parquet(tmp)
    os.replace(tmp, cached)
    return out


def _lsad_suffix(lsad: pd.Series) -> pd.Series:
    # Census LSAD codes for county equivalents.
    table = {"03": " City and Borough", "04": " Borough", "05": " Census Area", "06": " County",
             "07": " District", "12": " Municipality", "13": " Municipio", "15": " Parish", "25": " city"}
    return lsad.map(table).fillna("")


@lru_cache(maxsize=1)
def states() -> gpd.GeoDataFrame:
    """US state outlines (Census cartographic boundary file 2016, 1:500k), EPSG:4269."""
    g = gpd.read_file(_plotly_geo_file("cb_2016_us_state_500k.shp"))
    g = g.set_crs("EPSG:4269", allow_override=True)
    g = g.rename(columns={"STUSPS": "state", "NAME": "name"})
    return g[["state", "name", "geometry"]].sort_values("state").reset_index(drop=True)
