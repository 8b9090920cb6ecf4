"""A 1,000-weighting sweep of the Battery Belt on a local Dask cluster.

    python benchmarks/sweep.py [--samples 1000] [--workers 2]

Prints a Markdown row: setup (units, layers, measures, the config's own solve and
the shared model), the sweep itself (cluster start, shipping the model, solving),
and the per-weighting solve time.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from cluster_opt.analysis.sweep import build_setup, run_sweep, sample_weights
from cluster_opt.config import load_config
from cluster_opt.pipeline import prepare, select

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--samples", type=int, default=1000)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--config", default=str(ROOT / "configs" / "battery_belt.yaml"))
    args = ap.parse_args()
    t0 = time.perf_counter()
    cfg = load_config(args.config)
    prep = prepare(cfg)
    base = select(prep)
    setup = build_setup(prep, base)
    t1 = time.perf_counter()
    w = sample_weights(cfg.criterion_weights(), args.samples, 50.0, 0)
    res = run_sweep(setup, w, workers=args.workers)
    t2 = time.perf_counter()
    per = np.array([r["seconds"] for r in res.results])
    mip = sum(r["seconds"] > 0.05 for r in res.results)
    print("| config | weightings | workers | setup s | sweep s | total s | median solve ms | p95 solve ms | all optimal and checked |")
    print("|---|---|---|---|---|---|---|---|---|")
    print(f"| {Path(args.config).name} | {len(w):,} | {res.workers} | {t1 - t0:.1f} | {t2 - t1:.1f} | {t2 - t0:.1f} | "
          f"{1000 * np.median(per):.1f} | {1000 * np.quantile(per, 0.95):.1f} | "
          f"{all(r['status'] == 'optimal' and r['check'] for r in res.results)} |")
    print(f"\n(solves slower than 50 ms, i.e. needing the MIP after a fractional LP: {mip})")


if __name__ == "__main__":
    main()
