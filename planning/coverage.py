"""Coverage: how much of the demand lies within a cost threshold of a facility.

The cost is either a straight-line distance in metres (from :func:`nearest_distance`,
a KD-tree query in EPSG:25832) or a network travel time in minutes (from
:mod:`planning.network`). The share functions do not care which: they take an
array of costs per demand point and thresholds in the same unit.

A demand point is *covered* at threshold ``t`` when its cost is ``<= t``.
Infinite cost (no facility, not reachable on the network) and NaN are never
covered. Units without demand get a NaN share and ``no_demand=True``: an empty
unit is neither 0 % nor 100 % covered.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from numpy.typing import ArrayLike, NDArray
from scipy.spatial import cKDTree

from geo.errors import DataError, Problem, ValidationError
from geo.projection import ensure_projected

logger = logging.getLogger(__name__)

CostUnit = Literal["m", "km", "min"]

#: Default thresholds of :func:`coverage_curve` per cost unit.
DEFAULT_CURVE_THRESHOLDS: dict[str, tuple[float, ...]] = {
    "m": tuple(float(t) for t in range(0, 30_001, 1_000)),
    "km": tuple(float(t) for t in range(31)),
    "min": tuple(float(t) for t in range(0, 61, 5)),
}


def point_xy(gdf: gpd.GeoDataFrame, what: str = "Eingabe") -> NDArray[np.float64]:
    """Coordinates of a point GeoDataFrame as a C-contiguous ``(n, 2)`` float64 array.

    Parameters
    ----------
    gdf
        Points in EPSG:25832.
    what
        Name of the input for error messages.

    Returns
    -------
    numpy.ndarray
        ``x`` (easting) and ``y`` (northing) in metres, one row per feature.

    Raises
    ------
    CRSError
        If ``gdf`` is not in EPSG:25832.
    ValidationError
        If geometries are missing, empty or not points (every such row is
        reported, as a 1-based row position).

    Notes
    -----
    CRS EPSG:25832, units metres. No copy of the frame is made.
    """
    ensure_projected(gdf, what)
    geoms = np.asarray(gdf.geometry.array)  # the GeometryArray's own object array, no copy
    if len(geoms) == 0:
        return np.empty((0, 2), dtype=np.float64)
    xy = np.empty((len(geoms), 2), dtype=np.float64)
    xy[:, 0] = shapely.get_x(geoms)  # NaN for non-points and missing geometries
    xy[:, 1] = shapely.get_y(geoms)
    is_point = shapely.get_type_id(geoms) == shapely.GeometryType.POINT
    usable = is_point & np.isfinite(xy).all(axis=1)
    if usable.all():
        return xy
    missing = ~usable & (is_point | shapely.is_missing(geoms) | shapely.is_empty(geoms))
    bad = np.flatnonzero(~usable)
    problems = [
        Problem(
            "Geometrie fehlt oder ist leer." if missing[i] else f"Geometrie ist {geoms[i].geom_type} statt Punkt.",
            "Bitte Punktgeometrien verwenden (Flächen z. B. mit representative_point() umwandeln) "
            "oder die Zeile entfernen.",
            row=int(i) + 1,
            column="geometry",
        )
        for i in bad
    ]
    raise ValidationError(
        problems,
        f"{what}: {len(bad)} Objekt(e) sind keine Punkte oder haben keine Geometrie "
        f"(z. B. Index {gdf.index[bad[:5]].tolist()})",
    )


def nearest_distance_xy(
    demand_xy: NDArray[np.float64], facility_xy: NDArray[np.float64], *, workers: int = -1
) -> tuple[NDArray[np.float64], NDArray[np.intp]]:
    """Distance to and position of the nearest facility for every demand point.

    Parameters
    ----------
    demand_xy, facility_xy
        ``(n, 2)`` and ``(m, 2)`` coordinate arrays in metres.
    workers
        Threads for the KD-tree query (``-1``: all cores).

    Returns
    -------
    distance : numpy.ndarray
        Euclidean distance in metres; ``inf`` everywhere when ``m == 0``.
    position : numpy.ndarray
        Row position of the nearest facility in ``facility_xy``; ``m`` (one
        past the end) when there is none.

    Notes
    -----
    Coordinates must be projected (EPSG:25832, metres). One
    :class:`scipy.spatial.cKDTree` is built on the facilities and queried
    once for all demand points.
    """
    n, m = len(demand_xy), len(facility_xy)
    if m == 0:
        return np.full(n, np.inf), np.full(n, 0, dtype=np.intp)
    if n == 0:
        return np.empty(0, dtype=np.float64), np.empty(0, dtype=np.intp)
    tree = cKDTree(facility_xy, balanced_tree=False, compact_nodes=False)
    distance, position = tree.query(demand_xy, k=1, workers=workers)
    return distance, position


def nearest_distance(demand: gpd.GeoDataFrame, facilities: gpd.GeoDataFrame) -> pd.Series:
    """Straight-line distance from each demand point to its nearest facility.

    Parameters
    ----------
    demand
        Demand points.
    facilities
        Facility points.

    Returns
    -------
    pandas.Series
        Named ``distance_m``, indexed like ``demand``; ``inf`` for every
        point when ``facilities`` is empty.

    Raises
    ------
    CRSError
        If either input is not in EPSG:25832 (a geographic CRS is refused).
    DataError
        If a geometry is missing or not a point.

    Notes
    -----
    CRS EPSG:25832; distances in metres (Euclidean in the UTM plane, which
    differs from the ellipsoidal distance by less than 0.1 % in NRW).

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import Point
    >>> dem = gpd.GeoDataFrame(geometry=[Point(400_000, 5_700_000), Point(403_000, 5_704_000)],
    ...                        crs="EPSG:25832")
    >>> fac = gpd.GeoDataFrame(geometry=[Point(400_000, 5_700_000)], crs="EPSG:25832")
    >>> nearest_distance(dem, fac).tolist()
    [0.0, 5000.0]
    """
    dem_xy = point_xy(demand, "Nachfragepunkte")
    fac_xy = point_xy(facilities, "Einrichtungen")
    distance, _ = nearest_distance_xy(dem_xy, fac_xy)
    return pd.Series(distance, index=demand.index, name="distance_m", copy=False)


def _as_float_array(values: ArrayLike, what: str) -> NDArray[np.float64]:
    arr = np.asarray(values, dtype=np.float64)
    if arr.ndim != 1:
        raise DataError(f"{what}: eindimensionale Werte erwartet, erhalten Form {arr.shape}.")
    return arr


def _check_weights(cost: NDArray[np.float64], weight: NDArray[np.float64]) -> None:
    if cost.shape != weight.shape:
        raise DataError(
            f"Kosten ({cost.shape[0]} Werte) und Gewichte ({weight.shape[0]} Werte) sind "
            "unterschiedlich lang; beide müssen je Nachfragepunkt einen Wert haben."
        )
    bad = ~np.isfinite(weight) | (weight < 0)
    if bad.any():
        raise DataError(
            f"{int(bad.sum())} Nachfragegewicht(e) sind negativ oder fehlen (NaN). "
            "Gewichte müssen Zahlen ≥ 0 sein; fehlende Werte bitte mit 0 füllen oder die Punkte entfernen."
        )


def _check_thresholds(thresholds: Sequence[float] | ArrayLike) -> NDArray[np.float64]:
    t = np.atleast_1d(np.asarray(thresholds, dtype=np.float64))
    if t.ndim != 1 or len(t) == 0:
        raise DataError("Mindestens ein Schwellenwert wird benötigt.")
    if not np.isfinite(t).all() or (t < 0).any():
        raise DataError(f"Schwellenwerte müssen endliche Zahlen ≥ 0 sein, erhalten: {t.tolist()}.")
    return t


def covered_share(
    cost: ArrayLike,
    weight: ArrayLike,
    thresholds: Sequence[float],
    groups: pd.Series | None = None,
    *,
    population: ArrayLike | None = None,
    units: Sequence[object] | pd.Index | None = None,
) -> pd.DataFrame:
    """Share of the demand weight within each threshold, overall or per group.

    Parameters
    ----------
    cost
        Cost to the nearest facility per demand point (metres or minutes).
    weight
        Demand weight per demand point (target-group population), ``>= 0``.
    thresholds
        One or more thresholds in the unit of ``cost``.
    groups
        Unit label (e.g. Kreis AGS) per demand point, aligned by position.
        ``None`` computes the overall share.
    population
        Optional total population per demand point; adds
        ``population_total`` and ``population_beyond``.
    units
        All unit labels to report. Units in ``units`` without demand
        points appear with ``no_demand=True``.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``threshold`` (overall) or by (unit, ``threshold``), with
        columns ``weight_total``, ``weight_covered``, ``weight_beyond``,
        ``share_covered`` (in [0, 1], NaN when the unit has no demand
        weight) and ``no_demand``; per group also ``n_points``; plus
        ``population_total`` and ``population_beyond`` when ``population``
        is given.

    Raises
    ------
    DataError
        If lengths differ, a weight is negative or NaN, or a threshold is
        negative.

    Notes
    -----
    Units follow ``cost``: metres for distances, minutes for travel times.
    A point is covered when ``cost <= threshold``; ``inf`` and NaN costs are
    never covered. Runs in O(n · k) for n points and k thresholds.

    Examples
    --------
    >>> res = covered_share([100.0, 900.0, 2_000.0], [1, 1, 2], [1_000, 2_000])
    >>> res[["weight_covered", "share_covered", "no_demand"]]
               weight_covered  share_covered  no_demand
    threshold
    1000.0                2.0            0.5      False
    2000.0                4.0            1.0      False
    """
    c = _as_float_array(cost, "Kosten")
    w = _as_float_array(weight, "Gewichte")
    _check_weights(c, w)
    t = _check_thresholds(thresholds)
    p = None
    if population is not None:
        p = _as_float_array(population, "Bevölkerung")
        _check_weights(c, p)

    if groups is None:
        total = float(w.sum())
        covered = np.array([np.sum(w, where=c <= ti) for ti in t])  # a loop over k thresholds only
        out = pd.DataFrame(
            {"weight_total": total, "weight_covered": covered, "weight_beyond": total - covered},
            index=pd.Index(t, name="threshold"),
        )
        if p is not None:
            out["population_total"] = float(p.sum())
            out["population_beyond"] = np.array([np.sum(p, where=~(c <= ti)) for ti in t])
        return _finish_shares(out)

    if len(groups) != len(c):
        raise DataError(
            f"Gruppenzuordnung ({len(groups)} Werte) und Kosten ({len(c)} Werte) sind unterschiedlich lang."
        )
    codes, labels = _factorize(groups, units)
    n_units = len(labels)
    valid = codes >= 0
    if not valid.all():
        logger.info("%d Nachfragepunkt(e) ohne Gebietszuordnung werden ignoriert", int((~valid).sum()))
        codes, c, w = codes[valid], c[valid], w[valid]
        if p is not None:
            p = p[valid]
    weight_total = np.bincount(codes, weights=w, minlength=n_units)
    count = np.bincount(codes, minlength=n_units)
    frames = []
    for ti in t:
        inside = c <= ti
        cov = np.bincount(codes, weights=np.where(inside, w, 0.0), minlength=n_units)
        part = {"weight_total": weight_total, "weight_covered": cov, "weight_beyond": weight_total - cov}
        if p is not None:
            part["population_total"] = np.bincount(codes, weights=p, minlength=n_units)
            part["population_beyond"] = np.bincount(codes, weights=np.where(inside, 0.0, p), minlength=n_units)
        frame = pd.DataFrame(part, index=labels)
        frame["n_points"] = count
        frame["threshold"] = ti
        frames.append(frame)
    name = groups.name if groups.name is not None else "unit"
    out = pd.concat(frames)
    out.index.name = name
    out = out.set_index("threshold", append=True)
    out = _finish_shares(out)
    return out.sort_index(level=0, sort_remaining=False, kind="stable")


def _factorize(groups: pd.Series, units: Sequence[object] | pd.Index | None) -> tuple[NDArray[np.intp], pd.Index]:
    """Integer codes of ``groups`` against ``units`` (or the observed labels); -1 = not a unit."""
    if units is None:
        codes, labels = pd.factorize(groups, sort=True)
        return np.asarray(codes, dtype=np.intp), pd.Index(labels)
    labels = pd.Index(units)
    if labels.has_duplicates:
        raise DataError("Die Liste der Gebiete enthält doppelte Schlüssel.")
    codes = labels.get_indexer(pd.Index(groups))
    return np.asarray(codes, dtype=np.intp), labels


def _finish_shares(out: pd.DataFrame) -> pd.DataFrame:
    total = out["weight_total"].to_numpy()
    no_demand = total <= 0
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(no_demand, np.nan, out["weight_covered"].to_numpy() / np.where(no_demand, 1.0, total))
    out["share_covered"] = np.clip(share, 0.0, 1.0)
    out["no_demand"] = no_demand
    return out


def coverage_curve(
    cost: ArrayLike,
    weight: ArrayLike,
    thresholds: Sequence[float] | ArrayLike | None = None,
    *,
    unit: CostUnit = "m",
) -> pd.DataFrame:
    """Covered share of the demand as a function of the threshold.

    Parameters
    ----------
    cost
        Cost to the nearest facility per demand point.
    weight
        Demand weight per point, ``>= 0``.
    thresholds
        Thresholds in the unit of ``cost``; ``None`` takes
        :data:`DEFAULT_CURVE_THRESHOLDS` for ``unit`` (0–30 km in 1 km
        steps, or 0–60 min in 5 min steps).
    unit
        Unit of ``cost``: ``"m"``, ``"km"`` or ``"min"``; only used for the
        default thresholds.

    Returns
    -------
    pandas.DataFrame
        Columns ``threshold``, ``weight_covered`` and ``share_covered``
        (NaN for every row when the total weight is 0), sorted by threshold.

    Notes
    -----
    Sort-based: one ``argsort`` of the costs and a cumulative sum, then a
    binary search per threshold, so many thresholds are cheap. Costs in
    metres or minutes, as given.

    Examples
    --------
    >>> coverage_curve([500.0, 1_500.0, float("inf")], [1, 1, 2], [0, 1_000, 2_000])
       threshold  weight_covered  share_covered
    0        0.0             0.0           0.00
    1     1000.0             1.0           0.25
    2     2000.0             2.0           0.50
    """
    c = _as_float_array(cost, "Kosten")
    w = _as_float_array(weight, "Gewichte")
    _check_weights(c, w)
    if thresholds is None:
        if unit not in DEFAULT_CURVE_THRESHOLDS:
            raise DataError(f"Unbekannte Einheit »{unit}«; erlaubt sind m, km und min.")
        thresholds = DEFAULT_CURVE_THRESHOLDS[unit]
    t = np.sort(_check_thresholds(thresholds))
    c = np.where(np.isnan(c), np.inf, c)
    order = np.argsort(c, kind="stable")
    cum = np.concatenate(([0.0], np.cumsum(w[order])))
    covered = cum[np.searchsorted(c[order], t, side="right")]
    total = cum[-1]
    share = np.full(len(t), np.nan) if total <= 0 else np.clip(covered / total, 0.0, 1.0)
    return pd.DataFrame({"threshold": t, "weight_covered": covered, "share_covered": share})
