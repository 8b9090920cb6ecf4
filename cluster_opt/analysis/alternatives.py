"""Near-optimal alternatives: up to N other selections, each proven within a gap of the optimum and each as
different as possible from the ones before it.

Modelling to generate alternatives on the re-solve engine. One row keeps the objective at least
(1 − within) × the optimum. A no-good cut forbids each selection already found, so at least one hub differs.
Among the rest, the solver maximizes the difference: it minimizes how often the hubs it picks were picked
before, and the objective only breaks ties between equally different answers. Every alternative is
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
    differs: int  # hubs not in the optimum


def near_optimal(res, count: int, within: float, engine: Engine | None = None) -> list[Alternative]:
    """The optimum (number 0), then up to ``count`` alternatives within ``within`` of it."""
    eng = engine or Engine(res.siting, res.cfg.solver)
    best = res.solution
    opt = float(best.objective)
    out = [Alternative(0, best, opt, 0.0, 0)]
    eng.keep_objective_at_least(opt - within * abs(opt))
    own = eng.model.obj.copy()
    y = eng.vars.types[next(iter(res.siting.types))].y
    picked = np.zeros(res.siting.n)
    picked[best.hub_index] += 1
    eng.forbid(best)
    # The objective only breaks ties: its whole range within the gap is worth less than one hub of difference.
    tie = 0.5 / max(within * abs(opt), 1e-9)
    base_hubs = set(best.hub_index.tolist())
    for k in range(1, count + 1):
        cost = tie * own
        cost[y] -= picked
        try:
            sol = eng.solve_cost(cost)
        except InfeasibleError:
            break  # no other selection lies within the gap
        out.append(Alternative(k, sol, sol.objective, (opt - sol.objective) / abs(opt) if opt else 0.0,
                               len(set(sol.hub_index.tolist()) - base_hubs)))
        picked[sol.hub_index] += 1
        eng.forbid(sol)
    return out


def alternatives_table(res, alts: list[Alternative]) -> pd.DataFrame:
    """alternatives.csv: one row per selection (0 = the optimum): objective, gap to the optimum, hubs."""
    u = res.prepared.units
    return pd.DataFrame({
        "portfolio": [a.number for a in alts], "objective": [a.objective for a in alts], "gap_to_optimum": [a.gap for a in alts],
        "hubs_not_in_optimum": [a.differs for a in alts],
        "sites": [";".join(u["id"].to_numpy()[a.solution.hub_index]) for a in alts],
        "site_names": [";".join(f"{n}, {s}" for n, s in zip(u["name"].to_numpy()[a.solution.hub_index], u["state"].to_numpy()[a.solution.hub_index]))
                       for a in alts],
    })


def selection_frequency(res, alts: list[Alternative]) -> pd.DataFrame:
    """Per unit picked in any selection: the share of selections (optimum included) in which it is a hub, and a member."""
    u = res.prepared.units
    hub = np.zeros(len(u))
    member = np.zeros(len(u))
    for a in alts:
        hub[a.solution.hub_index] += 1
        member += a.solution.member_of >= 0
    keep = hub > 0
    df = pd.DataFrame({"id": u["id"].to_numpy()[keep], "name": u["name"].to_numpy()[keep], "state": u["state"].to_numpy()[keep],
                       "hub_frequency": hub[keep] / len(alts), "member_frequency": member[keep] / len(alts)})
    return df.sort_values(["hub_frequency", "id"], ascending=[False, True], kind="stable").reset_index(drop=True)
