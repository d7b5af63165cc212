"""Plain tables for the Integrationsmonitoring (TIntG NRW § 19): CSV and Excel with the metadata of every figure.

The Teilhabe- und Integrationsgesetz NRW asks for integration monitoring at
Land and local level; its indicator set has no accessibility indicator yet.
:func:`monitoring_export` writes the stored indicators of a level (every date)
as one long table – area, indicator, value, unit, date – in which every row
also carries its definition, source, data date, resolution and note, so that
a row copied elsewhere keeps them; the Excel workbook adds a sheet
``Metadaten`` with one row per indicator and the sheet ``Quellen``. CSV and
Excel are written by :mod:`geo.io.export` (German number format in CSV,
formula-safe text cells, attribution in every row).
"""

from __future__ import annotations

import pandas as pd

from geo.errors import DataError
from geo.io.export import export_frame, export_workbook
from geo.layers.sources import ATTRIBUTIONS
from geo.levels import analysis_level
from geo.settings import Settings
from integrationsatlas.monitoring.catalogue import kind_of
from integrationsatlas.monitoring.history import stored_history

#: Formats of :func:`monitoring_export`.
MONITORING_FORMATS: tuple[str, ...] = ("csv", "xlsx")
#: German headers of the long table.
HEADERS: dict[str, str] = {
    "level": "Gebietsebene",
    "key": "Schlüssel",
    "name": "Gebiet",
    "indicator": "Kennzahl-ID",
    "title": "Kennzahl",
    "value": "Wert",
    "unit": "Einheit",
    "date": "Stichtag",
    "definition": "Definition",
    "source": "Quelle",
    "as_of": "Stand der Eingangsdaten",
    "resolution": "Auflösung",
    "extent": "Ausschnitt",
    "note": "Hinweis",
}


def monitoring_tables(settings: Settings, level_id: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The long table of every stored value of a level and the table of its indicators (German headers).

    Raises
    ------
    NotLoadedError
        If no indicators of the level are stored.
    """
    level, rows = stored_history(settings, level_id)
    rows = rows.sort_values("batch_id").drop_duplicates(["key", "indicator", "date"], keep="last")
    rows = rows.assign(
        level=level.title,
        definition=rows["indicator"].map(lambda i: kind_of(str(i)).definition),
        value=[round(v, kind_of(str(i)).decimals) for i, v in zip(rows["indicator"], rows["value"], strict=True)],
    ).sort_values(["date", "indicator", "key"])
    values = rows[list(HEADERS)].rename(columns=HEADERS).reset_index(drop=True)
    values = values.rename(columns={HEADERS["key"]: f"{HEADERS['key']} ({level.key_title})"})
    meta = (
        rows.drop_duplicates("indicator", keep="last")[["indicator", "title", "unit", "definition", "source", "as_of"]]
        .assign(
            interpretation=lambda f: f["indicator"].map(lambda i: kind_of(str(i)).interpretation),
            kind=lambda f: f["indicator"].map(lambda i: kind_of(str(i)).kommonitor_type),
            dates=lambda f: f["indicator"].map(
                lambda i: ", ".join(sorted(set(rows.loc[rows["indicator"] == i, "date"])))
            ),
        )
        .rename(
            columns={
                **HEADERS,
                "interpretation": "Lesart",
                "kind": "Art (KomMonitor)",
                "dates": "Stichtage",
            }
        )
        .reset_index(drop=True)
    )
    return values, meta


def monitoring_export(settings: Settings, level_id: str, fmt: str) -> bytes:
    """The stored indicators of a level as CSV or Excel for the Integrationsmonitoring.

    Parameters
    ----------
    settings
        Where the indicators are stored.
    level_id
        The level (administrative or an area set).
    fmt
        ``csv`` (one table; every row with definition, source and date) or
        ``xlsx`` (sheets ``Kennzahlen``, ``Metadaten`` and ``Quellen``).

    Raises
    ------
    DataError
        For an unknown format.
    NotLoadedError
        If no indicators of the level are stored.
    """
    if fmt not in MONITORING_FORMATS:
        raise DataError(f"Format »{fmt}« unbekannt: für das Integrationsmonitoring csv oder xlsx.")
    level = analysis_level(level_id, settings)
    values, meta = monitoring_tables(settings, level.id)
    attribution = (*ATTRIBUTIONS, *([level.area_set.source_line()] if level.area_set else []))
    name = f"Integrationsmonitoring (TIntG NRW § 19): Kennzahlen je {level.title}"
    if fmt == "csv":
        return export_frame(values, "csv", layer_name=name, attribution=attribution)
    return export_workbook({"Kennzahlen": values, "Metadaten": meta}, layer_name=name, attribution=attribution)
