"""Import a user's file into the data store: read, validate, write one restorable batch."""

from __future__ import annotations

import logging
from dataclasses import replace
from pathlib import Path
from typing import Literal

import geopandas as gpd
import numpy as np

from geo.errors import (
    DataError,
    IntegrationsatlasError,
    Problem,
    ValidationError,
)
from geo.importing import schuldaten
from geo.importing.geocoding import Geocoder
from geo.importing.osm_tags import is_osm_table, select_for_layer
from geo.importing.prepare import prepare_layer_frame
from geo.importing.result import USER_LICENCE, ImportResult
from geo.io.formats import read_table
from geo.io.limits import ReadLimits
from geo.layers.registry import REGISTRY, LayerRegistry
from geo.layers.sources import MSB_SCHULDATEN
from geo.layers.spec import LayerSpec
from geo.settings import Settings
from geo.store import Store, open_store
from geo.store.datastore import DuplicateIdError

logger = logging.getLogger(__name__)

# --- import ----------------------------------------------------------------------------------


def import_file(
    path: Path | str,
    layer_id: str,
    settings: Settings,
    *,
    mode: Literal["append", "replace"] = "append",
    on_invalid: Literal["keep_valid", "reject"] = "reject",
    dry_run: bool = False,
    display_name: str | None = None,
    registry: LayerRegistry = REGISTRY,
    licence: str | None = None,
    geocoder: Geocoder | None = None,
    publisher: str | None = None,
    as_of: str | None = None,
) -> ImportResult:
    """Import a user's file into layer ``layer_id`` of the local data store.

    Parameters
    ----------
    path
        CSV, XLSX, GeoJSON, GeoPackage or zipped Shapefile (see :func:`read_table`).
    layer_id
        Target layer, e.g. ``"kita"``; ``"gemeinde"``/``"kreis"`` take VG250-style
        boundary files. An MSB ``schuldaten.csv`` imported as ``"ogs"`` is
        recognised and filtered to the Grundschulen in operation.
    settings
        Store path, size limit, boundaries.
    mode
        ``append`` adds to the layer (ids must not clash with stored ones);
        ``replace`` replaces the layer's active data (restorable).
    on_invalid
        ``reject``: any problem rejects the whole file (:class:`ValidationError`);
        ``keep_valid``: valid rows are stored, problems returned.
    dry_run
        Validate and return the result without writing (preview); never
        raises for row problems.
    display_name
        The file's name as the user knows it (uploads are written to a temp file).
    registry
        Layer registry (tests register their own layers).
    licence
        Licence of the data; defaults to the source's licence.
    geocoder
        Optional online geocoder for rows without coordinates; off by default.
    publisher, as_of
        Who published the data and its reference date (Stichtag), recorded
        with the batch so that reports cite them; a recognised MSB file names
        its publisher itself (:data:`geo.layers.sources.IMPORT_PRESETS` holds
        the known sources).

    Returns
    -------
    ImportResult

    Raises
    ------
    DataError
        If the file cannot be read (format, size, encoding).
    ValidationError
        If problems were found and ``on_invalid="reject"``, or no row is valid.

    Notes
    -----
    Data is stored in EPSG:25832 (metres). A failed import leaves the store
    unchanged.
    """
    spec = registry.get(layer_id)
    if mode not in ("append", "replace"):
        raise IntegrationsatlasError(f"Unbekannter Modus »{mode}«: erlaubt sind »append« und »replace«.")
    if on_invalid not in ("keep_valid", "reject"):
        raise IntegrationsatlasError(f"Unbekannte Option »{on_invalid}«: erlaubt sind »keep_valid« und »reject«.")
    path = Path(path)
    shown = display_name or path.name
    table = read_table(
        path, max_bytes=settings.max_upload_bytes, name=shown, layer=layer_id, limits=ReadLimits.from_settings(settings)
    )
    fmt = str(table.attrs.get("format", ""))
    rows_in = len(table)
    notes: list[str] = []
    if table.attrs.get("encoding"):
        notes.append(f"Zeichenkodierung: {table.attrs['encoding']}.")
    if table.attrs.get("unterminated_row"):
        notes.append(
            f"Die letzte Zeile (Zeile {table.attrs['unterminated_row']}) endet ohne Zeilenumbruch: falls "
            "die Datei beim Kopieren abgeschnitten wurde, ist ihr letzter Wert unvollständig – bitte prüfen."
        )
    source, source_licence, url = "import", licence or USER_LICENCE, None
    is_msb = False
    if schuldaten.is_schuldaten(table):
        if layer_id != "ogs":
            raise DataError(
                f"Datei {shown} ist die Schuldatei des MSB NRW; sie kann nur in die Ebene »ogs« "
                f"(Grundschulen) importiert werden, nicht in »{layer_id}«."
            )
        offset = table.attrs.get("row_offset", 2)
        parsed = schuldaten.parse_schuldaten(table)
        parsed.attrs["row_offset"] = offset
        notes.append(
            f"MSB-Schuldatei erkannt: {len(parsed)} von {rows_in} Schulen sind Grundschulen in Betrieb "
            f"(Schulform {schuldaten.SCHULFORM_GRUNDSCHULE}, Schulbetriebsschlüssel "
            f"{schuldaten.IN_BETRIEB}) und werden übernommen; das OGS-Merkmal bleibt unbekannt."
        )
        table, fmt = parsed, f"{fmt}+schuldaten"
        is_msb = True
        source, source_licence, url = schuldaten.SOURCE, licence or schuldaten.LICENCE, schuldaten.URL
        publisher = publisher or MSB_SCHULDATEN.publisher

    elif is_osm_table(table):  # a mixed OSM export: only what the layer is about (e.g. amenity=kindergarten)
        table, osm_note = select_for_layer(table, layer_id, shown)
        notes += [osm_note] if osm_note else []
    data, problems = prepare_layer_frame(table, spec, file=shown, settings=settings, source=source, geocoder=geocoder)
    notes += list(data.attrs.get("notes", []))
    kind = "utm32" if is_msb else str(data.attrs.get("location_kind", ""))
    store = open_store(settings)
    if mode == "append" and len(data):
        clash, clash_problems = _clashes_with_store(data, spec, store, shown, int(table.attrs.get("row_offset", 2)))
        problems = sorted([*problems, *clash_problems], key=lambda p: (p.row or 0, p.column or ""))
        data = data.loc[~clash]
    data_index = data.index.to_numpy()
    data = data.reset_index(drop=True)
    result = ImportResult(
        layer_id=layer_id,
        file=shown,
        format=fmt,
        location_kind=kind,
        rows_in=rows_in,
        data=data,
        problems=tuple(problems),
        batch=None,
        notes=tuple(notes),
    )
    if dry_run:
        return result
    if problems and on_invalid == "reject":
        raise ValidationError(problems, f"Import von {shown} abgelehnt, nichts wurde gespeichert")
    if not len(data):
        raise ValidationError(
            problems or [Problem("Keine gültige Zeile gefunden.", "Datei prüfen.", file=shown)],
            f"Import von {shown}: keine gültige Zeile, nichts wurde gespeichert",
        )
    rejected = len({p.row for p in problems if p.row is not None})
    try:
        batch = store.write_layer(
            layer_id,
            data,
            mode=mode,
            source_file=shown,
            source=source,
            licence=source_licence,
            url=url,
            rows_in=rows_in,
            rows_rejected=rejected,
            unique_column=spec.id_column if mode == "append" else None,
            publisher=publisher or "",
            as_of=as_of,
        )
    except DuplicateIdError as exc:  # another import stored the same ids in the meantime
        offset = int(table.attrs.get("row_offset", 2))
        taken = set(exc.ids)
        raced = [
            Problem(
                f"ID »{v}« wurde soeben von einem gleichzeitigen Import gespeichert.",
                "Datenspeicher prüfen (»integrationsatlas store list«); Modus »replace« wählen oder die ID ändern.",
                file=shown,
                row=int(i) + offset,
                column=spec.id_column,
            )
            for i, v in zip(data_index, data[spec.id_column].astype(str), strict=True)
            if v in taken
        ]
        raise ValidationError(raced, f"Import von {shown} abgelehnt, nichts wurde gespeichert") from exc
    logger.info("imported %d of %d rows of %s into %s", len(data), rows_in, shown, layer_id)
    return replace(result, batch=batch)


def _clashes_with_store(
    data: gpd.GeoDataFrame, spec: LayerSpec, store: Store, file: str, offset: int
) -> tuple[np.ndarray, list[Problem]]:
    """Rows whose id the layer's active stored data already has, and their problems."""
    stored = store.read_layer(spec.id)
    key = spec.id_column
    if stored is None or key not in stored.columns:
        return np.zeros(len(data), dtype=bool), []
    known = stored.set_index(stored[key].astype(str))["batch_id"]
    known = known[~known.index.duplicated()]
    clash = data[key].astype(str).isin(known.index).to_numpy()
    problems = []
    for pos in np.flatnonzero(clash):
        value = str(data[key].iloc[pos])
        problems.append(
            Problem(
                f"ID »{value}« ist bereits im Datenspeicher (Import {known[value]}).",
                "Modus »replace« wählen, um die Ebene zu ersetzen, oder die ID ändern.",
                file=file,
                row=int(data.index[pos]) + offset,
                column=key,
            )
        )
    return clash, problems
