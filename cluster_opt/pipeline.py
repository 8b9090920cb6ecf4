"""One planner's run, stage by stage: config → units → layers → features → scores → problem → solution."""

from __future__ import annotations

import json
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Callable, Iterator

import geopandas as gpd
import numpy as np
import pandas as pd

from .config import Config, load_config
from .features import compute_amounts, measure
from .layers import LayerData, load_layer
from .model.chain import SitingProblem
from .model.chain_check import ChainEvaluation, check_chain
from .model.evaluate import Evaluation, check
from .model.problem import SelectionProblem
from .model.solve import Solution, solve_siting
from .sanity import layer_warnings, measure_warnings
from .scoring import Scores, score_units
from .siting import ChainData, chain_data, siting_problem, type_weights
from .units import build_units

STAGES = ("units", "layers", "features", "scores", "solve", "check")


@dataclass
class Prepared:
    """What does not depend on weights: units, layers, raw measures and requirement amounts."""

    cfg: Config
    units: gpd.GeoDataFrame
    layers: dict[str, LayerData]
    features: pd.DataFrame
    amounts: pd.DataFrame
    timings: dict[str, float] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    chain: ChainData | None = None  # a chain's site masks and existing facilities (None for one facility type)

    @property
    def notes(self) -> list[str]:
        """What the planner should know about the data: warnings first, then rows left out of layers."""
        return self.warnings + [n for layer in self.layers.values() for n in layer.notes] + (self.chain.notes if self.chain else [])


@dataclass
class RunResult:
    prepared: Prepared
    scores: Scores  # the scenario's weights (a chain's types may weigh the criteria their own way: type_scores)
    siting: SitingProblem
    solution: Solution
    evaluation: Evaluation | ChainEvaluation
    timings: dict[str, float]
    type_scores: dict[str, pd.Series] = field(default_factory=dict)  # a chain's site score of each unit, per facility type

    @property
    def problem(self) -> SelectionProblem:
        """The selection of a one-type scenario (a chain's first facility type)."""
        return self.siting.first

    @property
    def cfg(self) -> Config:
        return self.prepared.cfg

    @property
    def hubs(self) -> list[str]:
        """The id of each cluster's hub, cluster 1 first."""
        return self.prepared.units["id"].to_numpy()[self.solution.hub_index].tolist()

    @property
    def units(self) -> gpd.GeoDataFrame:
        """Every unit, keyed by id: name, state, centroid, area, raw_/norm_/contrib_ per criterion, score, rank,
        amount_ per requirement, selected, role (hub / member / ""), cluster (1-based or missing), geometry."""
        from .outputs.tables import scores_table

        u = self.prepared.units.set_index("id")
        t = scores_table(self).set_index("id").reindex(u.index)
        t.insert(2, "lat", u["lat"])
        t.insert(3, "lon", u["lon"])
        t.insert(4, "area_km2", u["area_km2"])
        return gpd.GeoDataFrame(t, geometry=u.geometry, crs=u.crs)

    @property
    def clusters(self) -> gpd.GeoDataFrame:
        """One row per cluster, keyed by its number: hub, members, score, requirement totals; geometry = its member units.
        For a chain: its co-location clusters (centre, facilities within the radius), geometry = the centre."""
        from .outputs.tables import clusters_table

        if self.solution.facilities is not None:
            from .outputs.chain_tables import chain_clusters_table

            t = chain_clusters_table(self)
            if t.empty:
                return gpd.GeoDataFrame(t, geometry=gpd.GeoSeries([], crs="EPSG:4326"))
            return gpd.GeoDataFrame(t.set_index("cluster"), geometry=gpd.points_from_xy(t["lon"], t["lat"]), crs="EPSG:4326")
        t = clusters_table(self).set_index("cluster")
        u = self.prepared.units
        shapes = [u.geometry[self.solution.member_of == k].union_all() for k in range(len(t))]
        return gpd.GeoDataFrame(t, geometry=shapes, crs=u.crs)

    @property
    def facilities(self) -> gpd.GeoDataFrame:
        """A chain's facilities, new and existing, keyed by number as in facilities.csv: type, status, site (unit id),
        name, state, site score, cluster, requirement totals, suppliers; point geometry. Empty for a one-type scenario."""
        from .outputs.chain_tables import facilities_table

        if self.solution.facilities is None:
            return gpd.GeoDataFrame(geometry=gpd.GeoSeries([], crs="EPSG:4326"))
        t = facilities_table(self).set_index("facility")
        return gpd.GeoDataFrame(t, geometry=gpd.points_from_xy(t["lon"], t["lat"]), crs="EPSG:4326")

    @property
    def links(self) -> pd.DataFrame:
        """A chain's supply links as used: from and to facility (numbers as in ``facilities``), km, limit, cost, capacity."""
        from .outputs.chain_tables import links_table

        return links_table(self) if self.solution.facilities is not None else pd.DataFrame()

    def explain(self, workers: int = 0, scheduler: str | None = None, progress=None) -> "RunResult":
        """Compute why these sites (``importance``) and the stability of the selection (``selection_stability``):
        here within the run's time budget, or with their re-solves spread over Dask ``workers`` (a LocalCluster of
        that many processes) or a running ``scheduler``. ``progress(done, total)`` is told as answers come back."""
        parts = {"why": len(self.solution.sites(next(iter(self.siting.types)))), "stability": 2 * len(self.scores.normalized.columns)}
        done = [0]

        def tick(n: int, why_total: int | None = None) -> None:  # why / why not says how many answers it will give
            if why_total is not None:
                parts["why"] = why_total
            done[0] += n
            if progress:
                progress(done[0], sum(parts.values()))

        self.__dict__["importance"] = self._importance(workers=workers, scheduler=scheduler, progress=tick)
        self.__dict__["selection_stability"] = self._stability(workers=workers, scheduler=scheduler, progress=tick)
        return self

    @cached_property
    def importance(self) -> pd.DataFrame:
        """Why these sites (importance.csv): each chosen site's replacement cost and the force-in cost of the best
        units not chosen, from exact re-solves, each with its reason in words (a run spends at most 20 s on it)."""
        return self._importance()

    @cached_property
    def selection_stability(self) -> pd.DataFrame:
        """Per criterion, the weight range (others rescaled in proportion) in which the chosen sites stay optimal, from
        exact re-solves (a run spends at most 20 s on it)."""
        return self._stability()

    def _importance(self, workers: int = 0, scheduler: str | None = None, progress=None) -> pd.DataFrame:
        from .analysis.importance import RUN_BUDGET_S, importance

        ex = self.cfg.explain
        here = not (workers or scheduler) and self.solution.solve_seconds <= RUN_BUDGET_S / 2
        with _timed(self.timings, "why", None):
            return importance(self, top=None if ex is None else ex.top, units=None if ex is None else ex.units, budget_s=RUN_BUDGET_S,
                          key="explain.units", engine=self._engine if here else None, workers=workers, scheduler=scheduler, progress=progress)

    def _stability(self, workers: int = 0, scheduler: str | None = None, progress=None) -> pd.DataFrame:
        from .analysis.selection_stability import STABILITY_BUDGET_S, selection_stability

        here = not (workers or scheduler) and self.resolve_seconds <= STABILITY_BUDGET_S / 8
        with _timed(self.timings, "stability", None):
            return selection_stability(self, budget_s=STABILITY_BUDGET_S, engine=self._engine if here else None, workers=workers,
                                   scheduler=scheduler, progress=progress)

    @property
    def resolve_seconds(self) -> float:
        """About how long one re-solve takes: the solve stage (a chain's rounds included), or the solver's own time."""
        return max(float(self.solution.solve_seconds), float(self.timings.get("solve", 0.0)))

    @cached_property
    def _engine(self):
        """One warm model for the run's own re-solves here (why / why not, stability); each names the scores it solves with."""
        from .model.engine import Engine

        return Engine(self.siting, self.cfg.solver, unit_names=self.prepared.units["name"].to_numpy())

    @cached_property
    def alternatives(self) -> list:
        """The optimum and the near-optimal alternatives asked for by selection.alternatives (empty if none asked)."""
        spec = self.cfg.selection.alternatives if self.cfg.selection is not None else self.cfg.alternatives
        if spec is None:
            return []
        from .analysis.alternatives import near_optimal

        with _timed(self.timings, "alternatives", None):
            return near_optimal(self, spec.count, spec.within)

    def why(self, unit_ids: list[str]) -> pd.DataFrame:
        """The same for any units: replacement cost if chosen, force-in cost and the binding reason if not (no time limit)."""
        from .analysis.importance import importance

        return importance(self, units=[str(u) for u in unit_ids])

    def reweight(self, weights: dict[str, float]) -> "RunResult":
        """The same scenario solved again with other weights (one per criterion; rescaled to sum to 1)."""
        return select(self.prepared, weights)

    def write(self, out: str | Path, overwrite: bool = False, map_mode: str = "offline") -> Path:
        """Write the run directory (tables, GeoJSON, map.html, report.html, manifest.json); see the README."""
        from .outputs import write_run

        return write_run(self, Path(out), overwrite, str(self.cfg.source) if self.cfg.source else None, map_mode)

    @property
    def notes(self) -> list[str]:
        """What the planner should know about this run: rescaled weights, rows left out of layers."""
        given = self.cfg.given_weights()
        out = []
        if not np.isclose(sum(given.values()), 1.0):
            used = ", ".join(f"{k} {w:.3g}" for k, w in self.scores.weights.items())
            out.append(f"weights sum to {sum(given.values()):g}, rescaled to sum to 1: {used}")
        sel = self.cfg.selection
        if sel is not None and sel.member_weight > 0:
            how = "by area" if sel.member_scaling == "area" else "once each"
            out.append(f"selection.member_weight {sel.member_weight:g}: members' scores count {how}, so a cluster whose circle is cut by "
                       "water, a border or the study area's edge is worth less, and " + ("a hub's own area is not weighted"
                       if sel.member_scaling == "area" else "a region cut into more units is worth more") + "; 0 values a cluster by its hub's score")
        return out + self.prepared.notes


# Called with each stage's name as it starts. A step may carry ``solver``, a callable that hears the
# solver's progress (a SolverProgress: best, bound, gap, time left) while it works.
Step = Callable[[str], None]


@contextmanager
def _timed(timings: dict[str, float], stage: str, step: Step | None) -> Iterator[None]:
    if step:
        step(stage)
    t = time.perf_counter()
    yield
    timings[stage] = round(time.perf_counter() - t, 4)


def _key(obj) -> str:
    return json.dumps(obj, sort_keys=True, default=str)


def prepare(cfg: Config, source: str = "config", step: Step | None = None, cache: dict | None = None) -> Prepared:
    """Units, layers, features and amounts: everything a re-weighting can reuse.

    ``cache``: a dict shared between calls (for several scenarios of one study), so that
    units, layers and raw measures the scenarios have in common are computed once.
    """
    cache = {} if cache is None else cache
    cfg = cfg.checked()  # edits made in Python since loading are validated like the file
    r = cfg.resolved()
    timings: dict[str, float] = {}
    with _timed(timings, "units", step):
        ukey = _key(["units", r["study_area"], r["units"]])
        if ukey not in cache:
            cache[ukey] = build_units(cfg)
        units = cache[ukey]
    with _timed(timings, "layers", step):
        layers = {}
        for name, spec in cfg.layers.items():
            lkey = _key(["layer", spec.model_dump(mode="json")])
            if lkey not in cache:
                cache[lkey] = load_layer(name, spec, source)
            layers[name] = cache[lkey]
    with _timed(timings, "features", step):
        cols = {}
        for name, crit in cfg.criteria.items():
            # The raw measure does not depend on weight, label or direction.
            fkey = _key(["measure", ukey, cfg.layers[crit.layer].model_dump(mode="json"),
                         crit.model_dump(mode="json", exclude={"weight", "label", "direction"})])
            if fkey not in cache:
                cache[fkey] = measure(units, layers[crit.layer], crit)
            cols[name] = cache[fkey]
        features = pd.DataFrame(cols, index=pd.Index(units["id"].to_numpy(), name="id"))
        warnings = list(units.attrs.get("notes", [])) + measure_warnings(cfg, layers, features) + layer_warnings(units, layers)
        amounts = compute_amounts(units, layers, cfg)
        chain = chain_data(cfg, units, layers) if cfg.is_chain else None
    if cfg.explain is not None:  # named units must exist before anything is solved
        from .errors import ConfigError, did_you_mean

        ids = units["id"].to_numpy()
        unknown = sorted(set(cfg.explain.units) - set(ids.tolist()))
        if unknown:
            raise ConfigError(f'explain.units: unknown unit id "{unknown[0]}"{did_you_mean(unknown[0], ids[:5000])}; '
                              "expected ids of units in the study area (5-digit FIPS for counties)")
    return Prepared(cfg, units, layers, features, amounts, timings, warnings, chain)


def selection_problem(prep: Prepared, scores: Scores) -> SelectionProblem:
    sel = prep.cfg.selection
    u = prep.units
    names = list(sel.requirements)
    return SelectionProblem(
        ids=u["id"].to_numpy(), lat=u["lat"].to_numpy(), lon=u["lon"].to_numpy(),
        score=scores.score.to_numpy(), clusters=sel.clusters, radius_km=sel.cluster_radius_km,
        spacing_km=sel.min_spacing_km, states=u["state"].astype(str).to_numpy(), max_per_state=sel.max_per_state,
        amounts=prep.amounts[names].to_numpy() if names else None, requirement_names=names,
        requirements=np.array([sel.requirements[k] for k in names]) if names else None,
        include=list(sel.include), exclude=list(sel.exclude), member_weight=sel.member_weight,
        member_scale=member_scale(u, sel.member_scaling),
    )


def member_scale(units: gpd.GeoDataFrame, how: str) -> np.ndarray:
    """How much each unit counts as a cluster member: its area relative to the median unit, or 1."""
    if how == "count":
        return np.ones(len(units))
    area = units["area_km2"].to_numpy(dtype=float)
    return area / np.median(area)


def score_types(prep: Prepared, weights: dict[str, float] | None = None) -> tuple[Scores, dict[str, pd.Series]]:
    """The scenario's scores with these (or the config's) weights, and for a chain each facility type's site score."""
    cfg = prep.cfg
    scores = score_units(prep.features, cfg, weights)
    type_scores: dict[str, pd.Series] = {}
    if cfg.is_chain:
        norm = scores.normalized
        for t in cfg.facilities:
            w = type_weights(cfg, t, scores.weights)
            type_scores[t] = pd.Series(norm.to_numpy() @ np.array([w[k] for k in norm.columns]), index=norm.index, name=f"score_{t}")
    return scores, type_scores


def select(prep: Prepared, weights: dict[str, float] | None = None, step: Step | None = None) -> RunResult:
    """Score with the given (or the config's) weights, solve, and re-check the solution."""
    timings = dict(prep.timings)
    cfg, u = prep.cfg, prep.units
    with _timed(timings, "scores", step):
        scores, type_scores = score_types(prep, weights)
        if cfg.is_chain:
            siting = siting_problem(cfg, u, prep.amounts, prep.chain, {t: s.to_numpy() for t, s in type_scores.items()})
        else:
            siting = SitingProblem({"cluster": selection_problem(prep, scores)})
    with _timed(timings, "solve", step):
        solution = solve_siting(siting, cfg.solver, unit_names=u["name"].to_numpy(), on_progress=getattr(step, "solver", None))
    with _timed(timings, "check", step):
        if cfg.is_chain:
            evaluation = check_chain(siting, solution)
        else:
            evaluation = check(siting.first, solution.hub_index, solution.member_of, solution.objective)
    return RunResult(prep, scores, siting, solution, evaluation, timings, type_scores)


def run(cfg: Config | str | Path, source: str | None = None, step: Step | None = None, weights: dict[str, float] | None = None) -> RunResult:
    """The whole pipeline for a config (or the path of its YAML file): prepare, score, solve and re-check."""
    if not isinstance(cfg, Config):
        cfg = load_config(cfg)
    return select(prepare(cfg, source or str(cfg.source or "config"), step), weights, step)
