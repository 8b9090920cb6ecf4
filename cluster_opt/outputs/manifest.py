"""manifest.json: the resolved config, data files and digests, versions, solver status, the check and timings."""

from __future__ import annotations

from typing import TYPE_CHECKING

import platform
import sys
from datetime import datetime, timezone
from importlib import metadata

import numpy as np
import pandas as pd

from .. import __version__, geodata
from ..analysis.alternatives import alternatives_table
from .tables import stability_table

if TYPE_CHECKING:
    from ..pipeline import RunResult


def versions() -> dict[str, str]:
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
        data["units"] = {"source": "US Census cartographic boundary file cb_2016_us_county_500k via plotly-geo", "sha256": geodata.file_digest(src), "units": len(res.prepared.units)}
    else:
        data["units"] = {"source": cfg.units.kind, "units": len(res.prepared.units)}
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
        "versions": versions(),
        "data": data,
        "units": len(res.prepared.units),
        "solver": sol.summary(),
        **(_chain(res) if cfg.is_chain else {
            "clusters": [
                {"cluster": k + 1, "hub_id": str(res.prepared.units["id"].iat[h]), "hub_name": str(res.prepared.units["name"].iat[h]), "members": int((sol.member_of == k).sum())}
                for k, h in enumerate(sol.hub_index)
            ],
            "weight_stability": _records(stability if stability is not None else stability_table(res)),
        }),
        "alternatives": _records(alternatives_table(res, res.alternatives)) if res.alternatives else [],
        "check": {"passed": res.evaluation.ok, "objective_recomputed": res.evaluation.objective},
        "timings_seconds": res.timings,
        "notes": res.notes,
        "command": " ".join(sys.argv),
        **(extra or {}),
    }


def _records(df: pd.DataFrame) -> list[dict]:
    """Rows as JSON-safe records (a missing value is null, never NaN)."""
    return df.astype(object).where(df.notna(), None).to_dict(orient="records")


def _chain(res: RunResult) -> dict:
    """A chain's facilities, supply links and clusters in the manifest."""
    from .chain_tables import facilities_table

    fac = facilities_table(res)
    sup, sp = res.solution.supplies, res.siting
    return {
        "facilities": _records(fac[["facility", "type", "status", "unit_id", "name", "state", "cluster"]]),
        "links": [{"link": link.name, "max_km": link.max_km, "cost_per_km": link.cost_per_km, "capacity": link.capacity,
                   "supplied": int((sup.link == li).sum()), "km": float(sup.km[sup.link == li].sum()),
                   "cost": float(link.cost_per_km * sup.km[sup.link == li].sum())} for li, link in enumerate(sp.links)],
        "link_cost": res.evaluation.link_cost,
        "cluster_centres": [str(res.prepared.units["id"].iat[m]) for m in (res.solution.centres if res.solution.centres is not None else [])],
        "site_rules_rule_out": res.prepared.chain.ruled_out,
    }
