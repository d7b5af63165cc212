"""CRS handling: everything is stored and computed in EPSG:25832.

GeoPandas only warns when a geographic CRS is used for metric work; we refuse.
"""

from __future__ import annotations

import geopandas as gpd
from pyproj import CRS

from geo.errors import CRSError
from geo.settings import DISPLAY_CRS, PROJECTED_CRS

#: Rough bounds of NRW in EPSG:25832 (metres), with a margin of about 10 km (Höxter reaches 530.5 km east).
NRW_BOUNDS_25832 = (270_000.0, 5_560_000.0, 540_000.0, 5_830_000.0)
#: Rough bounds of NRW in EPSG:4326 (lon/lat), with a margin.
NRW_BOUNDS_4326 = (5.7, 50.2, 9.6, 52.6)


def ensure_projected(gdf: gpd.GeoDataFrame, what: str = "Eingabe") -> gpd.GeoDataFrame:
    """Check that ``gdf`` is in EPSG:25832 and return it unchanged.

    Parameters
    ----------
    gdf
        Any GeoDataFrame.
    what
        Name of the input for the error message.

    Raises
    ------
    CRSError
        If the CRS is missing or is not EPSG:25832.

    Notes
    -----
    Planning functions call this on every input: distances are in metres.
    """
    if gdf.crs is None:
        raise CRSError(
            f"{what}: Kein Koordinatenbezugssystem (CRS) gesetzt. "
            f"Bitte die Daten nach {PROJECTED_CRS} (ETRS89 / UTM 32N) projizieren."
        )
    crs = CRS.from_user_input(gdf.crs)
    if crs.is_geographic or crs != CRS.from_user_input(PROJECTED_CRS):
        raise CRSError(
            f"{what}: CRS ist {crs.to_string()}, erwartet wird {PROJECTED_CRS} (Meter). "
            f"Bitte mit to_projected() bzw. .to_crs('{PROJECTED_CRS}') umrechnen."
        )
    return gdf


def to_projected(gdf: gpd.GeoDataFrame, what: str = "Eingabe") -> gpd.GeoDataFrame:
    """Return ``gdf`` reprojected to EPSG:25832.

    Raises
    ------
    CRSError
        If ``gdf`` has no CRS: we never guess one.
    """
    if gdf.crs is None:
        raise CRSError(
            f"{what}: Kein Koordinatenbezugssystem (CRS) gesetzt; bitte angeben "
            f"(z. B. {PROJECTED_CRS} für UTM-Koordinaten oder EPSG:4326 für Längen-/Breitengrad)."
        )
    if CRS.from_user_input(gdf.crs) == CRS.from_user_input(PROJECTED_CRS):
        return gdf
    return gdf.to_crs(PROJECTED_CRS)


def to_display(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Return ``gdf`` in EPSG:4326 for drawing on a web map."""
    return gdf.to_crs(DISPLAY_CRS)
