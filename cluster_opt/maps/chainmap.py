"""A chain's map data, on the run map's payload: facilities by type, supply links, co-location clusters, site-score fills.

Each facility type is a point group (its own colour and symbol; existing facilities hollow), each
link a link group (dashed from an existing supplier), each co-location cluster a ring of its
radius, and each type that sites new facilities a fill of its site score the map can switch to.
"""

from __future__ import annotations

import numpy as np

from .palette import RING_COLOUR, type_colour
from .payload import SYMBOLS, alternative_groups, base_payload, fill, link_group, numbers, point_group, texts


def amount(x) -> str:
    """A total or a requirement as a planner reads it: thousands separated, three figures when small."""
    if x is None or not np.isfinite(x):
        return "–"
    return f"{x:,.0f}" if abs(x) >= 100 else f"{x:.3g}"


def type_labels(cfg) -> dict[str, str]:
    """Each facility type's display name (its label, else its key), in config order."""
    return {t: f.label or t for t, f in cfg.facilities.items()}


def chain_payload(res, mode: str = "offline") -> dict:
    """Everything the map of a chain shows (see payload.py's docstring for the schema)."""
    payload = base_payload(res, mode)
    labels, ids = type_labels(res.cfg), res.prepared.units["id"]
    payload["title"]["lines"] = chain_lines(res)
    payload["classes"]["title"] = "Scenario score"
    payload["fills"] = [fill(t, labels[t], res.type_scores[t].reindex(ids).to_numpy(), f"{labels[t]} site score")
                        for t, pb in res.siting.types.items() if pb.most > 0 and t in res.type_scores]
    payload["solution"] = chain_solution(res)
    return payload


def chain_lines(res) -> list[str]:
    """The title's sentences: the facilities of each type, the links and their limits, the co-location rule."""
    fac, sp, labels = res.solution.facilities, res.siting, type_labels(res.cfg)
    counts = []
    for t, label in labels.items():
        mine = fac.type == t
        n_new, n_old = int((mine & fac.new).sum()), int((mine & ~fac.new).sum())
        parts = ([f"{n_new} new"] if t in sp.types and sp.types[t].most > 0 else []) + ([f"{n_old} existing"] if n_old else [])
        counts.append(f"{label} {', '.join(parts) or 'none'}")
    lines = ["Facilities: " + "; ".join(counts)]
    if sp.links:
        lines.append("Links: " + "; ".join(link_limits(link) for link in sp.links))
    if sp.clusters is not None:
        c = sp.clusters
        lines.append(f"Co-location: {c.count} cluster{'s' if c.count != 1 else ''} of radius {c.radius_km:g} km"
                     + (f", each holding {', '.join(labels.get(t, t) for t in c.must_contain)}" if c.must_contain else ""))
    return lines


def link_limits(link) -> str:
    """A link and its rules: "mine → refinery ≤ 400 km, 0.0005 per km, capacity 2"."""
    return (f"{link.name} ≤ {link.max_km:g} km" + (f", {link.cost_per_km:g} per km" if link.cost_per_km else "")
            + (f", capacity {link.capacity}" if link.capacity is not None else ""))


def chain_solution(res) -> dict:
    """The solution part of a chain's payload: status, facility groups, link groups, cluster rings, unit outlines and roles."""
    from ..outputs.chain_tables import facilities_table

    sol, ev = res.solution, res.evaluation
    fac, labels = sol.facilities, type_labels(res.cfg)
    table = facilities_table(res)
    heading = [f"Facility {k + 1}: {name}" for k, name in enumerate(fac.name)]
    states = [None if s in ("", "nan", "None", "<NA>") else s for s in table["state"]]  # the table writes a missing state as text
    units = [f"{i}, {s}" if i and s else (i or None) for i, s in zip(table["unit_id"], states)]
    supplied_by, supplies = _supply_texts(res)
    groups = []
    for c, (t, label) in enumerate(labels.items()):
        idx = np.flatnonzero(fac.type == t)
        pb = res.siting.types.get(t)
        fields = {"status": fac.status[idx], "id": fac.ident[idx], "unit": [units[k] for k in idx], "site score": fac.score[idx],
                  "cluster": [str(fac.cluster[k] + 1) if fac.cluster[k] >= 0 else None for k in idx]}
        for r, name in enumerate(pb.requirement_names if pb is not None else []):
            fields[f"{name} total"] = [f"{amount(ev.totals.get(int(k), {}).get(name))} (required {amount(pb.requirements[r])})"
                                       if fac.new[k] else None for k in idx]
        fields["supplied by"] = [supplied_by[k] for k in idx]
        fields["supplies"] = [supplies[k] for k in idx]
        n_new, n_old = int(fac.new[idx].sum()), int((~fac.new[idx]).sum())
        legend = f"{label}: " + ", ".join([f"{n_new} new"] * bool(n_new or not n_old) + [f"{n_old} existing"] * bool(n_old))
        groups.append(point_group(t, label, type_colour(c), fac.lat[idx], fac.lon[idx], [heading[k] for k in idx],
                                  SYMBOLS[c % len(SYMBOLS)], fields, hollow=~fac.new[idx], legend=legend))
    groups += alternative_groups(res)
    outline, role = unit_roles(res, labels)
    return {"status": {"solver": sol.solver, "proven_optimal": bool(sol.proven_optimal),
                       "gap": None if sol.gap is None else numbers([sol.gap], 6)[0], "objective": numbers([sol.objective], 6)[0],
                       "site_score": numbers([ev.objective + ev.link_cost], 6)[0], "link_cost": numbers([ev.link_cost], 6)[0]},
            "member_of": [int(k) for k in sol.member_of], "clusters": [], "groups": groups, "links": _links(res, labels),
            "rings": _rings(res, labels), "unit_outline": texts(outline), "unit_role": texts(role)}


def _supply_texts(res) -> tuple[list, list]:
    """Per facility: its suppliers and whom it supplies, as "17 Wayne County (cell), 460 km; ...", or None."""
    fac, sup, labels = res.solution.facilities, res.solution.supplies, type_labels(res.cfg)
    by: list[list[str]] = [[] for _ in range(len(fac))]
    to: list[list[str]] = [[] for _ in range(len(fac))]
    for s, k, km in zip(sup.source.tolist(), sup.to.tolist(), sup.km.tolist()):
        by[k].append(f"{s + 1} {fac.name[s]} ({labels.get(fac.type[s], fac.type[s])}), {km:,.0f} km")
        to[s].append(f"{k + 1} {fac.name[k]} ({labels.get(fac.type[k], fac.type[k])}), {km:,.0f} km")
    return ["; ".join(x) or None for x in by], ["; ".join(x) or None for x in to]


def _links(res, labels: dict[str, str]) -> list[dict]:
    """One link group per supply link: a line from each supplier to the facility it supplies."""
    fac, sup = res.solution.facilities, res.solution.supplies
    colours = {t: type_colour(c) for c, t in enumerate(labels)}
    out = []
    for li, link in enumerate(res.siting.links):
        rows = np.flatnonzero(sup.link == li)
        s, k, km = sup.source[rows], sup.to[rows], sup.km[rows]
        rule = f"limit {link.max_km:g} km" + (f", capacity {link.capacity}" if link.capacity is not None else "")
        tips = [f"{link.name}: {a + 1} {fac.name[a]} → {b + 1} {fac.name[b]}, {d:,.1f} km ({rule}), cost {link.cost_per_km * d:.4g}"
                for a, b, d in zip(s.tolist(), k.tolist(), km.tolist())]
        out.append(link_group(f"link-{li}", link_limits(link), colours.get(link.source, "#444"),
                              fac.lat[s], fac.lon[s], fac.lat[k], fac.lon[k], tips, dashed=~fac.new[s]))
    return out


def _rings(res, labels: dict[str, str]) -> list[dict]:
    """Each open co-location cluster: a circle of the rule's radius around its centre unit."""
    sol, rule, u = res.solution, res.siting.clusters, res.prepared.units
    if rule is None or sol.centres is None:
        return []
    fac, out = sol.facilities, []
    for c, m in enumerate(np.asarray(sol.centres, dtype=int).tolist()):
        inside = fac.within(u["lat"].iat[m], u["lon"].iat[m], rule.radius_km)
        held = ", ".join(labels.get(t, t) for t in dict.fromkeys(fac.type[inside].tolist()))
        state = u["state"].iat[m]
        centre = f"{u['name'].iat[m]}" + (f", {state}" if isinstance(state, str) and state else "") + f" ({u['id'].iat[m]})"
        out.append({"number": c + 1, "colour": RING_COLOUR, "lat": numbers([u["lat"].iat[m]], 5)[0], "lon": numbers([u["lon"].iat[m]], 5)[0],
                    "radius_km": float(rule.radius_km), "label": f"Cluster {c + 1}",
                    "tip": f"Cluster {c + 1}: within {rule.radius_km:g} km of {centre}; {int(inside.sum())} facilities" + (f" ({held})" if held else "")})
    return out


def unit_roles(res, labels: dict[str, str]) -> tuple[np.ndarray, np.ndarray]:
    """Per unit: the colour of the facility type it serves or hosts (else None), and that role as text (else None)."""
    sol = res.solution
    fac, member = sol.facilities, np.asarray(sol.member_of, dtype=int)
    colours = {t: type_colour(c) for c, t in enumerate(labels)}
    fac_colour = np.array([colours.get(t, "#444") for t in fac.type] + [None], dtype=object)
    serves = np.array([f"serves facility {k + 1} ({labels.get(t, t)})" for k, t in enumerate(fac.type)] + [None], dtype=object)
    outline, role = fac_colour[member].copy(), serves[member].copy()  # -1 picks the trailing None
    sites: dict[int, list[int]] = {}
    for k in np.flatnonzero(fac.new).tolist():
        sites.setdefault(int(fac.unit[k]), []).append(k)
    for i, ks in sites.items():
        text = [f"site of facility {k + 1} ({labels.get(fac.type[k], fac.type[k])})" for k in ks]
        role[i] = "; ".join(text + ([role[i]] if member[i] >= 0 and member[i] not in ks else []))
        outline[i] = fac_colour[member[i]] if member[i] >= 0 else fac_colour[ks[0]]
    return outline, role
