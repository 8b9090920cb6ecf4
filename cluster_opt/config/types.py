"""The building blocks of every config model: strict numbers, key names, and a base that validates edits."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, StringConstraints, ValidationError

from ..errors import ConfigError

BUILTIN_LAYERS = ("minerals", "power_plants", "ports", "labor", "labor_2009", "battery_sites", "intermodal_terminals", "electricity_prices",
                  "energy_communities", "opportunity_zones", "tech_hubs")


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
            from .problems import describe

            problems = [describe(err, None) for err in e.errors()]
            raise ConfigError(f"{type(self).__name__.lower()}.{problems[0]}", problems) from None


def _short(x: Any) -> str:
    from .problems import short

    return short(x)
