"""The selection problem as plain arrays: what the optimizer sees, independent of geodata."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from ..errors import ConfigError, did_you_mean
from ..geo import pairs_within, to_xyz


# Above these many hub pairs closer than the spacing, spacing rows are added only where chosen hubs
# break the rule (a handful of rounds) instead of written for every pair up front. Cluster selections
# solve their hub model in a fraction of a second, so rounds are cheap and the rows of every pair cost
# more (the Battery Belt, 85,000 pairs: 0.7 s written, 0.1 s lazy); a chain's rounds each re-solve its
# whole model, so its facility types write their rows up to the higher figure.
LAZY_SPACING_PAIRS = 10_000
LAZY_SPACING_PAIRS_CHAIN = 100_000
# Above these many unit-hub pairs within the cluster radius the model cannot be held in memory:
# the member form has a variable and two rows per pair; the disjoint form only sums over them.
MAX_MEMBER_PAIRS = 3_000_000
MAX_DISJOINT_PAIRS = 60_000_000
# A requirement counts as met when the total reaches it within this relative tolerance: sums of
# floats (894.6999999 for 894.7) must not turn an exactly reachable requirement into an infeasible one.
REQUIREMENT_RTOL = 1e-9


def requirement_floor(need: np.ndarray | float) -> np.ndarray:
    """The smallest total that meets a requirement: need less the documented tolerance."""
    need = np.asarray(need, dtype=float)
    return need - REQUIREMENT_RTOL * np.maximum(np.abs(need), 1.0)


@dataclass
class SelectionProblem:
    """Choose ``clusters`` hubs among ``n`` units; members are units within ``radius_km`` of a hub.

    ``score``: each unit's score; ``amounts`` (n × r): what each unit brings to
    each requirement; ``requirements`` (r): the per-cluster minimum of each.
    """

    ids: np.ndarray
    lat: np.ndarray
    lon: np.ndarray
    score: np.ndarray
    clusters: int
    radius_km: float
    spacing_km: float = 0.0
    states: np.ndarray | None = None
    max_per_state: int | None = None
    amounts: np.ndarray | None = None
    requirement_names: list[str] = field(default_factory=list)
    requirements: np.ndarray | None = None
    include: list[str] = field(default_factory=list)
    exclude: list[str] = field(default_factory=list)
    member_weight: float = 1.0
    member_scale: np.ndarray | None = None  # per unit: how much a member counts (e.g. area / median area)
    clusters_max: int | None = None  # a range of counts: at least ``clusters``, at most this many
    site_ok: np.ndarray | None = None  # per unit: whether the site rules let it host (None: every unit)
    complete_members: bool = True  # True: every unit in a hub's radius joins it; False: units are drawn on as requirements need
    key: str = "selection"  # the config key of the rules (selection, or facilities.<type>.site) for messages
    # The raw data of distance-based site rules, for the independent check: {kind: "near" | "avoid",
    # lat, lon, values (per feature), within_km, at_least, label}; their effect is already in site_ok.
    site_checks: list[dict] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.ids = np.asarray(self.ids).astype(str)
        self.lat = np.asarray(self.lat, dtype=float)
        self.lon = np.asarray(self.lon, dtype=float)
        self.score = np.asarray(self.score, dtype=float)
        n = len(self.ids)
        if self.amounts is None:
            self.amounts = np.zeros((n, 0))
            self.requirements = np.zeros(0)
        self.amounts = np.asarray(self.amounts, dtype=float).reshape(n, -1)
        self.requirements = np.asarray(self.requirements, dtype=float).reshape(-1)
        if not self.requirement_names:
            self.requirement_names = [f"requirement_{k}" for k in range(len(self.requirements))]
        self.member_scale = np.ones(n) if self.member_scale is None else np.asarray(self.member_scale, dtype=float)
        if self.states is None:
            self.states = np.array([""] * n)
        self.states = np.asarray(self.states).astype(str)
        pos = {u: k for k, u in enumerate(self.ids)}
        for key, ids in (("include", self.include), ("exclude", self.exclude)):
            unknown = [u for u in ids if u not in pos]
            if unknown:
                raise ConfigError(f'{self.key}.{key}: unknown unit id "{unknown[0]}"{did_you_mean(unknown[0], self.ids[:5000])}; expected ids of units in the study area (5-digit FIPS for counties)')
        if self.site_ok is not None:
            self.site_ok = np.asarray(self.site_ok, dtype=bool)
        if self.clusters > n - len(set(self.exclude)):
            raise ConfigError(f"{self.key}.clusters: {self.clusters} clusters asked but only {n - len(set(self.exclude))} units may host one")
        if len(set(self.include)) > self.most:
            raise ConfigError(f"{self.key}.include: {len(set(self.include))} units included but at most {self.most} facilities")
        self._check_size()

    def _check_size(self) -> None:
        """Refuse, before building anything, a radius that pairs too many units with too many hubs."""
        from scipy.spatial import cKDTree

        from ..geo import km_to_chord

        if self.n < 2 or self.radius_km <= 0 or not self.has_members:
            return
        t = cKDTree(self.xyz)
        pairs = int(t.count_neighbors(t, float(km_to_chord(self.radius_km)))) - self.n
        cap = MAX_DISJOINT_PAIRS if self.disjoint else MAX_MEMBER_PAIRS
        if pairs > cap:
            raise ConfigError(f"selection.cluster_radius_km: {self.radius_km:g} km pairs {pairs:,} units with possible hubs, more than the "
                              f"{cap:,} the model can hold; choose a smaller radius or coarser units"
                              + ("" if self.disjoint else ", or set min_spacing_km above twice the radius (clusters then cannot overlap)"))

    @property
    def member_value(self) -> np.ndarray:
        """What each unit adds to the objective as a member of a cluster (a hub adds its full score)."""
        return self.member_weight * self.member_scale * self.score

    @property
    def n(self) -> int:
        return len(self.ids)

    @cached_property
    def index(self) -> dict[str, int]:
        return {u: k for k, u in enumerate(self.ids)}

    @cached_property
    def xyz(self) -> np.ndarray:
        return to_xyz(self.lat, self.lon)

    @property
    def most(self) -> int:
        """The largest number of hubs (facilities) allowed."""
        return self.clusters if self.clusters_max is None else self.clusters_max

    @property
    def has_members(self) -> bool:
        """Whether units join hubs: always for clusters (complete membership), for facilities only with requirements."""
        return self.complete_members or len(self.requirements) > 0

    @cached_property
    def can_host(self) -> np.ndarray:
        mask = np.ones(self.n, dtype=bool) if self.site_ok is None else self.site_ok.copy()
        mask[[self.index[u] for u in self.exclude]] = False
        return mask

    @property
    def disjoint(self) -> bool:
        """True when the spacing rule alone keeps any two clusters from sharing a unit."""
        return self.spacing_km > 2.0 * self.radius_km + 1e-6

    @cached_property
    def member_pairs(self) -> tuple[np.ndarray, np.ndarray]:
        """(member i, hub j) for every unit i within the radius of a possible hub j, i != j."""
        i, j, _ = pairs_within(self.xyz, self.xyz, self.radius_km)
        keep = (i != j) & self.can_host[j]
        return i[keep], j[keep]

    @cached_property
    def neighbourhoods(self):
        """(units × hubs) sparse: 1 where the unit lies within the radius of the possible hub, the hub itself included."""
        import scipy.sparse as sp

        pi, pj = self.member_pairs
        host = np.flatnonzero(self.can_host)
        rows, cols = np.concatenate([pi, host]), np.concatenate([pj, host])
        return sp.csc_matrix((np.ones(len(rows)), (rows, cols)), shape=(self.n, self.n))

    @cached_property
    def reach(self) -> np.ndarray:
        """(n × r): what a cluster hosted at each unit collects if it takes every unit in its radius."""
        if not len(self.requirements):
            return np.zeros((self.n, 0))
        pi, pj = self.member_pairs
        return self.amounts + np.stack([np.bincount(pj, weights=self.amounts[pi, r], minlength=self.n)
                                        for r in range(len(self.requirements))], axis=1).reshape(self.n, -1)

    @cached_property
    def conflict_count(self) -> int:
        """How many hub pairs are closer than the spacing (counted without listing them)."""
        if self.spacing_km <= 0:
            return 0
        from scipy.spatial import cKDTree

        from ..geo import km_to_chord

        t = cKDTree(self.xyz)
        return int((t.count_neighbors(t, float(km_to_chord(self.spacing_km))) - self.n) // 2)

    @property
    def lazy_spacing(self) -> bool:
        """Too many close pairs to write down: add spacing rows only for hubs that break the rule."""
        return self.conflict_count > (LAZY_SPACING_PAIRS if self.complete_members else LAZY_SPACING_PAIRS_CHAIN)

    @cached_property
    def conflict_pairs(self) -> tuple[np.ndarray, np.ndarray]:
        """Hub pairs (j < k) closer than the minimum spacing."""
        if self.spacing_km <= 0:
            return np.empty(0, np.int64), np.empty(0, np.int64)
        j, k, d = pairs_within(self.xyz, self.xyz, self.spacing_km)
        keep = (j < k) & (d < self.spacing_km - 1e-9) & self.can_host[j] & self.can_host[k]
        return j[keep], k[keep]
