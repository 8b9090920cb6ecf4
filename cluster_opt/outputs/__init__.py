"""What a run leaves behind: tables, GeoJSON, the map and a manifest, written atomically."""

from __future__ import annotations

import json
from pathlib import Path

from ..pipeline import RunResult
from .manifest import versions, manifest
from .rundir import atomic_dir, check_target
from .tables import FLOAT_FORMAT, clusters_table, scores_table, selection_geodataframe, stability_table

__all__ = ["scores_table", "clusters_table", "selection_geodataframe", "stability_table", "manifest", "write_run", "check_target",
           "FLOAT_FORMAT", "versions"]


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
