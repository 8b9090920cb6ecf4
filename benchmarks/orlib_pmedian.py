"""OR-Library p-median: time to a proven optimum, cluster-opt against spopt (PySAL) and pbp-pmedian on the same matrices.

    python benchmarks/orlib_pmedian.py [--spopt-max-n 300] [--time-limit 60] [--others-time-limit 60] [--threads 1] [pmed1 ...]

Reads Beasley's instances from ../shared/data/orlib (or ORLIB_DIR); all 40 by default.
cluster-opt's seconds include the greedy-swap start. spopt builds one variable per
client-site pair and is run up to --spopt-max-n vertices; pbp-pmedian is run when it is
installed (pip install pbp-pmedian). Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from datetime import date
from pathlib import Path

import numpy as np
import pulp

from cluster_opt.locate import Solver, p_median
from cluster_opt.locate.orlib import OPTIMA, read_pmed
from cluster_opt.model.backend import solver_version

ORLIB = Path(os.environ.get("ORLIB_DIR") or Path(__file__).resolve().parents[2] / "shared" / "data" / "orlib")


def run_spopt(cost: np.ndarray, p: int, limit: float) -> str:
    from spopt.locate import PMedian

    t = time.perf_counter()
    model = PMedian.from_cost_matrix(cost, np.ones(len(cost)), p_facilities=p)
    try:
        model.solve(pulp.HiGHS(msg=False, gapRel=0.0, timeLimit=limit))
    except RuntimeError:  # spopt raises when the solver stops without a solution
        return f"no solution in {time.perf_counter() - t:.0f} s"
    sec = time.perf_counter() - t
    return f"{pulp.value(model.problem.objective):.0f} in {sec:.2f} s" + ("" if sec < limit else " (time limit)")


def run_pbp(cost: np.ndarray, p: int, limit: float) -> str:
    try:
        from pbp_pmedian import solve
    except ImportError:
        return "not installed"
    t = time.perf_counter()
    value, _, _, status, engine = solve(cost.T, p, time_limit=limit)  # pbp-pmedian: rows are facilities
    sec = time.perf_counter() - t
    if value is None:
        return f"no solution in {sec:.0f} s ({engine})"
    return f"{value:.0f} in {sec:.2f} s ({engine}{'' if status == 0 else ', not proven'})"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("instances", nargs="*", default=[f"pmed{k}" for k in range(1, 41)])
    ap.add_argument("--spopt-max-n", type=int, default=300, help="skip spopt above this many vertices (it builds n² variables)")
    ap.add_argument("--time-limit", type=float, default=60.0, help="cluster-opt's seconds per instance")
    ap.add_argument("--others-time-limit", type=float, default=60.0, help="spopt's and pbp-pmedian's seconds per instance")
    ap.add_argument("--threads", type=int, default=None, help="HiGHS threads for cluster-opt")
    ap.add_argument("--method", default="auto", choices=["auto", "benders", "levels"])
    args = ap.parse_args()
    print(f"# OR-Library p-median, {date.today()}, {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"Python {platform.python_version()}, {solver_version('highs')}, PuLP {pulp.__version__}\n")
    print("| instance | n | p | optimum | cluster-opt | status | seconds | method | spopt | pbp-pmedian |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for name in args.instances:
        cost, p = read_pmed(ORLIB / f"{name}.txt")
        n = len(cost)
        res = p_median(cost, p, solver=Solver(time_limit_s=args.time_limit, threads=args.threads), method=args.method)
        method = "levels" if args.method == "levels" else "benders"
        mark = "" if res.objective == OPTIMA[name] and res.status == "optimal" and res.bound == OPTIMA[name] else " ✗"
        spopt = run_spopt(cost, p, args.others_time_limit) if n <= args.spopt_max_n else "not run"
        print(f"| {name} | {n} | {p} | {OPTIMA[name]} | {res.objective:.0f}{mark} | {res.status} | {res.seconds:.2f} | {method} "
              f"| {spopt} | {run_pbp(cost, p, args.others_time_limit)} |", flush=True)


if __name__ == "__main__":
    main()
