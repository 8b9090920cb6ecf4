"""Self-contained pages beyond the run map: side-by-side scenario maps and sweep frequency maps."""

from __future__ import annotations

import json

import geopandas as gpd
import numpy as np
import pandas as pd

from . import CLUSTER_COLOURS, DISPLAY_TOLERANCE_DEG, _DOLLAR_SHIM, esc, score_classes
from .assets import leaflet_css, leaflet_js
from .. import geodata


def _units_geojson(units: gpd.GeoDataFrame, props: pd.DataFrame, tolerance: float = DISPLAY_TOLERANCE_DEG * 2) -> dict:
    geom = units.geometry.simplify(tolerance, preserve_topology=True)
    feats = []
    for i, g in enumerate(geom):
        feats.append({"type": "Feature", "geometry": g.__geo_interface__, "properties": {k: props[k].iat[i] for k in props.columns}})
    return {"type": "FeatureCollection", "features": feats}


def _states_geojson(bounds) -> dict:
    from shapely.geometry import box

    minx, miny, maxx, maxy = bounds
    st = geodata.states()
    st = st[st.intersects(box(minx - 5, miny - 5, maxx + 5, maxy + 5))]
    return json.loads(st.set_geometry(st.geometry.simplify(0.02, preserve_topology=True))[["state", "geometry"]].to_json())


def _table(df: pd.DataFrame) -> str:
    head = "".join(f"<th>{esc(c)}</th>" for c in df.columns)
    body = "".join("<tr>" + "".join(f"<td>{esc(_cell(v))}</td>" for v in row) + "</tr>" for row in df.itertuples(index=False))
    return f"<table class='co-table'><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _cell(v) -> str:
    if v is None or v is pd.NA or (isinstance(v, float) and np.isnan(v)):
        return ""
    if isinstance(v, (float, np.floating)):
        return "" if np.isnan(v) else (f"{v:,.0f}" if abs(v) >= 1000 else f"{v:.3g}")
    return str(v)


PAGE_CSS = """
body{font:14px/1.4 system-ui,sans-serif;margin:0;padding:12px 16px;color:#222}
h1{font-size:20px;margin:4px 0 8px}h2{font-size:16px;margin:18px 0 6px}
.co-maps{display:grid;gap:8px}.co-map{height:520px;border:1px solid #bbb;border-radius:4px}
.co-panel-title{font-weight:600;margin:2px 0}
.co-table{border-collapse:collapse;font-size:13px}.co-table td,.co-table th{border-bottom:1px solid #ddd;padding:2px 8px;text-align:right}
.co-table td:first-child,.co-table th:first-child{text-align:left}
.co-hub{color:#fff;font:bold 12px/22px system-ui,sans-serif;text-align:center;border-radius:50%;border:2px solid #fff;box-shadow:0 0 3px #000;width:22px;height:22px}
.co-legend span{display:inline-block;width:12px;height:12px;margin:0 4px 0 10px;vertical-align:middle}
"""

MAP_JS = """
var coMaps = [];
function coMakeMap(id, states, units, hubs, bounds) {
  var m = L.map(id, {preferCanvas: true, zoomSnap: 0.25});
  L.geoJSON(states, {interactive: false, style: {color: '#555', weight: 1, fillColor: '#f4f1ea', fillOpacity: 1}}).addTo(m);
  L.geoJSON(units, {style: function (f) { return {color: f.properties.outline || '#777', weight: f.properties.outline ? 2 : 0.3,
      fillColor: f.properties.fill, fillOpacity: 0.75}; },
    onEachFeature: function (f, layer) { layer.bindTooltip(f.properties.tip); }}).addTo(m);
  hubs.forEach(function (h) {
    L.marker([h.lat, h.lon], {icon: L.divIcon({html: "<div class='co-hub' style='background:" + h.colour + "'>" + h.label + "</div>",
      className: '', iconSize: [22, 22], iconAnchor: [11, 11]})}).bindTooltip(h.tip).addTo(m);
  });
  m.fitBounds(bounds);
  coMaps.push(m);
  return m;
}
function coSync() {
  var busy = false;
  coMaps.forEach(function (m) {
    m.on('move moveend', function () {
      if (busy) { return; }
      busy = true;
      coMaps.forEach(function (o) { if (o !== m) { o.setView(m.getCenter(), m.getZoom(), {animate: false}); } });
      busy = false;
    });
  });
}
"""


def page(title: str, body: str, script: str) -> str:
    return (f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{esc(title)}</title>"
            f"<meta name='viewport' content='width=device-width, initial-scale=1'>"
            f"<style>{leaflet_css()}</style><style>{PAGE_CSS}</style><script>{leaflet_js()}</script>"
            f"<script>{_DOLLAR_SHIM}</script></head><body>{body}<script>{MAP_JS}{script}</script></body></html>")


def map_panels(units: gpd.GeoDataFrame, panels: list[dict], columns: int) -> tuple[str, str]:
    """HTML and JS for several synchronized maps of the same units.

    Each panel: {"title", "fill" (colour per unit), "tip" (text per unit), "outline" (colour or "" per unit),
    "hubs": [{"lat", "lon", "label", "colour", "tip"}]}.
    """
    minx, miny, maxx, maxy = units.total_bounds
    bounds = [[float(miny), float(minx)], [float(maxy), float(maxx)]]
    states = _states_geojson(units.total_bounds)
    html = [f"<div class='co-maps' style='grid-template-columns:repeat({columns}, 1fr)'>"]
    js = [f"var coStates = {json.dumps(states)};"]
    for k, p in enumerate(panels):
        props = pd.DataFrame({"fill": p["fill"], "tip": [esc(t) for t in p["tip"]], "outline": p["outline"]})
        html.append(f"<div><div class='co-panel-title'>{esc(p['title'])}</div><div id='co-map-{k}' class='co-map'></div></div>")
        hubs = [{**h, "tip": esc(h["tip"]), "label": esc(h["label"])} for h in p["hubs"]]
        js.append(f"coMakeMap('co-map-{k}', coStates, {json.dumps(_units_geojson(units, props))}, {json.dumps(hubs)}, {json.dumps(bounds)});")
    html.append("</div>")
    js.append("coSync();")
    return "".join(html), "\n".join(js)


def cluster_colour(k: int) -> str:
    return CLUSTER_COLOURS[k % len(CLUSTER_COLOURS)]


def score_fill(scores: np.ndarray) -> tuple[list[str], np.ndarray, list[str]]:
    bins, colours = score_classes(scores)
    idx = np.clip(np.searchsorted(bins, scores, side="right") - 1, 0, len(colours) - 1)
    return [colours[i] for i in idx], bins, colours
