"""The explorer's page: the run map of map.html (the same payload, drawn by the same map.js) with the controls and
panels of explore.js, everything inlined so that the browser fetches nothing but the local API."""

from __future__ import annotations

from pathlib import Path

from ..maps.assets import leaflet_css, leaflet_js, map_js
from ..maps.chainmap import chain_payload
from ..maps.payload import run_payload
from ..maps.runmap import RUN_CSS, RUN_DATA_ID
from ..maps.safe import data_block, esc

EXPLORE_DATA_ID = "co-explore-data"

EXPLORE_CSS = """
html,body{margin:0;height:100%;font:13px/1.4 system-ui,sans-serif;color:#222}
#co-app{display:grid;grid-template-columns:340px 1fr;height:100%}
#co-side{overflow-y:auto;padding:10px 12px;border-right:1px solid #ccc;background:#fafafa}
#co-side h1{font-size:17px;margin:2px 0 4px}#co-side h2{font-size:13px;margin:12px 0 4px;text-transform:uppercase;color:#555}
#co-main{display:flex;flex-direction:column;min-width:0;overflow-y:auto}
#co-map{height:62vh;min-height:380px}
.co-row{display:grid;grid-template-columns:1fr 110px 44px;gap:6px;align-items:center;margin:2px 0}
.co-row input[type=range]{width:100%}.co-share{text-align:right;font-variant-numeric:tabular-nums}
.co-rule{display:grid;grid-template-columns:1fr 110px;gap:6px;align-items:center;margin:3px 0}
.co-rule input,.co-rule select{width:100%;box-sizing:border-box}
.co-status{padding:6px 8px;border-radius:4px;background:#eef3f8;margin:4px 0}.co-status.co-bad{background:#fde8e8;color:#a50f15}
.co-busy{color:#777}.co-ids{font-size:12px;color:#444;word-break:break-word}
.co-actions button,.co-actions a{margin:3px 4px 3px 0;font:13px system-ui,sans-serif}
.co-table{border-collapse:collapse;font-size:12px;margin:4px 0}.co-table td,.co-table th{border-bottom:1px solid #ddd;padding:2px 6px;text-align:right}
.co-table td:first-child,.co-table th:first-child{text-align:left}
.co-in{color:#1a7f37}.co-out{color:#a50f15}
#co-pins{display:grid;grid-template-columns:repeat(auto-fill,minmax(320px,1fr));gap:8px;padding:8px}
.co-pin{border:1px solid #bbb;border-radius:4px;padding:4px}.co-pin-map{height:300px}
.co-pin-head{display:flex;justify-content:space-between;gap:6px;font-size:12px}
#co-tables{padding:6px 10px}
#co-app .co-title{display:none}
.co-pin .leaflet-control-layers,.co-pin .co-score-legend{display:none}
"""


def explore_page(explorer) -> str:
    """The whole page for the explorer's scenario, with its first answer drawn."""
    from .server import scenario

    res = explorer.current["result"]
    payload = chain_payload(res) if res.cfg.is_chain else run_payload(res)
    script = (Path(__file__).resolve().parents[1] / "maps" / "explore.js").read_text(encoding="utf-8").replace("</script", "<\\/script")
    name = explorer.cfg.name
    return ("<!DOCTYPE html><html><head><meta charset='utf-8'>"
            f"<title>{esc(name)}: explore</title><meta name='viewport' content='width=device-width, initial-scale=1'>"
            f"<style>{leaflet_css()}</style><style>{RUN_CSS}</style><style>{EXPLORE_CSS}</style>"
            f"<script>{leaflet_js()}</script><script>{map_js()}</script></head><body>"
            "<div id='co-app'><aside id='co-side'></aside><div id='co-main'><div id='co-map'></div>"
            "<div id='co-tables'></div><div id='co-pins'></div></div></div>"
            f"{data_block(RUN_DATA_ID, payload)}{data_block(EXPLORE_DATA_ID, scenario(explorer))}"
            f"<script>{script}</script></body></html>")
