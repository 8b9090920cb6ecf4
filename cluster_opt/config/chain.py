"""A supply chain in the config: facility types (new and existing), the links between them, co-location clusters.

    facilities:
      mine:     {existing: {layer: sites, where: {stage: mine}}}
      refinery: {new: 2, criteria: {minerals: 0.4, grid: 0.6}, requires: {grid: 300}, radius_km: 100}
      cell:     {new: {min: 1, max: 3}, site: {near: [{layer: ports, within_km: 80}]}}
    links:
      - {from: mine, to: refinery, max_km: 400, cost_per_km: 0.001}
    clusters: {count: 2, radius_km: 200, must_contain: [refinery, cell]}
"""

from __future__ import annotations

from typing import Any

from pydantic import Field, field_validator, model_validator

from .types import Int, Key, Num, _Model


class NewCount(_Model):
    """How many new facilities of a type: at least ``min``, at most ``max``."""

    min: Int = Field(0, ge=0, le=1000)
    max: Int = Field(ge=0, le=1000)

    @model_validator(mode="after")
    def _order(self) -> "NewCount":
        if self.min > self.max:
            raise ValueError(f"min {self.min} is above max {self.max}")
        return self


class ExistingSites(_Model):
    """Facilities that exist already: the features of a layer (after its own where and this one), fixed in place."""

    layer: Key = Field(description="The layer whose features are the existing facilities.")
    where: dict[str, Any] = Field(default_factory=dict, description="Keep only these features (same form as a layer's where).")

    @field_validator("where")
    @classmethod
    def _where(cls, v: dict[str, Any]) -> dict[str, Any]:
        from .parts import _where_value

        return {col: _where_value(col, want) for col, want in v.items()}


class LayerDistance(_Model):
    """A layer and a distance: ``within_km`` 0 means inside the features (polygons) or at the unit (points)."""

    layer: Key
    within_km: Num = Field(ge=0, le=2000)


class LayerMinimum(LayerDistance):
    """At least ``at_least`` of a layer's value (or that many features, when the layer has no value) within a distance."""

    at_least: Num = Field(1.0, gt=0, description="Minimum sum of the layer's value (its feature count without a value column).")


class LayerShare(_Model):
    """No site in a unit whose area is covered by a polygon layer beyond ``above`` (a share, 0 to 1)."""

    layer: Key
    above: Num = Field(ge=0, le=1)


class SiteRules(_Model):
    """Where a facility type may be sited."""

    include: list[str] = Field(default_factory=list, description="Unit ids that must host one of these facilities.")
    exclude: list[str] = Field(default_factory=list, description="Unit ids that may not.")
    avoid: list[LayerDistance] = Field(default_factory=list, description="No site within within_km of any feature of the layer (0: inside it).")
    avoid_share: list[LayerShare] = Field(default_factory=list, description="No site in a unit whose area the polygon layer covers by more than the share.")
    near: list[LayerMinimum] = Field(default_factory=list, description="A site needs at least at_least of the layer within within_km (e.g. 1,000 MW within 50 km; a port within 80 km).")
    min_spacing_km: Num = Field(0.0, ge=0, le=5000, description="Facilities of this type at least this far apart.")
    max_per_state: Int | None = Field(None, ge=1, description="At most this many new facilities of this type in one state.")

    @field_validator("include", "exclude", mode="before")
    @classmethod
    def _ids(cls, v: Any) -> Any:
        from .parts import unit_ids

        return unit_ids(v)

    @model_validator(mode="after")
    def _conflicts(self) -> "SiteRules":
        both = sorted(set(self.include) & set(self.exclude))
        if both:
            raise ValueError(f"units both included and excluded: {', '.join(both)}")
        return self


class FacilityType(_Model):
    """One kind of facility in the chain: how many to build, how each is scored and sited, what it needs."""

    new: Int | NewCount = Field(0, description="How many new facilities to site: a number, or {min:, max:}.")
    existing: ExistingSites | None = Field(None, description="Facilities that exist already, from a layer; fixed, they serve links.")
    label: str | None = None
    criteria: dict[Key, Num] | None = Field(None, description="Weights over the scenario's criteria for scoring sites of this type (default: the scenario's weights).")
    requires: dict[Key, Num] = Field(default_factory=dict, description="Per facility, layer -> minimum of the layer's value in the units it draws on within radius_km; a unit serves one facility at most.")
    radius_km: Num = Field(100.0, ge=0, le=1000, description="How far a facility draws on units to meet its requirements.")
    site: SiteRules = Field(default_factory=SiteRules)

    @field_validator("criteria")
    @classmethod
    def _weights(cls, v: dict[str, float] | None) -> dict[str, float] | None:
        if v is None:
            return v
        if any(w < 0 for w in v.values()):
            raise ValueError("expected weights ≥ 0")
        if sum(v.values()) <= 0:
            raise ValueError("all weights are zero; give at least one criterion a positive weight")
        return v

    @field_validator("requires")
    @classmethod
    def _needs(cls, v: dict[str, float]) -> dict[str, float]:
        for k, x in v.items():
            if x < 0:
                raise ValueError(f'requirement "{k}" must be ≥ 0, found {x}')
        return v

    @property
    def count_range(self) -> tuple[int, int]:
        """(fewest, most) new facilities."""
        return (self.new, self.new) if isinstance(self.new, int) else (self.new.min, self.new.max)

    @property
    def builds(self) -> bool:
        """True when the type has facilities at all (new or existing)."""
        return self.count_range[1] > 0 or self.existing is not None


class Link(_Model):
    """Every new facility of the downstream type is supplied by one of the upstream type within max_km."""

    model_config = {**_Model.model_config, "populate_by_name": True}

    source: Key = Field(alias="from", description="Upstream facility type.")
    to: Key = Field(description="Downstream facility type.")
    max_km: Num = Field(gt=0, le=5000, description="Greatest great-circle distance between a facility and its supplier.")
    cost_per_km: Num = Field(0.0, ge=0, description="Objective cost per km of each supply link, in score units.")
    capacity: Int | None = Field(None, ge=1, description="How many downstream facilities one upstream facility may supply.")


class Colocation(_Model):
    """Co-location as a rule: every new facility lies within radius_km of one of count cluster centres,
    and each cluster holds a facility of every type in must_contain."""

    count: Int = Field(ge=1, le=100)
    radius_km: Num = Field(gt=0, le=2000)
    must_contain: list[Key] = Field(default_factory=list, description="Facility types every cluster must hold (new or existing).")
    types: list[Key] | None = Field(None, description="Facility types whose new facilities must lie in a cluster (default: every type with new facilities).")


def chain_problems(data: dict) -> list[str]:
    """References of a chain that do not resolve, checked on the raw data (so they are found with every other problem)."""
    out: list[str] = []
    facilities = data.get("facilities")
    if not isinstance(facilities, dict):
        return out
    layers = data.get("layers") if isinstance(data.get("layers"), dict) else {}
    criteria = data.get("criteria") if isinstance(data.get("criteria"), dict) else {}
    from ..errors import did_you_mean

    def ref(what: str, name: Any, pool: dict, kind: str) -> None:
        if isinstance(name, str) and pool and name not in pool:
            out.append(f'{what}: no {kind} named "{name}"{did_you_mean(name, pool)}; defined: {", ".join(map(str, pool))}')

    for t, spec in facilities.items():
        if not isinstance(spec, dict):
            continue
        ex = spec.get("existing")
        if isinstance(ex, dict):
            ref(f"facilities.{t}.existing.layer", ex.get("layer"), layers, "layer")
        for c in (spec.get("criteria") or {}) if isinstance(spec.get("criteria"), dict) else {}:
            ref(f"facilities.{t}.criteria", c, criteria, "criterion")
        for r in (spec.get("requires") or {}) if isinstance(spec.get("requires"), dict) else {}:
            ref(f"facilities.{t}.requires", r, layers, "layer")
            if r in layers and isinstance(layers[r], dict) and layers[r].get("value") is None:
                out.append(f'facilities.{t}.requires.{r}: layer "{r}" has no value column to sum (set layers.{r}.value)')
        site = spec.get("site") if isinstance(spec.get("site"), dict) else {}
        for rule in ("avoid", "avoid_share", "near"):
            items = site.get(rule) if isinstance(site.get(rule), list) else []
            for k, item in enumerate(items):
                if isinstance(item, dict):
                    ref(f"facilities.{t}.site.{rule}[{k}].layer", item.get("layer"), layers, "layer")
        if not _builds(spec):
            out.append(f"facilities.{t}: no new facilities and no existing ones; give new: N or existing: {{layer: ...}}")
    links = data.get("links") if isinstance(data.get("links"), list) else []
    for k, link in enumerate(links):
        if isinstance(link, dict):
            for end in ("from", "to"):
                ref(f"links[{k}].{end}", link.get(end), facilities, "facility type")
            if link.get("from") is not None and link.get("from") == link.get("to"):
                out.append(f"links[{k}]: a link from {link['from']} to itself; links join two different facility types")
    cycle = _cycle([(lk.get("from"), lk.get("to")) for lk in links if isinstance(lk, dict)])
    if cycle:
        out.append(f"links: the links form a cycle ({' → '.join(map(str, cycle))}); a supply chain runs one way")
    cl = data.get("clusters")
    if isinstance(cl, dict):
        for key in ("must_contain", "types"):
            names = cl.get(key) if isinstance(cl.get(key), list) else []
            for name in names:
                ref(f"clusters.{key}", name, facilities, "facility type")
                spec = facilities.get(name)
                if isinstance(spec, dict) and key == "must_contain" and not _builds(spec):
                    out.append(f'clusters.must_contain: "{name}" is never built (no new and no existing facilities)')
    return out


def _builds(spec: dict) -> bool:
    """Whether a raw facility type has any facility: new (a positive number, or a positive max) or existing."""
    new = spec.get("new", 0)
    most = new.get("max", 0) if isinstance(new, dict) else new
    return spec.get("existing") is not None or (isinstance(most, (int, float)) and not isinstance(most, bool) and most > 0)


def _cycle(edges: list[tuple[Any, Any]]) -> list[Any] | None:
    """A cycle of the directed graph, as a list of nodes (first node repeated at the end), or None."""
    graph: dict[Any, list[Any]] = {}
    for a, b in edges:
        graph.setdefault(a, []).append(b)
    state: dict[Any, int] = {}
    stack: list[Any] = []

    def visit(node: Any) -> list[Any] | None:
        state[node] = 1
        stack.append(node)
        for nxt in graph.get(node, []):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt):] + [nxt]
            if state.get(nxt) is None:
                found = visit(nxt)
                if found:
                    return found
        stack.pop()
        state[node] = 2
        return None

    for node in list(graph):
        if state.get(node) is None:
            found = visit(node)
            if found:
                return found
    return None
