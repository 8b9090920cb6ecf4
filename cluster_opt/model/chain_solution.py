"""A chain's solution read back from the MILP's values: its facilities, what each draws on, who supplies whom, the clusters."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..geo import haversine_km
from .chain import SitingProblem, SupplyLink
from .chain_model import ChainVars


@dataclass
class Facilities:
    """Every facility of a solution, new and existing, in a stable order: type (config order), new before existing,
    new by site score (best first) then unit id. ``unit`` is the site's row among the units, -1 for an existing one."""

    type: np.ndarray
    status: np.ndarray  # "new" or "existing"
    unit: np.ndarray
    ident: np.ndarray  # the unit id of a new facility, the feature id of an existing one
    name: np.ndarray
    lat: np.ndarray
    lon: np.ndarray
    score: np.ndarray  # the site score (NaN for an existing facility)
    cluster: np.ndarray  # 0-based co-location cluster, -1 if none

    def __len__(self) -> int:
        return len(self.type)

    @property
    def new(self) -> np.ndarray:
        return self.status == "new"

    def within(self, lat: float, lon: float, km: float) -> np.ndarray:
        """Which facilities lie within km of a point (a cluster holds every facility within its radius)."""
        return haversine_km(self.lat, self.lon, float(lat), float(lon)) <= km + 1e-6


@dataclass
class Supplies:
    """One row per supplied facility and link: link index, supplier and supplied facility (indices into Facilities), km."""

    link: np.ndarray
    source: np.ndarray
    to: np.ndarray
    km: np.ndarray

    def __len__(self) -> int:
        return len(self.link)


def read_chain(sp: SitingProblem, cv: ChainVars, values: np.ndarray, served: np.ndarray,
               unit_names: np.ndarray | None = None) -> tuple[Facilities, np.ndarray, Supplies, np.ndarray]:
    """(facilities, member_of per unit (a facility index or -1), supplies, open cluster centres as unit rows).

    ``served``: per unit, the new facility (an index in type order, then unit order) whose requirements it serves, or -1."""
    names = sp.first.ids if unit_names is None else np.asarray(unit_names).astype(str)
    rows: list[tuple] = []
    for t, pb in sp.types.items():
        sites = np.flatnonzero(values[cv.types[t].y] > 0.5)
        sites = sites[np.lexsort((pb.ids[sites], -np.round(pb.score[sites], 12)))]
        rows += [(t, "new", int(j), pb.ids[j], names[j], pb.lat[j], pb.lon[j], float(pb.score[j])) for j in sites]
        ex = sp.existing.get(t)
        if ex is not None:
            rows += [(t, "existing", -1, ex.ids[k], ex.names[k], ex.lat[k], ex.lon[k], np.nan) for k in range(ex.n)]
    for t, ex in sp.existing.items():
        if t not in sp.types:
            rows += [(t, "existing", -1, ex.ids[k], ex.names[k], ex.lat[k], ex.lon[k], np.nan) for k in range(ex.n)]
    cols = list(zip(*rows)) if rows else [()] * 8
    fac = Facilities(np.array(cols[0], dtype=object).astype(str), np.array(cols[1], dtype=object).astype(str), np.array(cols[2], dtype=int),
                     np.array(cols[3], dtype=object).astype(str), np.array(cols[4], dtype=object).astype(str), np.array(cols[5], dtype=float),
                     np.array(cols[6], dtype=float), np.array(cols[7], dtype=float), np.full(len(rows), -1))
    chosen = [(t, int(j)) for t in sp.types for j in np.flatnonzero(values[cv.types[t].y] > 0.5)]
    index = np.array([_index_of(fac, t, j) for t, j in chosen] + [-1], dtype=int)
    member_of = index[served]  # -1 stays -1 (the appended last entry)
    supplies = _supplies(sp, fac)
    centres = np.flatnonzero(values[cv.centres] > 0.5) if len(cv.centres) else np.empty(0, np.int64)
    if sp.clusters is not None and len(centres):
        centres = recentre(sp, fac, centres)
        d = haversine_km(fac.lat[:, None], fac.lon[:, None], sp.first.lat[centres][None, :], sp.first.lon[centres][None, :])
        near = d.argmin(axis=1) if len(fac) else np.empty(0, int)
        fac.cluster = np.where(d[np.arange(len(fac)), near] <= sp.clusters.radius_km + 1e-6, near, -1) if len(fac) else fac.cluster
    return fac, member_of, supplies, centres


def recentre(sp: SitingProblem, fac: Facilities, centres: np.ndarray) -> np.ndarray:
    """The same clusters with a stable centre each: many units serve equally, so each cluster takes the unit that
    keeps its facilities (and the listed types) within the radius and is nearest the farthest of them; ties by id."""
    rule, p = sp.clusters, sp.first
    d_units = haversine_km(p.lat[:, None], p.lon[:, None], fac.lat[None, :], fac.lon[None, :])  # units × facilities
    inside = haversine_km(fac.lat[:, None], fac.lon[:, None], p.lat[centres][None, :], p.lon[centres][None, :]) <= rule.radius_km + 1e-6
    cluster = np.where(inside.any(axis=1), inside.argmax(axis=1), -1)
    must = np.isin(fac.type, rule.types) & fac.new
    out = []
    for c, m in enumerate(centres):
        mine = np.flatnonzero((cluster == c) & must)
        ok = (d_units[:, mine] <= rule.radius_km).all(axis=1) if len(mine) else np.ones(sp.n, bool)
        for t in rule.must_contain:
            ok &= (d_units[:, fac.type == t] <= rule.radius_km).any(axis=1)
        ok[m] = True  # the solver's own centre is always allowed
        spread = d_units[:, mine].max(axis=1) if len(mine) else np.zeros(sp.n)
        cand = np.flatnonzero(ok)
        out.append(int(cand[np.lexsort((p.ids[cand], np.round(spread[cand], 6)))][0]))
    return np.array(sorted(set(out), key=lambda k: p.ids[k]) if len(set(out)) == len(out) else sorted(centres, key=lambda k: p.ids[k]), dtype=int)


def _index_of(fac: Facilities, t: str, unit: int) -> int:
    hit = np.flatnonzero((fac.type == t) & (fac.unit == unit))
    return int(hit[0])


def _supplies(sp: SitingProblem, fac: Facilities) -> Supplies:
    """Who supplies each new downstream facility: for each link, the cheapest assignment of open suppliers within
    reach that respects the capacity (nearest when there is no capacity), found exactly by a small transport LP."""
    out: list[tuple[int, int, int, float]] = []
    for li, link in enumerate(sp.links):
        to = np.flatnonzero((fac.type == link.to) & fac.new)
        src = np.flatnonzero(fac.type == link.source)
        if not len(to):
            continue
        d = haversine_km(fac.lat[src][:, None], fac.lon[src][:, None], fac.lat[to][None, :], fac.lon[to][None, :])
        pick = _assign(d, link)
        out += [(li, int(src[s]), int(to[k]), float(d[s, k])) for k, s in enumerate(pick) if s >= 0]
    cols = list(zip(*out)) if out else [(), (), (), ()]
    return Supplies(np.array(cols[0], dtype=int), np.array(cols[1], dtype=int), np.array(cols[2], dtype=int), np.array(cols[3], dtype=float))


def _assign(d: np.ndarray, link: SupplyLink) -> np.ndarray:
    """For each downstream facility (column of d), the supplier row: minimum total km within max_km, at most
    ``capacity`` per supplier; -1 where none is in reach. Ties go to the lower row."""
    reach = d <= link.max_km + 1e-6
    if link.capacity is None:
        masked = np.where(reach, d, np.inf)
        pick = masked.argmin(axis=0) if len(d) else np.full(d.shape[1], -1)
        return np.where(np.isfinite(masked.min(axis=0)) if len(d) else False, pick, -1)
    from scipy.optimize import linprog

    s, t = np.nonzero(reach)
    n_src, n_to = d.shape
    if not len(s):
        return np.full(n_to, -1)
    eq = np.zeros((n_to, len(s)))
    eq[t, np.arange(len(s))] = 1.0
    ub = np.zeros((n_src, len(s)))
    ub[s, np.arange(len(s))] = 1.0
    res = linprog(d[s, t] + 1e-9 * s, A_ub=ub, b_ub=np.full(n_src, float(link.capacity)), A_eq=eq, b_eq=np.ones(n_to),
                  bounds=(0, 1), method="highs")
    pick = np.full(n_to, -1)
    if res.status == 0:
        chosen = np.flatnonzero(res.x > 0.5)
        pick[t[chosen]] = s[chosen]
    return pick
