"""p-center, p-dispersion and set covering: time to a proven optimum, cluster-opt against spopt on the same matrices.

    python benchmarks/locate_models.py [--spopt-time-limit 300] [--orlib ../shared/data/orlib] [--only p-center]

Random planar instances (seeded; points uniform in the unit square, Euclidean
distances) and, where Beasley's OR-Library files are beside the checkout, its
p-median graphs as p-center instances. Both solve with HiGHS through PuLP; spopt
with its default gap and a time limit. Prints a Markdown table (seconds include
model building).
"""

from __future__ import annotations

import argparse
import platform
import time
from datetime import date
from pathlib import Path

import numpy as np
import pulp

from cluster_opt.locate import p_center, p_dispersion, set_covering
from cluster_opt.locate.orlib import read_pmed

ORLIB = Path(__file__).resolve().parents[2] / "shared" / "data" / "orlib"


def planar(seed: int, m: int, n: int | None = None) -> np.ndarray:
    rng = np.random.default_rng(seed)
    a = rng.random((m, 2))
    b = a if n is None else rng.random((n, 2))
    return np.hypot(*(a[:, None] - b[None]).transpose(2, 0, 1))


def spopt_run(build, limit: float) -> tuple[float, str]:
    t = time.perf_counter()
    model = build()
    model.problem.solve(pulp.HiGHS(msg=False, timeLimit=limit))
    seconds = time.perf_counter() - t
    value = pulp.value(model.problem.objective)
    done = pulp.LpStatus[model.problem.status] == "Optimal" and seconds < limit
    return seconds, (f"{value:.6g}" if value is not None else "none") + ("" if done else " (time limit)")


def cases(orlib: Path):
    from spopt.locate import LSCP, PCenter, PDispersion

    for m, n, p in [(100, 30, 4), (200, 50, 6), (400, 80, 8), (1000, 200, 10)]:
        c = planar(m, m, n)
        yield f"p-center {m}×{n}, p={p}", lambda c=c, p=p: p_center(c, p), lambda c=c, p=p: PCenter.from_cost_matrix(c, p), m <= 400
    for k in (1, 6, 20):
        path = orlib / f"pmed{k}.txt"
        if path.exists():
            c, p = read_pmed(path)
            yield f"p-center pmed{k} ({len(c)}, p={p})", lambda c=c, p=p: p_center(c, p), lambda c=c, p=p: PCenter.from_cost_matrix(c, p), len(c) <= 100
    for n, p in [(30, 4), (60, 6), (100, 8), (300, 10)]:
        d = planar(n, n)
        yield f"p-dispersion {n}, p={p}", lambda d=d, p=p: p_dispersion(d, p), lambda d=d, p=p: PDispersion.from_cost_matrix(d, p), n <= 100
    for m, n, r in [(1000, 200, 0.15), (3000, 500, 0.1)]:
        c = planar(m, m, n)
        yield f"set covering {m}×{n}, r={r}", lambda c=c, r=r: set_covering(c, r), lambda c=c, r=r: LSCP.from_cost_matrix(c, r), True
    for m, n, r in [(200, 60, 0.3)]:
        c = planar(m, m, n)
        d, cap = np.ones(m) * 2, np.full(n, 40.0)
        yield (f"capacitated set covering {m}×{n}, r={r}", lambda c=c, r=r, d=d, cap=cap: set_covering(c, r, demand=d, capacity=cap),
               lambda c=c, r=r, d=d, cap=cap: LSCP.from_cost_matrix(c, r, demand_quantity_arr=d, facility_capacity_arr=cap), True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--spopt-time-limit", type=float, default=300.0)
    ap.add_argument("--orlib", type=Path, default=ORLIB)
    ap.add_argument("--only", default="", help="run the instances whose name holds this text")
    args = ap.parse_args()
    print(f"# Location models, {date.today()}, {platform.processor() or platform.machine()}, Python {platform.python_version()}, PuLP {pulp.__version__}\n")
    print("| instance | cluster-opt | s | solves | spopt | spopt s |")
    print("|---|---|---|---|---|---|")
    for name, ours, theirs, run_spopt in cases(args.orlib):
        if args.only not in name:
            continue
        r = ours()
        spopt = spopt_run(theirs, args.spopt_time_limit) if run_spopt else None
        tail = f"| {spopt[1]} | {spopt[0]:.2f} |" if spopt else "| not run | |"
        print(f"| {name} | {r.objective:.6g} ({r.status}) | {r.seconds:.2f} | {r.iterations} {tail}", flush=True)


if __name__ == "__main__":
    main()
