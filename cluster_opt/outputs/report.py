"""report.html: the run in one page a planner can print or mail: scenario, weights, clusters, charts, provenance."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..maps import esc
from ..maps.pages import _table

CRITERION_COLOURS = ["#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#e6ab02", "#a6761d", "#666666"]

CSS = """body{font:14px/1.45 system-ui,sans-serif;max-width:1100px;margin:0 auto;padding:16px 20px;color:#222}
h1{font-size:22px;margin:4px 0}h2{font-size:17px;margin:22px 0 6px;border-bottom:1px solid #ccc}
.co-table{border-collapse:collapse;font-size:13px;margin:4px 0}.co-table td,.co-table th{border-bottom:1px solid #ddd;padding:2px 8px;text-align:right}
.co-table td:first-child,.co-table th:first-child{text-align:left}.muted{color:#666}.warn{color:#a50f15;font-weight:600}
.legend span{display:inline-block;width:12px;height:12px;margin:0 4px 0 12px;vertical-align:middle}"""


def breakdown(res) -> pd.DataFrame:
    """Each cluster's share of the objective split by criterion (hub in full, members as they count)."""
    pb, sol = res.problem, res.solution
    contrib = res.scores.contributions.to_numpy()
    weight = pb.member_weight * pb.member_scale
    rows = []
    for k, h in enumerate(sol.hub_index):
        mask = sol.member_of == k
        w = np.where(np.arange(pb.n) == h, 1.0, weight) * mask
        rows.append(dict(zip(res.scores.contributions.columns, w @ contrib)))
    return pd.DataFrame(rows, index=[f"Cluster {k + 1}" for k in range(len(sol.hub_index))])


def _bars(table: pd.DataFrame) -> str:
    """Stacked horizontal bars as inline SVG (no scripts, prints anywhere)."""
    width, bar_h, left = 640, 22, 90
    top = float(table.sum(axis=1).max()) or 1.0
    h = len(table) * (bar_h + 8) + 10
    parts = [f"<svg xmlns='http://www.w3.org/2000/svg' width='{width + left + 60}' height='{h}' role='img' aria-label='score breakdown per cluster'>"]
    for r, (name, row) in enumerate(table.iterrows()):
        y = 5 + r * (bar_h + 8)
        parts.append(f"<text x='0' y='{y + 15}' font-size='12'>{esc(name)}</text>")
        x = left
        for c, (crit, v) in enumerate(row.items()):
            w = max(0.0, v) / top * width
            parts.append(f"<rect x='{x:.1f}' y='{y}' width='{w:.1f}' height='{bar_h}' fill='{CRITERION_COLOURS[c % len(CRITERION_COLOURS)]}'>"
                         f"<title>{esc(crit)}: {v:.3f}</title></rect>")
            x += w
        parts.append(f"<text x='{x + 4:.1f}' y='{y + 15}' font-size='12'>{row.sum():.2f}</text>")
    parts.append("</svg>")
    legend = "".join(f"<span style='background:{CRITERION_COLOURS[c % len(CRITERION_COLOURS)]}'></span>{esc(k)}" for c, k in enumerate(table.columns))
    return "".join(parts) + f"<div class='legend'>{legend}</div>"


def render_report(res, manifest: dict, tables: dict[str, pd.DataFrame]) -> str:
    """tables: the run's "scores", "clusters" and "stability" tables, as written beside the report."""
    cfg, sol = res.cfg, res.solution
    status = ("<b>proven optimal</b>" if sol.proven_optimal else
              f"<span class='warn'>best found within the time limit, NOT proven optimal (gap {sol.gap:.2%})</span>" if sol.gap is not None else
              "<span class='warn'>best found within the time limit, NOT proven optimal</span>")
    weights = pd.DataFrame({"criterion": list(res.scores.weights), "label": [cfg.criteria[k].label or k for k in res.scores.weights],
                            "given": [cfg.given_weights()[k] for k in res.scores.weights], "used": list(res.scores.weights.values()),
                            "measure": [cfg.criteria[k].measure.value for k in res.scores.weights],
                            "direction": [cfg.criteria[k].direction for k in res.scores.weights]})
    ahp = cfg.ahp_result
    ahp_note = f"<p>Weights from AHP judgments: λmax {ahp.lambda_max:.3f}, consistency ratio {ahp.consistency_ratio:.3f}.</p>" if ahp else ""
    clusters = tables["clusters"]
    keep = ["cluster", "hub_id", "hub_name", "hub_state", "members", "member_states", "score"] + [c for c in clusters.columns if c.endswith(("_total", "_required"))]
    scores = tables["scores"]
    top = scores.head(20)[["rank", "id", "name", "state", "score", "role", "cluster"] + [c for c in scores.columns if c.startswith("contrib_")]]
    prov = pd.DataFrame([{"layer": k, "source": v.get("source", ""), "rows read": v.get("rows_read", ""),
                          "where keeps": "; ".join(f"{c}: {n:,}" for c, n in v.get("where_kept", {}).items()),
                          "features": v.get("features", v.get("units", "")), "sha256": str(v.get("sha256", ""))[:16]}
                         for k, v in manifest["data"].items()])
    notes = "".join(f"<li>{esc(n)}</li>" for n in res.notes)
    body = (
        f"<h1>{esc(cfg.name)}</h1><p>{esc(cfg.description)}</p>"
        f"<p class='muted'>config {esc(manifest.get('config_file') or '')}, SHA-256 {esc(manifest['config_sha256'][:16])}…, {esc(manifest['created'])}, "
        f"cluster-opt {esc(manifest['versions'].get('cluster-opt', ''))}</p>"
        f"<h2>Scenario</h2><p>{len(res.prepared.units):,} units ({esc(cfg.units.kind)}) in {esc(', '.join(cfg.states))}; {esc(cfg.selection.clusters)} clusters, "
        f"members within {cfg.selection.cluster_radius_km:g} km of a hub, hubs at least {cfg.selection.min_spacing_km:g} km apart"
        + (f", at most {esc(cfg.selection.max_per_state)} per state" if cfg.selection.max_per_state else "")
        + "".join(f"; {esc(k)} ≥ {v:,.0f} per cluster" for k, v in cfg.selection.requirements.items()) + ".</p>"
        f"<h2>Weights</h2>{_table(weights)}{ahp_note}"
        f"<h2>Solution</h2><p>Solver {esc(sol.solver_version)}: {status}; objective {sol.objective:.4f}, bound "
        f"{'–' if sol.bound is None else f'{sol.bound:.4f}'}; {sol.n_vars:,} variables, {sol.n_rows:,} constraints; "
        f"solved in {sol.solve_seconds:.1f} s. Independent re-check: <b>{'passed' if res.evaluation.ok else 'FAILED'}</b>.</p>"
        f"<h2>Clusters</h2>{_table(clusters[keep])}"
        f"<h2>What each cluster's score is made of</h2><p class='muted'>The cluster's share of the objective (hub in full, members as they count) split by criterion.</p>{_bars(breakdown(res))}"
        f"<h2>Top 20 units by score</h2>{_table(top)}"
        f"<h2>How stable is the ranking?</h2><p class='muted'>For each criterion, the range of its weight (the others rescaled in proportion) in which the {esc(cfg.selection.clusters)} best-scoring units stay the same.</p>{_table(tables['stability'])}"
        f"<h2>Data provenance</h2>{_table(prov)}" + (f"<ul>{notes}</ul>" if notes else "")
        + "<p class='muted'>Every table in this run directory is also a CSV; see manifest.json for the full resolved config and versions.</p>"
    )
    return f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{esc(cfg.name)}: report</title><style>{CSS}</style></head><body>{body}</body></html>"
