"""Measuring units against a layer of a million points: time and peak memory.

    python benchmarks/large_layer.py [--points 1000000]

Random points (a stress test, not data) spread over the lower 48, written as a
GeoParquet layer and measured from every CONUS county with each measure. Runs in
a child process per measure so that each peak resident memory is its own.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np


def child(path: str, measure: str) -> None:
    from cluster_opt.config import Criterion, Layer, parse_config
    from cluster_opt.features import measure as run_measure
    from cluster_opt.layers import load_layer
    from cluster_opt.units import build_units

    cfg = parse_config({"name": "big", "study_area": "conus", "layers": {"p": {"source": path, "value": "v"}},
                        "criteria": {"p": {"layer": "p", "measure": "nearest_km", "weight": 1}},
                        "selection": {"clusters": 1, "cluster_radius_km": 10}})
    units = build_units(cfg)
    t = time.perf_counter()
    layer = load_layer("p", Layer(source=path, value="v"))
    t_load = time.perf_counter() - t
    crit = {"sum_within": Criterion(layer="p", measure="sum_within", radius_km=100, weight=1),
            "decay_sum": Criterion(layer="p", measure="decay_sum", half_distance_km=50, radius_km=250, weight=1),
            "count_within": Criterion(layer="p", measure="count_within", radius_km=100, weight=1),
            "nearest_km": Criterion(layer="p", measure="nearest_km", weight=1),
            "sum_inside": Criterion(layer="p", measure="sum_inside", weight=1)}[measure]
    t = time.perf_counter()
    out = run_measure(units, layer, crit)
    print(json.dumps({"units": len(units), "load": t_load, "measure": time.perf_counter() - t, "checksum": float(out.sum()),
                      "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--points", type=int, default=1_000_000)
    ap.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(*args.child)
        return
    import geopandas as gpd

    rng = np.random.default_rng(0)
    n = args.points
    g = gpd.GeoDataFrame({"name": np.arange(n).astype(str), "v": rng.uniform(0, 100, n)},
                         geometry=gpd.points_from_xy(rng.uniform(-124, -67, n), rng.uniform(25, 49, n)), crs="EPSG:4326")
    with tempfile.TemporaryDirectory() as d:
        path = str(Path(d) / "points.parquet")
        g.to_parquet(path)
        print("| measure | points | units | load s | measure s | peak MB |\n|---|---|---|---|---|---|")
        for m in ("sum_within", "decay_sum", "count_within", "nearest_km", "sum_inside"):
            out = subprocess.run([sys.executable, __file__, "--child", path, m], capture_output=True, text=True, check=True)
            r = json.loads(out.stdout.strip().splitlines()[-1])
            print(f"| {m} | {n:,} | {r['units']:,} | {r['load']:.1f} | {r['measure']:.1f} | {r['peak_mb']:.0f} |", flush=True)


if __name__ == "__main__":
    main()
