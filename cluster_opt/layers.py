"""Layers: the geospatial facts units are measured against, as points in EPSG:4326.

A layer comes from a builtin table in ``geodata/`` (``builtin:NAME``), any vector
file geopandas reads, a CSV with latitude/longitude (or WKT) columns, or a
state-level CSV (a state column, no coordinates). Lines and polygons keep their
shapes for the measures that need them (length_within, share_inside, nearest_km)
and are shown and summed at a representative point inside each feature.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from . import geodata
from .config import Layer
from .errors import DataError, did_you_mean
from .files import regular_file
from .geo import LONLAT_CRS
from .units import read_vector

LAT_NAMES = ("lat", "latitude", "latitude1", "y", "lat_dd", "latdd")
LON_NAMES = ("lon", "lng", "long", "longitude", "longitude1", "x", "lon_dd", "londd")
WKT_NAMES = ("wkt", "geometry", "location", "geom")
NAME_NAMES = ("name", "site", "site_name", "plant_name", "port_name", "facility", "label")


@dataclass
class LayerData:
    """One loaded layer: its points, their values, where they came from, and what was dropped."""

    key: str
    spec: Layer
    points: gpd.GeoDataFrame  # columns: feature (display name), the file's other columns, geometry
    path: Path
    digest: str
    notes: list[str] = field(default_factory=list)
    amounts: np.ndarray | None = None  # the value column as floats (None: every feature counts 1)
    rows_read: int = 0
    where_kept: dict[str, int] = field(default_factory=dict)  # rows each where condition keeps on its own
    shapes: gpd.GeoSeries | None = None  # the lines or polygons behind the points, in the same order (None: a point layer)

    @property
    def label(self) -> str:
        return self.spec.label or self.key.replace("_", " ").title()

    @property
    def values(self) -> np.ndarray:
        """What each feature adds to sums: its value, or 1 when the layer has no value column."""
        return self.amounts if self.amounts is not None else np.ones(len(self.points))


def builtin_path(name: str, where: str) -> Path:
    if name not in geodata.BUILTIN_LAYERS:
        raise DataError(f'{where}: unknown builtin layer "builtin:{name}"{did_you_mean(name, geodata.BUILTIN_LAYERS)}; expected one of: ' + ", ".join(f"builtin:{b}" for b in geodata.BUILTIN_LAYERS))
    folder = geodata.geodata_dir()
    path = next((p for p in (folder / f"{name}.parquet", folder / f"{name}.csv") if p.exists()), folder / f"{name}.csv")
    if not path.exists():
        raise DataError(f"{path}: the embedded table for builtin:{name} is missing; reinstall cluster-opt")
    return path


def layer_path(key: str, spec: Layer, source: str = "config") -> Path:
    """The file a layer reads: an embedded table or the planner's file (a regular file, or a .gdb folder)."""
    if spec.source.startswith("builtin:"):
        return builtin_path(spec.source.removeprefix("builtin:"), f"{source}: layers.{key}.source")
    return regular_file(spec.source, f"layers.{key}.source", folders_ok=(".gdb",))


def load_layer(key: str, spec: Layer, source: str = "config") -> LayerData:
    path = layer_path(key, spec, source)
    if path.suffix.lower() in (".csv", ".txt", ".tsv"):
        frame = _read_csv_points(path, spec, key)
    else:
        frame = read_vector(path, f"layers.{key}.source")
        if frame.crs is None:
            raise DataError(f"{path}: layers.{key}: the file has no coordinate reference system; expected one (e.g. EPSG:4326)")
        frame = frame.to_crs(LONLAT_CRS)
    notes: list[str] = [frame.attrs["note"]] if frame.attrs.get("note") else []
    rows_read = len(frame)
    frame, kept = _apply_where(frame, spec, key, path)
    pts, shapes = _to_points(frame, key, path, notes)
    out = pd.DataFrame(index=pts.index)
    if spec.name is not None and spec.name not in pts.columns:
        raise DataError(f'{path}: layers.{key}.name: no column "{spec.name}"{did_you_mean(spec.name, map(str, pts.columns))}; columns are: {_columns(pts)}')
    name_col = spec.name or next((c for c in pts.columns if str(c).lower() in NAME_NAMES), None)
    out["feature"] = pts[name_col].astype(str) if name_col else [f"{key} {i + 1}" for i in range(len(pts))]
    amounts = None
    if spec.value is not None:
        if spec.value not in pts.columns:
            raise DataError(f'{path}: layers.{key}.value: no column "{spec.value}"{did_you_mean(spec.value, map(str, pts.columns))}; numeric columns are: {", ".join(_numeric_columns(pts)) or "none"}')
        val = _numeric(pts[spec.value], path, f"layers.{key}.value", spec.value, spec.decimal)
        missing = val.isna()
        if missing.any():
            notes.append(f"{key}: {int(missing.sum())} row(s) without a {spec.value} value were left out")
            pts, out, val = pts[~missing], out[~missing], val[~missing]
            shapes = shapes[~missing.to_numpy()] if shapes is not None else None
        if (val < 0).any():
            bad = pts.loc[val < 0, spec.value].iloc[0]
            raise DataError(f'{path}: layers.{key}.value: column "{spec.value}" has negative values (e.g. {bad}); expected amounts ≥ 0')
        amounts = val.to_numpy(dtype=float)
    for c in pts.columns:
        if c != "geometry" and c not in out.columns and c != name_col:
            out[c] = pts[c]
    g = gpd.GeoDataFrame(out, geometry=pts.geometry.to_numpy(), crs=LONLAT_CRS)
    if g.empty:
        raise DataError(f"{path}: layers.{key}: no features left after filtering ({_kept_text(rows_read, kept)}); expected at least one")
    # A stable order whatever the order of rows in the file.
    v = amounts if amounts is not None else np.zeros(len(g))
    order = np.lexsort([v, g["feature"].to_numpy(), g.geometry.y.round(7).to_numpy(), g.geometry.x.round(7).to_numpy()])
    g = g.iloc[order].reset_index(drop=True)
    if shapes is not None:
        shapes = gpd.GeoSeries(shapes.to_numpy()[order], crs=LONLAT_CRS)
    return LayerData(key, spec, g, path, geodata.file_digest(path), notes, None if amounts is None else amounts[order], rows_read, kept, shapes)


def _kept_text(rows: int, kept: dict[str, int]) -> str:
    return f"{rows:,} rows read; " + "; ".join(f"where {c} keeps {n:,}" for c, n in kept.items()) if kept else f"{rows:,} rows read"


def _columns(df: pd.DataFrame) -> str:
    cols = [str(c) for c in df.columns if c != "geometry"]
    return ", ".join(cols[:20]) + (" …" if len(cols) > 20 else "")


def _numeric_columns(df: pd.DataFrame) -> list[str]:
    return [str(c) for c in df.columns if c != "geometry" and pd.api.types.is_numeric_dtype(df[c])]


# A number written with "," thousands separators (1,234,567.5) and one written with "." ones (1.234.567,5).
_US_NUMBER = r"[+-]?(?:\d{1,3}(?:,\d{3})+|\d*)(?:\.\d*)?(?:[eE][+-]?\d+)?"
_EU_NUMBER = r"[+-]?(?:\d{1,3}(?:\.\d{3})+|\d*)(?:,\d*)?(?:[eE][+-]?\d+)?"


def _numeric(s: pd.Series, path: Path, key: str, col: str, decimal: str = ".") -> pd.Series:
    """A column as floats; text numbers may carry thousands separators of the stated decimal style."""
    if pd.api.types.is_bool_dtype(s):
        raise DataError(f'{path}: {key}: column "{col}" holds true/false values; expected numbers')
    if pd.api.types.is_numeric_dtype(s):
        v = s.astype(float)
    else:
        text = s.astype("string").str.strip()
        pattern = _US_NUMBER if decimal == "." else _EU_NUMBER
        ok = text.isna() | (text == "") | text.str.fullmatch(pattern).fillna(False) | text.str.lower().isin(["nan", "inf", "-inf"])
        if decimal == ".":
            cleaned = text.str.replace(",", "", regex=False)
        else:
            cleaned = text.str.replace(".", "", regex=False).str.replace(",", ".", regex=False)
        v = pd.to_numeric(cleaned.where(ok), errors="coerce")
        bad = ~ok.to_numpy(dtype=bool) | (v.isna() & text.notna() & (text != "")).to_numpy()
        if bad.any():
            row = int(np.flatnonzero(bad)[0])
            found = str(s.iloc[row])
            hint = (f'; it looks like a decimal comma: set layers.{key.split(".")[1]}.decimal: ","'
                    if decimal == "." and key.startswith("layers.") and re.fullmatch(_EU_NUMBER, found.strip()) else "")
            raise DataError(f'{path}: {key}: column "{col}" is not numeric (row {row + 2}: "{found[:60]}"){hint}; expected numbers')
    if np.isinf(v).any() or (v.abs() > 1e300).any():
        raise DataError(f'{path}: {key}: column "{col}" has infinite or absurdly large values; expected finite numbers')
    return v


def _read_csv_points(path: Path, spec: Layer, key: str) -> gpd.GeoDataFrame:
    df = read_csv(path, spec.decimal)
    lower = {str(c).lower().strip(): c for c in df.columns}
    lat = spec.lat or next((lower[n] for n in LAT_NAMES if n in lower), None)
    lon = spec.lon or next((lower[n] for n in LON_NAMES if n in lower), None)
    for k, col in (("lat", spec.lat), ("lon", spec.lon)):
        if col is not None and col not in df.columns:
            raise DataError(f'{path}: layers.{key}.{k}: no column "{col}"{did_you_mean(col, map(str, df.columns))}')
    if lat is not None and lon is not None:
        y = _numeric(df[lat], path, f"layers.{key}", lat, spec.decimal)
        x = _numeric(df[lon], path, f"layers.{key}", lon, spec.decimal)
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
    if "state" in lower:
        return _state_rows(df, lower["state"], path, key)
    raise DataError(f"{path}: layers.{key}: no coordinate columns; expected latitude/longitude columns (e.g. lat, lon; or set layers.{key}.lat and .lon), "
                    "a WKT column, or a state column (a state-level table)")


def _state_rows(df: pd.DataFrame, col: str, path: Path, key: str) -> gpd.GeoDataFrame:
    """A state-level table (one row per state, no coordinates): each row placed at a point inside its state, for the
    map; measures read its state column (state_value). Rows for no state (e.g. a US total) are left out."""
    shapes = geodata.states().to_crs(LONLAT_CRS).set_index("state").geometry
    code = df[col].astype(str).str.strip().str.upper()
    ok = code.isin(shapes.index)
    frame = gpd.GeoDataFrame(df[ok].assign(**{col: code[ok]}).reset_index(drop=True),
                             geometry=shapes.reindex(code[ok]).representative_point().to_numpy(), crs=LONLAT_CRS)
    frame.attrs["note"] = (f"{key}: a state-level table, each row placed at a point inside its state"
                           + (f"; {int((~ok).sum())} row(s) for no state (e.g. {code[~ok].iloc[0]}) left out" if (~ok).any() else ""))
    return frame


def _check_range(v: pd.Series, lo: float, hi: float, path: Path, col: str, what: str) -> None:
    bad = (v < lo) | (v > hi)
    if bad.any():
        raise DataError(f'{path}: column "{col}" has a {what} out of range ({v[bad].iloc[0]}); expected {lo} to {hi} degrees')


def sniff_encoding(path: Path) -> tuple[str, str]:
    """(encoding, errors) for a text file: UTF-8 (BOM or not); a mostly-UTF-8 file with a few stray
    bytes is still UTF-8 (the stray bytes become U+FFFD); otherwise Latin-1, as Census files are."""
    raw = Path(path).read_bytes()
    try:
        raw.decode("utf-8")
        return "utf-8-sig", "strict"
    except UnicodeDecodeError:
        pass
    text = raw.decode("utf-8", errors="replace")
    bad = text.count("\ufffd")
    good = sum(1 for ch in text if ord(ch) > 127) - bad
    return ("utf-8-sig", "replace") if good > bad else ("latin-1", "strict")


def read_csv(path: Path, decimal: str = ".") -> pd.DataFrame:
    """A CSV in UTF-8 (with or without BOM) or Latin-1, or a DataError naming the file.

    ``decimal=","``: numbers are written 1.234,5 (the fields holding them quoted).
    """
    path = regular_file(path, "CSV file")
    enc, errors = sniff_encoding(path)
    tsv = path.suffix.lower() == ".tsv"
    euro = {"decimal": ",", "thousands": "."} if decimal == "," else {}
    try:
        return pd.read_csv(path, encoding=enc, encoding_errors=errors, low_memory=False, sep="\t" if tsv else ",", **euro)
    except pd.errors.EmptyDataError:
        raise DataError(f"{path}: the file is empty; expected a CSV with a header row") from None
    except pd.errors.ParserError as e:
        raise DataError(f"{path}: not a well-formed CSV ({str(e).splitlines()[0][:160]})") from None
    except UnicodeDecodeError:
        raise DataError(f"{path}: cannot decode the file as UTF-8 or Latin-1 text") from None


def _apply_where(frame: gpd.GeoDataFrame, spec: Layer, key: str, path: Path) -> tuple[gpd.GeoDataFrame, dict[str, int]]:
    """The rows every condition keeps, and how many rows each condition keeps on its own."""
    keep, kept = where_mask(frame, spec.where, f"layers.{key}.where", path, spec.decimal)
    return frame[keep], kept


def where_mask(frame: pd.DataFrame, where: dict[str, Any], key: str, path: Path, decimal: str = ".") -> tuple[np.ndarray, dict[str, int]]:
    """Rows meeting every condition of a where (see ``_match``), and how many rows each condition keeps on its own."""
    keep = np.ones(len(frame), dtype=bool)
    kept: dict[str, int] = {}
    for col, want in where.items():
        if col not in frame.columns:
            raise DataError(f'{path}: {key}: no column "{col}"{did_you_mean(col, map(str, frame.columns))}; columns are: {_columns(frame)}')
        hit = _match(frame[col], want, f"{key}.{col}", path, decimal)
        kept[str(col)] = int(hit.sum())
        keep &= hit
    return keep, kept


def _match(s: pd.Series, want: Any, key: str, path: Path, decimal: str = ".") -> np.ndarray:
    """Rows whose value lies in {min, max}, or equals one of the wanted values (a semicolon list matches any item).

    A wanted value that no row holds is an error: a misspelling would otherwise drop rows silently.
    """
    if isinstance(want, dict):
        v = _numeric(s, path, key, str(s.name), decimal).to_numpy()
        ok = ~np.isnan(v)
        if "min" in want:
            ok &= v >= float(want["min"])
        if "max" in want:
            ok &= v <= float(want["max"])
        return ok
    wanted = [str(w).strip().lower() for w in (want if isinstance(want, list) else [want])]
    if pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s):
        try:
            numbers = [float(w) for w in wanted]
        except ValueError:
            numbers = None
        if numbers is not None:
            absent = [w for w, x in zip(wanted, numbers) if not (s == x).any()]
            if absent:
                raise DataError(f'{path}: {key}: no row has the value {absent[0]}; expected values found in column "{s.name}"')
            return s.isin(numbers).to_numpy()
    items = s.astype("string").fillna("").str.lower().str.split(r"\s*;\s*", regex=True)
    exploded = items.explode().str.strip()
    vocabulary = set(exploded.dropna().unique()) - {""}
    absent = [w for w in wanted if w not in vocabulary]
    if absent:
        shown = sorted(vocabulary)[:12]
        raise DataError(f'{path}: {key}: "{absent[0]}" matches no row{did_you_mean(absent[0], vocabulary)}; '
                        f'values in column "{s.name}" include: {", ".join(shown)}' + (" …" if len(vocabulary) > 12 else ""))
    hit = exploded.isin(set(wanted))
    return hit.groupby(level=0, sort=False).any().reindex(s.index, fill_value=False).to_numpy()


def _to_points(frame: gpd.GeoDataFrame, key: str, path: Path, notes: list[str]) -> tuple[gpd.GeoDataFrame, gpd.GeoSeries | None]:
    """Each feature as a point (a representative point inside lines and polygons), and the shapes themselves (None for points)."""
    frame = frame[frame.geometry.notna() & ~frame.geometry.is_empty].reset_index(drop=True)
    types = set(frame.geom_type.unique())
    if types - {"Point"}:
        shapes = frame.geometry.copy()
        geom = frame.geometry.representative_point()  # a point inside each feature, no projection needed
        notes.append(f"{key}: {len(frame)} {'/'.join(sorted(types))} features measured at a representative point")
        return frame.set_geometry(geom), shapes
    return frame, None
