"""A chain's map and report: every facility, link and co-location cluster drawn, the diagram, and hostile type names as text."""

from __future__ import annotations

import csv
import re
import subprocess
import sys
from pathlib import Path

import pytest

from cluster_opt.maps.diagram import LinkArrow, TypeBox, chain_svg, link_order


CHAIN = """\
name: chain-test
study_area: {states: [MN, WI, MI]}
layers:
  minerals: {source: "builtin:minerals", where: {commodities: [nickel, copper, cobalt]}}
  grid: {source: "builtin:power_plants", value: capacity_mw}
  ports: {source: "builtin:ports", value: total_tons}
  labor: {source: "builtin:labor", value: labor_force}
criteria:
  minerals: {layer: minerals, measure: decay_sum, half_distance_km: 100, weight: 0.3}
  grid: {layer: grid, measure: sum_within, radius_km: 100, weight: 0.3}
  ports: {layer: ports, measure: nearest_km, weight: 0.2}
  labor: {layer: labor, measure: sum_within, radius_km: 80, weight: 0.2}
facilities:
  mine: {existing: {layer: minerals, where: {status: [producer]}}}
  REFINERY: {new: 1, criteria: {minerals: 0.6, grid: 0.4}, requires: {grid: 300}, radius_km: 100, site: {near: [{layer: ports, within_km: 100}]}}
  CELL: {new: 2, criteria: {labor: 0.6, grid: 0.4}, requires: {labor: 100000}, radius_km: 80, site: {min_spacing_km: 150}}
links:
  - {from: mine, to: REFINERY, max_km: 400, cost_per_km: 0.0005}
  - {from: REFINERY, to: CELL, max_km: 500, capacity: 2}
clusters: {count: 1, radius_km: 300, must_contain: [REFINERY, CELL]}
"""
SCRIPT_KEY = "</script><script>window.__pwned=1</script>"
TEMPLATE = "${window.__pwned=2}"
VIEW = "Object.values(window).find(v => v && typeof v.update === 'function' && v.units)"


def _quoted(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _config(refinery: str, cell: str, labels: dict[str, str] | None = None) -> str:
    text = CHAIN.replace("REFINERY", _quoted(refinery)).replace("CELL", _quoted(cell))
    for key, label in (labels or {}).items():
        text = text.replace(f"{_quoted(key)}: {{new:", f"{_quoted(key)}: {{label: {_quoted(label)}, new:", 1)
    return text


def _run(d: Path, text: str) -> Path:
    (d / "chain.yaml").write_text(text, encoding="utf-8")
    r = subprocess.run([sys.executable, "-m", "cluster_opt", "run", "chain.yaml", "--out", "run", "-q"], capture_output=True, text=True, cwd=d)
    assert r.returncode == 0, r.stderr
    return d / "run"


def _rows(path: Path) -> list[dict]:
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


@pytest.fixture(scope="module")
def chain(tmp_path_factory):
    return _run(tmp_path_factory.mktemp("chain"), _config("refinery", "cell"))


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    """The same chain with a facility type key and labels that run code if pasted into a script or a template."""
    return _run(tmp_path_factory.mktemp("hostile_chain"), _config(SCRIPT_KEY, "cell", {SCRIPT_KEY: TEMPLATE, "cell": SCRIPT_KEY}))


def _open(browser, path: Path, shot: Path):
    """The page with every request that is not a file refused, and its errors (dialogs too) and outside requests recorded."""
    from .test_browser import _open as open_offline  # imported here: the module skips itself without Chromium

    return open_offline(browser, path, shot)


def test_report_draws_the_chain_and_lists_facilities_and_links(chain):
    html = (chain / "report.html").read_text(encoding="utf-8")
    facilities, links = _rows(chain / "facilities.csv"), _rows(chain / "links.csv")
    assert html.count("<svg") == 1 and "<script" not in html
    assert html.count("<g class='co-type'>") == 3 and html.count("<g class='co-link'>") == 2
    for name in ("mine", "refinery", "cell"):
        assert f">{name}</text>" in html
    assert "≤ 400 km" in html and "≤ 500 km, capacity 2" in html and "km used" in html
    assert all(f"<td>{row['to_name']}</td>" in html for row in links) and html.count("<td>refinery → cell</td>") >= 3
    assert all(f"<td>{row['name']}</td>" in html for row in facilities)
    assert "site scores" in html and "link costs" in html and "Independent re-check: <b>passed</b>" in html
    assert "Co-location clusters" in html and "Data provenance" in html


def test_map_draws_facilities_links_clusters_and_switches_fill(browser, chain):
    ctx, page, outside, errors = _open(browser, chain / "map.html", chain / "map.png")
    assert outside == [] and errors == []
    facilities, links = _rows(chain / "facilities.csv"), _rows(chain / "links.csv")
    drawn = page.evaluate(f"""() => {{ const v = {VIEW};
        const count = (gs) => gs.reduce((n, g) => n + (v.map.hasLayer(g) ? g.getLayers().length : 0), 0);
        return {{points: count(v.groups), lines: count(v.links), rings: v.clusters.getLayers().filter(l => l instanceof L.Circle).length}}; }}""")
    assert drawn == {"points": len(facilities), "lines": len(links), "rings": len(_rows(chain / "clusters.csv"))}
    assert page.locator(".co-ring-label", has_text="Cluster 1").count() == 1
    # A legend entry per type, existing facilities hollow.
    legend = page.locator(".co-title .co-legend-row")
    assert legend.count() == 3 and page.locator(".co-title .co-legend-row .co-hole").count() == 1
    mines = sum(r["type"] == "mine" for r in facilities)
    assert [legend.nth(k).text_content() for k in range(3)] == [f"mine: {mines} existing", "refinery: 1 new", "cell: 2 new"]
    title = page.text_content(".co-title")
    assert "mine → refinery ≤ 400 km" in title and "capacity 2" in title and "proven optimal" in title and "− link costs" in title
    # A click on the refinery opens its popup: number, type, suppliers and whom it supplies.
    refinery = next(r for r in facilities if r["type"] == "refinery")
    page.locator(".leaflet-marker-icon .co-symbol-square").first.click()
    page.wait_for_selector(".leaflet-popup-content", timeout=5000)
    popup = page.text_content(".leaflet-popup-content")
    assert popup.startswith(f"Facility {refinery['facility']}: ") and "refinery" in popup and "supplied by" in popup and "(required 300)" in popup
    # Each link's tooltip names it, its km and its limit.
    tips = page.evaluate(f"""() => {{ const out = [];
        {VIEW}.links.forEach(g => g.eachLayer(l => {{ l.openTooltip(); out.push(l.getTooltip().getElement().textContent); }}));
        return out; }}""")
    assert len(tips) == len(links) and all(" km (limit " in t and "cost" in t for t in tips)
    # Switching the fill to a type's site score recolours the units and relabels the legend.
    fills = f"() => {VIEW}.units.getLayers().map(l => l.options.fillColor).join()"
    before = page.evaluate(fills)
    assert page.locator(".co-fill option").all_text_contents() == ["Scenario score", "refinery site score", "cell site score"]
    page.select_option(".co-fill", index=2)
    assert page.evaluate(fills) != before and "cell site score" in page.text_content(".co-score-legend b")
    # Units that serve a facility are outlined in its type's colour; their popup says which.
    served = page.evaluate(f"() => {VIEW}.units.getLayers().filter(l => l.options.weight === 2.5).length")
    assert served == sum(1 for r in _rows(chain / "scores.csv") if r["serves_facility"])
    page.select_option(".co-fill", index=0)
    assert page.evaluate(fills) == before
    assert errors == []
    ctx.close()


def test_report_opens_offline(browser, chain):
    ctx, page, outside, errors = _open(browser, chain / "report.html", chain / "report.png")
    assert outside == [] and errors == []
    assert page.locator("svg.co-chain .co-type").count() == 3 and page.locator("svg.co-chain .co-link").count() == 2
    ctx.close()


def test_hostile_type_keys_and_labels_stay_text(browser, hostile):
    for name in ("map.html", "report.html"):
        ctx, page, outside, errors = _open(browser, hostile / name, hostile / name.replace(".html", ".png"))
        assert outside == [] and errors == []
        assert page.evaluate("typeof window.__pwned") == "undefined"
        text = page.text_content("body")
        assert SCRIPT_KEY in text and TEMPLATE in text
        if name == "map.html":
            legend = page.text_content(".co-title")
            assert f"{TEMPLATE}: 1 new" in legend and f"{SCRIPT_KEY}: 2 new" in legend and f"mine → {SCRIPT_KEY} ≤ 400 km" in legend
            assert f"{TEMPLATE} site score" in page.locator(".co-fill").text_content()
            page.locator(".leaflet-marker-icon .co-symbol-square").first.click()
            page.wait_for_selector(".leaflet-popup-content", timeout=5000)
            assert TEMPLATE in page.text_content(".leaflet-popup-content")
        else:
            boxes = page.locator("svg.co-chain .co-type text").all_text_contents()
            assert TEMPLATE in boxes and SCRIPT_KEY in boxes
        assert page.evaluate("typeof window.__pwned") == "undefined" and errors == []
        ctx.close()


def test_diagram_orders_types_by_links_and_bends_over_skipped_columns():
    boxes = [TypeBox(k, k, "#000", "1 new, 0 existing") for k in ("cell", "<b>refinery</b>", "mine", "recycler")]
    arrows = [LinkArrow("<b>refinery</b>", "cell", ["≤ 250 km"]), LinkArrow("mine", "<b>refinery</b>", ["≤ 400 km"]),
              LinkArrow("mine", "cell", ["≤ 900 km"])]
    assert link_order([b.key for b in boxes], [(a.source, a.to) for a in arrows]) == ["mine", "recycler", "<b>refinery</b>", "cell"]
    svg = chain_svg(boxes, arrows)
    assert svg.count("class='co-type'") == 4 and svg.count("class='co-link'") == 3
    assert "<b>" not in svg and "&lt;b&gt;refinery&lt;/b&gt;" in svg
    paths = re.findall(r"<path d='([^']*)' fill='none'", svg)
    assert len(paths) == 3 and sum(" L" in d for d in paths) == 1  # only mine → cell skips a column: it runs level above the refinery
