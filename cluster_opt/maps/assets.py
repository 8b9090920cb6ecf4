"""Leaflet and the map script inlined into pages from installed files, so maps open with no network."""

from __future__ import annotations

import base64
import importlib.util
import re
from functools import lru_cache
from pathlib import Path

from ..errors import ClusterOptError


@lru_cache(maxsize=1)
def leaflet_dir() -> Path:
    """Leaflet's dist files as shipped by the django-js-lib-leaflet package (found without importing it)."""
    spec = importlib.util.find_spec("js_lib_leaflet")
    if spec is None or not spec.submodule_search_locations:
        raise ClusterOptError("the offline map needs the django-js-lib-leaflet package (pip install django-js-lib-leaflet), or use --map-mode online")
    return Path(list(spec.submodule_search_locations)[0]) / "static" / "js_lib_leaflet"


@lru_cache(maxsize=1)
def leaflet_js() -> str:
    return (leaflet_dir() / "leaflet.js").read_text(encoding="utf-8").replace("</script", "<\\/script")


MAP_SCRIPTS = ("map.js", "panels.js")  # the run map and its helpers, then the synchronized scenario maps


@lru_cache(maxsize=1)
def map_js() -> str:
    """map.js and panels.js, shipped beside this module: the static scripts that draw every map from its JSON data."""
    here = Path(__file__).parent
    return "\n".join((here / name).read_text(encoding="utf-8") for name in MAP_SCRIPTS).replace("</script", "<\\/script")


@lru_cache(maxsize=1)
def leaflet_css() -> str:
    """leaflet.css with its images embedded as data URIs."""
    css = (leaflet_dir() / "leaflet.css").read_text(encoding="utf-8")

    def inline(m: re.Match) -> str:
        p = leaflet_dir() / m.group(1)
        if not p.exists():
            return m.group(0)
        return f"url(data:image/png;base64,{base64.b64encode(p.read_bytes()).decode()})"

    return re.sub(r"url\((images/[^)]+\.png)\)", inline, css)


def leaflet_version() -> str:
    m = re.search(r"Leaflet (\d+\.\d+\.\d+)", leaflet_js()[:400])
    return m.group(1) if m else "unknown"
