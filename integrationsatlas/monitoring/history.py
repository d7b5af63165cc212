"""Indicators over time: every snapshot stored with its date, two dates compared, recomputed after an import.

A snapshot (:class:`~integrationsatlas.monitoring.indicators.IndicatorTable`)
is stored as one batch of the store layer ``kennzahlen_<level>`` through the
:class:`~geo.store.Store` interface (GeoPackage or PostGIS): one row per unit
and indicator with its value, unit, source, date, resolution and note, a
point inside the unit as geometry (QGIS shows the history as a layer), the
snapshot's date as the batch's reference date (``as_of``) and its series
(the question) as JSON, so that a later import of population or facilities
recomputes the same series for the new date (:func:`recompute_after_import`).
A snapshot of the same series and date replaces the earlier one (restorable).
"""

from __future__ import annotations

import json
import logging
from datetime import date as date_cls

import geopandas as gpd
import numpy as np
import pandas as pd

from geo.areasets.population import is_population_layer
from geo.errors import DataError, IntegrationsatlasError, NotLoadedError
from geo.levels import AnalysisLevel, analysis_level
from geo.settings import Settings
from geo.sources.destatis import POPULATION_TABLE
from geo.sources.zensus import ZENSUS_LAYER
from geo.store import BatchInfo, open_store, store_exists
from geo.units import representative_points
from integrationsatlas.monitoring.catalogue import IndicatorSeries
from integrationsatlas.monitoring.indicators import VALUE_COLUMNS, IndicatorTable, compute_indicators, iso_date

logger = logging.getLogger(__name__)

#: Prefix of the store layers holding indicator snapshots.
LAYER_PREFIX = "kennzahlen_"
#: Source recorded with every snapshot batch (followed by the series key).
SOURCE_PREFIX = "Kennzahlen "
#: Store layers whose import recomputes every series (the population); facility layers recompute the series using them.
POPULATION_LAYERS: frozenset[str] = frozenset({POPULATION_TABLE, ZENSUS_LAYER})
#: Licence of a snapshot: derived figures keep the licences of their inputs.
LICENCE = "abgeleitet; Lizenzen der Eingangsdaten siehe Spalte »source«"


def history_layer(level: str) -> str:
    """The store layer of the snapshots of ``level``.

    >>> history_layer("koeln-stadtteile"), history_layer("gemeinde")
    ('kennzahlen_koeln_stadtteile', 'kennzahlen_gemeinde')
    """
    return LAYER_PREFIX + level.replace("-", "_")


def store_indicators(settings: Settings, table: IndicatorTable) -> BatchInfo:
    """Store a snapshot; an earlier one of the same series and date is switched off (restorable).

    Notes
    -----
    The rows' points lie inside their units (EPSG:25832).
    """
    level = analysis_level(table.level, settings)
    units = level.units(settings)
    inside = pd.Series(representative_points(units.geometry).to_numpy(), index=units[level.key].astype(str))
    frame = table.values.assign(
        date=table.date, series=json.dumps(table.series.as_dict(), ensure_ascii=False), series_key=table.series.key
    )
    gdf = gpd.GeoDataFrame(frame, geometry=inside.reindex(frame["key"]).to_numpy(), crs=units.crs)
    store = open_store(settings)
    layer = history_layer(level.id)
    source = SOURCE_PREFIX + table.series.key
    older = [b.batch_id for b in store.batches(layer) if b.active and b.source == source and b.as_of == table.date]
    info = store.write_layer(
        layer,
        gdf,
        mode="append",
        source_file=f"Kennzahlen {level.id} ({table.series.describe()})",
        source=source,
        licence=LICENCE,
        publisher="Integrationsatlas NRW (berechnet)",
        as_of=table.date,
    )
    for batch_id in older:
        store.deactivate(batch_id)
    logger.info("Kennzahlen %s zum %s gespeichert (%d Zeilen)", level.id, table.date, len(gdf))
    return info


def history(settings: Settings, level: str) -> pd.DataFrame:
    """Every stored value of ``level``: the rows of :data:`VALUE_COLUMNS` plus ``date``, ``series_key``, ``series``.

    Empty (with those columns) when nothing is stored.
    """
    stored = open_store(settings).read_layer(history_layer(level)) if store_exists(settings) else None
    columns = [*VALUE_COLUMNS, "date", "series_key", "series", "batch_id"]
    if stored is None:
        return pd.DataFrame(columns=columns)
    frame = pd.DataFrame(stored.drop(columns="geometry"))
    frame["value"] = pd.to_numeric(frame["value"], errors="coerce").astype("float64")
    for column in columns:
        if column not in frame.columns:
            frame[column] = ""
    return frame[columns]


def stored_history(settings: Settings, level_id: str) -> tuple[AnalysisLevel, pd.DataFrame]:
    """The level ``level_id`` and every value stored for it (as :func:`history`), for the exports.

    Raises
    ------
    NotLoadedError
        If no indicators of the level are stored; the message says how to compute them.
    """
    level = analysis_level(level_id, settings)
    rows = history(settings, level.id)
    if rows.empty:
        raise NotLoadedError(
            f"Für »{level.id}« sind keine Kennzahlen gespeichert. Zuerst berechnen: "
            f"»integrationsatlas indicators compute --by {level.id} --layer …«."
        )
    return level, rows


def snapshots(settings: Settings, level: str) -> pd.DataFrame:
    """The stored snapshots of ``level``, newest first.

    Columns: ``date``, ``series_key``, ``series`` (described), ``batch_id``, ``indicators`` (how many).
    """
    rows = history(settings, level)
    if rows.empty:
        return pd.DataFrame(columns=["date", "series_key", "series", "batch_id", "indicators"])
    grouped = rows.groupby("batch_id", sort=False).agg(
        date=("date", "first"), series_key=("series_key", "first"), series=("series", "first"),
        indicators=("indicator", "nunique"),
    )  # fmt: skip
    grouped["series"] = grouped["series"].map(lambda s: IndicatorSeries.from_dict(json.loads(s)).describe())
    return grouped.reset_index().sort_values(["date", "batch_id"], ascending=False).reset_index(drop=True)


def load_snapshot(
    settings: Settings, level: str, on: str | None = None, series_key: str | None = None
) -> IndicatorTable:
    """The stored snapshot of ``level`` at date ``on`` (default: the newest), of one series (default: the newest).

    Raises
    ------
    NotLoadedError
        If there is no such snapshot; the message lists the dates there are.
    """
    rows = history(settings, level)
    if series_key:
        rows = rows[rows["series_key"] == series_key]
    if on:
        rows = rows[rows["date"] == on]
    if rows.empty:
        dates = ", ".join(sorted(set(history(settings, level)["date"]))) or "keine"
        raise NotLoadedError(
            f"Keine Kennzahlen für »{level}«{' zum ' + on if on else ''} gespeichert (Stichtage: {dates}). "
            f"Berechnen mit »integrationsatlas indicators compute --by {level} …« oder auf der Seite »Monitoring«."
        )
    newest = rows.sort_values(["date", "batch_id"]).iloc[-1]
    rows = rows[rows["batch_id"] == newest["batch_id"]]
    found = analysis_level(level, settings)
    return IndicatorTable(
        level=found.id,
        level_title=found.title,
        key_title=found.key_title,
        date=str(newest["date"]),
        series=IndicatorSeries.from_dict(json.loads(str(newest["series"]))),
        values=rows[list(VALUE_COLUMNS)].reset_index(drop=True),
    )


def compare_snapshots(
    settings: Settings, level: str, before: str, after: str, indicator: str | None = None
) -> pd.DataFrame:
    """The change of every indicator (or one) per unit between two stored dates.

    Returns
    -------
    pandas.DataFrame
        ``key``, ``name``, ``indicator``, ``title``, ``unit``, ``before``,
        ``after``, ``change`` (after − before) and ``change_pct`` (relative
        to ``before``; ``NaN`` where it is 0 or either value is missing), for
        the indicators present at both dates.

    Raises
    ------
    NotLoadedError
        If a date has no snapshot.
    DataError
        If the two snapshots share no indicator.
    """
    a, b = load_snapshot(settings, level, before), load_snapshot(settings, level, after)
    cols = ["key", "name", "indicator", "title", "unit", "value"]
    merged = a.values[cols].merge(b.values[["key", "indicator", "value"]], on=["key", "indicator"], suffixes=("", "_b"))
    if indicator is not None:
        merged = merged[merged["indicator"] == indicator]
    if merged.empty:
        raise DataError(
            f"Die Kennzahlen vom {before} und vom {after} haben keine gemeinsame Kennzahl"
            + (f" »{indicator}«" if indicator else "")
            + "; bitte dieselbe Reihe zu beiden Stichtagen berechnen."
        )
    merged = merged.rename(columns={"value": "before", "value_b": "after"})
    merged["change"] = merged["after"] - merged["before"]
    with np.errstate(divide="ignore", invalid="ignore"):
        pct = merged["change"] / merged["before"].abs() * 100.0
    merged["change_pct"] = pct.where(merged["before"] != 0)
    return merged.reset_index(drop=True)


def change_map(settings: Settings, level: str, change: pd.DataFrame, indicator: str) -> gpd.GeoDataFrame:
    """The change of one indicator between two dates as polygons: the map of change.

    Parameters
    ----------
    settings
        Paths of the store.
    level
        The level of the comparison (an area set's name, ``gemeinde`` …).
    change
        The result of :func:`compare_snapshots` for that level.
    indicator
        The indicator to map (one id of ``change["indicator"]``).

    Returns
    -------
    geopandas.GeoDataFrame
        Every unit of the level (EPSG:25832) with ``key``, ``name``, ``indicator``, ``title``, ``unit``,
        ``before``, ``after``, ``change`` and ``change_pct``; units without a value on either date have ``NaN``.

    Raises
    ------
    DataError
        If ``indicator`` is not in ``change``.
    """
    rows = change[change["indicator"] == indicator]
    if rows.empty:
        known = ", ".join(sorted(set(change["indicator"].astype(str))))
        raise DataError(f"Die Kennzahl »{indicator}« ist nicht im Vergleich; verglichen wurden: {known}.")
    declared = analysis_level(level, settings)
    units = declared.units(settings)
    polygons = gpd.GeoDataFrame(
        {"key": units[declared.key].astype(str).to_numpy(), "name": units["name"].astype(str).to_numpy()},
        geometry=units.geometry.to_numpy(),
        crs=units.crs,
    )
    values = rows[["key", "title", "unit", "before", "after", "change", "change_pct"]].assign(
        key=lambda f: f["key"].astype(str)
    )
    out = polygons.merge(values, on="key", how="left")
    out["indicator"] = indicator
    out["title"] = str(rows["title"].iloc[0])
    out["unit"] = str(rows["unit"].iloc[0])
    columns = ["key", "name", "indicator", "title", "unit", "before", "after", "change", "change_pct"]
    return gpd.GeoDataFrame(out[columns], geometry=out.geometry, crs=units.crs)


def stored_series(settings: Settings) -> list[IndicatorSeries]:
    """Every series with a stored snapshot (on any level), each once."""
    if not store_exists(settings):
        return []
    store = open_store(settings)
    found: dict[str, IndicatorSeries] = {}
    for layer in store.layer_ids():
        if not layer.startswith(LAYER_PREFIX):
            continue
        frame = store.read_layer(layer)
        if frame is None:
            continue
        for text in frame.drop_duplicates("series_key")["series"]:
            series = IndicatorSeries.from_dict(json.loads(str(text)))
            found.setdefault(series.key, series)
    return list(found.values())


def recompute_after_import(
    settings: Settings, layer_id: str, as_of: str | None
) -> tuple[list[IndicatorTable], list[str]]:
    """Recompute and store, for the date of a new import, every series that uses the imported layer.

    A population import (:data:`POPULATION_LAYERS`, or residents of an area
    set) recomputes every series;
    a facility import the series counting that layer. The new snapshots are
    dated with the import's reference date (``as_of``), else today.

    Returns
    -------
    tuple
        The new snapshots, and a German line for every series that could not
        be recomputed (e.g. its OSM extract is gone); the import itself stays.
    """
    on = iso_date(as_of) or date_cls.today().isoformat()
    done: list[IndicatorTable] = []
    failed: list[str] = []
    for series in stored_series(settings):
        if layer_id not in POPULATION_LAYERS and not is_population_layer(layer_id) and layer_id not in series.layers:
            continue
        try:
            table = compute_indicators(settings, series, on=on)
            store_indicators(settings, table)
            done.append(table)
        except IntegrationsatlasError as exc:
            failed.append(f"Kennzahlen »{series.by}« ({series.describe()}) nicht neu berechnet: {exc}")
            logger.warning(failed[-1])
    return done, failed
