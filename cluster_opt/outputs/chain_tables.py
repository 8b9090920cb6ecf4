"""A chain's tables: every facility (new and existing), every supply link, the co-location clusters, every unit's role."""

from __future__ import annotations

from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from ..pipeline import RunResult


def _containing_units(res: RunResult) -> tuple[np.ndarray, np.ndarray]:
    """(unit id, state) of the unit holding each facility ("" for an existing one outside every unit; its state
    then comes from the layer's state column where it has one)."""
    fac, u = res.solution.facilities, res.prepared.units
    ids = np.where(fac.unit >= 0, u["id"].to_numpy()[np.maximum(fac.unit, 0)], "").astype(object)
    states = np.where(fac.unit >= 0, u["state"].astype(str).to_numpy()[np.maximum(fac.unit, 0)], "").astype(object)
    outside = np.flatnonzero(fac.unit < 0)
    if len(outside):
        pts = gpd.GeoDataFrame({"k": outside}, geometry=gpd.points_from_xy(fac.lon[outside], fac.lat[outside]), crs="EPSG:4326")
        hit = gpd.sjoin(pts, u[["id", "state", "geometry"]], predicate="within", how="inner").sort_values("id", kind="stable")
        hit = hit[~hit["k"].duplicated()]
        ids[hit["k"].to_numpy()] = hit["id"].to_numpy()
        states[hit["k"].to_numpy()] = hit["state"].astype(str).to_numpy()
        for t, ex in res.siting.existing.items():
            if ex.states is not None:
                rows = outside[fac.type[outside] == t]
                known = dict(zip(ex.ids, ex.states))
                for k in rows:
                    if not states[k]:
                        states[k] = known.get(fac.ident[k], "")
    return ids.astype(str), np.array(["" if s is None or s == "nan" else s for s in states], dtype=object).astype(str)


def facilities_table(res: RunResult) -> pd.DataFrame:
    """One row per facility: number, type, status (new / existing), its unit, name, state, location, site score,
    cluster, what it draws on (requirement totals) and its suppliers."""
    fac, sp, ev = res.solution.facilities, res.siting, res.evaluation
    unit_id, state = _containing_units(res)
    draws = np.bincount(res.solution.member_of[res.solution.member_of >= 0], minlength=len(fac))
    t = pd.DataFrame({
        "facility": np.arange(1, len(fac) + 1), "type": fac.type, "status": fac.status, "id": fac.ident, "unit_id": unit_id,
        "name": fac.name, "state": state, "lat": np.round(fac.lat, 5), "lon": np.round(fac.lon, 5),
        "site_score": fac.score, "cluster": pd.array(np.where(fac.cluster >= 0, fac.cluster + 1, 0), dtype="Int64"),
        "draws_on_units": draws[: len(fac)],  # units whose amounts serve it, its own included (0: no requirements)
    })
    t.loc[fac.cluster < 0, "cluster"] = pd.NA
    need = {tt: dict(zip(pb.requirement_names, pb.requirements)) for tt, pb in sp.types.items()}
    for name in dict.fromkeys(n for pb in sp.types.values() for n in pb.requirement_names):
        t[f"{name}_total"] = [ev.totals.get(k, {}).get(name, np.nan) for k in range(len(fac))]
        t[f"{name}_required"] = [need.get(fac.type[k], {}).get(name, np.nan) if fac.status[k] == "new" else np.nan for k in range(len(fac))]
    sup = res.solution.supplies
    suppliers = {k: [] for k in range(len(fac))}
    for s, k in zip(sup.source, sup.to):
        suppliers[int(k)].append(str(s + 1))
    t["supplied_by"] = [";".join(suppliers[k]) for k in range(len(fac))]
    return t


def links_table(res: RunResult) -> pd.DataFrame:
    """One row per supply link used: the link, both facilities (number, type, unit, name), km, the limit, cost and capacity."""
    fac, sup, sp = res.solution.facilities, res.solution.supplies, res.siting
    unit_id, _ = _containing_units(res)
    rows = []
    for li, s, k, km in zip(sup.link, sup.source, sup.to, sup.km):
        link = sp.links[li]
        rows.append({"link": link.name, "from_type": link.source, "from_facility": int(s) + 1, "from_id": fac.ident[s], "from_unit": unit_id[s],
                     "from_name": fac.name[s], "from_status": fac.status[s], "to_type": link.to, "to_facility": int(k) + 1, "to_id": fac.ident[k],
                     "to_name": fac.name[k],
                     "km": round(float(km), 3), "max_km": link.max_km, "cost": link.cost_per_km * float(km),
                     "capacity": link.capacity if link.capacity is not None else pd.NA})
    cols = ["link", "from_type", "from_facility", "from_id", "from_unit", "from_name", "from_status", "to_type", "to_facility", "to_id",
            "to_name", "km", "max_km", "cost", "capacity"]
    return pd.DataFrame(rows, columns=cols)


def chain_clusters_table(res: RunResult) -> pd.DataFrame:
    """One row per co-location cluster: its centre unit and the facilities (new and existing) within its radius
    (a facility within reach of two centres counts for both, as the rule does)."""
    sol, u = res.solution, res.prepared.units
    fac = sol.facilities
    rows = []
    for c, m in enumerate(sol.centres if sol.centres is not None else []):
        inside = fac.within(u["lat"].iat[m], u["lon"].iat[m], res.siting.clusters.radius_km)
        rows.append({"cluster": c + 1, "centre_id": u["id"].iat[m], "centre_name": u["name"].iat[m], "state": u["state"].iat[m],
                     "lat": round(float(u["lat"].iat[m]), 5), "lon": round(float(u["lon"].iat[m]), 5),
                     "radius_km": res.siting.clusters.radius_km, "facilities": int(inside.sum()),
                     "types": ";".join(dict.fromkeys(fac.type[inside])),
                     "new": int((inside & fac.new).sum()), "existing": int((inside & ~fac.new).sum())})
    return pd.DataFrame(rows)


def chain_scores_table(res: RunResult) -> pd.DataFrame:
    """Every unit: the scenario's scores, each facility type's site score, amounts, the facilities sited in it, whom it serves."""
    u = res.prepared.units.set_index("id")
    fac = res.solution.facilities
    site = pd.DataFrame({f"site_score_{t}": s for t, s in res.type_scores.items() if res.siting.types[t].most > 0})
    t = pd.concat([u[["name", "state"]], res.scores.table(), site, res.prepared.amounts.add_prefix("amount_")], axis=1)
    sited = [[] for _ in range(len(u))]
    for k in np.flatnonzero(fac.new):
        sited[fac.unit[k]].append(fac.type[k])
    t["facilities"] = [";".join(s) for s in sited]
    serves = res.solution.member_of
    t["serves_facility"] = pd.array(np.where(serves >= 0, serves + 1, 0), dtype="Int64")
    t.loc[serves < 0, "serves_facility"] = pd.NA
    return t.reset_index().sort_values("rank", kind="stable")


def chain_geodataframe(res: RunResult) -> gpd.GeoDataFrame:
    """Every facility as a point with its number, type, status and cluster (facilities.geojson)."""
    t = facilities_table(res)
    return gpd.GeoDataFrame(t[["facility", "type", "status", "id", "unit_id", "name", "state", "site_score", "cluster"]],
                            geometry=gpd.points_from_xy(t["lon"], t["lat"]), crs="EPSG:4326")
