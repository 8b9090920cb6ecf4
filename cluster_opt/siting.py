"""A chain's facility types over the units: site rules as masks, existing facilities from layers, and the siting problem.

Site rules are measured once per scenario (they do not depend on weights):
``near`` sums a layer's value (or counts its features) within a distance of each unit's
centroid; ``avoid`` rules out units within a distance of any feature (measured to the
feature's shape for lines and polygons, and, at distance 0, any unit the shape touches);
``avoid_share`` rules out units whose area a polygon layer covers beyond a share.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd

from .config import Config, Criterion
from .errors import DataError
from .features import amounts_inside, measure, near_shapes, share_covered
from .layers import LayerData, where_mask
from .model.chain import ClusterRule, ExistingFacilities, SitingProblem, SupplyLink
from .model.problem import SelectionProblem
from .scoring import checked_weights


@dataclass
class ChainData:
    """What a chain's site rules and existing facilities come to over the units (weights do not change it)."""

    site_ok: dict[str, np.ndarray] = field(default_factory=dict)
    site_checks: dict[str, list[dict]] = field(default_factory=dict)
    existing: dict[str, ExistingFacilities] = field(default_factory=dict)
    ruled_out: dict[str, dict[str, int]] = field(default_factory=dict)  # type -> rule -> units it rules out
    notes: list[str] = field(default_factory=list)


def _within(units: gpd.GeoDataFrame, layer: LayerData, km: float, count: bool) -> np.ndarray:
    """Per unit: the sum of the layer's value (or its features' count) within km of the centroid; inside the unit at 0 km."""
    if km <= 0:
        if count:
            return amounts_inside(units, LayerData(layer.key, layer.spec, layer.points, layer.path, layer.digest))
        return amounts_inside(units, layer)
    crit = Criterion.model_validate({"layer": layer.key, "measure": "count_within" if count else "sum_within", "radius_km": km})
    return measure(units, layer, crit)


def chain_data(cfg: Config, units: gpd.GeoDataFrame, layers: dict[str, LayerData]) -> ChainData:
    """Each facility type's site mask (with the raw data the independent check re-measures) and its existing facilities."""
    out = ChainData()
    for t, f in cfg.facilities.items():
        ok = np.ones(len(units), bool)
        checks: list[dict] = []
        counts: dict[str, int] = {}
        for k, rule in enumerate(f.site.near):
            layer = layers[rule.layer]
            count = layer.amounts is None
            got = _within(units, layer, rule.within_km, count)
            hit = got >= rule.at_least * (1 - 1e-9)
            what = f"at least {rule.at_least:g} {'features' if count else layer.spec.value} of {rule.layer} within {rule.within_km:g} km"
            counts[f"near[{k}]: {what}"] = int((ok & ~hit).sum())
            ok &= hit
            if rule.within_km > 0:
                checks.append({"kind": "near", "lat": layer.points.geometry.y.to_numpy(), "lon": layer.points.geometry.x.to_numpy(),
                               "values": layer.values, "within_km": rule.within_km, "at_least": rule.at_least * (1 - 1e-9), "label": what})
        for k, rule in enumerate(f.site.avoid):
            layer = layers[rule.layer]
            if layer.shapes is not None:
                hit = near_shapes(units, layer.shapes, rule.within_km)
            else:
                hit = _within(units, layer, rule.within_km, True) > 0
                if rule.within_km > 0:
                    checks.append({"kind": "avoid", "lat": layer.points.geometry.y.to_numpy(), "lon": layer.points.geometry.x.to_numpy(),
                                   "values": np.ones(len(layer.points)), "within_km": rule.within_km, "at_least": 0.0,
                                   "label": f"nothing of {rule.layer} within {rule.within_km:g} km"})
            counts[f"avoid[{k}]: {rule.layer} within {rule.within_km:g} km"] = int((ok & hit).sum())
            ok &= ~hit
        for k, rule in enumerate(f.site.avoid_share):
            layer = layers[rule.layer]
            if layer.shapes is None:
                raise DataError(f"{layer.path}: facilities.{t}.site.avoid_share[{k}]: layer {rule.layer} has points, not polygons; a share of area needs polygons")
            over = share_covered(units, layer.shapes) > rule.above + 1e-12
            counts[f"avoid_share[{k}]: {rule.layer} above {rule.above:.0%}"] = int((ok & over).sum())
            ok &= ~over
        out.site_ok[t], out.site_checks[t], out.ruled_out[t] = ok, checks, counts
        if f.existing is not None:
            ex = existing_facilities(t, f.existing, layers[f.existing.layer], units)
            out.existing[t] = _in_reach(cfg, t, ex, units, out.notes)
    return out


def _in_reach(cfg: Config, t: str, ex: ExistingFacilities, units: gpd.GeoDataFrame, notes: list[str]) -> ExistingFacilities:
    """The existing facilities that can matter: within reach of some unit by a link they supply or a cluster they fill
    (inside or near the study area when no rule reaches out). The others are left out, and the planner told."""
    from scipy.spatial import cKDTree

    from .geo import chord_to_km, to_xyz

    reach = [link.max_km for link in cfg.links if link.source == t]
    if cfg.clusters is not None and t in cfg.clusters.must_contain:
        reach.append(cfg.clusters.radius_km)
    km = max(reach) if reach else 100.0
    d, _ = cKDTree(to_xyz(units["lat"].to_numpy(), units["lon"].to_numpy())).query(ex.xyz, k=1)
    keep = np.asarray(chord_to_km(d)) <= km
    if keep.all():
        return ex
    if not keep.any():  # keep the nearest, so that the link or cluster it cannot serve is named with the distance that would work
        keep[int(np.argmin(d))] = True
    notes.append(f"facilities.{t}.existing: {int((~keep).sum())} of {ex.n} existing {t} facilities lie farther than {km:g} km from every unit "
                 f"(beyond the reach of the links they supply and the clusters they fill) and were left out")
    return ExistingFacilities(ex.ids[keep], ex.names[keep], ex.lat[keep], ex.lon[keep], None if ex.states is None else ex.states[keep])


def existing_facilities(t: str, spec, layer: LayerData, units: gpd.GeoDataFrame) -> ExistingFacilities:
    """The features of a layer that are facilities of type t, after the existing: where."""
    keep, kept = where_mask(layer.points, spec.where, f"facilities.{t}.existing.where", layer.path)
    if not keep.any():
        raise DataError(f"{layer.path}: facilities.{t}.existing: no feature of layer {spec.layer} is left after where "
                        f"({'; '.join(f'{c} keeps {n:,}' for c, n in kept.items())}); expected at least one existing {t}")
    pts = layer.points[keep]
    rows = np.flatnonzero(keep)
    states = pts["state"].astype(str).str.upper().to_numpy() if "state" in pts.columns else None
    return ExistingFacilities([f"{spec.layer}:{r + 1}" for r in rows], pts["feature"].astype(str).to_numpy(),
                              pts.geometry.y.to_numpy(), pts.geometry.x.to_numpy(), states)


def type_weights(cfg: Config, t: str, scenario: dict[str, float]) -> dict[str, float]:
    """A facility type's weights over the scenario's criteria (criteria it does not name weigh 0), or the scenario's."""
    own = cfg.facilities[t].criteria
    if own is None:
        return dict(scenario)
    return checked_weights({k: float(own.get(k, 0.0)) for k in cfg.criteria}, list(cfg.criteria))


def siting_problem(cfg: Config, units: gpd.GeoDataFrame, amounts: pd.DataFrame, data: ChainData,
                   type_scores: dict[str, np.ndarray]) -> SitingProblem:
    """The chain as a SitingProblem: one SelectionProblem per facility type over the same units."""
    types = {}
    for t, f in cfg.facilities.items():
        lo, hi = f.count_range
        names = list(f.requires)
        types[t] = SelectionProblem(
            ids=units["id"].to_numpy(), lat=units["lat"].to_numpy(), lon=units["lon"].to_numpy(), score=type_scores[t],
            clusters=lo, clusters_max=hi, radius_km=f.radius_km, spacing_km=f.site.min_spacing_km,
            states=units["state"].astype(str).to_numpy(), max_per_state=f.site.max_per_state,
            amounts=amounts[names].to_numpy() if names else None, requirement_names=names,
            requirements=np.array([f.requires[k] for k in names]) if names else None,
            include=list(f.site.include), exclude=list(f.site.exclude), member_weight=0.0, site_ok=data.site_ok[t],
            complete_members=False, key=f"facilities.{t}.site", site_checks=data.site_checks[t])
    links = [SupplyLink(link.source, link.to, link.max_km, link.cost_per_km, link.capacity) for link in cfg.links]
    rule = None
    if cfg.clusters is not None:
        c = cfg.clusters
        rule = ClusterRule(c.count, c.radius_km, list(c.must_contain), list(c.types) if c.types is not None else [t for t in types if types[t].most > 0])
    return SitingProblem(types, data.existing, links, rule)
