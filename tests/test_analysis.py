"""AHP weights, weight-stability intervals, sweeps and comparisons."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cluster_opt.analysis.ahp import ahp
from cluster_opt.analysis.stability import stability_intervals, top_k, weights_at
from cluster_opt.config import parse_config
from cluster_opt.errors import ConfigError


def test_ahp_leader_example():
    """The 'leader' example of the Analytic Hierarchy Process (Wikipedia, "Analytic hierarchy process – leader
    example"): criteria weights .547 experience, .127 education, .270 charisma, .056 age; consistency ratio 0.044."""
    res = ahp(["experience", "education", "charisma", "age"],
              {"experience": {"education": 4, "charisma": 3, "age": 7}, "education": {"charisma": "1/3", "age": 3}, "charisma": {"age": 5}})
    published = {"experience": 0.547, "education": 0.127, "charisma": 0.270, "age": 0.056}
    assert res.weights == pytest.approx(published, abs=1e-3)
    assert res.consistency_ratio == pytest.approx(0.044, abs=5e-4)
    assert res.lambda_max == pytest.approx(4.118, abs=1e-3)


def _cfg(**weights):
    crit = {k: {"layer": "ports", "measure": "nearest_km"} for k in ("a", "b", "c")}
    data = {"name": "t", "layers": {"ports": {"source": "builtin:ports"}}, "criteria": crit,
            "selection": {"clusters": 1, "cluster_radius_km": 10}}
    data.update(weights)
    return data


def test_ahp_in_config_and_its_errors():
    cfg = parse_config(_cfg(weights={"ahp": {"a": {"b": 3, "c": 5}, "b": {"c": 3}}}))
    w = cfg.criterion_weights()
    assert w["a"] > w["b"] > w["c"] and sum(w.values()) == pytest.approx(1)
    assert cfg.ahp_result.consistency_ratio < 0.1
    # d is judged 4 times as important as b where every other judgment puts b above d.
    four = _cfg(weights={"ahp": {"a": {"b": 2, "c": 4, "d": 8}, "b": {"c": 2, "d": "1/4"}, "c": {"d": 2}}})
    four["criteria"]["d"] = {"layer": "ports", "measure": "nearest_km"}
    with pytest.raises(ConfigError, match=r"^<config>: weights.ahp: the judgments are inconsistent \(consistency ratio 0.40.*most inconsistent pair is b versus d"):
        parse_config(four)
    with pytest.raises(ConfigError, match="no judgment of b versus c"):
        parse_config(_cfg(weights={"ahp": {"a": {"b": 3, "c": 5}}}))
    bad = _cfg(weights={"ahp": {"a": {"b": 3, "c": 5}, "b": {"c": 3}}})
    bad["criteria"]["a"]["weight"] = 1
    with pytest.raises(ConfigError, match="give them in one place only"):
        parse_config(bad)
    with pytest.raises(ConfigError, match=r"criteria.a.weight: required"):
        parse_config(_cfg())


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(1, 5))
def test_stability_bounds_are_exact(seed, k):
    rng = np.random.default_rng(seed)
    n, c = 25, 3
    norm = pd.DataFrame(rng.uniform(0, 1, (n, c)), columns=["a", "b", "c"], index=[f"{i:05d}" for i in range(n)])
    w = rng.dirichlet(np.ones(c))
    table = stability_intervals(norm, dict(zip(norm.columns, w)), k)
    ids = norm.index.to_numpy()
    base = top_k(norm.to_numpy() @ w, ids, k)
    eps = 1e-7
    for ci, row in table.iterrows():
        assert row["low"] <= w[ci] + 1e-12 <= row["high"] + 2e-12
        for t, same in ((row["low"] + eps, True), (row["low"] - eps, False), (row["high"] - eps, True), (row["high"] + eps, False)):
            if not 0.0 <= t <= 1.0 or (same and not row["low"] + eps <= row["high"] - eps):
                continue
            if not same and (row["low"] == 0.0 and t < 0 or row["high"] == 1.0 and t > 1):
                continue
            moved = top_k(norm.to_numpy() @ weights_at(w, ci, t), ids, k)
            assert (moved == base) == same, (row.to_dict(), t)
