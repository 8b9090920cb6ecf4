"""The scenario (Config) and how a YAML file becomes one: parsed, cross-checked, paths resolved."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any, Literal, Union

from pydantic import Field, PrivateAttr, ValidationError, field_validator, model_validator

from ..errors import ConfigError, did_you_mean
from ..states import CONUS
from .chain import Colocation, FacilityType, Link
from .parts import Alternatives, CountyUnits, Criterion, Explain, FileUnits, Layer, Selection, Solver, StudyArea, Units, Weights
from .types import Key, _Model, _short

class Config(_Model):
    """A cluster-opt scenario."""

    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$", max_length=80, description="Scenario name; the default run directory is runs/<name>.")
    description: str = ""
    study_area: Union[Literal["conus"], StudyArea] = "conus"
    units: Units = Field(default_factory=CountyUnits)
    layers: dict[Key, Layer] = Field(min_length=1)
    criteria: dict[Key, Criterion] = Field(min_length=1)
    weights: Weights | None = None
    normalize: Literal["minmax", "percentile", "zscore"] = "minmax"
    selection: Selection | None = Field(None, description="One facility type (cluster hubs): how many, how far apart, what each needs. Give this or facilities.")
    facilities: dict[Key, FacilityType] | None = Field(None, description="A supply chain: facility types, new and existing. Give this or selection.")
    links: list[Link] = Field(default_factory=list, description="Supply links between facility types (chains only).")
    clusters: Colocation | None = Field(None, description="Co-location of a chain's facilities in clusters (chains only).")
    alternatives: Alternatives | None = Field(None, description="A supply chain's near-optimal alternatives (for one facility type: selection.alternatives).")
    explain: Explain | None = Field(None, description="Units the run's why-these-sites answers for (importance.csv, the report), beside the chosen ones.")
    solver: Solver = Field(default_factory=Solver)

    _ahp: Any = PrivateAttr(default=None)
    _source: Path | None = PrivateAttr(default=None)

    @model_validator(mode="before")
    @classmethod
    def _unit_ids(cls, data: Any) -> Any:
        """Whole-number ids in include / exclude are county FIPS (zero-padded) only when units are counties."""
        if not isinstance(data, dict):
            return data
        units = data.get("units")
        county = not isinstance(units, dict) or units.get("kind", "county") == "county"

        def pad(rules: Any) -> Any:
            if not isinstance(rules, dict):
                return rules
            rules = dict(rules)
            for key in ("include", "exclude", "units"):
                if isinstance(rules.get(key), list):
                    rules[key] = [(f"{x:05d}" if county else str(x)) if isinstance(x, int) and not isinstance(x, bool) and x >= 0 else x
                                  for x in rules[key]]
            return rules

        data = {**data, "selection": pad(data["selection"])} if isinstance(data.get("selection"), dict) else data
        data = {**data, "explain": pad(data["explain"])} if isinstance(data.get("explain"), dict) else data
        if isinstance(data.get("facilities"), dict):
            data = {**data, "facilities": {t: ({**spec, "site": pad(spec["site"])} if isinstance(spec, dict) and isinstance(spec.get("site"), dict) else spec)
                                           for t, spec in data["facilities"].items()}}
        return data

    @field_validator("study_area", mode="before")
    @classmethod
    def _area(cls, v: Any) -> Any:
        if isinstance(v, str) and v.strip().lower() == "conus":
            return "conus"
        if not isinstance(v, dict):
            raise ValueError(f'expected "conus" or a mapping like {{states: [MN, WI, MI]}}, found {_short(v)}')
        return v

    @property
    def states(self) -> list[str]:
        return CONUS if self.study_area == "conus" else self.study_area.states

    @model_validator(mode="after")
    def _cross(self) -> "Config":
        if self.selection is None and self.facilities is None:
            raise ValueError("selection: required key is missing; give selection (one facility type: cluster hubs) or facilities (a supply chain)")
        if self.selection is not None and self.facilities is not None:
            raise ValueError("give either selection (one facility type: cluster hubs) or facilities (a supply chain), not both")
        if self.selection is not None and self.alternatives is not None:
            raise ValueError("alternatives: for one facility type, give it under selection (selection.alternatives)")
        if self.selection is not None and (self.links or self.clusters):
            raise ValueError(f"{'links' if self.links else 'clusters'}: links and co-location clusters belong to a chain; give facilities instead of selection")
        refs = reference_problems(self.model_dump(mode="python", by_alias=True))
        if refs:
            raise ValueError(refs[0])
        if isinstance(self.units, FileUnits) and self.units.state is None:
            limits = [("selection.max_per_state", self.selection.max_per_state)] if self.selection else [
                (f"facilities.{t}.site.max_per_state", f.site.max_per_state) for t, f in self.facilities.items()]
            for key, value in limits:
                if value is not None:
                    raise ValueError(f"{key}: the units file has no state column (set units.state to the column of USPS codes), so no limit per state can apply")
        given = [k for k, c in self.criteria.items() if c.weight is not None]
        if self.weights is not None:
            if given:
                raise ValueError(f"criteria.{given[0]}.weight: weights come from weights.ahp; give them in one place only")
            from ..analysis.ahp import MAX_CR, ahp

            try:
                res = ahp(list(self.criteria), self.weights.ahp)
            except ValueError as e:
                raise ValueError(f"weights.ahp: {e}") from None
            if res.consistency_ratio > MAX_CR:
                i, j, judged, implied = res.most_inconsistent
                raise ValueError(f"weights.ahp: the judgments are inconsistent (consistency ratio {res.consistency_ratio:.3f}, above {MAX_CR}); "
                                 f"the most inconsistent pair is {i} versus {j}: judged {judged:.3g}, the other judgments imply {implied:.3g}")
            self._ahp = res
            return self
        missing = [k for k, c in self.criteria.items() if c.weight is None]
        if missing:
            raise ValueError(f"criteria.{missing[0]}.weight: required (or give all weights as weights.ahp judgments)")
        if sum(c.weight for c in self.criteria.values()) <= 0:
            raise ValueError("criteria: all weights are zero; give at least one criterion a positive weight")
        return self

    @property
    def is_chain(self) -> bool:
        """True for a supply chain (facilities), False for one facility type (selection)."""
        return self.facilities is not None

    @property
    def ahp_result(self):
        """The AHP weights, eigenvalue and consistency ratio, when weights.ahp is used."""
        return self._ahp

    @property
    def source(self) -> Path | None:
        """The config file this scenario was read from (None when built in Python)."""
        return self._source

    def input_paths(self) -> list[Path]:
        """Every file this scenario reads: the config, its layer files and its units file (never to be overwritten)."""
        paths = [self._source] if self._source else []
        paths += [Path(layer.source) for layer in self.layers.values() if not layer.source.startswith("builtin:")]
        if isinstance(self.units, FileUnits):
            paths.append(Path(self.units.path))
        return paths

    def given_weights(self) -> dict[str, float]:
        """The weights as the planner gave them (or as AHP derived them)."""
        if self._ahp is not None:
            return dict(self._ahp.weights)
        return {k: float(c.weight) for k, c in self.criteria.items()}

    def criterion_weights(self) -> dict[str, float]:
        """Weights rescaled to sum to 1."""
        given = self.given_weights()
        total = sum(given.values())
        return {k: w / total for k, w in given.items()}

    def resolved(self) -> dict[str, Any]:
        """The config with every default filled in, as JSON-ready data."""
        return self.model_dump(mode="json")

    def digest(self) -> str:
        blob = json.dumps(self.resolved(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(blob.encode()).hexdigest()

    def checked(self) -> "Config":
        """The config validated again as a whole (after edits from Python): ConfigError listing every problem."""
        cfg = parse_config(self.model_dump(mode="python"), str(self._source or "config"))
        cfg._source = self._source
        return cfg


def reference_problems(data: Any) -> list[str]:
    """Keys that name a layer, criterion or facility type that is not defined, checked on the raw data
    so they are found with every other problem."""
    if not isinstance(data, dict):
        return []
    from .chain import chain_problems

    layers = data.get("layers") if isinstance(data.get("layers"), dict) else {}
    out = []
    criteria = data.get("criteria")
    for name, c in (criteria.items() if isinstance(criteria, dict) else []):
        ref = c.get("layer") if isinstance(c, dict) else None
        if isinstance(ref, str) and layers and ref not in layers:
            out.append(f'criteria.{name}.layer: no layer named "{ref}"{did_you_mean(ref, layers)}; defined layers: {", ".join(map(str, layers))}')
    sel = data.get("selection")
    reqs = sel.get("requirements") if isinstance(sel, dict) else None
    for r in (reqs if isinstance(reqs, dict) else {}):
        if layers and r not in layers:
            out.append(f'selection.requirements: "{r}" is not a layer{did_you_mean(r, layers)}; defined layers: {", ".join(map(str, layers))}')
        elif isinstance(layers.get(r), dict) and layers[r].get("value") is None:
            out.append(f'selection.requirements.{r}: layer "{r}" has no value column to sum (set layers.{r}.value)')
        elif isinstance(layers.get(r), Layer) and layers[r].value is None:
            out.append(f'selection.requirements.{r}: layer "{r}" has no value column to sum (set layers.{r}.value)')
    return out + chain_problems(data)


def parse_config(data: Any, source: str = "<config>", base_dir: Path | None = None) -> Config:
    """Validate already-loaded YAML data; raise ConfigError listing every problem."""
    from .problems import problems_of

    if data is None:
        raise ConfigError(f"{source}: the file is empty; expected a YAML mapping with name, layers, criteria and selection")
    if not isinstance(data, dict):
        raise ConfigError(f"{source}: expected a YAML mapping at the top level (name: ..., layers: ...), found {type(data).__name__}")
    try:
        cfg = Config.model_validate(data)
    except ValidationError as e:
        problems = [f"{source}: {p}" for p in problems_of(e, data)]
        raise ConfigError(problems[0] + (f" (and {len(problems) - 1} more problem(s); run cluster-opt validate)" if len(problems) > 1 else ""), problems) from None
    if base_dir is not None:
        _resolve_paths(cfg, base_dir)
    return cfg


def _resolve_paths(cfg: Config, base: Path) -> None:
    """Relative paths resolve against the config's folder (made absolute, links left as they are)."""
    for layer in cfg.layers.values():
        if not layer.source.startswith("builtin:"):
            layer.source = absolute(layer.source, base)
    if isinstance(cfg.units, FileUnits):
        cfg.units.path = Path(absolute(cfg.units.path, base))


def absolute(path: str | Path, base: Path) -> str:
    """``path`` made absolute against ``base``, without following symbolic links (a loop must not crash here)."""
    import os

    p = os.path.expanduser(str(path))
    return os.path.normpath(p if os.path.isabs(p) else os.path.join(base, p))


def read_config_data(path: str | Path) -> tuple[Any, Path]:
    """A config file's YAML data, unvalidated, and the folder its relative paths are read from (a regular file of at
    most 1 MB, UTF-8, read strictly)."""
    from ..files import MAX_CONFIG_BYTES, read_bytes
    from ..yamlsafe import load_yaml

    path = Path(path)
    raw = read_bytes(path, "config", MAX_CONFIG_BYTES, ConfigError)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: cannot read the file (it is not UTF-8 text); expected UTF-8 YAML text") from None
    return load_yaml(text, str(path)), Path(absolute(path, Path.cwd())).parent


def load_config(path: str | Path) -> Config:
    """Read, parse and validate a YAML config file (a regular file of at most 1 MB, read strictly)."""
    data, folder = read_config_data(path)
    cfg = parse_config(data, str(path), folder)
    cfg._source = Path(absolute(path, Path.cwd()))
    return cfg


def json_schema() -> dict[str, Any]:
    return Config.model_json_schema()
