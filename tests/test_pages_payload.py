"""The maps' data and script without a run: escaping, packed shapes, point groups, links and update()."""

from __future__ import annotations

import importlib.resources
import json

import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from cluster_opt.maps import esc, json_for_script
from cluster_opt.maps.assets import leaflet_css, leaflet_js, map_js
from cluster_opt.maps.payload import link_group, point_group
from cluster_opt.maps.runmap import RUN_CSS
from cluster_opt.maps.safe import data_block
from cluster_opt.maps.shapes import PACK_SCALE, pack_shapes

NASTY = "</script><!--<script>${window.__pwned=1}`&\u2028\u2029'\"{{7*7}}"


def test_json_for_script_cannot_leave_its_block():
    text = json_for_script({"k": NASTY, NASTY: [1.5, None]})
    assert not any(c in text for c in "<>&\u2028\u2029")
    assert json.loads(text) == {"k": NASTY, NASTY: [1.5, None]}
    with pytest.raises(ValueError):
        json_for_script({"x": float("nan")})  # JSON has no NaN: the payload says null instead
    assert esc("\"'<>&") == "&quot;&#x27;&lt;&gt;&amp;"


def test_map_js_ships_in_the_package():
    assert importlib.resources.files("cluster_opt.maps").joinpath("map.js").is_file()
    assert "</script" not in map_js() and "coRunMap" in map_js()


def _unpack(shape):
    out = []
    for polygon in shape:
        rings = []
        for flat in polygon:
            rings.append(np.cumsum(np.asarray(flat).reshape(-1, 2), axis=0) / PACK_SCALE)
        out.append(rings)
    return out


def test_packed_shapes_unpack_to_the_rounded_coordinates():
    holed = shapely.Polygon([(-93, 45), (-92, 45), (-92, 46), (-93, 46)], [[(-92.6, 45.4), (-92.4, 45.4), (-92.4, 45.6)]])
    multi = shapely.MultiPolygon([shapely.box(-91.123456, 44.5, -90.5, 44.987654), shapely.box(-89, 44, -88, 45)])
    shapes = pack_shapes([holed, multi, shapely.Polygon()])
    assert [len(s) for s in shapes] == [1, 2, 0] and len(shapes[0][0]) == 2  # exterior and hole
    for geom, shape in zip([holed, *multi.geoms], [shapes[0][0], shapes[1][0], shapes[1][1]]):
        rings = [geom.exterior, *geom.interiors]
        for ring, got in zip(rings, _unpack([shape])[0]):
            assert np.allclose(got, np.asarray(ring.coords), atol=1e-5)


def test_point_groups_and_links_are_columns_of_text_and_numbers():
    g = point_group("refinery", "Refineries", "#e41a1c", [46.7, 47.1], [-92.1, -91.5], ["Duluth", None], symbol="square",
                    fields={"capacity t/y": np.array([40000.0, np.nan]), "stage": ["cathode", NASTY]})
    assert g["name"] == ["Duluth", None] and g["fields"][0]["values"] == [40000.0, None] and g["fields"][1]["values"][1] == NASTY
    with pytest.raises(ValueError):
        point_group("x", "x", "#000", [1], [1], ["x"], symbol="star")
    link = link_group("mine-refinery", "Mine → refinery", "#555", [47.5], [-92.5], [46.7], [-92.1], ["120 km"], dashed=True)
    assert link["tip"] == ["120 km"] and link["dashed"] is True
    json_for_script(g), json_for_script(link)


def _payload() -> dict:
    """A run payload of three square units by hand: one cluster of two, then a new solution with groups and links."""
    squares = [shapely.box(-94 + i, 45, -93.2 + i, 45.8) for i in range(3)]
    units = {"id": [NASTY, "b", "c"], "name": [NASTY, "Bee", None], "state": ["MN", None, "WI"], "score": [0.9, 0.5, 0.1],
             "rank": [1, 2, 3], "class": [1, 0, 0], "shape": pack_shapes(squares)}
    cluster = {"number": 1, "colour": "#e41a1c", "hub": 0, "lat": 45.4, "lon": -93.6, "members": 2, "score": 1.4,
               "totals": [{"name": NASTY, "total": 500.0, "required": 100.0}], "shape": pack_shapes([shapely.union_all(squares[:2])])[0]}
    solution = {"status": {"solver": "highs", "proven_optimal": False, "gap": 0.0123, "objective": 1.4},
                "member_of": [0, 0, -1], "clusters": [cluster], "groups": [], "links": []}
    return {"version": 1, "title": {"name": "by-hand", "description": NASTY, "weights": [{"label": NASTY, "share": 1.0}], "selection": "1 cluster"},
            "bounds": [[45, -94], [45.8, -90.2]], "basemap": [], "outlines": [], "tiles": None, "units": units,
            "classes": {"title": "Unit score", "note": "", "breaks": [0.1, 0.5, 0.9], "colours": ["#edf8b1", "#2c7fb8"]},
            "criteria": [{"key": NASTY, "label": NASTY, "raw": [1.0, None, 3.0], "normalized": [1, 0.5, 0], "contribution": [1, 0.5, 0]}],
            "layers": [{"key": NASTY, "label": NASTY, "colour": "#444", "count": 1, "value_name": None, "vmax": 1.0,
                        "lat": [45.4], "lon": [-93.6], "value": None, "name": [NASTY]}],
            "solution": solution}


def _second_solution() -> dict:
    groups = [point_group("mine", NASTY, "#8c510a", [45.3, 45.5], [-91.6, -91.4], [NASTY, "Mine B"], symbol="triangle",
                          fields={"ore": [NASTY, "nickel"], "tons": [1e6, 2.5]}),
              point_group("cell", "Cell plants", "#377eb8", [45.2], [-93.5], ["Plant"])]
    links = [link_group("mine-cell", "Mine → cell", "#555", [45.3], [-91.6], [45.2], [-93.5], [NASTY])]
    cluster = {"number": 1, "colour": "#377eb8", "hub": 2, "lat": 45.4, "lon": -91.6, "members": 1, "score": 0.1, "totals": [],
               "shape": pack_shapes([shapely.box(-92, 45, -91.2, 45.8)])[0]}
    return {"status": {"solver": "highs", "proven_optimal": True, "gap": None, "objective": 0.1}, "member_of": [-1, -1, 0],
            "clusters": [cluster, {**cluster, "number": 2, "hub": 1, "lat": 45.4, "lon": -92.6}], "groups": groups, "links": links}


def test_map_js_draws_groups_and_links_and_updates_a_solution(browser, tmp_path):
    page_html = (f"<!DOCTYPE html><html><head><meta charset='utf-8'><style>{leaflet_css()}{RUN_CSS}</style><script>{leaflet_js()}</script>"
                 f"<script>{map_js()}</script></head><body style='margin:0'><div id='map' style='height:700px'></div>"
                 f"{data_block('co-run-data', _payload())}{data_block('next', _second_solution())}"
                 "<script>window.view = coRunMap(L.map('map'), coData('co-run-data'));</script></body></html>")
    path = tmp_path / "by_hand.html"
    path.write_text(page_html, encoding="utf-8")
    ctx = browser.new_context(viewport={"width": 1200, "height": 700})
    errors = []
    page = ctx.new_page()
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("dialog", lambda d: (errors.append(d.message), d.dismiss()))
    page.goto(path.as_uri())
    assert page.text_content(".co-title").count(NASTY) == 3 and "NOT proven optimal (gap 1.23%)" in page.text_content(".co-title")
    assert page.locator(".co-hub").count() == 1
    unit_popup = "(i) => { const l = view.units.getLayers()[i]; l.openPopup(); return l.getPopup().getElement().textContent; }"
    popup = page.evaluate(unit_popup, 0)
    assert popup.startswith(f"{NASTY}, MN {NASTY}") and "cluster 1 (hub)" in popup
    popup = page.evaluate(unit_popup, 1)
    assert popup.startswith("Bee b") and "cluster 1 (member)" in popup and f"{NASTY}–0.500" in popup  # no state, no raw value
    page.evaluate("view.update(coData('next'))")
    assert page.locator(".co-hub").count() == 2 and "proven optimal; objective 0.1000" in page.text_content(".co-title")
    assert page.locator(".co-title .co-symbol-triangle").count() == 1 and page.locator(".leaflet-marker-icon .co-symbol-triangle").count() == 2
    assert page.text_content(".leaflet-control-layers-overlays").count(NASTY) == 2  # the input layer and the mine group
    texts = page.evaluate("""() => { const out = [];
        view.map.eachLayer(l => { if (l instanceof L.Polyline && !(l instanceof L.Polygon) && l.getTooltip()) { l.openTooltip(); out.push(l.getTooltip().getElement().textContent); } });
        view.map.eachLayer(l => { if (l instanceof L.Marker && l.getPopup() && l.options.icon.options.className === 'co-symbol-icon') { l.openPopup(); out.push(l.getPopup().getElement().textContent); } });
        return out; }""")
    assert texts[0] == NASTY and any(t.startswith(NASTY + NASTY) and "tons1,000,000" in t for t in texts[1:])
    assert "cluster 1 (hub)" in page.evaluate(unit_popup, 2)
    page.evaluate("view.update(coData('co-run-data').solution)")  # back: the groups and links leave map and control
    assert page.locator(".co-hub").count() == 1 and page.locator(".leaflet-marker-icon .co-symbol").count() == 0
    assert page.text_content(".leaflet-control-layers-overlays").count(NASTY) == 1
    assert page.evaluate("typeof window.__pwned") == "undefined" and errors == []
    ctx.close()




@settings(max_examples=200, deadline=None)
@given(st.lists(st.floats(-5, 5, allow_nan=False), min_size=2, max_size=400), st.integers(1, 9))
def test_quantile_breaks_are_mapclassifys(values, k):
    """The map's score classes are equal-count quantiles, computed without importing mapclassify (2 s at start-up)."""
    import warnings

    import mapclassify

    from cluster_opt.maps.palette import quantile_breaks

    y = np.round(np.array(values), 3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = mapclassify.Quantiles(y, k=k).bins
    np.testing.assert_allclose(quantile_breaks(y, k), expected)
