"""``cluster-opt data fetch``: download an official release into the cache, check it against a pinned SHA-256, and convert
it with the importers into a layer file.

Never needed by the default run or the tests: the embedded tables in ``geodata/`` are the defaults. A registry entry
pins one release of one official file: where the publisher serves it (``url``, where it has a stable address), its
name in the layout mirrors keep (``path``), and its SHA-256. ``CLUSTER_OPT_DATA_MIRROR`` (or ``--mirror``) points at a
mirror that keeps that layout, for machines without the publisher's site or for a local copy.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from .errors import DataError, InputError, did_you_mean

CHUNK = 1 << 16
MAX_DOWNLOAD_BYTES = 2 << 30  # 2 GiB: no registered file comes near it
MIRROR_ENV = "CLUSTER_OPT_DATA_MIRROR"


@dataclass(frozen=True)
class Release:
    kind: str  # the importer that converts it (power_plants, ports, labor, minerals)
    release: str  # the publisher's vintage, e.g. "2019" or "2023-05"
    path: str  # its path in a mirror's layout
    sha256: str
    url: str | None  # the publisher's stable address (None: the publisher serves it from a query page only)
    about: str  # where the publisher describes it


REGISTRY: dict[str, list[Release]] = {
    "labor": [Release("labor", "2019", "labor/census_co-est2019-alldata.csv",
                      "eb47ea7cd0195f5c5f68adc73ec8d2d20431cf3128acdd68a28353970296a2a9",
                      "https://www2.census.gov/programs-surveys/popest/datasets/2010-2019/counties/totals/co-est2019-alldata.csv",
                      "https://www.census.gov/data/datasets/time-series/demo/popest/2010s-counties-total.html")],
    "power_plants": [Release("power_plants", "2023-05", "grid/eia_power_plants_2023-05.csv",
                             "8785754499aba8917d4201c0b08fc7a8eecba8e0f9b869bbfa33b534bd6d3471", None,
                             "https://atlas.eia.gov/datasets/eia::power-plants (U.S. Energy Atlas, Power Plants layer, period 202305)")],
    "ports": [Release("ports", "2022", "ports/usace_principal_ports.csv",
                      "fa16e0de61beb2fd93d596d76b8cd509f5a60f924b7e976e2ff6d0fafafcb09c", None,
                      "https://geodata.bts.gov (USACE Principal Ports, National Transportation Atlas Database)")],
    "minerals": [Release("minerals", f"minmod-{c}", f"minerals/minmod_{c}.csv", h, None,
                         "https://minmod.isi.edu (DARPA CriticalMAAS MinMod mineral-site extracts)")
                 for c, h in (("lithium", "7f49bf155268b7fa29f4df6ccbed801c84c76256908e4bebfcc062dd2073728f"),
                              ("nickel", "15228873a0b033d2f296aa9c422da79358dd8e48afd4145125e2099ddad3aad0"),
                              ("cobalt", "968a34f0f4c3f6d8e4e9547cfe5cd676069fa76e64ddc58b09d70876364cc69c"),
                              ("cerium", "d1294b5bf4f9b43d41bda56255ba538ec3351f81163ef876ae50fcd46c93f96a"))],
}


def release_of(kind: str, year: str | None = None) -> Release:
    """The registered release of a kind: the first listed, or the one ``year`` names (a vintage such as 2023, or a
    release name such as minmod-nickel)."""
    if kind not in REGISTRY:
        raise InputError(f'data fetch: unknown kind "{kind}"{did_you_mean(kind, REGISTRY)}; expected one of: {", ".join(REGISTRY)}')
    releases = REGISTRY[kind]
    if year is None:
        return releases[0]
    y = str(year)
    match = [r for r in releases if r.release == y or r.release.startswith(f"{y}-") or r.release.endswith(f"-{y}")]
    if not match:
        raise InputError(f'data fetch {kind} --year {y}: no registered release; registered: {", ".join(r.release for r in releases)}')
    return match[0]


def source_url(rel: Release, mirror: str | None) -> str:
    """Where to download a release: the mirror (``--mirror`` or CLUSTER_OPT_DATA_MIRROR) when given, else the publisher."""
    mirror = mirror or os.environ.get(MIRROR_ENV)
    if mirror:
        return mirror.rstrip("/") + "/" + rel.path
    if rel.url is None:
        raise InputError(f"data fetch {rel.kind}: the publisher serves this file from a query page only ({rel.about}); download it there "
                         f"and convert it with cluster-opt data import {rel.kind} FILE, or give --mirror URL (or {MIRROR_ENV}) of a mirror "
                         f"holding {rel.path}")
    return rel.url


def download(url: str, dest: Path, sha256: str, progress: Callable[[int, int | None], None] | None = None) -> Path:
    """Download url to dest (atomically), refusing it unless its SHA-256 is the pinned one."""
    if not url.startswith(("https://", "http://")):
        raise InputError(f"data fetch: {url}: expected an http(s) address")
    dest.parent.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as out:
            try:
                with urllib.request.urlopen(url, timeout=60) as r:
                    total = int(r.headers.get("Content-Length") or 0) or None
                    done = 0
                    while chunk := r.read(CHUNK):
                        done += len(chunk)
                        if done > MAX_DOWNLOAD_BYTES:
                            raise DataError(f"{url}: larger than {MAX_DOWNLOAD_BYTES >> 20:,} MB; not the registered file")
                        digest.update(chunk)
                        out.write(chunk)
                        if progress:
                            progress(done, total)
            except (urllib.error.URLError, OSError, ValueError) as e:
                reason = getattr(e, "reason", None) or e
                raise InputError(f"data fetch: cannot download {url} ({reason})") from None
        if digest.hexdigest() != sha256:
            raise DataError(f"{url}: SHA-256 {digest.hexdigest()[:16]}… is not the registered {sha256[:16]}…; the file is not the "
                            "registered release (changed or damaged), so it was not kept")
        os.replace(tmp, dest)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return dest


def fetch(kind: str, year: str | None = None, mirror: str | None = None, out: Path | None = None,
          progress: Callable[[int, int | None], None] | None = None, overwrite: bool = False) -> tuple[Path, int, Release]:
    """Download (or reuse a checked cached copy of) a kind's release and convert it: (layer file, features, release)."""
    from .geodata import cache_dir, file_digest
    from .importers import import_file

    rel = release_of(kind, year)
    raw = cache_dir() / "downloads" / rel.path
    if not (raw.exists() and file_digest(raw) == rel.sha256):
        download(source_url(rel, mirror), raw, rel.sha256, progress)
    own = out is None  # the cache's own layer file is replaced freely; a file the planner names, only with overwrite
    out = out or cache_dir() / "layers" / f"{kind}-{rel.release}.parquet"
    g = import_file(kind, raw, out, overwrite=own or overwrite)
    return out, len(g), rel
