"""Facilities × boundaries: the Kreis and Gemeinde of each facility, counts per unit.

Everything is a spatial join in EPSG:25832 against the boundary layers; the
AGS written in an imported file is never trusted blindly.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.boundaries import load_boundaries
from geo.errors import IntegrationsatlasError
from geo.layers.loading import load_layer
from geo.layers.registry import REGISTRY, LayerRegistry
from geo.projection import ensure_projected
from geo.settings import Settings

logger = logging.getLogger(__name__)

UnitLevel = Literal["kreis", "gemeinde"]
#: Suffix of the per-10,000-inhabitants columns of :func:`count_per_unit`.
PER_10000_SUFFIX = "_je_10000"


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
        first of them in ``units`` order, so the answer is deterministic.

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
    position[query_idx] = _first_hits(units.sindex.query(geoms[query_idx], predicate="intersects"), len(query_idx))
    if nearest:
        outside = np.flatnonzero(valid & (position < 0))
        if len(outside):
            hits = units.sindex.nearest(geoms[outside], return_all=True, max_distance=max_distance)
            position[outside] = _first_hits(hits, len(outside))
            logger.info("%d of %d geometries outside every unit, matched to the nearest one",
                        int((position[outside] >= 0).sum()), len(outside))
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


def _first_hits(hits: np.ndarray, n: int) -> np.ndarray:
    """Per input ``0..n-1`` the smallest tree position among ``hits`` (``-1`` where none)."""
    out = np.full(n, -1, dtype=np.intp)
    if hits.shape[1]:
        order = np.lexsort((hits[1], hits[0]))
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
    CRS EPSG:25832 (metres). Points on a border go to the first unit in the
    order of the boundary layer (sorted by AGS when loaded with
    :func:`geo.boundaries.load_boundaries`).
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
        counts = located.value_counts().reindex(out["ags"], fill_value=0).to_numpy(dtype="int64")
        out[layer_id] = counts
        out[layer_id + PER_10000_SUFFIX] = counts / pop_float * 10_000.0
    return out


def count_per_unit(
    level: UnitLevel,
    settings: Settings,
    layers: Sequence[str] | None = None,
    registry: LayerRegistry = REGISTRY,
) -> pd.DataFrame:
    """Facilities per Kreis or Gemeinde, with counts per 10,000 inhabitants.

    Parameters
    ----------
    level
        ``kreis`` (53 units) or ``gemeinde`` (396, once loaded).
    settings
        Where the embedded data and the local store live.
    layers
        Facility layer ids; ``None`` takes every layer of group ``facility``.
    registry
        The layer registry.

    Returns
    -------
    pandas.DataFrame
        See :func:`count_in_units`. Population: Kreise from the Destatis
        statistics (:func:`geo.statistics.kreis_indicators`, latest year),
        Gemeinden from the fetched Gemeindeverzeichnis or the ``population``
        column of the Gemeinde layer.

    Raises
    ------
    NotLoadedError
        If ``level`` is ``gemeinde`` and no Gemeinden are loaded.
    IntegrationsatlasError
        For an unknown level or layer id.

    Notes
    -----
    Spatial joins in EPSG:25832 (metres).
    """
    if level not in ("kreis", "gemeinde"):
        raise IntegrationsatlasError(f"Unbekannte Ebene »{level}«: erlaubt sind »kreis« und »gemeinde«.")
    ids = [s.id for s in registry.facilities()] if layers is None else list(dict.fromkeys(layers))
    specs = [registry.get(i) for i in ids]
    not_points = [s.id for s in specs if s.kind != "point"]
    if not_points:
        raise IntegrationsatlasError(
            f"Nur Punktebenen können gezählt werden, nicht: {', '.join(not_points)}."
        )
    units = load_boundaries(level, settings)
    frames = {s.id: load_layer(s.id, settings, registry) for s in specs}
    return count_in_units(units, frames, _population(level, units, settings))


def _population(level: UnitLevel, units: gpd.GeoDataFrame, settings: Settings) -> pd.Series | None:
    if level == "kreis":
        from geo.statistics import kreis_indicators

        try:
            return kreis_indicators(settings)["population"]
        except IntegrationsatlasError as exc:
            logger.warning("Kreis population not available: %s", exc)
            return None
    from geo.sources.destatis import load_gemeinde_population

    table = load_gemeinde_population(settings)
    if table is not None:
        return table["population"]
    if "population" in units.columns:
        pop = pd.to_numeric(units["population"], errors="coerce")
        if pop.notna().any():
            return pd.Series(pop.to_numpy(), index=units["ags"].astype(str))
    return None
