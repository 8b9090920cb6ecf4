"""What a location model returns."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class LocateResult:
    """What a location model chose, and how sure the solver is."""

    objective: float
    facilities: np.ndarray  # column indices of the open sites, ascending
    assignment: np.ndarray  # per demand point: the site (column) serving it, -1 if none
    status: str  # "optimal" or "time_limit"
    gap: float | None
    bound: float | None
    seconds: float
    iterations: int = 1
    variables: int = 0
    constraints: int = 0
    flows: np.ndarray | None = field(default=None, repr=False)  # capacitated: share of each demand served by each site
