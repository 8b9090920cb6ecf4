"""Maps and pages of a run (one type or a chain), a comparison and a sweep: data as JSON, drawn by the static map.js
and panels.js; the report's chain diagram as inline SVG."""

from .palette import CLUSTER_COLOURS, cluster_colour, score_classes
from .runmap import render_map
from .safe import esc, json_for_script
from .shapes import DISPLAY_TOLERANCE_DEG

__all__ = ["CLUSTER_COLOURS", "DISPLAY_TOLERANCE_DEG", "cluster_colour", "esc", "json_for_script", "render_map", "score_classes"]
