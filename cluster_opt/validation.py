"""Check a config and every data file it names, and list every problem at once (``cluster-opt validate``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from .config import CONUS, Config, Layer, StudyArea, Units, absolute, parse_config
from .errors import ConfigError, InputError


@dataclass
class Validation:
    """What ``validate`` found: every problem (one line each), and counts when the config is sound."""

    path: Path
    problems: list[str] = field(default_factory=list)
    config: Config | None = None
    units: int | None = None
    features: dict[str, int] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.problems

    def summary(self) -> str:
        cfg = self.config
        where = "the lower 48" if cfg is None or cfg.study_area == "conus" else ", ".join(cfg.states)
        return (f"{self.path}: valid. {self.units or 0:,} units in {where}; "
                + "; ".join(f"{k}: {n:,} features" for k, n in self.features.items()))


def validate(path: str | Path) -> Validation:
    """Every problem of a config and its data: config keys, references, layer files, where values, units."""
    from .files import MAX_CONFIG_BYTES, read_bytes
    from .layers import load_layer
    from .yamlsafe import load_yaml

    path = Path(path)
    out = Validation(path)
    raw: Any = None
    cfg: Config | None = None
    base = Path(absolute(path, Path.cwd())).parent
    try:
        text = read_bytes(path, "config", MAX_CONFIG_BYTES, ConfigError).decode("utf-8", errors="strict")
        raw = load_yaml(text, str(path))
        out.config = cfg = parse_config(raw, str(path), base)
        cfg._source = Path(absolute(path, Path.cwd()))
    except UnicodeDecodeError:
        out.problems.append(f"{path}: cannot read the file (it is not UTF-8 text); expected UTF-8 YAML text")
        return out
    except ConfigError as e:
        out.problems.extend(e.problems)
        if not isinstance(raw, dict):
            return out
    loaded = {}
    for key, spec in _parts(raw, "layers", Layer, base).items():
        try:
            loaded[key] = load_layer(key, spec, str(path))
            out.features[key] = len(loaded[key].points)
        except InputError as e:
            out.problems.extend(p for p in e.problems if p not in out.problems)
    units_spec, states = (cfg.units, cfg.states) if cfg is not None else _units_part(raw, base)
    if units_spec is not None:
        out.problems.extend(_units_problems(out, cfg, units_spec, states, loaded))
    return out


def _parts(raw: dict, key: str, model, base: Path) -> dict[str, Any]:
    """The entries of ``raw[key]`` that validate on their own (their own problems are already listed)."""
    found = {}
    items = raw.get(key)
    for name, spec in (items.items() if isinstance(items, dict) else []):
        try:
            part = model.model_validate(spec)
        except (ValidationError, ConfigError):
            continue
        if isinstance(part, Layer) and not part.source.startswith("builtin:"):
            part.source = absolute(part.source, base)
        found[str(name)] = part
    return found


def _units_part(raw: dict, base: Path):
    from pydantic import TypeAdapter

    try:
        spec = TypeAdapter(Units).validate_python(raw.get("units", {"kind": "county"}))
        area = raw.get("study_area", "conus")
        states = CONUS if area == "conus" else StudyArea.model_validate(area).states
    except (ValidationError, ConfigError, TypeError, AttributeError):
        return None, None
    if getattr(spec, "kind", "") == "file":
        spec.path = Path(absolute(spec.path, base))
    return spec, states


def _units_problems(out: Validation, cfg: Config | None, spec, states: list[str], layers: dict) -> list[str]:
    """Problems of the units and of the rules that name units: unknown ids, counts, radii that pair too many units,
    a chain's existing facilities that a where leaves out."""
    from .model.problem import SelectionProblem
    from .siting import existing_facilities
    from .units import units_of

    try:
        units = units_of(spec, states)
    except InputError as e:
        return e.problems
    out.units = len(units)
    if cfg is None:
        return []
    where = dict(ids=units["id"].to_numpy(), lat=units["lat"].to_numpy(), lon=units["lon"].to_numpy(), score=units["lat"].to_numpy() * 0)
    problems: list[str] = []
    if cfg.selection is not None:
        sel = cfg.selection
        rules = [dict(clusters=sel.clusters, radius_km=sel.cluster_radius_km, spacing_km=sel.min_spacing_km, include=sel.include, exclude=sel.exclude)]
    else:
        rules = [dict(clusters=f.count_range[0], clusters_max=f.count_range[1], radius_km=f.radius_km, spacing_km=f.site.min_spacing_km,
                      include=f.site.include, exclude=f.site.exclude, complete_members=False, key=f"facilities.{t}.site",
                      amounts=[[0.0] * len(f.requires)] * len(units), requirements=[1.0] * len(f.requires)) for t, f in cfg.facilities.items()]
        for t, f in cfg.facilities.items():
            if f.existing is not None and f.existing.layer in layers:
                try:
                    existing_facilities(t, f.existing, layers[f.existing.layer], units)
                except InputError as e:
                    problems += e.problems
    for rule in rules:
        try:
            SelectionProblem(**where, **rule)
        except InputError as e:
            problems += e.problems
    return problems

