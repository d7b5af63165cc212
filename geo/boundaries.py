"""Administrative boundaries of NRW by level: land, regbez, kreis, gemeinde."""

from __future__ import annotations

from typing import Literal

import geopandas as gpd

from geo.errors import IntegrationsatlasError
from geo.layers.loading import load_layer
from geo.layers.registry import REGISTRY
from geo.settings import Settings

Level = Literal["land", "regbez", "kreis", "gemeinde"]
LEVELS: tuple[Level, ...] = ("land", "regbez", "kreis", "gemeinde")


def load_boundaries(level: Level, settings: Settings) -> gpd.GeoDataFrame:
    """Load the boundaries of one administrative ``level``.

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
        For ``gemeinde`` when no official Gemeinde data has been loaded yet;
        the message says how to fetch or import it.

    Notes
    -----
    CRS is EPSG:25832 (metres).
    """
    if level not in LEVELS:
        raise IntegrationsatlasError(
            f"Unbekannte Ebene »{level}«. Erlaubt sind: {', '.join(LEVELS)}."
        )
    spec = REGISTRY.boundary(level)
    gdf = load_layer(spec.id, settings)
    return gdf.sort_values("ags").reset_index(drop=True)


def available_levels(settings: Settings) -> tuple[Level, ...]:
    """The boundary levels that have data right now."""
    from geo.layers.loading import is_available

    return tuple(lvl for lvl in LEVELS if is_available(REGISTRY.boundary(lvl).id, settings))
