"""What defending the answer costs: a run with and without why / why not and the selection's stability.

    python benchmarks/analyses.py [--config configs/battery_belt.yaml] [--repeat 3] [--workers 2]

Times, in one process after importing cluster_opt (the import is timed in a fresh process):
the plain run (units, layers, measures, scores, solve, check) and writing the run directory,
then importance (each chosen site forced out, the 20 best units not chosen and the config's
explain.units forced in) and the stability of the selection (both ends of each weight's
range), in this process and spread over Dask workers. Prints a Markdown table: best of
--repeat, and the ratio of a run with the analyses to the plain run.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _import_seconds() -> float:
    best = float("inf")
    for _ in range(3):
        t = time.perf_counter()
        subprocess.run([sys.executable, "-c", "import cluster_opt.cli"], check=True)
        best = min(best, time.perf_counter() - t)
    return best


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--config", default=str(ROOT / "configs" / "battery_belt.yaml"))
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args()
    import cluster_opt as co

    rows = {"import": [_import_seconds()]}
    for _ in range(args.repeat):
        t = time.perf_counter()
        res = co.run(args.config)
        rows.setdefault("run (to a checked optimum)", []).append(time.perf_counter() - t)
        t = time.perf_counter()
        imp = res.importance
        rows.setdefault("importance, here", []).append(time.perf_counter() - t)
        t = time.perf_counter()
        stab = res.selection_stability
        rows.setdefault("stability, here", []).append(time.perf_counter() - t)
        with tempfile.TemporaryDirectory() as d:
            t = time.perf_counter()
            res.write(Path(d) / "run")
            rows.setdefault("write the run directory", []).append(time.perf_counter() - t)
    if args.workers:
        fresh = co.run(args.config)
        t = time.perf_counter()
        fresh.explain(workers=args.workers)
        rows[f"importance + stability, {args.workers} Dask workers (cluster start included)"] = [time.perf_counter() - t]
        same = fresh.importance.equals(imp) and fresh.selection_stability[["low", "high"]].equals(stab[["low", "high"]])
    best = {k: min(v) for k, v in rows.items()}
    plain = best["import"] + best["run (to a checked optimum)"] + best["write the run directory"]
    full = plain + best["importance, here"] + best["stability, here"]
    print(f"config: {Path(args.config).name}; {len(imp)} importance rows, {int(stab['solves'].sum())} stability solves\n")
    print("| stage | seconds |\n|---|---|")
    for k, v in best.items():
        print(f"| {k} | {v:.2f} |")
    print(f"| **plain run** (import + run + write) | **{plain:.2f}** |")
    print(f"| **run with the analyses** (what `cluster-opt run` does) | **{full:.2f}** ({full / plain:.1f}× the plain run) |")
    if args.workers:
        print(f"\nDask answers identical to in-process ones: {same}")


if __name__ == "__main__":
    main()
