"""Beasley's OR-Library p-median instances: read the edge list and build the cost matrix."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from scipy.sparse.csgraph import shortest_path

from ..errors import DataError

# Published optima (OR-Library file pmedopt).
OPTIMA = {f"pmed{k}": v for k, v in enumerate(
    [5819, 4093, 4250, 3034, 1355, 7824, 5631, 4445, 2734, 1255, 7696, 6634, 4374, 2968, 1729, 8162, 6999, 4809, 2845, 1789,
     9138, 8579, 4619, 2961, 1828, 9917, 8307, 4498, 3033, 1989, 10086, 9297, 4700, 3013, 10400, 9934, 5057, 11060, 9423, 5128], start=1)}


def read_pmed(path: str | Path) -> tuple[np.ndarray, int]:
    """(all-pairs shortest-path cost matrix, p). Where an edge repeats, the last one counts."""
    path = Path(path)
    try:
        rows = np.loadtxt(path, dtype=np.int64, ndmin=2, max_rows=None, usecols=(0, 1, 2), skiprows=1)
        n, e, p = (int(x) for x in path.read_text().split(maxsplit=3)[:3])
    except (OSError, ValueError) as e:
        raise DataError(f"{path}: not an OR-Library p-median file ({e}); expected 'n edges p' then 'i j cost' lines") from None
    if len(rows) != e or rows[:, :2].min() < 1 or rows[:, :2].max() > n:
        raise DataError(f"{path}: expected {e} edges between vertices 1..{n}")
    g = np.full((n, n), np.inf)
    np.fill_diagonal(g, 0.0)
    a = np.minimum(rows[:, 0], rows[:, 1]) - 1
    b = np.maximum(rows[:, 0], rows[:, 1]) - 1
    # The last line of each undirected edge counts, whichever way round it is written.
    last = len(rows) - 1 - np.unique((a * n + b)[::-1], return_index=True)[1]
    g[a[last], b[last]] = rows[last, 2]
    g[b[last], a[last]] = rows[last, 2]
    np.fill_diagonal(g, 0.0)
    return shortest_path(g, method="FW", directed=False), p
