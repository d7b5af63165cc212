"""The one spatial vocabulary: administrative levels, AGS codes and the point-in-area rule.

Every screen, command, export and report that asks "which Kreis or Gemeinde is
this point in?" or "how many facilities does each unit hold?" calls this
module, so the answers agree everywhere.

The point-in-area rule
    A point belongs to the unit whose polygon **covers** it (interior or
    boundary). A point on a border shared by several units (an edge or a
    vertex) belongs to the one with the **smallest AGS**; the answer does not
    depend on the order of the boundary table. A point outside every unit
    belongs to none (``NA``), unless a caller asks for the nearest unit.
    Polygons and lines count by a representative point (always inside them).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Literal, cast, get_args

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.errors import DataError, IntegrationsatlasError
from geo.layers.loading import is_available, load_layer
from geo.layers.registry import REGISTRY
from geo.privacy import record_weights
from geo.projection import ensure_projected
from geo.settings import Settings

logger = logging.getLogger(__name__)

#: An administrative level of NRW, from the Land down to the Gemeinden.
Level = Literal["land", "regbez", "kreis", "gemeinde"]
LEVELS: tuple[Level, ...] = get_args(Level)
#: Levels at which facilities are counted and coverage is tabulated.
UnitLevel = Literal["kreis", "gemeinde"]
UNIT_LEVELS: tuple[UnitLevel, ...] = get_args(UnitLevel)
#: Length of the AGS at each level (Land ``05``, Regierungsbezirk ``051``,
#: Kreis ``05111``, Gemeinde ``05111000``).
AGS_LENGTH: dict[Level, int] = {"land": 2, "regbez": 3, "kreis": 5, "gemeinde": 8}
#: German names of the levels.
LEVEL_TITLES: dict[Level, str] = {
    "land": "Land",
    "regbez": "Regierungsbezirk",
    "kreis": "Kreis / kreisfreie Stadt",
    "gemeinde": "Gemeinde",
}
#: Suffix of the per-10,000-inhabitants columns of :func:`count_in_units`.
PER_10000_SUFFIX = "_je_10000"
_LEVEL_BY_LENGTH: dict[int, Level] = {n: lvl for lvl, n in AGS_LENGTH.items()}


def level_of(ags: str) -> Level:
    """The administrative level of an NRW AGS, from its length.

    Raises
    ------
    DataError
        If ``ags`` is not an NRW key of 2, 3, 5 or 8 digits starting with ``05``.

    Examples
    --------
    >>> level_of("05334"), level_of("05334002"), level_of("05")
    ('kreis', 'gemeinde', 'land')
    """
    text = str(ags).strip()
    level = _LEVEL_BY_LENGTH.get(len(text))
    if level is None or not text.isdigit() or not text.startswith("05"):
        raise DataError(
            f"»{ags}« ist kein AGS in NRW. Erwartet wird ein Schlüssel mit 05 am Anfang: "
            "05 (Land), 051 (Regierungsbezirk), 05334 (Kreis) oder 05334002 (Gemeinde)."
        )
    return level


def check_level(level: str) -> Level:
    """Return ``level`` if it is a known administrative level.

    Raises
    ------
    IntegrationsatlasError
        Listing the known levels.
    """
    if level not in LEVELS:
        raise IntegrationsatlasError(f"Unbekannte Ebene »{level}«. Erlaubt sind: {', '.join(LEVELS)}.")
    return cast(Level, level)


def load_boundaries(level: Level, settings: Settings) -> gpd.GeoDataFrame:
    """Load the boundaries of one administrative ``level``, sorted by AGS.

    Parameters
    ----------
    level
        ``land`` (1), ``regbez`` (5), ``kreis`` (53) or ``gemeinde`` (396).
    settings
        Where the embedded data and the local store live.

    Returns
    -------
    geopandas.GeoDataFrame
        Polygons in EPSG:25832 with at least ``ags`` and ``name``.

    Raises
    ------
    NotLoadedError
        When the level has no data yet; the message says how to get it.

    Notes
    -----
    CRS is EPSG:25832 (metres).
    """
    spec = REGISTRY.boundary(check_level(level))
    gdf = load_layer(spec.id, settings)
    return gdf.sort_values("ags").reset_index(drop=True)


def available_levels(settings: Settings) -> tuple[Level, ...]:
    """The boundary levels that have data right now."""
    return tuple(lvl for lvl in LEVELS if is_available(REGISTRY.boundary(lvl).id, settings))


def unit_of(
    points: gpd.GeoSeries,
    units: gpd.GeoDataFrame,
    column: str = "ags",
    *,
    nearest: bool = False,
    max_distance: float | None = None,
) -> pd.Series:
    """The ``column`` value of the unit polygon each geometry lies in.

    This is the one point-in-unit join of the project: facilities, demand
    points, imported rows and Zensus cells are all located with it.

    Parameters
    ----------
    points
        Geometries (non-point geometries use their representative point,
        which always lies inside them).
    units
        Boundary polygons, in the same CRS.
    column
        Attribute of ``units`` to return, usually ``ags``.
    nearest
        Give geometries outside every unit (e.g. just outside a simplified
        border) the value of the nearest unit instead of ``NA``.
    max_distance
        With ``nearest``: only units at most this far away (CRS units,
        metres in EPSG:25832); ``None`` means no limit.

    Returns
    -------
    pandas.Series
        Indexed like ``points``, dtype ``string``; ``NA`` for missing or
        empty geometries and (without ``nearest``) outside every unit.
        A point on a shared border, or equally near to two units, takes the
        one with the smallest ``column`` value (the smallest AGS), whatever
        the order of ``units`` (see the module's point-in-area rule).

    Notes
    -----
    Vectorised STRtree queries (``intersects``, then ``nearest``) in the CRS
    of the inputs (EPSG:25832 in this project); no loop over points.

    Examples
    --------
    >>> from shapely.geometry import Point, box
    >>> units = gpd.GeoDataFrame({"ags": ["05111", "05112"]},
    ...                          geometry=[box(0, 0, 10, 10), box(10, 0, 20, 10)], crs="EPSG:25832")
    >>> pts = gpd.GeoSeries([Point(5, 5), Point(10, 5), Point(50, 5)], crs="EPSG:25832")
    >>> unit_of(pts, units).tolist()
    ['05111', '05111', <NA>]
    >>> unit_of(pts, units, nearest=True).tolist()
    ['05111', '05111', '05112']
    """
    result = pd.Series(pd.NA, index=points.index, dtype="string")
    if len(points) == 0 or len(units) == 0:
        return result
    geoms = representative_points(points).to_numpy()
    valid = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    position = np.full(len(geoms), -1, dtype=np.intp)  # row position in `units`
    query_idx = np.flatnonzero(valid)
    rank = _rank(units[column])
    hits = units.sindex.query(geoms[query_idx], predicate="intersects")
    position[query_idx] = _first_hits(hits, len(query_idx), rank)
    if nearest:
        outside = np.flatnonzero(valid & (position < 0))
        if len(outside):
            hits = units.sindex.nearest(geoms[outside], return_all=True, max_distance=max_distance)
            position[outside] = _first_hits(hits, len(outside), rank)
            logger.info(
                "%d of %d geometries outside every unit, matched to the nearest one",
                int((position[outside] >= 0).sum()),
                len(outside),
            )
    found = np.flatnonzero(position >= 0)
    values = units[column].astype("string").to_numpy()
    result.iloc[found] = values[position[found]]
    return result


def representative_points(geometry: gpd.GeoSeries) -> gpd.GeoSeries:
    """Points as they are; other geometries by a representative point (always inside them).

    Missing and empty geometries stay as they are. Index and CRS are kept.
    """
    geoms = geometry.to_numpy()
    other = ~(shapely.is_missing(geoms) | (shapely.get_type_id(geoms) == shapely.GeometryType.POINT))
    if not other.any():
        return geometry
    geoms = geoms.copy()
    geoms[other] = shapely.point_on_surface(geoms[other])
    return gpd.GeoSeries(geoms, index=geometry.index, crs=geometry.crs)


def _rank(values: pd.Series) -> np.ndarray:
    """Rank of each unit by its key (ties by position), for the smallest-AGS rule."""
    keys = values.astype("string").fillna("").to_numpy(dtype=object)
    order = np.argsort(keys, kind="stable")
    rank = np.empty(len(keys), dtype=np.intp)
    rank[order] = np.arange(len(keys))
    return rank


def _first_hits(hits: np.ndarray, n: int, rank: np.ndarray) -> np.ndarray:
    """Per input ``0..n-1`` the hit unit of smallest ``rank`` (``-1`` where none)."""
    out = np.full(n, -1, dtype=np.intp)
    if hits.shape[1]:
        order = np.lexsort((rank[hits[1]], hits[0]))
        inputs, trees = hits[0][order], hits[1][order]
        first = np.unique(inputs, return_index=True)[1]
        out[inputs[first]] = trees[first]
    return out


def assign_units(
    facilities: gpd.GeoDataFrame,
    kreise: gpd.GeoDataFrame,
    gemeinden: gpd.GeoDataFrame | None = None,
) -> gpd.GeoDataFrame:
    """Fill ``kreis_ags`` and (when Gemeinden are loaded) ``gemeinde_ags`` by a spatial join.

    Parameters
    ----------
    facilities
        Facility points in EPSG:25832.
    kreise
        Kreis polygons with ``ags`` (5 digits) in EPSG:25832.
    gemeinden
        Gemeinde polygons with ``ags`` (8 digits) in EPSG:25832, or ``None``;
        then ``gemeinde_ags`` is left as it is (``NA`` if absent).

    Returns
    -------
    geopandas.GeoDataFrame
        A copy of ``facilities`` with the same index and the two columns set
        (``NA`` outside NRW).

    Raises
    ------
    CRSError
        If any input is not in EPSG:25832.

    Notes
    -----
    CRS EPSG:25832 (metres). Points on a border follow the module's
    point-in-area rule (smallest AGS).
    """
    ensure_projected(facilities, "Einrichtungen")
    ensure_projected(kreise, "Kreise")
    out = facilities.copy()
    out["kreis_ags"] = unit_of(out.geometry, kreise)
    if gemeinden is not None:
        ensure_projected(gemeinden, "Gemeinden")
        out["gemeinde_ags"] = unit_of(out.geometry, gemeinden)
    elif "gemeinde_ags" not in out.columns:
        out["gemeinde_ags"] = pd.Series(pd.NA, index=out.index, dtype="string")
    return out


def count_in_units(
    units: gpd.GeoDataFrame,
    layers: Mapping[str, gpd.GeoDataFrame],
    population: pd.Series | None = None,
) -> pd.DataFrame:
    """Count the facilities of each layer per unit, absolutely and per 10,000 inhabitants.

    Parameters
    ----------
    units
        Boundary polygons with ``ags`` and ``name``, EPSG:25832.
    layers
        Facility points per layer id, EPSG:25832.
    population
        Inhabitants indexed by ``ags``; missing units get ``NA``.

    Returns
    -------
    pandas.DataFrame
        One row per unit in ``units`` order: ``ags``, ``name``,
        ``population`` (``Int64``), then per layer ``<id>`` (int) and
        ``<id>_je_10000`` (float, ``NaN`` where the population is unknown or 0 —
        never 0).

    Notes
    -----
    Facilities are located by :func:`unit_of` (EPSG:25832, metres);
    facilities outside every unit are not counted.

    Examples
    --------
    >>> from shapely.geometry import Point, box
    >>> units = gpd.GeoDataFrame({"ags": ["05111", "05112"], "name": ["A", "B"]},
    ...                          geometry=[box(0, 0, 10, 10), box(10, 0, 20, 10)], crs="EPSG:25832")
    >>> kitas = gpd.GeoDataFrame(geometry=[Point(1, 1), Point(2, 2), Point(15, 5)], crs="EPSG:25832")
    >>> pop = pd.Series({"05111": 20_000})
    >>> count_in_units(units, {"kita": kitas}, pop)[["ags", "kita", "kita_je_10000"]].to_dict("records")
    [{'ags': '05111', 'kita': 2, 'kita_je_10000': 1.0}, {'ags': '05112', 'kita': 1, 'kita_je_10000': nan}]
    """
    ensure_projected(units, "Gebietseinheiten")
    ags = units["ags"].astype("string")
    out = pd.DataFrame({"ags": ags.to_numpy(), "name": units["name"].astype("string").to_numpy()})
    if population is not None:
        pop = pd.to_numeric(population.rename(index=str), errors="coerce")
        out["population"] = pop.reindex(list(out["ags"].astype(str))).round().astype("Int64").to_numpy()
    else:
        out["population"] = pd.array([pd.NA] * len(out), dtype="Int64")
    pop_float = out["population"].astype("Float64").to_numpy(dtype="float64", na_value=np.nan)
    pop_float = np.where(pop_float > 0, pop_float, np.nan)
    for layer_id, gdf in layers.items():
        ensure_projected(gdf, f"Ebene »{layer_id}«")
        located = unit_of(gdf.geometry, units)
        weights = record_weights(gdf).set_axis(located.index)  # an aggregated layer counts its points
        counts = weights.groupby(located).sum().reindex(out["ags"], fill_value=0).to_numpy(dtype="int64")
        out[layer_id] = counts
        out[layer_id + PER_10000_SUFFIX] = counts / pop_float * 10_000.0
    return out
