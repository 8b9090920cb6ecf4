"""Sweeps over a rule: the same scenario solved for each value of clusters, radius, spacing, a per-state limit
or a requirement (for a chain: a type's count, radius, requirement or site rule, a link's limit, capacity or
cost, the clusters' count or radius), since those move the answer more than the weights do.

`cluster-opt sweep CONFIG --vary KEY=START:STOP:STEP` runs one scenario per value (units, layers and measures
computed once and shared), records what each value gives (or which rule it breaks), and writes them side by
side in the format of `compare`.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from ..config import Config
from ..errors import InfeasibleError, InputError

RULES = {"clusters": int, "cluster_radius_km": float, "min_spacing_km": float, "max_per_state": int}
MAX_VALUES = 50


CHAIN_RULES = {"new": int, "radius_km": float, "site.min_spacing_km": float, "site.max_per_state": int}
LINK_RULES = {"max_km": float, "capacity": int, "cost_per_km": float}


def rule_path(cfg: Config, key: str) -> tuple[list, type] | None:
    """Where a rule lives in the config (a path of keys and list positions) and its number type; None if unknown.

    One type: clusters, cluster_radius_km, min_spacing_km, max_per_state, requirements.NAME (under selection).
    A chain: facilities.TYPE.new / radius_km / requires.NAME / site.min_spacing_km / site.max_per_state,
    links.N.max_km / capacity / cost_per_km (N counts from 0), clusters.count / clusters.radius_km."""
    if cfg.selection is not None:
        if key in RULES:
            return ["selection", key], RULES[key]
        name = key.removeprefix("requirements.")
        return (["selection", "requirements", name], float) if key.startswith("requirements.") and name in cfg.selection.requirements else None
    parts = key.split(".")
    if parts[0] == "facilities" and len(parts) >= 3 and parts[1] in cfg.facilities:
        rest = ".".join(parts[2:])
        if rest in CHAIN_RULES:
            return parts, CHAIN_RULES[rest]
        if parts[2] == "requires" and len(parts) == 4 and parts[3] in cfg.facilities[parts[1]].requires:
            return parts, float
    if parts[0] == "links" and len(parts) == 3 and parts[1].isdigit() and int(parts[1]) < len(cfg.links) and parts[2] in LINK_RULES:
        return ["links", int(parts[1]), parts[2]], LINK_RULES[parts[2]]
    if parts[0] == "clusters" and cfg.clusters is not None and len(parts) == 2 and parts[1] in ("count", "radius_km"):
        return parts, int if parts[1] == "count" else float
    return None


def parse_vary(text: str, cfg: Config) -> tuple[str, list[float]]:
    """KEY=START:STOP:STEP as (key, values); STOP is included when the steps reach it."""
    keys = ([*RULES, "requirements.NAME"] if cfg.selection is not None else
            ["facilities.TYPE.new", "facilities.TYPE.radius_km", "facilities.TYPE.requires.NAME", "facilities.TYPE.site.min_spacing_km",
             "facilities.TYPE.site.max_per_state", "links.N.max_km", "links.N.capacity", "links.N.cost_per_km", "clusters.count", "clusters.radius_km"])
    usage = "expected KEY=START:STOP:STEP with KEY one of " + ", ".join(keys) + (", e.g. clusters=2:6:1" if cfg.selection is not None else ", e.g. facilities.cell.new=1:4:1")
    if "=" not in text or text.count(":") != 2:
        raise InputError(f'--vary "{text}": {usage}')
    key, _, span = text.partition("=")
    key = key.strip()
    found = rule_path(cfg, key)
    if found is None:
        extra = (" (requirements here: " + (", ".join(f"requirements.{k}" for k in cfg.selection.requirements) or "none in this config") + ")"
                 if cfg.selection is not None else "")
        raise InputError(f'--vary "{text}": unknown rule "{key}"; {usage}{extra}')
    kind = found[1]
    try:
        start, stop, step = (float(x) for x in span.split(":"))
    except ValueError:
        raise InputError(f'--vary "{text}": {usage}') from None
    if not all(math.isfinite(x) for x in (start, stop, step)) or step <= 0 or stop < start:
        raise InputError(f'--vary "{text}": expected START ≤ STOP and a STEP above 0, all finite numbers')
    count = int(math.floor((stop - start) / step + 1e-9)) + 1
    if count > MAX_VALUES:
        raise InputError(f'--vary "{text}": {count} values, more than {MAX_VALUES}; choose a larger step')
    values = [start + k * step for k in range(count)]
    if kind is int:
        if any(abs(v - round(v)) > 1e-9 for v in values):
            raise InputError(f'--vary "{text}": {key} takes whole numbers; choose a whole START and STEP')
        values = [int(round(v)) for v in values]
    return key, values


def varied(cfg: Config, key: str, value) -> Config:
    """The config with one rule set to value (validated like any config), named for it."""
    from ..config import parse_config

    path, _ = rule_path(cfg, key)
    data = cfg.model_dump(mode="python")
    node = data
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = value
    text = f"{value:.10f}".rstrip("0").rstrip(".") if isinstance(value, float) else str(value)
    short = key.replace("requirements.", "").replace("facilities.", "").replace(".", "-")
    data["name"] = f"{cfg.name}-{short}-{text}"[:80]
    try:
        new = parse_config(data, str(cfg.source or "config"))
    except InputError as e:
        raise InputError(f"--vary {key} = {value}: {e}") from None
    new._source = cfg.source
    return new


def rule_sweep(cfg: Config, key: str, values: list, step=None) -> tuple[pd.DataFrame, list[str], list]:
    """(one row per value: status, objective, gap, hubs, check; the names and results of the values that have an answer)."""
    from ..pipeline import prepare, select

    cache: dict = {}
    rows, names, results = [], [], []
    for v in values:
        c = varied(cfg, key, v)
        if step:
            step(f"{key} = {v}")
        try:
            res = select(prepare(c, str(cfg.source or cfg.name), cache=cache))
        except InfeasibleError as e:
            rows.append({"key": key, "value": v, "status": "infeasible", "objective": np.nan, "gap": np.nan, "hubs": "", "hub_names": "",
                         "checked": False, "reason": str(e)})
            continue
        sol, ids, names_ = res.solution, res.prepared.units["id"].to_numpy(), res.prepared.units["name"].to_numpy()
        types = [f"{t}:" for t in sol.facilities.type[sol.facilities.new]] if sol.facilities is not None else [""] * len(sol.hub_index)
        rows.append({"key": key, "value": v, "status": sol.status, "objective": sol.objective, "gap": sol.gap,
                     "hubs": ";".join(t + i for t, i in zip(types, ids[sol.hub_index])),
                     "hub_names": ";".join(t + n for t, n in zip(types, names_[sol.hub_index])),
                     "checked": bool(res.evaluation.ok), "reason": ""})
        names.append(c.name)
        results.append(res)
    return pd.DataFrame(rows), names, results
