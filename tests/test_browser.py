"""The pages in a real browser (Chromium driven by Playwright), with every network request refused."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
pw = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
if not Path(CHROMIUM).exists():
    pytest.skip("Chromium is not installed (apt-get install chromium)", allow_module_level=True)

EVIL = "<script>window.__pwned=1</script><img src=x onerror=window.__pwned=2>"


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


@pytest.fixture(scope="module")
def browser():
    with pw.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True,
                              args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                                    "--disable-sync", "--no-first-run", "--disable-quic"])
        yield b
        b.close()


def _open(browser, path: Path, shot: Path):
    ctx = browser.new_context(viewport={"width": 1400, "height": 900})
    outside, errors = [], []
    ctx.route("**/*", lambda route: route.continue_() if route.request.url.startswith(("file:", "data:")) else (outside.append(route.request.url), route.abort()))
    page = ctx.new_page()
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
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
