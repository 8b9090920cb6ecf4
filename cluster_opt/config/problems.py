"""Config problems in the planner's words: every field error and every broken reference, all at once."""

from __future__ import annotations

import typing
from typing import Any

from pydantic import BaseModel, ValidationError

from ..errors import did_you_mean

_UNION_TAGS = {"StudyArea", "county", "h3", "file"}
_MAX_SHOWN = 60


def problems_of(e: ValidationError, raw: Any) -> list[str]:
    """One line per problem: pydantic's field errors, then references to undefined layers."""
    from .scenario import reference_problems

    errors = e.errors()
    # For "conus" | {states: [...]} keep the branch the planner meant: drop the literal's error
    # when the mapping branch has its own.
    branch = {err["loc"][0] for err in errors if len(err["loc"]) > 1 and not str(err["loc"][1]).startswith("literal[")}
    errors = [err for err in errors if not (len(err["loc"]) > 1 and str(err["loc"][1]).startswith("literal[") and err["loc"][0] in branch)]
    errors.sort(key=lambda err: err["type"] != "extra_forbidden")  # a typo explains the missing key after it
    out = [describe(err, raw) for err in errors]
    out += [p for p in reference_problems(raw) if p not in out]  # every broken reference, not only the first
    return list(dict.fromkeys(out))


def describe(err: dict[str, Any], raw: Any) -> str:
    """One pydantic error as 'key.path: what is wrong, found X'."""
    kind = err["type"]
    loc = _clean_loc(tuple(err["loc"]))
    if loc and loc[-1] == "[key]":
        return f"{'.'.join(map(str, loc[:-2]))}: the name {short(loc[-2])} is not allowed; expected printable text of 1 to 64 characters"
    where = ".".join(str(p) for p in loc) or "(top level)"
    if kind == "extra_forbidden":
        fields = _fields_at(loc[:-1], raw)
        hint = did_you_mean(loc[-1], fields)
        return f"{where}: unknown key{hint}" + (f"; expected one of: {', '.join(fields)}" if fields else "")
    if kind == "missing":
        return f"{where}: required key is missing"
    msg = err["msg"].removeprefix("Value error, ")
    if kind == "finite_number":
        msg = "expected a finite number"
    if not loc and kind == "value_error":
        return msg  # cross-field rules name their own keys
    found = err.get("input")
    if kind != "value_error":
        return f"{where}: {msg}, found {short(found)}"
    return f"{where}: {msg}"


def short(x: Any, limit: int = _MAX_SHOWN) -> str:
    """A value as the planner wrote it, cut short: never the repr of a huge structure."""
    if isinstance(x, (dict, list, tuple)):
        return f"a {'mapping' if isinstance(x, dict) else 'list'} of {len(x)} item(s)"
    s = repr(x) if isinstance(x, str) else str(x)
    return s if len(s) <= limit else s[:limit] + "…"


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
    from .parts import CountyUnits, FileUnits, H3Units
    from .scenario import Config

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
    if isinstance(ann, type) and issubclass(ann, BaseModel):
        return ann
    for a in typing.get_args(ann):
        m = _model_of(a)
        if m is not None:
            return m
    return None
