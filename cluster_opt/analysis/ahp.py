"""Weights from pairwise judgments: Saaty's Analytic Hierarchy Process.

The weights are the principal eigenvector of the reciprocal judgment matrix; the
consistency ratio CR = CI / RI with CI = (λmax − n) / (n − 1) and Saaty's random
index RI. Judgments with CR above 0.1 are too inconsistent to use.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np

# Saaty's random consistency index for n = 1..15.
RANDOM_INDEX = [0.0, 0.0, 0.58, 0.90, 1.12, 1.24, 1.32, 1.41, 1.45, 1.49, 1.51, 1.48, 1.56, 1.57, 1.59]
MAX_CR = 0.1


@dataclass
class AHPResult:
    weights: dict[str, float]
    lambda_max: float
    consistency_index: float
    consistency_ratio: float
    most_inconsistent: tuple[str, str, float, float]  # (i, j, judged a_ij, implied w_i / w_j)


def judgment(x: Any) -> float:
    """A judgment as a positive number: 3, 0.5, or "1/3"."""
    shown = repr(x) if not isinstance(x, str) or len(x) <= 40 else repr(x[:40] + "…")
    try:
        if isinstance(x, str):
            v = float(Fraction(x.strip()))
        elif isinstance(x, (int, float)) and not isinstance(x, bool):
            v = float(x)
        else:
            raise ValueError
    except (ValueError, ZeroDivisionError, OverflowError):
        raise ValueError(f"expected a positive number such as 3 or 1/3, found {shown}") from None
    if not np.isfinite(v) or v <= 0 or v > 1e6 or v < 1e-6:
        raise ValueError(f"expected a positive number such as 3 or 1/3 (Saaty's scale runs from 1/9 to 9), found {shown}")
    return v


def matrix(names: list[str], judgments: dict[str, dict[str, Any]]) -> np.ndarray:
    """The full reciprocal matrix from judgments given for each pair once (either way round)."""
    n = len(names)
    pos = {k: i for i, k in enumerate(names)}
    a = np.full((n, n), np.nan)
    np.fill_diagonal(a, 1.0)
    for i_name, row in judgments.items():
        if i_name not in pos:
            raise ValueError(f'"{i_name}" is not a criterion; criteria are: {", ".join(names)}')
        if not isinstance(row, dict):
            raise ValueError(f"{i_name}: expected a mapping of criterion: judgment, found {type(row).__name__}")
        for j_name, x in row.items():
            if j_name not in pos:
                raise ValueError(f'{i_name}.{j_name}: "{j_name}" is not a criterion; criteria are: {", ".join(names)}')
            i, j = pos[i_name], pos[j_name]
            if i == j:
                continue
            try:
                v = judgment(x)
            except ValueError as e:
                raise ValueError(f"{i_name}.{j_name}: {e}") from None
            if not np.isnan(a[i, j]) and not np.isclose(a[i, j], v):
                raise ValueError(f"{i_name} versus {j_name} is judged twice, differently ({a[i, j]:.4g} and {v:.4g})")
            a[i, j], a[j, i] = v, 1.0 / v
    missing = [(names[i], names[j]) for i in range(n) for j in range(i + 1, n) if np.isnan(a[i, j])]
    if missing:
        raise ValueError(f"no judgment of {missing[0][0]} versus {missing[0][1]}; every pair of criteria needs one")
    return a


def ahp(names: list[str], judgments: dict[str, dict[str, Any]]) -> AHPResult:
    a = matrix(names, judgments)
    n = len(names)
    vals, vecs = np.linalg.eig(a)
    k = int(np.argmax(vals.real))
    w = np.abs(vecs[:, k].real)
    w = w / w.sum()
    lam = float(vals[k].real)
    ci = (lam - n) / (n - 1) if n > 2 else 0.0
    ri = RANDOM_INDEX[n - 1] if n <= len(RANDOM_INDEX) else RANDOM_INDEX[-1]
    cr = ci / ri if ri > 0 else 0.0
    ratio = a * w[None, :] / w[:, None]  # a_ij / (w_i / w_j): 1 where consistent
    err = np.abs(np.log(ratio))
    i, j = np.unravel_index(int(np.argmax(np.triu(err, 1))), err.shape)
    return AHPResult({k: float(x) for k, x in zip(names, w)}, lam, ci, cr, (names[i], names[j], float(a[i, j]), float(w[i] / w[j])))
