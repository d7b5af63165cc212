"""Area sets in the data store: one restorable batch per import, on either backend.

An area set ``koeln-stadtteile`` is stored as the store layer
``gebiete_koeln_stadtteile`` through the :class:`~geo.store.Store` interface,
so the GeoPackage and PostGIS hold it alike, its import is a batch with
source, licence, publisher and reference date (``as_of``) like every other
import, a new import of the same name replaces it (restorable) and deleting it
deactivates its batch (restorable with ``integrationsatlas store restore``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import geopandas as gpd
import pandas as pd

from geo.errors import DataError, NotLoadedError
from geo.settings import Settings
from geo.store import BatchInfo, open_store, store_exists
from geo.units import LEVELS

#: Prefix of the store layers holding area sets.
LAYER_PREFIX = "gebiete_"
#: Allowed names: lower-case letters and digits, words joined by ``-`` (``koeln-stadtteile``).
NAME_PATTERN = re.compile(r"^[a-z][a-z0-9]*(?:-[a-z0-9]+)*$")
MAX_NAME_LENGTH = 48
#: Names an area set cannot take: the administrative levels (``--by kreis`` must stay the Kreise).
RESERVED_NAMES: frozenset[str] = frozenset(LEVELS)


@dataclass(frozen=True)
class AreaSet:
    """A stored area set: its name, title, size and provenance.

    Parameters
    ----------
    name
        The set's name (``koeln-stadtteile``), used as the level in
        ``--by`` and in requests.
    title
        Its title for maps and tables (``Stadtteile Köln``).
    n_units
        Number of areas.
    gemeinden
        AGS of the Gemeinden its areas belong to (largest part).
    id_column, name_column
        The columns of the imported file that gave key and name.
    batch
        The import batch: source file, licence, publisher, reference date.
    """

    name: str
    title: str
    n_units: int
    gemeinden: tuple[str, ...]
    id_column: str
    name_column: str
    batch: BatchInfo

    @property
    def layer_id(self) -> str:
        """The store layer holding the set."""
        return layer_id_of(self.name)

    @property
    def as_of(self) -> str | None:
        """Reference date of the boundaries (as recorded on import)."""
        return self.batch.as_of

    def source_line(self) -> str:
        """Source, publisher, licence and date in one German line.

        >>> b = BatchInfo("b", "gebiete_x", "stadtteile.geojson", "import", "CC BY", None, "2026-01-01T00:00:00",
        ...               "replace", 2, 2, 0, True, "Stadt Köln", "2014")
        >>> AreaSet("x", "Stadtteile", 2, ("05315000",), "nr", "name", b).source_line()
        'Stadtteile: stadtteile.geojson (Stadt Köln), Lizenz CC BY, Stand 2014'
        """
        who = f" ({self.batch.publisher})" if self.batch.publisher else ""
        when = f", Stand {self.batch.as_of}" if self.batch.as_of else f", importiert {self.batch.imported_at[:10]}"
        return f"{self.title}: {self.batch.source_file}{who}, Lizenz {self.batch.licence}{when}"

    def as_dict(self) -> dict[str, object]:
        """JSON-serialisable form."""
        return {
            "name": self.name,
            "title": self.title,
            "units": self.n_units,
            "gemeinden": list(self.gemeinden),
            "id_column": self.id_column,
            "name_column": self.name_column,
            "source_file": self.batch.source_file,
            "licence": self.batch.licence,
            "publisher": self.batch.publisher,
            "as_of": self.batch.as_of,
            "imported_at": self.batch.imported_at,
            "batch_id": self.batch.batch_id,
        }


def check_name(name: str) -> str:
    """Return ``name`` if it can name an area set.

    Raises
    ------
    DataError
        If it is empty, too long, uses other characters than ``a-z``,
        ``0-9`` and ``-``, or is an administrative level.

    Examples
    --------
    >>> check_name("koeln-stadtteile")
    'koeln-stadtteile'
    """
    text = str(name).strip()
    if text in RESERVED_NAMES:
        raise DataError(
            f"»{text}« ist eine Verwaltungsebene und kann keinen Gebietssatz benennen; bitte einen anderen Namen "
            "wählen, z. B. »koeln-stadtteile«."
        )
    if len(text) > MAX_NAME_LENGTH or not NAME_PATTERN.match(text):
        raise DataError(
            f"Name »{text}« für einen Gebietssatz ungültig: nur Kleinbuchstaben ohne Umlaute, Ziffern und »-«, "
            f"mit einem Buchstaben am Anfang, höchstens {MAX_NAME_LENGTH} Zeichen (z. B. »koeln-stadtteile«)."
        )
    return text


def layer_id_of(name: str) -> str:
    """The store layer of area set ``name``.

    >>> layer_id_of("koeln-stadtteile")
    'gebiete_koeln_stadtteile'
    """
    return LAYER_PREFIX + check_name(name).replace("-", "_")


def is_area_set_layer(layer_id: str) -> bool:
    """Whether a store layer holds an area set."""
    return layer_id.startswith(LAYER_PREFIX)


def name_of_layer(layer_id: str) -> str:
    """The area set held by a store layer (names have no ``_``, so the mapping is one to one).

    >>> name_of_layer("gebiete_koeln_stadtteile")
    'koeln-stadtteile'
    """
    return layer_id.removeprefix(LAYER_PREFIX).replace("_", "-")


def store_area_set(
    settings: Settings,
    name: str,
    units: gpd.GeoDataFrame,
    *,
    title: str,
    source_file: str,
    licence: str,
    publisher: str = "",
    as_of: str | None = None,
    id_column: str,
    name_column: str,
    rows_in: int | None = None,
    rows_rejected: int = 0,
) -> AreaSet:
    """Store checked areas (:func:`geo.areasets.checks.check_area_set`) as area set ``name``.

    A set of the same name is replaced (its earlier batch stays restorable).

    Notes
    -----
    The polygons are stored in EPSG:25832.
    """
    frame = units.assign(set_title=title, id_column=id_column, name_column=name_column)
    batch = open_store(settings).write_layer(
        layer_id_of(name),
        frame,
        mode="replace",
        source_file=source_file,
        source=f"Gebietssatz {name}",
        licence=licence,
        publisher=publisher,
        as_of=as_of,
        rows_in=rows_in,
        rows_rejected=rows_rejected,
    )
    return _area_set(name, frame, batch)


def _area_set(name: str, frame: pd.DataFrame, batch: BatchInfo) -> AreaSet:
    first = frame.iloc[0] if len(frame) else pd.Series(dtype=object)
    gemeinden = tuple(sorted(frame["gemeinde_ags"].dropna().astype(str).unique())) if len(frame) else ()
    return AreaSet(
        name=name,
        title=str(first.get("set_title", name) or name),
        n_units=len(frame),
        gemeinden=gemeinden,
        id_column=str(first.get("id_column", "")),
        name_column=str(first.get("name_column", "")),
        batch=batch,
    )


def area_sets(settings: Settings) -> tuple[AreaSet, ...]:
    """The stored area sets, by name (empty without a store)."""
    if not store_exists(settings):
        return ()
    store = open_store(settings)
    found = []
    for layer_id in store.layer_ids():
        if not is_area_set_layer(layer_id):
            continue
        frame, batch = store.read_layer(layer_id), store.layer_meta(layer_id)
        if frame is not None and batch is not None:
            found.append(_area_set(name_of_layer(layer_id), frame, batch))
    return tuple(sorted(found, key=lambda s: s.name))


def area_set(settings: Settings, name: str) -> AreaSet:
    """The stored area set ``name``.

    Raises
    ------
    NotLoadedError
        If there is none; the message lists the stored ones and says how to import one.
    """
    for found in area_sets(settings):
        if found.name == name:
            return found
    raise NotLoadedError(_not_loaded(settings, name))


def load_area_set(settings: Settings, name: str) -> gpd.GeoDataFrame:
    """The areas of set ``name``, sorted by key.

    Returns
    -------
    geopandas.GeoDataFrame
        ``unit_id``, ``name``, ``gemeinde_ags``, ``gemeinde_share``,
        ``nrw_share``, ``area_km2`` and the polygons in EPSG:25832.

    Raises
    ------
    NotLoadedError
        If there is no such set.
    """
    check_name(name)
    frame = open_store(settings).read_layer(layer_id_of(name)) if store_exists(settings) else None
    if frame is None or frame.empty:
        raise NotLoadedError(_not_loaded(settings, name))
    frame = frame.drop(columns=["batch_id", "set_title", "id_column", "name_column"], errors="ignore")
    frame["unit_id"] = frame["unit_id"].astype("string")
    return frame.sort_values("unit_id", key=_natural).reset_index(drop=True)


def _natural(keys: pd.Series) -> pd.Series:
    """Sort keys numerically when they are all numbers (``2`` before ``10``), else as text."""
    numbers = pd.to_numeric(keys, errors="coerce")
    return numbers if numbers.notna().all() else keys


def delete_area_set(settings: Settings, name: str) -> int:
    """Delete (deactivate) area set ``name``; returns the number of batches switched off.

    Raises
    ------
    NotLoadedError
        If there is no such set.
    """
    store = open_store(settings) if store_exists(settings) else None
    active = [b for b in store.batches(layer_id_of(name)) if b.active] if store is not None else []
    if store is None or not active:
        raise NotLoadedError(_not_loaded(settings, name))
    return sum(store.deactivate(b.batch_id) for b in active)


def _not_loaded(settings: Settings, name: str) -> str:
    names = ", ".join(f"»{s.name}«" for s in area_sets(settings)) or "keine"
    return (
        f"Gebietssatz »{name}« ist nicht geladen (geladen: {names}). Importieren mit "
        f"»integrationsatlas areas import DATEI --name {name}« oder auf der Seite »Daten«."
    )
