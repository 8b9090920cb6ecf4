"""Give county-keyed tables a point per county, and count Opportunity Zone tracts per county.

    python geodata/build/county_points.py energy_communities.csv geodata/energy_communities.csv
    python geodata/build/county_points.py --qoz opportunity_zones.csv geodata/opportunity_zones.csv

The point is the one the workforce table uses (labor.py's rule on the project's county
boundaries: the equal-area centroid, or a point inside where the centroid falls outside). ``--qoz`` reads the CDFI Fund tract list (tract, state, county, year, source) and writes
one row per county: the number of designated tracts, each row citing the list.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

# Codes of a newer or older vintage than the project's 2016 county boundaries: Shannon County, SD (46113) became
# Oglala Lakota County (46102) in 2015; Chugach (02063) and Copper River (02066) were split from Valdez-Cordova (02261) in 2019.
RENAMED = {"46113": "46102", "02063": "02261", "02066": "02261"}


def points() -> pd.DataFrame:
    """A point per county of the project's county boundaries, by labor.py's rule."""
    import sys

    from cluster_opt import geodata

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from labor import area_points

    return area_points(geodata.counties()[["id", "geometry"]]).set_index("id")[["lat", "lon"]]


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("table", type=Path, help="a CSV with a 5-digit county id column (or, with --qoz, the tract list)")
    ap.add_argument("out", type=Path)
    ap.add_argument("--qoz", action="store_true", help="count Opportunity Zone tracts per county")
    a = ap.parse_args(argv)
    df = pd.read_csv(a.table, dtype={"id": str, "tract": str, "county": str})
    if a.qoz:
        from cluster_opt import geodata

        names = geodata.counties().set_index("id")["name"]
        df = (df.groupby(["county", "state"], as_index=False)
                .agg(qoz_tracts=("tract", "size"), year=("year", "first"), source=("source", "first"))
                .rename(columns={"county": "id"}))
        df["name"] = df["id"].replace(RENAMED).map(names)
        df["source"] = "count of designated tracts in the county: " + df["source"]
        df = df[["id", "name", "state", "qoz_tracts", "year", "source"]]
    renamed = df["id"].isin(list(RENAMED))
    df.loc[renamed, "source"] = df.loc[renamed, "source"] + " [county: " + df.loc[renamed, "id"] + " is " + df.loc[renamed, "id"].map(RENAMED) + " in the county boundaries]"
    df["id"] = df["id"].replace(RENAMED)
    if a.qoz:  # two renamed areas may now be one county
        df = df.groupby(["id", "name", "state", "year", "source"], as_index=False, dropna=False)["qoz_tracts"].sum()[
            ["id", "name", "state", "qoz_tracts", "year", "source"]]
    else:
        df = df.drop_duplicates("id")
    pts = points()
    missing = sorted(set(df["id"]) - set(pts.index))
    df.insert(3, "lat", df["id"].map(pts["lat"]))
    df.insert(4, "lon", df["id"].map(pts["lon"]))
    df = df[df["lat"].notna()]
    df.to_csv(a.out, index=False, lineterminator="\n")
    print(f"wrote {a.out}: {len(df)} counties" + (f"; {len(missing)} ids without a county point left out: {', '.join(missing[:10])}" if missing else ""))


if __name__ == "__main__":
    main()
