"""The run's map.html: a folium page frame whose content map.js draws from one JSON data block.

folium's own popups, tooltips and controls paste strings into JavaScript source; here no folium
element carries a string from the data: the data travels as JSON and is shown as text.
"""

from __future__ import annotations

import folium
from branca.element import Element, MacroElement

from .assets import leaflet_css, leaflet_js, map_js
from .chainmap import chain_payload
from .payload import ONLINE_TILES, run_payload
from .safe import data_block

RUN_DATA_ID = "co-run-data"


class Verbatim(Element):
    """Page text added as it is: branca renders an Element's text as a Jinja template, and data must never be one."""

    def __init__(self, text: str):
        super().__init__()
        self._name = "Verbatim"
        self.text = text

    def render(self, **kwargs) -> str:
        return self.text


class RunMapData(MacroElement):
    """The run's data block, and the call that draws it into the parent folium map."""

    def __init__(self, payload: dict, data_id: str = RUN_DATA_ID):
        super().__init__()
        self._name = "RunMapData"
        self.data_id = data_id  # ours, a constant: safe in the script below
        self.block = data_block(data_id, payload)

    def render(self, **kwargs) -> None:
        figure = self.get_root()
        figure.html.add_child(Verbatim(self.block), name=self.get_name())
        call = f'var {self.get_name()} = coRunMap({self._parent.get_name()}, coData("{self.data_id}"));'
        figure.script.add_child(Verbatim(call), name=self.get_name())


def render_map(res, mode: str = "offline") -> folium.Map:
    """The run map: score choropleth, clusters and hubs (a chain: facilities, links and co-location clusters),
    input layers, legends and title.

    ``mode="online"`` adds OpenStreetMap tiles as a base layer for viewers with a network.
    """
    payload = chain_payload(res, mode) if res.cfg.is_chain else run_payload(res, mode)
    (south, west), (north, east) = payload["bounds"]
    m = folium.Map(location=[(south + north) / 2, (west + east) / 2], zoom_start=5, tiles=None, control_scale=True)
    m.default_js, m.default_css = [], []  # nothing fetched at view time: Leaflet and map.js are inlined
    m.get_root().header.add_child(Verbatim(f"<style>{leaflet_css()}</style>\n<script>{leaflet_js()}</script>\n"
                                           f"<style>{RUN_CSS}</style>\n<script>{map_js()}</script>"), name="co_inline", index=0)
    if mode == "online":
        folium.TileLayer("OpenStreetMap", name=ONLINE_TILES, show=True).add_to(m)
    RunMapData(payload).add_to(m)
    return m


RUN_CSS = """
.co-title{background:rgba(255,255,255,.93);padding:8px 10px;border-radius:6px;box-shadow:0 1px 4px rgba(0,0,0,.3);
 font:13px/1.35 system-ui,sans-serif;max-width:420px}
.co-score-legend{background:rgba(255,255,255,.93);padding:6px 8px;border-radius:6px;box-shadow:0 1px 4px rgba(0,0,0,.3);font:12px/1.35 system-ui,sans-serif}
.co-legend{margin-top:4px;font-size:12px}.co-swatch{display:inline-block;width:12px;height:12px;margin-right:5px;border-radius:2px;vertical-align:middle}
.co-hub{color:#fff;font:bold 13px/26px system-ui,sans-serif;text-align:center;border-radius:50%;border:2px solid #fff;box-shadow:0 0 3px #000;width:26px;height:26px}
.co-breakdown{border-collapse:collapse;margin-top:4px;font-size:12px}.co-breakdown td,.co-breakdown th{border-bottom:1px solid #ddd;padding:1px 5px;text-align:right}
.co-breakdown td:first-child,.co-breakdown th:first-child{text-align:left}
.co-symbol{width:12px;height:12px;border:1.5px solid #fff;box-shadow:0 0 2px #000;box-sizing:border-box}.co-symbol-circle{border-radius:50%}
.co-symbol-diamond{transform:rotate(45deg) scale(.85)}.co-symbol-triangle{clip-path:polygon(50% 0,100% 100%,0 100%);border:0;box-shadow:none}
.co-legend .co-symbol{display:inline-block;margin-right:5px;vertical-align:middle}
.co-line{display:inline-block;width:16px;height:0;border-top:3px solid;margin-right:5px;vertical-align:middle}
.co-symbol{position:relative}.co-hole{position:absolute;left:2.5px;top:2.5px;right:2.5px;bottom:2.5px;background:#fff;border-radius:inherit}
.co-symbol-triangle .co-hole{left:3.5px;right:3.5px;top:5.5px;bottom:2px;clip-path:polygon(50% 0,100% 100%,0 100%)}
.co-ring-label{display:inline-block;transform:translate(-50%,-50%);white-space:nowrap;color:#fff;font:bold 12px/18px system-ui,sans-serif;
 padding:0 6px;border-radius:9px;border:1.5px solid #fff;box-shadow:0 0 3px #000}
.co-fill{font:12px system-ui,sans-serif;margin-bottom:4px;max-width:220px}
"""
