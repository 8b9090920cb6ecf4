"""Config parsing: the reference shape, defaults, and errors that name the key."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from cluster_opt.config import json_schema, load_config, parse_config

CONFIGS = Path(__file__).resolve().parents[1] / "configs"


def base(**over):
    cfg = {
        "name": "t",
        "study_area": {"states": ["mn", "WI"]},
        "layers": {"ports": {"source": "builtin:ports", "value": "total_tons"}, "labor": {"source": "builtin:labor", "value": "labor_force"}},
        "criteria": {"ports": {"layer": "ports", "measure": "nearest_km", "weight": 1}},
        "selection": {"clusters": 2, "cluster_radius_km": 50},
    }
    cfg.update(over)
    return cfg


@pytest.mark.parametrize("path", sorted(CONFIGS.glob("*.yaml")), ids=lambda p: p.name)
def test_shipped_configs_are_valid(path):
    cfg = load_config(path)
    if cfg.is_chain:
        assert cfg.selection is None and cfg.links and sum(f.count_range[0] for f in cfg.facilities.values()) >= 1
        assert all(f.existing is not None or f.count_range[1] >= 1 for f in cfg.facilities.values())
    else:
        assert cfg.selection.clusters >= 1
    assert abs(sum(cfg.criterion_weights().values()) - 1) < 1e-12


def test_defaults_filled_and_states_normalized():
    cfg = parse_config(base())
    assert cfg.states == ["MN", "WI"]
    assert cfg.units.kind == "county"
    assert cfg.solver.name == "highs" and cfg.solver.mip_gap == 0.0
    assert cfg.normalize == "minmax"
    resolved = cfg.resolved()
    assert resolved["selection"]["min_spacing_km"] == 0.0
    assert resolved["criteria"]["ports"]["direction"] == "cost"


def test_relative_paths_resolve_against_config_folder(tmp_path):
    d = tmp_path / "sub"
    d.mkdir()
    data = base(layers={"x": {"source": "data/pts.csv"}}, criteria={"x": {"layer": "x", "measure": "nearest_km", "weight": 1}})
    (d / "c.yaml").write_text(yaml.safe_dump(data))
    cfg = load_config(d / "c.yaml")
    assert cfg.layers["x"].source == str((d / "data" / "pts.csv").resolve())


@pytest.mark.parametrize(
    "change, phrase",
    [
        ({"selction": {}}, 'unknown key (did you mean "selection"?)'),
        ({"criteria": {"ports": {"layer": "ports", "measure": "nearest_km", "wieght": 1, "weight": 1}}}, 'criteria.ports.wieght: unknown key (did you mean "weight"?)'),
        ({"criteria": {"ports": {"layer": "port", "measure": "nearest_km", "weight": 1}}}, 'no layer named "port" (did you mean "ports"?)'),
        ({"criteria": {"ports": {"layer": "ports", "measure": "nearest", "weight": 1}}}, "criteria.ports.measure"),
        ({"criteria": {"ports": {"layer": "ports", "measure": "nearest_km", "weight": -1}}}, "criteria.ports.weight"),
        ({"criteria": {"ports": {"layer": "ports", "measure": "nearest_km", "weight": 0}}}, "all weights are zero"),
        ({"criteria": {"ports": {"layer": "ports", "measure": "sum_within", "weight": 1}}}, "sum_within needs radius_km"),
        ({"selection": {"clusters": 0, "cluster_radius_km": 50}}, "selection.clusters"),
        ({"selection": {"clusters": 2, "cluster_radius_km": -5}}, "selection.cluster_radius_km"),
        ({"selection": {"clusters": 2, "cluster_radius_km": 5, "requirements": {"jobs": 5}}}, '"jobs" is not a layer'),
        ({"selection": {"clusters": 2, "cluster_radius_km": 5, "include": ["27137"], "exclude": ["27137"]}}, "both included and excluded"),
        ({"study_area": {"states": ["MN", "XX"]}}, 'unknown state "XX"'),
        ({"solver": {"name": "gurobi"}}, "solver.name"),
        ({"normalize": "rank"}, "normalize"),
        ({"units": {"kind": "h3", "resolution": 12}}, "units.resolution"),
    ],
)
def test_errors_name_the_key(change, phrase):
    from cluster_opt.errors import ConfigError

    with pytest.raises(ConfigError) as e:
        parse_config(base(**change), "c.yaml")
    assert str(e.value).startswith("c.yaml: ")
    assert phrase in str(e.value)


def test_yaml_syntax_and_empty_file(tmp_path):
    from cluster_opt.errors import ConfigError

    p = tmp_path / "bad.yaml"
    p.write_text("name: x\nlayers: [unclosed\n")
    with pytest.raises(ConfigError, match=r"bad.yaml: YAML syntax error at line \d+"):
        load_config(p)
    p.write_text("")
    with pytest.raises(ConfigError, match="the file is empty"):
        load_config(p)
    p.write_text("- a\n- b\n")
    with pytest.raises(ConfigError, match="expected a YAML mapping"):
        load_config(p)


def test_schema_lists_the_public_keys():
    s = json_schema()
    assert {"name", "study_area", "units", "layers", "criteria", "normalize", "selection", "solver"} <= set(s["properties"])
