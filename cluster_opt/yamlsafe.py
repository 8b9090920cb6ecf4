"""YAML read strictly: duplicate keys refused, and no alias bomb or deep nesting can blow up memory or time.

PyYAML's safe loader lets the last of two equal keys win silently, and shares one
object between an anchor and its aliases, so a few lines can describe a structure
of billions of values that any later walk (validation, a message, JSON) expands.
Here the composed document is measured first, counting every alias as the copy it
stands for, and refused above ``MAX_VALUES``.
"""

from __future__ import annotations

from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from .errors import ConfigError

MAX_VALUES = 100_000  # keys, values and list items, aliases expanded
MAX_DEPTH = 64


class _Refused(Exception):
    pass


class _StrictLoader(yaml.SafeLoader):
    """A safe loader that refuses duplicate keys in a mapping."""

    def construct_mapping(self, node, deep=False):
        if isinstance(node, MappingNode):
            seen: dict[Any, Any] = {}
            for key_node, _ in node.value:
                if key_node.tag == "tag:yaml.org,2002:merge":
                    continue
                key = self.construct_object(key_node, deep=True)
                try:
                    hash(key)
                except TypeError:
                    continue  # the base class reports unhashable keys
                if key in seen:
                    raise yaml.constructor.ConstructorError(
                        None, None, f'duplicate key "{_short(key)}" (first at line {seen[key].line + 1}); each key may appear once', key_node.start_mark)
                seen[key] = key_node.start_mark
        return super().construct_mapping(node, deep)


def _short(x: Any, limit: int = 60) -> str:
    s = str(x)
    return s if len(s) <= limit else s[:limit] + "…"


def _size(node: Node, memo: dict[int, int], active: set[int], depth: int) -> int:
    """How many values the node stands for once every alias is expanded."""
    k = id(node)
    if k in memo:
        return memo[k]
    if k in active:
        raise _Refused("an alias refers to the mapping or list that contains it (a recursive structure)")
    if depth > MAX_DEPTH:
        raise _Refused(f"the document is nested more than {MAX_DEPTH} levels deep")
    active.add(k)
    n = 1
    if isinstance(node, SequenceNode):
        for child in node.value:
            n += _size(child, memo, active, depth + 1)
            if n > MAX_VALUES:
                break
    elif isinstance(node, MappingNode):
        for key, value in node.value:
            n += _size(key, memo, active, depth + 1) + _size(value, memo, active, depth + 1)
            if n > MAX_VALUES:
                break
    elif not isinstance(node, ScalarNode):  # pragma: no cover - PyYAML has only these three
        raise _Refused("an unknown kind of YAML node")
    active.discard(k)
    memo[k] = n
    if n > MAX_VALUES:
        raise _Refused(f"it expands to more than {MAX_VALUES:,} values (repeated YAML aliases?); a config is far smaller")
    return n


def load_yaml(text: str, source: str) -> Any:
    """Parse one YAML document strictly; raise ConfigError naming the file, line and problem."""
    loader = None
    try:
        loader = _StrictLoader(text)
        node = loader.get_single_node()
        if node is None:
            return None
        _size(node, {}, set(), 0)
        return loader.construct_document(node)
    except _Refused as e:
        raise ConfigError(f"{source}: refused: {e}") from None
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        if str(getattr(e, "problem", "")).startswith("duplicate key") and mark:
            raise ConfigError(f"{source}: line {mark.line + 1}, column {mark.column + 1}: {e.problem}") from None
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(e, "problem", None) or "invalid YAML"
        raise ConfigError(f"{source}: YAML syntax error{where}: {problem}") from None
    except RecursionError:
        raise ConfigError(f"{source}: refused: the document is nested too deeply") from None
    finally:
        if loader is not None:
            loader.dispose()
