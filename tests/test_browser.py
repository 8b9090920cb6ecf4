"""The pages in a real browser (Chromium driven by Playwright), with every network request refused."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml

from .conftest import CHROMIUM

pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
if not Path(CHROMIUM).exists():
    pytest.skip("Chromium is not installed (apt-get install chromium)", allow_module_level=True)

EVIL = "<script>window.__pwned=1</script><img src=x onerror=window.__pwned=2>"
# Strings that run code, or break the page, if pasted into JavaScript, a template literal, an attribute,
# HTML or a Jinja template; the last holds U+2028, a line end to older JavaScript parsers.
PAYLOADS = ["${window.__pwned=1}", "`;window.__pwned=2;`", "</script><script>window.__pwned=3</script>",
            "\"'><img src=x onerror=window.__pwned=4>", "<svg onload=window.__pwned=5>", "{{7*7}}", "javascript:window.__pwned=6",
            "line\u2028sep"]


def _cli(*args, cwd=None):
    r = subprocess.run([sys.executable, "-m", "cluster_opt", *map(str, args)], capture_output=True, text=True, cwd=cwd)
    assert r.returncode == 0, r.stderr
    return r


@pytest.fixture(scope="module")
def pages(tmp_path_factory):
    d = tmp_path_factory.mktemp("pages")
    (d / "sites.csv").write_text(f"name,lat,lon,acres\n\"{EVIL}\",46.78,-92.10,500\nSafe site,44.97,-93.26,200\n")
    cfg = {
        "name": "lakes", "description": EVIL,
        "study_area": {"states": ["MN", "WI", "MI"]},
        "layers": {"ports": {"source": "builtin:ports", "value": "total_tons"}, "labor": {"source": "builtin:labor", "value": "labor_force"},
                   "sites": {"source": "sites.csv", "value": "acres", "label": EVIL}},
        "criteria": {"ports": {"layer": "ports", "measure": "nearest_km", "weight": 1, "label": EVIL},
                     "labor": {"layer": "labor", "measure": "sum_within", "radius_km": 80, "weight": 1},
                     "sites": {"layer": "sites", "measure": "decay_sum", "half_distance_km": 50, "weight": 1}},
        "selection": {"clusters": 3, "cluster_radius_km": 90, "min_spacing_km": 200, "requirements": {"labor": 100000}},
    }
    (d / "a.yaml").write_text(yaml.safe_dump(cfg))
    cfg["name"], cfg["criteria"]["labor"]["weight"] = "labor-first", 5
    (d / "b.yaml").write_text(yaml.safe_dump(cfg))
    _cli("run", "a.yaml", "--out", "run", "-q", cwd=d)
    _cli("compare", "a.yaml", "b.yaml", "--out", "cmp", "-q", cwd=d)
    _cli("sweep", "a.yaml", "--samples", "20", "--workers", "0", "--out", "sweep", "-q", cwd=d)
    return d


def _hostile_study(d: Path) -> None:
    """Eight square units in Minnesota and seven CSV layers, every name, key, label and id a payload."""
    p = PAYLOADS
    units = [{"type": "Feature", "properties": {"code": p[i], "label": p[(i + 1) % 8], "st": "MN"},
              "geometry": {"type": "Polygon", "coordinates": [[[x, 45.5], [x + 0.5, 45.5], [x + 0.5, 46.0], [x, 46.0], [x, 45.5]]]}}
             for i, x in enumerate(-96 + 0.6 * np.arange(8))]
    (d / "regions.geojson").write_text(json.dumps({"type": "FeatureCollection", "features": units}))
    files = [f for f in p if "/" not in f]  # file names: every payload without a slash
    keys = ["labor" + p[0], "grid" + p[1], p[2], p[3], p[4], p[5], p[6], p[7]]
    layers, criteria = {}, {}
    for j, f in enumerate(files):
        with open(d / f"{f}.csv", "w", newline="") as fh:
            w = csv.writer(fh)
            w.writerow(["name", "lat", "lon", "workers"])
            w.writerows([p[(i + j) % 8], 45.75, -95.75 + 0.6 * i, 100 * (i + 1) + j] for i in range(8))
        layers[keys[j]] = {"source": f"{f}.csv", "value": "workers", "label": p[(j + 2) % 8]}
        criteria["c" + p[(j + 1) % 8]] = {"layer": keys[j], "measure": "sum_within", "radius_km": 60, "weight": 1, "label": p[(j + 3) % 8]}
    cfg = {"name": "hostile", "description": " | ".join(p), "study_area": {"states": ["MN"]},
           "units": {"kind": "file", "path": "regions.geojson", "id": "code", "name": "label", "state": "st"},
           "layers": layers, "criteria": criteria,
           "selection": {"clusters": 2, "cluster_radius_km": 70, "min_spacing_km": 100, "include": [p[0]],
                         "requirements": {keys[0]: 1, keys[2]: 1}, "alternatives": {"count": 2, "within": 0.9}},
           "explain": {"units": [p[3]]}}
    (d / "a.yaml").write_text(yaml.safe_dump(cfg))
    cfg["name"], cfg["criteria"]["c" + p[1]]["weight"] = "hostile-b", 5
    cfg["selection"].pop("alternatives")
    (d / "b.yaml").write_text(yaml.safe_dump(cfg))


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    d = tmp_path_factory.mktemp("hostile")
    _hostile_study(d)
    _cli("run", "a.yaml", "--out", "run", "-q", cwd=d)
    _cli("compare", "a.yaml", "b.yaml", "--out", "cmp", "-q", cwd=d)
    _cli("sweep", "a.yaml", "--samples", "10", "--workers", "0", "--out", "sweep", "-q", cwd=d)
    _cli("sweep", "a.yaml", "--vary", "clusters=1:2:1", "--out", "vary", "-q", cwd=d)
    return d


def _open(browser, path: Path, shot: Path):
    ctx = browser.new_context(viewport={"width": 1400, "height": 900})
    outside, errors = [], []
    ctx.route("**/*", lambda route: route.continue_() if route.request.url.startswith(("file:", "data:")) else (outside.append(route.request.url), route.abort()))
    page = ctx.new_page()
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("dialog", lambda d: (errors.append(f"dialog: {d.message}"), d.dismiss()))
    page.goto(path.as_uri())
    page.wait_for_timeout(800)
    page.screenshot(path=str(shot))
    return ctx, page, outside, errors


def test_map_opens_offline_with_shapes_markers_and_popups(browser, pages):
    ctx, page, outside, errors = _open(browser, pages / "run" / "map.html", pages / "map.png")
    assert outside == [] and errors == []
    assert page.evaluate("typeof L") == "object"
    counts = page.evaluate("""() => {
        const maps = Object.values(window).filter(v => v instanceof L.Map);
        let paths = 0, markers = 0;
        maps[0].eachLayer(l => { if (l instanceof L.Path) paths++; if (l instanceof L.Marker) markers++; });
        return {maps: maps.length, paths, markers, hubs: document.querySelectorAll('.co-hub').length};
    }""")
    units = len(json.loads((pages / "run" / "manifest.json").read_text())["config"]["study_area"]["states"])
    assert units == 3
    scores_rows = sum(1 for _ in open(pages / "run" / "scores.csv")) - 1
    assert counts["maps"] == 1 and counts["hubs"] == 3
    assert counts["paths"] >= scores_rows  # every unit is drawn, plus basemap, cluster outlines and layer symbols
    # Click the first hub's unit: its popup shows the score breakdown.
    clusters = (pages / "run" / "clusters.csv").read_text().splitlines()[1].split(",")
    lat, lon = float(clusters[4]), float(clusters[5])
    page.evaluate("""([lat, lon]) => { const m = Object.values(window).filter(v => v instanceof L.Map)[0]; m.setView([lat, lon], 8, {animate: false}); }""", [lat, lon])
    page.wait_for_timeout(300)
    box = page.locator(".folium-map").bounding_box()
    page.mouse.click(box["x"] + box["width"] / 2 + 40, box["y"] + box["height"] / 2 + 40)
    page.wait_for_selector(".leaflet-popup-content", timeout=5000)
    assert "score" in page.inner_text(".leaflet-popup-content")
    # Each input layer is an overlay that can be switched on: its symbols appear.
    before = page.evaluate("() => document.querySelectorAll('path.leaflet-interactive').length")
    page.locator(".leaflet-control-layers-overlays label", has_text="Layer: Ports").locator("input").check()
    page.wait_for_timeout(300)
    after = page.evaluate("() => document.querySelectorAll('path.leaflet-interactive').length")
    assert after - before >= 100  # the ports of the table in view (circles sized by tons)
    # Strings from data and config appear as text, never as markup.
    assert page.evaluate("window.__pwned") is None
    assert "<script>window.__pwned=1</script>" in page.inner_text(".co-title")
    ctx.close()


def test_report_and_sweep_pages(browser, pages):
    for path in (pages / "run" / "report.html", pages / "sweep" / "sweep.html"):
        ctx, page, outside, errors = _open(browser, path, path.with_suffix(".png"))
        assert outside == [] and errors == []
        assert page.evaluate("window.__pwned") is None
        ctx.close()
    ctx, page, _, _ = _open(browser, pages / "run" / "report.html", pages / "report.png")
    assert page.locator("svg rect").count() >= 3 * 3  # a bar segment per criterion per cluster
    assert EVIL in page.inner_text("body")
    ctx.close()


def test_compare_maps_move_together(browser, pages):
    ctx, page, outside, errors = _open(browser, pages / "cmp" / "compare.html", pages / "compare.png")
    assert outside == [] and errors == []
    assert page.evaluate("coMaps.length") == 2
    page.evaluate("() => { coMaps[0].setView([46.8, -92.1], 9, {animate: false}); }")
    page.wait_for_timeout(200)
    c = page.evaluate("[coMaps[1].getCenter().lat, coMaps[1].getCenter().lng, coMaps[1].getZoom()]")
    assert c[0] == pytest.approx(46.8, abs=1e-6) and c[1] == pytest.approx(-92.1, abs=1e-6) and c[2] == 9
    # Dragging the second map moves the first.
    box = page.locator("#co-map-1").bounding_box()
    page.mouse.move(box["x"] + 200, box["y"] + 200)
    page.mouse.down()
    page.mouse.move(box["x"] + 300, box["y"] + 260, steps=5)
    page.mouse.up()
    page.wait_for_timeout(1000)  # let the drag's inertia finish
    a, b = page.evaluate("[coMaps[0].getCenter().lat, coMaps[1].getCenter().lat]")
    assert a == pytest.approx(b, abs=1e-9) and a != pytest.approx(46.8, abs=1e-4)
    ctx.close()


def _clean(page, outside, errors):
    assert outside == [] and errors == []
    assert page.evaluate("typeof window.__pwned") == "undefined"


def _click_overlay(page, text: str) -> None:
    page.evaluate("""(text) => { for (const l of document.querySelectorAll('.leaflet-control-layers-overlays label')) {
        if (l.textContent.includes(text)) { l.querySelector('input').click(); return; } } throw new Error('no overlay ' + text); }""", text)


def test_hostile_strings_stay_text_on_the_map(browser, hostile):
    ctx, page, outside, errors = _open(browser, hostile / "run" / "map.html", hostile / "map.png")
    _clean(page, outside, errors)
    view = """Object.values(window).find(v => v && typeof v.update === 'function' && v.units)"""
    assert page.evaluate(f"{view}.units.getLayers().length") == 8  # every unit drawn
    assert page.locator(".co-hub").count() == 2
    title = page.text_content(".co-title")
    assert " | ".join(PAYLOADS) in title and "Cluster 1: " in title
    assert "49" not in title  # {{7*7}} is never rendered as a template
    overlays = page.text_content(".leaflet-control-layers-overlays")
    for layer in yaml.safe_load((hostile / "a.yaml").read_text())["layers"].values():
        assert f"Layer: {layer['label']} (8)" in overlays
    # A click on the hub unit of the included unit opens its popup: id and name as literal text.
    point = page.evaluate(f"""(id) => {{ const v = {view}, i = v.data.units.id.indexOf(id);
        const unit = v.units.getLayers().find(l => l.feature.properties.i === i);
        const c = v.map.latLngToContainerPoint(unit.getBounds().getCenter()), r = v.map.getContainer().getBoundingClientRect();
        return [r.x + c.x + 30, r.y + c.y - 30]; }}""", PAYLOADS[0])
    page.mouse.click(*point)
    page.wait_for_selector(".leaflet-popup-content", timeout=5000)
    popup = page.text_content(".leaflet-popup-content")
    assert PAYLOADS[0] in popup and f"{PAYLOADS[1]}, MN" in popup and "(hub)" in popup
    assert all(f"c{p}" not in popup for p in PAYLOADS)  # criteria show their labels
    assert sum(p in popup for p in PAYLOADS) >= 7  # the labels of the criteria are payloads too
    # A hub's popup lists the requirement totals under their (payload) keys.
    page.locator(".co-hub").first.click()
    page.wait_for_function("document.querySelector('.leaflet-popup-content').textContent.includes('required')")
    hub = page.text_content(".leaflet-popup-content")
    assert f"labor{PAYLOADS[0]}: " in hub and f"{PAYLOADS[2]}: " in hub
    # An input layer switched on: its symbols' tooltips show the CSV's feature names as text.
    _click_overlay(page, f"Layer: {PAYLOADS[2]} (8)")
    names = page.evaluate("""() => { const out = [], v = """ + view + """;
        v.map.eachLayer(l => { if (l instanceof L.CircleMarker && l.getTooltip()) { l.openTooltip(); out.push(l.getTooltip().getElement().textContent); } });
        return out; }""")
    assert len(names) == 8 and all(any(n.startswith(p + ": workers ") for p in PAYLOADS) for n in names)
    assert page.evaluate("typeof window.__pwned") == "undefined" and errors == []
    ctx.close()


def test_hostile_strings_stay_text_on_report_compare_and_sweep(browser, hostile):
    ctx, page, outside, errors = _open(browser, hostile / "run" / "report.html", hostile / "report.png")
    _clean(page, outside, errors)
    body = page.text_content("body")
    assert " | ".join(PAYLOADS) in body and f"labor{PAYLOADS[0]} ≥ 1 per cluster" in body
    ctx.close()
    for path, maps in ((hostile / "cmp" / "compare.html", 2), (hostile / "sweep" / "sweep.html", 1)):
        ctx, page, outside, errors = _open(browser, path, path.with_suffix(".png"))
        _clean(page, outside, errors)
        assert page.evaluate("coMaps.length") == maps and page.locator(".co-hub").count() == 2 * maps
        tips = page.evaluate("""() => { const out = [];
            coMaps[0].eachLayer(l => { if (l.feature && l.getTooltip()) { l.openTooltip(); out.push(l.getTooltip().getElement().textContent); } });
            return out; }""")
        assert len(tips) == 8  # every unit drawn, each tooltip naming it as text
        assert all(any(t.startswith(f"{p}, MN: ") for p in PAYLOADS) for t in tips)
        assert page.evaluate("typeof window.__pwned") == "undefined" and errors == []
        ctx.close()


def test_hostile_strings_stay_text_on_alternatives_why_and_rule_sweep(browser, hostile):
    """The alternatives page and the rule sweep's page draw one map per selection; reasons and names stay text."""
    with open(hostile / "run" / "alternatives.csv", newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    for path, maps in ((hostile / "run" / "alternatives.html", len(rows)), (hostile / "vary" / "compare.html", 2)):
        assert maps >= 2
        ctx, page, outside, errors = _open(browser, path, path.with_suffix(".png"))
        _clean(page, outside, errors)
        assert page.evaluate("coMaps.length") == maps
        assert page.evaluate("typeof window.__pwned") == "undefined" and errors == []
        ctx.close()
    ctx, page, outside, errors = _open(browser, hostile / "run" / "map.html", hostile / "map_alternatives.png")
    _clean(page, outside, errors)
    labels = page.locator(".leaflet-control-layers-overlays label", has_text="Alternative")
    assert labels.count() == len(rows) - 1  # one layer per alternative, off until switched on
    before = page.locator(".leaflet-marker-icon, path.leaflet-interactive").count()
    labels.first.locator("input").check(force=True)
    page.wait_for_timeout(200)
    assert page.locator(".leaflet-marker-icon, path.leaflet-interactive").count() > before
    assert page.evaluate("typeof window.__pwned") == "undefined" and errors == []
    ctx.close()
    ctx, page, outside, errors = _open(browser, hostile / "run" / "report.html", hostile / "report_why.png")
    _clean(page, outside, errors)
    why = page.text_content("body").split("Why these sites", 1)[1]
    assert PAYLOADS[3] in why  # the unit named in explain.units, by its hostile name, as text
    assert page.evaluate("typeof window.__pwned") == "undefined" and errors == []
    ctx.close()

