"""Exhaustive reference for supply-chain siting on tiny instances (tests only): every site set of every type,
every way units serve facilities, every supplier assignment and every set of cluster centres."""

from __future__ import annotations

import itertools

import numpy as np

from cluster_opt.geo import haversine_km
from cluster_opt.model.chain import SitingProblem


def _site_sets(pb, d):
    """Every set of sites a type may take on its own: count, site rules, include, spacing, state limit."""
    hosts = [j for j in range(pb.n) if pb.can_host[j]]
    inc = {pb.index[u] for u in pb.include}
    for k in range(pb.clusters, pb.most + 1):
        for sites in itertools.combinations(hosts, k):
            if not inc <= set(sites):
                continue
            if any(d[a, b] < pb.spacing_km for a, b in itertools.combinations(sites, 2)):
                continue
            if pb.max_per_state is not None and sites:
                _, counts = np.unique(pb.states[list(sites)], return_counts=True)
                if counts.max() > pb.max_per_state:
                    continue
            yield sites


def _requirements_met(sp, choice, d) -> bool:
    """Whether units can serve facilities (each unit one facility, a facility its own unit first) to meet every requirement."""
    facilities = [(t, j) for t, sites in choice.items() for j in sites if sp.types[t].has_members]
    own = [j for _, j in facilities]
    if len(set(own)) != len(own):
        return False
    free = [i for i in range(sp.n) if i not in set(own)]
    need = []
    for t, j in facilities:
        pb = sp.types[t]
        need.append(np.maximum(pb.requirements - pb.amounts[j] - 1e-9 * np.maximum(pb.requirements, 1.0), 0.0))

    def search(k: int, left: list[int]) -> bool:
        if k == len(facilities):
            return True
        t, j = facilities[k]
        pb = sp.types[t]
        reach = [i for i in left if d[i, j] <= pb.radius_km]
        for r in range(len(reach) + 1):
            for take in itertools.combinations(reach, r):
                got = pb.amounts[list(take)].sum(axis=0) if take else np.zeros(len(pb.requirements))
                if (got >= need[k]).all() and search(k + 1, [i for i in left if i not in take]):
                    return True
        return False

    return search(0, free)


def _link_cost(sp, choice, link) -> float | None:
    """The cheapest supplier assignment of one link (None when none meets max_km and capacity)."""
    down = sp.types.get(link.to)
    if down is None or not choice.get(link.to):
        return 0.0
    p = sp.first
    supp = [(p.lat[j], p.lon[j]) for j in choice.get(link.source, ())]
    ex = sp.existing.get(link.source)
    if ex is not None:
        supp += list(zip(ex.lat, ex.lon))
    targets = choice[link.to]
    options = []
    for j in targets:
        ks = [k for k, (la, lo) in enumerate(supp) if haversine_km(la, lo, p.lat[j], p.lon[j]) <= link.max_km]
        if not ks:
            return None
        options.append(ks)
    best = None
    for pick in itertools.product(*options):
        if link.capacity is not None and max(np.bincount(pick)) > link.capacity:
            continue
        cost = sum(link.cost_per_km * float(haversine_km(supp[k][0], supp[k][1], p.lat[j], p.lon[j])) for k, j in zip(pick, targets))
        best = cost if best is None else min(best, cost)
    return best


def _clusters_ok(sp, choice, d) -> bool:
    rule = sp.clusters
    if rule is None:
        return True
    p = sp.first
    for centres in itertools.combinations(range(sp.n), rule.count):
        if any(not any(d[j, c] <= rule.radius_km for c in centres) for t in rule.types for j in choice.get(t, ())):
            continue
        ok = True
        for c in centres:
            for t in rule.must_contain:
                near_new = any(d[j, c] <= rule.radius_km for j in choice.get(t, ()))
                ex = sp.existing.get(t)
                near_ex = ex is not None and bool((haversine_km(ex.lat, ex.lon, p.lat[c], p.lon[c]) <= rule.radius_km).any())
                if not (near_new or near_ex):
                    ok = False
        if ok:
            return True
    return False


def brute_force_chain(sp: SitingProblem) -> float | None:
    """The best objective (site scores less link costs) over every feasible siting; None if there is none."""
    p = sp.first
    d = haversine_km(p.lat[:, None], p.lon[:, None], p.lat[None, :], p.lon[None, :])
    names = list(sp.types)
    best = None
    for combo in itertools.product(*[list(_site_sets(sp.types[t], d)) for t in names]):
        choice = dict(zip(names, combo))
        if not _clusters_ok(sp, choice, d):
            continue
        costs = [_link_cost(sp, choice, link) for link in sp.links]
        if any(c is None for c in costs):
            continue
        if not _requirements_met(sp, choice, d):
            continue
        obj = sum(float(sp.types[t].score[list(sites)].sum()) for t, sites in choice.items()) - sum(costs)
        best = obj if best is None else max(best, obj)
    return best
