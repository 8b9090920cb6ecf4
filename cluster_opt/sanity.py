"""What the planner should know about the data before trusting a run: measures that cannot be meant,
criteria that cannot tell units apart, layers far from the study area or with swapped coordinates."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd

from .config import Config
from .errors import DataError
from .layers import LayerData


def measure_warnings(cfg: Config, layers: dict[str, LayerData], features: pd.DataFrame) -> list[str]:
    """Refuse raw measures that are not finite (values too large to add up); warn of criteria that cannot tell units apart."""
    out = []
    for name, col in features.items():
        x = col.to_numpy(dtype=float)
        bad = ~np.isfinite(x)
        crit = cfg.criteria[name]
        if bad.any():
            raise DataError(f"{layers[crit.layer].path}: criteria.{name}: the {crit.measure.value} measure is not finite for "
                            f"{int(bad.sum()):,} unit(s) (e.g. {col.index[bad][0]}); the layer's values are too large to add up")
        if len(x) > 1 and np.ptp(x) == 0:
            out.append(f"criteria.{name}: every unit measures {x[0]:g}, so this criterion cannot tell units apart and adds nothing to the scores")
    return out


US_BOX = (-180.0, 15.0, -60.0, 72.0)  # lon/lat box around the US (with Alaska's west end, Hawaii and Puerto Rico)


def layer_warnings(units: gpd.GeoDataFrame, layers: dict[str, LayerData]) -> list[str]:
    """Layers whose points miss the study area entirely, or whose latitude and longitude look swapped."""
    minx, miny, maxx, maxy = units.total_bounds
    margin = 5.0  # degrees (~500 km): nearby features outside the study area count in measures, and should
    out = []
    for key, layer in layers.items():
        x, y = layer.points.geometry.x.to_numpy(), layer.points.geometry.y.to_numpy()
        if not len(x):
            continue
        near = (x >= minx - margin) & (x <= maxx + margin) & (y >= miny - margin) & (y <= maxy + margin)
        in_us = _in_box(x, y, US_BOX)
        swapped = _in_box(y, x, US_BOX)
        if in_us.mean() < 0.5 and swapped.mean() > 0.5:
            out.append(f"layers.{key}: {int(swapped.sum()):,} of {len(x):,} features land in the US only with latitude and longitude swapped; check the lat/lon columns of {layer.path.name}")
        elif not near.any():
            out.append(f"layers.{key}: none of its {len(x):,} features lies within about 500 km of the study area; its measures are the same for every unit")
    return out


def _in_box(x: np.ndarray, y: np.ndarray, box: tuple[float, float, float, float]) -> np.ndarray:
    return (x >= box[0]) & (x <= box[2]) & (y >= box[1]) & (y <= box[3])
