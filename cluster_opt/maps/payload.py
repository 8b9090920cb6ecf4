"""The run map's data as one JSON-ready dict, in columns: map.js draws it and builds popups on click.

Schema (lists are per unit unless said otherwise; unit i is row i of ``res.prepared.units``):

- ``title``: name, description, weights [{label, share}], selection (a sentence, or null), lines (more sentences)
- ``bounds`` [[south, west], [north, east]]; ``basemap`` and ``outlines``: packed shapes (maps/shapes.py);
  ``tiles``: the online base layer's name, or null offline
- ``units``: id, name, state (or null), score, rank, class, shape
- ``classes``: title, note, breaks (n + 1), colours (n)
- ``fills``: other unit fills the map can switch to: [{key, label, score, class, classes}] (a chain: each type's site score)
- ``criteria``: [{key, label, raw, normalized, contribution}]
- ``layers``: [{key, label, colour, count, value_name, vmax, lat, lon, value, name}] (at most
  MAX_LAYER_MARKERS symbols each; ``value`` is null when the layer has no value column)
- ``solution`` (what ``update`` redraws): status {solver, proven_optimal, gap, objective, and for a chain
  site_score and link_cost}, member_of, clusters [{number, colour, hub, lat, lon, members, score,
  totals [{name, total, required}], shape}], groups (see point_group), links (see link_group), and for a
  chain rings [{number, colour, lat, lon, radius_km, label, tip}] and per unit unit_outline (colour or
  null) and unit_role (text or null)
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import shapely

from .palette import class_of, cluster_colour, layer_colour, score_classes
from .shapes import bounds_latlng, county_shapes, pack_shapes, simplify_for_display, state_shapes

MAX_LAYER_MARKERS = 5000
SYMBOLS = ("circle", "square", "diamond", "triangle")
ONLINE_TILES = "OpenStreetMap (online)"


def numbers(values, digits: int) -> list:
    """Rounded floats, with null for values that are not finite (JSON has no NaN)."""
    a = np.asarray(values, dtype=float)
    out = np.round(a, digits).tolist()
    for i in np.flatnonzero(~np.isfinite(a)):
        out[i] = None
    return out


def texts(values) -> list:
    """Display strings, with null for missing values."""
    return [None if v is None or v is pd.NA or (isinstance(v, float) and math.isnan(v)) else str(v) for v in values]


def score_fill(scores) -> dict:
    """Each unit's scenario score, rank and class, and the classes (of equal counts) that colour them."""
    score = scores.score.to_numpy()
    bins, colours = score_classes(score)
    return {"score": numbers(score, 6), "rank": [int(r) for r in scores.rank.to_numpy()], "class": class_of(score, bins).tolist(),
            "classes": {"title": "Unit score", "note": "classes of equal counts", "breaks": numbers(bins, 6), "colours": colours}}


def base_payload(res, mode: str = "offline") -> dict:
    """What every run map shows, whatever was sited: units and their scenario score, criteria, layers, frame."""
    u, sc, cfg = res.prepared.units, res.scores, res.cfg
    fill_ = score_fill(sc)
    return {
        "version": 1,
        "title": {"name": cfg.name, "description": cfg.description,
                  "weights": [{"label": cfg.criteria[k].label or k, "share": round(float(w), 6)} for k, w in sc.weights.items()],
                  "selection": None, "lines": []},
        "bounds": bounds_latlng(u.total_bounds),
        "basemap": state_shapes(u.total_bounds),
        "outlines": [] if cfg.units.kind == "county" else county_shapes(cfg.states),  # counties draw their own outlines
        "tiles": ONLINE_TILES if mode == "online" else None,
        "units": {"id": texts(u["id"]), "name": texts(u["name"]), "state": texts(u["state"]),
                  "score": fill_["score"], "rank": fill_["rank"], "class": fill_["class"],
                  "shape": pack_shapes(simplify_for_display(u.geometry.to_numpy()))},
        "classes": fill_["classes"],
        "fills": [],
        "criteria": [{"key": k, "label": cfg.criteria[k].label or k, "raw": numbers(sc.raw[k], 4),
                      "normalized": numbers(sc.normalized[k], 5), "contribution": numbers(sc.contributions[k], 5)}
                     for k in sc.raw.columns],
        "layers": [layer_payload(layer, layer_colour(key, layer.spec.source)) for key, layer in res.prepared.layers.items()],
    }


def run_payload(res, mode: str = "offline") -> dict:
    """Everything the map of a one-type run shows (see the module docstring)."""
    sel = res.cfg.selection
    payload = base_payload(res, mode)
    payload["title"]["selection"] = (f"{sel.clusters} clusters, radius {sel.cluster_radius_km:g} km, "
                                     f"spacing ≥ {sel.min_spacing_km:g} km")
    payload["solution"] = solution_payload(res, alternative_groups(res))
    return payload


def alternative_groups(res) -> list[dict]:
    """One layer per near-optimal alternative (its hubs, or a chain's new facilities, as hollow diamonds), off until
    switched on in the layer list."""
    u = res.prepared.units
    out = []
    for a in res.alternatives[1:]:
        sites = a.solution.sites(next(iter(res.siting.types)))
        h = np.array([j for _, j in sites], dtype=int)
        names = [f"{n}, {s}" for n, s in zip(u["name"].to_numpy()[h], u["state"].to_numpy()[h])]
        if res.cfg.is_chain:
            names = [f"{name} ({t})" for (t, _), name in zip(sites, names)]
        label = f"Alternative {a.number}: objective {a.objective:.4f}, {a.gap:.2%} below the optimum"
        g = point_group(f"alternative_{a.number}", label, cluster_colour(a.number + 3), u["lat"].to_numpy()[h], u["lon"].to_numpy()[h],
                        names, symbol="diamond", fields={"alternative": [a.number] * len(h), "objective": [a.objective] * len(h)},
                        hollow=[True] * len(h))
        g["hidden"] = True
        out.append(g)
    return out


def fill(key: str, label: str, values, title: str) -> dict:
    """A unit fill the map can switch to: the values, their classes of equal counts and the class colours."""
    v = np.asarray(values, dtype=float)
    bins, colours = score_classes(v)
    return {"key": key, "label": label, "score": numbers(v, 6), "class": class_of(v, bins).tolist(),
            "classes": {"title": title, "note": "classes of equal counts", "breaks": numbers(bins, 6), "colours": colours}}


def solution_payload(res, groups: list[dict] | None = None, links: list[dict] | None = None, outlines: dict | None = None) -> dict:
    """The selection part of the payload: what a new solution changes on the map. ``outlines``: a cache of cluster
    outlines by member units, kept by a caller that draws many solutions of the same units."""
    u, sol, ev, pb = res.prepared.units, res.solution, res.evaluation, res.problem
    geoms = u.geometry.to_numpy()
    outlines = {} if outlines is None else outlines
    clusters = []
    for k, h in enumerate(np.asarray(sol.hub_index, dtype=int)):
        mask = sol.member_of == k
        key = np.flatnonzero(mask).tobytes()
        if key not in outlines:  # union first: no slivers
            outlines[key] = pack_shapes(simplify_for_display(np.array([shapely.union_all(geoms[mask])], dtype=object)))[0]
        clusters.append({
            "number": k + 1, "colour": cluster_colour(k), "hub": int(h),
            "lat": round(float(u["lat"].iat[h]), 5), "lon": round(float(u["lon"].iat[h]), 5),
            "members": int(mask.sum()), "score": round(float(ev.cluster_scores[k]), 6),
            "totals": [{"name": n, "total": numbers([ev.cluster_totals[k, r]], 4)[0], "required": numbers([pb.requirements[r]], 4)[0]}
                       for r, n in enumerate(pb.requirement_names)],
            "shape": outlines[key],
        })
    return {"status": {"solver": sol.solver, "proven_optimal": bool(sol.proven_optimal),
                       "gap": None if sol.gap is None else numbers([sol.gap], 6)[0], "objective": numbers([sol.objective], 6)[0]},
            "member_of": [int(k) for k in sol.member_of], "clusters": clusters, "groups": groups or [], "links": links or []}


def layer_payload(layer, colour: str) -> dict:
    """An input layer's symbols: the largest MAX_LAYER_MARKERS by value, sized by value on the map."""
    pts, vals = layer.points, layer.values
    idx = np.arange(len(pts))
    if len(pts) > MAX_LAYER_MARKERS:
        idx = np.sort(np.argsort(-vals, kind="stable")[:MAX_LAYER_MARKERS])
    value_name = layer.spec.value
    vmax = float(vals.max()) if len(vals) and vals.max() > 0 else 1.0
    return {"key": layer.key, "label": layer.label, "colour": colour, "count": len(pts), "value_name": value_name,
            "vmax": numbers([vmax], 4)[0], "lat": numbers(pts.geometry.y.to_numpy()[idx], 5), "lon": numbers(pts.geometry.x.to_numpy()[idx], 5),
            "value": numbers(vals[idx], 4) if value_name else None, "name": texts(pts["feature"].to_numpy()[idx])}


def point_group(key: str, label: str, colour: str, lat, lon, name, symbol: str = "circle", fields: dict | None = None,
                hollow=None, legend: str | None = None) -> dict:
    """Points of one kind (e.g. the facilities of one type): their symbol, legend entry and popup rows.

    ``fields``: popup row label -> one value per point (numbers or text). ``hollow``: per point, drawn
    as an outline (e.g. facilities that exist already). ``legend``: the legend's text (default: label).
    """
    if symbol not in SYMBOLS:
        raise ValueError(f"symbol {symbol!r}: expected one of {', '.join(SYMBOLS)}")
    rows = [{"label": str(k), "values": numbers(v, 4) if np.issubdtype(np.asarray(v).dtype, np.number) else texts(v)}
            for k, v in (fields or {}).items()]
    return {"key": key, "label": label, "colour": colour, "symbol": symbol,
            "lat": numbers(lat, 5), "lon": numbers(lon, 5), "name": texts(name), "fields": rows,
            "hollow": [bool(h) for h in hollow] if hollow is not None else [False] * len(np.atleast_1d(lat)),
            "legend": label if legend is None else legend}


def link_group(key: str, label: str, colour: str, from_lat, from_lon, to_lat, to_lon, tip, dashed=False) -> dict:
    """Lines of one kind (e.g. the supply links from one facility type to another), each with its tooltip text.

    ``dashed``: true or false for all lines, or a list with one per line (e.g. dashed from a facility that exists already).
    """
    dash = [bool(d) for d in dashed] if np.ndim(dashed) else bool(dashed)
    return {"key": key, "label": label, "colour": colour, "dashed": dash,
            "from_lat": numbers(from_lat, 5), "from_lon": numbers(from_lon, 5),
            "to_lat": numbers(to_lat, 5), "to_lon": numbers(to_lon, 5), "tip": texts(tip)}
