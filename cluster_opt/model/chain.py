"""A supply chain as a problem: facility types over shared units, existing facilities, supply links, co-location.

Each facility type is a ``SelectionProblem`` over the same units (its own scores, count,
radius, spacing, state limit, site rules and requirements). The MILP is built in
``chain_model.py`` and solved in rounds by ``chain_solve.py``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from ..errors import InfeasibleError
from ..geo import to_xyz
from .problem import SelectionProblem


@dataclass
class ExistingFacilities:
    """Facilities of one type that exist already: fixed points that supply links and fill clusters."""

    ids: np.ndarray
    names: np.ndarray
    lat: np.ndarray
    lon: np.ndarray
    states: np.ndarray | None = None  # the layer's state of each facility, where it has a state column

    def __post_init__(self) -> None:
        self.ids = np.asarray(self.ids).astype(str)
        self.names = np.asarray(self.names).astype(str)
        self.lat = np.asarray(self.lat, dtype=float)
        self.lon = np.asarray(self.lon, dtype=float)

    @property
    def n(self) -> int:
        return len(self.ids)

    @cached_property
    def xyz(self) -> np.ndarray:
        return to_xyz(self.lat, self.lon)


@dataclass
class SupplyLink:
    """Each new facility of type ``to`` is supplied by one of type ``source`` within ``max_km``."""

    source: str
    to: str
    max_km: float
    cost_per_km: float = 0.0
    capacity: int | None = None

    @property
    def assigned(self) -> bool:
        """Whether each supplier is chosen explicitly (a cost or a capacity depends on which one it is)."""
        return self.cost_per_km > 0 or self.capacity is not None

    @property
    def name(self) -> str:
        return f"{self.source} → {self.to}"


@dataclass
class ClusterRule:
    """``count`` clusters of ``radius_km``: each holds the ``must_contain`` types; new facilities of ``types`` lie in one."""

    count: int
    radius_km: float
    must_contain: list[str] = field(default_factory=list)
    types: list[str] = field(default_factory=list)


@dataclass
class SitingProblem:
    """Facility types over one set of units, with existing facilities, supply links and co-location clusters."""

    types: dict[str, SelectionProblem]
    existing: dict[str, ExistingFacilities] = field(default_factory=dict)
    links: list[SupplyLink] = field(default_factory=list)
    clusters: ClusterRule | None = None

    def __post_init__(self) -> None:
        first = self.first
        for t, pb in self.types.items():
            if pb.n != first.n or not np.array_equal(pb.ids, first.ids):
                raise ValueError(f"facility type {t}: every type must be sited over the same units")

    @property
    def first(self) -> SelectionProblem:
        return next(iter(self.types.values()))

    @property
    def single(self) -> bool:
        """The one-type case: cluster hubs of a selection, built exactly as before chains existed."""
        return len(self.types) == 1 and not self.existing and not self.links and self.clusters is None and self.first.complete_members

    @property
    def n(self) -> int:
        return self.first.n

    @property
    def xyz(self) -> np.ndarray:
        return self.first.xyz

    def new_types(self) -> list[str]:
        return [t for t, pb in self.types.items() if pb.most > 0]

    def check_links(self) -> None:
        """A link whose downstream sites all lie beyond max_km of every possible supplier cannot be kept: say so up front."""
        for k, link in enumerate(self.links):
            down = self.types.get(link.to)
            if down is None or down.clusters == 0 or not down.can_host.any():
                continue
            d = self.supplier_km(link)[down.can_host]
            if not (d <= link.max_km).any():
                shortest = float(d.min())
                raise InfeasibleError(f"links[{k}] {link.name}: no {link.to} site has a {link.source} within {link.max_km:g} km"
                                      + (f"; the shortest distance that would work is {np.ceil(shortest * 10) / 10:,.1f} km" if np.isfinite(shortest) else ""))

    def supplier_km(self, link: SupplyLink) -> np.ndarray:
        """Per unit: the distance to the nearest possible supplier of ``link`` (a site of the upstream type, or an existing one)."""
        from scipy.spatial import cKDTree

        from ..geo import chord_to_km

        pts = []
        up = self.types.get(link.source)
        if up is not None and up.most > 0 and up.can_host.any():
            pts.append(self.xyz[up.can_host])
        ex = self.existing.get(link.source)
        if ex is not None and ex.n:
            pts.append(ex.xyz)
        if not pts:
            return np.full(self.n, np.inf)
        d, _ = cKDTree(np.vstack(pts)).query(self.xyz, k=1)
        return np.asarray(chord_to_km(d), dtype=float)
