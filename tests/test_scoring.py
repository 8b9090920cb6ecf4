from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from cluster_opt.config import parse_config
from cluster_opt.scoring import normalize, score_units


@given(arrays(float, st.integers(2, 50), elements=st.floats(-1e6, 1e6)), st.sampled_from(["minmax", "percentile", "zscore"]))
def test_normalize_orders_units_consistently(x, method):
    b = normalize(x, method, "benefit")
    c = normalize(x, method, "cost")
    # Higher raw is never worse for a benefit and never better for a cost.
    order = np.argsort(x, kind="stable")
    assert np.all(np.diff(b[order]) >= -1e-9)
    assert np.all(np.diff(c[order]) <= 1e-9)
    if method == "minmax" and np.ptp(x) > 0:
        assert b.min() == pytest.approx(0) and b.max() == pytest.approx(1)


def test_score_is_weighted_sum_and_weights_rescale():
    cfg = parse_config({
        "name": "t", "layers": {"a": {"source": "builtin:ports"}},
        "criteria": {"near": {"layer": "a", "measure": "nearest_km", "weight": 2}, "many": {"layer": "a", "measure": "count_within", "radius_km": 50, "weight": 6}},
        "selection": {"clusters": 1, "cluster_radius_km": 10},
    })
    assert cfg.criterion_weights() == {"near": 0.25, "many": 0.75}
    assert cfg.criteria["near"].direction == "cost"
    f = pd.DataFrame({"near": [0.0, 10.0, 20.0], "many": [0, 5, 10]}, index=pd.Index(["a", "b", "c"], name="id"))
    s = score_units(f, cfg)
    np.testing.assert_allclose(s.score.to_numpy(), [0.25, 0.5, 0.75])
    np.testing.assert_allclose(s.contributions.sum(axis=1), s.score)
    assert s.rank.tolist() == [3, 2, 1]
