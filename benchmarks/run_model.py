"""The site-selection model at scale: CONUS counties with 5, 10 and 20 clusters, and a CONUS H3 grid.

    python benchmarks/run_model.py [--h3-resolution 5] [--clusters 5 10 20]

Each case runs in a fresh process (so peak memory is its own) on the Battery Belt
criteria and rules, widened to the lower 48. Prints a Markdown table: units,
model size, build and solve seconds (HiGHS via PuLP, proven optimal), whole-run
seconds and peak resident memory.
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def case_config(clusters: int, units: dict) -> dict:
    cfg = yaml.safe_load((ROOT / "configs" / "battery_belt.yaml").read_text())
    cfg["name"] = f"bench-{units['kind']}-{clusters}"
    cfg["study_area"] = "conus"
    # The embedded state price table has no row for Wyoming (EIA withholds it), so the lower 48 go without it.
    cfg.pop("explain", None)  # county ids: not units of an H3 grid
    cfg["criteria"].pop("power_price")
    cfg["layers"].pop("power_price")
    cfg["units"] = units
    cfg["selection"]["clusters"] = clusters
    cfg["selection"]["max_per_state"] = 2
    cfg["solver"]["time_limit_s"] = 3600
    return cfg


def one(cfg_json: str) -> None:
    """Child process: run the pipeline without writing outputs and print a JSON line."""
    from cluster_opt.config import parse_config
    from cluster_opt.pipeline import run

    cfg = parse_config(json.loads(cfg_json), "bench", ROOT / "configs")
    t = time.perf_counter()
    res = run(cfg)
    sol = res.solution
    print(json.dumps({
        "units": len(res.units), "vars": sol.n_vars, "rows": sol.n_rows, "rounds": sol.blocks.get("spacing_rounds", 1),
        "build": sol.build_seconds, "solve": sol.solve_seconds, "total": time.perf_counter() - t, "status": sol.status,
        "gap": sol.gap, "objective": sol.objective, "check": res.evaluation.ok,
        "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--clusters", type=int, nargs="*", default=[5, 10, 20])
    ap.add_argument("--h3-resolution", type=int, default=5, help="0 to skip the H3 case")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        one(args.child)
        return
    cases = [(k, {"kind": "county"}) for k in args.clusters]
    if args.h3_resolution:
        cases.append((10, {"kind": "h3", "resolution": args.h3_resolution}))
    print(f"# Selection model at scale, {date.today()}, {platform.machine()}, Python {platform.python_version()}\n")
    print("| units | clusters | variables | rows | spacing rounds | build s | solve s | run s | status | check | peak MB |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for k, units in cases:
        cfg = case_config(k, units)
        out = subprocess.run([sys.executable, __file__, "--child", json.dumps(cfg)], capture_output=True, text=True, check=True)
        r = json.loads(out.stdout.strip().splitlines()[-1])
        label = "CONUS counties" if units["kind"] == "county" else f"CONUS H3 res {units['resolution']}"
        print(f"| {label} ({r['units']:,}) | {k} | {r['vars']:,} | {r['rows']:,} | {r['rounds']} | {r['build']:.1f} | {r['solve']:.1f} | "
              f"{r['total']:.1f} | {r['status']} (gap {r['gap']:.1e}) | {'passed' if r['check'] else 'FAILED'} | {r['peak_mb']:.0f} |", flush=True)


if __name__ == "__main__":
    main()
