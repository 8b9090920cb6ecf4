#!/usr/bin/env python3
"""Build geodata/minerals.csv (critical-mineral sites, US + Canada near the border).

Inputs are local git snapshots of public GitHub repositories that carry copies of
official USGS (and state geological survey) mineral-deposit datasets.  Nothing is
downloaded by this script; it only reads blobs with ``git --git-dir=... show``.

  --minmod GITDIR[@COMMIT]
        DARPA-CRITICALMAAS/ta2-minmod-data (MIT licence).  Its folder
        data/mineral-sites/umn/<dataset>/bNNN.json holds record-by-record
        conversions of USGS mrdata.usgs.gov databases (USMIN, REE, carbonatite,
        Ni-Co laterite, Ni-Cr-PGE, porphyry Cu, sediment-hosted Cu, major
        deposits, PP1802, Critical mineral deposits of the US / Earth MRI, ARDF,
        MRDS-California) and of state survey databases.  Record ids are the ids
        of the original databases.
  --usmin-li GITDIR@COMMIT:FOLDER
        raw USGS USMIN "Lithium deposits in the United States" CSV tables
        (Site.csv, History.csv, Dep_Model.csv, Resources.csv), e.g.
        junekim6/lithium-lifecycle @ f50af2a8 : data/USGS_Lithium_US_CSV
  --usmin-co GITDIR@COMMIT:FOLDER
        raw USGS USMIN "Cobalt deposits in the United States" CSV tables, e.g.
        Evan-Liberto11/CobaltProjectApp @ 333b64fb : USGS_Cobalt_US_CSV
  --out PATH   output CSV (default: minerals.csv next to this script)

Output columns:
  name,country,state,lat,lon,commodities,status,deposit_type,size_class,
  record_id,year,source

Rules (see card.md for the reasoning):
  * only sites carrying at least one target commodity (battery, magnet or
    semiconductor minerals, see TARGET) are kept; other commodities of the same
    site are kept in the list if they belong to VOCAB;
  * US sites anywhere; Canadian sites only if within ~500 km of the US border;
  * status comes from the source: USMIN History (latest status) for the raw
    USMIN tables, otherwise 'unknown' because the converted copies carry no
    development-status field;
  * size_class is derived from tonnage figures present in the source
    (ore tonnage or contained metal), or 'major_deposit' for records of
    "Major mineral deposits of the world"; blank otherwise;
  * duplicates (same rounded coordinates and overlapping commodities) are
    dropped, keeping the record from the highest-ranked source (SOURCE_RANK).

Usage:
  python geodata/build/minerals.py --minmod ta2-minmod-data.git@050de430cb38b9c8b43f4bb67387f561bc096ab0 \
      --usmin-li lithium-lifecycle.git@f50af2a88c6aa66e560f3dda152e12157498a745:data/USGS_Lithium_US_CSV \
      --usmin-co CobaltProjectApp.git@333b64fb779de9095c8e2b4aab493716236df616:USGS_Cobalt_US_CSV
  (GITDIR: a bare clone or git directory of each repository; the curated sites in
  minerals_curated.csv are kept first, see with_curated)
"""
from __future__ import annotations

import argparse
import io
import json
import math
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd

# ----------------------------------------------------------------------------
# vocabulary
# ----------------------------------------------------------------------------
BATTERY = ["lithium", "nickel", "cobalt", "manganese", "graphite", "copper", "vanadium"]
MAGNET = ["rare_earths", "samarium", "boron", "niobium"]
SEMI = ["gallium", "germanium", "indium", "tellurium", "antimony", "arsenic",
        "tungsten"]
# High-purity quartz / silicon is not carried as a commodity by any of the input
# databases (the only "silicon" tags are ochre/iron occurrences), so it is not
# a target here; see card.md.
TARGET = set(BATTERY + MAGNET + SEMI)
# companions kept in the commodity list when present (project vocabulary)
COMPANION = {"platinum_group", "molybdenum", "zinc", "lead", "silver", "gold", "tin",
             "tantalum", "beryllium", "chromium", "titanium", "zirconium", "scandium",
             "thorium", "uranium", "bismuth", "cadmium", "rhenium", "selenium",
             "fluorspar", "iron", "phosphate", "potash", "bromine"}
VOCAB = TARGET | COMPANION

REE_WORDS = {"rare earth", "rare earths", "ree", "rare-earth", "rare earth elements", "reo",
             "lanthanum", "cerium", "praseodymium", "neodymium", "promethium", "europium",
             "gadolinium", "terbium", "dysprosium", "holmium", "erbium", "thulium",
             "ytterbium", "lutetium", "yttrium", "la", "ce", "pr", "nd", "eu", "gd", "tb",
             "dy", "ho", "er", "tm", "yb", "lu", "y", "hree", "lree", "monazite",
             "bastnaesite", "xenotime"}
SYMBOL = {
    "li": "lithium", "ni": "nickel", "co": "cobalt", "mn": "manganese", "c": "graphite",
    "gr": "graphite", "cu": "copper", "v": "vanadium", "sm": "samarium", "b": "boron",
    "nb": "niobium", "ga": "gallium", "ge": "germanium", "in": "indium", "te": "tellurium",
    "sb": "antimony", "as": "arsenic", "w": "tungsten", "pge": "platinum_group",
    "pt": "platinum_group", "pd": "platinum_group", "mo": "molybdenum", "zn": "zinc",
    "pb": "lead", "ag": "silver", "au": "gold", "sn": "tin", "ta": "tantalum", "be": "beryllium",
    "cr": "chromium", "ti": "titanium", "zr": "zirconium", "sc": "scandium", "th": "thorium",
    "u": "uranium", "bi": "bismuth", "cd": "cadmium", "re": "rhenium", "se": "selenium",
    "f": "fluorspar", "fe": "iron", "p": "phosphate", "k": "potash", "br": "bromine",
}
WORD = {
    "lithium": "lithium", "nickel": "nickel", "cobalt": "cobalt", "manganese": "manganese",
    "graphite": "graphite", "flake graphite": "graphite", "copper": "copper",
    "vanadium": "vanadium", "samarium": "samarium", "boron": "boron", "borates": "boron",
    "borate": "boron", "niobium": "niobium", "columbium": "niobium", "gallium": "gallium",
    "germanium": "germanium", "indium": "indium", "tellurium": "tellurium",
    "antimony": "antimony", "arsenic": "arsenic", "tungsten": "tungsten",
    "platinum": "platinum_group", "palladium": "platinum_group", "pge": "platinum_group",
    "platinum group metals": "platinum_group", "platinum-group elements": "platinum_group",
    "platinum-group metals": "platinum_group", "rhodium": "platinum_group",
    "iridium": "platinum_group", "osmium": "platinum_group", "ruthenium": "platinum_group",
    "molybdenum": "molybdenum", "zinc": "zinc", "lead": "lead", "silver": "silver",
    "gold": "gold", "tin": "tin", "tantalum": "tantalum", "beryllium": "beryllium",
    "chromium": "chromium", "chromite": "chromium", "titanium": "titanium",
    "zirconium": "zirconium", "scandium": "scandium", "thorium": "thorium",
    "uranium": "uranium", "bismuth": "bismuth", "cadmium": "cadmium", "rhenium": "rhenium",
    "selenium": "selenium", "fluorine-fluorite": "fluorspar", "fluorite": "fluorspar",
    "fluorspar": "fluorspar", "iron": "iron", "phosphorus-phosphates": "phosphate",
    "phosphate": "phosphate", "potassium": "potash", "potash": "potash", "bromine": "bromine",
}


def norm_commodity(raw: str) -> str | None:
    s = (raw or "").strip().lower()
    if not s:
        return None
    s = re.sub(r"\s*\(.*?\)", "", s).strip()
    if s in REE_WORDS or s.startswith("rare earth") or s.startswith("ree"):
        return "samarium" if s in ("samarium", "sm") else "rare_earths"
    if s in ("samarium", "sm"):
        return "samarium"
    # MinMod hierarchical names like "Abrasive > Garnet", "Manganese > ..."
    if ">" in s:
        head = s.split(">")[0].strip()
        tail = s.split(">")[-1].strip()
        return norm_commodity(tail) or norm_commodity(head)
    if s in WORD:
        return WORD[s]
    if s in SYMBOL:
        return SYMBOL[s]
    for k, v in WORD.items():
        if s.startswith(k):
            return v
    return None


# ----------------------------------------------------------------------------
# git helpers
# ----------------------------------------------------------------------------
def git(gitdir: str, *args: str, binary: bool = False):
    out = subprocess.run(["git", f"--git-dir={gitdir}", *args], check=True,
                         capture_output=True)
    return out.stdout if binary else out.stdout.decode("utf-8", "replace")


def parse_spec(spec: str):
    """GITDIR@COMMIT[:FOLDER] -> (gitdir, commit, folder)."""
    folder = ""
    m = re.match(r"^(.*?)@([0-9a-fA-F]{7,40})(?::(.*))?$", spec)
    if m:
        gitdir, commit, folder = m.group(1), m.group(2), m.group(3) or ""
    else:
        gitdir, commit = spec, "HEAD"
    commit = git(gitdir, "rev-parse", commit).strip()
    return gitdir, commit, folder


def remote_name(gitdir: str, fallback: str) -> str:
    # .../owner+name/repo -> owner/name (the layout of a mirror folder)
    p = Path(gitdir).resolve()
    for part in [p.name, p.parent.name]:
        if "+" in part:
            return part.replace("+", "/", 1)
    return fallback


# ----------------------------------------------------------------------------
# geography
# ----------------------------------------------------------------------------
US_STATES = {
    "alabama": "AL", "alaska": "AK", "arizona": "AZ", "arkansas": "AR", "california": "CA",
    "colorado": "CO", "connecticut": "CT", "delaware": "DE", "florida": "FL", "georgia": "GA",
    "hawaii": "HI", "idaho": "ID", "illinois": "IL", "indiana": "IN", "iowa": "IA",
    "kansas": "KS", "kentucky": "KY", "louisiana": "LA", "maine": "ME", "maryland": "MD",
    "massachusetts": "MA", "michigan": "MI", "minnesota": "MN", "mississippi": "MS",
    "missouri": "MO", "montana": "MT", "nebraska": "NE", "nevada": "NV",
    "new hampshire": "NH", "new jersey": "NJ", "new mexico": "NM", "new york": "NY",
    "north carolina": "NC", "north dakota": "ND", "ohio": "OH", "oklahoma": "OK",
    "oregon": "OR", "pennsylvania": "PA", "rhode island": "RI", "south carolina": "SC",
    "south dakota": "SD", "tennessee": "TN", "texas": "TX", "utah": "UT", "vermont": "VT",
    "virginia": "VA", "washington": "WA", "west virginia": "WV", "wisconsin": "WI",
    "wyoming": "WY", "district of columbia": "DC", "puerto rico": "PR",
}
CA_PROV = {
    "ontario": "ON", "quebec": "QC", "québec": "QC", "manitoba": "MB",
    "british columbia": "BC", "new brunswick": "NB", "nova scotia": "NS",
    "saskatchewan": "SK", "alberta": "AB", "prince edward island": "PE",
    "newfoundland and labrador": "NL", "newfoundland": "NL", "labrador": "NL",
    "yukon": "YT", "yukon territory": "YT", "northwest territories": "NT", "nunavut": "NU",
}

# Approximate vertices of the US-Canada border (lon, lat), used only for the
# "within about 500 km of the border" screen of Canadian records.
BORDER = [
    (-123.3, 48.3), (-123.0, 49.0), (-110.0, 49.0), (-95.15, 49.0), (-95.15, 49.38),
    (-94.8, 49.3), (-93.0, 48.6), (-89.6, 48.0), (-88.4, 48.3), (-84.8, 46.9),
    (-84.1, 46.5), (-82.4, 45.3), (-82.5, 43.0), (-83.1, 42.0), (-81.0, 42.3),
    (-79.0, 42.8), (-79.0, 43.5), (-76.3, 44.2), (-75.0, 44.9), (-71.5, 45.0),
    (-70.7, 45.4), (-70.0, 46.7), (-69.2, 47.45), (-68.2, 47.35), (-67.8, 47.1),
    (-67.8, 45.7), (-67.0, 44.8),
    # Alaska - Yukon / British Columbia
    (-141.0, 69.6), (-141.0, 60.3), (-139.0, 60.0), (-137.5, 59.0), (-135.5, 59.8),
    (-133.4, 58.4), (-131.8, 56.6), (-130.0, 55.9), (-130.0, 54.7),
]


def _densify(pts, step=0.25):
    out = []
    for (x1, y1), (x2, y2) in zip(pts[:-1], pts[1:]):
        if abs(x1 - x2) > 10 and x1 < -135 < x2:
            continue  # gap between Maine and Alaska sections
        n = max(1, int(max(abs(x2 - x1), abs(y2 - y1)) / step))
        for i in range(n):
            out.append((x1 + (x2 - x1) * i / n, y1 + (y2 - y1) * i / n))
    out.append(pts[-1])
    return out


BORDER_PTS = _densify(BORDER[:27]) + _densify(BORDER[27:])


def km_to_border(lon: float, lat: float) -> float:
    best = 1e9
    for bx, by in BORDER_PTS:
        p1, p2 = math.radians(lat), math.radians(by)
        dp, dl = p2 - p1, math.radians(bx - lon)
        a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
        d = 2 * 6371.0 * math.asin(min(1.0, math.sqrt(a)))
        best = min(best, d)
    return best


# ----------------------------------------------------------------------------
# size classes
# ----------------------------------------------------------------------------
def size_from_ore_mt(mt: float | None) -> str:
    if mt is None or not (mt > 0):
        return ""
    if mt >= 1000:
        return "giant_ore_ge_1000Mt"
    if mt >= 100:
        return "large_ore_100_1000Mt"
    if mt >= 10:
        return "medium_ore_10_100Mt"
    if mt >= 1:
        return "small_ore_1_10Mt"
    return "very_small_ore_lt_1Mt"


def to_mt(value, unit: str) -> float | None:
    try:
        v = float(str(value).replace(",", ""))
    except (TypeError, ValueError):
        return None
    u = (unit or "").lower()
    if "million" in u and "tonne" in u or u in ("mt", "million tonnes", "million metric tons"):
        return v
    if u in ("tonnes", "tonne", "metric tons", "metric ton", "t"):
        return v / 1e6
    if "thousand" in u:
        return v / 1e3
    return None


# ----------------------------------------------------------------------------
# MinMod-converted USGS / state datasets
# ----------------------------------------------------------------------------
DATASETS = {
    # folder in data/mineral-sites/umn/ : precedence rank when records overlap
    "mrdata_deposit": 1,            # USGS USMIN Mineral Deposit Database
    "earth_mri_usa": 2,             # USGS Critical mineral deposits of the United States
    "mrdata_pp1802": 3,             # USGS PP1802 critical-mineral mines, deposits, districts
    "mrdata_major_deposits": 4,     # USGS Major mineral deposits of the world
    "mrdata_ree": 5,                # USGS REE mines, deposits and occurrences
    "mrdata_carbonatite": 6,        # USGS Carbonatites of the world (Nb, REE)
    "mrdata_laterite": 7,           # USGS Ni-Co laterite deposits of the world
    "mrdata_porcu": 8,              # USGS Porphyry copper deposits of the world
    "mrdata_sedcu": 9,              # USGS Sediment-hosted copper deposits of the world
    "mrdata_nicrpge": 10,           # USGS PGE-Ni-Cr deposit and occurrence database
    "mrdata_vms": 11,               # USGS Volcanogenic massive sulfide deposits
    "ardf": 12,                     # USGS Alaska Resource Data File
    "usgs_mrds_california": 13,     # USGS MRDS, California
    "idaho_geology_survey": 14,
    "utah_mineral_occurrence_system": 15,
    "geological_survey_of_alabama": 16,
    "nc_geological_survey": 17,
    "oregon_department_geology_mineral_industries": 18,
    "geology_and_mineral_resources": 19,  # Virginia Energy
}
# occurrence-level databases: kept only when a target commodity is present and
# the record is not a plain occurrence of a single companion metal
OCCURRENCE_DBS = {"ardf", "usgs_mrds_california", "idaho_geology_survey",
                  "utah_mineral_occurrence_system", "geological_survey_of_alabama",
                  "nc_geological_survey", "oregon_department_geology_mineral_industries",
                  "geology_and_mineral_resources", "mrdata_nicrpge", "mrdata_vms"}


def load_entities(gitdir, commit):
    com = pd.read_csv(io.StringIO(git(gitdir, "show", f"{commit}:data/entities/commodity.csv")))
    com_by_uri = {f"https://minmod.isi.edu/resource/{r.minmod_id}": r.name for r in com.itertuples()}
    sp = pd.read_csv(io.StringIO(git(gitdir, "show", f"{commit}:data/entities/state_or_province.csv")),
                     keep_default_na=False)
    sp_by_uri = {f"https://minmod.isi.edu/resource/{r.minmod_id}": (r.country_code, r.state_code, r.name)
                 for r in sp.itertuples()}
    ct = pd.read_csv(io.StringIO(git(gitdir, "show", f"{commit}:data/entities/country.csv")),
                     keep_default_na=False)
    ct_by_uri = {f"https://minmod.isi.edu/resource/{r.minmod_id}": r.iso2 for r in ct.itertuples()}
    ds = pd.read_csv(io.StringIO(git(gitdir, "show", f"{commit}:data/entities/data_source.csv")),
                     keep_default_na=False)
    ds_label = {r.uri: f"{r.description} ({r.uri})" for r in ds.itertuples()}
    return com_by_uri, sp_by_uri, ct_by_uri, ds_label


def first(lst, key="observed_name"):
    for x in lst or []:
        if isinstance(x, dict) and x.get(key):
            return x[key]
    return None


def iter_minmod(gitdir, commit, repo_name):
    com_by_uri, sp_by_uri, ct_by_uri, ds_label = load_entities(gitdir, commit)
    for folder, rank in DATASETS.items():
        base = f"data/mineral-sites/umn/{folder}"
        listing = git(gitdir, "ls-tree", "-r", commit, base)
        for line in listing.splitlines():
            meta, path = line.split("\t", 1)
            if not path.endswith(".json"):
                continue
            blob = meta.split()[2]
            try:
                txt = git(gitdir, "cat-file", "-p", blob)
            except subprocess.CalledProcessError:
                print(f"warning: blob missing for {path}", file=sys.stderr)
                continue
            for rec in json.loads(txt):
                label = ds_label.get(rec.get("source_id"), rec.get("source_id"))
                year = str(rec.get("modified_at") or "")[:4]
                yield folder, label, year, rank, path, rec, com_by_uri, sp_by_uri, ct_by_uri, repo_name, commit


def parse_point(wkt):
    m = re.match(r"\s*POINT\s*\(\s*([-\d.eE]+)\s+([-\d.eE]+)\s*\)", wkt or "")
    if not m:
        return None
    return float(m.group(1)), float(m.group(2))


def minmod_rows(spec):
    gitdir, commit, _ = parse_spec(spec)
    repo_name = remote_name(gitdir, "DARPA-CRITICALMAAS/ta2-minmod-data")
    rows = []
    for (folder, label, year, rank, path, rec, com_by_uri, sp_by_uri, ct_by_uri,
         repo_name, commit) in iter_minmod(gitdir, commit, repo_name):
        li = rec.get("location_info") or {}
        pt = parse_point(li.get("location"))
        if pt is None:
            continue
        lon, lat = pt
        if not (-180 <= lon <= 180 and -90 <= lat <= 90):
            continue
        # country
        iso2 = None
        for c in li.get("country") or []:
            iso2 = ct_by_uri.get(c.get("normalized_uri")) or iso2
            on = (c.get("observed_name") or "").lower()
            if not iso2 and on in ("united states", "usa", "us", "united states of america"):
                iso2 = "US"
            if not iso2 and on == "canada":
                iso2 = "CA"
        state = ""
        for s in li.get("state_or_province") or []:
            hit = sp_by_uri.get(s.get("normalized_uri"))
            if hit:
                iso2 = iso2 or hit[0]
                state = hit[1]
                break
            on = (s.get("observed_name") or "").strip()
            if on.lower() in US_STATES:
                state, iso2 = US_STATES[on.lower()], iso2 or "US"
            elif on.lower() in CA_PROV:
                state, iso2 = CA_PROV[on.lower()], iso2 or "CA"
            elif len(on) == 2 and on.upper() in US_STATES.values():
                state, iso2 = on.upper(), iso2 or "US"
        if folder in ("mrdata_deposit", "earth_mri_usa", "usgs_mrds_california",
                      "idaho_geology_survey", "utah_mineral_occurrence_system",
                      "geological_survey_of_alabama", "nc_geological_survey",
                      "oregon_department_geology_mineral_industries",
                      "geology_and_mineral_resources", "ardf"):
            iso2 = iso2 or "US"
        if iso2 not in ("US", "CA"):
            continue
        if folder == "mrdata_deposit" and not state:
            m = re.match(r"^([A-Z]{2})\d", rec.get("record_id", ""))
            if m:
                state = m.group(1)
        if folder == "ardf":
            state = state or "AK"
        if iso2 == "CA" and km_to_border(lon, lat) > 500:
            continue
        # commodities and tonnage
        coms, ore_mt = [], None
        for mi in rec.get("mineral_inventory") or []:
            c = mi.get("commodity") or {}
            name = com_by_uri.get(c.get("normalized_uri")) or c.get("observed_name")
            n = norm_commodity(name)
            if n is None and c.get("observed_name"):
                n = norm_commodity(c["observed_name"])
            if n and n in VOCAB and n not in coms:
                coms.append(n)
            ore = mi.get("ore") or {}
            if ore.get("value") is not None:
                unit = (ore.get("unit") or {}).get("observed_name") or ""
                mt = to_mt(ore.get("value"), unit)
                if mt is not None:
                    ore_mt = max(ore_mt or 0, mt)
        if not (set(coms) & TARGET):
            continue
        dtypes = []
        for d in rec.get("deposit_type_candidate") or []:
            src = (d.get("source") or "").lower()
            if "algorithm" in src or "prediction" in src:
                continue
            on = (d.get("observed_name") or "").strip()
            if on and not on.isdigit() and on not in dtypes:
                dtypes.append(on)
        size = "major_deposit" if folder == "mrdata_major_deposits" else size_from_ore_mt(ore_mt)
        name = (rec.get("name") or "").strip() or f"Unnamed ({folder} {rec.get('record_id')})"
        rows.append(dict(
            name=name, country=iso2, state=state, lat=round(lat, 5), lon=round(lon, 5),
            commodities=";".join(sort_coms(coms)), status="unknown",
            deposit_type="; ".join(dtypes)[:120], size_class=size,
            record_id=f"{folder.replace('mrdata_', '')}:{rec.get('record_id')}", year=year,
            source=f"{label}, record {rec.get('record_id')}; public copy {repo_name}/{path}@{commit[:12]}",
            _rank=rank, _folder=folder,
        ))
    return rows


def sort_coms(coms):
    order = BATTERY + MAGNET + SEMI
    t = [c for c in order if c in coms]
    return t + sorted(c for c in coms if c not in order)


# ----------------------------------------------------------------------------
# raw USMIN CSV tables (lithium, cobalt)
# ----------------------------------------------------------------------------
STATUS_MAP = {
    "production": "producer", "producing": "producer", "active": "producer",
    "past production": "past_producer", "past producer": "past_producer", "closed": "past_producer",
    "inactive": "past_producer", "abandoned": "past_producer", "reclamation": "past_producer",
    "development": "developing", "permitting": "developing", "feasibility": "developing",
    "construction": "developing", "evaluation": "prospect", "exploration": "prospect",
    "discovery": "occurrence", "prospect": "prospect", "occurrence": "occurrence",
}


def usmin_rows(spec, dataset_label, year, focus):
    gitdir, commit, folder = parse_spec(spec)
    repo_name = remote_name(gitdir, "unknown")

    def table(name):
        raw = git(gitdir, "show", f"{commit}:{folder}/{name}.csv", binary=True)
        df = pd.read_csv(io.BytesIO(raw), encoding="utf-8-sig", dtype=str, keep_default_na=False)
        df.columns = [c.replace("*", "").strip() for c in df.columns]
        return df.replace("<Null>", "")

    site, hist, dep, res = table("Site"), table("History"), table("Dep_Model"), table("Resources")
    locpt = table("Loc_Pt")
    if year is None:  # vintage = latest Last_Updt of the Site table
        year = str(pd.to_datetime(site.Last_Updt, errors="coerce").max().year)
    rows = []
    for s in site.itertuples(index=False):
        sid = s.Site_ID
        coms = []
        for c in re.split(r"[;,]", s.Commodity):
            n = norm_commodity(c)
            if n and n in VOCAB and n not in coms:
                coms.append(n)
        if focus not in coms:
            coms.insert(0, focus)
        try:
            lon, lat = float(s.Approx_Lon), float(s.Approx_Lat)
        except ValueError:
            continue
        state = sid[:2]
        lp = locpt[locpt.Site_ID == sid]
        if len(lp) and lp.State.iloc[0]:
            state = lp.State.iloc[0]
        # status: latest dated history entry
        h = hist[hist.Site_ID == sid].copy()
        status, stat_year = "unknown", ""
        if len(h):
            h["_y"] = pd.to_numeric(h.Year_To.where(h.Year_To != "", h.Year_From), errors="coerce")
            h = h.sort_values("_y", na_position="first")
            last = h.iloc[-1]
            st = last.Status.strip().lower()
            status = STATUS_MAP.get(st, "unknown")
            if status == "producer" and pd.notna(last._y) and last._y < 2015:
                status = "past_producer"
            if any(h.Status.str.lower().str.contains("production")) and status in ("prospect", "occurrence", "unknown"):
                status = "past_producer"
            stat_year = "" if pd.isna(last._y) else str(int(last._y))
        if status == "unknown":
            ft = " ".join(lp.Ftr_Type.str.lower()) if len(lp) else ""
            if "mine" in ft:
                status = "past_producer"
            elif "prospect" in ft:
                status = "prospect"
            elif "deposit" in ft:
                status = "prospect"
            elif ft:
                status = "occurrence"
        d = dep[dep.Site_ID == sid].DpMd_NoNm.replace("", pd.NA).dropna().unique().tolist()
        r = res[res.Site_ID == sid]
        contained_t = pd.to_numeric(r.CntSIComAm.str.replace(",", ""), errors="coerce")
        ore_mt = None
        if "MatAmntSI" in r:
            amt = pd.to_numeric(r.MatAmntSI.str.replace(",", ""), errors="coerce")
            unit = r.MatUnitsSI.str.lower()
            ore = amt[(r.Mat_Type.str.lower() == "ore") & unit.str.contains("metric ton")]
            if ore.notna().any():
                ore_mt = float(ore.max()) / 1e6
        size = size_from_ore_mt(ore_mt)
        if not size and contained_t.notna().any():
            ct = float(contained_t.max())
            unit = r.CntSIComUt.str.lower()
            if unit.str.contains("metric ton").any():
                size = ("contained_ge_1Mt" if ct >= 1e6 else "contained_100kt_1Mt" if ct >= 1e5
                        else "contained_10_100kt" if ct >= 1e4 else "contained_lt_10kt")
        rows.append(dict(
            name=s.Site_Name, country="US", state=state, lat=round(lat, 5), lon=round(lon, 5),
            commodities=";".join(sort_coms(coms)), status=status,
            deposit_type="; ".join(d)[:120], size_class=size,
            record_id=f"deposit:{sid}", year=year,
            source=(f"{dataset_label}, Site_ID {sid}"
                    + (f" (status per History table, {stat_year})" if stat_year else "")
                    + f"; public copy {repo_name}/{folder}@{commit[:12]}"),
            _rank=0, _folder="usmin_raw",
        ))
    return rows


# ----------------------------------------------------------------------------
def dedupe(df: pd.DataFrame) -> pd.DataFrame:
    df = df.sort_values(["_rank", "record_id"]).reset_index(drop=True)
    keep, seen_ids, seen_pts = [], set(), {}
    for i, r in df.iterrows():
        rid = r.record_id.split(":", 1)[-1]
        key_id = (r._folder in ("usmin_raw", "mrdata_deposit"), rid) if r._folder in ("usmin_raw", "mrdata_deposit") else None
        if key_id and key_id in seen_ids:
            continue
        cell = (round(r.lat, 2), round(r.lon, 2))
        coms = set(r.commodities.split(";"))
        prev = seen_pts.get(cell)
        if prev is not None and (prev & coms):
            continue
        keep.append(i)
        if key_id:
            seen_ids.add(key_id)
        seen_pts[cell] = (prev or set()) | coms
    return df.loc[keep]


def select(df: pd.DataFrame, occ_cap: int) -> pd.DataFrame:
    """Keep curated deposit compilations whole; thin occurrence-level databases."""
    curated = df[~df._folder.isin(OCCURRENCE_DBS)]
    occ = df[df._folder.isin(OCCURRENCE_DBS)].copy()
    # in occurrence databases keep records with tonnage first, then records whose
    # target commodities are scarce in the curated part, up to occ_cap per commodity
    counts = {c: curated.commodities.str.split(";").apply(lambda l: c in l).sum() for c in TARGET}
    occ["_has_size"] = occ.size_class != ""
    occ = occ.sort_values(["_has_size", "_rank"], ascending=[False, True])
    taken, per = [], {c: 0 for c in TARGET}
    for i, r in occ.iterrows():
        tc = [c for c in r.commodities.split(";") if c in TARGET]
        need = [c for c in tc if counts[c] + per[c] < occ_cap]
        if r._has_size or need:
            taken.append(i)
            for c in tc:
                per[c] += 1
    return pd.concat([curated, occ.loc[taken]])


CURATED_KM = 2.0  # a compiled site this close to a curated one with a commodity in common is the same site


def with_curated(df: pd.DataFrame, curated_path: str) -> pd.DataFrame:
    """The curated sites first (their status is researched), then every compiled site that is not one of them; US rows
    without a state get the state whose outline holds them (the project's state outlines)."""
    import numpy as np
    from scipy.spatial import cKDTree

    from cluster_opt import geodata
    from cluster_opt.geo import to_xyz

    cur = pd.read_csv(curated_path, dtype=str)
    cur["country"] = "US"
    for c in ("deposit_type", "size_class", "record_id", "year"):
        cur[c] = ""
    cur["lat"], cur["lon"] = cur["lat"].astype(float), cur["lon"].astype(float)
    tree = cKDTree(to_xyz(cur["lat"].to_numpy(), cur["lon"].to_numpy()))
    near = tree.query_ball_point(to_xyz(df["lat"].astype(float).to_numpy(), df["lon"].astype(float).to_numpy()), CURATED_KM / 6371.0088)
    items = [set(str(c).split(";")) for c in cur["commodities"]]
    same = [any(items[j] & set(str(row).split(";")) for j in js) for js, row in zip(near, df["commodities"])]
    out = pd.concat([cur, df[~np.asarray(same, dtype=bool)]], ignore_index=True)
    out["state"] = out["state"].replace("", np.nan)
    fd = out["state"] == "FD"  # a misspelt Florida in the USGS REE compilation
    out.loc[fd, "state"] = "FL"
    out.loc[fd, "source"] = out.loc[fd, "source"] + " [state: FD in the source, Florida]"
    lost = out["state"].isna() & (out["country"] == "US")
    if lost.any():
        import geopandas as gpd

        pts = gpd.GeoDataFrame(geometry=gpd.points_from_xy(out.loc[lost, "lon"], out.loc[lost, "lat"]), index=out.index[lost], crs="EPSG:4326")
        hit = gpd.sjoin(pts, geodata.states().to_crs("EPSG:4326")[["state", "geometry"]], predicate="within", how="left")
        out.loc[lost, "state"] = hit["state_right"] if "state_right" in hit else hit["state"]
        out.loc[lost, "source"] = out.loc[lost, "source"] + " [state: from the point's location]"
    out = out[out["state"].notna() | (out["country"] != "US")].reset_index(drop=True)
    out = out[~misplaced(out)].copy()
    out["significant"] = np.where(significant(out), "yes", "no")
    return out


SIGNIFICANT_STATUS = {"producer", "development", "past_producer"}
SIGNIFICANT_SIZE = {"major_deposit", "medium_ore_10_100Mt", "large_ore_100_1000Mt", "giant_ore_ge_1000Mt", "contained_ge_1Mt",
                    "contained_100kt_1Mt"}


def significant(df: pd.DataFrame) -> np.ndarray:
    """A site that has been (or is being) mined, or whose source gives a deposit of 10 Mt of ore or 100 kt of metal and
    more, or one of the major deposits of the world: what a planner counts as supply rather than an occurrence."""
    return (df["status"].isin(SIGNIFICANT_STATUS) | df["size_class"].isin(SIGNIFICANT_SIZE)).to_numpy()


OUTSIDE_KM = 1.0  # a US site farther than this outside its stated state has coordinates that cannot be trusted


def misplaced(df: pd.DataFrame) -> pd.Series:
    """US rows whose point lies more than OUTSIDE_KM outside the state the source gives (dropped, and counted)."""
    import geopandas as gpd

    from cluster_opt import geodata

    us = df["country"] == "US"
    states = geodata.states().to_crs("EPSG:6933").set_index("state").geometry
    pts = gpd.GeoSeries(gpd.points_from_xy(df.loc[us, "lon"].astype(float), df.loc[us, "lat"].astype(float)), crs="EPSG:4326").to_crs("EPSG:6933")
    own = gpd.GeoSeries(states.reindex(df.loc[us, "state"]).to_numpy(), crs="EPSG:6933")
    km = own.distance(pts.reset_index(drop=True)).to_numpy() / 1000
    bad = pd.Series(False, index=df.index)
    bad[df.index[us]] = ~(km <= OUTSIDE_KM)
    if bad.any():
        print(f"left out {int(bad.sum())} US sites lying more than {OUTSIDE_KM:g} km outside their stated state: "
              + "; ".join(f"{n} ({s})" for n, s in zip(df.loc[bad, "name"], df.loc[bad, "state"])))
    return bad


def main(argv=None):
    here = Path(__file__).resolve().parent
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--minmod", required=True)
    ap.add_argument("--usmin-li")
    ap.add_argument("--usmin-co")
    ap.add_argument("--occ-cap", type=int, default=60,
                    help="per-commodity target when topping up from occurrence databases")
    ap.add_argument("--curated", default=str(here / "minerals_curated.csv"),
                    help="the project's curated sites (name,state,lat,lon,commodities,status,source), kept first")
    ap.add_argument("--out", default=str(here.parent / "minerals.csv"))
    a = ap.parse_args(argv)

    rows = []
    if a.usmin_li:
        rows += usmin_rows(a.usmin_li, "USGS USMIN Lithium deposits in the United States (doi:10.5066/P9ZKRWQF)", None, "lithium")
    if a.usmin_co:
        rows += usmin_rows(a.usmin_co, "USGS USMIN Cobalt deposits in the United States", None, "cobalt")
    rows += minmod_rows(a.minmod)
    df = pd.DataFrame(rows)
    df = dedupe(df)
    df = select(df, a.occ_cap)
    df = with_curated(df, a.curated)
    df = df.sort_values(["country", "state", "name", "record_id"], key=lambda s: s.astype(str).str.lower())
    cols = ["name", "country", "state", "lat", "lon", "commodities", "status", "deposit_type",
            "size_class", "significant", "record_id", "year", "source"]
    out = df[cols].copy()
    out["lat"] = out.lat.map(lambda v: f"{v:.5f}")
    out["lon"] = out.lon.map(lambda v: f"{v:.5f}")
    out.to_csv(a.out, index=False)
    print(f"wrote {len(out)} rows to {a.out}")


if __name__ == "__main__":
    main()
