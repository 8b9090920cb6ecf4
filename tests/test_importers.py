"""Importers on the official files in ../shared/data: counts, ranges, CRS, and a run on the result."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import geopandas as gpd
import pytest
import yaml

from cluster_opt.errors import DataError
from cluster_opt.importers import import_file

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
needs_shared = pytest.mark.skipif(not SHARED.is_dir(), reason="../shared/data (the official reference files) is not beside this checkout")

CASES = [
    # kind, file, rows written, value column, (min, max) of the value
    ("power_plants", "grid/eia_power_plants_2023-05.csv", 12008, "capacity_mw", (0, 8000)),
    ("ports", "ports/usace_principal_ports.csv", 150, "total_tons", (1e5, 4e8)),
    ("labor", "labor/census_co-est2019-alldata.csv", 3142, "population", (50, 1.1e7)),
    ("minerals", "minerals/minmod_lithium.csv", 771, None, None),
    ("minerals", "minerals/minmod_nickel.csv", 3462, None, None),
    ("minerals", "minerals/minmod_cobalt.csv", 2948, None, None),
    ("minerals", "minerals/minmod_cerium.csv", 2032, None, None),
]


@needs_shared
@pytest.mark.parametrize("kind, name, rows, value, bounds", CASES, ids=[c[1] for c in CASES])
def test_import_official_files(tmp_path, kind, name, rows, value, bounds):
    out = tmp_path / f"{kind}.parquet"
    g = import_file(kind, SHARED / name, out)
    back = gpd.read_parquet(out)
    assert len(g) == len(back) == rows
    assert back.crs.to_epsg() == 4326
    assert back.geometry.x.between(-180, 180).all() and back.geometry.y.between(-90, 90).all()
    assert back["name"].notna().all()
    if value:
        lo, hi = bounds
        assert back[value].between(lo, hi).all(), back[value].describe()
    if kind == "minerals":
        assert back["commodities"].str.fullmatch(r"[a-z_]+(;[a-z_]+)*").all()
        us = back[back["country"] == "United States"]
        assert us["state"].notna().mean() > 0.95
    if kind == "ports":
        assert set(back["kind"]) == {"coastal", "great_lakes", "inland"}
        assert back["state"].notna().all()
        duluth = back[back["name"].str.contains("Duluth")]
        assert len(duluth) == 1 and duluth["kind"].iloc[0] == "great_lakes"
    if kind == "power_plants":
        assert back["state"].notna().all() and back["primary_fuel"].notna().all()
        assert 1.0e6 < back["capacity_mw"].sum() < 1.4e6  # US utility-scale capacity, MW
    if kind == "labor":
        assert back["id"].str.fullmatch(r"\d{5}").all() and back["year"].eq(2019).all()
        assert 3.2e8 < back["population"].sum() < 3.3e8


@needs_shared
def test_a_config_can_use_imported_layers(tmp_path):
    layers = {}
    for kind, name, *_ in CASES[:4]:
        out = tmp_path / f"{kind}.gpkg"
        import_file(kind, SHARED / name, out)
        layers[kind] = out.name
    cfg = {
        "name": "imported",
        "study_area": {"states": ["MN", "WI", "MI"]},
        "layers": {
            "minerals": {"source": layers["minerals"]},
            "grid": {"source": layers["power_plants"], "value": "capacity_mw"},
            "ports": {"source": layers["ports"], "value": "total_tons", "where": {"kind": "great_lakes"}},
            "labor": {"source": layers["labor"], "value": "population"},
        },
        "criteria": {
            "minerals": {"layer": "minerals", "measure": "decay_sum", "half_distance_km": 100, "weight": 1},
            "grid": {"layer": "grid", "measure": "sum_within", "radius_km": 100, "weight": 1},
            "ports": {"layer": "ports", "measure": "nearest_km", "weight": 1},
            "labor": {"layer": "labor", "measure": "sum_within", "radius_km": 80, "weight": 1},
        },
        "selection": {"clusters": 2, "cluster_radius_km": 100, "min_spacing_km": 250, "requirements": {"labor": 500000, "grid": 2000}},
    }
    (tmp_path / "imported.yaml").write_text(yaml.safe_dump(cfg))
    r = subprocess.run([sys.executable, "-m", "cluster_opt", "run", "imported.yaml", "--out", "run", "-q"], cwd=tmp_path, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "run" / "clusters.csv").exists()


def test_wrong_file_for_the_kind(tmp_path):
    p = tmp_path / "plants.csv"
    p.write_text("Plant,MW,Lat,Lon\nA,5,45,-93\n")
    with pytest.raises(DataError, match='not a EIA power plants file: no column "Plant_Name"'):
        import_file("power_plants", p, tmp_path / "x.parquet")
    with pytest.raises(DataError, match="--out must end in .parquet"):
        import_file("ports", p, tmp_path / "x.csv")
    with pytest.raises(DataError, match='unknown kind "port" \\(did you mean "ports"\\?\\)'):
        import_file("port", p, tmp_path / "x.parquet")
    with pytest.raises(DataError, match="not a mineral-site table"):
        import_file("minerals", p, tmp_path / "x.parquet")
    assert not list(tmp_path.glob("*.parquet"))


def test_an_existing_file_is_not_replaced_without_overwrite(tmp_path):
    from cluster_opt.errors import OutputError

    src = tmp_path / "ports.csv"
    src.write_text("x\n1\n")
    mine = tmp_path / "mine.parquet"
    mine.write_text("the planner's own file")
    with pytest.raises(OutputError, match=r"mine.parquet: --out already exists; choose a new file name, or give --overwrite"):
        import_file("ports", src, mine)
    assert mine.read_text() == "the planner's own file"
    (tmp_path / "folder.gpkg").mkdir()
    with pytest.raises(OutputError, match="is not a regular file"):
        import_file("ports", src, tmp_path / "folder.gpkg", overwrite=True)


def test_data_build_does_not_replace_a_planners_table_without_overwrite(tmp_path):
    from typer.testing import CliRunner

    from cluster_opt.cli import app

    mine = tmp_path / "labor_2009.csv"
    mine.write_text("the planner's own table")
    r = CliRunner().invoke(app, ["data", "build", "--out", str(tmp_path)])
    assert r.exit_code == 2
    assert "labor_2009.csv: --out already exists" in " ".join(r.output.split())
    assert mine.read_text() == "the planner's own table"
