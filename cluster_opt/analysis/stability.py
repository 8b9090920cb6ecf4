"""Exact weight-stability intervals of the weighted-sum ranking.

For criterion c with weight t (the other weights rescaled proportionally, so they
keep their ratios and all sum to 1), every unit's score is linear in t:
s_i(t) = t·a_i + (1 − t)·b_i with a_i = normalized_ic and b_i the other criteria's
weighted mean. The top-k set stays the same while every unit inside it scores at
least as high as every unit outside: one linear inequality per (inside, outside)
pair, whose intersection is an interval of t.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def top_k(scores: np.ndarray, ids: np.ndarray, k: int) -> set:
    """The k best units (ties broken by id, as in the ranking)."""
    order = np.lexsort((ids.astype(str), -np.round(scores, 12)))
    return set(ids[order[:k]].tolist())


def weights_at(weights: np.ndarray, c: int, t: float) -> np.ndarray:
    """Weight vector with criterion c at t and the others rescaled proportionally."""
    w = np.asarray(weights, float)
    rest = 1.0 - w[c]
    out = w * ((1.0 - t) / rest) if rest > 0 else np.full_like(w, (1.0 - t) / max(len(w) - 1, 1))
    out[c] = t
    return out


def stability_intervals(normalized: pd.DataFrame, weights: dict[str, float], k: int) -> pd.DataFrame:
    """Per criterion: its weight and the [low, high] range of it in which the top-k set is unchanged."""
    names = list(normalized.columns)
    x = normalized.to_numpy(dtype=float)
    w = np.array([weights[c] for c in names], dtype=float)
    w = w / w.sum()
    ids = normalized.index.to_numpy()
    score = x @ w
    k = min(k, len(ids))
    order = np.lexsort((ids.astype(str), -np.round(score, 12)))
    inside, outside = order[:k], order[k:]
    rows = []
    for c, name in enumerate(names):
        rest = 1.0 - w[c]
        a = x[:, c]
        others = [j for j in range(len(names)) if j != c]
        if rest > 0:
            b = (x @ w - w[c] * a) / rest
        else:
            b = x[:, others].mean(axis=1) if others else np.zeros(len(x))
        lo, hi = 0.0, 1.0
        if len(outside):
            # For each inside i, outside j: (a_i − a_j − b_i + b_j)·t + (b_i − b_j) ≥ 0.
            slope = (a[inside, None] - a[None, outside]) - (b[inside, None] - b[None, outside])
            icpt = b[inside, None] - b[None, outside]
            with np.errstate(divide="ignore", invalid="ignore"):
                root = -icpt / slope
            up = slope > 0
            down = slope < 0
            if up.any():
                lo = max(lo, float(root[up].max()))
            if down.any():
                hi = min(hi, float(root[down].min()))
        rows.append({"criterion": name, "weight": float(w[c]), "low": max(lo, 0.0), "high": min(hi, 1.0),
                     "top_k": k})
    return pd.DataFrame(rows)
