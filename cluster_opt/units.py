"""Candidate regions ("units"): counties, an H3 hexagon grid, or the planner's own file."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely

from . import geodata
from .config import Config, CountyUnits, FileUnits, H3Units
from .errors import DataError, did_you_mean
from .files import regular_file
from .geo import EQUAL_AREA_CRS, LONLAT_CRS

UNIT_COLUMNS = ["id", "name", "state", "lat", "lon", "area_km2", "geometry"]
MAX_H3_CELLS = 200_000


def build_units(cfg: Config) -> gpd.GeoDataFrame:
    """The candidate regions of the study area in EPSG:4326, sorted by id.

    Columns: id, name, state, lat/lon of the area centroid, area_km2, geometry.
    """
    return units_of(cfg.units, cfg.states)


def units_of(spec: CountyUnits | H3Units | FileUnits, states: list[str]) -> gpd.GeoDataFrame:
    """The units a units spec gives over a list of states (see ``build_units``)."""
    if isinstance(spec, CountyUnits):
        g = geodata.counties()
        g = g[g["state"].isin(states)].to_crs(LONLAT_CRS)
    elif isinstance(spec, H3Units):
        g = _h3_units(states, spec.resolution)
    else:
        g = _file_units(spec)
        if spec.state:
            g = g[g["state"].isin(states)]
    if g.empty:
        raise DataError(f"units: no units in the study area ({', '.join(states)})")
    return _finish(g)


def _finish(g: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    notes = list(g.attrs.get("notes", []))
    g = g.copy()
    eq = g.geometry.to_crs(EQUAL_AREA_CRS)
    g["area_km2"] = eq.area.to_numpy() / 1e6
    cent = gpd.GeoSeries(eq.centroid, crs=EQUAL_AREA_CRS).to_crs(LONLAT_CRS)
    g["lat"], g["lon"] = cent.y.to_numpy(), cent.x.to_numpy()
    _antimeridian_centroids(g)
    g = g.sort_values("id", kind="stable").reset_index(drop=True)
    out = gpd.GeoDataFrame(g[UNIT_COLUMNS], geometry="geometry", crs=LONLAT_CRS)
    out.attrs["notes"] = notes  # what the planner should know about the units (repaired shapes)
    return out


def _antimeridian_centroids(g: gpd.GeoDataFrame) -> None:
    """Centroids of units that cross ±180° (Aleutians West), taken in an equal-area projection centred on each.

    A global projection puts the centroid of a unit with parts at 179° and -179° near 0°
    longitude; shifted to 0..360° and projected around its own centre it lands on the unit.
    """
    from pyproj import Transformer

    b = g.geometry.bounds
    for i in np.flatnonzero((b["maxx"] - b["minx"]).to_numpy() > 180.0):
        shifted = shapely.transform(g.geometry.iloc[i], lambda xy: np.column_stack([np.where(xy[:, 0] < 0, xy[:, 0] + 360.0, xy[:, 0]), xy[:, 1]]))
        lon0, lat0 = shifted.envelope.centroid.x, shifted.envelope.centroid.y
        crs = f"+proj=laea +lat_0={lat0} +lon_0={lon0} +datum=WGS84 +units=m"
        fwd = Transformer.from_crs(LONLAT_CRS, crs, always_xy=True)
        local = shapely.transform(shifted, lambda xy: np.column_stack(fwd.transform(xy[:, 0], xy[:, 1])))
        c = local.centroid
        lon, lat = Transformer.from_crs(crs, LONLAT_CRS, always_xy=True).transform(c.x, c.y)
        g.iloc[i, g.columns.get_loc("lat")] = lat
        g.iloc[i, g.columns.get_loc("lon")] = (lon + 180.0) % 360.0 - 180.0


def _h3_units(states: list[str], resolution: int) -> gpd.GeoDataFrame:
    import h3

    st = geodata.states()
    st = st[st["state"].isin(states)].to_crs(LONLAT_CRS)
    # Refuse absurd grids before building them: estimate the cell count from the area.
    area_km2 = float(st.to_crs(EQUAL_AREA_CRS).area.sum()) / 1e6
    estimate = area_km2 / h3.average_hexagon_area(resolution, unit="km^2")
    if estimate > MAX_H3_CELLS:
        raise DataError(f"units: H3 resolution {resolution} would give about {estimate:,.0f} cells over {', '.join(states[:6])}"
                        f"{'…' if len(states) > 6 else ''}; choose a coarser resolution (at most {MAX_H3_CELLS:,} cells)")
    # H3 fills a polygon with the cells whose centre lies inside it, so each cell's state is the
    # state that produced it.
    state_of: dict[str, str] = {}
    for code, geom in zip(st["state"], st.geometry):
        for poly in getattr(geom, "geoms", [geom]):
            state_of.update(dict.fromkeys(h3.geo_to_cells(poly, resolution), code))
    ids = np.array(sorted(state_of))
    # (lat, lon) -> (lon, lat); cells on icosahedron edges have more than six vertices.
    polys = [shapely.Polygon(np.asarray(h3.cell_to_boundary(c))[:, ::-1]) for c in ids]
    g = gpd.GeoDataFrame({"id": ids, "state": [state_of[c] for c in ids]}, geometry=polys, crs=LONLAT_CRS)
    # Name each cell after the county holding its centre, in the planner's words.
    pts = gpd.GeoDataFrame(geometry=shapely.centroid(np.asarray(polys, dtype=object)), crs=LONLAT_CRS)
    cty = geodata.counties().to_crs(LONLAT_CRS)
    hit = gpd.sjoin(pts, cty[["name", "geometry"]], predicate="within", how="left")
    hit = hit[~hit.index.duplicated(keep="first")]
    county = hit["name"].to_numpy()
    g["name"] = [f"{n} cell {c[:9]}" if isinstance(n, str) else f"H3 cell {c}" for n, c in zip(county, ids)]
    return g


def _file_units(spec: FileUnits) -> gpd.GeoDataFrame:
    path = Path(spec.path)
    g = read_vector(path, "units.path")
    if g.empty:
        raise DataError(f"{path}: units.path: the file holds no regions; expected polygons")
    if g.crs is None:
        raise DataError(f"{path}: the file has no coordinate reference system; expected one (e.g. EPSG:4326)")
    for key, col in (("id", spec.id), ("name", spec.name), ("state", spec.state)):
        if col is not None and col not in g.columns:
            raise DataError(f'{path}: units.{key}: no column "{col}"{did_you_mean(col, g.columns)}; columns are: {", ".join(map(str, g.columns[:20]))}')
    g = g.to_crs(LONLAT_CRS)
    out = gpd.GeoDataFrame({"id": g[spec.id].astype(str).to_numpy()}, geometry=g.geometry.to_numpy(), crs=LONLAT_CRS)
    dup = out["id"][out["id"].duplicated()]
    if len(dup):
        raise DataError(f'{path}: units.id column "{spec.id}" has duplicate ids, e.g. "{dup.iloc[0]}"; expected one row per unit')
    if out.geometry.isna().any() or out.geometry.is_empty.any():
        bad = out["id"][out.geometry.isna() | out.geometry.is_empty].tolist()
        raise DataError(f"{path}: units without a shape (ids {_ids(bad)}); expected a polygon on every row")
    geom, repaired = _polygons_only(out, path)
    out = out.set_geometry(geom)
    if repaired:
        out.attrs["notes"] = [f"units: repaired the shape of {len(repaired)} unit(s) with invalid rings (ids {_ids(repaired)})"]
    out["name"] = g[spec.name].astype(str).to_numpy() if spec.name else out["id"]
    out["state"] = g[spec.state].astype(str).str.strip().str.upper().to_numpy() if spec.state else ""
    return out


def _ids(ids: list[str], k: int = 5) -> str:
    return ", ".join(map(str, ids[:k])) + (f" and {len(ids) - k} more" if len(ids) > k else "")


def _polygons_only(g: gpd.GeoDataFrame, path: Path) -> tuple[gpd.GeoSeries, list[str]]:
    """Each unit's polygonal part, and the ids repaired: invalid rings (bow-ties) mended, points and lines refused."""
    geom = g.geometry
    invalid = ~geom.is_valid.to_numpy()
    if invalid.any():
        repaired = shapely.make_valid(geom.to_numpy()[invalid])
        geom = geom.copy()
        geom.iloc[np.flatnonzero(invalid)] = [_polygonal(x) for x in repaired]
    flat = geom.is_empty.to_numpy() | ~geom.geom_type.isin(["Polygon", "MultiPolygon"]).to_numpy()
    if not flat.any():
        flat = geom.to_crs(EQUAL_AREA_CRS).area.to_numpy() <= 0
    if flat.any():
        raise DataError(f"{path}: units with no area (points, lines or collapsed polygons): ids {_ids(g['id'][flat].tolist())}; expected polygons")
    return geom, g["id"][invalid].tolist()


def _polygonal(geom):
    """The polygons of a repaired shape (make_valid can return lines and points beside them)."""
    if geom.geom_type in ("Polygon", "MultiPolygon"):
        return geom
    parts = [p for p in getattr(geom, "geoms", []) if p.geom_type in ("Polygon", "MultiPolygon")]
    return shapely.union_all(parts) if parts else shapely.Polygon()


def read_vector(path: Path, key: str) -> gpd.GeoDataFrame:
    """Read a GeoPackage / GeoParquet / Shapefile / GeoJSON file, or raise a DataError naming it."""
    path = regular_file(path, key, folders_ok=(".gdb",))
    try:
        if path.suffix.lower() in (".parquet", ".geoparquet"):
            return gpd.read_parquet(path)
        return gpd.read_file(path)
    except Exception as e:  # the readers raise many kinds; the planner needs the file and the reason
        reason = str(e).splitlines()[0] if str(e) else e.__class__.__name__
        raise DataError(f"{path}: {key}: cannot read it as a GeoPackage, GeoParquet, Shapefile or GeoJSON ({reason[:200]})") from None
