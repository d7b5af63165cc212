"""GeoNames places in NRW with their Kreis."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import geopandas as gpd
import numpy as np

from geo.settings import PROJECTED_CRS
from geo.units import unit_of
from scripts.databuild.config import PLACE_MAX_DISTANCE_M

logger = logging.getLogger(__name__)


# --- places ---------------------------------------------------------------


def read_geonames_nrw(cities_json: Path) -> gpd.GeoDataFrame:
    """Read the GeoNames populated places of NRW from ``cities500.json``.

    Keeps ``countrycode == "DE"`` and ``admin1code == "07"`` (NRW).

    Returns
    -------
    geopandas.GeoDataFrame
        Columns ``id`` (geonameid as str), ``name``, ``population`` (int),
        ``alternatenames`` (tuple of str), geometry; sorted by numeric id.

    Notes
    -----
    Input coordinates are WGS84 lon/lat; output CRS EPSG:25832 (metres).
    """
    with cities_json.open(encoding="utf-8") as fh:
        cities = json.load(fh)
    rows = [c for c in cities.values() if c.get("countrycode") == "DE" and c.get("admin1code") == "07"]
    rows.sort(key=lambda c: int(c["geonameid"]))
    places = gpd.GeoDataFrame(
        {
            "id": [str(c["geonameid"]) for c in rows],
            "name": [str(c["name"]) for c in rows],
            "population": np.array([int(c["population"]) for c in rows], dtype="int64"),
            "alternatenames": [tuple(c.get("alternatenames") or ()) for c in rows],
        },
        geometry=gpd.points_from_xy([c["longitude"] for c in rows], [c["latitude"] for c in rows]),
        crs="EPSG:4326",
    ).to_crs(PROJECTED_CRS)
    logger.info("GeoNames: %d Orte in NRW (DE/07)", len(places))
    return places


def assign_kreis(
    places: gpd.GeoDataFrame,
    kreise: gpd.GeoDataFrame,
    max_distance_m: float = PLACE_MAX_DISTANCE_M,
) -> gpd.GeoDataFrame:
    """Add ``kreis_ags``: the AGS of the Kreis polygon each place lies in.

    Places outside every polygon (border generalisation) take the nearest
    Kreis within ``max_distance_m``; places farther away are dropped and logged.
    A place on a shared border takes the smaller AGS.

    Parameters
    ----------
    places
        Points in EPSG:25832.
    kreise
        Kreis polygons in EPSG:25832 with column ``ags``.
    max_distance_m
        Largest distance in metres for the nearest-Kreis fallback.

    Returns
    -------
    geopandas.GeoDataFrame
        ``places`` (same index, minus dropped rows) with column ``kreis_ags``.

    Notes
    -----
    CRS EPSG:25832, distances in metres.

    Examples
    --------
    >>> from shapely import box, Point
    >>> k = gpd.GeoDataFrame({"ags": ["05111", "05112"]}, geometry=[box(0, 0, 10, 10), box(10, 0, 20, 10)],
    ...                      crs="EPSG:25832")
    >>> p = gpd.GeoDataFrame(geometry=[Point(5, 5), Point(15, 11), Point(50, 50)], crs="EPSG:25832")
    >>> assign_kreis(p, k, max_distance_m=5)["kreis_ags"].tolist()
    ['05111', '05112']
    """
    by_ags = kreise.sort_values("ags")  # ties (border, equal distance) go to the smaller AGS
    result = places.copy()
    result["kreis_ags"] = unit_of(places.geometry, by_ags)
    outside = result["kreis_ags"].isna().to_numpy()
    if outside.any():
        near = unit_of(places.geometry[outside], by_ags, nearest=True, max_distance=max_distance_m)
        result.loc[result.index[outside], "kreis_ags"] = near
        matched = near.dropna()
        shapes = by_ags.set_index(by_ags["ags"].astype(str)).geometry
        distance = places.geometry.loc[matched.index].distance(shapes.loc[matched.to_numpy()], align=False)
        for idx, ags, metres in zip(matched.index, matched, distance, strict=True):
            logger.info("Ort %s liegt %.0f m außerhalb aller Kreise → nächster Kreis %s", idx, metres, ags)
    far = result["kreis_ags"].isna()
    for idx in result.index[far]:
        logger.warning("Ort %s liegt mehr als %.0f m von jedem Kreis entfernt und wird verworfen", idx, max_distance_m)
    result = result[~far]
    result["kreis_ags"] = result["kreis_ags"].astype(str)
    return result
