"""cluster-opt explore: the HTTP API (through Starlette's test client), its validation and limits, concurrent
requests, the downloads that reproduce an answer, and the page in Chromium."""

from __future__ import annotations

import io
import json
import socket
import subprocess
import sys
import threading
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest
from starlette.testclient import TestClient

import cluster_opt as co
from cluster_opt.explore.server import MAX_BODY, create_app, serve
from cluster_opt.explore.session import Explorer, Superseded

ROOT = Path(__file__).resolve().parents[1]
CONFIG = ROOT / "configs" / "battery_belt.yaml"


@pytest.fixture(scope="module")
def explorer():
    return Explorer(CONFIG)


@pytest.fixture(scope="module")
def client(explorer):
    return TestClient(create_app(explorer), base_url="http://127.0.0.1:8765")


CRITERIA = ["minerals", "grid_capacity", "grid_access", "power_price", "labor", "ports", "rail", "energy_community"]


def _weights(**w):
    base = {"minerals": 0.20, "grid_capacity": 0.15, "grid_access": 0.10, "power_price": 0.10, "labor": 0.20, "ports": 0.10, "rail": 0.10,
            "energy_community": 0.05}
    base.update(w)
    return base


def test_scenario_gives_the_config_criteria_rules_and_answer(client):
    r = client.get("/api/scenario")
    assert r.status_code == 200 and r.headers["content-security-policy"].startswith("default-src 'none'")
    s = r.json()
    assert s["name"] == "battery-belt" and [c["key"] for c in s["criteria"]] == CRITERIA
    assert s["selection"]["clusters"] == 4 and s["config"]["selection"]["cluster_radius_km"] == 120
    assert s["answer"]["hubs"] == co.run(str(CONFIG)).hubs and s["answer"]["checked"]


def test_solve_equals_the_pipeline_with_the_same_weights_and_rules(client):
    w = _weights(labor=0.7, minerals=0.1)
    a = client.post("/api/solve", json={"weights": w}).json()
    cfg = co.load_config(CONFIG)
    ref = co.select(co.prepare(cfg), w)
    assert sorted(a["hubs"]) == sorted(ref.hubs) and a["objective"] == pytest.approx(ref.solution.objective, abs=1e-9)
    assert a["status"] == "optimal" and a["gap"] == pytest.approx(0.0, abs=1e-9) and a["checked"] is True and a["seconds"] > 0
    assert set(a["breakdown"]) == set(CRITERIA)
    assert sum(a["breakdown"].values()) == pytest.approx(a["objective"], rel=1e-9)
    assert len(a["scores"]["score"]) == len(ref.scores.score) and len(a["clusters"]) == 4
    # A rule change rebuilds the model for those rules; the answer is again the pipeline's.
    b = client.post("/api/solve", json={"weights": w, "selection": {"clusters": 5, "min_spacing_km": 250}}).json()
    raw = co.parse_config({**json.loads(json.dumps(cfg.resolved())), "selection": {**cfg.resolved()["selection"], "clusters": 5, "min_spacing_km": 250}})
    ref5 = co.select(co.prepare(raw), w)
    assert sorted(b["hubs"]) == sorted(ref5.hubs) and b["objective"] == pytest.approx(ref5.solution.objective, abs=1e-9)
    assert len(b["clusters"]) == 5 and b["changed"]["in"]  # what came in since the answer before


def test_bad_values_get_422_with_the_message_cluster_opt_run_prints(client, tmp_path):
    r = client.post("/api/solve", json={"selection": {"clusters": 0}})
    assert r.status_code == 422
    bad = tmp_path / "battery_belt.yaml"
    bad.write_text(CONFIG.read_text(encoding="utf-8").replace("  clusters: 4", "  clusters: 0"), encoding="utf-8")
    cli = subprocess.run([sys.executable, "-m", "cluster_opt", "run", str(bad), "-q"], capture_output=True, text=True)
    assert cli.returncode == 2
    assert r.json()["error"].split(": ", 1)[1] == cli.stderr.strip().split(": ", 2)[2]  # the same words after the file name
    cases = [({"weights": {"labor": -1}}, "criteria.labor.weight"), ({"weights": {"jobs": 1}}, 'unknown criterion "jobs"'),
             ({"selection": {"layers": {}}}, "selection.layers: not a rule"), ({"selection": {"include": ["99999"]}}, "99999"),
             ({"path": "/etc/passwd"}, 'unknown key "path"'), ([1, 2], "expected a JSON object")]
    for body, words in cases:
        r = client.post("/api/solve", json=body)
        assert r.status_code == 422 and words in r.json()["error"], (body, r.json())


def test_limits_refuse_large_bodies_other_hosts_and_non_json(explorer, client):
    assert client.post("/api/solve", content=b"{" + b" " * MAX_BODY + b"}", headers={"content-type": "application/json"}).status_code == 413
    assert client.post("/api/solve", content=b"{}", headers={"content-type": "text/plain"}).status_code == 415
    assert client.post("/api/solve", content=b"{nope", headers={"content-type": "application/json"}).status_code == 422
    rebound = TestClient(create_app(explorer), base_url="http://attacker.example:8765")
    assert rebound.get("/api/scenario").status_code == 421 and rebound.get("/").status_code == 421


def test_infeasible_rules_say_which_rule(client):
    a = client.post("/api/solve", json={"selection": {"requirements": {"labor": 50_000_000, "grid": 3000}}}).json()
    assert a["status"] == "infeasible" and "labor" in a["message"] and a["hubs"] == []


def test_concurrent_requests_each_get_their_own_answer(explorer, client):
    rng = np.random.default_rng(3)
    weightings = [dict(zip(CRITERIA, map(float, rng.dirichlet(np.ones(len(CRITERIA)))))) for _ in range(12)]
    expected = [explorer.solve({"weights": w}) for w in weightings]
    got: list = [None] * len(weightings)

    def ask(k: int) -> None:
        got[k] = client.post("/api/solve", json={"weights": weightings[k]}).json()

    threads = [threading.Thread(target=ask, args=(k,)) for k in range(len(weightings))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for e, g in zip(expected, got):
        assert sorted(g["hubs"]) == sorted(e["hubs"]) and g["objective"] == pytest.approx(e["objective"], abs=1e-9), (e, g)


def _wait_for(condition, timeout: float = 30.0) -> None:
    t = time.monotonic()
    while not condition():
        assert time.monotonic() - t < timeout, "timed out"
        time.sleep(0.01)


def test_a_newer_request_from_the_same_page_supersedes_one_still_waiting(explorer):
    out: dict = {}

    def ask(name: str, w: dict) -> None:
        try:
            out[name] = explorer.solve({"weights": w, "client": "page-1"})
        except Superseded:
            out[name] = "superseded"

    with explorer._lock:  # a solve in progress: both requests wait
        seen = explorer._seq
        first = threading.Thread(target=ask, args=("first", _weights(labor=0.6)))
        first.start()
        _wait_for(lambda: explorer._seq >= seen + 1)
        second = threading.Thread(target=ask, args=("second", _weights(labor=0.1)))
        second.start()
        _wait_for(lambda: explorer._seq >= seen + 2)
    first.join()
    second.join()
    assert out["first"] == "superseded" and out["second"]["checked"]


def test_downloaded_yaml_reproduces_the_answer_and_the_zip_holds_the_run(client, tmp_path):
    w = _weights(grid_capacity=0.6, ports=0.05)
    a = client.post("/api/solve", json={"weights": w, "selection": {"clusters": 3, "exclude": ["26163"]}}).json()
    text = client.get("/api/download/config.yaml").text
    path = tmp_path / "explored.yaml"
    path.write_text(text, encoding="utf-8")
    res = co.run(str(path))
    assert sorted(res.hubs) == sorted(a["hubs"]) and res.solution.objective == pytest.approx(a["objective"], abs=1e-9)
    assert "26163" not in res.hubs
    z = zipfile.ZipFile(io.BytesIO(client.get("/api/download/run.zip").content))
    names = {n.split("/", 1)[1] for n in z.namelist()}
    assert {"scores.csv", "clusters.csv", "map.html", "report.html", "manifest.json", "importance.csv"} <= names
    manifest = json.loads(z.read(next(n for n in z.namelist() if n.endswith("manifest.json"))))
    assert manifest["solver"]["objective"] == pytest.approx(a["objective"], abs=1e-9)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_explore_command_serves_the_scenario():
    import urllib.request

    port = _free_port()
    proc = subprocess.Popen([sys.executable, "-m", "cluster_opt", "explore", str(CONFIG), "--no-browser", "--port", str(port), "-q"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline()
        assert f"exploring at http://127.0.0.1:{port}/" in line
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/scenario", timeout=30) as r:
            assert json.loads(r.read())["name"] == "battery-belt"
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    warn = subprocess.run([sys.executable, "-m", "cluster_opt", "explore", str(CONFIG), "--host", "0.0.0.0", "--port", "99999"],
                          capture_output=True, text=True)
    assert warn.returncode == 2  # a port out of range is refused before anything starts


def _until(page, js: str, timeout: float = 20.0) -> None:
    """Poll a JS expression (the page's CSP forbids the eval that wait_for_function uses)."""
    t = time.monotonic()
    while time.monotonic() - t < timeout:
        if page.evaluate(js):
            return
        page.wait_for_timeout(100)
    raise AssertionError(f"timed out waiting for {js}")


def test_page_moves_a_weight_and_shows_the_apis_answer(browser, explorer, tmp_path):
    import urllib.request

    port = _free_port()
    url: list[str] = []
    threading.Thread(target=serve, args=(explorer, "127.0.0.1", port), kwargs={"on_ready": url.append}, daemon=True).start()
    t = time.monotonic()
    while not url and time.monotonic() - t < 30:
        time.sleep(0.05)
    ctx = browser.new_context(viewport={"width": 1400, "height": 950})
    outside, errors = [], []
    page = ctx.new_page()
    page.on("request", lambda r: None if r.url.startswith((url[0], "data:", "blob:")) else outside.append(r.url))
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(url[0])
    _until(page, "window.coExplore && coExplore.solves >= 1")
    before = page.evaluate("coExplore.answer.hubs")
    page.locator("input[data-criterion=labor]").fill("1")
    page.locator("input[data-criterion=minerals]").fill("0")
    _until(page, "coExplore.solves >= 2 && coExplore.answer.weights.labor > 0.5")
    after = page.evaluate("coExplore.answer")
    assert sorted(after["hubs"]) != sorted(before)
    body = json.dumps({"weights": page.evaluate("coExplore.weights")}).encode()
    req = urllib.request.Request(url[0] + "api/solve", data=body, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as r:
        api = json.loads(r.read())
    assert sorted(api["hubs"]) == sorted(after["hubs"]) and api["objective"] == pytest.approx(after["objective"], abs=1e-12)
    assert "Proven optimal" in page.text_content(".co-status") and "independent check passed" in page.text_content(".co-status")
    page.locator("text=Pin this scenario").click()
    assert page.locator(".co-pin").count() == 1
    page.screenshot(path=str(tmp_path / "explore.png"))
    assert outside == [] and errors == []
    ctx.close()


def test_a_newer_request_stops_the_same_pages_solve_under_way(explorer):
    """24 clusters at least 200 km apart, two per state, fill the Battery Belt's twelve states: proving the best packing
    takes several seconds of rounds; a newer change from the same page stops that solve at once and is answered."""
    out: dict = {}

    def ask(name: str, request: dict) -> None:
        t = time.monotonic()
        try:
            out[name] = explorer.solve({**request, "client": "page-2"})
        except Superseded:
            out[name] = "superseded"
        out[name + "_seconds"] = time.monotonic() - t

    busy = {"clusters": 24, "min_spacing_km": 200, "cluster_radius_km": 80, "max_per_state": 2}
    slow = threading.Thread(target=ask, args=("slow", {"selection": busy}))
    slow.start()
    time.sleep(1.0)
    ask("next", {"weights": _weights()})
    slow.join()
    assert out["slow"] == "superseded" and out["slow_seconds"] < 20
    assert out["next"]["status"] == "optimal" and out["next"]["checked"]


CHAIN_TEST = Path(__file__).with_name("test_chain_pages.py")


def test_a_chain_is_explored_by_its_weights(tmp_path):
    text = CHAIN_TEST.read_text(encoding="utf-8")
    chain = text[text.index('CHAIN = """\\\n') + len('CHAIN = """\\\n'):text.index('"""\nSCRIPT_KEY')]
    path = tmp_path / "chain.yaml"
    path.write_text(chain.replace("REFINERY", "refinery").replace("CELL", "cell"), encoding="utf-8")
    client = TestClient(create_app(Explorer(path)), base_url="http://localhost:8765")
    a = client.post("/api/solve", json={"weights": {"labor": 0.9, "minerals": 0.05, "grid": 0.03, "ports": 0.02}}).json()
    assert a["checked"] and a["status"] == "optimal" and a["hubs"] == []
    new = [f for f in a["facilities"] if f["status"] == "new"]
    assert sorted(f["type"] for f in new) == ["cell", "cell", "refinery"] and a["links"]
    assert all(f["name"].endswith("County") for f in new)  # named after their unit, as in facilities.csv
    ref = co.select(co.prepare(co.load_config(path)), {"labor": 0.9, "minerals": 0.05, "grid": 0.03, "ports": 0.02})
    assert a["objective"] == pytest.approx(ref.solution.objective, abs=1e-9)
    r = client.post("/api/solve", json={"selection": {"clusters": 2}})
    assert r.status_code == 422 and "explored by its weights" in r.json()["error"]
    assert client.get("/").status_code == 200


def test_a_config_file_name_cannot_add_lines_to_the_downloaded_yaml_and_a_bad_file_is_one_line(tmp_path):
    import yaml

    from cluster_opt.errors import ConfigError

    odd = tmp_path / "bb\nname: injected\n#.yaml"
    odd.write_text(CONFIG.read_text(encoding="utf-8"), encoding="utf-8")
    text = Explorer(odd).yaml_text()
    assert yaml.safe_load(text)["name"] == "battery-belt" and "\nname: injected" not in text
    (tmp_path / "latin1.yaml").write_bytes("name: caf\xe9\n".encode("latin-1"))
    with pytest.raises(ConfigError, match="latin1.yaml: cannot read the file \\(it is not UTF-8 text\\)"):
        Explorer(tmp_path / "latin1.yaml")
