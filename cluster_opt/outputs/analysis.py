"""Output folders of comparisons and sweeps, written atomically like run directories."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from ..analysis.compare import Comparison, roles
from ..analysis.stability import stability_intervals
from ..analysis.sweep import SweepResult, SweepSetup, frequencies, hub_weight_ranges
from ..maps import cluster_colour, esc
from ..maps.pages import _table, map_panels, page
from ..maps.chainmap import unit_roles, type_labels
from ..maps.palette import score_fill, type_colour
from . import FLOAT_FORMAT, versions, clusters_table
from .chain_tables import facilities_table
from .rundir import atomic_dir, check_target


def _csv(df: pd.DataFrame, path: Path) -> None:
    df.to_csv(path, index=False, float_format=FLOAT_FORMAT, lineterminator="\n")


OUTSIDE = "#e0e0e0"  # units of another scenario's study area


def _panel(res, title: str, units) -> dict:
    """One scenario's map over ``units`` (every scenario's units): its own fill, tips and hubs by unit id."""
    u = res.prepared.units
    at = pd.Index(u["id"]).get_indexer(units["id"])  # row of each shown unit in this scenario, -1 if outside it
    inside = at >= 0
    fill, _, _ = score_fill(res.scores.score.to_numpy())
    mo = res.solution.member_of
    score, rank = res.scores.score.to_numpy(), res.scores.rank.to_numpy()
    if res.solution.facilities is None:
        role = np.array([f"cluster {k + 1}" if k >= 0 else None for k in mo], dtype=object)
        outline = np.array([cluster_colour(k) if k >= 0 else "" for k in mo], dtype=object)
    else:  # a chain: outlines coloured by the facility type a unit serves
        outline, role = unit_roles(res, type_labels(res.cfg))
        outline = np.where(outline == None, "", outline)  # noqa: E711 (elementwise)
    hubs = markers(res, "")
    tips = [f"{n}, {s}: score {score[i]:.3f}, rank {rank[i]}" + (f", {role[i]}" if role[i] else "") if i >= 0
            else f"{n}, {s}: outside this scenario's study area" for n, s, i in zip(units["name"], units["state"], at)]
    return {"title": title, "fill": [fill[i] if ok else OUTSIDE for i, ok in zip(at, inside)], "tip": tips,
            "outline": [outline[i] if ok else "" for i, ok in zip(at, inside)], "hubs": hubs}


def markers(res, note: str) -> list[dict]:
    """Numbered markers of a scenario's picks: its hubs by cluster colour, or a chain's new facilities by type colour
    (numbered as in facilities.csv)."""
    u, fac = res.prepared.units, res.solution.facilities
    if fac is None:
        return [{"lat": float(u["lat"].iat[h]), "lon": float(u["lon"].iat[h]), "label": str(k + 1), "colour": cluster_colour(k),
                 "tip": f"Cluster {k + 1}{note}: {u['name'].iat[h]}, {u['state'].iat[h]}"} for k, h in enumerate(res.solution.hub_index)]
    labels = type_labels(res.cfg)
    colours = {t: type_colour(c) for c, t in enumerate(labels)}
    return [{"lat": float(fac.lat[k]), "lon": float(fac.lon[k]), "label": str(k + 1), "colour": colours.get(fac.type[k], "#444"),
             "tip": f"Facility {k + 1}{note}: new {labels.get(fac.type[k], fac.type[k])}, {u['name'].iat[fac.unit[k]]}, {u['state'].iat[fac.unit[k]]}"}
            for k in np.flatnonzero(fac.new)]


def _picks_table(res) -> pd.DataFrame:
    """A scenario's picks as a table: its clusters, or a chain's facilities."""
    if res.solution.facilities is None:
        return clusters_table(res)[["cluster", "hub_name", "hub_state", "members", "score"]]
    return facilities_table(res)[["facility", "type", "status", "name", "state", "site_score", "cluster", "supplied_by"]]


def shown_units(results) -> gpd.GeoDataFrame:
    """Every unit of every scenario, once (scenarios may cover different study areas)."""
    frames = [r.prepared.units for r in results]
    allu = pd.concat(frames, ignore_index=True).drop_duplicates("id").sort_values("id", kind="stable").reset_index(drop=True)
    return gpd.GeoDataFrame(allu, geometry="geometry", crs=frames[0].crs)


def write_compare(cmp: Comparison, out: Path, overwrite: bool = False, sources: list[str] | None = None,
                  extra: dict[str, pd.DataFrame] | None = None, intro: str = "") -> Path:
    """compare.html, compare.csv, overlap.csv and manifest.json (and ``extra`` tables by file stem, and an ``intro``
    paragraph of HTML above the maps)."""
    out = Path(out)
    protect = [p for r in cmp.results for p in r.cfg.input_paths()]
    check_target(out, overwrite, protect, "compare")
    with atomic_dir(out, overwrite, protect, "compare") as tmp:
        _csv(cmp.table, tmp / "compare.csv")
        _csv(cmp.overlap, tmp / "overlap.csv")
        for stem, table in (extra or {}).items():
            _csv(table, tmp / f"{stem}.csv")
        units = shown_units(cmp.results)
        panels = [_panel(r, n, units) for n, r in zip(cmp.names, cmp.results)]
        maps_html = map_panels(units, panels, columns=min(len(panels), 3))
        weights = pd.DataFrame([{"scenario": n, **{k: round(v, 3) for k, v in r.scores.weights.items()},
                                 "objective": r.solution.objective, "status": r.solution.status} for n, r in zip(cmp.names, cmp.results)])
        clusters = "".join(f"<h3>{esc(n)}</h3>" + _table(_picks_table(r)) for n, r in zip(cmp.names, cmp.results))
        chains = any(r.solution.facilities is not None for r in cmp.results)
        legend = ("coloured outlines: cluster members, or for a chain the units a facility draws on, in its type's colour; "
                  "numbered markers: hubs, or a chain's new facilities (numbered as in its facilities table)" if chains
                  else "coloured outlines: cluster members; numbered markers: hubs")
        body = (f"<h1>Scenario comparison: {esc(', '.join(cmp.names))}</h1>"
                f"{intro}<p>Maps pan and zoom together. Fill: unit score (classes of equal counts); {legend}.</p>"
                f"{maps_html}<h2>Weights and solutions</h2>{_table(weights)}"
                f"<h2>Overlap between scenarios</h2>{_table(cmp.overlap.drop(columns=['shared_site_ids' if chains else 'shared_hub_ids'], errors='ignore'))}"
                f"<h2>{'Picks' if chains else 'Clusters'}</h2>{clusters}<h2>Units whose rank moves most</h2>{_table(cmp.movers)}")
        (tmp / "compare.html").write_text(page("Scenario comparison", body), encoding="utf-8")
        manifest = {"created": datetime.now(timezone.utc).isoformat(timespec="seconds"), "scenarios": cmp.names, "config_files": sources,
                    "configs": {n: r.cfg.resolved() for n, r in zip(cmp.names, cmp.results)},
                    "solutions": {n: r.solution.summary() for n, r in zip(cmp.names, cmp.results)}, "versions": versions()}
        (tmp / "manifest.json").write_text(json.dumps(manifest, indent=2, default=str) + "\n", encoding="utf-8")
    return out


def write_sweep(setup: SweepSetup, sweep: SweepResult, base, out: Path, overwrite: bool = False, extra: dict | None = None,
                robust: float = 0.9) -> Path:
    """base: the RunResult of the config's own weights (the reference selection)."""
    out = Path(out)
    protect = base.cfg.input_paths()
    check_target(out, overwrite, protect, "sweep")
    units = base.prepared.units
    freq = frequencies(setup, sweep, units["id"].to_numpy(), robust)
    freq.insert(1, "name", units["name"].to_numpy())
    freq.insert(2, "state", units["state"].to_numpy())
    freq["base_role"] = roles(base)[0]
    chain = base.solution.facilities is not None
    ids = units["id"].to_numpy()
    fac = base.solution.facilities
    types = fac.type[fac.new] if chain else np.full(len(base.solution.hub_index), next(iter(setup.problem.types)))
    ranges = hub_weight_ranges(setup, sweep, base.solution.hub_index, types)
    if chain:  # one row per new facility of the config's answer: its type and site
        ranges.insert(0, "type", types)
        ranges.insert(1, "site_id", ids[ranges["unit"]])
        ranges.insert(2, "site_name", units["name"].to_numpy()[ranges["unit"]])
    else:
        ranges.insert(0, "hub_id", ids[ranges["unit"]])
        ranges.insert(1, "hub_name", units["name"].to_numpy()[ranges["unit"]])
    ranges = ranges.drop(columns=["unit"])
    stab = stability_intervals(base.scores.normalized, base.scores.weights, len(base.solution.hub_index))
    samples = pd.DataFrame(sweep.weights, columns=setup.criteria)
    samples["objective"] = [r["objective"] for r in sweep.results]
    if chain:
        samples["sites"] = [";".join(f"{t}:{i}" for t, i in zip(r["types"], ids[r["hubs"]])) for r in sweep.results]
    else:
        samples["hubs"] = [";".join(ids[r["hubs"]]) for r in sweep.results]
    with atomic_dir(out, overwrite, protect, "sweep") as tmp:
        _csv(freq, tmp / "frequency.csv")
        _csv(samples, tmp / "weightings.csv")
        _csv(ranges, tmp / "hub_weight_ranges.csv")
        _csv(stab, tmp / "stability.csv")
        f = freq["frequency"].to_numpy()
        serves, hosts = ("serving a facility", "hosting a new facility") if chain else ("in a cluster", "a hub")
        bins = [0.0, 1e-9, 0.25, 0.5, 0.75, robust, 1.0 + 1e-9]
        colours = ["#f7f7f7", "#fee5d9", "#fcae91", "#fb6a4a", "#de2d26", "#a50f15"]
        fill = [colours[int(np.clip(np.searchsorted(bins, v, side="right") - 1, 0, 5))] for v in f]
        panel = {"title": f"Share of {len(sweep.results):,} weightings in which each unit is in a cluster",
                 "fill": fill, "outline": ["#000" if r else "" for r in freq["robust"]],
                 "tip": [f"{n}, {s}: {serves} in {v:.0%} of weightings, {hosts} in {h:.0%}" for n, s, v, h in
                         zip(freq["name"], freq["state"], f, freq["hub_frequency"])],
                 "hubs": markers(base, " with the config's weights")}
        maps_html = map_panels(units, [panel], columns=1)
        what = "each new facility of the config's answer stays at its site" if chain else "each hub of the config's selection stays a hub"
        legend = "".join(f"<span style='background:{c}'></span>{esc(lab)}" for c, lab in
                         zip(colours, ["never", "< 25%", "25–50%", "50–75%", f"75–{robust:.0%}", f"≥ {robust:.0%} (robust core, black outline)"]))
        core = freq[freq["robust"]]
        body = (f"<h1>Weight sweep: {esc(base.cfg.name)}</h1>"
                f"<p>{len(sweep.results):,} weightings around the config's weights, solved on {esc(sweep.scheduler)} with {esc(sweep.workers)} worker(s) "
                f"in {sweep.seconds:.1f} s; every solution proven optimal and re-checked.</p>"
                f"<div class='co-legend'>{legend}</div>{maps_html}"
                f"<h2>Robust core: {len(core):,} units {serves} in at least {robust:.0%} of weightings</h2>"
                + _table(core.sort_values(["frequency", "id"], ascending=[False, True])[["id", "name", "state", "frequency", "hub_frequency"]].head(60))
                + f"<h2>Weight ranges in which {what}</h2>" + _table(ranges)
                + f"<h2>Exact stability of the top {esc(stab['top_k'].iat[0])} units by score</h2>"
                "<p>For each criterion, the range of its weight (the others rescaled in proportion) in which the set of best-scoring units does not change.</p>"
                + _table(stab))
        (tmp / "sweep.html").write_text(page(f"Weight sweep: {base.cfg.name}", body), encoding="utf-8")
        manifest = {"created": datetime.now(timezone.utc).isoformat(timespec="seconds"), "config": base.cfg.resolved(),
                    "config_sha256": base.cfg.digest(), "weightings": len(sweep.results), "criteria": setup.criteria,
                    "scheduler": sweep.scheduler, "workers": sweep.workers, "seconds": round(sweep.seconds, 3),
                    "all_optimal": all(r["status"] == "optimal" for r in sweep.results), "all_checked": all(r["check"] for r in sweep.results),
                    "robust_threshold": robust, "robust_core": core["id"].tolist(), "versions": versions(), **(extra or {})}
        (tmp / "manifest.json").write_text(json.dumps(manifest, indent=2, default=str) + "\n", encoding="utf-8")
    return out


def alternatives_page(res, alts) -> str:
    """alternatives.html: the optimum and each near-optimal alternative side by side, in the format of compare."""
    import dataclasses

    from ..analysis.alternatives import alternatives_table, selection_frequency

    units = res.prepared.units
    panels = [_panel(dataclasses.replace(res, solution=a.solution), "optimum" if a.number == 0 else
                     f"alternative {a.number}: objective {a.objective:.4f} ({a.gap:.2%} below)", units) for a in alts]
    within = (res.cfg.selection or res.cfg).alternatives.within
    body = (f"<h1>Near-optimal alternatives: {esc(res.cfg.name)}</h1>"
            f"<p>The optimum and {len(alts) - 1} other selections, each proven within {within:.1%} of it (a row keeps the objective "
            "at least that high) and each as different as possible from the ones before it (a no-good cut forbids each one found; "
            "the solver then minimizes how often its sites were picked before). Every one passed the independent check. "
            "Maps pan and zoom together. Fill: unit score; coloured outlines: cluster members (for a chain, the units a facility draws on); "
            "numbered markers: hubs (for a chain, new facilities).</p>"
            f"{map_panels(units, panels, columns=min(len(panels), 3))}"
            f"<h2>Selections</h2>{_table(alternatives_table(res, alts).drop(columns=['sites']))}"
            f"<h2>Selection frequency</h2><p class='muted'>Share of the {len(alts)} selections in which each unit hosts a site (a hub or a new facility), and serves one.</p>"
            f"{_table(selection_frequency(res, alts))}")
    return page("Near-optimal alternatives", body)

