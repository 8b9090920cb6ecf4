"""Supply chains: the value of siting every stage jointly, and the time to a proven optimum at scale.

    python benchmarks/chain.py [--skip-scale]

Part 1, joint against one type at a time, on configs/battery_chain.yaml and
configs/magnet_chain.yaml. "One at a time" is how a chain is planned without a
chain model: each facility type is sited alone by its own site score and its own
site rules and requirements (no links, no co-location, no sharing of units across
types), and then linked: each new downstream facility takes the nearest supplier
(new or existing) within the link's max_km that has capacity left, nearest pairs
first. "Rung by rung" goes upstream first and keeps each type's sites within
max_km of a supplier already placed (existing or new), as a planner growing the
chain stage by stage would. Reported: the objective (site scores less link costs, as the chain model
counts it), total link km, new facilities left without a supplier in reach, and
units whose labor or grid is counted for facilities of two types.

Part 2, time to a proven optimum, each case in a fresh process: battery_chain.yaml
as shipped; the same chain over the lower 48 counties; and a two-type chain
(refinery and cell) on an H3 resolution 5 grid of the Great Lakes states.
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

import numpy as np
import yaml

ROOT = Path(__file__).resolve().parents[1]
LOWER48 = ["AL", "AZ", "AR", "CA", "CO", "CT", "DE", "DC", "FL", "GA", "ID", "IL", "IN", "IA", "KS", "KY", "LA", "ME", "MD", "MA",
           "MI", "MN", "MS", "MO", "MT", "NE", "NV", "NH", "NJ", "NM", "NY", "NC", "ND", "OH", "OK", "OR", "PA", "RI", "SC", "SD",
           "TN", "TX", "UT", "VT", "VA", "WA", "WV", "WI", "WY"]
GREAT_LAKES = ["MN", "WI", "MI", "IL", "IN", "OH", "PA", "NY"]


def one_at_a_time(res, rung_by_rung: bool = False) -> dict:
    """Site each type alone, then link each new facility to its nearest supplier with capacity left.

    ``rung_by_rung``: upstream types first, each type's sites kept within max_km of a supplier already placed."""
    from dataclasses import replace

    from cluster_opt.errors import InfeasibleError
    from cluster_opt.geo import haversine_km
    from cluster_opt.model.chain import SitingProblem
    from cluster_opt.model.solve import solve_siting

    sp = res.siting
    t0 = time.perf_counter()
    sites, draws = {}, {}
    order = list(sp.types)
    if rung_by_rung:  # links point downstream; a type goes after every type that supplies it
        order.sort(key=lambda t: _depth(sp, t))
    for t in order:
        pb = sp.types[t]
        if pb.most == 0:
            continue
        if rung_by_rung:
            ok = pb.can_host.copy()
            for link in (k for k in sp.links if k.to == t):
                lat, lon = _suppliers(sp, link, sites)
                near = haversine_km(sp.first.lat[:, None], sp.first.lon[:, None], lat[None, :], lon[None, :]) <= link.max_km
                ok &= near.any(axis=1) if len(lat) else False
            pb = replace(pb, site_ok=ok)
        try:
            sol = solve_siting(SitingProblem({t: pb}, {}, [], None))
        except InfeasibleError:
            return {"objective": float("nan"), "km": float("nan"), "unsupplied": f"no {t} site is left in reach", "double_counted_units": "",
                    "seconds": time.perf_counter() - t0}
        sites[t] = np.asarray(sol.hub_index, dtype=int)
        draws[t] = sol.member_of >= 0
    seconds = time.perf_counter() - t0
    score = sum(float(sp.types[t].score[s].sum()) for t, s in sites.items())
    cost = km_total = 0.0
    unsupplied = 0
    for link in sp.links:
        down = sites.get(link.to, np.zeros(0, int))
        if not len(down):
            continue
        up_lat, up_lon = _suppliers(sp, link, sites)
        d = haversine_km(sp.first.lat[down][:, None], sp.first.lon[down][:, None], up_lat[None, :], up_lon[None, :])
        left = np.full(len(up_lat), np.inf if link.capacity is None else float(link.capacity))
        supplied = np.zeros(len(down), bool)
        for i, j in zip(*np.unravel_index(np.argsort(d, axis=None, kind="stable"), d.shape)):  # a few dozen facilities
            if supplied[i] or left[j] < 1 or d[i, j] > link.max_km:
                continue
            supplied[i], left[j] = True, left[j] - 1
            km_total += d[i, j]
            cost += link.cost_per_km * d[i, j]
        unsupplied += int((~supplied).sum())
    shared = int((np.sum([v for v in draws.values()], axis=0) > 1).sum()) if draws else 0
    return {"objective": score - cost, "km": km_total, "unsupplied": unsupplied, "double_counted_units": shared, "seconds": seconds,
            "clusters": _colocated(sp, sites)}


def _colocated(sp, sites: dict) -> str:
    """Whether some set of the rule's count centres puts every new facility of its types in a cluster, each cluster
    holding every must_contain type (new or existing): by enumerating centres' coverage as bit masks."""
    import itertools

    from cluster_opt.geo import haversine_km

    rule = sp.clusters
    if rule is None:
        return "no rule"
    lat, lon = sp.first.lat, sp.first.lon
    new = [(t, j) for t in rule.types for j in sites.get(t, [])]
    d = haversine_km(lat[:, None], lon[:, None], lat[[j for _, j in new]][None, :], lon[[j for _, j in new]][None, :]) <= rule.radius_km
    holds = np.ones(sp.n, bool)
    for t in rule.must_contain:
        ex = sp.existing.get(t)
        pts = [(lat[j], lon[j]) for j in sites.get(t, [])] + (list(zip(ex.lat, ex.lon)) if ex is not None else [])
        if not pts:
            return "no"
        a = np.array(pts)
        holds &= (haversine_km(lat[:, None], lon[:, None], a[None, :, 0], a[None, :, 1]) <= rule.radius_km).any(axis=1)
    masks = np.unique((d[holds] * (1 << np.arange(len(new)))).sum(axis=1).astype(np.int64))
    full = (1 << len(new)) - 1
    for combo in itertools.combinations_with_replacement(masks.tolist(), rule.count):  # distinct coverages only
        if np.bitwise_or.reduce(combo) == full:
            return "yes"
    return "no"


def _suppliers(sp, link, sites: dict) -> tuple[np.ndarray, np.ndarray]:
    """Where a link's suppliers are: the new ones placed so far, then the existing ones."""
    ex = sp.existing.get(link.source)
    new = sites.get(link.source, np.zeros(0, int))
    return (np.concatenate([sp.first.lat[new], ex.lat if ex is not None else []]),
            np.concatenate([sp.first.lon[new], ex.lon if ex is not None else []]))


def _depth(sp, t: str) -> int:
    """How many links lie upstream of a type (the links form no cycle)."""
    ups = [k.source for k in sp.links if k.to == t]
    return 1 + max(_depth(sp, u) for u in ups) if ups else 0


def joint(res) -> dict:
    sup = res.solution.supplies
    km = float(np.sum(sup.km)) if sup is not None and len(sup.km) else 0.0
    return {"objective": res.solution.objective, "km": km, "unsupplied": 0, "double_counted_units": 0, "clusters": "yes" if res.siting.clusters else "no rule",
            "seconds": res.timings["solve"], "status": res.solution.status, "check": res.evaluation.ok}


def value_table() -> None:
    from cluster_opt import load_config
    from cluster_opt.pipeline import prepare, select

    print("| chain | plan | objective | link km | new facilities without a supplier in reach | units counted for two types | co-location met | solve s |")
    print("|---|---|---|---|---|---|---|---|")
    for name in ("battery_chain", "magnet_chain"):
        res = select(prepare(load_config(ROOT / "configs" / f"{name}.yaml")))
        j = joint(res)
        print(f"| {name} | joint ({j['status']}, check {'passed' if j['check'] else 'FAILED'}) | {j['objective']:.4f} | {j['km']:,.0f} | 0 | 0 | {j['clusters']} | {j['seconds']:.1f} |")
        for label, s in (("one type at a time", one_at_a_time(res)), ("rung by rung", one_at_a_time(res, rung_by_rung=True))):
            print(f"| {name} | {label} | {s['objective']:.4f} | {s['km']:,.0f} | {s['unsupplied']} | {s['double_counted_units']} | {s.get('clusters', '')} | {s['seconds']:.1f} |",
                  flush=True)


def scale_cases() -> list[tuple[str, dict]]:
    chain = yaml.safe_load((ROOT / "configs" / "battery_chain.yaml").read_text())
    lower48 = {**chain, "name": "battery-chain-lower48", "study_area": {"states": LOWER48}}
    lower48["solver"] = {**chain["solver"], "time_limit_s": 600}
    h3 = {**chain, "name": "two-type-h3", "study_area": {"states": GREAT_LAKES}, "units": {"kind": "h3", "resolution": 5},
          "facilities": {"refinery": chain["facilities"]["refinery"], "cell": chain["facilities"]["cell"]},
          "links": [{"from": "refinery", "to": "cell", "max_km": 250, "capacity": 3}], "solver": {**chain["solver"], "time_limit_s": 600}}
    h3.pop("clusters")
    return [("battery_chain.yaml (12 states, counties)", chain), ("battery chain, lower 48 counties", lower48),
            ("refinery and cell, H3 res 5, Great Lakes states", h3)]


def child(cfg_json: str) -> None:
    """Child process: run the pipeline without writing outputs and print a JSON line."""
    from cluster_opt.config import parse_config
    from cluster_opt.pipeline import run

    cfg = parse_config(json.loads(cfg_json), "bench", ROOT / "configs")
    t = time.perf_counter()
    res = run(cfg)
    sol = res.solution
    print(json.dumps({"units": len(res.units), "types": len(cfg.facilities), "new": int(sol.facilities.new.sum()), "vars": sol.n_vars,
                      "rows": sol.n_rows, "solve": sol.solve_seconds, "total": time.perf_counter() - t, "status": sol.status,
                      "gap": sol.gap, "check": res.evaluation.ok, "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))


def scale_table() -> None:
    print("| case | units | types | new facilities | variables | rows | solve s | run s | status | check | peak MB |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for label, cfg in scale_cases():
        t = time.perf_counter()
        out = subprocess.run([sys.executable, __file__, "--child", json.dumps(cfg)], capture_output=True, text=True)
        if out.returncode != 0:
            print(f"| {label} | | | | | | | {time.perf_counter() - t:.0f} | {out.stderr.strip().splitlines()[-1][:120]} | | |", flush=True)
            continue
        r = json.loads(out.stdout.strip().splitlines()[-1])
        gap = "no bound" if r["gap"] is None else f"gap {r['gap']:.1e}"
        print(f"| {label} | {r['units']:,} | {r['types']} | {r['new']} | {r['vars']:,} | {r['rows']:,} | {r['solve']:.1f} | {r['total']:.1f} | "
              f"{r['status']} ({gap}) | {'passed' if r['check'] else 'FAILED'} | {r['peak_mb']:.0f} |", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--skip-scale", action="store_true", help="only the joint against one-at-a-time table")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(args.child)
        return
    print(f"# Supply chains, {date.today()}, {platform.machine()}, Python {platform.python_version()}\n")
    value_table()
    if not args.skip_scale:
        print()
        scale_table()


if __name__ == "__main__":
    main()
