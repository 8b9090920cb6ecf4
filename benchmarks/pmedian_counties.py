"""p-median on the lower-48 county centroids with great-circle distances: time to a proven optimum.

    python benchmarks/pmedian_counties.py [--p 5 10 20] [--time-limit 60] [--threads 1]

Counties come from the same boundary file the project builds county units from
(cluster_opt.units, area centroids); every county is both a demand point (weight 1)
and a candidate site. Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import os
import platform
from datetime import date

from cluster_opt.config import CountyUnits
from cluster_opt.locate import Solver, great_circle_matrix, p_median
from cluster_opt.model.backend import solver_version
from cluster_opt.states import CONUS
from cluster_opt.units import units_of


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--p", type=int, nargs="+", default=[5, 10, 20])
    ap.add_argument("--time-limit", type=float, default=60.0)
    ap.add_argument("--threads", type=int, default=None)
    args = ap.parse_args()
    g = units_of(CountyUnits(), CONUS)
    lat, lon = g["lat"].to_numpy(), g["lon"].to_numpy()
    cost = great_circle_matrix(lat, lon, lat, lon)
    print(f"# p-median, {len(g):,} lower-48 counties, great-circle km, {date.today()}, {platform.processor() or platform.machine()}, "
          f"{os.cpu_count()} cores, Python {platform.python_version()}, {solver_version('highs')}\n")
    print("| n | p | objective (km) | bound | gap | status | seconds | iterations |")
    print("|---|---|---|---|---|---|---|---|")
    for p in args.p:
        r = p_median(cost, p, solver=Solver(time_limit_s=args.time_limit, threads=args.threads))
        gap = f"{r.gap:.4%}" if r.gap is not None else "n/a"
        bound = f"{r.bound:,.1f}" if r.bound is not None else "n/a"
        print(f"| {len(g):,} | {p} | {r.objective:,.1f} | {bound} | {gap} | {r.status} | {r.seconds:.1f} | {r.iterations} |", flush=True)


if __name__ == "__main__":
    main()
