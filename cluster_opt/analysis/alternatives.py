"""Near-optimal alternatives: up to N other selections, each proven within a gap of the optimum and each as
different as possible from the ones before it.

Modelling to generate alternatives on the re-solve engine. One row keeps the objective at least
(1 − within) × the optimum. A no-good cut forbids each selection already found, so at least one hub (or a
chain's facility) differs. Among the rest, the solver maximizes the difference: it minimizes how often the
sites it picks (type and unit, for a chain) were picked before, and the objective only breaks ties between
equally different answers. Every alternative is
re-checked by the independent evaluator with the planner's own objective.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..errors import InfeasibleError
from ..model.engine import Engine


@dataclass
class Alternative:
    number: int  # 0: the optimum
    solution: object
    objective: float
    gap: float  # (optimum − objective) / |optimum|
    differs: int  # sites (hubs, or a chain's new facilities by type) not in the optimum


def near_optimal(res, count: int, within: float, engine: Engine | None = None) -> list[Alternative]:
    """The optimum (number 0), then up to ``count`` alternatives within ``within`` of it."""
    eng = engine or Engine(res.siting, res.cfg.solver, unit_names=res.prepared.units["name"].to_numpy())
    first = next(iter(res.siting.types))
    best = res.solution
    opt = float(best.objective)
    out = [Alternative(0, best, opt, 0.0, 0)]
    eng.keep_objective_at_least(opt - within * abs(opt))
    picked: dict[tuple[str, int], int] = {}
    base = set(best.sites(first))
    for key in base:
        picked[key] = picked.get(key, 0) + 1
    eng.forbid(best)
    # The objective only breaks ties: its whole range within the gap is worth less than one site of difference.
    tie = 0.5 / max(within * abs(opt), 1e-9)

    def cost_of(model, vars):  # asked again whenever a chain's model is rebuilt (its columns move)
        cost = tie * model.obj
        for (t, j), n in picked.items():
            cost[vars.types[t].y[j]] -= n
        return cost

    for k in range(1, count + 1):
        try:
            sol = eng.solve_cost(cost_of)
        except InfeasibleError:
            break  # no other selection lies within the gap
        mine = sol.sites(first)
        out.append(Alternative(k, sol, sol.objective, (opt - sol.objective) / abs(opt) if opt else 0.0, len(set(mine) - base)))
        for key in mine:
            picked[key] = picked.get(key, 0) + 1
        eng.forbid(sol)
    return out


def alternatives_table(res, alts: list[Alternative]) -> pd.DataFrame:
    """alternatives.csv: one row per selection (0 = the optimum): objective, gap to the optimum, sites (a chain's as type:id)."""
    u = res.prepared.units
    ids, names, states = u["id"].to_numpy(), u["name"].to_numpy(), u["state"].to_numpy()
    first = next(iter(res.siting.types))
    chain = res.solution.facilities is not None
    picks = [a.solution.sites(first) for a in alts]
    return pd.DataFrame({
        "portfolio": [a.number for a in alts], "objective": [a.objective for a in alts], "gap_to_optimum": [a.gap for a in alts],
        ("sites_not_in_optimum" if chain else "hubs_not_in_optimum"): [a.differs for a in alts],
        "sites": [";".join(f"{t}:{ids[j]}" if chain else ids[j] for t, j in p) for p in picks],
        "site_names": [";".join((f"{t}: " if chain else "") + f"{names[j]}, {states[j]}" for t, j in p) for p in picks],
    })


def selection_frequency(res, alts: list[Alternative]) -> pd.DataFrame:
    """Per unit picked in any selection: the share of selections (optimum included) in which it hosts a site (a hub,
    or a chain's new facility), and in which it is a member (serves one)."""
    u = res.prepared.units
    first = next(iter(res.siting.types))
    hub = np.zeros(len(u))
    member = np.zeros(len(u))
    for a in alts:
        hub[sorted({j for _, j in a.solution.sites(first)})] += 1
        member += a.solution.member_of >= 0
    keep = hub > 0
    df = pd.DataFrame({"id": u["id"].to_numpy()[keep], "name": u["name"].to_numpy()[keep], "state": u["state"].to_numpy()[keep],
                       "site_frequency": hub[keep] / len(alts), "member_frequency": member[keep] / len(alts)})
    return df.sort_values(["site_frequency", "id"], ascending=[False, True], kind="stable").reset_index(drop=True)
