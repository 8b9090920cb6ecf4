"""Sweeps over a rule: the same scenario solved for each value of clusters, radius, spacing, a per-state limit
or a requirement, since those move the answer more than the weights do.

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


def parse_vary(text: str, cfg: Config) -> tuple[str, list[float]]:
    """KEY=START:STOP:STEP as (key, values); STOP is included when the steps reach it."""
    usage = "expected KEY=START:STOP:STEP with KEY one of " + ", ".join([*RULES, "requirements.NAME"]) + ", e.g. clusters=2:6:1"
    if "=" not in text or text.count(":") != 2:
        raise InputError(f'--vary "{text}": {usage}')
    key, _, span = text.partition("=")
    key = key.strip()
    if cfg.selection is None:
        raise InputError(f'--vary "{text}": rules are varied for one facility type (selection:); a supply chain is not yet')
    if key not in RULES and not (key.startswith("requirements.") and key.removeprefix("requirements.") in cfg.selection.requirements):
        names = ", ".join(f"requirements.{k}" for k in cfg.selection.requirements) or "none in this config"
        raise InputError(f'--vary "{text}": unknown rule "{key}"; {usage} (requirements here: {names})')
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
    if RULES.get(key) is int:
        if any(abs(v - round(v)) > 1e-9 for v in values):
            raise InputError(f'--vary "{text}": {key} takes whole numbers; choose a whole START and STEP')
        values = [int(round(v)) for v in values]
    return key, values


def varied(cfg: Config, key: str, value) -> Config:
    """The config with one rule set to value (validated like any edit), named for it."""
    sel = cfg.selection.model_copy(deep=True)
    if key.startswith("requirements."):
        sel.requirements = {**sel.requirements, key.removeprefix("requirements."): value}
    else:
        setattr(sel, key, value)
    text = f"{value:.10f}".rstrip("0").rstrip(".") if isinstance(value, float) else str(value)
    new = cfg.model_copy(update={"selection": sel, "name": f"{cfg.name}-{key.replace('requirements.', '')}-{text}"[:80]})
    new._source = cfg.source
    try:
        return new.checked()
    except InputError as e:
        raise InputError(f"--vary {key} = {value}: {e}") from None


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
        sol, ids = res.solution, res.prepared.units["id"].to_numpy()
        rows.append({"key": key, "value": v, "status": sol.status, "objective": sol.objective, "gap": sol.gap,
                     "hubs": ";".join(ids[sol.hub_index]), "hub_names": ";".join(res.prepared.units["name"].to_numpy()[sol.hub_index]),
                     "checked": bool(res.evaluation.ok), "reason": ""})
        names.append(c.name)
        results.append(res)
    return pd.DataFrame(rows), names, results
