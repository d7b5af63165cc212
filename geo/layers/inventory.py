"""The layer inventory: every registered layer with count, source, licence and date.

Used by ``integrationsatlas layers`` and the data page of the app. A layer
without data is listed with ``count = 0`` and ``available = False``; the
inventory never fails because, say, the Gemeinden have not been fetched yet.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import asdict, dataclass

import geopandas as gpd

from geo.errors import DataError, NotLoadedError, SourceUnavailableError
from geo.layers.loading import load_layer
from geo.layers.registry import REGISTRY, LayerRegistry
from geo.layers.sources import source_text
from geo.layers.spec import LayerSpec, Source
from geo.privacy import record_weights
from geo.settings import PROJECTED_CRS, Settings

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class LayerInfo:
    """What is known about one layer right now.

    Parameters
    ----------
    id, title, title_en, group, kind
        From the layer declaration.
    count
        Number of features (embedded plus stored), 0 without data.
    crs
        Storage CRS (always EPSG:25832).
    source
        Where the data came from: the newest stored batch's source, else the
        embedded source's title.
    licence
        Licence of that source.
    as_of
        Date of the data: its reference date recorded on import (Stichtag),
        else the date read from the embedded data (``as_of`` or ``wsk``
        column) or declared; empty when unknown (the import day is not the
        data's date: :func:`geo.formatting.de_as_of` names it as such).
    precision
        For point layers, the counts of ``location_precision`` values, e.g.
        ``"Ort: 54"``; empty otherwise.
    available
        Whether the layer has any data.
    note
        Why the layer is unavailable or unreadable (German), else empty.
    publisher
        Who published the data (recorded on import, or declared for
        embedded data); empty when unknown.
    imported_at
        When the stored data came in (ISO 8601, UTC); empty for embedded data.
    """

    id: str
    title: str
    title_en: str
    group: str
    kind: str
    count: int
    crs: str
    source: str
    licence: str
    as_of: str
    precision: str
    available: bool
    note: str = ""
    publisher: str = ""
    imported_at: str = ""

    def as_dict(self) -> dict[str, object]:
        """The record as a JSON-serialisable dict."""
        return asdict(self)


def layer_inventory(settings: Settings, registry: LayerRegistry = REGISTRY) -> list[LayerInfo]:
    """List every registered layer with its count, provenance and date.

    Parameters
    ----------
    settings
        Where the embedded data and the local store live.
    registry
        The layer registry; tests may pass their own.

    Returns
    -------
    list of LayerInfo
        In registration order.
    """
    metas = _store_metas(settings)
    return [_layer_info(spec, settings, registry, metas.get(spec.id)) for spec in registry]


def _layer_info(spec: LayerSpec, settings: Settings, registry: LayerRegistry, meta: object | None) -> LayerInfo:
    note = ""
    try:
        gdf: gpd.GeoDataFrame | None = load_layer(spec.id, settings, registry)
    except (NotLoadedError, SourceUnavailableError) as exc:
        gdf, note = None, str(exc)
    except DataError as exc:
        logger.warning("layer %s unreadable: %s", spec.id, exc)
        gdf, note = None, f"Daten nicht lesbar: {exc}"
    count = 0 if gdf is None else int(record_weights(gdf).sum())  # an aggregated layer counts its points
    embedded = _embedded_source(spec)
    publisher = imported_at = ""
    if meta is not None:
        source = source_text(str(getattr(meta, "source", "") or ""), str(getattr(meta, "source_file", "") or ""))
        licence = str(getattr(meta, "licence", "") or "")
        as_of = str(getattr(meta, "as_of", "") or "")
        publisher = str(getattr(meta, "publisher", "") or "")
        imported_at = str(getattr(meta, "imported_at", "") or "")
    elif embedded is not None:
        source, licence = embedded.title, embedded.licence
        as_of = _data_date(gdf) or (embedded.as_of or "")
        publisher = embedded.publisher
    else:
        source = licence = as_of = ""
    if meta is None and embedded is None:
        # no data yet: name the declared sources the layer can be filled from
        source = ", ".join(s.title for s in spec.sources)
        licence = ", ".join(dict.fromkeys(s.licence for s in spec.sources))
    return LayerInfo(
        id=spec.id,
        title=spec.title,
        title_en=spec.title_en,
        group=spec.group,
        kind=spec.kind,
        count=count,
        crs=PROJECTED_CRS,
        source=source,
        licence=licence,
        as_of=as_of,
        precision=_precision(gdf) if spec.kind == "point" else "",
        available=count > 0,
        note=note,
        publisher=publisher,
        imported_at=imported_at,
    )


def _store_metas(settings: Settings) -> dict[str, object]:
    """The newest active batch per layer in the local store (empty without store)."""
    from geo.store import open_store, store_exists

    if not store_exists(settings):
        return {}
    try:
        store = open_store(settings)
        return {layer_id: meta for layer_id in store.layer_ids() if (meta := store.layer_meta(layer_id)) is not None}
    except DataError as exc:
        logger.warning("data store unreadable: %s", exc)
        return {}


def _embedded_source(spec: LayerSpec) -> Source | None:
    if spec.embedded is None:
        return None
    return next((s for s in spec.sources if s.kind == "embedded"), spec.sources[0] if spec.sources else None)


def _data_date(gdf: gpd.GeoDataFrame | None) -> str:
    """The newest date found in the data: ``as_of`` (``Stand``) or ``wsk`` (VG250)."""
    if gdf is None or len(gdf) == 0:
        return ""
    for column in ("as_of", "wsk"):
        if column in gdf.columns:
            values = gdf[column].dropna().astype(str)
            values = values[values.str.strip() != ""]
            if len(values):
                return str(values.max())
    return ""


def _precision(gdf: gpd.GeoDataFrame | None) -> str:
    """``"Koordinate: 12, Ort: 3"`` from the ``location_precision`` column."""
    if gdf is None or len(gdf) == 0 or "location_precision" not in gdf.columns:
        return ""
    precision = gdf["location_precision"].astype("string").fillna("unbekannt")
    counts = record_weights(gdf).groupby(precision.to_numpy()).sum()
    return _format_counts(counts.items())


def _format_counts(items: Iterable[tuple[object, int]]) -> str:
    return ", ".join(f"{k}: {int(v)}" for k, v in sorted(items, key=lambda kv: (-int(kv[1]), str(kv[0]))))


__all__ = ["LayerInfo", "layer_inventory"]
