"""cluster-opt explore: start-up to the first map, and request-to-answer latency of weight and rule changes.

    python benchmarks/explore.py [--config configs/battery_belt.yaml] [--weightings 200] [--port 8791]

Starts `cluster-opt explore --no-browser` in a fresh process and times it until the page is
served (the first answer is drawn into it). Then, over HTTP as the page does: --weightings
weight changes drawn around the config's weights (Dirichlet), and rule changes that each
build a model for new rules (clusters, radius, spacing, per-state limit, requirements,
include / exclude). Each answer is the exact optimum, re-checked. Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]


def _post(url: str, body: dict) -> tuple[float, dict]:
    req = urllib.request.Request(url + "api/solve", data=json.dumps(body).encode(), headers={"Content-Type": "application/json"})
    t = time.perf_counter()
    with urllib.request.urlopen(req, timeout=600) as r:
        answer = json.loads(r.read())
    return time.perf_counter() - t, answer


def _row(name: str, seconds: list[float], answers: list[dict]) -> str:
    ms = 1000 * np.array(seconds)
    ok = sum(a.get("checked", False) for a in answers)
    optimal = sum(a.get("status") == "optimal" for a in answers)
    return (f"| {name} | {len(ms)} | {np.median(ms):.0f} | {np.percentile(ms, 95):.0f} | {ms.max():.0f} | "
            f"{optimal} proven optimal, {ok} re-checked |")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--config", default=str(ROOT / "configs" / "battery_belt.yaml"))
    ap.add_argument("--weightings", type=int, default=200)
    ap.add_argument("--port", type=int, default=8791)
    args = ap.parse_args()
    url = f"http://127.0.0.1:{args.port}/"
    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "cluster_opt", "explore", args.config, "--no-browser", "--port", str(args.port), "-q"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        proc.stdout.readline()  # "exploring at ...": listening
        with urllib.request.urlopen(url, timeout=60) as r:
            page = r.read()
        startup = time.perf_counter() - t0
        with urllib.request.urlopen(url + "api/scenario", timeout=60) as r:
            scenario = json.loads(r.read())
        keys = [c["key"] for c in scenario["criteria"]]
        base = np.array([c["weight"] for c in scenario["criteria"]])
        rng = np.random.default_rng(0)
        draws = rng.dirichlet(np.maximum(50 * base / base.sum(), 1e-3), size=args.weightings)
        weight_s, weight_a = [], []
        for w in draws:
            s, a = _post(url, {"weights": dict(zip(keys, map(float, w)))})
            weight_s.append(s)
            weight_a.append(a)
        sel = scenario["selection"]
        rules = []
        if sel is not None:
            rules = [{"clusters": c} for c in (3, 5, 6)] + [{"cluster_radius_km": r} for r in (100, 140)] + \
                    [{"min_spacing_km": d} for d in (250, 350, 400)] + [{"max_per_state": m} for m in (1, 3, None)] + \
                    [{"requirements": {**sel["requirements"], k: v * f}} for k, v in sel["requirements"].items() for f in (0.8, 1.2)] + \
                    [{"include": [h]} for h in scenario["answer"]["hubs"][:2]] + [{"exclude": [h]} for h in scenario["answer"]["hubs"]]
        rule_s, rule_a = [], []
        for r in rules:
            s, a = _post(url, {"selection": {**sel, **r}})
            rule_s.append(s)
            rule_a.append(a)
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    print(f"config: {Path(args.config).name}; page {len(page) / 1e6:.2f} MB\n")
    print("| change | requests | p50 ms | p95 ms | max ms | answers |\n|---|---|---|---|---|---|")
    print(_row("weights (warm re-solve)", weight_s, weight_a))
    if rules:
        print(_row("rules (a model built for them)", rule_s, rule_a))
    print(f"\nstart-up to the first map (process start to the page served): {startup:.2f} s")


if __name__ == "__main__":
    main()
