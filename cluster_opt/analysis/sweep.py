"""Weight sweeps: solve the selection (or a chain) for many weightings and measure how often each unit is chosen.

Layers, raw measures and the model's rows do not depend on the weights; only the
objective does. So each worker prepares the model once (``model.engine.Engine``), and
each weighting is a change of the site scores and a warm re-solve of the same HiGHS
instance. A chain's facility types that weigh the criteria their own way keep their
scores; the others follow the sweep's weights. Every solution is re-checked by the
independent evaluator. Work is spread over Dask workers: a LocalCluster, or any scheduler.
"""

from __future__ import annotations

import itertools
import logging
import math
import signal
import threading
import time
from contextlib import contextmanager
import uuid
from dataclasses import dataclass, field
from typing import Callable, Iterator

import numpy as np
import pandas as pd

from ..config import Solver
from ..errors import InputError
from ..model.chain import SitingProblem
from ..model.engine import Engine
from ..pipeline import Prepared, select


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

_CACHE: dict[str, Engine] = {}


def solve_weightings(setup: SweepSetup, weights: np.ndarray) -> list[dict]:
    """Solve one batch of weightings (runs on a worker; the prepared model is kept per process).

    Each answer has passed the independent check (the engine raises otherwise)."""
    if setup.token not in _CACHE:
        _CACHE.clear()
        _CACHE[setup.token] = Engine(setup.problem, setup.solver)
    engine = _CACHE[setup.token]
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
    t0 = time.perf_counter()
    batches = [weights[i:i + batch] for i in range(0, len(weights), batch)]
    results: list[list[dict] | None] = [None] * len(batches)
    if not workers and not scheduler:
        for k, b in enumerate(batches):
            results[k] = solve_weightings(setup, b)
            if progress:
                progress(len(b))
        return SweepResult(weights, [r for rs in results for r in rs], "in-process", 1, time.perf_counter() - t0)
    from dask.distributed import Client, LocalCluster, as_completed

    cluster = client = None
    _quiet_dask()
    try:
        if scheduler:
            try:
                client = Client(scheduler, timeout="30s")
            except (OSError, TimeoutError) as e:
                raise InputError(f"--scheduler {scheduler}: cannot reach the Dask scheduler ({str(e).splitlines()[0][:160]})") from None
        else:
            with _interrupts_deferred():  # a half-started cluster cannot be closed cleanly: stop once it is up
                cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, host="127.0.0.1",
                                       dashboard_address=None, silence_logs=QUIET)
                client = Client(cluster)
            _quiet_dask()  # the cluster set its own levels
        address = client.scheduler.address
        n_workers = len(client.scheduler_info()["workers"])
        shared = client.scatter(setup, broadcast=True)
        futures = {client.submit(solve_weightings, shared, b, pure=False): k for k, b in enumerate(batches)}
        for fut in as_completed(futures):
            k = futures[fut]
            results[k] = fut.result()
            if progress:
                progress(len(batches[k]))
    finally:
        if client is not None:
            client.close()
        if cluster is not None:
            cluster.close()
    return SweepResult(weights, [r for rs in results for r in rs], address, n_workers, time.perf_counter() - t0)


QUIET = logging.CRITICAL + 10  # above every level Dask logs at


def _quiet_dask() -> None:
    """Dask's shutdown chatter after Ctrl-C (closed comms, lost keys) is not the planner's business."""
    for name in ("distributed", "asyncio", "tornado"):
        logging.getLogger(name).setLevel(QUIET)


@contextmanager
def _interrupts_deferred() -> Iterator[None]:
    """Hold Ctrl-C and SIGTERM until the block is done, then raise KeyboardInterrupt if one came."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught: list[int] = []
    saved = {sig: signal.signal(sig, lambda signum, frame: caught.append(signum)) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in saved.items():
            signal.signal(sig, handler)
    if caught:
        raise KeyboardInterrupt


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
