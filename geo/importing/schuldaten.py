"""The MSB NRW Schuldaten format (``schuldaten.csv`` of the Schulministerium).

The Ministerium für Schule und Bildung NRW publishes the master data of every
school as ``;``-separated CSV whose first line is ``sep=;``. Coordinates are
UTM32 (EPSG:25832) and refer to the school's address. :func:`parse_schuldaten`
keeps the Grundschulen in operation (Schulform ``02``, Schulbetriebsschlüssel
``1``) and maps them to the ``ogs`` layer; whether a school offers an OGS is
not in the data, so ``ogs`` is left unknown and never guessed.

Both the file importer (:func:`geo.importing.import_file`) and the online
source use this module.
"""

from __future__ import annotations

import logging

import geopandas as gpd
import numpy as np
import pandas as pd

from geo.errors import SchemaError
from geo.layers.sources import MSB_SCHULDATEN
from geo.settings import PROJECTED_CRS

logger = logging.getLogger(__name__)

#: Value of ``source`` for records from this file.
SOURCE = "MSB NRW Schulgrunddaten"
#: Licence of the MSB open data.
LICENCE = "dl-de/by-2-0"
#: Official download address.
URL = str(MSB_SCHULDATEN.url)
#: Schulform key of the Grundschule.
SCHULFORM_GRUNDSCHULE = "02"
#: Schulbetriebsschlüssel of a school in operation.
IN_BETRIEB = "1"
#: Rechtsform key → Träger shown in the ``traeger`` column.
RECHTSFORM: dict[str, str] = {"1": "öffentlich", "2": "privat"}

#: Columns that identify the format (all must be present).
SIGNATURE: tuple[str, ...] = (
    "Schulnummer",
    "Schulform",
    "Schulbezeichnung_1",
    "PLZ",
    "Ort",
    "Strasse",
    "Rechtsform",
    "Gemeindeschluessel",
    "Schulbetriebsschluessel",
    "UTMRechtswert",
    "UTMHochwert",
)

_NULLS = {"", "null", "none", "nan", "na"}


def is_schuldaten(df: pd.DataFrame) -> bool:
    """Whether ``df`` has the columns of the MSB Schuldaten CSV.

    >>> is_schuldaten(pd.DataFrame(columns=list(SIGNATURE) + ["EPSG"]))
    True
    >>> is_schuldaten(pd.DataFrame(columns=["name", "lon", "lat"]))
    False
    """
    return set(SIGNATURE) <= {str(c).strip() for c in df.columns}


def _text(df: pd.DataFrame, column: str) -> pd.Series:
    """Column as stripped strings with ``null``/empty as missing."""
    if column not in df.columns:
        return pd.Series(pd.NA, index=df.index, dtype="str")
    s = df[column].astype("str").str.strip()
    return s.mask(s.str.lower().isin(_NULLS) | df[column].isna())


def parse_schuldaten(df: pd.DataFrame) -> gpd.GeoDataFrame:
    """Grundschulen in operation from the MSB Schuldaten, in the ``ogs`` schema.

    Parameters
    ----------
    df
        The CSV as read with all columns as text (``sep=;`` line removed).
        Its index is kept, so callers can point to the file's rows.

    Returns
    -------
    geopandas.GeoDataFrame
        One row per Grundschule in operation, with ``id = "MSB-<Schulnummer>"``,
        ``name`` (Schulbezeichnung_1 and _2), ``traeger`` (öffentlich/privat),
        ``strasse``, ``plz``, ``ort``, ``gemeinde_ags`` (8 digits),
        ``kreis_ags`` (5 digits), ``ogs`` (always unknown), ``schulnummer``,
        ``location_precision = "Adresse"`` and ``source``; geometry and
        precision are missing where the file has no coordinates.

    Raises
    ------
    SchemaError
        If a column of the format is missing.

    Notes
    -----
    The coordinates (``UTMRechtswert``/``UTMHochwert``) are in EPSG:25832
    (metres), the CRS of the result. A zone prefix (``32`` before a 6-digit
    easting) is removed.

    Examples
    --------
    >>> raw = pd.DataFrame({c: ["x", "x"] for c in SIGNATURE})
    >>> raw = raw.assign(Schulnummer=["100001", "100002"], Schulform=["02", "04"],
    ...                  Schulbezeichnung_1=["GGS Am Park", "Hauptschule"], Schulbetriebsschluessel="1",
    ...                  Rechtsform="1", Gemeindeschluessel="5315000",
    ...                  UTMRechtswert="356000", UTMHochwert="5645000")
    >>> out = parse_schuldaten(raw)
    >>> out[["id", "name", "traeger", "gemeinde_ags"]].to_dict("records")
    [{'id': 'MSB-100001', 'name': 'GGS Am Park', 'traeger': 'öffentlich', 'gemeinde_ags': '05315000'}]
    """
    missing = [c for c in SIGNATURE if c not in df.columns]
    if missing:
        raise SchemaError(
            f"Die Datei ist keine vollständige MSB-Schuldatei: Spalte(n) {', '.join(missing)} fehlen. "
            f"Bitte die Originaldatei von {URL} verwenden."
        )
    form = _text(df, "Schulform").str.zfill(2)
    status = _text(df, "Schulbetriebsschluessel").str.lstrip("0")
    keep = ((form == SCHULFORM_GRUNDSCHULE) & (status == IN_BETRIEB)).fillna(False).to_numpy(dtype=bool)
    src = df.loc[keep]
    logger.info("MSB Schuldaten: %d of %d schools are Grundschulen in operation", len(src), len(df))

    nummer = _text(src, "Schulnummer")
    name = _text(src, "Schulbezeichnung_1")
    zusatz = _text(src, "Schulbezeichnung_2")
    name = name.where(zusatz.isna(), name.fillna("") + " " + zusatz.fillna("")).str.strip()
    gemeinde = _text(src, "Gemeindeschluessel").str.zfill(8)

    east = pd.to_numeric(_text(src, "UTMRechtswert").str.replace(",", ".", regex=False), errors="coerce")
    north = pd.to_numeric(_text(src, "UTMHochwert").str.replace(",", ".", regex=False), errors="coerce")
    east = east.where(east < 32_000_000, east - 32_000_000)  # "32" zone prefix
    epsg = _text(src, "EPSG")
    foreign_crs = epsg.notna() & ~epsg.str.replace(" ", "").str.upper().isin(["EPSG:25832", "25832"])
    has_xy = (east.notna() & north.notna() & ~foreign_crs).to_numpy()
    geometry = gpd.GeoSeries(
        np.where(has_xy, gpd.points_from_xy(east.fillna(0), north.fillna(0)), None),
        index=src.index,
        crs=PROJECTED_CRS,
    )
    out = gpd.GeoDataFrame(
        {
            "id": ("MSB-" + nummer).astype("str"),
            "name": name.astype("str"),
            "traeger": _text(src, "Rechtsform").map(RECHTSFORM).astype("str"),
            "strasse": _text(src, "Strasse"),
            "plz": _text(src, "PLZ").str.zfill(5),
            "ort": _text(src, "Ort"),
            "kreis_ags": gemeinde.str[:5],
            "gemeinde_ags": gemeinde,
            "location_precision": pd.Series(["Adresse"] * len(src), index=src.index, dtype="str").where(has_xy),
            "source": pd.Series(SOURCE, index=src.index, dtype="str"),
            "ogs": pd.array([pd.NA] * len(src), dtype="boolean"),
            "schulnummer": nummer,
        },
        geometry=geometry,
        index=src.index,
    )
    return out
