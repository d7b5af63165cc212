"""Kreise, Regierungsbezirke and the Land from the BKG VG250 shapefile."""

from __future__ import annotations

import logging
import warnings
from pathlib import Path

import geopandas as gpd
import pandas as pd
import shapely
from shapely.geometry.base import BaseGeometry

from geo.errors import Problem, raise_if_problems
from geo.settings import PROJECTED_CRS
from scripts.databuild.config import (
    BEZ_ALLOWED,
    BEZ_NORMALISATION,
    LAND_AGS,
    LAND_NAME,
    N_KREISE,
    N_KREISFREIE_STAEDTE,
    REGBEZ_NAMES,
)

logger = logging.getLogger(__name__)


# --- boundaries -----------------------------------------------------------


def polygonal(geom: BaseGeometry) -> BaseGeometry:
    """Return the polygonal part of ``geom`` after :func:`shapely.make_valid`.

    >>> from shapely import Polygon
    >>> bow_tie = Polygon([(0, 0), (2, 2), (2, 0), (0, 2)])
    >>> polygonal(bow_tie).geom_type, polygonal(bow_tie).area
    ('MultiPolygon', 2.0)
    """
    valid = shapely.make_valid(geom)
    if valid.geom_type in ("Polygon", "MultiPolygon"):
        return valid
    parts = [p for p in shapely.get_parts(valid) if p.geom_type in ("Polygon", "MultiPolygon")]
    flat = [q for p in parts for q in shapely.get_parts(p)]
    return shapely.MultiPolygon(flat) if len(flat) != 1 else flat[0]


def read_kreise(shp: Path) -> gpd.GeoDataFrame:
    """Read the NRW Kreise from a VG250 Kreis shapefile.

    Keeps ``AGS`` starting with ``05`` and ``GF == 4`` (land areas), repairs
    the geometries and normalises ``BEZ``.

    Parameters
    ----------
    shp
        Path of ``VG250_KRS.shp`` (UTF-8 attributes).

    Returns
    -------
    geopandas.GeoDataFrame
        Columns ``ags`` (5 digits), ``name``, ``bez``, ``regbez`` (AGS[:3]),
        ``wsk`` (ISO date), geometry; sorted by ``ags``.

    Raises
    ------
    DataError
        If the result is not 22 kreisfreie Städte and 31 Kreise.

    Notes
    -----
    Output CRS EPSG:25832 (metres), whatever the source CRS (EPSG:4326 here).
    Repairs use :func:`shapely.make_valid` and keep polygonal parts only.
    """
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        raw = gpd.read_file(shp, encoding="utf-8", engine="pyogrio")
    for w in caught:
        logger.info("Beim Lesen von %s: %s", shp.name, w.message)
    nrw = raw[raw["AGS"].str.startswith(LAND_AGS) & (raw["GF"] == 4)].to_crs(PROJECTED_CRS)
    n_invalid = int((~nrw.is_valid).sum())
    bez = nrw["BEZ"].replace(BEZ_NORMALISATION)
    for ags, before, after in zip(nrw["AGS"], nrw["BEZ"], bez, strict=True):
        if before != after:
            logger.info("Kreise: BEZ von %s »%s« → »%s« normalisiert", ags, before, after)
    kreise = (
        gpd.GeoDataFrame(
            {
                "ags": nrw["AGS"].astype(str).to_numpy(),
                "name": nrw["GEN"].astype(str).to_numpy(),
                "bez": bez.astype(str).to_numpy(),
                "regbez": nrw["AGS"].str[:3].to_numpy(),
                "wsk": pd.to_datetime(nrw["WSK"]).dt.strftime("%Y-%m-%d").to_numpy(),
            },
            geometry=[polygonal(g) for g in nrw.geometry],
            crs=PROJECTED_CRS,
        )
        .sort_values("ags")
        .reset_index(drop=True)
    )
    logger.info(
        "Kreise: %d gelesen, %d Geometrien repariert, %d Stützpunkte",
        len(kreise),
        n_invalid,
        len(kreise.get_coordinates()),
    )
    counts = kreise["bez"].value_counts()
    problems = [
        Problem(f"BEZ »{b}« unbekannt", file=shp.name, column="BEZ")
        for b in sorted(set(kreise["bez"]) - set(BEZ_ALLOWED))
    ]
    if counts.get("Kreisfreie Stadt", 0) != N_KREISFREIE_STAEDTE or counts.get("Kreis", 0) != N_KREISE:
        problems.append(
            Problem(f"erwartet 22 kreisfreie Städte und 31 Kreise, gefunden {counts.to_dict()}", file=shp.name)
        )
    if kreise["ags"].duplicated().any() or not kreise.is_valid.all():
        problems.append(Problem("AGS doppelt oder Geometrien ungültig", file=shp.name))
    if set(kreise["regbez"]) != set(REGBEZ_NAMES):
        problems.append(Problem(f"Regierungsbezirke {sorted(set(kreise['regbez']))} ≠ {sorted(REGBEZ_NAMES)}"))
    raise_if_problems(problems, "VG250-Kreise unplausibel")
    return kreise


def dissolve_regbez(kreise: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Dissolve the Kreise into the five Regierungsbezirke.

    Returns
    -------
    geopandas.GeoDataFrame
        Columns ``ags`` (3 digits), ``name``, geometry; sorted by ``ags``.

    Notes
    -----
    CRS as the input (EPSG:25832). Geometries are repaired after the union.
    """
    dissolved = kreise[["regbez", "geometry"]].dissolve(by="regbez", sort=True).reset_index()
    return gpd.GeoDataFrame(
        {"ags": dissolved["regbez"], "name": dissolved["regbez"].map(REGBEZ_NAMES)},
        geometry=[polygonal(g) for g in dissolved.geometry],
        crs=kreise.crs,
    )


def dissolve_land(kreise: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Dissolve the Kreise into the outline of NRW (one row, ``ags`` ``05``).

    Notes
    -----
    CRS as the input (EPSG:25832).
    """
    return gpd.GeoDataFrame(
        {"ags": [LAND_AGS], "name": [LAND_NAME]},
        geometry=[polygonal(kreise.union_all())],
        crs=kreise.crs,
    )
