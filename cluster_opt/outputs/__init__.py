"""What a run leaves behind: tables, GeoJSON, the map and a manifest, written atomically."""

from __future__ import annotations

import json
import platform
import sys
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from .. import __version__, geodata
from ..pipeline import RunResult
from .rundir import atomic_dir, check_target

FLOAT_FORMAT = "%.10g"

__all__ = ["scores_table", "clusters_table", "selection_geodataframe", "manifest", "write_run", "check_target"]


def _roles(res: RunResult) -> tuple[np.ndarray, np.ndarray]:
    sol = res.solution
    role = np.where(sol.member_of >= 0, "member", "")
    role[sol.hubs] = "hub"
    cluster = np.where(sol.member_of >= 0, sol.member_of + 1, 0)
    return role, cluster


def scores_table(res: RunResult) -> pd.DataFrame:
    """Every unit: id, name, state, raw, normalized, contributions, score, rank, selected, cluster."""
    u = res.units.set_index("id")
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
    u, sol, pb, ev = res.units, res.solution, res.problem, res.evaluation
    rows = []
    for k, h in enumerate(sol.hubs):
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
    u = res.units
    keep = cluster > 0
    g = gpd.GeoDataFrame({
        "id": u["id"][keep].to_numpy(), "name": u["name"][keep].to_numpy(), "state": u["state"][keep].astype(str).to_numpy(),
        "cluster": cluster[keep], "role": role[keep], "score": res.scores.score.to_numpy()[keep],
    }, geometry=u.geometry[keep].to_numpy(), crs=u.crs)
    return g.sort_values(["cluster", "role", "id"], ascending=[True, True, True], kind="stable").reset_index(drop=True)


def stability_table(res: RunResult) -> pd.DataFrame:
    """Exact weight ranges in which the top-k units by score (k = clusters) stay the same."""
    from ..analysis.stability import stability_intervals

    return stability_intervals(res.scores.normalized, res.scores.weights, res.cfg.selection.clusters)


def _versions() -> dict[str, str]:
    out = {"cluster-opt": __version__, "python": platform.python_version()}
    for pkg in ("pulp", "highspy", "geopandas", "shapely", "pandas", "numpy", "scipy", "folium", "pyproj", "plotly-geo", "h3"):
        try:
            out[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            pass
    return out


def manifest(res: RunResult, config_path: str | None, extra: dict | None = None, stability: pd.DataFrame | None = None) -> dict:
    cfg, sol = res.cfg, res.solution
    data = {}
    for key, layer in res.prepared.layers.items():
        data[key] = {"source": layer.spec.source, "path": str(layer.path), "sha256": layer.digest, "features": len(layer.points),
                     "rows_read": layer.rows_read, "where_kept": layer.where_kept}
    if cfg.units.kind == "county":
        src = geodata._plotly_geo_file("cb_2016_us_county_500k.shp")
        data["units"] = {"source": "US Census cartographic boundary file cb_2016_us_county_500k via plotly-geo", "sha256": geodata.file_digest(src), "units": len(res.units)}
    else:
        data["units"] = {"source": cfg.units.kind, "units": len(res.units)}
    weights = res.scores.weights
    raw = cfg.given_weights()
    return {
        "name": cfg.name,
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "config_file": config_path,
        "config": cfg.resolved(),
        "config_sha256": cfg.digest(),
        "weights": {"given": raw, "used": weights, "rescaled": not np.isclose(sum(raw.values()), 1.0),
                    **({"ahp": {"lambda_max": cfg.ahp_result.lambda_max, "consistency_index": cfg.ahp_result.consistency_index,
                                "consistency_ratio": cfg.ahp_result.consistency_ratio}} if cfg.ahp_result else {})},
        "versions": _versions(),
        "data": data,
        "units": len(res.units),
        "solver": sol.summary(),
        "clusters": [
            {"cluster": k + 1, "hub_id": str(res.units["id"].iat[h]), "hub_name": str(res.units["name"].iat[h]), "members": int((sol.member_of == k).sum())}
            for k, h in enumerate(sol.hubs)
        ],
        "check": {"passed": res.evaluation.ok, "objective_recomputed": res.evaluation.objective},
        "weight_stability": (stability if stability is not None else stability_table(res)).to_dict(orient="records"),
        "timings_seconds": res.timings,
        "notes": res.notes,
        "command": " ".join(sys.argv),
        **(extra or {}),
    }


def write_run(res: RunResult, out: Path, overwrite: bool = False, config_path: str | None = None, map_mode: str = "offline") -> Path:
    """Write the run directory atomically and return its path."""
    from ..maps import render_map
    from .report import render_report

    out = Path(out)
    protect = res.cfg.input_paths()
    check_target(out, overwrite, protect, "run")
    with atomic_dir(out, overwrite, protect, "run") as tmp:
        tables = {"scores": scores_table(res), "clusters": clusters_table(res), "stability": stability_table(res)}
        tables["scores"].to_csv(tmp / "scores.csv", index=False, float_format=FLOAT_FORMAT, lineterminator="\n")
        tables["clusters"].to_csv(tmp / "clusters.csv", index=False, float_format=FLOAT_FORMAT, lineterminator="\n")
        (tmp / "selection.geojson").write_text(selection_geodataframe(res).to_json(drop_id=True), encoding="utf-8")
        render_map(res, map_mode).save(str(tmp / "map.html"))
        tables["stability"].to_csv(tmp / "stability.csv", index=False, float_format=FLOAT_FORMAT, lineterminator="\n")
        man = manifest(res, config_path, {"map_mode": map_mode}, tables["stability"])
        (tmp / "report.html").write_text(render_report(res, man, tables), encoding="utf-8")
        (tmp / "manifest.json").write_text(json.dumps(man, indent=2, default=str) + "\n", encoding="utf-8")
    return out
