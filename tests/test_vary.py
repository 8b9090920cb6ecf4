"""sweep --vary: one exact solve per value of a rule, each equal to a run of the config edited by hand."""

from __future__ import annotations

import csv

import pytest
import yaml
from typer.testing import CliRunner

import cluster_opt as co
from cluster_opt.cli import app

from .test_importance import SMALL


def _rows(path):
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def test_vary_equals_runs_of_edited_configs(tmp_path):
    cfg = tmp_path / "small.yaml"
    cfg.write_text(yaml.safe_dump(SMALL), encoding="utf-8")
    r = CliRunner().invoke(app, ["sweep", str(cfg), "--vary", "requirements.labor=60000:1260000:600000", "--out", str(tmp_path / "v"), "-q"])
    assert r.exit_code == 0, r.output
    rows = _rows(tmp_path / "v" / "rules.csv")
    assert [float(x["value"]) for x in rows] == [60000, 660000, 1260000]
    for x in rows:
        edited = co.load_config(cfg)
        edited.selection.requirements = {**edited.selection.requirements, "labor": float(x["value"])}
        try:
            res = co.run(edited)
        except co.InfeasibleError as e:
            assert x["status"] == "infeasible" and x["reason"] == str(e)
            continue
        assert x["status"] == "optimal" and float(x["objective"]) == pytest.approx(res.solution.objective, abs=1e-9)
        assert x["hubs"] == ";".join(res.hubs) and x["checked"] == "True"
    assert any(x["status"] == "infeasible" for x in rows) and any(x["status"] == "optimal" for x in rows)
    html = (tmp_path / "v" / "compare.html").read_text(encoding="utf-8")
    assert "requirements.labor" in html


def test_vary_refuses_unknown_rules_and_bad_spans(tmp_path):
    cfg = tmp_path / "small.yaml"
    cfg.write_text(yaml.safe_dump(SMALL), encoding="utf-8")
    for arg, phrase in (("radius=1:2:1", 'unknown rule "radius"'), ("clusters=1.5:3:1", "clusters takes whole numbers"),
                        ("clusters=3:1:1", "START ≤ STOP"), ("clusters=1:1000:1", "more than 50"), ("clusters", "expected KEY=START:STOP:STEP")):
        r = CliRunner().invoke(app, ["sweep", str(cfg), "--vary", arg, "--out", str(tmp_path / "x"), "-q"])
        assert r.exit_code == 2 and phrase in r.output, (arg, r.output)
        assert not (tmp_path / "x").exists()


def test_vary_a_chain_equals_runs_of_edited_configs(tmp_path):
    from pathlib import Path

    text = Path(__file__).with_name("test_chain_analysis.py").read_text(encoding="utf-8")
    chain = text[text.index('CHAIN = """\\\n') + len('CHAIN = """\\\n'):text.index('"""\n\n\ndef _write')]
    cfg = tmp_path / "chain.yaml"
    cfg.write_text(chain.replace("NAME", "vary-chain").replace("CELLS", "2"), encoding="utf-8")
    r = CliRunner().invoke(app, ["sweep", str(cfg), "--vary", "facilities.cell.new=1:3:1", "--out", str(tmp_path / "v"), "-q"])
    assert r.exit_code == 0, r.output
    rows = _rows(tmp_path / "v" / "rules.csv")
    assert [int(x["value"]) for x in rows] == [1, 2, 3]
    for x in rows:
        edited = yaml.safe_load(cfg.read_text(encoding="utf-8"))
        edited["facilities"]["cell"]["new"] = int(x["value"])
        res = co.run(co.parse_config(edited))
        assert float(x["objective"]) == pytest.approx(res.solution.objective, abs=1e-9)
        assert sum(k.startswith("cell:") for k in x["hubs"].split(";")) == int(x["value"])
