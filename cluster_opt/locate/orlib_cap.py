"""Beasley's OR-Library capacitated warehouse location instances (cap41..cap134, capa, capb, capc) and their optima."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import DataError


@dataclass
class CapInstance:
    """One instance in the form capacitated_facility_location takes it."""

    cost: np.ndarray  # customers × warehouses: cost of serving ALL of a customer's demand from a warehouse
    demand: np.ndarray
    capacity: np.ndarray
    fixed_cost: np.ndarray


def read_cap(path: str | Path, capacity: float | None = None) -> CapInstance:
    """Read an OR-Library cap file: 'm n', then per warehouse 'capacity fixed_cost', then per customer
    its demand and the cost of allocating all of it to each of the m warehouses.

    capa, capb and capc carry the word ``capacity`` instead of a number; pass the capacity of the
    setting wanted (Beasley 1988, Table 1). A given ``capacity`` replaces every warehouse's capacity.
    """
    path = Path(path)
    try:
        tokens = path.read_text().split()
    except (OSError, UnicodeDecodeError) as e:
        raise DataError(f"{path}: cannot be read as an OR-Library cap file ({e})") from None
    try:
        m, n = int(tokens[0]), int(tokens[1])
    except (IndexError, ValueError):
        raise DataError(f"{path}: not an OR-Library cap file; expected 'warehouses customers' on the first line") from None
    need = 2 + 2 * m + n * (m + 1)
    if m < 1 or n < 1 or len(tokens) != need:
        raise DataError(f"{path}: expected {need} numbers for {m} warehouses and {n} customers, found {len(tokens)}")
    head = np.array(tokens[2:2 + 2 * m], dtype=object).reshape(m, 2)
    named = head[:, 0] == "capacity"
    if named.any() and capacity is None:
        raise DataError(f"{path}: gives capacities as the word 'capacity'; pass capacity= (e.g. 8000 for capa, see capopt.txt)")
    try:
        cap = np.where(named, 0, head[:, 0]).astype(float)
        fixed = head[:, 1].astype(float)
        body = np.array(tokens[2 + 2 * m:], dtype=float).reshape(n, m + 1)
    except ValueError as e:
        raise DataError(f"{path}: has a value that is not a number ({e})") from None
    if capacity is not None:
        cap = np.full(m, float(capacity))
    demand, cost = body[:, 0], body[:, 1:]
    if (cost < 0).any() or (demand < 0).any() or (cap < 0).any() or (fixed < 0).any():
        raise DataError(f"{path}: has negative costs, demands or capacities")
    return CapInstance(cost, demand, cap, fixed)


def read_capopt(path: str | Path) -> dict[tuple[str, float | None], float]:
    """Published optima from OR-Library's capopt: {(instance, capacity or None): value}."""
    path = Path(path)
    try:
        lines = path.read_text().splitlines()
    except (OSError, UnicodeDecodeError) as e:
        raise DataError(f"{path}: cannot be read ({e})") from None
    out: dict[tuple[str, float | None], float] = {}
    name = None
    for line in lines:
        hit = re.match(r"^\s*(cap\w+)?\s+([0-9.]+)(?:\s+\(capacity\s+([0-9.]+)\))?\s*$", line)
        if not hit:
            continue
        name = hit.group(1) or name
        if name is None:
            raise DataError(f"{path}: a value comes before any instance name")
        out[(name, float(hit.group(3)) if hit.group(3) else None)] = float(hit.group(2))
    if not out:
        raise DataError(f"{path}: no 'capNN value' lines; expected OR-Library's capopt")
    return out
