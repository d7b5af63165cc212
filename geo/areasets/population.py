"""Residents per area of an area set: the city's own Stadtteil figures as demand and indicators.

Cities count their residents per Stadtteil (Köln: Offene Daten Köln
»Bevölkerung«, per Stadtteil and year, with age groups and foreign residents).
:func:`import_area_population` reads such a table – one row per area, a key
column matching the set's keys, a residents column and optionally the counts
of the target groups – checks it against the stored set and stores it with its
reference date as the store layer ``einwohner_gebiete_<set>``, one restorable
batch per import. The demand of a question about the set's areas then uses it
(:func:`planning.demand.demand_from_areas`), and its date is the date of the
indicator snapshot it triggers.

Accepted column names (case and ``_``/space/``-`` ignored):

* residents: ``einwohner``, ``population``, ``bevoelkerung``, ``ew``, ``insgesamt``;
* target groups (:data:`planning.demand.ZENSUS_GROUPS`): ``unter3``/``u3``,
  ``a3bis5``/``kita_ue3``, ``a6bis9``/``grundschule``, ``unter18``/``u18``,
  ``auslaender``/``foreign``;
* reference year or date: ``jahr``, ``year``, ``stichtag`` – a file with
  several picks one with ``as_of``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from geo.areasets.storage import area_set, layer_id_of, load_area_set
from geo.errors import DataError, Problem, raise_if_problems
from geo.io.formats import read_table
from geo.io.text import parse_number
from geo.settings import Settings
from geo.store import BatchInfo, open_store, store_exists
from geo.units import representative_points

#: Prefix of the store layers holding an area set's residents.
LAYER_PREFIX = "einwohner_"
#: Output column → accepted header spellings (normalised: lower case, no ``_``, space or ``-``).
COLUMN_NAMES: dict[str, tuple[str, ...]] = {
    "population": ("einwohner", "population", "bevoelkerung", "bevölkerung", "ew", "insgesamt"),
    "u3": ("unter3", "u3"),
    "kita_ue3": ("a3bis5", "kitaue3", "3bis5", "3bisunter6"),
    "grundschule": ("a6bis9", "grundschule", "6bis9", "6bisunter10"),
    "u18": ("unter18", "u18"),
    "foreign": ("auslaender", "ausländer", "foreign"),
}
#: Target groups an area population can carry (the ids of :data:`planning.demand.ZENSUS_GROUPS`).
GROUPS: tuple[str, ...] = ("u3", "kita_ue3", "grundschule", "u18", "foreign")
DATE_NAMES: tuple[str, ...] = ("jahr", "year", "stichtag", "asof")


@dataclass(frozen=True)
class AreaPopulation:
    """The residents of the areas of one set at one reference date.

    Parameters
    ----------
    set_name
        The area set (``koeln-stadtteile``).
    table
        One row per area: ``unit_id``, ``population`` and the target-group
        counts of :data:`GROUPS` the file gave (integers).
    as_of
        Reference date or year (``2012``, ``2012-12-31``).
    source_file, licence, publisher
        Provenance of the figures.
    """

    set_name: str
    table: pd.DataFrame
    as_of: str
    source_file: str
    licence: str = ""
    publisher: str = ""

    @property
    def groups(self) -> tuple[str, ...]:
        """The target groups the table counts."""
        return tuple(g for g in GROUPS if g in self.table.columns)

    @property
    def source(self) -> str:
        """Source line for results: file, publisher, licence."""
        who = f", {self.publisher}" if self.publisher else ""
        licence = f" ({self.licence})" if self.licence else ""
        return f"Einwohner je Gebiet: {self.source_file}{who}{licence}"

    def as_dict(self) -> dict[str, object]:
        """JSON form: set, date, areas, residents, groups and their totals."""
        return {
            "area_set": self.set_name,
            "as_of": self.as_of,
            "areas": len(self.table),
            "population": int(self.table["population"].sum()),
            "groups": {g: int(self.table[g].sum()) for g in self.groups},
            "source_file": self.source_file,
            "licence": self.licence,
            "publisher": self.publisher,
        }


def population_layer_id(set_name: str) -> str:
    """The store layer of a set's residents.

    >>> population_layer_id("koeln-stadtteile")
    'einwohner_gebiete_koeln_stadtteile'
    """
    return LAYER_PREFIX + layer_id_of(set_name)


def is_population_layer(layer_id: str) -> bool:
    """Whether a store layer holds residents per area (an import of it recomputes every indicator series)."""
    return layer_id.startswith(LAYER_PREFIX)


def _norm(text: object) -> str:
    return re.sub(r"[\s_\-]", "", str(text).strip().lower())


def read_area_population(
    path: Path,
    units: gpd.GeoDataFrame,
    *,
    set_name: str,
    max_bytes: int,
    id_column: str | None = None,
    as_of: str | None = None,
    shown: str | None = None,
) -> tuple[pd.DataFrame, str]:
    """Read and check a residents table against the areas ``units`` of a set.

    Parameters
    ----------
    path
        CSV or XLSX (every cell read as text; German or English numbers).
    units
        The set's areas (:func:`geo.areasets.load_area_set`).
    set_name
        The set's name, for messages.
    max_bytes
        Largest accepted file size.
    id_column
        The key column; default: the column whose values match most keys.
    as_of
        The year or date to take from a file with a ``jahr``/``stichtag``
        column holding several; required then.
    shown
        File name for messages.

    Returns
    -------
    tuple
        The table (``unit_id``, ``population``, groups) and the reference
        date (from ``as_of`` or the file's one date; empty when neither).

    Raises
    ------
    ValidationError
        Listing every problem with file, row and column: no key or residents
        column, keys not in the set, areas of the set missing, duplicate keys,
        counts that are not whole numbers ≥ 0, a group larger than the residents.
    DataError
        If the file cannot be read, or several dates are in it and none was chosen.
    """
    shown = shown or path.name
    frame = read_table(path, max_bytes=max_bytes, name=shown)
    frame = pd.DataFrame(frame.drop(columns="geometry", errors="ignore"))
    offset = int(frame.attrs.get("row_offset", 2))
    frame["_row"] = np.arange(len(frame)) + offset
    headers = {_norm(c): c for c in frame.columns if c != "_row"}
    keys = set(units["unit_id"].astype(str))
    fix_names = ", ".join(f"»{n[0]}«" for n in COLUMN_NAMES.values())
    problems: list[Problem] = []
    key = id_column if id_column is not None else _key_column(frame, keys)
    if key is None or key not in frame.columns:
        listed = ", ".join(f"»{c}«" for c in frame.columns if c != "_row")
        raise_if_problems(
            [
                Problem(
                    f"keine Spalte mit den Schlüsseln des Gebietssatzes »{set_name}« gefunden (Spalten: {listed})",
                    "die Schlüsselspalte mit --id-column angeben",
                    file=shown,
                )
            ],
            "Einwohnertabelle abgelehnt",
        )
    found = {out: headers[n] for out, names in COLUMN_NAMES.items() for n in map(_norm, names) if n in headers}
    if "population" not in found:
        raise_if_problems(
            [Problem("keine Spalte mit den Einwohnern gefunden", f"eine Spalte so benennen: {fix_names}", file=shown)],
            "Einwohnertabelle abgelehnt",
        )
    date_column = next((headers[n] for n in DATE_NAMES if n in headers), None)
    date = _pick_date(frame, date_column, as_of, shown)
    if date_column is not None and date:
        frame = frame[frame[date_column].astype(str).str.strip() == date]
    ids = frame[key].astype("string").str.strip()
    table = pd.DataFrame({"unit_id": ids.to_numpy(), "_row": frame["_row"].to_numpy()})

    def flag(rows: pd.Series, message: str | Callable[[str], str], fix: str, column: str) -> None:
        """One problem per flagged row (the first 20); a callable ``message`` gets the row's key."""
        for row, value in table.loc[rows, ["_row", "unit_id"]].head(20).itertuples(index=False):
            text = message if isinstance(message, str) else message(str(value))
            problems.append(Problem(text, fix, file=shown, row=int(row), column=column))

    for out, column in found.items():
        table[out] = parse_number(frame[column], integer=True).to_numpy()
        not_count = f"»{column}« ist keine ganze Zahl ≥ 0"
        flag(table[out].isna() | (table[out] < 0), not_count, "die Zelle korrigieren", str(column))
    for out in (g for g in GROUPS if g in found):
        too_many = f"»{found[out]}« ist größer als die Einwohnerzahl"
        flag(table[out] > table["population"], too_many, "die Zeile prüfen", str(found[out]))
    unknown = ~table["unit_id"].isin(keys)
    flag(unknown, lambda k: f"Schlüssel »{k}« gibt es im Gebietssatz »{set_name}« nicht",
         "den Schlüssel oder den Gebietssatz prüfen", str(key))  # fmt: skip
    twice = table["unit_id"].duplicated(keep=False) & ~unknown
    flag(twice, lambda k: f"Schlüssel »{k}« steht mehrfach in der Tabelle", "je Gebiet eine Zeile", str(key))
    missing = sorted(keys - set(table["unit_id"].dropna()))
    if missing:
        problems.append(
            Problem(
                f"{len(missing)} Gebiet(e) des Satzes ohne Zeile: {', '.join(missing[:10])}"
                + (" …" if len(missing) > 10 else ""),
                "für jedes Gebiet eine Zeile angeben (auch 0 Einwohner)",
                file=shown,
            )
        )
    raise_if_problems(problems, f"Einwohnertabelle {shown} abgelehnt")
    counted = table.drop(columns="_row")
    counted[list(found)] = counted[list(found)].astype("int64")
    return counted.reset_index(drop=True), date


def _key_column(frame: pd.DataFrame, keys: set[str]) -> str | None:
    """The column whose values match the most keys (at least half of its values)."""
    best, hits = None, 0
    for column in (c for c in frame.columns if c != "_row"):
        values = frame[column].astype("string").str.strip()
        n = int(values.isin(keys).sum())
        if n > hits and n * 2 >= values.notna().sum():
            best, hits = column, n
    return best


def _pick_date(frame: pd.DataFrame, column: str | None, as_of: str | None, shown: str) -> str:
    if column is None:
        return as_of or ""
    dates = sorted(frame[column].dropna().astype(str).str.strip().unique())
    if as_of is not None:
        if as_of not in dates:
            raise DataError(f"Datei {shown}: »{column}« hat den Wert {as_of} nicht (vorhanden: {', '.join(dates)}).")
        return as_of
    if len(dates) != 1:
        raise DataError(
            f"Datei {shown}: die Tabelle enthält {len(dates)} Stichtage in »{column}« ({', '.join(dates)}); "
            "bitte einen als Stand angeben (Seite »Daten«: Feld »Stand der Daten«; Kommandozeile: --as-of "
            + (dates[-1] if dates else "2012")
            + ")."
        )
    return dates[0]


def import_area_population(
    path: Path,
    set_name: str,
    settings: Settings,
    *,
    id_column: str | None = None,
    as_of: str | None = None,
    licence: str = "",
    publisher: str = "",
    shown: str | None = None,
) -> AreaPopulation:
    """Check a residents table against stored area set ``set_name`` and store it (one restorable batch).

    The store holds one point per area (its representative point, EPSG:25832)
    carrying the counts; a new import replaces the previous one, which stays
    restorable. Nothing is stored when the table is refused.

    Raises
    ------
    NotLoadedError
        If the set is not loaded.
    ValidationError, DataError
        As :func:`read_area_population`; also when no reference date is known.
    """
    area_set(settings, set_name)
    units = load_area_set(settings, set_name)
    shown = shown or path.name
    table, date = read_area_population(
        path,
        units,
        set_name=set_name,
        max_bytes=settings.max_upload_bytes,
        id_column=id_column,
        as_of=as_of,
        shown=shown,
    )
    if not date:
        raise DataError(
            f"Datei {shown}: kein Stichtag bekannt; bitte als Stand angeben (Seite »Daten«: Feld »Stand der Daten«; "
            "Kommandozeile: --as-of 2012-12-31)."
        )
    located = units.set_index(units["unit_id"].astype(str)).geometry.reindex(table["unit_id"])
    frame = gpd.GeoDataFrame(table, geometry=representative_points(located).to_numpy(), crs=units.crs)
    open_store(settings).write_layer(
        population_layer_id(set_name),
        frame,
        mode="replace",
        source_file=shown,
        source=f"Einwohner je Gebiet {set_name}",
        licence=licence or "unbekannt",
        publisher=publisher,
        as_of=date,
    )
    return AreaPopulation(set_name, table, date, shown, licence, publisher)


def load_area_population(settings: Settings, set_name: str) -> AreaPopulation | None:
    """The stored residents of area set ``set_name``, or ``None`` when none were imported."""
    if not store_exists(settings):
        return None
    store = open_store(settings)
    layer_id = population_layer_id(set_name)
    frame, batch = store.read_layer(layer_id), store.layer_meta(layer_id)
    if frame is None or frame.empty or batch is None:
        return None
    return _population(set_name, frame, batch)


def _population(set_name: str, frame: pd.DataFrame, batch: BatchInfo) -> AreaPopulation:
    columns = ["population", *(g for g in GROUPS if g in frame.columns)]
    table = pd.DataFrame(frame[["unit_id", *columns]]).astype(dict.fromkeys(columns, "int64"))
    table["unit_id"] = table["unit_id"].astype(str)
    return AreaPopulation(
        set_name,
        table.reset_index(drop=True),
        str(batch.as_of or batch.imported_at[:10]),
        batch.source_file,
        "" if batch.licence == "unbekannt" else batch.licence,
        batch.publisher,
    )
