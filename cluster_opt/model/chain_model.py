"""A chain's MILP, one component per rule, sized so that a chain over a thousand units solves in seconds.

Each facility type brings its site variables y_t and its own rules (count, spacing,
spacing cliques, state limit) through ``components.py``. The rules that join types:

- ``shared_units``: a facility with requirements draws on its own unit first, so two such
  facilities never share a unit. Whether the chosen facilities can all meet their
  requirements together (a unit's amounts serve one facility at most) is checked on the
  chosen facilities after each solve, and a set that cannot is cut off (``chain_solve``);
  sites whose whole reach falls short are ruled out up front.
- ``supply_links``: every new downstream facility has a supplier within ``max_km``. Without
  a cost or capacity this is a covering row. With one, each site gets assignment columns to
  its ``nearest`` suppliers and one "farther" column costed at the next distance (a lower
  bound of any farther supplier); the solve enlarges ``nearest`` wherever the optimum takes
  a farther column, so the final answer is exact (the same certificate as the p-median's).
- ``colocation``: ``count`` centres; each new facility lies within ``radius_km`` of an open
  centre (one covering sum per unit, shared by the types), each centre holds the listed types.
- ``conflicts``: sets of facilities found unable to meet their requirements together.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..errors import ConfigError
from ..geo import pairs_within
from .chain import SitingProblem
from .components import FACILITY_COMPONENTS, Vars, build_model, facility_variables
from .linear import INF, LinearModel
from .problem import requirement_floor

NEAREST = 8  # suppliers written per site of a costed link at first


@dataclass
class ChainPlan:
    """How much of the model is written now: per costed link, how many nearest suppliers each unit's site gets;
    and the sets of (type, unit) facilities found unable to meet their requirements together."""

    nearest: list[np.ndarray | None]
    conflicts: list[list[tuple[str, int]]] = field(default_factory=list)
    shortfalls: list[tuple[int, np.ndarray]] = field(default_factory=list)  # (link, downstream sites) found short of capacity
    floor: float | None = None  # near-optimal alternatives: the objective kept at least this high

    @classmethod
    def start(cls, sp: SitingProblem) -> "ChainPlan":
        return cls([np.full(sp.n, NEAREST) if link.cost_per_km > 0 else None for link in sp.links])  # NEAREST read now: tests lower it


@dataclass
class LinkVars:
    """A costed link's columns: pair p joins supplier ``up[p]`` (a unit, or existing facility -1-k) to site ``down[p]``;
    ``far[s]`` is the farther option of site ``far_site[s]``, costed at ``far_km[s]``."""

    w: np.ndarray
    up: np.ndarray
    down: np.ndarray
    km: np.ndarray
    far: np.ndarray
    far_site: np.ndarray
    far_km: np.ndarray


@dataclass
class ChainVars:
    types: dict[str, Vars]
    links: list[LinkVars | None]  # None: a covering link (no assignment columns)
    centres: np.ndarray  # column of each unit's cluster-centre variable (empty without clusters)


def shared_units(sp: SitingProblem, m: LinearModel, cv: ChainVars, plan: ChainPlan) -> None:
    """Σ over types with requirements of y_t[j] ≤ 1; and no site whose whole reach falls short of a requirement."""
    ys = []
    for t, pb in sp.types.items():
        if len(pb.requirements):
            short = (pb.reach < requirement_floor(pb.requirements)[None, :]).any(axis=1)
            m.ub[cv.types[t].y[short]] = 0.0
            ys.append(cv.types[t].y)
    if len(ys) > 1:
        cols = np.concatenate(ys)
        m.add_rows("shared_unit", np.tile(np.arange(sp.n), len(ys)), cols, np.ones(len(cols)), -INF, 1.0, sp.n)


def _candidates(sp: SitingProblem, link, sites: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every (supplier, site, km) within max_km: suppliers are units that may host the upstream type (k ≥ 0)
    and existing facilities (-1-e)."""
    up = sp.types.get(link.source)
    up_sites = np.flatnonzero(up.can_host) if up is not None and up.most > 0 else np.empty(0, np.int64)
    a, b, d = pairs_within(sp.xyz[up_sites], sp.xyz[sites], link.max_km)
    k, j = up_sites[a], sites[b]
    ex = sp.existing.get(link.source)
    if ex is not None and ex.n:
        e, b2, d2 = pairs_within(ex.xyz, sp.xyz[sites], link.max_km)
        k, j, d = np.concatenate([k, -1 - e]), np.concatenate([j, sites[b2]]), np.concatenate([d, d2])
    return k, j, d


def supply_links(sp: SitingProblem, m: LinearModel, cv: ChainVars, plan: ChainPlan) -> None:
    """Each new downstream facility has a supplier within max_km: covering rows, or nearest-supplier columns with cost and capacity."""
    for li, link in enumerate(sp.links):
        down = sp.types.get(link.to)
        if down is None or down.most == 0:
            cv.links.append(None)
            continue
        yd = cv.types[link.to].y
        k, j, d = _candidates(sp, link, np.flatnonzero(down.can_host))
        served = np.zeros(sp.n, bool)
        served[j] = True
        m.ub[yd[down.can_host & ~served]] = 0.0  # no supplier can ever reach these sites
        if link.cost_per_km == 0:  # covering rows; a capacity is kept by shortfall rows added as needed
            _covering(sp, m, cv, link, k, j)
            cv.links.append(None)
            continue
        order = np.lexsort((k, d, j))  # by site, then distance (ties by supplier)
        k, j, d = k[order], j[order], d[order]
        first = np.searchsorted(j, j)  # the first pair of each site
        rank = np.arange(len(j)) - first
        kept = rank < plan.nearest[li][j]
        w = m.add_vars(f"supply_{link.source}_{link.to}", int(kept.sum()), obj=-link.cost_per_km * d[kept], binary=False)
        # The farther option: the first pair past the kept ones stands for every farther supplier.
        nxt = rank == plan.nearest[li][j]
        far_site, far_km = j[nxt], d[nxt]
        far = m.add_vars(f"supply_farther_{link.source}_{link.to}", len(far_site), obj=-link.cost_per_km * far_km, binary=False)
        lv = LinkVars(w, k[kept], j[kept], d[kept], far, far_site, far_km)
        cv.links.append(lv)
        need = np.flatnonzero(served)
        row_of = np.full(sp.n, -1)
        row_of[need] = np.arange(len(need))
        m.add_rows(f"supplied_{link.to}", np.concatenate([row_of[lv.down], row_of[far_site], np.arange(len(need))]),
                   np.concatenate([w, far, yd[need]]), np.concatenate([np.ones(len(w) + len(far)), -np.ones(len(need))]), 0.0, 0.0, len(need))
        yu = cv.types[link.source].y if link.source in cv.types else None
        new = np.flatnonzero(lv.up >= 0)
        if len(new):  # a new supplier must be open: w ≤ y_u
            m.add_rows(f"supplier_open_{link.source}", np.concatenate([np.arange(len(new))] * 2), np.concatenate([w[new], yu[lv.up[new]]]),
                       np.concatenate([np.ones(len(new)), -np.ones(len(new))]), -INF, 0.0, len(new))
        _farther_open(sp, m, link, k[~kept], j[~kept], far, far_site, yu)
        if link.capacity is not None:
            _capacity(m, link, w, lv.up, yu)


def _covering(sp: SitingProblem, m: LinearModel, cv: ChainVars, link, k: np.ndarray, j: np.ndarray) -> None:
    """y_d[j] ≤ Σ y_u[k] over new suppliers within reach (sites that an existing supplier reaches need no row)."""
    near_existing = np.zeros(sp.n, bool)
    near_existing[j[k < 0]] = True
    need = np.zeros(sp.n, bool)
    need[j] = True
    need &= ~near_existing
    rows = np.flatnonzero(need)
    row_of = np.full(sp.n, -1)
    row_of[rows] = np.arange(len(rows))
    keep = (k >= 0) & need[j]
    r = np.concatenate([row_of[rows], row_of[j[keep]]])
    c = np.concatenate([cv.types[link.to].y[rows], cv.types[link.source].y[k[keep]]])
    vals = np.concatenate([np.ones(len(rows)), -np.ones(int(keep.sum()))])
    m.add_rows(f"link_{link.source}_{link.to}", r, c, vals, -INF, 0.0, len(rows))


def _farther_open(sp: SitingProblem, m: LinearModel, link, k: np.ndarray, j: np.ndarray, far: np.ndarray, far_site: np.ndarray, yu) -> None:
    """far[s] ≤ Σ y_u over the new suppliers past the kept ones (no row where a farther existing supplier is always there)."""
    always = np.zeros(sp.n, bool)
    always[j[k < 0]] = True
    rows = np.flatnonzero(~always[far_site])
    row_of = np.full(sp.n, -1)
    row_of[far_site[rows]] = np.arange(len(rows))
    keep = (k >= 0) & (row_of[j] >= 0)
    r = np.concatenate([np.arange(len(rows)), row_of[j[keep]]])
    c = np.concatenate([far[rows], yu[k[keep]]]) if yu is not None else far[rows]
    vals = np.concatenate([np.ones(len(rows)), -np.ones(int(keep.sum()))])
    m.add_rows(f"farther_open_{link.source}", r, c, vals, -INF, 0.0, len(rows))


def _capacity(m: LinearModel, link, w: np.ndarray, up: np.ndarray, yu) -> None:
    """Σ_j w[k, j] ≤ capacity · y_u[k] for a new supplier, ≤ capacity for an existing one."""
    keys, row = np.unique(up, return_inverse=True)
    new_keys = np.flatnonzero(keys >= 0)
    r = np.concatenate([row, new_keys])
    c = np.concatenate([w, yu[keys[new_keys]]]) if len(new_keys) else w
    vals = np.concatenate([np.ones(len(w)), -float(link.capacity) * np.ones(len(new_keys))])
    hi = np.where(keys >= 0, 0.0, float(link.capacity))
    m.add_rows(f"capacity_{link.source}", r, c, vals, -INF, hi, len(keys))


def colocation(sp: SitingProblem, m: LinearModel, cv: ChainVars, plan: ChainPlan) -> None:
    """count centres; each new facility (of the rule's types) within radius of an open centre; each centre holds every must_contain type."""
    rule = sp.clusters
    if rule is None:
        return
    c = m.add_vars("cluster_centre", sp.n)
    cv.centres = c
    m.add_rows("cluster_count", np.zeros(sp.n, int), c, np.ones(sp.n), rule.count, rule.count, 1)
    cm, ci, _ = pairs_within(sp.xyz, sp.xyz, rule.radius_km)  # (centre, unit) pairs, both ways
    for t in rule.must_contain:
        pb, ex = sp.types.get(t), sp.existing.get(t)
        has_existing = np.zeros(sp.n, bool)
        if ex is not None and ex.n:
            _, centre, _ = pairs_within(ex.xyz, sp.xyz, rule.radius_km)
            has_existing[centre] = True
        need = ~has_existing
        if pb is None or pb.most == 0:
            m.ub[c[need]] = 0.0  # no facility of that type can ever be near these centres
            continue
        keep = need[cm] & pb.can_host[ci]
        reachable = np.zeros(sp.n, bool)
        reachable[cm[keep]] = True
        m.ub[c[need & ~reachable]] = 0.0
        rows = np.flatnonzero(need & reachable)
        row_of = np.full(sp.n, -1)
        row_of[rows] = np.arange(len(rows))
        y = cv.types[t].y
        m.add_rows(f"cluster_holds_{t}", np.concatenate([row_of[cm[keep]], np.arange(len(rows))]), np.concatenate([y[ci[keep]], c[rows]]),
                   np.concatenate([np.ones(int(keep.sum())), -np.ones(len(rows))]), 0.0, INF, len(rows))
    types = [t for t in rule.types if t in sp.types and sp.types[t].most > 0]
    if not types:
        return
    # covered[j] = Σ c[m] over centres within the radius of unit j, written once and shared by every type.
    sites = np.zeros(sp.n, bool)
    for t in types:
        sites |= sp.types[t].can_host
    units = np.flatnonzero(sites)
    covered = m.add_vars("cluster_cover", len(units), lb=0.0, ub=float(rule.count), binary=False)
    col_of = np.full(sp.n, -1)
    col_of[units] = covered
    keep = sites[ci]
    row_of = np.full(sp.n, -1)
    row_of[units] = np.arange(len(units))
    m.add_rows("cluster_cover", np.concatenate([np.arange(len(units)), row_of[ci[keep]]]), np.concatenate([covered, c[cm[keep]]]),
               np.concatenate([np.ones(len(units)), -np.ones(int(keep.sum()))]), 0.0, 0.0, len(units))
    for t in types:
        pb = sp.types[t]
        s = np.flatnonzero(pb.can_host)
        m.add_rows(f"in_cluster_{t}", np.concatenate([np.arange(len(s))] * 2), np.concatenate([cv.types[t].y[s], col_of[s]]),
                   np.concatenate([np.ones(len(s)), -np.ones(len(s))]), -INF, 0.0, len(s))


def conflicts(sp: SitingProblem, m: LinearModel, cv: ChainVars, plan: ChainPlan) -> None:
    """Σ y over each set of facilities found unable to meet their requirements together ≤ its size − 1;
    and the capacity rows of every set of downstream sites found short of suppliers."""
    for group in plan.conflicts:
        add_conflict(m, cv, group)
    for li, sites in plan.shortfalls:
        add_shortfall(sp, m, cv, li, sites)


def add_shortfall(sp: SitingProblem, m: LinearModel, cv: ChainVars, li: int, sites: np.ndarray) -> None:
    """Σ_{j ∈ S} y_d[j] ≤ capacity × (open suppliers within reach of S): valid for every siting, since each
    facility in S takes a supplier within reach and a supplier serves at most ``capacity`` of them."""
    link = sp.links[li]
    k, _, _ = _candidates(sp, link, np.asarray(sites, dtype=int))
    new = np.unique(k[k >= 0])
    existing = len(np.unique(k[k < 0]))
    cols = np.concatenate([cv.types[link.to].y[sites], cv.types[link.source].y[new]]) if len(new) else cv.types[link.to].y[sites]
    vals = np.concatenate([np.ones(len(sites)), -float(link.capacity) * np.ones(len(new))])
    m.add_rows(f"capacity_{link.source}", np.zeros(len(cols), int), cols, vals, -INF, float(link.capacity * existing), 1)


def add_conflict(m: LinearModel, cv: ChainVars, group: list[tuple[str, int]]) -> None:
    cols = np.array([cv.types[t].y[j] for t, j in group])
    m.add_rows("requirement_conflict", np.zeros(len(cols), int), cols, np.ones(len(cols)), -INF, float(len(cols) - 1), 1)


def objective_floor(sp: SitingProblem, m: LinearModel, cv: ChainVars, plan: ChainPlan) -> None:
    """Σ obj · x ≥ floor (site scores less link costs), where near-optimal alternatives are sought."""
    if plan.floor is None:
        return
    cols = np.flatnonzero(m.obj)
    m.add_rows("near_optimal", np.zeros(len(cols), int), cols, m.obj[cols], float(plan.floor), INF, 1)


CHAIN_COMPONENTS = [shared_units, supply_links, colocation, conflicts, objective_floor]


def build_siting_model(sp: SitingProblem, plan: ChainPlan | None = None) -> tuple[LinearModel, ChainVars]:
    """The MILP of a siting problem: the one-type form as before, or every type's components plus the chain's."""
    if sp.single:
        from .overlap import hub_model, hubs_first

        model, v = hub_model(sp.first) if hubs_first(sp.first) else build_model(sp.first)
        return model, ChainVars({next(iter(sp.types)): v}, [], np.empty(0, np.int64))
    plan = plan or ChainPlan.start(sp)
    m = LinearModel()
    cv = ChainVars({}, [], np.empty(0, np.int64))
    for t, pb in sp.types.items():
        if pb.complete_members:
            raise ConfigError(f"facilities.{t}: a chain's facilities draw on units as needed (complete membership is for selection)")
        cv.types[t] = v = facility_variables(pb, m, t)
        for comp in FACILITY_COMPONENTS:
            comp(pb, m, v)
    for comp in CHAIN_COMPONENTS:
        comp(sp, m, cv, plan)
    return m, cv
