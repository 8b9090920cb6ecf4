"""What defending the answer costs: `cluster-opt run` with and without why / why not and the selection's stability.

    python benchmarks/analyses.py [--config configs/battery_belt.yaml] [--repeat 3] [--workers 2]

Runs `cluster-opt run` in a fresh process (wall time from process start to a written run
directory, best of --repeat) and reads the stages' seconds from its manifest.json: the
plain run is the wall time less what the analyses took (importance: each chosen site
forced out, the best units not chosen and explain.units forced in; stability: both ends
of each weight's range). Then the same run with the re-solves on --workers local Dask
workers. Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ANALYSES = ("why", "stability", "alternatives")


def _run(config: str, *extra: str) -> tuple[float, dict, Path]:
    out = Path(tempfile.mkdtemp()) / "run"
    t = time.perf_counter()
    subprocess.run([sys.executable, "-m", "cluster_opt", "run", config, "--out", str(out), "-q", *extra], check=True,
                   stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - t
    return wall, json.loads((out / "manifest.json").read_text())["timings_seconds"], out


def import_seconds() -> dict[str, float]:
    """Cumulative import time of what `cluster-opt run` loads, from ``python -X importtime`` (best of 3)."""
    mods = ("cluster_opt.cli", "cluster_opt.pipeline", "cluster_opt.outputs")
    best: dict[str, float] = {}
    for _ in range(3):
        err = subprocess.run([sys.executable, "-X", "importtime", "-c", "import " + ", ".join(mods)], capture_output=True, text=True).stderr
        for line in err.splitlines():
            parts = [p.strip() for p in line.removeprefix("import time:").split("|")]
            if len(parts) == 3 and parts[2] in mods:
                best[parts[2]] = min(best.get(parts[2], 1e9), int(parts[1]) / 1e6)
    return best


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--config", default=str(ROOT / "configs" / "battery_belt.yaml"))
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args()
    runs = [_run(args.config) for _ in range(args.repeat)]
    wall, timings, out = min(runs, key=lambda r: r[0])
    spent = {k: timings.get(k, 0.0) for k in ANALYSES}
    plain = wall - sum(spent.values())
    imp = (out / "importance.csv").read_text().count("\n") - 1
    print(f"config: {Path(args.config).name}; {imp} importance rows; best of {args.repeat} runs\n")
    print("| stage | seconds |\n|---|---|")
    for mod, sec in import_seconds().items():
        print(f"| import {mod} (python -X importtime, cumulative) | {sec:.2f} |")
    for k, v in timings.items():
        if k not in ANALYSES:
            print(f"| {k} | {v:.2f} |")
    print(f"| **plain run** (process start to a written run directory, less the analyses) | **{plain:.2f}** |")
    for k, v in spent.items():
        if v:
            print(f"| {k} (in this process) | {v:.2f} |")
    print(f"| **`cluster-opt run`** (all of it) | **{wall:.2f}** ({wall / plain:.1f}× the plain run) |")
    if args.workers:
        w_wall, w_timings, w_out = _run(args.config, "--workers", str(args.workers))
        same = all((out / f).read_text() == (w_out / f).read_text() for f in ("importance.csv", "scores.csv", "clusters.csv"))
        print(f"| `cluster-opt run --workers {args.workers}` (Dask start included) | {w_wall:.2f} "
              f"(why {w_timings.get('why', 0):.2f}, stability {w_timings.get('stability', 0):.2f}) |")
        print(f"\nimportance.csv identical with Dask workers: {same}")


if __name__ == "__main__":
    main()
