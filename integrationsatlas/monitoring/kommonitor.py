"""Indicators and areas in KomMonitor's import formats.

KomMonitor (https://github.com/KomMonitor) keeps spatial units and indicators
in its Data Management API. Its published OpenAPI document defines the request
bodies this module writes:

* ``POST /spatial-units`` – :func:`spatial_unit_document` (``SpatialUnitPOSTInputType``:
  the areas as a GeoJSON string in EPSG:4326, each feature with the properties
  ``ID``, ``NAME``, ``validStartDate`` and ``validEndDate``);
* ``POST /indicators`` – :func:`indicator_documents` (``IndicatorPOSTInputType``:
  the indicator's metadata: name, unit, definition, interpretation, sources);
* ``PUT /indicators/{indicatorId}`` – :func:`indicator_documents` (``IndicatorPUTInputType``:
  the values of every area and date, ``spatialReferenceKey`` = the area's ``ID``).

Source of the schema: repository ``KomMonitor/data-management``, file
``src/main/resources/specs/data-management/kommonitor_dataAccessAPI.yaml``,
last changed in commit ``3bb8ee7575e80d1b189c7b6d7c977677d3a463e6`` (release
5.2.6, ``0daf6a15975620d81da96a2d42ecad00cba8345b``); the feature properties
from ``KomMonitorFeaturePropertyConstants.java`` of the same repository. The
table for KomMonitor's importer (converter ``Tabelle_Zeitreihe_zu_Indikator``,
property mapping ``IndicatorPropertyMappingType``) follows
``KomMonitor/kommonitor-importer`` at ``0fc43ead5b56babb31ea3c52998b001ee5b0ae53``
(``kommonitor-models/src/main/java/org/n52/kommonitor/models/``). No KomMonitor
code or schema file is part of this project; ``tests/test_monitoring_export.py``
validates the documents against the schema.
"""

from __future__ import annotations

import io
import json
import math
import zipfile
from datetime import date
from typing import Any

import geopandas as gpd
import pandas as pd

from geo.errors import NotLoadedError
from geo.io.export import csv_text
from geo.levels import AnalysisLevel
from geo.settings import DISPLAY_CRS, Settings
from geo.store import open_store, store_exists
from integrationsatlas.monitoring.catalogue import KINDS, kind_of
from integrationsatlas.monitoring.history import stored_history
from integrationsatlas.monitoring.indicators import iso_date

#: Where the schema comes from (cited in every package's README).
SCHEMA_SOURCE: dict[str, str] = {
    "repository": "https://github.com/KomMonitor/data-management",
    "path": "src/main/resources/specs/data-management/kommonitor_dataAccessAPI.yaml",
    "commit": "3bb8ee7575e80d1b189c7b6d7c977677d3a463e6",
    "release": "5.2.6 (0daf6a15975620d81da96a2d42ecad00cba8345b)",
}
#: Where the importer's property mapping comes from.
IMPORTER_SOURCE: dict[str, str] = {
    "repository": "https://github.com/KomMonitor/kommonitor-importer",
    "path": "kommonitor-models/src/main/java/org/n52/kommonitor/models/IndicatorPropertyMappingType.java",
    "commit": "0fc43ead5b56babb31ea3c52998b001ee5b0ae53",
}
#: The feature properties of a KomMonitor spatial unit (``KomMonitorFeaturePropertyConstants``).
FEATURE_ID, FEATURE_NAME, VALID_START, VALID_END = "ID", "NAME", "validStartDate", "validEndDate"
#: Converter of KomMonitor's importer for a table of values per area and date.
IMPORTER_CONVERTER = "Tabelle_Zeitreihe_zu_Indikator"
CONTACT = "Integrationsatlas NRW (berechnet); Rückfragen an die Stelle, die den Export erstellt hat"


def spatial_unit_document(
    settings: Settings, level: AnalysisLevel, *, owner_id: str = "", public: bool = False
) -> dict[str, Any]:
    """The body of ``POST /spatial-units`` for the units of ``level``.

    Parameters
    ----------
    settings
        Where the units' polygons are stored.
    level
        The level (an area set or an administrative level).
    owner_id
        KomMonitor's id of the owning organisational unit (``ownerId``); empty
        when not known yet (set it before importing).
    public
        ``isPublic``.

    Notes
    -----
    The GeoJSON string is in EPSG:4326 (as KomMonitor expects; ``sridEPSG`` 4326).
    """
    units = level.units(settings)
    start = _valid_from(settings, level, units)
    features = gpd.GeoDataFrame(
        {
            FEATURE_ID: units[level.key].astype(str).to_numpy(),
            FEATURE_NAME: units["name"].astype(str).to_numpy(),
            VALID_START: start,
            VALID_END: None,
        },
        geometry=units.geometry.to_numpy(),
        crs=units.crs,
    ).to_crs(DISPLAY_CRS)
    source = level.area_set.source_line() if level.area_set else "BKG VG250 (dl-de/by-2-0), eingebettet oder importiert"
    return {
        "permissions": [],
        "geoJsonString": features.to_json(drop_id=True, ensure_ascii=False),
        "metadata": _metadata(
            description=f"{level.title} ({len(units)} Gebiete), exportiert aus dem Integrationsatlas NRW.",
            datasource=source,
            last_update=start,
            note=f"Schlüssel {FEATURE_ID} = {level.key_title}; Koordinaten EPSG:4326.",
        ),
        "periodOfValidity": {"startDate": start},
        "spatialUnitLevel": level.title,
        "isOutlineLayer": False,
        "ownerId": owner_id,
        "isPublic": public,
    }


def _valid_from(settings: Settings, level: AnalysisLevel, units: gpd.GeoDataFrame) -> str:
    """Start of the units' validity: the boundaries' recorded date, their newest VG250 effective date (WSK), or
    the day they were stored."""
    if level.area_set is not None:
        batch = level.area_set.batch
        return iso_date(batch.as_of) or batch.imported_at[:10]
    if "wsk" in units.columns and units["wsk"].notna().any():
        found = iso_date(str(units["wsk"].dropna().astype(str).max()))
        if found:
            return found
    meta = open_store(settings).layer_meta(level.id) if store_exists(settings) else None
    return (iso_date(meta.as_of) or meta.imported_at[:10]) if meta is not None else date.today().isoformat()


def _metadata(*, description: str, datasource: str, last_update: str, note: str, databasis: str = "") -> dict[str, Any]:
    """KomMonitor's ``CommonMetadataType``."""
    return {
        "contact": CONTACT,
        "datasource": datasource,
        "databasis": databasis or datasource,
        "description": description,
        "lastUpdate": last_update,
        "literature": "Integrationsatlas NRW, Methode: README.md und Bericht (Abschnitt Methode)",
        "note": note,
        "sridEPSG": 4326,
        "updateInterval": "ARBITRARY",
    }


def indicator_documents(
    rows: pd.DataFrame,
    indicator: str,
    level: AnalysisLevel,
    *,
    owner_id: str = "",
    topic: str = "",
    public: bool = False,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The bodies of ``POST /indicators`` (metadata) and ``PUT /indicators/{id}`` (values) for one indicator.

    Parameters
    ----------
    rows
        Stored values (:func:`integrationsatlas.monitoring.history.history`) of ``level``.
    indicator
        The indicator's id, e.g. ``area_covered.kita.km0.5``.
    level
        The level the values belong to (``applicableSpatialUnit``).
    owner_id, topic, public
        KomMonitor's ``ownerId``, ``topicReference`` and ``isPublic``.

    Returns
    -------
    tuple
        ``IndicatorPOSTInputType`` and ``IndicatorPUTInputType`` as dicts.
        Areas and dates without a value (too coarse data, outside the
        extent) are left out: the schema has no empty value.
    """
    kind = kind_of(indicator)
    mine = _latest(rows[rows["indicator"] == indicator])
    if mine.empty:
        raise NotLoadedError(f"Kennzahl »{indicator}« ist für »{level.id}« nicht gespeichert.")
    first = mine.iloc[-1]
    notes = sorted({str(n) for n in mine["note"] if str(n)})
    sources = "; ".join(dict.fromkeys(str(s) for s in mine["source"] if str(s)))
    post = {
        "permissions": [],
        "abbreviation": indicator,
        "characteristicValue": str(first["title"]),
        "creationType": "INSERTION",
        "datasetName": str(first["title"]),
        "defaultClassificationMapping": {
            "colorBrewerSchemeName": "RdYlGn"
            if kind.id in ("share_covered", "area_covered", "access_ratio")
            else "YlOrRd",
            "numClasses": 5,
            "classificationMethod": "QUANTILE",
            "items": [],
        },
        "displayOrder": list(KINDS).index(kind.id),
        "indicatorType": kind.kommonitor_type,
        "interpretation": kind.interpretation,
        "isHeadlineIndicator": False,
        "lowestSpatialUnitForComputation": level.title,
        "metadata": _metadata(
            description=kind.definition,
            datasource=sources,
            databasis=f"Stand der Eingangsdaten: {first['as_of']}; Auflösung: {first['resolution']}",
            last_update=str(mine["date"].max()),
            note=" ".join(["Fehlende Werte:", "; ".join(notes)]) if notes else "Werte für alle Gebiete.",
        ),
        "precision": kind.decimals,
        "ownerId": owner_id,
        "processDescription": f"{kind.definition} Berechnet mit dem Integrationsatlas NRW; Auflösung der Nachfrage: "
        f"{first['resolution']}." + (f" Ausschnitt: {first['extent']}." if str(first["extent"]) else ""),
        "referenceDateNote": "Stichtag = neuestes Bezugsdatum der Eingangsdaten (Bevölkerung, Einrichtungen); "
        "eine Jahresangabe gilt als 31.12. des Jahres.",
        "tags": ["Integrationsatlas NRW", "Erreichbarkeit", "Integrationsmonitoring TIntG NRW § 19", kind.id],
        "topicReference": topic,
        "unit": kind.unit,
        "isPublic": public,
    }
    values: list[dict[str, object]] = [
        {
            "spatialReferenceKey": str(key),
            "valueMapping": [
                {"indicatorValue": round(float(v), kind.decimals + 2), "timestamp": str(d)}
                for d, v in zip(group["date"], group["value"], strict=True)
                if isinstance(v, (int, float)) and math.isfinite(v)
            ],
        }
        for key, group in mine.sort_values("date").groupby("key", sort=False)
    ]
    put = {
        "permissions": [],
        "applicableSpatialUnit": level.title,
        "indicatorValues": [v for v in values if v["valueMapping"]],
        "ownerId": owner_id,
        "isPublic": public,
    }
    return post, put


def _latest(rows: pd.DataFrame) -> pd.DataFrame:
    """One value per area and date: that of the newest snapshot (several series may hold the same indicator)."""
    return rows.sort_values("batch_id").drop_duplicates(["key", "date"], keep="last")


def importer_table(rows: pd.DataFrame, indicator: str) -> tuple[bytes, dict[str, Any]]:
    """A table for KomMonitor's importer (``Tabelle_Zeitreihe_zu_Indikator``) and its property mapping.

    Returns
    -------
    tuple
        CSV (``;``, decimal point, UTF-8; one row per area with ``ID``,
        ``NAME`` and one column per date) and the ``IndicatorPropertyMappingType``
        that maps the date columns onto timestamps.
    """
    mine = _latest(rows[rows["indicator"] == indicator])
    wide = mine.pivot(index="key", columns="date", values="value").sort_index(axis=1)
    names = mine.drop_duplicates("key").set_index("key")["name"]
    table = pd.DataFrame({FEATURE_ID: wide.index.astype(str), FEATURE_NAME: names.reindex(wide.index).astype(str)})
    decimals = kind_of(indicator).decimals + 2
    for day in wide.columns:
        table[str(day)] = wide[day].round(decimals).to_numpy()
    table[FEATURE_NAME] = table[FEATURE_NAME].map(csv_text)
    mapping = {
        "spatialReferenceKeyProperty": FEATURE_ID,
        "timeseriesMappings": [{"indicatorValueProperty": str(d), "timestamp": str(d)} for d in wide.columns],
        "keepMissingOrNullValueIndicator": False,
    }
    return table.to_csv(sep=";", index=False, lineterminator="\r\n").encode("utf-8"), mapping


def kommonitor_package(
    settings: Settings,
    level_id: str,
    *,
    indicators: tuple[str, ...] | None = None,
    owner_id: str = "",
    topic: str = "",
    public: bool = False,
) -> bytes:
    """A ZIP with everything KomMonitor needs for the stored indicators of a level.

    Contents: ``LIESMICH.txt``; ``spatial_unit.json`` (``POST /spatial-units``);
    per indicator ``indicators/<id>.post.json`` and ``indicators/<id>.put.json``;
    ``importer/<id>.csv`` with ``importer/<id>.mapping.json`` for the importer.

    Raises
    ------
    NotLoadedError
        If no indicators of the level are stored.
    """
    level, rows = stored_history(settings, level_id)
    chosen = indicators or tuple(dict.fromkeys(rows["indicator"]))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("LIESMICH.txt", _readme(level, chosen, owner_id, topic))
        z.writestr("spatial_unit.json", _json(spatial_unit_document(settings, level, owner_id=owner_id, public=public)))
        for indicator in chosen:
            post, put = indicator_documents(rows, indicator, level, owner_id=owner_id, topic=topic, public=public)
            z.writestr(f"indicators/{indicator}.post.json", _json(post))
            z.writestr(f"indicators/{indicator}.put.json", _json(put))
            table, mapping = importer_table(rows, indicator)
            z.writestr(f"importer/{indicator}.csv", table)
            z.writestr(f"importer/{indicator}.mapping.json", _json(mapping))
    return buf.getvalue()


def _json(doc: dict[str, Any]) -> str:
    return json.dumps(doc, ensure_ascii=False, indent=2)


def _readme(level: AnalysisLevel, indicators: tuple[str, ...], owner_id: str, topic: str) -> str:
    lines = [
        f"KomMonitor-Import: {level.title} – Kennzahlen des Integrationsatlas NRW (erstellt {date.today():%d.%m.%Y})",
        "",
        "spatial_unit.json        POST /spatial-units (SpatialUnitPOSTInputType): die Gebiete, GeoJSON in EPSG:4326,",
        f"                         Merkmale {FEATURE_ID}, {FEATURE_NAME}, {VALID_START}, {VALID_END}.",
        "indicators/<id>.post.json  POST /indicators (IndicatorPOSTInputType): Name, Einheit, Definition, Quellen.",
        "indicators/<id>.put.json   PUT /indicators/{indicatorId} (IndicatorPUTInputType): Werte je Gebiet und",
        "                         Stichtag; Gebiete ohne Wert (Daten zu grob, außerhalb des Ausschnitts) fehlen,",
        "                         siehe metadata.note.",
        f"importer/<id>.csv        Tabelle für den KomMonitor-Importer (Konverter {IMPORTER_CONVERTER}), dazu",
        "importer/<id>.mapping.json  das IndicatorPropertyMappingType (Spalte je Stichtag).",
        "",
        f"Kennzahlen ({len(indicators)}): " + ", ".join(indicators),
        "",
        "Vor dem Import eintragen: ownerId (Organisationseinheit in KomMonitor)"
        + ("" if owner_id else " – leer")
        + ", topicReference (Themenbereich)"
        + ("" if topic else " – leer")
        + ".",
        "",
        "Schema: KomMonitor Data Access API, "
        + f"{SCHEMA_SOURCE['repository']}, {SCHEMA_SOURCE['path']}, Commit {SCHEMA_SOURCE['commit']} "
        + f"(Release {SCHEMA_SOURCE['release']}).",
        f"Importer: {IMPORTER_SOURCE['repository']}, {IMPORTER_SOURCE['path']}, Commit {IMPORTER_SOURCE['commit']}.",
    ]
    return "\r\n".join(lines) + "\r\n"
