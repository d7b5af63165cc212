"""Fetch a source into the local data store: ``integrationsatlas fetch SOURCE``.

Every fetch downloads (with progress), parses, validates the rows with the
file importer's :func:`geo.importing.prepare_layer_frame`, and stores them as a
new batch with the source URL, fetch time and licence. A fetch supersedes
earlier batches *of the same source and area* only: a user's own imports and
fetches for other Kreise stay untouched, and a failed fetch changes nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import geopandas as gpd
import pandas as pd

from geo.errors import DataError, IntegrationsatlasError, Problem, ValidationError
from geo.formatting import de_int
from geo.layers.registry import REGISTRY, LayerRegistry
from geo.layers.sources import BKG_VG250, DESTATIS, MSB_SCHULDATEN, OSM
from geo.settings import Settings
from geo.sources.config import SourceConfig
from geo.sources.download import ProgressCallback, download
from geo.store import BatchInfo, open_store

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class FetchSource:
    """One source offered by ``integrationsatlas fetch``.

    Parameters
    ----------
    id
        CLI name (``bkg-vg250``, ``osm-kita`` ...).
    title
        German description.
    layers
        Layers (or store tables) it fills.
    licence, attribution
        Licence and attribution line of the data.
    kind
        ``official`` or ``osm``.
    """

    id: str
    title: str
    layers: tuple[str, ...]
    licence: str
    attribution: str
    kind: str


@dataclass(frozen=True)
class StoredLayer:
    """What one fetch stored for one layer."""

    layer_id: str
    rows_in: int
    rows_kept: int
    batch: BatchInfo | None
    superseded: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, object]:
        return {
            "layer": self.layer_id,
            "rows_in": self.rows_in,
            "rows_kept": self.rows_kept,
            "batch": self.batch.as_dict() if self.batch else None,
            "superseded": list(self.superseded),
        }


@dataclass(frozen=True)
class FetchResult:
    """Outcome of one ``fetch``.

    Parameters
    ----------
    source_id
        The fetched source.
    url
        Where the data came from (URL or local OSM file).
    scope
        Area of the fetch (``kreis=05334``), ``NRW`` for everything.
    layers
        What was stored per layer.
    problems
        Rows that were dropped by validation, with reasons.
    notes
        Information for the user (German).
    """

    source_id: str
    url: str
    scope: str
    layers: tuple[StoredLayer, ...]
    problems: tuple[Problem, ...] = ()
    notes: tuple[str, ...] = field(default=())

    def as_dict(self) -> dict[str, object]:
        """JSON-serialisable summary."""
        return {
            "source": self.source_id,
            "url": self.url,
            "scope": self.scope,
            "layers": [lay.as_dict() for lay in self.layers],
            "problems": [p.as_dict() for p in self.problems],
            "notes": list(self.notes),
        }


SOURCES: dict[str, FetchSource] = {
    s.id: s
    for s in (
        FetchSource(
            "bkg-vg250",
            "BKG VG250: Gemeinden und Kreise (WFS oder ZIP)",
            ("gemeinde", "kreis"),
            BKG_VG250.licence,
            BKG_VG250.attribution,
            "official",
        ),
        FetchSource(
            "destatis-gv",
            "Destatis Gemeindeverzeichnis: Einwohner, Fläche, Mittelpunkt je Gemeinde",
            ("destatis_gv",),
            DESTATIS.licence,
            f"{DESTATIS.attribution}, GV-ISys",
            "official",
        ),
        FetchSource(
            "msb-schuldaten",
            "MSB NRW Schulgrunddaten: Grundschulen in Betrieb",
            ("ogs",),
            MSB_SCHULDATEN.licence,
            MSB_SCHULDATEN.attribution,
            "official",
        ),
        FetchSource("osm-kita", "OpenStreetMap: Kitas", ("kita",), OSM.licence, OSM.attribution, "osm"),
        FetchSource("osm-grundschule", "OpenStreetMap: Grundschulen", ("ogs",), OSM.licence, OSM.attribution, "osm"),
        FetchSource(
            "osm-integration",
            "OpenStreetMap: Integrationsagenturen und Migrationsberatung",
            ("integrationsagentur",),
            OSM.licence,
            OSM.attribution,
            "osm",
        ),
        FetchSource(
            "osm-gemeinschaftszentrum",
            "OpenStreetMap: Gemeinschaftszentren",
            ("gemeinschaftszentrum",),
            OSM.licence,
            OSM.attribution,
            "osm",
        ),
        FetchSource(
            "osm-unterkunft",
            "OpenStreetMap: Unterkünfte für Geflüchtete",
            ("wohnprojekt",),
            OSM.licence,
            OSM.attribution,
            "osm",
        ),
        FetchSource(
            "osm",
            "OpenStreetMap: alle fünf OSM-Quellen in einem Abruf",
            ("kita", "ogs", "integrationsagentur", "gemeinschaftszentrum", "wohnprojekt"),
            OSM.licence,
            OSM.attribution,
            "osm",
        ),
    )
}


def fetch_source(
    source_id: str,
    settings: Settings,
    *,
    kreis: str | None = None,
    gemeinde: str | None = None,
    osm_file: str | Path | None = None,
    use_zip: bool = False,
    refresh: bool = False,
    progress: ProgressCallback | None = None,
    config: SourceConfig | None = None,
    registry: LayerRegistry = REGISTRY,
) -> FetchResult:
    """Fetch ``source_id`` and store it in the local data store.

    Parameters
    ----------
    source_id
        One of :data:`SOURCES`.
    settings
        Store, cache and online switch.
    kreis, gemeinde
        Limit the fetch to one Kreis (5-digit AGS) or Gemeinde (8-digit AGS).
    osm_file
        For OSM sources: read this OSM XML file instead of asking Overpass.
    use_zip
        For ``bkg-vg250``: use the VG250 zip download instead of the WFS.
    refresh
        Download again even if a fresh copy is cached.
    progress
        Download progress callback ``progress(bytes_done, bytes_total)``.
    config
        Source addresses; default :meth:`SourceConfig.from_env`.
    registry
        Layer registry.

    Returns
    -------
    FetchResult

    Raises
    ------
    SourceUnavailableError
        If the source cannot be reached (or online sources are off).
    DataError
        If the data cannot be parsed, or no row is valid.
    """
    if source_id not in SOURCES:
        raise IntegrationsatlasError(f"Unbekannte Quelle »{source_id}«. Verfügbar: {', '.join(SOURCES)}.")
    if kreis is not None and gemeinde is not None:
        raise IntegrationsatlasError("Bitte entweder »--kreis« oder »--gemeinde« angeben, nicht beides.")
    prefix = _check_ags(kreis, 5, "--kreis") or _check_ags(gemeinde, 8, "--gemeinde")
    job = _Job(
        source=SOURCES[source_id],
        settings=settings,
        config=config or SourceConfig.from_env(),
        prefix=prefix,
        level="gemeinde" if gemeinde else "kreis",
        progress=progress,
        max_age_s=0.0 if refresh else 24 * 3600.0,
        registry=registry,
    )
    handlers: dict[str, Callable[[], FetchResult]] = {
        "bkg-vg250": lambda: _fetch_bkg(job, use_zip=use_zip),
        "destatis-gv": lambda: _fetch_destatis(job),
        "msb-schuldaten": lambda: _fetch_msb(job),
    }
    handler = handlers.get(source_id, lambda: _fetch_osm(job, osm_file=osm_file))
    return handler()


# --- internals ---------------------------------------------------------------


@dataclass(frozen=True)
class _Job:
    source: FetchSource
    settings: Settings
    config: SourceConfig
    prefix: str | None
    level: str
    progress: ProgressCallback | None
    max_age_s: float
    registry: LayerRegistry

    @property
    def scope(self) -> str:
        return "NRW" if self.prefix is None else f"{self.level}={self.prefix}"

    @property
    def batch_name(self) -> str:
        """``source_file`` of the batches of this fetch: source id plus area."""
        return self.source.id if self.prefix is None else f"{self.source.id} {self.scope}"


def _check_ags(value: str | None, length: int, option: str) -> str | None:
    if value is None:
        return None
    text = value.strip()
    if not (text.isdigit() and len(text) == length and text.startswith("05")):
        raise IntegrationsatlasError(
            f"{option} »{value}«: erwartet wird ein {length}-stelliger AGS in NRW (beginnt mit 05), "
            f"z. B. {'05334' if length == 5 else '05334002'}."
        )
    return text


def _fetch_bkg(job: _Job, *, use_zip: bool) -> FetchResult:
    from geo.sources.bkg import fetch_vg250
    from geo.sources.destatis import join_population, load_gemeinde_population

    layers, url = fetch_vg250(
        settings=job.settings,
        config=job.config,
        prefix=job.prefix or "05",
        use_zip=use_zip,
        progress=job.progress,
        max_age_s=job.max_age_s,
    )
    notes: list[str] = []
    population = load_gemeinde_population(job.settings)
    if "gemeinde" in layers and population is not None and "ars" in population.columns:
        layers["gemeinde"] = join_population(layers["gemeinde"], population.reset_index())
        notes.append("Einwohnerzahlen aus dem bereits abgerufenen Gemeindeverzeichnis (Destatis) übernommen.")
    stored, problems = [], []
    for level in ("gemeinde", "kreis"):
        if level not in layers:
            continue
        if job.prefix is not None and level == "kreis" and len(job.prefix) > 5:
            continue  # a single Gemeinde does not change its Kreis
        result, found = _store_layer(job, level, layers[level], url=url)
        stored.append(result)
        problems += found
    if "gemeinde" in layers and job.prefix is None and len(layers["gemeinde"]) != 396:
        notes.append(f"Hinweis: {len(layers['gemeinde'])} statt der 396 Gemeinden von NRW erhalten.")
    return FetchResult(job.source.id, url, job.scope, tuple(stored), tuple(problems), tuple(notes))


def _fetch_destatis(job: _Job) -> FetchResult:
    from geo.sources.destatis import (
        POPULATION_TABLE,
        attach_population,
        parse_gemeindeverzeichnis,
        population_limits,
        population_points,
        read_gemeindeverzeichnis,
    )

    url = job.config.destatis_gv
    path = download(
        url, settings=job.settings, progress=job.progress, timeout=job.config.timeout, max_age_s=job.max_age_s
    )
    shown = Path(url.split("?")[0]).name
    raw = read_gemeindeverzeichnis(path, limits=population_limits(job.settings), shown=shown)
    table = parse_gemeindeverzeichnis(raw, file=shown)
    if job.prefix is not None:
        table = table[table["ags"].str.startswith(job.prefix)].reset_index(drop=True)
    store = open_store(job.settings)
    points = population_points(table)
    batch = store.write_layer(
        POPULATION_TABLE,
        points,
        mode="replace",
        source_file=job.batch_name,
        source=job.source.title,
        licence=job.source.licence,
        url=url,
        rows_in=len(table),
    )
    stored = [StoredLayer(POPULATION_TABLE, len(table), len(table), batch)]
    notes = [f"Gemeindeverzeichnis: {len(table)} Gemeinden, {de_int(table['population'].sum())} Einwohner."]
    attached = attach_population(store, table, "Destatis GV-ISys")
    if attached is not None:
        update, matched = attached
        stored.append(StoredLayer("gemeinde", update.rows_kept, update.rows_kept, update))
        notes.append(f"Einwohnerzahlen an {matched} von {update.rows_kept} gespeicherten Gemeinden übernommen.")
    return FetchResult(job.source.id, url, job.scope, tuple(stored), (), tuple(notes))


def _fetch_msb(job: _Job) -> FetchResult:
    from geo.importing import read_table, schuldaten

    url = job.config.msb_schuldaten
    path = download(
        url,
        "schuldaten.csv",
        settings=job.settings,
        progress=job.progress,
        timeout=job.config.timeout,
        max_age_s=job.max_age_s,
    )
    table = read_table(path, max_bytes=max(job.settings.max_upload_bytes, 200 * 1024 * 1024), name="schuldaten.csv")
    if not schuldaten.is_schuldaten(table):
        raise DataError(
            f"{url}: die Datei hat nicht das Format der MSB-Schuldaten (Spalten {', '.join(schuldaten.SIGNATURE)}). "
            "Bitte die Adresse prüfen."
        )
    parsed = schuldaten.parse_schuldaten(table)
    parsed.attrs["row_offset"] = table.attrs.get("row_offset", 2)
    rows_in = len(parsed)
    if job.prefix is not None:
        parsed = parsed[parsed["gemeinde_ags"].astype(str).str.startswith(job.prefix).to_numpy()]
    result, problems = _store_layer(
        job, "ogs", parsed, url=url, source=schuldaten.SOURCE, rows_in=rows_in, file="schuldaten.csv"
    )
    notes = [
        f"{len(table)} Schulen gelesen, davon {rows_in} Grundschulen in Betrieb (Schulform 02, "
        "Schulbetriebsschlüssel 1); das OGS-Merkmal bleibt unbekannt."
    ]
    return FetchResult(job.source.id, url, job.scope, (result,), tuple(problems), tuple(notes))


def _fetch_osm(job: _Job, *, osm_file: str | Path | None) -> FetchResult:
    from geo.sources.osm import CATEGORIES, fetch_osm
    from geo.units import load_boundaries

    categories = [c for c in CATEGORIES.values() if job.source.id in ("osm", c.source_id)]
    polygon = None
    if job.prefix is not None:
        units = load_boundaries(job.level, job.settings)  # type: ignore[arg-type]
        hit = units[units["ags"].astype(str) == job.prefix]
        if hit.empty:
            raise IntegrationsatlasError(
                f"AGS {job.prefix} ist keine {'Gemeinde' if job.level == 'gemeinde' else 'Kreis'} in NRW. "
                "Gültige Schlüssel zeigt »integrationsatlas layers« bzw. die Karte."
            )
        polygon = hit.geometry.iloc[0]
    elif osm_file is None:
        raise IntegrationsatlasError(
            "OpenStreetMap wird je Kreis oder Gemeinde abgefragt: bitte »--kreis AGS« oder »--gemeinde AGS« "
            "angeben, oder eine OSM-XML-Datei mit »--osm-file DATEI«."
        )
    url = str(Path(osm_file).resolve()) if osm_file is not None else job.config.overpass
    layers = fetch_osm(
        categories,
        settings=job.settings,
        polygon=polygon,
        osm_file=osm_file,
        overpass_url=job.config.overpass,
        as_of=None if osm_file is not None else date.today().isoformat(),
    )
    stored, problems, notes = [], [], []
    for category in categories:
        gdf = layers[category.source_id]
        if len(gdf) == 0:
            notes.append(f"{category.title}: keine Objekte gefunden.")
            continue
        source_job = _Job(
            SOURCES[category.source_id],
            job.settings,
            job.config,
            job.prefix,
            job.level,
            job.progress,
            job.max_age_s,
            job.registry,
        )
        result, found = _store_layer(
            source_job,
            category.layer_id,
            gdf,
            url=url,
            source="OpenStreetMap",
            file=Path(osm_file).name if osm_file is not None else None,
        )
        stored.append(result)
        problems += found
    # a whole OSM file without --kreis/--gemeinde covers the file's extent, not all of NRW
    scope = f"Datei {Path(osm_file).name}" if osm_file is not None and job.prefix is None else job.scope
    return FetchResult(job.source.id, url, scope, tuple(stored), tuple(problems), tuple(notes))


def _store_layer(
    job: _Job,
    layer_id: str,
    frame: gpd.GeoDataFrame,
    *,
    url: str,
    source: str | None = None,
    rows_in: int | None = None,
    file: str | None = None,
) -> tuple[StoredLayer, list[Problem]]:
    """Validate ``frame`` for ``layer_id``, store it and supersede this source's earlier batches.

    Rows outside the fetch area (by the spatial join of the importer) are
    dropped; ids that another batch (e.g. the user's own import) already
    holds are kept there and skipped here.
    """
    from geo.importing import prepare_layer_frame

    spec = job.registry.get(layer_id)
    n_in = len(frame) if rows_in is None else rows_in
    data, problems = prepare_layer_frame(
        frame, spec, file=file or job.batch_name, settings=job.settings, source=source or job.source.title
    )
    if job.prefix is not None:
        key = "ags" if spec.group == "boundary" else ("gemeinde_ags" if job.level == "gemeinde" else "kreis_ags")
        inside = data[key].astype("string").str.startswith(job.prefix).fillna(False).to_numpy(dtype=bool)
        data = data.loc[inside]
    store = open_store(job.settings)
    previous = [b for b in store.batches(layer_id) if b.active and _supersedes(job, b)]
    superseded = {b.batch_id for b in previous}
    others = store.read_layer(layer_id)
    if others is not None and spec.id_column in data.columns:
        kept_elsewhere = others.loc[~others["batch_id"].isin(superseded), spec.id_column].astype(str)
        clash = data[spec.id_column].astype(str).isin(set(kept_elsewhere)).to_numpy()
        if clash.any():
            logger.info("%s: %d ids already stored by other batches, skipped", layer_id, int(clash.sum()))
            data = data.loc[~clash]
    if not len(data):
        if problems:
            raise ValidationError(problems, f"{job.source.title}: keine gültige Zeile, nichts wurde gespeichert")
        return StoredLayer(layer_id, n_in, 0, None), problems
    batch = store.write_layer(
        layer_id,
        gpd.GeoDataFrame(data.reset_index(drop=True), geometry="geometry", crs=data.crs),
        mode="append",
        source_file=job.batch_name,
        source=source or job.source.title,
        licence=job.source.licence,
        url=url,
        rows_in=n_in,
        rows_rejected=len({p.row for p in problems if p.row is not None}),
    )
    for old in previous:
        store.deactivate(old.batch_id)
    return StoredLayer(layer_id, n_in, len(data), batch, tuple(sorted(superseded))), problems


def _supersedes(job: _Job, batch: BatchInfo) -> bool:
    """Whether this fetch replaces ``batch``: same source, same or smaller area."""
    name = batch.source_file
    if name == job.batch_name:
        return True
    # a fetch for all of NRW replaces the per-Kreis/Gemeinde fetches of the same source
    return job.prefix is None and name.startswith(job.source.id + " ")


def sources_table(ids: Sequence[str] | None = None) -> pd.DataFrame:
    """The fetchable sources as a table (for ``integrationsatlas fetch --list``)."""
    chosen = [SOURCES[i] for i in (ids or SOURCES)]
    return pd.DataFrame(
        {
            "id": [s.id for s in chosen],
            "title": [s.title for s in chosen],
            "layers": [", ".join(s.layers) for s in chosen],
            "licence": [s.licence for s in chosen],
        }
    )
