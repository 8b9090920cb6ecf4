"""The selection model at its edges: wide spacing, overlapping clusters, and honest time limits.

    python benchmarks/solver_limits.py [--limits 5 10 30]

Each case runs the pipeline in a fresh process (configs/battery_belt.yaml with the
rules changed as named) and reports the solve stage's wall time (model building,
every lazy or assignment round and reading back the answer included), the status,
objective, bound and gap, and the model's size. The time-limit cases pack 40
clusters two per state into the lower 48 (tens of seconds to prove), so the limit
binds; the stage must end within the limit + 5%.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
from datetime import date
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]

CASES = {
    "wide spacing: lower 48, 3 clusters ≥ 600 km apart, radius 100, 1 per state, labor and grid": (
        {"clusters": 3, "min_spacing_km": 600, "cluster_radius_km": 100, "max_per_state": 1}, True),
    "overlapping: Battery Belt, radius 150, hubs ≥ 200 km apart": ({"cluster_radius_km": 150, "min_spacing_km": 200}, False),
    "overlapping, members valued (member_weight 1): radius 150, spacing 200": (
        {"cluster_radius_km": 150, "min_spacing_km": 200, "member_weight": 1.0}, False),
    "lower 48, 40 clusters ≥ 300 km apart, 2 per state (a tight packing: tens of seconds to prove)": (
        {"clusters": 40, "max_per_state": 2}, True),
}


def config(selection: dict, conus: bool, limit: float) -> dict:
    cfg = yaml.safe_load((ROOT / "configs" / "battery_belt.yaml").read_text())
    cfg.pop("explain", None)
    cfg["selection"].update(selection)
    cfg["solver"]["time_limit_s"] = limit
    if conus:
        cfg["study_area"] = "conus"
        cfg["criteria"].pop("power_price")  # the embedded state price table has no row for Wyoming
        cfg["layers"].pop("power_price")
    return cfg


def child(cfg_json: str) -> None:
    from cluster_opt.config import parse_config
    from cluster_opt.pipeline import run

    res = run(parse_config(json.loads(cfg_json), "bench", ROOT / "configs"))
    s = res.solution
    print(json.dumps({"stage": res.timings["solve"], "status": s.status, "objective": s.objective, "bound": s.bound, "gap": s.gap,
                      "vars": s.n_vars, "rows": s.n_rows, "rounds": s.blocks.get("spacing_rounds", s.blocks.get("assignment_rounds", 1)),
                      "check": res.evaluation.ok, "pairs": res.problem.conflict_count}))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--limits", type=float, nargs="*", default=[5.0, 10.0, 30.0], help="time limits for the case whose limit binds")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(args.child)
        return
    print(f"# Selection model at its edges, {date.today()}, {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}\n")
    print("| case | time limit s | close pairs | variables | rows | rounds | solve stage s | within limit + 5% | status | objective | bound | gap | check |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    runs = [(name, sel, conus, 120.0) for name, (sel, conus) in list(CASES.items())[:3]]
    name, (sel, conus) = list(CASES.items())[3]
    runs += [(name, sel, conus, limit) for limit in args.limits]
    for name, sel, conus, limit in runs:
        out = subprocess.run([sys.executable, __file__, "--child", json.dumps(config(sel, conus, limit))],
                             capture_output=True, text=True, check=True)
        r = json.loads(out.stdout.strip().splitlines()[-1])
        bound = "none found" if r["bound"] is None else f"{r['bound']:.4f}"
        gap = "–" if r["gap"] is None else f"{r['gap']:.2%}"
        print(f"| {name} | {limit:g} | {r['pairs']:,} | {r['vars']:,} | {r['rows']:,} | {r['rounds']} | {r['stage']:.2f} | "
              f"{'yes' if r['stage'] <= 1.05 * limit else 'NO'} | {r['status']} | {r['objective']:.4f} | {bound} | {gap} | "
              f"{'passed' if r['check'] else 'FAILED'} |", flush=True)


if __name__ == "__main__":
    main()
