"""The run config: a YAML file validated into typed, defaulted pydantic models.

Key names follow the reference config in the architecture notes; they are the
public contract. Relative paths resolve against the config file's folder.
"""

from __future__ import annotations

import hashlib
import json
import math
from enum import Enum
from pathlib import Path
from typing import Annotated, Any, Literal, Union

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PrivateAttr,
    StringConstraints,
    ValidationError,
    field_validator,
    model_validator,
)

from .errors import ConfigError, did_you_mean

from .states import CONUS, FIPS_STATE, STATE_FIPS  # noqa: F401  (re-exported)

BUILTIN_LAYERS = ("minerals", "power_plants", "ports", "labor")


def _no_bool(v: Any) -> Any:
    """YAML's true/false must never pass as 1/0 where a number is meant."""
    if isinstance(v, bool):
        raise ValueError(f"expected a number, found {str(v).lower()}")
    return v


Num = Annotated[float, BeforeValidator(_no_bool)]
Int = Annotated[int, BeforeValidator(_no_bool)]
# Names of layers, criteria and requirements: any printable text up to 64 characters.
Key = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[^\x00-\x1f\x7f]+$")]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_default=True, allow_inf_nan=False, validate_assignment=True)

    def __setattr__(self, name: str, value: Any) -> None:
        """Edits from Python are validated like the file: a bad value raises ConfigError, naming the key."""
        if name.startswith("_"):
            return super().__setattr__(name, value)
        try:
            super().__setattr__(name, value)
        except ValidationError as e:
            from .configcheck import describe

            problems = [describe(err, None) for err in e.errors()]
            raise ConfigError(f"{type(self).__name__.lower()}.{problems[0]}", problems) from None


class StudyArea(_Model):
    """Which part of the country to consider."""

    states: list[str] = Field(description="USPS postal codes, e.g. [MN, WI, MI].", min_length=1)

    @field_validator("states", mode="before")
    @classmethod
    def _upper(cls, v: Any) -> Any:
        if isinstance(v, str):
            v = [v]
        if isinstance(v, list):
            return [s.strip().upper() if isinstance(s, str) else s for s in v]
        return v

    @field_validator("states")
    @classmethod
    def _known(cls, v: list[str]) -> list[str]:
        for s in v:
            if s not in STATE_FIPS:
                raise ValueError(f'unknown state "{s}"{did_you_mean(s, STATE_FIPS)}; expected a USPS code such as MN')
        return sorted(set(v), key=v.index)


class CountyUnits(_Model):
    """US counties (Census cartographic boundaries), id = 5-digit FIPS."""

    kind: Literal["county"] = "county"


class H3Units(_Model):
    """A hexagon grid (Uber H3) covering the study area, id = H3 cell index."""

    kind: Literal["h3"]
    resolution: Int = Field(5, ge=0, le=9, description="H3 resolution: 4 is ~1,770 km², 5 ~250 km², 6 ~36 km².")


class FileUnits(_Model):
    """Your own regions from a vector file geopandas reads."""

    kind: Literal["file"]
    path: Path
    id: str = Field(description="Column holding each region's unique id.")
    name: str | None = Field(None, description="Column with a display name (defaults to the id).")
    state: str | None = Field(None, description="Column with the USPS state code (for max_per_state).")


Units = Annotated[Union[CountyUnits, H3Units, FileUnits], Field(discriminator="kind")]


class Layer(_Model):
    """A geospatial layer: a builtin table or a file of points, lines or polygons."""

    source: str = Field(description="builtin:minerals | builtin:power_plants | builtin:ports | builtin:labor, or a file path.")
    value: str | None = Field(None, description="Numeric column summed by sum_within / decay_sum and by requirements.")
    label: str | None = Field(None, description="Display name on maps and reports.")
    where: dict[str, Any] = Field(default_factory=dict, description="Keep rows whose column equals a value or is in a list ({min:, max:} for ranges); semicolon lists match any item. A value that matches no row is an error.")
    lat: str | None = Field(None, description="Latitude column of a CSV (guessed when omitted).")
    lon: str | None = Field(None, description="Longitude column of a CSV (guessed when omitted).")
    name: str | None = Field(None, description="Column naming each feature in popups.")
    decimal: Literal[".", ","] = Field(".", description='Decimal mark of numbers in a CSV: "." (1,234.5) or "," (1.234,5).')

    @field_validator("source")
    @classmethod
    def _builtin(cls, v: str) -> str:
        if v.startswith("builtin:") and v.removeprefix("builtin:") not in BUILTIN_LAYERS:
            name = v.removeprefix("builtin:")
            raise ValueError(f'unknown builtin layer "{v}"{did_you_mean(name, BUILTIN_LAYERS)}; expected one of: ' + ", ".join(f"builtin:{b}" for b in BUILTIN_LAYERS))
        if not v.strip():
            raise ValueError("expected builtin:NAME or a file path, found an empty string")
        return v

    @field_validator("where")
    @classmethod
    def _where(cls, v: dict[str, Any]) -> dict[str, Any]:
        for col, want in v.items():
            v[col] = _where_value(col, want)
        return v


def _where_value(col: str, want: Any) -> Any:
    """A where condition: a value, a list of values, or {min:, max:} numbers."""
    if isinstance(want, dict):
        extra = sorted(set(map(str, want)) - {"min", "max"})
        if extra:
            raise ValueError(f"{col}: unknown key(s) {', '.join(extra)}; expected min and/or max")
        out = {}
        for k, x in want.items():
            if x is None:
                continue
            if isinstance(x, bool) or not isinstance(x, (int, float)) or not math.isfinite(x):
                raise ValueError(f"{col}.{k}: expected a finite number, found {_short(x)}")
            out[k] = float(x)
        if not out:
            raise ValueError(f"{col}: expected a number for min and/or max")
        if "min" in out and "max" in out and out["min"] > out["max"]:
            raise ValueError(f"{col}: min {out['min']:g} is above max {out['max']:g}")
        return out
    items = want if isinstance(want, list) else [want]
    if not items:
        raise ValueError(f"{col}: expected at least one value")
    for x in items:
        if x is None or isinstance(x, (dict, list)):
            raise ValueError(f"{col}: expected values (text or numbers), found {_short(x)}")
        if isinstance(x, float) and not math.isfinite(x):
            raise ValueError(f"{col}: expected finite values, found {x}")
    return want


def _short(x: Any) -> str:
    from .configcheck import short

    return short(x)


class Measure(str, Enum):
    sum_within = "sum_within"
    count_within = "count_within"
    nearest_km = "nearest_km"
    decay_sum = "decay_sum"
    sum_inside = "sum_inside"


class Criterion(_Model):
    """A raw measure of a layer, per unit, that enters the score with a weight."""

    layer: str
    measure: Measure
    radius_km: Num | None = Field(None, gt=0, le=5000, description="Search radius (sum_within, count_within; cut-off of decay_sum).")
    half_distance_km: Num | None = Field(None, gt=0, le=5000, description="decay_sum: distance at which a feature counts half.")
    direction: Literal["benefit", "cost"] | None = Field(None, description="benefit: more is better; cost: less is better. Default: cost for nearest_km, else benefit.")
    weight: Num | None = Field(None, ge=0, description="Relative importance; weights are rescaled to sum to 1. Omit when weights.ahp gives them.")
    label: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _defaults(cls, data: Any) -> Any:
        """Fill the defaults that depend on the measure: decay_sum's cut-off and the direction."""
        if not isinstance(data, dict):
            return data
        data = dict(data)
        m, hd = data.get("measure"), data.get("half_distance_km")
        if m == "decay_sum" and data.get("radius_km") is None and isinstance(hd, (int, float)) and not isinstance(hd, bool) and 0 < hd <= 1000:
            data["radius_km"] = 5.0 * hd
        if data.get("direction") is None and m in {e.value for e in Measure}:
            data["direction"] = "cost" if m == "nearest_km" else "benefit"
        return data

    @model_validator(mode="after")
    def _params(self) -> "Criterion":
        m = self.measure
        if m in (Measure.sum_within, Measure.count_within) and self.radius_km is None:
            raise ValueError(f"{m.value} needs radius_km")
        if m is Measure.decay_sum and self.half_distance_km is None:
            raise ValueError("decay_sum needs half_distance_km")
        return self


class Selection(_Model):
    """What the optimizer must choose and the rules it must respect."""

    clusters: Int = Field(ge=1, le=1000, description="How many cluster hubs to choose.")
    cluster_radius_km: Num = Field(ge=0, le=2000, description="Units within this distance of a hub are its members.")
    min_spacing_km: Num = Field(0.0, ge=0, le=5000, description="Hubs at least this far apart.")
    requirements: dict[Key, Num] = Field(default_factory=dict, description="Per cluster, layer name -> minimum of the layer's value located in the cluster's member units (met within a relative 1e-9).")
    max_per_state: Int | None = Field(None, ge=1, description="At most this many hubs in one state.")
    include: list[str] = Field(default_factory=list, description="Unit ids that must host a cluster.")
    exclude: list[str] = Field(default_factory=list, description="Unit ids that may not host a cluster.")
    member_weight: Num = Field(1.0, ge=0, le=1, description="Share of a member unit's score the objective counts (hubs count fully).")
    member_scaling: Literal["area", "count"] = Field("area", description="area: a member counts in proportion to its area (median unit = 1), so small counties do not outweigh large ones; count: every member counts once.")

    @field_validator("include", "exclude", mode="before")
    @classmethod
    def _ids(cls, v: Any) -> Any:
        if isinstance(v, list):
            for x in v:
                if isinstance(x, (bool, float, dict, list)) or x is None:
                    raise ValueError(f"expected unit ids (text such as \"27137\"), found {_short(x)}")
            return [str(x) for x in v]
        return v

    @field_validator("requirements")
    @classmethod
    def _req(cls, v: dict[str, float]) -> dict[str, float]:
        for k, x in v.items():
            if not math.isfinite(x) or x < 0:
                raise ValueError(f'requirement "{k}" must be a finite number ≥ 0, found {x}')
        return v

    @model_validator(mode="after")
    def _conflicts(self) -> "Selection":
        both = sorted(set(self.include) & set(self.exclude))
        if both:
            raise ValueError(f"units both included and excluded: {', '.join(both)}")
        if len(set(self.include)) > self.clusters:
            raise ValueError(f"{len(set(self.include))} included units but only {self.clusters} clusters")
        return self


class Weights(_Model):
    """Weights from pairwise judgments instead of on each criterion."""

    ahp: dict[str, dict[str, Any]] = Field(description="Analytic Hierarchy Process judgments: {a: {b: 3}} means a is 3 times as important as b (Saaty's 1-9 scale; 1/3 for the reverse). One judgment per pair.")


class Solver(_Model):
    name: Literal["highs", "cbc"] = "highs"
    time_limit_s: Num = Field(120.0, gt=0, le=86400)
    mip_gap: Num = Field(0.0, ge=0, le=1, description="Relative gap at which the solver may stop; 0 proves optimality.")
    threads: Int | None = Field(None, ge=1)
    log: bool = Field(False, description="Print the solver's own log.")


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
    selection: Selection
    solver: Solver = Field(default_factory=Solver)

    _ahp: Any = PrivateAttr(default=None)
    _source: Path | None = PrivateAttr(default=None)

    @model_validator(mode="before")
    @classmethod
    def _unit_ids(cls, data: Any) -> Any:
        """Whole-number ids in include / exclude are county FIPS (zero-padded) only when units are counties."""
        if not isinstance(data, dict) or not isinstance(data.get("selection"), dict):
            return data
        units = data.get("units")
        county = not isinstance(units, dict) or units.get("kind", "county") == "county"
        sel = dict(data["selection"])
        for key in ("include", "exclude"):
            if isinstance(sel.get(key), list):
                sel[key] = [(f"{x:05d}" if county else str(x)) if isinstance(x, int) and not isinstance(x, bool) and x >= 0 else x
                            for x in sel[key]]
        return {**data, "selection": sel}

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
        refs = reference_problems(self.model_dump(mode="python"))
        if refs:
            raise ValueError(refs[0])
        if self.selection.max_per_state is not None and isinstance(self.units, FileUnits) and self.units.state is None:
            raise ValueError("selection.max_per_state: the units file has no state column (set units.state to the column of USPS codes), so no limit per state can apply")
        given = [k for k, c in self.criteria.items() if c.weight is not None]
        if self.weights is not None:
            if given:
                raise ValueError(f"criteria.{given[0]}.weight: weights come from weights.ahp; give them in one place only")
            from .analysis.ahp import MAX_CR, ahp

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
    """Keys that name a layer that is not defined, checked on the raw data so they are found with every other problem."""
    if not isinstance(data, dict):
        return []
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
    return out


def parse_config(data: Any, source: str = "<config>", base_dir: Path | None = None) -> Config:
    """Validate already-loaded YAML data; raise ConfigError listing every problem."""
    from .configcheck import problems_of

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


def load_config(path: str | Path) -> Config:
    """Read, parse and validate a YAML config file (a regular file of at most 1 MB, read strictly)."""
    from .files import MAX_CONFIG_BYTES, read_bytes
    from .yamlsafe import load_yaml

    path = Path(path)
    raw = read_bytes(path, "config", MAX_CONFIG_BYTES, ConfigError)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: cannot read the file (it is not UTF-8 text); expected UTF-8 YAML text") from None
    folder = Path(absolute(path, Path.cwd())).parent
    cfg = parse_config(load_yaml(text, str(path)), str(path), folder)
    cfg._source = Path(absolute(path, Path.cwd()))
    return cfg


def json_schema() -> dict[str, Any]:
    return Config.model_json_schema()
