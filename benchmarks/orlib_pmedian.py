"""OR-Library p-median: time to a proven optimum, cluster-opt against spopt (PySAL) on the same matrices.

    python benchmarks/orlib_pmedian.py [--spopt-max-n 700] [pmed1 pmed5 ...]

Reads ../shared/data/orlib (Beasley's instances); both solve with HiGHS through
PuLP to mip_gap 0. Prints a Markdown table (seconds include model building).
"""

from __future__ import annotations

import argparse
import platform
import time
from datetime import date
from pathlib import Path

import numpy as np
import pulp

from cluster_opt.locate import p_median
from cluster_opt.locate.orlib import OPTIMA, read_pmed

ORLIB = Path(__file__).resolve().parents[2] / "shared" / "data" / "orlib"


def run_spopt(cost: np.ndarray, p: int) -> tuple[float, float]:
    from spopt.locate import PMedian

    t = time.perf_counter()
    model = PMedian.from_cost_matrix(cost, np.ones(len(cost)), p_facilities=p)
    model.solve(pulp.HiGHS(msg=False, gapRel=0.0))
    return time.perf_counter() - t, float(pulp.value(model.problem.objective))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("instances", nargs="*", default=["pmed1", "pmed5", "pmed10", "pmed20", "pmed30", "pmed40"])
    ap.add_argument("--spopt-max-n", type=int, default=700, help="skip spopt above this many vertices (it builds n² variables)")
    ap.add_argument("--repeat", type=int, default=3, help="cluster-opt timings: best of this many runs")
    args = ap.parse_args()
    print(f"# OR-Library p-median, {date.today()}, {platform.processor() or platform.machine()}, Python {platform.python_version()}, PuLP {pulp.__version__}\n")
    print("| instance | n | p | optimum | cluster-opt | cluster-opt s | levels model (vars / rows) | spopt | spopt s | speed-up |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for name in args.instances:
        cost, p = read_pmed(ORLIB / f"{name}.txt")
        n = len(cost)
        best, res = np.inf, None
        for _ in range(args.repeat):
            r = p_median(cost, p)
            if r.seconds < best:
                best, res = r.seconds, r
        assert res.objective == OPTIMA[name], (name, res.objective)
        if n <= args.spopt_max_n:
            s_sec, s_obj = run_spopt(cost, p)
            spopt = f"| {s_obj:.0f} | {s_sec:.2f} | {s_sec / best:.0f}x |"
        else:
            spopt = "| not run | | |"
        print(f"| {name} | {n} | {p} | {OPTIMA[name]} | {res.objective:.0f} | {best:.2f} | {res.variables:,} / {res.constraints:,} {spopt}", flush=True)


if __name__ == "__main__":
    main()
