"""What a run leaves behind: tables, GeoJSON, the map and a manifest, written atomically."""

from __future__ import annotations

import json
from pathlib import Path

from ..pipeline import RunResult
from .manifest import versions, manifest
from .rundir import atomic_dir, check_target
from .chain_tables import chain_clusters_table, chain_geodataframe, chain_scores_table, facilities_table, links_table
from .tables import FLOAT_FORMAT, clusters_table, scores_table, selection_geodataframe, stability_table

__all__ = ["scores_table", "clusters_table", "selection_geodataframe", "stability_table", "manifest", "write_run", "check_target",
           "FLOAT_FORMAT", "versions", "run_tables"]


def run_tables(res: RunResult) -> dict:
    """The run's CSV tables by file name: scores, clusters, stability (of the selection and of the ranking) and
    importance (why these sites); for a chain, facilities and links instead of the hub tables."""
    if res.cfg.is_chain:
        tables = {"scores": chain_scores_table(res), "facilities": facilities_table(res), "links": links_table(res)}
        if res.siting.clusters is not None:
            tables["clusters"] = chain_clusters_table(res)
        return {**tables, "importance": res.importance, "stability": stability_table(res)}
    return {"scores": scores_table(res), "clusters": clusters_table(res), "stability": stability_table(res), "importance": res.importance}


def write_run(res: RunResult, out: Path, overwrite: bool = False, config_path: str | None = None, map_mode: str = "offline") -> Path:
    """Write the run directory atomically and return its path."""
    from ..maps import render_map
    from .report import render_report

    out = Path(out)
    protect = res.cfg.input_paths()
    check_target(out, overwrite, protect, "run")
    with atomic_dir(out, overwrite, protect, "run") as tmp:
        tables = run_tables(res)
        for name, table in tables.items():
            table.to_csv(tmp / f"{name}.csv", index=False, float_format=FLOAT_FORMAT, lineterminator="\n")
        shapes = chain_geodataframe(res) if res.cfg.is_chain else selection_geodataframe(res)
        (tmp / ("facilities.geojson" if res.cfg.is_chain else "selection.geojson")).write_text(shapes.to_json(drop_id=True), encoding="utf-8")
        render_map(res, map_mode).save(str(tmp / "map.html"))
        if res.alternatives:
            from ..analysis.alternatives import alternatives_table
            from .analysis import alternatives_page

            alternatives_table(res, res.alternatives).to_csv(tmp / "alternatives.csv", index=False, float_format=FLOAT_FORMAT, lineterminator="\n")
            (tmp / "alternatives.html").write_text(alternatives_page(res, res.alternatives), encoding="utf-8")
        man = manifest(res, config_path, {"map_mode": map_mode}, tables.get("stability"))
        (tmp / "report.html").write_text(render_report(res, man, tables), encoding="utf-8")
        (tmp / "manifest.json").write_text(json.dumps(man, indent=2, default=str) + "\n", encoding="utf-8")
    return out
