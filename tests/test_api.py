"""The Python API as the README shows it: ids everywhere, validated edits and weights, readable errors."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

import pytest

import cluster_opt as co

ROOT = Path(__file__).resolve().parents[1]


def _readme_example() -> str:
    text = (ROOT / "README.md").read_text()
    section = text[text.index("## Python API"):]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)


@pytest.fixture(scope="module")
def example(tmp_path_factory):
    """Run the README's example as written, in a folder of its own (configs/ linked in)."""
    work = tmp_path_factory.mktemp("api")
    (work / "configs").symlink_to(ROOT / "configs")
    import os

    here = os.getcwd()
    os.chdir(work)
    printed = io.StringIO()
    try:
        scope: dict = {}
        with contextlib.redirect_stdout(printed):
            exec(compile(_readme_example(), "README.md", "exec"), scope)
    finally:
        os.chdir(here)
    scope["printed"] = printed.getvalue()
    return work, scope


def test_the_readme_example_runs(example):
    work, scope = example
    result, units, clusters = scope["result"], scope["units"], scope["clusters"]
    assert result.solution.status == "optimal" and len(result.hubs) == 3
    # Ids everywhere: hubs are unit ids, the units table is keyed by them and agrees with the scores.
    assert set(result.hubs) <= set(units.index) and units.index.name == "id"
    assert list(result.solution.hubs) == result.hubs  # the solution speaks in ids too
    assert (units.loc[result.hubs, "role"] == "hub").all()
    assert units["score"].equals(result.scores.score.reindex(units.index))
    assert units.crs.to_epsg() == 4326 and units.geometry.notna().all()
    assert list(clusters.index) == [1, 2, 3] and clusters["hub_id"].tolist() == result.hubs
    assert (clusters["members"] == units["cluster"].value_counts().sort_index().to_numpy()).all()
    # The re-weighted run was written, and its weights are the ones asked for.
    assert (work / "runs" / "labor-heavy" / "manifest.json").exists()
    assert scope["labor_heavy"].scores.weights["labor"] == pytest.approx(0.5)
    assert "weights: no weight for grid_capacity, grid_access, power_price, labor, ports, rail, energy_community" in scope["printed"]


def test_edits_and_weights_are_validated(example):
    _, scope = example
    cfg, result = scope["cfg"], scope["result"]
    with pytest.raises(co.ConfigError, match="selection.clusters: Input should be greater than or equal to 1"):
        cfg.selection.clusters = 0
    with pytest.raises(co.ConfigError, match="expected a number, found true"):
        cfg.selection.cluster_radius_km = True
    with pytest.raises(co.InputError, match=r'weights: "labour" is not a criterion \(did you mean "labor"\?\)'):
        result.reweight({**dict.fromkeys(result.cfg.criteria, 1), "labour": 1})
    with pytest.raises(co.InputError, match="weights.grid_capacity: expected a finite number ≥ 0"):
        result.reweight({**dict.fromkeys(result.cfg.criteria, 1), "grid_capacity": float("nan")})
    # An edit that breaks a reference is caught when the run starts, with the config's own message.
    cfg.selection.requirements = {"jobs": 5}
    with pytest.raises(co.ConfigError, match='"jobs" is not a layer'):
        co.prepare(cfg)


def test_writing_over_a_folder_that_is_not_a_run_is_refused(example, tmp_path):
    _, scope = example
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(co.OutputError, match=r"overwrite=True in Python|is not a cluster-opt output"):
        scope["result"].write(tmp_path, overwrite=True)
    assert (tmp_path / "notes.txt").read_text() == "mine"
