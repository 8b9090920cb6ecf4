"""Weight sweeps: solve the selection (or a chain) for many weightings and measure how often each unit is chosen.

Layers, raw measures and the model's rows do not depend on the weights; only the
objective does. So each worker prepares the model once (``model.engine.Engine``), and
each weighting is a change of the site scores and a warm re-solve of the same HiGHS
instance. A chain's facility types that weigh the criteria their own way keep their
scores; the others follow the sweep's weights. Every solution is re-checked by the
independent evaluator. Work is spread over Dask workers (``workers``): a LocalCluster, or any scheduler.
"""

from __future__ import annotations

import itertools
import math
import uuid
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import pandas as pd

from ..config import Solver
from ..model.chain import SitingProblem
from ..pipeline import Prepared, select
from .workers import engine_for, run_batches


@dataclass
class SweepSetup:
    """Everything a worker needs, shipped once: the siting problem, the normalized measures and each type's weights.

    A weighting w moves every facility type: a type that follows the scenario's weights scores
    units by w; a type with weights of its own keeps its emphasis, each of its weights scaled by
    how w moves that criterion against the scenario's (w_k / base_k), then summed to 1.
    """

    problem: SitingProblem
    criteria: list[str]
    normalized: np.ndarray  # units × criteria
    base: np.ndarray  # the scenario's weights, in criteria order
    own: dict[str, np.ndarray]  # the types with weights of their own: those weights, in criteria order (the others follow)
    solver: Solver
    token: str = field(default_factory=lambda: uuid.uuid4().hex)

    def type_weights(self, w: np.ndarray) -> dict[str, np.ndarray]:
        """Each facility type's weights for one weighting w (summing to 1)."""
        ratio = np.divide(w, self.base, out=np.ones_like(w, dtype=float), where=self.base > 0)
        out = {}
        for t in self.problem.types:
            if t not in self.own:
                out[t] = w
                continue
            v = self.own[t] * ratio
            out[t] = v / v.sum() if v.sum() > 0 else self.own[t]
        return out

    def scores(self, w: np.ndarray) -> dict[str, np.ndarray]:
        """Each facility type's site scores for one weighting (weights summing to 1)."""
        return {t: self.normalized @ v for t, v in self.type_weights(w).items()}


def build_setup(prep: Prepared, base=None) -> SweepSetup:
    """The sweep's setup from a prepared scenario (and its run with the config's weights, when already solved)."""
    from ..siting import type_weights

    cfg = prep.cfg
    base = base or select(prep)
    criteria = list(base.scores.normalized.columns)
    own = {t: np.array([type_weights(cfg, t, base.scores.weights)[k] for k in criteria], dtype=float)
           for t in base.siting.types if cfg.is_chain and cfg.facilities[t].criteria is not None}
    return SweepSetup(base.siting, criteria, base.scores.normalized.to_numpy(dtype=float),
                      np.array([base.scores.weights[k] for k in criteria], dtype=float), own, cfg.solver.model_copy(update={"threads": None}))


def sample_weights(base: dict[str, float], samples: int, concentration: float = 50.0, seed: int = 0,
                   grid_step: float | None = None) -> np.ndarray:
    """Weightings around the base weights (Dirichlet, mean = base) or a full grid with the given step."""
    names = list(base)
    if grid_step is not None:
        if not (np.isfinite(grid_step) and 0 < grid_step <= 1):
            raise ValueError(f"--grid {grid_step}: expected a step between 0 and 1 that divides 1, such as 0.1 or 0.05")
        k = int(round(1.0 / grid_step))
        if k < 1 or not np.isclose(k * grid_step, 1.0):
            raise ValueError(f"--grid {grid_step}: expected a step that divides 1, such as 0.1 or 0.05")
        count = math.comb(k + len(names) - 1, len(names) - 1)
        if count > MAX_WEIGHTINGS:
            raise ValueError(f"--grid {grid_step}: {len(names)} criteria on that grid give {count:,} weightings, more than {MAX_WEIGHTINGS:,}; "
                             "choose a coarser step or --samples")
        slots = k + len(names) - 1  # stars and bars: k units of weight, one bar between neighbouring criteria
        combos = [np.diff([-1, *bars, slots]) - 1 for bars in itertools.combinations(range(slots), len(names) - 1)]
        return np.array(combos, dtype=float) / k
    w = np.array([base[n] for n in names], dtype=float)
    w = w / w.sum()
    alpha = np.maximum(concentration * w, 1e-3)
    return np.random.default_rng(seed).dirichlet(alpha, size=samples)


MAX_WEIGHTINGS = 1_000_000

def solve_weightings(setup: SweepSetup, weights: np.ndarray) -> list[dict]:
    """Solve one batch of weightings (runs on a worker; the prepared model is kept per process).

    Each answer has passed the independent check (the engine raises otherwise)."""
    engine = engine_for(setup)
    out = []
    for w in np.atleast_2d(weights):
        w = np.asarray(w, float) / np.sum(w)
        sol = engine.solve(setup.scores(w))
        fac = sol.facilities
        out.append({"weights": w, "hubs": sol.hub_index, "member_of": sol.member_of, "objective": sol.objective, "status": sol.status,
                    "seconds": sol.solve_seconds, "check": True,
                    "types": fac.type[fac.new] if fac is not None else np.full(len(sol.hub_index), next(iter(setup.problem.types)))})
    return out


@dataclass
class SweepResult:
    weights: np.ndarray
    results: list[dict]
    scheduler: str
    workers: int
    seconds: float


def run_sweep(setup: SweepSetup, weights: np.ndarray, workers: int = 0, scheduler: str | None = None,
              batch: int = 50, progress: Callable[[int], None] | None = None) -> SweepResult:
    """Solve every weighting: in this process (workers=0), on a new LocalCluster, or on a running scheduler."""
    done = run_batches(solve_weightings, setup, weights, workers, scheduler, batch, progress)
    return SweepResult(weights, done.results, done.scheduler, done.workers, done.seconds)


def frequencies(setup: SweepSetup, sweep: SweepResult, ids, robust: float = 0.9) -> pd.DataFrame:
    """Per unit: the share of weightings in which it hosts a hub (a new facility), and in which it is in any cluster (serves one)."""
    n = setup.problem.n
    hub = np.zeros(n)
    member = np.zeros(n)
    for r in sweep.results:
        hub[r["hubs"]] += 1
        member += r["member_of"] >= 0
    total = max(len(sweep.results), 1)
    df = pd.DataFrame({"id": ids, "frequency": member / total, "hub_frequency": hub / total})
    df["robust"] = df["frequency"] >= robust
    return df


def hub_weight_ranges(setup: SweepSetup, sweep: SweepResult, hubs: np.ndarray, types: np.ndarray | None = None) -> pd.DataFrame:
    """For each given hub (or a chain's new facility: its type and site): in how many weightings it stays, and the
    range of each weight when it does."""
    types = np.full(len(hubs), next(iter(setup.problem.types))) if types is None else types
    picked = [set(zip(r["types"].tolist(), r["hubs"].tolist())) for r in sweep.results]
    rows = []
    for t, h in zip(types.tolist(), hubs.tolist()):
        kept = np.array([(t, h) in p for p in picked], dtype=bool)
        row = {"unit": int(h), "kept_share": float(kept.mean()) if len(kept) else 0.0}
        for c, name in enumerate(setup.criteria):
            ws = sweep.weights[kept, c] if kept.any() else np.array([np.nan])
            row[f"{name}_min"], row[f"{name}_max"] = float(np.nanmin(ws)), float(np.nanmax(ws))
        rows.append(row)
    return pd.DataFrame(rows)
