"""Colours of the maps: score classes, clusters, facility types and input layers (constants only, never from data)."""

from __future__ import annotations

import branca.colormap as cm
import numpy as np

CLUSTER_COLOURS = ["#e41a1c", "#377eb8", "#4daf4a", "#984ea3", "#ff7f00", "#a65628", "#f781bf", "#17becf",
                   "#bcbd22", "#1f78b4", "#b2df8a", "#fb9a99", "#cab2d6", "#6a3d9a", "#b15928", "#8dd3c7"]
LAYER_COLOURS = {"minerals": "#8c510a", "power_plants": "#d95f02", "grid": "#d95f02", "ports": "#1b9e77", "labor": "#7570b3"}
OTHER_LAYER_COLOUR = "#444"
RING_COLOUR = "#333"
TYPE_COLOURS = ["#f16913", "#dd3497", "#a50f15", "#8c510a", "#252525", "#e6ab02", "#66a61e", "#7a0177"]  # apart from the blue score ramp


def cluster_colour(k: int) -> str:
    return CLUSTER_COLOURS[k % len(CLUSTER_COLOURS)]


def type_colour(k: int) -> str:
    """The colour of the k-th facility type (config order)."""
    return TYPE_COLOURS[k % len(TYPE_COLOURS)]


def layer_colour(key: str, source: str) -> str:
    """A builtin layer's own colour (by key, then by source), else a neutral grey."""
    return LAYER_COLOURS.get(key) or LAYER_COLOURS.get(source.removeprefix("builtin:"), OTHER_LAYER_COLOUR)


def quantile_breaks(values: np.ndarray, k: int) -> np.ndarray:
    """Upper bounds of k equal-count classes: the values at the (100/k)th, (200/k)th, ... 100th percentiles
    (linear interpolation), duplicates dropped; the same breaks as mapclassify's Quantiles."""
    w = 100.0 / k
    p = np.arange(w, 100 + w, w)
    p[-1] = min(p[-1], 100.0)
    s = np.sort(np.asarray(values, dtype=float))
    idx = p / 100.0 * (len(s) - 1)
    j = np.floor(idx).astype(int)
    below, above = (j - idx) + 1, idx - j  # weights of the values either side, as scipy's scoreatpercentile has them
    nxt = s[np.minimum(j + 1, len(s) - 1)]
    return np.unique(np.where(idx == j, s[j], (s[j] * below + nxt * above) / (below + above)))


def score_classes(scores: np.ndarray, k: int = 7) -> tuple[np.ndarray, list[str]]:
    """Quantile class breaks (equal counts) and a colour per class."""
    uniq = np.unique(scores)
    upper = quantile_breaks(scores, min(k, max(len(uniq) - 1, 1))) if len(uniq) > 1 else uniq
    bins = np.unique(np.concatenate([[scores.min()], upper]))
    if len(bins) < 2:
        bins = np.array([scores.min(), scores.min() + 1e-9])
    ramp = cm.linear.YlGnBu_09.scale(0, 1)
    n = len(bins) - 1
    return bins, [ramp(0.1 + 0.9 * i / max(n - 1, 1)) for i in range(n)]


def class_of(values: np.ndarray, bins: np.ndarray) -> np.ndarray:
    """The class (0-based) of each value for breaks ``bins``; values outside fall in the end classes."""
    return np.clip(np.searchsorted(bins, values, side="right") - 1, 0, len(bins) - 2)


def score_fill(scores: np.ndarray) -> tuple[list[str], np.ndarray, list[str]]:
    """Each unit's fill colour by score class, the class breaks and the class colours."""
    bins, colours = score_classes(scores)
    return [colours[i] for i in class_of(scores, bins)], bins, colours
