"""The run's tables, keyed by unit id: every unit's score and role, one row per cluster, the clusters' member units."""

from __future__ import annotations

from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from ..pipeline import RunResult

FLOAT_FORMAT = "%.10g"


def _roles(res: RunResult) -> tuple[np.ndarray, np.ndarray]:
    sol = res.solution
    role = np.where(sol.member_of >= 0, "member", "")
    role[sol.hub_index] = "hub"
    cluster = np.where(sol.member_of >= 0, sol.member_of + 1, 0)
    return role, cluster


def scores_table(res: RunResult) -> pd.DataFrame:
    """Every unit: id, name, state, raw, normalized, contributions, score, rank, selected, cluster."""
    u = res.prepared.units.set_index("id")
    role, cluster = _roles(res)
    t = pd.concat([u[["name", "state"]], res.scores.table(), res.prepared.amounts.add_prefix("amount_")], axis=1)
    t["selected"] = role == "hub"
    t["role"] = role
    t["cluster"] = pd.array(np.where(cluster > 0, cluster, 0), dtype="Int64").astype("Int64")
    t.loc[cluster == 0, "cluster"] = pd.NA
    t = t.reset_index().sort_values("rank", kind="stable")
    return t


def clusters_table(res: RunResult) -> pd.DataFrame:
    """One row per cluster: hub, members, requirement totals and score."""
    u, sol, pb, ev = res.prepared.units, res.solution, res.problem, res.evaluation
    rows = []
    for k, h in enumerate(sol.hub_index):
        mask = sol.member_of == k
        row = {
            "cluster": k + 1, "hub_id": u["id"].iat[h], "hub_name": u["name"].iat[h], "hub_state": u["state"].iat[h],
            "hub_lat": round(float(u["lat"].iat[h]), 5), "hub_lon": round(float(u["lon"].iat[h]), 5),
            "members": int(mask.sum()), "member_states": ";".join(sorted(set(u["state"][mask].astype(str)))),
            "area_km2": float(u["area_km2"][mask].sum()),
            "hub_score": float(pb.score[h]), "score": float(ev.cluster_scores[k]),
        }
        for r, name in enumerate(pb.requirement_names):
            row[f"{name}_total"] = float(ev.cluster_totals[k, r])
            row[f"{name}_required"] = float(pb.requirements[r])
        rows.append(row)
    return pd.DataFrame(rows)


def selection_geodataframe(res: RunResult) -> gpd.GeoDataFrame:
    """The units in clusters (polygons) with their cluster, role and score."""
    role, cluster = _roles(res)
    u = res.prepared.units
    keep = cluster > 0
    g = gpd.GeoDataFrame({
        "id": u["id"][keep].to_numpy(), "name": u["name"][keep].to_numpy(), "state": u["state"][keep].astype(str).to_numpy(),
        "cluster": cluster[keep], "role": role[keep], "score": res.scores.score.to_numpy()[keep],
    }, geometry=u.geometry[keep].to_numpy(), crs=u.crs)
    return g.sort_values(["cluster", "role", "id"], ascending=[True, True, True], kind="stable").reset_index(drop=True)


def stability_table(res: RunResult) -> pd.DataFrame:
    """Per criterion, the weight ranges (the others rescaled in proportion) in which the chosen selection stays
    optimal (low, high: exact re-solves), and, for hubs, in which the top-k units by score stay the same
    (ranking_low, ranking_high; k = clusters)."""
    from ..analysis.stability import stability_intervals

    table = res.selection_stability
    if res.cfg.is_chain:
        return table
    ranking = stability_intervals(res.scores.normalized, res.scores.weights, res.cfg.selection.clusters)
    return table.assign(ranking_low=ranking["low"].to_numpy(), ranking_high=ranking["high"].to_numpy(), top_k=ranking["top_k"].to_numpy())
