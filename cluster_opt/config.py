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

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    field_validator,
    model_validator,
)

from .errors import ConfigError, did_you_mean

# US states and DC with postal code and FIPS; "conus" is the lower 48 plus DC.
STATE_FIPS: dict[str, str] = {
    "AL": "01", "AK": "02", "AZ": "04", "AR": "05", "CA": "06", "CO": "08", "CT": "09",
    "DE": "10", "DC": "11", "FL": "12", "GA": "13", "HI": "15", "ID": "16", "IL": "17",
    "IN": "18", "IA": "19", "KS": "20", "KY": "21", "LA": "22", "ME": "23", "MD": "24",
    "MA": "25", "MI": "26", "MN": "27", "MS": "28", "MO": "29", "MT": "30", "NE": "31",
    "NV": "32", "NH": "33", "NJ": "34", "NM": "35", "NY": "36", "NC": "37", "ND": "38",
    "OH": "39", "OK": "40", "OR": "41", "PA": "42", "RI": "44", "SC": "45", "SD": "46",
    "TN": "47", "TX": "48", "UT": "49", "VT": "50", "VA": "51", "WA": "53", "WV": "54",
    "WI": "55", "WY": "56", "PR": "72",
}
FIPS_STATE = {v: k for k, v in STATE_FIPS.items()}
CONUS = sorted(set(STATE_FIPS) - {"AK", "HI", "PR"})


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_default=True)


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
    resolution: int = Field(5, ge=0, le=9, description="H3 resolution: 4 is ~1,770 km², 5 ~250 km², 6 ~36 km².")


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
    where: dict[str, Any] = Field(default_factory=dict, description="Keep rows whose column equals a value or is in a list ({min:, max:} for ranges); semicolon lists match any item.")
    lat: str | None = Field(None, description="Latitude column of a CSV (guessed when omitted).")
    lon: str | None = Field(None, description="Longitude column of a CSV (guessed when omitted).")
    name: str | None = Field(None, description="Column naming each feature in popups.")


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
    radius_km: float | None = Field(None, gt=0, le=5000, description="Search radius (sum_within, count_within; cut-off of decay_sum).")
    half_distance_km: float | None = Field(None, gt=0, le=5000, description="decay_sum: distance at which a feature counts half.")
    direction: Literal["benefit", "cost"] | None = Field(None, description="benefit: more is better; cost: less is better. Default: cost for nearest_km, else benefit.")
    weight: float | None = Field(None, ge=0, description="Relative importance; weights are rescaled to sum to 1. Omit when weights.ahp gives them.")
    label: str | None = None

    @field_validator("weight")
    @classmethod
    def _finite(cls, v: float | None) -> float | None:
        if v is not None and not math.isfinite(v):
            raise ValueError("expected a finite number ≥ 0")
        return v

    @model_validator(mode="after")
    def _params(self) -> "Criterion":
        m = self.measure
        if m in (Measure.sum_within, Measure.count_within) and self.radius_km is None:
            raise ValueError(f"{m.value} needs radius_km")
        if m is Measure.decay_sum:
            if self.half_distance_km is None:
                raise ValueError("decay_sum needs half_distance_km")
            if self.radius_km is None:
                self.radius_km = 5.0 * self.half_distance_km
        if self.direction is None:
            self.direction = "cost" if m is Measure.nearest_km else "benefit"
        return self


class Selection(_Model):
    """What the optimizer must choose and the rules it must respect."""

    clusters: int = Field(ge=1, le=1000, description="How many cluster hubs to choose.")
    cluster_radius_km: float = Field(ge=0, le=2000, description="Units within this distance of a hub are its members.")
    min_spacing_km: float = Field(0.0, ge=0, le=5000, description="Hubs at least this far apart.")
    requirements: dict[str, float] = Field(default_factory=dict, description="Per cluster, layer name -> minimum of the layer's value located in the cluster's member units.")
    max_per_state: int | None = Field(None, ge=1, description="At most this many hubs in one state.")
    include: list[str] = Field(default_factory=list, description="Unit ids that must host a cluster.")
    exclude: list[str] = Field(default_factory=list, description="Unit ids that may not host a cluster.")
    member_weight: float = Field(1.0, ge=0, le=1, description="Share of a member unit's score the objective counts (hubs count fully).")
    member_scaling: Literal["area", "count"] = Field("area", description="area: a member counts in proportion to its area (median unit = 1), so small counties do not outweigh large ones; count: every member counts once.")

    @field_validator("include", "exclude", mode="before")
    @classmethod
    def _ids(cls, v: Any) -> Any:
        if isinstance(v, list):
            return [f"{x:05d}" if isinstance(x, int) and not isinstance(x, bool) else x for x in v]
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
    time_limit_s: float = Field(120.0, gt=0, le=86400)
    mip_gap: float = Field(0.0, ge=0, le=1, description="Relative gap at which the solver may stop; 0 proves optimality.")
    threads: int | None = Field(None, ge=1)
    log: bool = Field(False, description="Print the solver's own log.")


class Config(_Model):
    """A cluster-opt scenario."""

    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$", max_length=80, description="Scenario name; the default run directory is runs/<name>.")
    description: str = ""
    study_area: Union[Literal["conus"], StudyArea] = "conus"
    units: Units = Field(default_factory=CountyUnits)
    layers: dict[str, Layer] = Field(min_length=1)
    criteria: dict[str, Criterion] = Field(min_length=1)
    weights: Weights | None = None
    normalize: Literal["minmax", "percentile", "zscore"] = "minmax"
    selection: Selection
    solver: Solver = Field(default_factory=Solver)

    @field_validator("study_area", mode="before")
    @classmethod
    def _area(cls, v: Any) -> Any:
        if isinstance(v, str) and v.strip().lower() == "conus":
            return "conus"
        if not isinstance(v, dict):
            raise ValueError(f'expected "conus" or a mapping like {{states: [MN, WI, MI]}}, found {v!r}')
        return v

    @property
    def states(self) -> list[str]:
        return CONUS if self.study_area == "conus" else self.study_area.states

    @model_validator(mode="after")
    def _cross(self) -> "Config":
        for name, c in self.criteria.items():
            if c.layer not in self.layers:
                raise ValueError(f'criteria.{name}.layer: no layer named "{c.layer}"{did_you_mean(c.layer, self.layers)}; defined layers: {", ".join(self.layers)}')
        for r in self.selection.requirements:
            if r not in self.layers:
                raise ValueError(f'selection.requirements: "{r}" is not a layer{did_you_mean(r, self.layers)}; defined layers: {", ".join(self.layers)}')
            if self.layers[r].value is None:
                raise ValueError(f'selection.requirements.{r}: layer "{r}" has no value column to sum')
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

    _ahp: Any = PrivateAttr(default=None)

    @property
    def ahp_result(self):
        """The AHP weights, eigenvalue and consistency ratio, when weights.ahp is used."""
        return self._ahp

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


_UNION_TAGS = {"StudyArea", "county", "h3", "file"}


def _clean_loc(loc: tuple[Any, ...]) -> tuple[Any, ...]:
    """Drop pydantic's union-branch markers from an error location."""
    out: list[Any] = []
    for i, p in enumerate(loc):
        s = str(p)
        if s.startswith(("function-", "literal[")):
            continue
        if s in _UNION_TAGS and i > 0 and str(loc[i - 1]) in ("units", "study_area"):
            continue
        out.append(p)
    return tuple(out)


def _fields_at(loc: tuple[Any, ...], raw: Any) -> list[str]:
    """The valid keys of the mapping found at ``loc`` (for did-you-mean hints)."""
    import typing

    model: Any = Config
    node = raw
    i = 0
    while i < len(loc):
        field = getattr(model, "model_fields", {}).get(loc[i])
        node = node.get(loc[i]) if isinstance(node, dict) else None
        if field is None:
            return []
        ann = field.annotation
        if typing.get_origin(ann) is dict:
            model = typing.get_args(ann)[1]
            node = node.get(loc[i + 1]) if isinstance(node, dict) and i + 1 < len(loc) else None
            i += 2
        else:
            model = _model_of(ann)
            i += 1
        if loc[i - 1] == "units" and isinstance(node, dict):
            model = {"h3": H3Units, "file": FileUnits}.get(node.get("kind"), CountyUnits)
    return list(getattr(model, "model_fields", {}))


def _model_of(ann: Any) -> Any:
    import typing

    if isinstance(ann, type) and issubclass(ann, BaseModel):
        return ann
    for a in typing.get_args(ann):
        m = _model_of(a)
        if m is not None:
            return m
    return None


def _describe(err: dict[str, Any], raw: Any) -> str:
    kind = err["type"]
    loc = _clean_loc(tuple(err["loc"]))
    where = ".".join(str(p) for p in loc) or "(top level)"
    if kind == "extra_forbidden":
        fields = _fields_at(loc[:-1], raw)
        hint = did_you_mean(loc[-1], fields)
        return f"{where}: unknown key{hint}" + (f"; expected one of: {', '.join(fields)}" if fields else "")
    if kind == "missing":
        return f"{where}: required key is missing"
    msg = err["msg"].removeprefix("Value error, ")
    if not loc and kind == "value_error":
        return msg  # cross-field rules name their own keys
    found = err.get("input")
    if kind != "value_error" and not isinstance(found, (dict, list)):
        return f"{where}: {msg}, found {found!r}"
    return f"{where}: {msg}"


def parse_config(data: Any, source: str = "<config>", base_dir: Path | None = None) -> Config:
    """Validate already-loaded YAML data; raise ConfigError listing every problem."""
    if data is None:
        raise ConfigError(f"{source}: the file is empty; expected a YAML mapping with name, layers, criteria and selection")
    if not isinstance(data, dict):
        raise ConfigError(f"{source}: expected a YAML mapping at the top level (name: ..., layers: ...), found {type(data).__name__}")
    try:
        cfg = Config.model_validate(data)
    except ValidationError as e:
        errors = e.errors()
        # For "conus" | {states: [...]} keep the branch the planner meant: drop the literal's error
        # when the mapping branch has its own.
        branch = {err["loc"][0] for err in errors if len(err["loc"]) > 1 and not str(err["loc"][1]).startswith("literal[")}
        errors = [err for err in errors if not (len(err["loc"]) > 1 and str(err["loc"][1]).startswith("literal[") and err["loc"][0] in branch)]
        errors.sort(key=lambda err: err["type"] != "extra_forbidden")  # a typo explains the missing key after it
        problems = [f"{source}: {_describe(err, data)}" for err in errors]
        raise ConfigError(problems[0] + (f" (and {len(problems) - 1} more problem(s); run cluster-opt validate)" if len(problems) > 1 else ""), problems) from None
    if base_dir is not None:
        _resolve_paths(cfg, base_dir)
    return cfg


def _resolve_paths(cfg: Config, base: Path) -> None:
    for layer in cfg.layers.values():
        if not layer.source.startswith("builtin:"):
            p = Path(layer.source).expanduser()
            layer.source = str(p if p.is_absolute() else (base / p).resolve())
    if isinstance(cfg.units, FileUnits) and not cfg.units.path.is_absolute():
        cfg.units.path = (base / cfg.units.path).resolve()


def load_config(path: str | Path) -> Config:
    """Read, parse and validate a YAML config file."""
    path = Path(path)
    if not path.exists():
        raise ConfigError(f"{path}: no such config file")
    if path.is_dir():
        raise ConfigError(f"{path}: is a folder; expected a YAML config file")
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise ConfigError(f"{path}: cannot read the file ({e.__class__.__name__}); expected UTF-8 YAML text") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(e, "problem", None) or "invalid YAML"
        raise ConfigError(f"{path}: YAML syntax error{where}: {problem}") from None
    return parse_config(data, str(path), path.parent.resolve())


def json_schema() -> dict[str, Any]:
    return Config.model_json_schema()
