"""One scenario held open for exploring: its units, layers and measures prepared once, and a warm model per set of rules.

A change of weights is a change of the objective and a warm re-solve of the same HiGHS
instance. A change of rules (clusters, radius, spacing, requirements, per-state limit,
include / exclude) builds the model for those rules once and keeps it (the last few). Every
change is validated as a config would be: the overrides are written into the scenario's own
YAML mapping and parsed by ``parse_config``, so a bad value gets the message
``cluster-opt run`` would print for that YAML. Every answer is re-checked by the
independent evaluator before it is returned.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import threading
import time
from collections import OrderedDict
from pathlib import Path
from typing import Any

from ..config import Config, parse_config
from ..config.scenario import read_config_data
from ..errors import ConfigError, InfeasibleError, SolverError

SELECTION_KEYS = ("clusters", "cluster_radius_km", "min_spacing_km", "requirements", "max_per_state", "include", "exclude")
REQUEST_KEYS = ("weights", "selection", "client")
MODELS_KEPT = 8  # warm models kept, one per set of rules


class Superseded(Exception):
    """A newer request from the same page came in: this one is not answered."""


@dataclasses.dataclass
class Model:
    prepared: Any  # pipeline.Prepared with this rule set's config (and its requirement amounts)
    engine: Any  # model.engine.Engine


class Explorer:
    """The scenario of one config file, answering ``solve(request)`` for changed weights and rules (thread-safe)."""

    def __init__(self, path: str | Path, step=None):
        from ..pipeline import prepare

        self.path = Path(path)
        self.source = str(path)
        self.raw, self.folder = read_config_data(self.path)  # read once: requests are written into this mapping
        self.cfg: Config = parse_config(copy.deepcopy(self.raw), self.source, self.folder)
        self.prepared = prepare(self.cfg, self.source, step)
        self._models: OrderedDict[str, Model] = OrderedDict()
        self._lock = threading.Lock()  # one solve at a time: a HiGHS instance is not shared between threads
        self._latest: dict[str, int] = {}  # per page (client id): its newest request
        self._seq = 0
        self._seq_lock = threading.Lock()
        self._running: tuple[str, threading.Event] | None = None  # the page whose solve is under way, and what stops it
        self._outlines: dict = {}  # cluster outlines drawn so far, by member units
        self.current: dict | None = None  # the newest answer and the request that gave it
        self.first = self.solve({})

    # -- requests --------------------------------------------------------------------------------
    def config_for(self, request: Any) -> tuple[dict, Config]:
        """The scenario's YAML mapping with the request's weights and rules written in, and its parsed config."""
        if not isinstance(request, dict):
            raise ConfigError(f"{self.source}: request: expected a JSON object with {', '.join(REQUEST_KEYS)}, found {type(request).__name__}")
        unknown = [k for k in request if k not in REQUEST_KEYS]
        if unknown:
            raise ConfigError(f'{self.source}: request: unknown key "{unknown[0]}"; expected {", ".join(REQUEST_KEYS)}')
        raw = copy.deepcopy(self.raw)
        weights = request.get("weights") or {}
        if not isinstance(weights, dict):
            raise ConfigError(f"{self.source}: weights: expected a mapping of criterion -> weight, found {type(weights).__name__}")
        for key, w in weights.items():
            if key not in raw.get("criteria", {}):
                raise ConfigError(f'{self.source}: weights: unknown criterion "{key}"; expected one of {", ".join(map(str, raw.get("criteria", {})))}')
            raw["criteria"][key]["weight"] = w
        rules = request.get("selection") or {}
        if not isinstance(rules, dict):
            raise ConfigError(f"{self.source}: selection: expected a mapping of rule -> value, found {type(rules).__name__}")
        if rules and self.cfg.is_chain:
            raise ConfigError(f"{self.source}: selection: a supply-chain scenario is explored by its weights; change its rules in the YAML")
        for key, value in rules.items():
            if key not in SELECTION_KEYS:
                raise ConfigError(f'{self.source}: selection.{key}: not a rule the explorer changes; expected one of {", ".join(SELECTION_KEYS)}')
            raw["selection"][key] = value
        return raw, parse_config(raw, self.source, self.folder)

    def solve(self, request: Any) -> dict:
        """The answer to one request: {"hubs", "clusters", "objective", "status", "gap", "checked", "seconds", ...};
        ConfigError for a bad value, Superseded when a newer request of the same page came in first."""
        raw, cfg = self.config_for(request)
        client = str(request.get("client") or "") if isinstance(request, dict) else ""
        with self._seq_lock:
            self._seq += 1
            seq = self._seq
            if client:
                self._latest[client] = seq
                if self._running is not None and self._running[0] == client:
                    self._running[1].set()  # the same page's solve under way stops: its answer would not be shown
        with self._lock:
            if client and self._latest.get(client) != seq:
                raise Superseded()
            stop = threading.Event()
            self._running = (client, stop) if client else None
            t0 = time.perf_counter()
            try:
                res = self._result(cfg, stop)
            except InfeasibleError as e:
                return {"status": "infeasible", "message": str(e), "hubs": [], "clusters": [], "objective": None, "gap": None,
                        "checked": False, "seconds": round(time.perf_counter() - t0, 4)}
            except SolverError:
                if stop.is_set():
                    raise Superseded() from None
                raise
            finally:
                self._running = None
            if stop.is_set():
                raise Superseded()
            seconds = time.perf_counter() - t0
            answer = describe(res, seconds, None if self.current is None else self.current["result"], self._outlines)
            self.current = {"raw": raw, "cfg": cfg, "result": res, "answer": answer}
            return answer

    # -- solving ---------------------------------------------------------------------------------
    def _model(self, cfg: Config) -> Model:
        """The warm model of these rules (built once and kept among the last MODELS_KEPT)."""
        from ..features import compute_amounts
        from ..model.chain import SitingProblem
        from ..model.engine import Engine
        from ..pipeline import score_types, selection_problem
        from ..siting import siting_problem

        key = json.dumps(cfg.selection.model_dump(mode="json", exclude={"alternatives"}) if cfg.selection else {}, sort_keys=True)
        if key in self._models:
            self._models.move_to_end(key)
            return self._models[key]
        base = self.prepared
        amounts = base.amounts
        if cfg.selection is not None and set(cfg.selection.requirements) - set(amounts.columns):
            amounts = compute_amounts(base.units, base.layers, cfg)
        prep = dataclasses.replace(base, cfg=cfg, amounts=amounts)
        scores, type_scores = score_types(prep)
        if cfg.is_chain:
            siting = siting_problem(cfg, prep.units, prep.amounts, prep.chain, {t: s.to_numpy() for t, s in type_scores.items()})
        else:
            siting = SitingProblem({"cluster": selection_problem(prep, scores)})
        model = Model(prep, Engine(siting, cfg.solver, unit_names=prep.units["name"].to_numpy()))
        self._models[key] = model
        while len(self._models) > MODELS_KEPT:
            self._models.popitem(last=False)
        return model

    def _result(self, cfg: Config, stop: threading.Event | None = None):
        """The re-solved, re-checked answer as a RunResult (what the map and the tables are drawn from); setting
        ``stop`` stops the solve under way (one facility type)."""
        from ..model.chain_check import check_chain
        from ..model.evaluate import check
        from ..pipeline import RunResult, score_types

        model = self._model(cfg)
        prep = dataclasses.replace(model.prepared, cfg=cfg)
        scores, type_scores = score_types(prep)
        site_scores = {t: s.to_numpy() for t, s in type_scores.items()} if cfg.is_chain else {"cluster": scores.score.to_numpy()}
        siting = model.engine.problem(site_scores)
        highs = getattr(model.engine, "highs", None)  # one facility type: its solve under way can be stopped
        if highs is not None:
            highs.watch(stop)
        try:
            sol = model.engine.solve(site_scores)
        except SolverError as e:
            raise SolverError(f"{self.source}: {e}") from None
        except InfeasibleError:  # say which rule cannot be met, as cluster-opt run would
            from ..model.solve import solve_siting

            solve_siting(siting, cfg.solver, unit_names=prep.units["name"].to_numpy())
            raise
        evaluation = check_chain(siting, sol) if cfg.is_chain else check(siting.first, sol.hub_index, sol.member_of, sol.objective)
        return RunResult(prep, scores, siting, sol, evaluation, {"solve": sol.solve_seconds}, type_scores)

    # -- what the page downloads -----------------------------------------------------------------
    def yaml_text(self) -> str:
        """The current scenario as a YAML config that ``cluster-opt run`` reproduces (saved beside the original)."""
        import yaml

        raw = self.current["raw"] if self.current else self.raw
        stem = file_name(self.path.stem)  # a file name with a line break must not add YAML lines
        head = (f"# Explored from {file_name(self.path.name)}; save this file beside it (relative paths are read from the "
                f"config's folder)\n# and run: cluster-opt run {stem}-explored.yaml\n")
        return head + yaml.safe_dump(raw, sort_keys=False, allow_unicode=True)

    def run_zip(self) -> bytes:
        """The current scenario's run directory (as ``cluster-opt run`` writes it), zipped."""
        import io
        import tempfile
        import zipfile

        from ..outputs import write_run
        from ..pipeline import select

        cfg = self.current["cfg"] if self.current else self.cfg
        model = self._model(cfg)
        res = select(dataclasses.replace(model.prepared, cfg=cfg))
        buf = io.BytesIO()
        with tempfile.TemporaryDirectory() as d:
            out = write_run(res, Path(d) / "run", False, self.source, "offline")
            with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
                for f in sorted(out.iterdir()):
                    z.write(f, f"{cfg.name}/{f.name}")
        return buf.getvalue()


def file_name(text: str) -> str:
    """A download's file name: letters, digits, dots, dashes and underscores only."""
    safe = "".join(ch if ch.isascii() and (ch.isalnum() or ch in "._-") else "_" for ch in text).strip("._")
    return safe[:80] or "scenario"


def describe(res, seconds: float, before=None, outlines: dict | None = None) -> dict:
    """The JSON answer: hubs (or a chain's facilities and links), objective, status, gap, the independent check,
    seconds, the objective by criterion, the sites in and out since ``before``, and the map's solution part."""
    from ..maps.chainmap import chain_solution
    from ..maps.payload import score_fill, solution_payload
    from ..outputs.report import breakdown

    sol, ev = res.solution, res.evaluation
    chain = sol.facilities is not None
    sites = _site_names(res)
    old = _site_names(before) if before is not None else sites
    answer = {
        "status": "optimal" if sol.proven_optimal else sol.status, "objective": float(sol.objective),
        "gap": None if sol.gap is None else float(sol.gap), "checked": bool(ev.ok), "seconds": round(seconds, 4),
        "weights": {k: float(w) for k, w in res.scores.weights.items()},
        "hubs": [] if chain else [str(h) for h in res.hubs],
        "changed": {"in": [s for s in sites if s not in old], "out": [s for s in old if s not in sites]},
        "scores": score_fill(res.scores),  # the map's fill: each unit's score, rank and class with these weights
    }
    if chain:
        from ..outputs.chain_tables import facilities_table, links_table

        answer["facilities"] = _records(facilities_table(res))
        answer["links"] = _records(links_table(res))
        answer["clusters"] = []
        answer["breakdown"] = {}
        answer["solution"] = chain_solution(res)
    else:
        from ..outputs.tables import clusters_table

        answer["clusters"] = _records(clusters_table(res))
        answer["breakdown"] = {k: float(v) for k, v in breakdown(res).sum(axis=0).items()}
        if outlines is not None and len(outlines) > 5000:
            outlines.clear()
        answer["solution"] = solution_payload(res, outlines=outlines)
    return answer


def _site_names(res) -> list[str]:
    """What a solution picked, as "type: name, state" (a chain) or "name, state"."""
    u = res.prepared.units
    out = []
    for t, j in res.solution.sites(next(iter(res.siting.types))):
        name = f"{u['name'].iat[j]}, {u['state'].iat[j]}"
        out.append(f"{t}: {name}" if res.solution.facilities is not None else name)
    return out


def _records(df) -> list[dict]:
    """A table as JSON records (NaN and NA as null)."""
    return json.loads(df.to_json(orient="records", force_ascii=False))

