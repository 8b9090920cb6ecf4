"""A cluster's value holds up the planner's criteria, not the study area's outline: water, foreign land or the edge
of the study area inside a cluster's circle do not lower it, and cutting a region into more or fewer units does
not change the optimum."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest
import yaml
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import cluster_opt as co
from cluster_opt.model.problem import SelectionProblem
from cluster_opt.model.solve import solve

from .test_model import problems

STEP = 0.3  # degrees: the side of a square unit
INLAND, SHORE = (46.0, -95.0), (46.0, -91.0)


def _square(lat: float, lon: float, dlat: float = STEP, dlon: float = STEP) -> list:
    return [[[lon - dlon / 2, lat - dlat / 2], [lon + dlon / 2, lat - dlat / 2], [lon + dlon / 2, lat + dlat / 2],
             [lon - dlon / 2, lat + dlat / 2], [lon - dlon / 2, lat - dlat / 2]]]


def _units(split_east_of_shore: bool = False) -> list[dict]:
    """Two 9 × 9 blocks of square units: one around the inland town, one around the lakeshore town with every
    unit west of the town missing (a lake). Optionally the unit just east of the lakeshore town cut in two."""
    feats = []
    for (clat, clon), shore in ((INLAND, False), (SHORE, True)):
        for a in range(-4, 5):
            for b in range(-4, 5):
                if shore and b < 0:
                    continue
                lat, lon = clat + a * STEP, clon + b * STEP
                code = f"{'S' if shore else 'I'}{a + 4}{b + 4}"
                if shore and split_east_of_shore and (a, b) == (0, 1):
                    for half, dlat in (("n", STEP / 4), ("s", -STEP / 4)):
                        feats.append({"type": "Feature", "properties": {"code": code + half, "label": code + half, "st": "MN"},
                                      "geometry": {"type": "Polygon", "coordinates": _square(lat + dlat, lon, dlat=STEP / 2)}})
                    continue
                feats.append({"type": "Feature", "properties": {"code": code, "label": code, "st": "MN"},
                              "geometry": {"type": "Polygon", "coordinates": _square(lat, lon)}})
    return feats


def _study(d, split: bool = False, **selection) -> str:
    (d / "units.geojson").write_text(json.dumps({"type": "FeatureCollection", "features": _units(split)}))
    with open(d / "jobs.csv", "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["name", "lat", "lon", "workers"])
        for tag, (lat, lon) in (("inland", INLAND), ("shore", SHORE)):
            # The same town at both places: jobs at the centre, and a suburb 31 km west (for the lakeshore town,
            # across the water: a feature outside the study area still counts in the measure).
            w.writerow([f"{tag} centre", lat, lon, 1000])
            w.writerow([f"{tag} suburb", lat, lon - 0.4, 500])
    cfg = {"name": "shore", "study_area": {"states": ["MN"]},
           "units": {"kind": "file", "path": "units.geojson", "id": "code", "name": "label", "state": "st"},
           "layers": {"jobs": {"source": "jobs.csv", "value": "workers"}},
           "criteria": {"jobs": {"layer": "jobs", "measure": "decay_sum", "half_distance_km": 20, "radius_km": 60, "weight": 1}},
           "selection": {"clusters": 2, "cluster_radius_km": 60, "min_spacing_km": 250, **selection}}
    path = d / ("split.yaml" if split else "shore.yaml")
    path.write_text(yaml.safe_dump(cfg))
    return str(path)


@pytest.fixture(scope="module")
def study(tmp_path_factory):
    return tmp_path_factory.mktemp("shore")


def test_lakeshore_and_inland_towns_with_the_same_measures_are_worth_the_same(study):
    res = co.run(_study(study))
    scores = res.scores.score
    assert scores["I44"] == pytest.approx(scores["S44"], abs=1e-12)  # the same measures, the same score
    assert scores["I44"] == scores.max()
    clusters = res.clusters
    assert sorted(clusters["hub_id"]) == ["I44", "S44"]
    # The lakeshore cluster has far fewer member units (the lake), yet its value is the same.
    members = clusters.set_index("hub_id")["members"]
    assert members["S44"] < members["I44"]
    value = dict(zip(clusters["hub_id"], res.evaluation.cluster_scores))
    assert value["S44"] == pytest.approx(value["I44"], abs=1e-12)


def test_the_old_area_weighted_value_penalised_the_lakeshore(study):
    """What the default no longer does: counting members by area makes the lake count against the shore town."""
    res = co.run(_study(study, member_weight=1.0, member_scaling="area", include=["I44", "S44"]))
    value = dict(zip(res.clusters["hub_id"], res.evaluation.cluster_scores))
    assert value["S44"] < value["I44"] - 0.1


def test_cutting_a_member_unit_in_two_leaves_the_optimum_unchanged(study):
    whole = co.run(_study(study, requirements={"jobs": 900}))
    cut = co.run(_study(study, split=True, requirements={"jobs": 900}))
    assert "S45n" in set(cut.prepared.units["id"]) and "S45" not in set(cut.prepared.units["id"])
    assert cut.solution.objective == pytest.approx(whole.solution.objective, abs=1e-12)
    assert sorted(cut.clusters["hub_id"]) == sorted(whole.clusters["hub_id"])
    # Requirements still add up the same jobs (the suburb across the lake lies in no unit, so it is not an amount).
    assert sorted(cut.clusters["jobs_total"]) == sorted(whole.clusters["jobs_total"])


def _split(pb: SelectionProblem, j: int, share: float) -> SelectionProblem:
    """The same problem with unit j cut into two co-located parts that share its amounts (share and 1 - share)."""
    idx = np.r_[np.arange(pb.n), j]
    amounts = pb.amounts[idx].copy()
    amounts[j] *= share
    amounts[-1] *= 1 - share
    ids = np.append(pb.ids, f"{pb.ids[j]}b")
    return SelectionProblem(
        ids=ids, lat=pb.lat[idx], lon=pb.lon[idx], score=pb.score[idx], clusters=pb.clusters, radius_km=pb.radius_km,
        spacing_km=pb.spacing_km, states=pb.states[idx], max_per_state=pb.max_per_state, amounts=amounts,
        requirement_names=pb.requirement_names, requirements=pb.requirements, include=list(pb.include),
        exclude=list(pb.exclude) + ([ids[-1]] if pb.ids[j] in pb.exclude else []), member_weight=pb.member_weight,
        member_scale=pb.member_scale[idx])


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(problems(), st.data())
def test_splitting_any_unit_leaves_the_optimum_unchanged(pb, data):
    """With the default value (members add nothing beyond the requirements), hubs at distinct places
    (spacing above 0) and clusters that cannot share a unit's amounts (spacing at least twice the radius, or no
    requirements), cutting any unit in two changes neither the optimum nor whether one exists."""
    assume(pb.spacing_km > 0 and (pb.spacing_km >= 2 * pb.radius_km or len(pb.requirements) == 0))
    pb.member_weight = 0.0
    j = data.draw(st.integers(0, pb.n - 1))
    cut = _split(pb, j, data.draw(st.sampled_from([0.5, 0.25, 1.0])))
    try:
        before = solve(pb, diagnose=False).objective
    except co.InfeasibleError:
        before = None
    try:
        after = solve(cut, diagnose=False).objective
    except co.InfeasibleError:
        after = None
    assert (before is None) == (after is None)
    if before is not None:
        assert after == pytest.approx(before, abs=1e-9)
