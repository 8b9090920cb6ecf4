"""cluster-opt data fetch against a local HTTP server that serves the reference files in their official layout."""

from __future__ import annotations

import functools
import http.server
import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import geopandas as gpd
import pytest

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
needs_shared = pytest.mark.skipif(not SHARED.is_dir(), reason="../shared/data (the reference files) is not beside the project")


@pytest.fixture
def serve():
    """serve(folder) -> the URL of a quiet HTTP server on 127.0.0.1 serving that folder (stopped after the test)."""
    servers = []

    def start(folder: Path) -> str:
        handler = functools.partial(type("Quiet", (http.server.SimpleHTTPRequestHandler,), {"log_message": lambda *a: None}),
                                    directory=str(folder))
        srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=srv.serve_forever, daemon=True).start()
        servers.append(srv)
        return f"http://127.0.0.1:{srv.server_address[1]}/"

    yield start
    for srv in servers:
        srv.shutdown()
        srv.server_close()


def _fetch(tmp_path: Path, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    e = {k: v for k, v in os.environ.items() if k != "CLUSTER_OPT_DATA_MIRROR"}
    e.update({"CLUSTER_OPT_CACHE": str(tmp_path / "cache"), **(env or {})})
    return subprocess.run([sys.executable, "-m", "cluster_opt", "data", "fetch", *args], capture_output=True, text=True, env=e, cwd=tmp_path)


@needs_shared
def test_fetch_downloads_checks_and_converts_each_kind(tmp_path, serve):
    url = serve(SHARED)
    for kind, year, least in (("labor", None, 3000), ("power_plants", "2023", 10000), ("ports", None, 140), ("minerals", "nickel", 100)):
        r = _fetch(tmp_path, kind, *(["--year", year] if year else []), "--mirror", url)
        assert r.returncode == 0, r.stderr
        assert "SHA-256 checked" in r.stdout
        layer = Path(r.stdout.split("use it as a layer with source: ")[1].strip())
        assert layer.is_file() and layer.parent == tmp_path / "cache" / "layers"
        assert len(gpd.read_parquet(layer)) >= least, kind
    # A checked copy in the cache is reused: no server needed the second time (the mirror now refuses connections).
    r = _fetch(tmp_path, "labor", "--mirror", "http://127.0.0.1:9/", env={})
    assert r.returncode == 0, r.stderr


@needs_shared
def test_a_changed_file_is_refused_and_not_kept(tmp_path, serve):
    bad = tmp_path / "mirror" / "labor"
    bad.mkdir(parents=True)
    data = bytearray((SHARED / "labor" / "census_co-est2019-alldata.csv").read_bytes())
    data[-2] ^= 1  # one bit changed
    (bad / "census_co-est2019-alldata.csv").write_bytes(bytes(data))
    r = _fetch(tmp_path, "labor", env={"CLUSTER_OPT_DATA_MIRROR": serve(tmp_path / "mirror")})
    assert r.returncode == 2 and "SHA-256" in r.stderr and "not the registered release" in r.stderr
    assert "Traceback" not in r.stderr and len(r.stderr.strip().splitlines()) == 1
    downloads = tmp_path / "cache" / "downloads"
    assert not downloads.exists() or not [p for p in downloads.rglob("*") if p.is_file()]
    shutil.rmtree(tmp_path / "mirror")


def test_fetch_says_what_it_cannot_do(tmp_path):
    r = _fetch(tmp_path, "plants")
    assert r.returncode == 2 and 'unknown kind "plants"' in r.stderr and "power_plants" in r.stderr
    r = _fetch(tmp_path, "power_plants")  # no stable address at the publisher, and no mirror given
    assert r.returncode == 2 and "cluster-opt data import power_plants" in r.stderr and "--mirror" in r.stderr
    r = _fetch(tmp_path, "labor", "--year", "1999")
    assert r.returncode == 2 and "no registered release" in r.stderr
    r = _fetch(tmp_path, "labor", "--mirror", "http://127.0.0.1:9/")
    assert r.returncode == 2 and "cannot download" in r.stderr
