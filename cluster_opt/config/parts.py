"""The parts of a scenario: study area, units, layers, criteria, the single-type selection, weights, solver."""

from __future__ import annotations

import math
from enum import Enum
from pathlib import Path
from typing import Annotated, Any, Literal, Union

from pydantic import Field, field_validator, model_validator

from ..errors import did_you_mean
from ..states import STATE_FIPS
from .types import BUILTIN_LAYERS, Int, Key, Num, _Model, _short

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


class Measure(str, Enum):
    sum_within = "sum_within"
    count_within = "count_within"
    nearest_km = "nearest_km"  # to the nearest feature: a point, or the line or polygon itself (0 inside a polygon)
    decay_sum = "decay_sum"
    sum_inside = "sum_inside"
    length_within = "length_within"  # km of a line layer within radius_km (times the value, when the layer has one)
    share_inside = "share_inside"  # the share of the unit's area a polygon layer covers (0 to 1)
    state_value = "state_value"  # the value of the layer's row for the unit's state (a state-level table)


class Criterion(_Model):
    """A raw measure of a layer, per unit, that enters the score with a weight."""

    layer: str
    measure: Measure
    radius_km: Num | None = Field(None, gt=0, le=5000, description="Search radius (sum_within, count_within, length_within; cut-off of decay_sum).")
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
        if m in (Measure.sum_within, Measure.count_within, Measure.length_within) and self.radius_km is None:
            raise ValueError(f"{m.value} needs radius_km")
        if m is Measure.decay_sum and self.half_distance_km is None:
            raise ValueError("decay_sum needs half_distance_km")
        return self


class Alternatives(_Model):
    """Near-optimal alternatives: other selections within a gap of the optimum, each as different as possible."""

    count: Int = Field(ge=1, le=20, description="How many alternatives to look for (fewer if no more exist within the gap).")
    within: Num = Field(0.02, ge=0, le=1, description="Each alternative's objective is at least (1 - within) times the optimum's.")


class Explain(_Model):
    """Which units the run's "why these sites" answers for, beside the chosen ones."""

    units: list[str] = Field(default_factory=list, description="Unit ids to explain in every run (why not Detroit?), e.g. [\"26163\"].")
    top: Int | None = Field(None, ge=0, le=200, description="Also the force-in cost of this many best-ranked units not chosen (default 20; 5 per type for a chain).")

    @field_validator("units", mode="before")
    @classmethod
    def _ids(cls, v: Any) -> Any:
        return unit_ids(v)


class Selection(_Model):
    """What the optimizer must choose and the rules it must respect."""

    clusters: Int = Field(ge=1, le=1000, description="How many cluster hubs to choose.")
    cluster_radius_km: Num = Field(ge=0, le=2000, description="Units within this distance of a hub are its members.")
    min_spacing_km: Num = Field(0.0, ge=0, le=5000, description="Hubs at least this far apart.")
    requirements: dict[Key, Num] = Field(default_factory=dict, description="Per cluster, layer name -> minimum of the layer's value located in the cluster's member units (met within a relative 1e-9).")
    max_per_state: Int | None = Field(None, ge=1, description="At most this many hubs in one state.")
    include: list[str] = Field(default_factory=list, description="Unit ids that must host a cluster.")
    exclude: list[str] = Field(default_factory=list, description="Unit ids that may not host a cluster.")
    member_weight: Num = Field(0.0, ge=0, le=1, description="Share of a member unit's score the objective adds to its hub's. 0 (the default): a cluster is worth its hub's score, whose criteria measured over a radius already see the neighbourhood, so water, borders, the study area's outline and how finely units are cut do not change it; members count toward the requirements only.")
    member_scaling: Literal["area", "count"] = Field("area", description="With member_weight above 0: area: a member counts in proportion to its area (median unit = 1); count: every member counts once.")
    alternatives: Alternatives | None = Field(None, description="Also find near-optimal alternative selections (alternatives.csv, alternatives.html).")

    @field_validator("include", "exclude", mode="before")
    @classmethod
    def _ids(cls, v: Any) -> Any:
        return unit_ids(v)

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


def unit_ids(v: Any) -> Any:
    """A list of unit ids as text (whole numbers are padded to county FIPS by the Config where units are counties)."""
    if isinstance(v, list):
        for x in v:
            if isinstance(x, (bool, float, dict, list)) or x is None:
                raise ValueError(f"expected unit ids (text such as \"27137\"), found {_short(x)}")
        return [str(x) for x in v]
    return v


class Weights(_Model):
    """Weights from pairwise judgments instead of on each criterion."""

    ahp: dict[str, dict[str, Any]] = Field(description="Analytic Hierarchy Process judgments: {a: {b: 3}} means a is 3 times as important as b (Saaty's 1-9 scale; 1/3 for the reverse). One judgment per pair.")


class Solver(_Model):
    name: Literal["highs", "cbc"] = "highs"
    time_limit_s: Num = Field(120.0, gt=0, le=86400)
    mip_gap: Num = Field(0.0, ge=0, le=1, description="Relative gap at which the solver may stop; 0 proves optimality.")
    threads: Int | None = Field(None, ge=1)
    log: bool = Field(False, description="Print the solver's own log.")
    presolve: Literal["auto", "on", "off"] = Field("auto", description="HiGHS presolve. auto: on for one facility type and for chains with clusters, off for other chains, whose dense link rows make its probing slow while the root relaxation is already tight.")
