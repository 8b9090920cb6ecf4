"""Scores: normalize each raw measure, orient it (more is better), weight and add up."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .config import Config
from .errors import InputError, did_you_mean


@dataclass
class Scores:
    """Everything behind each unit's score, indexed by unit id."""

    raw: pd.DataFrame
    normalized: pd.DataFrame
    contributions: pd.DataFrame
    score: pd.Series
    rank: pd.Series
    weights: dict[str, float]

    def table(self) -> pd.DataFrame:
        return pd.concat(
            [self.raw.add_prefix("raw_"), self.normalized.add_prefix("norm_"), self.contributions.add_prefix("contrib_"),
             self.score.rename("score"), self.rank.rename("rank")],
            axis=1,
        )


def normalize(x: np.ndarray, method: str, direction: str) -> np.ndarray:
    """Map a raw measure to a comparable scale where higher is better.

    minmax: [0, 1] over the study area; percentile: the share of units at or
    below (ties share their mid-rank), in (0, 1]; zscore: standard deviations
    from the mean. A constant measure normalizes to 0 everywhere (it cannot
    discriminate between units).
    """
    x = np.asarray(x, dtype=float)
    if direction == "cost":
        x = -x
    if method == "minmax":
        lo, hi = x.min(), x.max()
        return (x - lo) / (hi - lo) if hi > lo else np.zeros_like(x)
    if method == "percentile":
        if np.ptp(x) == 0:
            return np.zeros_like(x)
        return pd.Series(x).rank(method="average").to_numpy() / len(x)  # ties share their mean rank
    if method == "zscore":
        sd = x.std()
        return (x - x.mean()) / sd if sd > 0 else np.zeros_like(x)
    raise ValueError(f"unknown normalization {method!r}")


def checked_weights(weights: dict[str, float], criteria: list[str]) -> dict[str, float]:
    """A weight for every criterion (finite, ≥ 0, not all zero), rescaled to sum to 1; InputError naming what is wrong."""
    if not isinstance(weights, dict):
        raise InputError(f"weights: expected a mapping of criterion: weight, found {type(weights).__name__}")
    unknown = [k for k in weights if k not in criteria]
    if unknown:
        raise InputError(f'weights: "{unknown[0]}" is not a criterion{did_you_mean(unknown[0], criteria)}; criteria are: {", ".join(criteria)}')
    missing = [k for k in criteria if k not in weights]
    if missing:
        raise InputError(f"weights: no weight for {', '.join(missing)}; give a weight for every criterion ({', '.join(criteria)})")
    out = {}
    for k in criteria:
        w = weights[k]
        if isinstance(w, bool) or not isinstance(w, (int, float, np.floating, np.integer)) or not np.isfinite(w) or w < 0:
            raise InputError(f"weights.{k}: expected a finite number ≥ 0, found {w!r}")
        out[k] = float(w)
    total = sum(out.values())
    if total <= 0:
        raise InputError("weights: all weights are zero; give at least one criterion a positive weight")
    return {k: w / total for k, w in out.items()}


def score_units(features: pd.DataFrame, cfg: Config, weights: dict[str, float] | None = None) -> Scores:
    """Normalized values, contributions (weight × normalized), score and rank (1 = best).

    ``weights``: one per criterion (rescaled to sum to 1); the config's when omitted.
    """
    weights = cfg.criterion_weights() if weights is None else checked_weights(weights, list(cfg.criteria))
    norm = pd.DataFrame(
        {k: normalize(features[k].to_numpy(), cfg.normalize, cfg.criteria[k].direction) for k in cfg.criteria},
        index=features.index,
    )
    w = np.array([weights[k] for k in cfg.criteria])
    contrib = norm * w
    score = pd.Series(contrib.to_numpy().sum(axis=1), index=features.index, name="score")
    # Rank by score, ties broken by unit id so the order never depends on input order.
    order = np.lexsort((features.index.to_numpy().astype(str), -np.round(score.to_numpy(), 12)))
    rank = pd.Series(np.empty(len(score), dtype=np.int64), index=features.index, name="rank")
    rank.iloc[order] = np.arange(1, len(score) + 1)
    return Scores(features, norm, contrib, score, rank, dict(weights))
