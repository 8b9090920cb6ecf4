"""Self-contained pages beyond the run map: side-by-side scenario maps and sweep frequency maps.

The page text is HTML built with esc(); the maps' data is one JSON block drawn by map.js.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd

from .assets import leaflet_css, leaflet_js, map_js
from .payload import numbers, texts
from .safe import data_block, esc
from .shapes import DISPLAY_TOLERANCE_DEG, bounds_latlng, pack_shapes, simplify_for_display, state_shapes

PANELS_DATA_ID = "co-panels"


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


def page(title: str, body: str) -> str:
    """A whole page with Leaflet and map.js inlined: it opens from a file with no network."""
    return (f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{esc(title)}</title>"
            f"<meta name='viewport' content='width=device-width, initial-scale=1'>"
            f"<style>{leaflet_css()}</style><style>{PAGE_CSS}</style><script>{leaflet_js()}</script>"
            f"<script>{map_js()}</script></head><body>{body}</body></html>")


def map_panels(units: gpd.GeoDataFrame, panels: list[dict], columns: int) -> str:
    """HTML of several synchronized maps of the same units, with their data block and the call that draws them.

    ``units``: positional rows (as ``res.prepared.units``). Each panel: {"title", "fill" (colour per unit),
    "tip" (text per unit), "outline" (colour or "" per unit), "hubs": [{"lat", "lon", "label", "colour", "tip"}]}.
    """
    data = {"bounds": bounds_latlng(units.total_bounds), "basemap": state_shapes(units.total_bounds),
            "units": pack_shapes(simplify_for_display(units.geometry.to_numpy(), DISPLAY_TOLERANCE_DEG * 2)),
            "panels": [{"id": f"co-map-{k}", "fill": list(p["fill"]), "outline": list(p["outline"]), "tip": texts(p["tip"]),
                        "hubs": [{"lat": numbers([h["lat"]], 5)[0], "lon": numbers([h["lon"]], 5)[0], "label": str(h["label"]),
                                  "colour": h["colour"], "tip": str(h["tip"])} for h in p["hubs"]]}
                       for k, p in enumerate(panels)]}
    html = [f"<div class='co-maps' style='grid-template-columns:repeat({int(columns)}, 1fr)'>"]
    for k, p in enumerate(panels):
        html.append(f"<div><div class='co-panel-title'>{esc(p['title'])}</div><div id='co-map-{k}' class='co-map'></div></div>")
    html.append("</div>")
    html.append(data_block(PANELS_DATA_ID, data))
    html.append(f"<script>coDrawPanels(coData('{PANELS_DATA_ID}'));</script>")
    return "".join(html)
