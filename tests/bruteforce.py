"""Exhaustive reference for the selection problem on tiny instances (tests only)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from cluster_opt.errors import InfeasibleError
from cluster_opt.geo import haversine_km
from cluster_opt.model.problem import SelectionProblem


def brute_force(pb: SelectionProblem) -> tuple[float, tuple[int, ...]] | None:
    """Best objective and hub set by enumerating every hub set and every membership choice; None if infeasible."""
    n = pb.n
    d = haversine_km(pb.lat[:, None], pb.lon[:, None], pb.lat[None, :], pb.lon[None, :])
    inc = {pb.index[u] for u in pb.include}
    exc = {pb.index[u] for u in pb.exclude}
    best: tuple[float, tuple[int, ...]] | None = None
    for hubs in itertools.combinations(range(n), pb.clusters):
        hs = set(hubs)
        if not inc <= hs or hs & exc:
            continue
        if any(d[a, b] < pb.spacing_km for a, b in itertools.combinations(hubs, 2)):
            continue
        if pb.max_per_state is not None:
            _, counts = np.unique(pb.states[list(hubs)], return_counts=True)
            if counts.max() > pb.max_per_state:
                continue
        # Units in reach of at least one hub must join exactly one hub in reach; hubs join their own.
        choices = []
        for i in range(n):
            if i in hs:
                choices.append([i])
            else:
                reach = [h for h in hubs if d[i, h] <= pb.radius_km]
                choices.append(reach or [-1])
        feasible = False
        for assign in itertools.product(*choices):
            a = np.array(assign)
            ok = True
            for h in hubs:
                tot = pb.amounts[a == h].sum(axis=0)
                if (tot < pb.requirements - 1e-9).any():
                    ok = False
                    break
            if ok:
                feasible = True
                break
        if not feasible:
            continue
        covered = np.array([c != [-1] for c in choices])
        is_hub = np.zeros(n, bool)
        is_hub[list(hubs)] = True
        obj = float(pb.score[is_hub].sum() + pb.member_weight * (pb.member_scale * pb.score)[covered & ~is_hub].sum())
        if best is None or obj > best[0] + 1e-12:
            best = (obj, hubs)
    return best


def assert_optimum(reference: float | None, solve_it, accepted) -> None:
    """The solver proves the enumerated optimum (or infeasibility), and the evaluator accepts its answer."""
    if reference is None:
        with pytest.raises(InfeasibleError):
            solve_it()
        return
    sol = solve_it()
    assert sol.proven_optimal
    assert sol.objective == pytest.approx(reference, abs=1e-6)
    assert accepted(sol)
