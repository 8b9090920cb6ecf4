"""The run's folium map: score choropleth, clusters, input layers, popups and legends."""

from __future__ import annotations

import html

import branca.colormap as cm
import folium
import numpy as np
from branca.element import Element
from shapely.geometry import box

from .. import geodata
from .assets import leaflet_css, leaflet_js

CLUSTER_COLOURS = ["#e41a1c", "#377eb8", "#4daf4a", "#984ea3", "#ff7f00", "#a65628", "#f781bf", "#17becf",
                   "#bcbd22", "#1f78b4", "#b2df8a", "#fb9a99", "#cab2d6", "#6a3d9a", "#b15928", "#8dd3c7"]
LAYER_COLOURS = {"minerals": "#8c510a", "power_plants": "#d95f02", "grid": "#d95f02", "ports": "#1b9e77", "labor": "#7570b3"}
DISPLAY_TOLERANCE_DEG = 0.005  # ~500 m: simplification for display only
MAX_LAYER_MARKERS = 5000


def esc(x) -> str:
    return html.escape(str(x), quote=True)


def _fmt(x: float) -> str:
    if not np.isfinite(x):
        return "–"
    return f"{x:,.0f}" if abs(x) >= 100 else f"{x:,.3g}"


def cluster_colour(k: int) -> str:
    return CLUSTER_COLOURS[k % len(CLUSTER_COLOURS)]


def _unit_features(res) -> dict:
    """GeoJSON of every unit with its score breakdown as pre-escaped popup HTML."""
    u = res.units
    sc = res.scores
    sol = res.solution
    crit = list(res.cfg.criteria)
    labels = {k: (c.label or k) for k, c in res.cfg.criteria.items()}
    geom = u.geometry.simplify(DISPLAY_TOLERANCE_DEG, preserve_topology=True)
    raw, norm, con = sc.raw.to_numpy(), sc.normalized.to_numpy(), sc.contributions.to_numpy()
    score, rank = sc.score.to_numpy(), sc.rank.to_numpy()
    feats = []
    for i in range(len(u)):
        k = int(sol.member_of[i])
        role = "hub" if k >= 0 and sol.hubs[k] == i else ("member" if k >= 0 else "")
        rows = "".join(
            f"<tr><td>{esc(labels[c])}</td><td>{_fmt(raw[i, j])}</td><td>{norm[i, j]:.3f}</td><td>{con[i, j]:.3f}</td></tr>"
            for j, c in enumerate(crit)
        )
        where = f"cluster {k + 1} ({role})" if k >= 0 else "not in a cluster"
        popup = (f"<b>{esc(u['name'].iat[i])}, {esc(u['state'].iat[i])}</b> <small>{esc(u['id'].iat[i])}</small><br>"
                 f"score <b>{score[i]:.4f}</b>, rank {int(rank[i])} of {len(u)}; {where}"
                 f"<table class='co-breakdown'><tr><th>criterion</th><th>raw</th><th>normalized</th><th>contribution</th></tr>{rows}</table>")
        feats.append({
            "type": "Feature",
            "geometry": geom.iloc[i].__geo_interface__,
            "properties": {"id": esc(u["id"].iat[i]), "name": esc(f"{u['name'].iat[i]}, {u['state'].iat[i]}"), "score": round(float(score[i]), 6),
                           "rank": int(rank[i]), "cluster": k + 1, "popup": popup, "tip": esc(f"{u['name'].iat[i]}, {u['state'].iat[i]}: score {score[i]:.3f}, rank {int(rank[i])}")},
        })
    return {"type": "FeatureCollection", "features": feats}


def base_map(bounds, mode: str = "offline") -> folium.Map:
    """A folium map with Leaflet inlined (no CDN) and an offline basemap of state outlines.

    ``mode="online"`` adds OpenStreetMap tiles as an extra base layer for viewers with a network.
    """
    minx, miny, maxx, maxy = bounds
    m = folium.Map(location=[(miny + maxy) / 2, (minx + maxx) / 2], zoom_start=5, tiles=None, control_scale=True)
    m.default_js, m.default_css = [], []  # nothing fetched at view time: Leaflet is inlined below
    m.get_root().header.add_child(Element(f"<style>{leaflet_css()}</style>\n<script>{leaflet_js()}</script>\n<script>{_DOLLAR_SHIM}</script>"),
                                  name="leaflet_inline", index=0)
    m.fit_bounds([[miny, minx], [maxy, maxx]])
    if mode == "online":
        folium.TileLayer("OpenStreetMap", name="OpenStreetMap (online)", show=True).add_to(m)
    st = geodata.states()
    st = st[st.intersects(box(minx - 5, miny - 5, maxx + 5, maxy + 5))]
    outline = st.set_geometry(st.geometry.simplify(0.01, preserve_topology=True))[["state", "geometry"]]
    folium.GeoJson(outline.__geo_interface__, name="Basemap: state outlines", control=False,
                   style_function=lambda f: {"color": "#555", "weight": 1.2, "fill": True, "fillColor": "#f4f1ea", "fillOpacity": 1.0},
                   interactive=False).add_to(m)
    return m


def render_map(res, mode: str = "offline") -> folium.Map:
    u, sol = res.units, res.solution
    m = base_map(u.total_bounds, mode)

    scores = res.scores.score.to_numpy()
    bins, colours = score_classes(scores)
    data = _unit_features(res)
    cls = lambda v: colours[int(np.clip(np.searchsorted(bins, v, side="right") - 1, 0, len(colours) - 1))]  # noqa: E731
    choro = folium.GeoJson(
        data, name="Score", style_function=lambda f: {"fillColor": cls(f["properties"]["score"]), "color": "#666", "weight": 0.3, "fillOpacity": 0.75},
        highlight_function=lambda f: {"weight": 2, "color": "#000"},
        tooltip=folium.GeoJsonTooltip(fields=["tip"], labels=False),
        popup=folium.GeoJsonPopup(fields=["popup"], labels=False, max_width=420),
    )
    choro.add_to(m)
    if res.cfg.units.kind != "county":  # county units draw their own outlines; others get them over the fill
        cty = geodata.counties()
        cty = cty[cty["state"].isin(res.cfg.states)]
        lines = cty.set_geometry(cty.geometry.simplify(0.01, preserve_topology=True).boundary)[["geometry"]]
        folium.GeoJson(lines.__geo_interface__, name="County outlines", interactive=False,
                       style_function=lambda f: {"color": "#555", "weight": 0.6, "opacity": 0.7}).add_to(m)
    m.get_root().html.add_child(Element(_score_legend(bins, colours)))

    # Clusters: member outlines and hub markers.
    cl = folium.FeatureGroup(name="Clusters", show=True)
    for k, h in enumerate(sol.hubs):
        mask = sol.member_of == k
        outline = u.geometry[mask].union_all().simplify(DISPLAY_TOLERANCE_DEG, preserve_topology=True)  # union first: no slivers
        colour = cluster_colour(k)
        folium.GeoJson(outline.__geo_interface__, interactive=False,  # a white halo keeps the outline visible on dark classes
                       style_function=lambda f: {"color": "#fff", "weight": 7, "fill": False, "opacity": 0.9}).add_to(cl)
        folium.GeoJson(outline.__geo_interface__, style_function=lambda f, c=colour: {"color": c, "weight": 3, "fill": False},  # unfilled: clicks reach the units
                       tooltip=esc(f"Cluster {k + 1}: {int(mask.sum())} units around {u['name'].iat[h]}, {u['state'].iat[h]}")).add_to(cl)
        totals = "".join(f"<br>{esc(n)}: {_fmt(res.evaluation.cluster_totals[k, r])} (required {_fmt(res.problem.requirements[r])})" for r, n in enumerate(res.problem.requirement_names))
        popup = (f"<b>Cluster {k + 1}</b>: hub {esc(u['name'].iat[h])}, {esc(u['state'].iat[h])} ({esc(u['id'].iat[h])})"
                 f"<br>{int(mask.sum())} member units, cluster score {res.evaluation.cluster_scores[k]:.3f}{totals}")
        folium.Marker([float(u["lat"].iat[h]), float(u["lon"].iat[h])], popup=folium.Popup(popup, max_width=360),
                      tooltip=esc(f"Cluster {k + 1} hub: {u['name'].iat[h]}, {u['state'].iat[h]}"),
                      icon=folium.DivIcon(html=f"<div class='co-hub' style='background:{colour}'>{k + 1}</div>", icon_size=(26, 26), icon_anchor=(13, 13))).add_to(cl)
    cl.add_to(m)

    for key, layer in res.prepared.layers.items():
        _layer_overlay(layer, LAYER_COLOURS.get(key) or LAYER_COLOURS.get(layer.spec.source.removeprefix("builtin:"), "#444")).add_to(m)

    folium.LayerControl(collapsed=False).add_to(m)
    m.get_root().header.add_child(Element(_CSS))
    m.get_root().html.add_child(Element(_title_block(res)))
    return m


def score_classes(scores: np.ndarray, k: int = 7) -> tuple[np.ndarray, list[str]]:
    """Quantile class breaks (mapclassify's Quantiles: equal counts) and a colour per class."""
    import mapclassify

    uniq = np.unique(scores)
    upper = mapclassify.Quantiles(scores, k=min(k, max(len(uniq) - 1, 1))).bins if len(uniq) > 1 else uniq
    bins = np.unique(np.concatenate([[scores.min()], upper]))
    if len(bins) < 2:
        bins = np.array([scores.min(), scores.min() + 1e-9])
    ramp = cm.linear.YlGnBu_09.scale(0, 1)
    n = len(bins) - 1
    return bins, [ramp(0.1 + 0.9 * i / max(n - 1, 1)) for i in range(n)]


def _score_legend(bins: np.ndarray, colours: list[str]) -> str:
    rows = "".join(f"<div><span class='co-swatch' style='background:{c}'></span>{bins[i]:.3f} – {bins[i + 1]:.3f}</div>" for i, c in enumerate(colours))
    return f"<div class='co-score-legend'><b>Unit score</b><br><small>classes of equal counts</small>{rows}</div>"


def _layer_overlay(layer, colour: str) -> folium.FeatureGroup:
    """One GeoJSON layer of circles sized by value (a single element, however many points)."""
    pts = layer.points
    fg = folium.FeatureGroup(name=f"Layer: {esc(layer.label)} ({len(pts):,})", show=False)
    vals = layer.values
    idx = np.arange(len(pts))
    if len(pts) > MAX_LAYER_MARKERS:
        idx = np.sort(np.argsort(-vals, kind="stable")[:MAX_LAYER_MARKERS])
    vmax = float(vals.max()) if len(vals) and vals.max() > 0 else 1.0
    value_name = layer.spec.value
    xs, ys = pts.geometry.x.to_numpy(), pts.geometry.y.to_numpy()
    names = pts["feature"].astype(str).to_numpy()
    radius = (3 + 12 * np.sqrt(np.clip(vals, 0, None) / vmax)) if value_name else np.full(len(pts), 4.0)
    feats = [{"type": "Feature", "geometry": {"type": "Point", "coordinates": [round(float(xs[i]), 5), round(float(ys[i]), 5)]},
              "properties": {"r": round(float(radius[i]), 1),
                             "tip": esc(names[i] + (f": {value_name} {_fmt(vals[i])}" if value_name else ""))}} for i in idx]
    folium.GeoJson({"type": "FeatureCollection", "features": feats},
                   marker=folium.CircleMarker(radius=4, color=colour, weight=1, fill=True, fill_color=colour, fill_opacity=0.6),
                   style_function=lambda f: {"radius": f["properties"]["r"]},
                   tooltip=folium.GeoJsonTooltip(fields=["tip"], labels=False)).add_to(fg)
    return fg


def _title_block(res) -> str:
    cfg, sol = res.cfg, res.solution
    weights = ", ".join(f"{esc(cfg.criteria[k].label or k)} {w:.0%}" for k, w in res.scores.weights.items())
    status = "proven optimal" if sol.proven_optimal else f"best found in the time limit, NOT proven optimal (gap {sol.gap:.2%})" if sol.gap is not None else "best found in the time limit, NOT proven optimal"
    legend = "".join(f"<span class='co-swatch' style='background:{cluster_colour(k)}'></span>Cluster {k + 1}: {esc(res.units['name'].iat[h])}, {esc(res.units['state'].iat[h])}<br>"
                     for k, h in enumerate(sol.hubs))
    return (f"<div class='co-title'><b>{esc(cfg.name)}</b>{(' — ' + esc(cfg.description)) if cfg.description else ''}<br>"
            f"<small>Weights: {weights}<br>Selection: {cfg.selection.clusters} clusters, radius {cfg.selection.cluster_radius_km:g} km, "
            f"spacing ≥ {cfg.selection.min_spacing_km:g} km; solver {esc(sol.solver)}: {status}; objective {sol.objective:.4f}</small>"
            f"<div class='co-legend'>{legend}</div></div>")


# folium's popups build their content with $(`<div>...</div>`)[0]; this is all of jQuery they use.
_DOLLAR_SHIM = ("if (typeof window.$ === 'undefined') { window.$ = function (html) { var t = document.createElement('template');"
                " t.innerHTML = String(html).trim(); return [t.content.firstElementChild]; }; }")

_CSS = """<style>
.co-title{position:fixed;bottom:60px;left:10px;z-index:1000;background:rgba(255,255,255,.93);padding:8px 10px;border-radius:6px;
 box-shadow:0 1px 4px rgba(0,0,0,.3);font:13px/1.35 system-ui,sans-serif;max-width:420px}
.co-score-legend{position:fixed;top:10px;left:54px;z-index:1000;background:rgba(255,255,255,.93);padding:6px 8px;border-radius:6px;
 box-shadow:0 1px 4px rgba(0,0,0,.3);font:12px/1.35 system-ui,sans-serif}
.co-legend{margin-top:4px;font-size:12px}.co-swatch{display:inline-block;width:12px;height:12px;margin-right:5px;border-radius:2px;vertical-align:middle}
.co-hub{color:#fff;font:bold 13px/26px system-ui,sans-serif;text-align:center;border-radius:50%;border:2px solid #fff;box-shadow:0 0 3px #000;width:26px;height:26px}
.co-breakdown{border-collapse:collapse;margin-top:4px;font-size:12px}.co-breakdown td,.co-breakdown th{border-bottom:1px solid #ddd;padding:1px 5px;text-align:right}
.co-breakdown td:first-child,.co-breakdown th:first-child{text-align:left}
</style>"""
