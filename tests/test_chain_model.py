"""The supply-chain MILP against brute force on tiny instances, and the independent check of a chain."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cluster_opt.errors import InfeasibleError
from cluster_opt.model.chain import ClusterRule, ExistingFacilities, SitingProblem, SupplyLink
from cluster_opt.model.chain_check import check_chain, evaluate_chain
from cluster_opt.model.problem import SelectionProblem
from cluster_opt.model.solve import solve_siting

from .bruteforce import assert_optimum
from .bruteforce_chain import brute_force_chain


def facility_type(ids, lat, lon, rng, draw, name, states, amounts):
    n = len(ids)
    lo = draw(st.integers(0, 1))
    hi = lo + draw(st.integers(0 if lo else 1, 1))
    with_req = draw(st.booleans())
    return SelectionProblem(
        ids=ids, lat=lat, lon=lon, score=np.round(rng.uniform(0, 1, n), 3), clusters=lo, clusters_max=hi,
        radius_km=draw(st.sampled_from([0.0, 90.0, 220.0])), spacing_km=draw(st.sampled_from([0.0, 0.0, 120.0])),
        states=states, max_per_state=draw(st.sampled_from([None, None, 1])),
        amounts=amounts if with_req else None, requirement_names=["labor"] if with_req else [],
        requirements=np.array([float(draw(st.integers(10, 120)))]) if with_req else None,
        member_weight=0.0, complete_members=False, site_ok=rng.uniform(0, 1, n) < 0.8, key=f"facilities.{name}.site",
    )


@st.composite
def chains(draw):
    n = draw(st.integers(4, 6))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    ids = np.array([f"u{k}" for k in range(n)])
    lat, lon = rng.uniform(41.0, 44.0, n), rng.uniform(-90.0, -86.0, n)
    states = rng.choice(["MI", "WI"], n)
    amounts = rng.integers(0, 60, (n, 1)).astype(float)
    names = ["mine", "refinery", "cell"][: draw(st.integers(2, 3))]
    types = {t: facility_type(ids, lat, lon, rng, draw, t, states, amounts) for t in names}
    existing = {}
    if draw(st.booleans()):
        k = draw(st.integers(1, 2))
        existing[names[0]] = ExistingFacilities([f"e{i}" for i in range(k)], [f"Existing {i}" for i in range(k)],
                                                rng.uniform(41.0, 44.0, k), rng.uniform(-90.0, -86.0, k))
    links = [SupplyLink(a, b, draw(st.sampled_from([120.0, 250.0, 500.0])), draw(st.sampled_from([0.0, 0.0015])),
                        draw(st.sampled_from([None, 1, 2]))) for a, b in zip(names, names[1:]) if draw(st.booleans())]
    clusters = None
    if draw(st.booleans()):
        clusters = ClusterRule(draw(st.integers(1, 2)), draw(st.sampled_from([150.0, 300.0])),
                               [t for t in names if draw(st.booleans())], [t for t in names if types[t].most > 0])
    return SitingProblem(types, existing, links, clusters)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(chains())
def test_chain_milp_matches_brute_force(sp):
    assert_optimum(brute_force_chain(sp), lambda: solve_siting(sp), lambda sol: check_chain(sp, sol).ok)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(chains())
def test_chain_milp_matches_brute_force_when_only_the_nearest_supplier_is_written(sp):
    """Costed links start with one nearest supplier per site: the farther option and its enlargement rounds are exercised."""
    from unittest import mock

    from cluster_opt.model import chain_model

    with mock.patch.object(chain_model, "NEAREST", 1):
        test_chain_milp_matches_brute_force.hypothesis.inner_test(sp)


def _line(n=5, **kw):
    ids = np.array([f"u{k}" for k in range(n)])
    lon = -90.0 + np.arange(n) * 1.3  # about 105 km apart at 43.5N
    base = dict(ids=ids, lat=np.full(n, 43.5), lon=lon, score=np.linspace(0.1, 0.9, n), clusters=1, radius_km=0.0,
                member_weight=0.0, complete_members=False)
    base.update(kw)
    return SelectionProblem(**base)


def test_a_link_no_site_can_keep_names_the_shortest_distance():
    sp = dict(types={"refinery": _line(), "cell": _line(site_ok=np.array([0, 0, 0, 0, 1], bool))},
              links=[SupplyLink("refinery", "cell", 50.0)])
    sp["types"]["refinery"] = _line(site_ok=np.array([1, 0, 0, 0, 0], bool))
    with pytest.raises(InfeasibleError, match=r"links\[0\] refinery → cell: no cell site has a refinery within 50 km; the shortest distance that would work is 4\d\d\.\d km"):
        solve_siting(SitingProblem(**sp))


def test_units_serve_one_facility_across_types():
    """Two types each need 100 of labor; the only labor is 120 in one unit: one facility can have it, not both."""
    amounts = np.array([[120.0], [0], [0], [0], [0]])
    kw = dict(radius_km=250.0, amounts=amounts, requirements=[100.0], requirement_names=["labor"])
    sp = SitingProblem({"cathode": _line(**kw), "cell": _line(**kw)})
    with pytest.raises(InfeasibleError):
        solve_siting(sp)
    one = SitingProblem({"cathode": _line(**kw), "cell": _line(clusters=1)})
    sol = solve_siting(one)
    ev = check_chain(one, sol)
    assert ev.ok and sol.member_of[0] >= 0


def test_the_checker_catches_a_broken_chain():
    sp = SitingProblem({"refinery": _line(clusters=2), "cell": _line(clusters=2)}, links=[SupplyLink("refinery", "cell", 150.0, capacity=1)])
    sol = solve_siting(sp)
    assert check_chain(sp, sol).ok
    # Two cells, two refineries of capacity 1 each: let one refinery supply both cells.
    sup = sol.supplies
    sup.source[:] = sup.source[0]
    ev = evaluate_chain(sp, sol)
    assert not ev.ok and any("capacity" in v or "beyond" in v for v in ev.violations)
