"""What a run prints in the terminal: the clusters (or a chain's new facilities), the objective and its check."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console
from rich.table import Table


def print_run(out_console: Console, res, target: Path, quiet: bool) -> None:
    """The run's table, objective, alternatives and notes (unless quiet), and the files written."""
    sol = res.solution
    status = "proven optimal" if sol.proven_optimal else "NOT proven optimal (time limit)"
    table = chain_table(res, status) if res.cfg.is_chain else cluster_table(res, status)
    if not quiet:
        out_console.print(table)
        cost = f" (site scores {sol.objective + res.evaluation.link_cost:.4f} less link costs {res.evaluation.link_cost:.4f})" if res.cfg.is_chain else ""
        out_console.print(f"objective {sol.objective:.4f}{cost}, {sol.certainty()}; "
                          f"solution re-checked: {'passed' if res.evaluation.ok else 'FAILED'}", highlight=False, soft_wrap=True)
        for a in res.alternatives[1:]:
            hubs = ", ".join(f"{n} ({t})" if res.cfg.is_chain else n for t, n in
                             zip(a.solution.facilities.type[a.solution.facilities.new] if res.cfg.is_chain else [""] * len(a.solution.hub_index),
                                 res.prepared.units["name"].to_numpy()[a.solution.hub_index]))
            out_console.print(f"alternative {a.number}: objective {a.objective:.4f} ({a.gap:.2%} below the optimum): {hubs}", highlight=False, soft_wrap=True)
        for note in res.notes:
            out_console.print(f"note: {note}", highlight=False, soft_wrap=True)
    files = ("scores.csv, facilities.csv, links.csv" + (", clusters.csv" if res.siting.clusters else "") + ", facilities.geojson, stability.csv"
             if res.cfg.is_chain else "scores.csv, clusters.csv, selection.geojson, stability.csv")
    alts = ", alternatives.csv, alternatives.html" if res.alternatives else ""
    out_console.print(f"wrote {target}/ ({files}, importance.csv{alts}, map.html, report.html, manifest.json)")


def cluster_table(res, status: str) -> Table:
    sol = res.solution
    table = Table(title=f"{res.cfg.name}: {len(sol.hub_index)} clusters, {status}", title_justify="left")
    for col in ("#", "hub", "state", "members", "score", *res.problem.requirement_names):
        table.add_column(col, justify="right" if col not in ("hub", "state") else "left")
    u = res.prepared.units
    for k, h in enumerate(sol.hub_index):
        mask = sol.member_of == k
        table.add_row(str(k + 1), str(u["name"].iat[h]), str(u["state"].iat[h]), str(int(mask.sum())),
                      f"{res.evaluation.cluster_scores[k]:.3f}", *[f"{v:,.0f}" for v in res.evaluation.cluster_totals[k]])
    return table


def chain_table(res, status: str) -> Table:
    """The new facilities (existing ones are counted in the title), with their cluster and suppliers."""
    import pandas as pd

    from .outputs.chain_tables import facilities_table

    fac = facilities_table(res)
    new = fac[fac["status"] == "new"]
    existing = fac[fac["status"] == "existing"]["type"].value_counts()
    title = (f"{res.cfg.name}: {len(new)} new facilities" + (f" and {int(existing.sum())} existing ("
             + ", ".join(f"{n} {t}" for t, n in existing.items()) + ")" if len(existing) else "") + f", {status}")
    table = Table(title=title, title_justify="left")
    for col in ("#", "type", "unit", "state", "site score", "cluster", "supplied by"):
        table.add_column(col, justify="right" if col in ("#", "site score", "cluster") else "left")
    for r in new.itertuples():
        table.add_row(str(r.facility), str(r.type), str(r.name), str(r.state), f"{r.site_score:.3f}",
                      "" if pd.isna(r.cluster) else str(r.cluster), str(r.supplied_by))
    return table
