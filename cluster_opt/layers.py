"""Layers: the geospatial facts units are measured against, as points in EPSG:4326.

A layer comes from a builtin table in ``geodata/`` (``builtin:NAME``), any vector
file geopandas reads, or a CSV with latitude/longitude (or WKT) columns. Lines
and polygons are measured at a representative point inside each feature.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from .. import geodata
from ..config import Layer
from ..errors import DataError, did_you_mean
from ..geo import LONLAT_CRS
from ..units import read_vector

LAT_NAMES = ("lat", "latitude", "latitude1", "y", "lat_dd", "latdd")
LON_NAMES = ("lon", "lng", "long", "longitude", "longitude1", "x", "lon_dd", "londd")
WKT_NAMES = ("wkt", "geometry", "location", "geom")
NAME_NAMES = ("name", "site", "site_name", "plant_name", "port_name", "facility", "label")


@dataclass
class LayerData:
    """One loaded layer: its points, where they came from, and what was dropped."""

    key: str
    spec: Layer
    points: gpd.GeoDataFrame  # columns: feature (display name), value (float or absent), ..., geometry
    path: Path
    digest: str
    notes: list[str] = field(default_factory=list)

    @property
    def label(self) -> str:
        return self.spec.label or self.key.replace("_", " ").title()

    @property
    def values(self) -> np.ndarray:
        if "value" in self.points:
            return self.points["value"].to_numpy(dtype=float)
        return np.ones(len(self.points))


def builtin_path(name: str, where: str) -> Path:
    if name not in geodata.BUILTIN_LAYERS:
        raise DataError(f'{where}: unknown builtin layer "builtin:{name}"{did_you_mean(name, geodata.BUILTIN_LAYERS)}; expected one of: ' + ", ".join(f"builtin:{b}" for b in geodata.BUILTIN_LAYERS))
    path = geodata.geodata_dir() / f"{name}.csv"
    if not path.exists():
        raise DataError(f"{path}: the embedded table for builtin:{name} is missing; reinstall cluster-opt")
    return path


def load_layer(key: str, spec: Layer, source: str = "config") -> LayerData:
    where = f"{source}: layers.{key}.source"
    if spec.source.startswith("builtin:"):
        path = builtin_path(spec.source.removeprefix("builtin:"), where)
    else:
        path = Path(spec.source)
        if not path.exists():
            raise DataError(f"{path}: layers.{key}.source: no such file")
    if path.suffix.lower() in (".csv", ".txt", ".tsv"):
        frame = _read_csv_points(path, spec, key)
    else:
        frame = read_vector(path, f"layers.{key}.source")
        if frame.crs is None:
            raise DataError(f"{path}: layers.{key}: the file has no coordinate reference system; expected one (e.g. EPSG:4326)")
        frame = frame.to_crs(LONLAT_CRS)
    notes: list[str] = []
    frame = _apply_where(frame, spec, key, path)
    pts = _to_points(frame, key, path, notes)
    out = pd.DataFrame(index=pts.index)
    name_col = spec.name or next((c for c in pts.columns if str(c).lower() in NAME_NAMES), None)
    out["feature"] = pts[name_col].astype(str) if name_col else [f"{key} {i + 1}" for i in range(len(pts))]
    if spec.value is not None:
        if spec.value not in pts.columns:
            raise DataError(f'{path}: layers.{key}.value: no column "{spec.value}"{did_you_mean(spec.value, map(str, pts.columns))}; numeric columns are: {", ".join(_numeric_columns(pts)) or "none"}')
        val = _numeric(pts[spec.value], path, f"layers.{key}.value", spec.value)
        missing = val.isna()
        if missing.any():
            notes.append(f"{key}: {int(missing.sum())} row(s) without a {spec.value} value were left out")
            pts, out, val = pts[~missing], out[~missing], val[~missing]
        if (val < 0).any():
            bad = pts.loc[val < 0, spec.value].iloc[0]
            raise DataError(f'{path}: layers.{key}.value: column "{spec.value}" has negative values (e.g. {bad}); expected amounts ≥ 0')
        out["value"] = val.astype(float)
    for c in pts.columns:
        if c != "geometry" and c not in out.columns and c != name_col:
            out[c] = pts[c]
    g = gpd.GeoDataFrame(out, geometry=pts.geometry.to_numpy(), crs=LONLAT_CRS)
    if g.empty:
        raise DataError(f"{path}: layers.{key}: no features left after filtering (where: {spec.where}); expected at least one")
    # A stable order whatever the order of rows in the file.
    sort_cols = pd.DataFrame({"x": g.geometry.x.round(7), "y": g.geometry.y.round(7), "f": g["feature"], "v": g.get("value", 0.0)})
    g = g.iloc[np.lexsort([sort_cols[c].to_numpy() for c in ("v", "f", "y", "x")])].reset_index(drop=True)
    return LayerData(key, spec, g, path, geodata.file_digest(path), notes)


def _numeric_columns(df: pd.DataFrame) -> list[str]:
    return [str(c) for c in df.columns if c != "geometry" and pd.api.types.is_numeric_dtype(df[c])]


def _numeric(s: pd.Series, path: Path, key: str, col: str) -> pd.Series:
    if pd.api.types.is_numeric_dtype(s):
        v = s.astype(float)
    else:
        cleaned = s.astype("string").str.replace(",", "", regex=False).str.strip()
        v = pd.to_numeric(cleaned, errors="coerce")
        bad = v.isna() & cleaned.notna() & (cleaned != "")
        if bad.any():
            row = int(np.flatnonzero(bad.to_numpy())[0])
            raise DataError(f'{path}: {key}: column "{col}" is not numeric (row {row + 2}: "{s.iloc[row]}"); expected numbers')
    if np.isinf(v).any():
        raise DataError(f'{path}: {key}: column "{col}" has infinite values; expected finite numbers')
    return v


def _read_csv_points(path: Path, spec: Layer, key: str) -> gpd.GeoDataFrame:
    df = read_csv(path)
    lower = {str(c).lower().strip(): c for c in df.columns}
    lat = spec.lat or next((lower[n] for n in LAT_NAMES if n in lower), None)
    lon = spec.lon or next((lower[n] for n in LON_NAMES if n in lower), None)
    for k, col in (("lat", spec.lat), ("lon", spec.lon)):
        if col is not None and col not in df.columns:
            raise DataError(f'{path}: layers.{key}.{k}: no column "{col}"{did_you_mean(col, map(str, df.columns))}')
    if lat is not None and lon is not None:
        y = _numeric(df[lat], path, f"layers.{key}", lat)
        x = _numeric(df[lon], path, f"layers.{key}", lon)
        ok = x.notna() & y.notna()
        _check_range(y[ok], -90, 90, path, lat, "latitude")
        _check_range(x[ok], -180, 180, path, lon, "longitude")
        df = df[ok]
        return gpd.GeoDataFrame(df, geometry=gpd.points_from_xy(x[ok], y[ok]), crs=LONLAT_CRS)
    wkt = next((lower[n] for n in WKT_NAMES if n in lower), None)
    if wkt is not None:
        txt = df[wkt].astype("string").fillna("").str.strip()
        ok = txt != ""
        try:
            geom = gpd.GeoSeries.from_wkt(txt[ok].tolist(), crs=LONLAT_CRS)
        except Exception as e:
            raise DataError(f'{path}: layers.{key}: column "{wkt}" holds text that is not WKT geometry ({str(e)[:120]})') from None
        return gpd.GeoDataFrame(df[ok].reset_index(drop=True), geometry=geom.to_numpy(), crs=LONLAT_CRS)
    raise DataError(f"{path}: layers.{key}: no coordinate columns; expected latitude/longitude columns (e.g. lat, lon; or set layers.{key}.lat and .lon) or a WKT column")


def _check_range(v: pd.Series, lo: float, hi: float, path: Path, col: str, what: str) -> None:
    bad = (v < lo) | (v > hi)
    if bad.any():
        raise DataError(f'{path}: column "{col}" has a {what} out of range ({v[bad].iloc[0]}); expected {lo} to {hi} degrees')


def sniff_encoding(path: Path) -> tuple[str, str]:
    """(encoding, errors) for a text file: UTF-8 (BOM or not); a mostly-UTF-8 file with a few stray
    bytes is still UTF-8 (the stray bytes become U+FFFD); otherwise Latin-1, as Census files are."""
    raw = path.read_bytes()
    try:
        raw.decode("utf-8")
        return "utf-8-sig", "strict"
    except UnicodeDecodeError:
        pass
    text = raw.decode("utf-8", errors="replace")
    bad = text.count("\ufffd")
    good = sum(1 for ch in text if ord(ch) > 127) - bad
    return ("utf-8-sig", "replace") if good > bad else ("latin-1", "strict")


def read_csv(path: Path) -> pd.DataFrame:
    """A CSV in UTF-8 (with or without BOM) or Latin-1, or a DataError naming the file."""
    enc, errors = sniff_encoding(path)
    tsv = path.suffix.lower() == ".tsv"
    try:
        return pd.read_csv(path, encoding=enc, encoding_errors=errors, low_memory=False, sep="\t" if tsv else ",")
    except pd.errors.EmptyDataError:
        raise DataError(f"{path}: the file is empty; expected a CSV with a header row") from None
    except pd.errors.ParserError as e:
        raise DataError(f"{path}: not a well-formed CSV ({str(e).splitlines()[0][:160]})") from None
    except UnicodeDecodeError:
        raise DataError(f"{path}: cannot decode the file as UTF-8 or Latin-1 text") from None


def _apply_where(frame: gpd.GeoDataFrame, spec: Layer, key: str, path: Path) -> gpd.GeoDataFrame:
    keep = np.ones(len(frame), dtype=bool)
    for col, want in spec.where.items():
        if col not in frame.columns:
            raise DataError(f'{path}: layers.{key}.where: no column "{col}"{did_you_mean(col, map(str, frame.columns))}; columns are: {", ".join(str(c) for c in frame.columns if c != "geometry")}')
        keep &= _match(frame[col], want, f"layers.{key}.where.{col}", path)
    return frame[keep]


def _match(s: pd.Series, want: Any, key: str, path: Path) -> np.ndarray:
    if isinstance(want, dict):
        extra = set(want) - {"min", "max"}
        if extra:
            raise DataError(f"{path}: {key}: unknown key(s) {sorted(extra)}; expected min and/or max")
        v = _numeric(s, path, key, str(s.name)).to_numpy()
        ok = ~np.isnan(v)
        if "min" in want:
            ok &= v >= float(want["min"])
        if "max" in want:
            ok &= v <= float(want["max"])
        return ok
    wanted = {str(w).strip().lower() for w in (want if isinstance(want, list) else [want])}
    if pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s):
        try:
            return s.isin([float(w) for w in wanted]).to_numpy()
        except ValueError:
            pass
    items = s.astype("string").fillna("").str.lower().str.split(r"\s*;\s*", regex=True)
    exploded = items.explode().str.strip()
    hit = exploded.isin(wanted)
    return hit.groupby(level=0, sort=False).any().reindex(s.index, fill_value=False).to_numpy()


def _to_points(frame: gpd.GeoDataFrame, key: str, path: Path, notes: list[str]) -> gpd.GeoDataFrame:
    frame = frame[frame.geometry.notna() & ~frame.geometry.is_empty].reset_index(drop=True)
    types = set(frame.geom_type.unique())
    if types - {"Point"}:
        geom = frame.geometry.representative_point()  # a point inside each feature, no projection needed
        notes.append(f"{key}: {len(frame)} {'/'.join(sorted(types))} features measured at a representative point")
        frame = frame.set_geometry(geom)
    return frame
