"""Location models on GeoDataFrames: the cost matrix from the geometries, the answer in the frames' index labels."""

from __future__ import annotations

import inspect
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.spatial.distance import cdist

from ..errors import InputError, did_you_mean
from .capacitated import capacitated_facility_location
from .coverage import max_coverage
from .covering import set_covering
from .dispersion import p_dispersion
from .inputs import great_circle_matrix
from .pcenter import p_center
from .pmedian import p_median
from .result import LocateResult

MODELS = {f.__name__: f for f in (p_median, p_center, max_coverage, set_covering, p_dispersion, capacitated_facility_location)}
# Arguments that may name a column: of the demand points' frame, or of the sites' frame.
DEMAND_COLUMNS = ("weights", "demand")
SITE_COLUMNS = ("capacity", "fixed_cost", "forced")


@dataclass
class FrameResult:
    """A model's answer on GeoDataFrames: the result, and the chosen sites and assignments as index labels."""

    result: LocateResult
    sites: pd.Index  # index labels of the open sites
    assignment: pd.Series | None  # per demand point (its label): the label of the site serving it, NA if none; None for p-dispersion
    cost: np.ndarray  # the matrix the model was solved on

    @property
    def objective(self) -> float:
        return self.result.objective


def _points(frame, name: str) -> tuple[np.ndarray, np.ndarray]:
    """x, y of each row: points as they are, other shapes by a point inside them."""
    import geopandas as gpd

    if not isinstance(frame, gpd.GeoDataFrame):
        raise InputError(f"{name}: expected a GeoDataFrame, got {type(frame).__name__}")
    if len(frame) == 0:
        raise InputError(f"{name}: has no rows")
    geom = frame.geometry
    bad = geom.isna() | geom.is_empty
    if bad.any():
        raise InputError(f"{name}: row {frame.index[int(np.argmax(bad.to_numpy()))]!r} has no geometry")
    pts = geom.where(geom.geom_type == "Point", geom.representative_point())
    return pts.x.to_numpy(float), pts.y.to_numpy(float)


def distance_matrix(demand_points, sites, names: tuple[str, str] = ("demand_points", "sites")) -> np.ndarray:
    """Kilometres along great circles for a geographic CRS; straight-line distance in the CRS's units otherwise."""
    ax, ay = _points(demand_points, names[0])
    bx, by = _points(sites, names[1])
    if demand_points.crs != sites.crs:
        raise InputError(f"{names[0]} and {names[1]}: different CRS ({demand_points.crs} and {sites.crs}); reproject one with to_crs")
    if demand_points.crs is not None and demand_points.crs.is_geographic:
        return great_circle_matrix(ay, ax, by, bx)
    return cdist(np.column_stack([ax, ay]), np.column_stack([bx, by]))


def _column(frame, frame_name: str, arg: str, value):
    """A column's values when ``value`` names one, else ``value`` itself."""
    if not isinstance(value, str):
        return value
    if value not in frame.columns:
        raise InputError(f"{arg}: {frame_name} have no column {value!r}{did_you_mean(value, frame.columns)}")
    return frame[value].to_numpy()


def _forced(sites, value) -> np.ndarray | None:
    """Forced sites as positions: from a True/False (or 0/1) column's name, or from index labels."""
    if value is None:
        return None
    if isinstance(value, str):
        flags = np.asarray(_column(sites, "sites", "forced", value))
        if flags.dtype != bool and not np.isin(flags, (0, 1)).all():
            raise InputError(f"forced: column {value!r} of sites must hold True/False (or 1/0)")
        return np.flatnonzero(flags.astype(bool))
    labels = list(np.atleast_1d(np.asarray(value, dtype=object)))
    pos = sites.index.get_indexer(labels)
    if (pos < 0).any():
        raise InputError(f"forced: site label {labels[int(np.argmax(pos < 0))]!r} is not in the sites' index")
    return pos


def from_geodataframes(model, demand_points, sites, **kwargs) -> FrameResult:
    """Solve ``model`` (a name in MODELS, e.g. "p_center", or the function) with costs measured between two GeoDataFrames.

    Rows of ``demand_points`` are the demand points, rows of ``sites`` the candidate sites;
    p-dispersion takes ``demand_points=None`` and measures between the sites. ``weights`` and
    ``demand`` may name a column of ``demand_points``; ``capacity`` and ``fixed_cost`` a column of
    ``sites``; ``forced`` a True/False column of ``sites`` or a list of its index labels. The other
    keyword arguments go to the model as they are (p, radius, solver, ...).
    """
    name = model if isinstance(model, str) else getattr(model, "__name__", repr(model))
    if name not in MODELS:
        raise InputError(f"model: unknown location model {name!r}{did_you_mean(name, MODELS)}; expected one of {', '.join(MODELS)}")
    fn = MODELS[name]
    takes = inspect.signature(fn).parameters
    for arg in kwargs:
        if arg not in takes or arg in ("cost", "distance"):
            raise InputError(f"{arg}: {name} takes no such argument{did_you_mean(arg, [a for a in takes if a not in ('cost', 'distance')])}")
    if name == "p_dispersion":
        if demand_points is not None:
            raise InputError("demand_points: p_dispersion measures between the sites only; pass demand_points=None")
        cost = distance_matrix(sites, sites, ("sites", "sites"))
    else:
        cost = distance_matrix(demand_points, sites)
        for arg in DEMAND_COLUMNS:
            if arg in kwargs:
                kwargs[arg] = _column(demand_points, "demand_points", arg, kwargs[arg])
    for arg in SITE_COLUMNS[:2]:
        if arg in kwargs:
            kwargs[arg] = _column(sites, "sites", arg, kwargs[arg])
    if "forced" in kwargs:
        kwargs["forced"] = _forced(sites, kwargs["forced"])
    res = fn(cost, **kwargs)
    labels = sites.index[res.facilities]
    assignment = None
    if name != "p_dispersion":
        served = res.assignment >= 0
        assignment = pd.Series(pd.NA, index=demand_points.index, dtype=object, name="site")
        assignment.iloc[np.flatnonzero(served)] = sites.index[res.assignment[served]].to_numpy()
    return FrameResult(res, labels, assignment, cost)
