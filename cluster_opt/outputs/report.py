"""report.html: the run in one page a planner can print or mail: scenario, weights, clusters (a chain: its diagram,
facilities and links), charts, provenance."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..maps import esc
from ..maps.chainmap import link_limits, type_labels
from ..maps.diagram import LinkArrow, TypeBox, chain_svg
from ..maps.palette import type_colour
from ..maps.pages import _table

CRITERION_COLOURS = ["#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#e6ab02", "#a6761d", "#666666"]

CSS = """body{font:14px/1.45 system-ui,sans-serif;max-width:1100px;margin:0 auto;padding:16px 20px;color:#222}
h1{font-size:22px;margin:4px 0}h2{font-size:17px;margin:22px 0 6px;border-bottom:1px solid #ccc}
.co-table{border-collapse:collapse;font-size:13px;margin:4px 0}.co-table td,.co-table th{border-bottom:1px solid #ddd;padding:2px 8px;text-align:right}
.co-table td:first-child,.co-table th:first-child{text-align:left}.muted{color:#666}.warn{color:#a50f15;font-weight:600}
.legend span{display:inline-block;width:12px;height:12px;margin:0 4px 0 12px;vertical-align:middle}
.co-chain{display:block;margin:8px 0;max-width:100%;height:auto}.co-types li{margin:3px 0}
.co-wide{overflow-x:auto}.co-wide td{white-space:nowrap}"""


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


def _status(sol) -> str:
    if sol.proven_optimal:
        return "<b>proven optimal</b>"
    return f"<span class='warn'>best found within the time limit: {esc(sol.certainty())}</span>"


def _solver(sol) -> str:
    """The solver's bound, size and time, after the objective."""
    bound = "none found" if sol.bound is None else f"{sol.bound:.4f}"
    return esc(f"bound {bound}; {sol.n_vars:,} variables, {sol.n_rows:,} constraints; solved in {sol.solve_seconds:.1f} s")


def _head(cfg, manifest: dict) -> str:
    return (f"<h1>{esc(cfg.name)}</h1><p>{esc(cfg.description)}</p>"
            f"<p class='muted'>config {esc(manifest.get('config_file') or '')}, SHA-256 {esc(manifest['config_sha256'][:16])}…, {esc(manifest['created'])}, "
            f"cluster-opt {esc(manifest['versions'].get('cluster-opt', ''))}</p>")


def _provenance(res, manifest: dict) -> str:
    """The data files read, their rows and digests, the run's notes, and where the rest is."""
    prov = pd.DataFrame([{"layer": k, "source": v.get("source", ""), "rows read": v.get("rows_read", ""),
                          "where keeps": "; ".join(f"{c}: {n:,}" for c, n in v.get("where_kept", {}).items()),
                          "features": v.get("features", v.get("units", "")), "sha256": str(v.get("sha256", ""))[:16]}
                         for k, v in manifest["data"].items()])
    notes = "".join(f"<li>{esc(n)}</li>" for n in res.notes)
    return (f"<h2>Data provenance</h2>{_table(prov)}" + (f"<ul>{notes}</ul>" if notes else "")
            + "<p class='muted'>Every table in this run directory is also a CSV; see manifest.json for the full resolved config and versions.</p>")


def _page(cfg, body: str) -> str:
    return f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{esc(cfg.name)}: report</title><style>{CSS}</style></head><body>{body}</body></html>"


def render_report(res, manifest: dict, tables: dict[str, pd.DataFrame]) -> str:
    """tables: the run's tables as written beside the report ("scores", "clusters" and "stability"; a chain's
    "scores", "facilities", "links" and, with co-location, "clusters")."""
    if res.cfg.is_chain:
        return _page(res.cfg, chain_body(res, manifest, tables))
    cfg, sol = res.cfg, res.solution
    weights = pd.DataFrame({"criterion": list(res.scores.weights), "label": [cfg.criteria[k].label or k for k in res.scores.weights],
                            "given": [cfg.given_weights()[k] for k in res.scores.weights], "used": list(res.scores.weights.values()),
                            "measure": [cfg.criteria[k].measure.value for k in res.scores.weights],
                            "direction": [cfg.criteria[k].direction for k in res.scores.weights]})
    clusters = tables["clusters"]
    keep = ["cluster", "hub_id", "hub_name", "hub_state", "members", "member_states", "score"] + [c for c in clusters.columns if c.endswith(("_total", "_required"))]
    scores = tables["scores"]
    top = scores.head(20)[["rank", "id", "name", "state", "score", "role", "cluster"] + [c for c in scores.columns if c.startswith("contrib_")]]
    body = (
        _head(cfg, manifest)
        + f"<h2>Scenario</h2><p>{len(res.prepared.units):,} units ({esc(cfg.units.kind)}) in {esc(', '.join(cfg.states))}; {esc(cfg.selection.clusters)} clusters, "
        f"members within {cfg.selection.cluster_radius_km:g} km of a hub, hubs at least {cfg.selection.min_spacing_km:g} km apart"
        + (f", at most {esc(cfg.selection.max_per_state)} per state" if cfg.selection.max_per_state else "")
        + "".join(f"; {esc(k)} ≥ {v:,.0f} per cluster" for k, v in cfg.selection.requirements.items()) + ".</p>"
        f"<h2>Weights</h2>{_table(weights)}{_ahp(cfg)}"
        f"<h2>Solution</h2><p>Solver {esc(sol.solver_version)}: {_status(sol)}; objective {sol.objective:.4f}, {_solver(sol)}. "
        f"Independent re-check: <b>{'passed' if res.evaluation.ok else 'FAILED'}</b>.</p>"
        f"<h2>Clusters</h2>{_table(clusters[keep])}"
        f"<h2>What each cluster's score is made of</h2><p class='muted'>The cluster's share of the objective (hub in full, members as they count) split by criterion.</p>{_bars(breakdown(res))}"
        + _why(tables)
        + f"<h2>Top 20 units by score</h2>{_table(top)}"
        f"<h2>How stable is the selection?</h2><p class='muted'>For each criterion, the range of its weight (the others rescaled in proportion) in which "
        f"<b>the chosen hubs stay optimal</b> (low, high: exact re-solves; how each end was found), and, for comparison, in which the "
        f"{esc(cfg.selection.clusters)} best-scoring units stay the same (ranking_low, ranking_high).</p>{_table(tables['stability'])}"
        + _provenance(res, manifest)
    )
    return _page(cfg, body)


def _why(tables: dict[str, pd.DataFrame]) -> str:
    """The "Why these sites" section: replacement and force-in costs from exact re-solves, with reasons."""
    imp = tables.get("importance")
    if imp is None or imp.empty:
        return ""
    shown = imp.drop(columns=["unit_id"]).assign(chosen=imp["chosen"].map({True: "chosen", False: ""}))
    return ("<h2>Why these sites</h2><p class='muted'>Replacement cost: the objective lost if a chosen site is forbidden and the "
            "model solved again. Force-in cost: the objective lost if a unit not chosen must host one. Both are exact re-solves, "
            "re-checked like the answer; the reason names the rule, requirement, spacing conflict or criterion that binds. "
            "<code>cluster-opt why CONFIG UNIT_ID</code> answers for any unit.</p>"
            f"<div class='co-wide'>{_table(shown)}</div>")


def _ahp(cfg) -> str:
    ahp = cfg.ahp_result
    return f"<p>Weights from AHP judgments: λmax {ahp.lambda_max:.3f}, consistency ratio {ahp.consistency_ratio:.3f}.</p>" if ahp else ""


# ---- a chain ----

def chain_body(res, manifest: dict, tables: dict[str, pd.DataFrame]) -> str:
    """A chain's report: its types and rules, the chain as a diagram, facilities, links and their costs, clusters, weights."""
    cfg, sol, ev = res.cfg, res.solution, res.evaluation
    check = ("<b>passed</b>" if ev.ok else "<span class='warn'>FAILED</span>: "
             + "; ".join(esc(v) for v in ev.violations[:20]) + (f" (and {len(ev.violations) - 20:,} more)" if len(ev.violations) > 20 else ""))
    facilities = tables["facilities"].drop(columns=["lat", "lon"], errors="ignore")
    clusters = tables.get("clusters")
    return (
        _head(cfg, manifest)
        + f"<h2>Scenario</h2><p>{esc(f'{len(res.prepared.units):,}')} units ({esc(cfg.units.kind)}) in {esc(', '.join(cfg.states))}. Facility types:</p>"
        + _types_list(res) + _rules_text(res)
        + "<h2>The chain</h2><p class='muted'>A box per facility type (new and existing), an arrow per link: its distance limit, "
          "the km its supplies cover and what they cost.</p>" + _diagram(res)
        + f"<h2>Solution</h2><p>Solver {esc(sol.solver_version)}: {_status(sol)}; objective {esc(f'{sol.objective:.4f}')} = "
          f"site scores {esc(f'{ev.objective + ev.link_cost:.4f}')} − link costs {esc(f'{ev.link_cost:.4f}')}; {_solver(sol)}. "
          f"Independent re-check: {check}.</p>"
        + f"<h2>Facilities</h2><p class='muted'>Every facility, new and existing; a new facility's site score counts in the objective, "
          f"its totals are what the units it draws on bring.</p><div class='co-wide'>{_table(facilities)}</div>"
        + f"<h2>Supply links</h2>{_table(_link_costs(res))}<p class='muted'>Each supply: who supplies whom, how far, at what cost.</p><div class='co-wide'>{_table(tables['links'])}</div>"
        + (f"<h2>Co-location clusters</h2>{_table(clusters)}" if clusters is not None else "")
        + _why(tables)
        + (f"<h2>How stable is the selection?</h2><p class='muted'>For each criterion, the range of its weight (the others rescaled in proportion) "
           f"in which the chosen facilities stay optimal, from exact re-solves.</p>{_table(tables['stability'])}" if "stability" in tables else "")
        + f"<h2>Weights</h2><p class='muted'>The scenario's weights (its score) and each facility type's (its site score).</p>{_table(_chain_weights(res))}{_ahp(cfg)}"
        + _provenance(res, manifest)
    )


def _counts(res, t: str) -> tuple[int, int]:
    fac = res.solution.facilities
    return int(((fac.type == t) & fac.new).sum()), int(((fac.type == t) & ~fac.new).sum())


def _types_list(res) -> str:
    """One line per facility type: new and existing counts, what each facility draws on, its site rules."""
    cfg, labels, ruled = res.cfg, type_labels(res.cfg), res.prepared.chain.ruled_out
    items = []
    for t, f in cfg.facilities.items():
        n_new, n_old = _counts(res, t)
        lo, hi = f.count_range
        allowed = "" if hi == 0 else f" ({lo:,} to {hi:,} allowed)" if lo != hi else ""
        source = "" if f.existing is None else (f" (layer {f.existing.layer}"
                                                + "".join(f", {c}: {_listed(w)}" for c, w in f.existing.where.items()) + ")")
        parts = [", ".join([f"{n_new:,} new{allowed}"] * (hi > 0) + [f"{n_old:,} existing{source}"])]
        if f.requires:
            parts.append("each draws " + ", ".join(f"{k} ≥ {v:,.0f}" for k, v in f.requires.items()) + f" from units within {f.radius_km:g} km")
        rules = [f"{rule} (rules out {n:,} units)" for rule, n in ruled.get(t, {}).items()]
        rules += [f"at least {f.site.min_spacing_km:g} km apart"] * bool(f.site.min_spacing_km)
        rules += [f"at most {f.site.max_per_state} per state"] * bool(f.site.max_per_state)
        rules += [f"must include {', '.join(f.site.include)}"] * bool(f.site.include)
        rules += [f"excludes {', '.join(f.site.exclude)}"] * bool(f.site.exclude)
        if rules and hi > 0:
            parts.append("site rules: " + "; ".join(rules))
        name = esc(labels[t]) + (f" <span class='muted'>({esc(t)})</span>" if labels[t] != t else "")
        items.append(f"<li><b>{name}</b>: {esc('; '.join(parts))}.</li>")
    return f"<ul class='co-types'>{''.join(items)}</ul>"


def _listed(want) -> str:
    """A where value as written in words: a list joined, a range as its bounds."""
    if isinstance(want, (list, tuple)):
        return " or ".join(map(str, want))
    if isinstance(want, dict):
        return " to ".join(f"{k} {v}" for k, v in want.items())
    return str(want)


def _rules_text(res) -> str:
    """The links and the co-location rule, in words."""
    sp, labels = res.siting, type_labels(res.cfg)
    links = [f"{link_limits(link)}: every new {labels.get(link.to, link.to)} has a {labels.get(link.source, link.source)} within {link.max_km:g} km"
             for link in sp.links]
    out = ("<p>Links: " + esc("; ".join(links)) + ".</p>") if links else "<p>No links.</p>"
    if sp.clusters is not None:
        c = sp.clusters
        held = f"; each cluster holds {' and '.join(labels.get(t, t) for t in c.must_contain)}" if c.must_contain else ""
        text = (f"Co-location: {c.count} cluster{'s' if c.count != 1 else ''} of radius {c.radius_km:g} km; every new "
                f"{' and '.join(labels.get(t, t) for t in c.types)} lies within {c.radius_km:g} km of a cluster centre{held}.")
        out += f"<p>{esc(text)}</p>"
    return out


def _link_costs(res) -> pd.DataFrame:
    """One row per link: its rules, how many facilities it supplies, the km they cover and their cost."""
    sup = res.solution.supplies
    rows = []
    for li, link in enumerate(res.siting.links):
        used = sup.link == li
        km = float(sup.km[used].sum())
        rows.append({"link": link.name, "max_km": link.max_km, "cost_per_km": link.cost_per_km,
                     "capacity": link.capacity if link.capacity is not None else pd.NA,
                     "supplied": int(used.sum()), "km": km, "cost": link.cost_per_km * km})
    return pd.DataFrame(rows, columns=["link", "max_km", "cost_per_km", "capacity", "supplied", "km", "cost"])


def _diagram(res) -> str:
    """The chain as inline SVG: a box per type (in the map's colours), an arrow per link with its limit, km used and cost."""
    labels = type_labels(res.cfg)
    boxes = []
    for c, t in enumerate(labels):
        n_new, n_old = _counts(res, t)
        boxes.append(TypeBox(t, labels[t], type_colour(c), f"{n_new:,} new, {n_old:,} existing"))
    arrows = []
    for _, row in _link_costs(res).iterrows():
        link = res.siting.links[len(arrows)]
        limit = f"≤ {link.max_km:g} km" + (f", capacity {link.capacity}" if link.capacity is not None else "")
        arrows.append(LinkArrow(link.source, link.to, [limit, f"{row['km']:,.0f} km used ({row['supplied']:,} supplied)",
                                                      f"cost {row['cost']:.4g}" + (f" ({link.cost_per_km:g} per km)" if link.cost_per_km else "")]))
    return chain_svg(boxes, arrows)


def _chain_weights(res) -> pd.DataFrame:
    """Per criterion: the scenario's weight and each facility type's that sites new facilities."""
    from ..siting import type_weights

    cfg, w = res.cfg, res.scores.weights
    labels = type_labels(cfg)
    table = pd.DataFrame({"criterion": list(w), "label": [cfg.criteria[k].label or k for k in w], "scenario": list(w.values())})
    for t, pb in res.siting.types.items():
        if pb.most > 0:
            tw = type_weights(cfg, t, w)
            table[labels[t] if labels[t] not in table.columns else f"{labels[t]} ({t})"] = [tw[k] for k in w]
    return table
