"""OR-Library capacitated warehouse location: cluster-opt against the published optima.

    python benchmarks/orlib_cfl.py [--time-limit 120] [--threads 1] [--small] [--data DIR] [capa:8000 capb ...]

Reads Beasley's files from benchmarks/data/orlib_cap (or --data). Without instance arguments it runs
every capacity setting of capa, capb and capc listed in capopt.txt; --small adds cap41..cap134.
Multi-sourcing (a customer's demand may be split), as the published optima assume. Prints a
Markdown table; seconds include the bound, the first solution and model building.
"""

from __future__ import annotations

import argparse
import platform
from datetime import date
from pathlib import Path

from cluster_opt.config import Solver
from cluster_opt.locate.capacitated import capacitated_facility_location
from cluster_opt.locate.orlib_cap import read_cap, read_capopt
from cluster_opt.model.backend import solver_version

DATA = Path(__file__).resolve().parent / "data" / "orlib_cap"


def settings(optima: dict, wanted: list[str], small: bool) -> list[tuple[str, float | None]]:
    """(instance, capacity) pairs to run, in capopt's order."""
    keys = list(optima)
    if not wanted:
        return [k for k in keys if k[1] is not None or (small and k[0] not in ("capa", "capb", "capc"))]
    out = []
    for w in wanted:
        name, _, cap = w.partition(":")
        out += [k for k in keys if k[0] == name and (not cap or k[1] == float(cap))]
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("instances", nargs="*", help="e.g. capa (all four capacities), capb:6000, cap41")
    ap.add_argument("--data", type=Path, default=DATA, help="folder holding cap*.txt and capopt.txt")
    ap.add_argument("--time-limit", type=float, default=120.0)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--small", action="store_true", help="also run cap41..cap134")
    args = ap.parse_args()
    optima = read_capopt(args.data / "capopt.txt")
    print(f"# OR-Library capacitated warehouse location, {date.today()}, {platform.machine()}, Python {platform.python_version()}, "
          f"{solver_version('highs')}, {args.threads} thread(s), time limit {args.time_limit:g} s\n")
    print("| instance | capacity | published optimum | cluster-opt | status | bound | gap | seconds |")
    print("|---|---|---|---|---|---|---|---|")
    cfg = Solver(time_limit_s=args.time_limit, threads=args.threads)
    for name, cap in settings(optima, args.instances, args.small):
        inst = read_cap(args.data / f"{name}.txt", cap)
        res = capacitated_facility_location(inst.cost, inst.demand, inst.capacity, inst.fixed_cost, solver=cfg)
        published = optima[(name, cap)]
        gap = "" if res.gap is None else f"{100 * res.gap:.3f}%"
        bound = "" if res.bound is None else f"{res.bound:,.3f}"
        print(f"| {name} | {'' if cap is None else f'{cap:g}'} | {published:,.3f} | {res.objective:,.3f} | {res.status} | "
              f"{bound} | {gap} | {res.seconds:.1f} |", flush=True)


if __name__ == "__main__":
    main()
