"""Destatis Gemeindeverzeichnis (GV-ISys): population, area and centre per Gemeinde.

The "Auszug GV" is published as XLSX (and sometimes re-saved as CSV). Its data
rows follow a fixed column layout; only rows of *Satzart* 60 describe a
Gemeinde::

    0 Satzart  1 Textkennzeichen  2 Land  3 RB  4 Kreis  5 VB  6 Gem  7 Gemeindename
    8 Fläche km²  9 Bevölkerung insgesamt  10 männlich  11 weiblich  12 je km²
    13 PLZ  14 Längengrad  15 Breitengrad  16–19 Reisegebiet, Verstädterung

The header spans several rows in the XLSX, so the parser reads the table
without a header and picks the Satzart-60 rows by position. Numbers may carry
space thousands separators (``"90 164"``) and decimal commas (``"6,78"``).

Besides the GV-ISys layouts (XLSX with its multi-row header, or its CSV
export with Satzart rows), :func:`read_gemeinde_population` accepts a plain
table with an AGS column (``AGS``, ``Gemeindeschlüssel``, ``ARS``, …) and a
population column (``population``, ``Einwohner``, ``Bevölkerung``, ``EWZ``,
…), e.g. ``nrw_gemeinden_destatis_gv_2019.csv``, and reports the reference
date (Stichtag) the file holds.
"""

from __future__ import annotations

import csv
import io
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import pandas as pd

from geo.errors import DataError, Problem, raise_if_problems
from geo.io.formats import detect_format, read_xlsx_sheets
from geo.io.limits import ReadLimits, check_file, check_rows
from geo.io.text import decode_strict, has_control, parse_number
from geo.settings import DISPLAY_CRS, PROJECTED_CRS, Settings

if TYPE_CHECKING:
    from geo.store import BatchInfo, Store

logger = logging.getLogger(__name__)

#: Store table holding the parsed Gemeindeverzeichnis (points at the Gemeinde centres).
POPULATION_TABLE = "destatis_gv"
#: Output columns of :func:`parse_gemeindeverzeichnis`.
COLUMNS: tuple[str, ...] = (
    "ags",
    "ars",
    "name",
    "kreis_ags",
    "area_km2",
    "population",
    "population_m",
    "population_w",
    "plz",
    "center_lon",
    "center_lat",
)
_MIN_COLUMNS = 16
_FIX = "Bitte das »Auszug GV« des Statistischen Bundesamts (GV-ISys) unverändert verwenden."


#: Limits of a population table, read before and while reading: the GV-ISys of all Germany has about
#: 16,000 rows of 20 columns, so anything far larger is not a Gemeinde table (or a bomb).
POPULATION_MAX_ROWS = 100_000
POPULATION_MAX_CELLS = 1_000_000
#: Most inhabitants one Gemeinde may have (Berlin, the largest, has 3.9 million).
MAX_GEMEINDE_POPULATION = 4_000_000
#: Largest plausible area of a Gemeinde in km² (Berlin, the largest, has 891 km²).
MAX_GEMEINDE_AREA_KM2 = 2_000.0
#: Plausible ranges of the optional number columns of a plain population table.
_RANGES: dict[str, tuple[float, float]] = {
    "area_km2": (0.0, MAX_GEMEINDE_AREA_KM2),
    "population_m": (0.0, MAX_GEMEINDE_POPULATION),
    "population_w": (0.0, MAX_GEMEINDE_POPULATION),
    "center_lon": (-180.0, 180.0),
    "center_lat": (-90.0, 90.0),
}


def population_limits(settings: Settings | None = None) -> ReadLimits:
    """The read limits of a population table: those of ``settings``, rows and cells capped for such tables."""
    base = ReadLimits.from_settings(settings) if settings is not None else ReadLimits()
    return replace(
        base, max_rows=min(base.max_rows, POPULATION_MAX_ROWS), max_cells=min(base.max_cells, POPULATION_MAX_CELLS)
    )


def read_gemeindeverzeichnis(path: Path, *, limits: ReadLimits | None = None, shown: str | None = None) -> pd.DataFrame:
    """Read an "Auszug GV" file or a plain population table (XLSX or CSV) as an all-text table without header.

    Limits are checked before reading (file size, the workbook's unpacked
    sizes and declared sheet dimensions) and while reading (rows and cells,
    streamed). Of a workbook, the one sheet holding Gemeinde rows is taken;
    two such sheets, or one that is hidden, are refused (which one holds the
    current figures cannot be told). A CSV may start with title rows of
    another width (the GV-ISys export); its separator is taken from the rows.

    Raises
    ------
    DataError
        If the file cannot be read, is too large, or its sheets are ambiguous.
    """
    path = Path(path)
    shown = shown or path.name
    limits = limits or population_limits()
    size, head = check_file(path, shown, limits.max_bytes, "max_upload_bytes")
    if size == 0:
        raise DataError(f"Datei {shown} ist leer. {_FIX}")
    if path.suffix.lower() in (".xls",):
        raise DataError(f"Datei {shown}: Das alte Excel-Format .xls wird nicht unterstützt; bitte als .xlsx speichern.")
    if path.suffix.lower() in (".xlsx", ".xlsm") or head.startswith(b"PK"):
        return _workbook_table(path, shown, limits)
    text, _ = decode_strict(path.read_bytes(), shown)
    return _csv_table(text, shown, limits)


def _workbook_table(path: Path, shown: str, limits: ReadLimits) -> pd.DataFrame:
    if detect_format(path, shown) != "xlsx":
        raise DataError(f"Datei {shown}: ist keine Excel-Arbeitsmappe (.xlsx), sondern ein anderes Format. {_FIX}")
    sheets = [sh for sh in read_xlsx_sheets(path, shown, limits) if not sh.empty]
    frames = {sh.name: _frame(sh.rows) for sh in sheets}
    found = [sh for sh in sheets if _gv_rows(frames[sh.name]) or _header_row(frames[sh.name]) is not None]
    if len(found) > 1:
        listed = ", ".join(f"»{sh.name}«" + (" (ausgeblendet)" if sh.hidden else "") for sh in found)
        raise DataError(
            f"Datei {shown}: {len(found)} Blätter enthalten Gemeindezahlen ({listed}); unklar, welches gilt. "
            "Bitte nur das Blatt mit dem gewünschten Stand behalten."
        )
    if found and found[0].hidden:
        raise DataError(
            f"Datei {shown}: Die Gemeindezahlen stehen nur im ausgeblendeten Blatt »{found[0].name}«. Bitte das "
            "Blatt einblenden (Excel: Rechtsklick → Einblenden) und prüfen, ob es den gewünschten Stand enthält."
        )
    if found:
        return frames[found[0].name]
    return frames[sheets[0].name] if sheets else pd.DataFrame()


def _frame(rows: list[list[object]]) -> pd.DataFrame:
    """Rows of text cells (ragged) as a table of strings, short rows padded with empty cells."""
    width = max((len(r) for r in rows), default=0)
    body = [[("" if isinstance(v, float) and np.isnan(v) else str(v)) for v in r] for r in rows]
    body = [r + [""] * (width - len(r)) for r in body]
    return pd.DataFrame(body, dtype=str) if width else pd.DataFrame()


def _csv_table(text: str, shown: str, limits: ReadLimits) -> pd.DataFrame:
    lines = text.splitlines()
    check_rows(len(lines), 1, shown, limits)
    sample = lines[:60]
    sep = max((";", ",", "\t", "|"), key=lambda c: (max((ln.count(c) for ln in sample), default=0), c == ";"))
    try:
        rows = [r for r in csv.reader(io.StringIO(text), delimiter=sep) if any(f.strip() for f in r)]
    except csv.Error as exc:
        raise DataError(f"Datei {shown}: keine lesbare CSV-Datei ({exc}). {_FIX}") from exc
    check_rows(len(rows), max((len(r) for r in rows), default=1), shown, limits)
    return _frame([list(r) for r in rows])


def parse_gemeindeverzeichnis(raw: pd.DataFrame, *, land: str = "05", file: str = "AuszugGV") -> pd.DataFrame:
    """Parse the Gemeinde rows (Satzart 60) of one Land from an "Auszug GV" table.

    Parameters
    ----------
    raw
        The table as read by :func:`read_gemeindeverzeichnis` (no header, text).
    land
        Two-digit Land code; ``05`` is NRW.
    file
        File name for the messages.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`COLUMNS`: 8-digit ``ags``, 12-digit ``ars``, ``name``,
        ``kreis_ags``, ``area_km2`` (float), ``population``,
        ``population_m``, ``population_w`` (``Int64``), ``plz`` (str) and the
        centre as ``center_lon``/``center_lat`` (float, WGS84); sorted by AGS.

    Raises
    ------
    DataError
        If the layout does not match or no Gemeinde of ``land`` is found.
    ValidationError
        Listing every row with an unparseable number or coordinate.

    Examples
    --------
    >>> raw = pd.DataFrame([["60", "61", "05", "1", "11", "0000", "000", "Düsseldorf, Stadt", "217,41",
    ...                      "621 877", "300 507", "321 370", "2 860", "40213", "6,780068", "51,22422"]])
    >>> parse_gemeindeverzeichnis(raw)[["ags", "population", "center_lat"]].to_dict("records")
    [{'ags': '05111000', 'population': 621877, 'center_lat': 51.22422}]
    """
    if raw.shape[1] < _MIN_COLUMNS:
        raise DataError(
            f"Datei {file}: {raw.shape[1]} Spalten, erwartet sind mindestens {_MIN_COLUMNS} "
            f"(Satzart bis Breitengrad). {_FIX}"
        )
    table = raw.iloc[:, :_MIN_COLUMNS].copy()
    table.columns = pd.RangeIndex(_MIN_COLUMNS)
    for col in range(8):
        table[col] = _strip(table[col])
    satzart = table[0].str.replace(r"\.0$", "", regex=True)
    land_code = table[2].str.replace(r"\.0$", "", regex=True).str.zfill(2)
    rows = table[(satzart == "60") & (land_code == land)]
    if rows.empty:
        raise DataError(f"Datei {file}: keine Gemeinde-Datensätze (Satzart 60) für Land {land} gefunden. {_FIX}")
    code = {i: rows[i].str.replace(r"\.0$", "", regex=True) for i in (3, 4, 5, 6)}
    ags = land + code[3].str.zfill(1) + code[4].str.zfill(2) + code[6].str.zfill(3)
    ars = land + code[3].str.zfill(1) + code[4].str.zfill(2) + code[5].str.zfill(4) + code[6].str.zfill(3)
    problems: list[Problem] = []

    def number(
        col: int, name: str, integer: bool, low: float = 0.0, high: float = MAX_GEMEINDE_POPULATION
    ) -> pd.Series:
        text = _strip(rows[col])
        values = parse_number(text, integer=integer)
        bad = values.isna() & text.ne("")
        for idx in rows.index[bad.to_numpy()][:20]:
            problems.append(
                Problem("»" + str(text.at[idx]) + "« ist keine Zahl.", _FIX, file=file, row=int(idx) + 1, column=name)
            )
        wrong = values.notna() & ~values.between(low, high)
        for idx in rows.index[wrong.to_numpy()][:20]:
            problems.append(
                Problem(
                    f"»{text.at[idx]}« liegt außerhalb des plausiblen Bereichs ({low:g} bis {high:,.0f}).".replace(
                        ",", "."
                    ),
                    _FIX,
                    file=file,
                    row=int(idx) + 1,
                    column=name,
                )
            )
        return values.where(~wrong)

    out = pd.DataFrame(
        {
            "ags": ags.astype("string"),
            "ars": ars.astype("string"),
            "name": rows[7].astype("string"),
            "kreis_ags": ags.str[:5].astype("string"),
            "area_km2": number(8, "Fläche km²", integer=False, high=MAX_GEMEINDE_AREA_KM2).astype("float64"),
            "population": number(9, "Bevölkerung insgesamt", integer=True).astype("Int64"),
            "population_m": number(10, "männlich", integer=True).astype("Int64"),
            "population_w": number(11, "weiblich", integer=True).astype("Int64"),
            "plz": _plz(rows[13]),
            "center_lon": number(14, "Längengrad", integer=False, low=-180, high=180).astype("float64"),
            "center_lat": number(15, "Breitengrad", integer=False, low=-90, high=90).astype("float64"),
        }
    )
    for idx in rows.index[has_control(rows[7])][:20]:
        problems.append(
            Problem("Der Gemeindename enthält Steuerzeichen.", _FIX, file=file, row=int(idx) + 1, column="Gemeindename")
        )
    bad_ags = ~out["ags"].str.fullmatch(r"\d{8}", na=False)
    for idx in out.index[bad_ags.to_numpy()][:20]:
        problems.append(
            Problem("Gemeindeschlüssel unvollständig.", _FIX, file=file, row=int(idx) + 1, column="Land/RB/Kreis/Gem")
        )
    for idx in out.index[out["ags"].duplicated().to_numpy()][:20]:
        problems.append(Problem("AGS " + str(out.at[idx, "ags"]) + " doppelt.", _FIX, file=file, row=int(idx) + 1))
    raise_if_problems(problems, f"Gemeindeverzeichnis {file} ist ungültig")
    return out.sort_values("ags").reset_index(drop=True)


#: Header names (normalised: lower case, letters and digits only) of the key and population columns.
_AGS_NAMES = (
    "ags",
    "gemeindeschluessel",
    "gemeindeschlussel",
    "amtlichergemeindeschluessel",
    "gkz",
    "ags8",
    "gemeindekennziffer",
    "ars",
    "regionalschluessel",
    "regionalschlussel",
    "amtlicherregionalschluessel",
)
_POP_NAMES = (
    "population",
    "einwohner",
    "einwohnerzahl",
    "bevoelkerung",
    "bevolkerung",
    "bevoelkerunginsgesamt",
    "bevolkerunginsgesamt",
    "ewz",
    "insgesamt",
    "bevoelkerungsstand",
)
_NAME_NAMES = ("name", "gemeindename", "gen", "gemeinde", "bezeichnung")
_DATE = re.compile(r"(\d{1,2})\.(\d{1,2})\.(\d{4})")
_YEAR = re.compile(r"(?<!\d)(19[5-9]\d|20[0-9]\d)(?!\d)")


@dataclass(frozen=True)
class GemeindePopulation:
    """Population per Gemeinde read from a Destatis file, with what the file says about itself.

    Parameters
    ----------
    table
        Columns :data:`COLUMNS` (those the file has; ``population`` always),
        one row per Gemeinde of the Land, sorted by AGS.
    stichtag
        Reference date as ``YYYY-MM-DD`` when the file states one, else the
        year from the file name (``"2019"``), else ``None``.
    stichtag_source
        German: where the Stichtag was found.
    layout
        ``"gv-isys"`` (Satzart rows, XLSX or CSV) or ``"tabelle"`` (plain table).
    source_file
        File name.
    """

    table: pd.DataFrame
    stichtag: str | None
    stichtag_source: str
    layout: str
    source_file: str

    @property
    def total(self) -> int:
        """Sum of the population."""
        return int(self.table["population"].sum())


def read_gemeinde_population(
    path: Path, *, land: str = "05", limits: ReadLimits | None = None, shown: str | None = None
) -> GemeindePopulation:
    """Read Gemeinde population from any Destatis layout, and its Stichtag.

    Parameters
    ----------
    path
        GV-ISys "Auszug GV" XLSX (multi-row header), its CSV export (Satzart
        rows, space thousands separators), or a plain CSV/XLSX table with an
        AGS column and a population column.
    land
        Two-digit Land code; ``05`` is NRW.
    limits
        Read limits (default :func:`population_limits`).
    shown
        The file name for messages (an upload's own name).

    Returns
    -------
    GemeindePopulation
        The table, its Stichtag and the layout found.

    Raises
    ------
    DataError
        If the file is unreadable, too large, has neither layout, several
        sheets with Gemeinde rows, or no Gemeinde of ``land``.
    ValidationError
        Listing every row with an unparseable or implausible number (a
        population above :data:`MAX_GEMEINDE_POPULATION`), a key that is not
        8 digits, a name with control characters, or a centre outside
        −180…180 / −90…90 degrees.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "gemeinden_2019.csv"
    >>> _ = p.write_text("AGS,name,population\\n05111000,Düsseldorf,621877\\n05334002,Aachen,248960\\n")
    >>> r = read_gemeinde_population(p)
    >>> r.layout, r.stichtag, r.total
    ('tabelle', '2019', 870837)
    """
    path = Path(path)
    shown = shown or path.name
    raw = read_gemeindeverzeichnis(path, limits=limits, shown=shown)
    if _gv_rows(raw):
        table = parse_gemeindeverzeichnis(raw, land=land, file=shown)
        layout = "gv-isys"
    else:
        table = _plain_table(raw, land=land, file=shown)
        layout = "tabelle"
    stichtag, where = _stichtag(raw, shown)
    logger.info("%s: %d Gemeinden, Stichtag %s (%s)", shown, len(table), stichtag, where)
    return GemeindePopulation(table, stichtag, where, layout, shown)


def _gv_rows(raw: pd.DataFrame) -> bool:
    """Whether the table has the GV-ISys layout (Satzart-60 rows and at least 16 columns)."""
    if raw.shape[1] < _MIN_COLUMNS:
        return False
    first = _strip(raw.iloc[:, 0]).str.replace(r"\.0$", "", regex=True)
    return bool((first == "60").any())


def _header_row(raw: pd.DataFrame) -> int | None:
    """The row (of the first 30) naming an AGS column and a population column, or ``None``."""
    for i in range(min(len(raw), 30)):
        names = [_norm(v) for v in raw.iloc[i].tolist()]
        if any(n in _AGS_NAMES for n in names) and any(n in _POP_NAMES for n in names):
            return i
    return None


def _norm(name: object) -> str:
    text = str(name).strip().lower().replace("ä", "ae").replace("ö", "oe").replace("ü", "ue").replace("ß", "ss")
    return re.sub(r"[^a-z0-9]", "", text)


def _plain_table(raw: pd.DataFrame, *, land: str, file: str) -> pd.DataFrame:
    header_row = _header_row(raw)
    if header_row is None:
        raise DataError(
            f"Datei {file}: weder das Layout des »Auszug GV« (Satzart 60) noch eine Tabelle mit einer Spalte "
            "für den Gemeindeschlüssel (AGS) und einer für die Einwohnerzahl (population/Einwohner/Bevölkerung) "
            f"gefunden. {_FIX}"
        )
    names = [_norm(v) for v in raw.iloc[header_row].tolist()]
    ags_col = next(i for n in _AGS_NAMES for i, m in enumerate(names) if m == n)
    pop_col = next(i for n in _POP_NAMES for i, m in enumerate(names) if m == n)
    name_col = next((i for n in _NAME_NAMES for i, m in enumerate(names) if m == n), None)
    body = raw.iloc[header_row + 1 :]
    key = _strip(body.iloc[:, ags_col]).str.replace(r"\.0$", "", regex=True).str.replace(" ", "", regex=False)
    key = key.where(key.str.len() != 7, "0" + key)  # "5111000" from a spreadsheet that dropped the zero
    ags = key.where(key.str.len() != 12, key.str[:5] + key.str[9:])
    ags = ags.where(ags.str.len() != 11, "0" + ags.str[:4] + ags.str[8:])
    rows = body[ags.str.startswith(land).to_numpy() & key.ne("").to_numpy()]
    ags = ags.loc[rows.index]
    if rows.empty:
        raise DataError(f"Datei {file}: keine Gemeinde mit Schlüssel {land}… (Land {land}) gefunden. {_FIX}")
    problems: list[Problem] = []

    def note(mask: pd.Series | np.ndarray, message: Callable[[object], str], fix: str, column: int | None) -> None:
        for idx in rows.index[np.asarray(mask, dtype=bool)][:20]:
            where = None if column is None else str(raw.iloc[header_row, column])
            problems.append(Problem(message(idx), fix, file=file, row=int(idx) + 1, column=where))

    pop_text = _strip(rows.iloc[:, pop_col])
    pop = parse_number(pop_text, integer=True)
    wrong = pop.isna() | ~pop.between(0, MAX_GEMEINDE_POPULATION)
    top = f"{MAX_GEMEINDE_POPULATION:,}".replace(",", ".")
    note(
        wrong,
        lambda idx: f"»{pop_text.at[idx]}« ist keine Einwohnerzahl (ganze Zahl von 0 bis {top}).",
        f"Einwohnerzahl als ganze Zahl eintragen (höchstens {top}, so viele hat keine Gemeinde).",
        pop_col,
    )
    pop = pop.where(~wrong)
    if name_col is not None:
        note(
            has_control(rows.iloc[:, name_col]),
            lambda idx: "Der Name enthält Steuerzeichen.",
            "Steuerzeichen (unsichtbare Zeichen) aus dem Namen entfernen.",
            name_col,
        )
    note(
        ~ags.str.fullmatch(r"\d{8}", na=False),
        lambda idx: "Gemeindeschlüssel ist nicht 8-stellig.",
        "AGS mit 8 Ziffern eintragen.",
        ags_col,
    )
    note(ags.duplicated(), lambda idx: f"AGS {ags.at[idx]} doppelt.", "Jede Gemeinde nur einmal aufführen.", None)
    extras: dict[str, np.ndarray] = {}
    for col in ("ars", "area_km2", "population_m", "population_w", "plz", "center_lon", "center_lat"):
        at = next((i for i, m in enumerate(names) if m == col.replace("_", "")), None)
        if at is None:
            continue
        values = _strip(rows.iloc[:, at])
        if col in ("ars", "plz"):
            extras[col] = values.astype("string").to_numpy()
            continue
        number = parse_number(values, integer=col.startswith("population"))
        low, high = _RANGES[col]
        wrong = number.notna() & ~number.between(low, high)

        def out_of_range(idx: object, v: pd.Series = values, lo: float = low, hi: float = high) -> str:
            return f"»{v.at[idx]}« liegt außerhalb des plausiblen Bereichs ({lo:g} bis {hi:g})."

        note(wrong, out_of_range, "Wert prüfen oder die Spalte weglassen.", at)
        extras[col] = number.where(~wrong).astype("Int64" if col.startswith("population") else "float64").to_numpy()
    raise_if_problems(problems, f"Gemeindetabelle {file} ist ungültig")
    out = pd.DataFrame(
        {
            "ags": ags.astype("string").to_numpy(),
            "name": (
                rows.iloc[:, name_col].astype("string").to_numpy()
                if name_col is not None
                else pd.array([pd.NA] * len(rows), dtype="string")
            ),
            "kreis_ags": ags.str[:5].astype("string").to_numpy(),
            "population": pop.astype("Int64").to_numpy(),
        }
    )
    for col, column in extras.items():
        out[col] = column
    kinds = {c: "string" for c in ("ags", "name", "kreis_ags", "ars", "plz") if c in out.columns}
    kinds.update({c: "Int64" for c in ("population", "population_m", "population_w") if c in out.columns})
    return out.astype(kinds).sort_values("ags").reset_index(drop=True)


def _stichtag(raw: pd.DataFrame, name: str) -> tuple[str | None, str]:
    cells = pd.Series(raw.iloc[:12].to_numpy().ravel())
    head = " ".join(_strip(cells).tolist()) if len(raw) else ""
    found = _DATE.search(head)
    if found:
        day, month, year = found.groups()
        return f"{year}-{int(month):02d}-{int(day):02d}", "Kopfzeilen der Datei"
    year = _YEAR.search(name)
    if year:
        return year.group(1), "Jahr aus dem Dateinamen (die Datei nennt keinen Stichtag)"
    return None, "unbekannt (weder Kopfzeilen noch Dateiname nennen einen Stichtag)"


def import_gemeinde_population(
    path: Path, settings: Settings, *, land: str = "05", shown: str | None = None
) -> GemeindePopulation:
    """Read a Destatis Gemeinde population file and store it (table ``destatis_gv``).

    The population is also joined by AGS onto a stored ``gemeinde`` layer.

    Parameters
    ----------
    path
        Any layout :func:`read_gemeinde_population` accepts.
    settings
        Where the local data store lives, and the read limits
        (:func:`population_limits`, checked before reading).
    land
        Two-digit Land code.
    shown
        The file name for messages (an upload's own name).

    Returns
    -------
    GemeindePopulation
        What was read, with its Stichtag. A refused file leaves the store
        unchanged.

    Notes
    -----
    The stored points sit at the Destatis Gemeinde centre (EPSG:25832) and are
    used for their numbers only; demand never uses them as locations.
    """
    from geo.store import open_store

    result = read_gemeinde_population(path, land=land, limits=population_limits(settings), shown=shown)
    store = open_store(settings)
    stichtag = f", Stichtag {result.stichtag}" if result.stichtag else ""
    store.write_layer(
        POPULATION_TABLE,
        population_points(result.table),
        mode="replace",
        source_file=result.source_file,
        source=f"Destatis GV-ISys{stichtag}",
        licence="dl-de/by-2-0",
        rows_in=len(result.table),
        publisher="Statistisches Bundesamt (Destatis)",
        as_of=result.stichtag,
    )
    attach_population(store, result.table, f"Destatis{stichtag}")
    return result


def attach_population(store: Store, table: pd.DataFrame, label: str) -> tuple[BatchInfo, int] | None:
    """Join ``table``'s Einwohner onto the stored Gemeinden as a new batch that keeps the boundaries' provenance.

    The boundaries keep their file, licence, URL, publisher and Stichtag (a population import
    dropped the last two: VG250 Gemeinden from the BKG, Stand 2019, showed no publisher and the
    day of the population import in the report's sources); their source names the population's
    ``label`` beside their own.

    Returns
    -------
    tuple[BatchInfo, int] | None
        The new batch and how many stored Gemeinden got a figure; ``None`` when no Gemeinden are stored.
    """
    gemeinden = store.read_layer("gemeinde")
    if gemeinden is None or not len(gemeinden):
        return None
    meta = store.layer_meta("gemeinde")
    batch = store.write_layer(
        "gemeinde",
        join_population(gemeinden.drop(columns=["batch_id"]), table),
        mode="replace",
        source_file=meta.source_file if meta else "gemeinde",
        source=f"{meta.source if meta else 'Gemeinden'} + Einwohner: {label}",
        licence=meta.licence if meta else "dl-de/by-2-0",
        url=meta.url if meta else None,
        publisher=meta.publisher if meta else "",
        as_of=meta.as_of if meta else None,
    )
    return batch, int(gemeinden["ags"].astype(str).isin(table["ags"]).sum())


def population_points(table: pd.DataFrame) -> gpd.GeoDataFrame:
    """The Gemeindeverzeichnis as points at the Gemeinde centres, in EPSG:25832.

    Rows without a centre (or a table without ``center_lon``/``center_lat``)
    get an empty geometry (they are kept for the population).
    """
    if "center_lon" not in table.columns or "center_lat" not in table.columns:
        table = table.assign(center_lon=np.nan, center_lat=np.nan)
    points = gpd.points_from_xy(table["center_lon"], table["center_lat"], crs=DISPLAY_CRS)
    return gpd.GeoDataFrame(table.copy(), geometry=points, crs=DISPLAY_CRS).to_crs(PROJECTED_CRS)


def join_population(gemeinden: gpd.GeoDataFrame, table: pd.DataFrame) -> gpd.GeoDataFrame:
    """Set ``population`` of ``gemeinden`` from the Gemeindeverzeichnis by AGS.

    Gemeinden missing from ``table`` keep their value (or NA); the input index
    is kept.

    >>> import geopandas as gpd
    >>> g = gpd.GeoDataFrame({"ags": ["05111000", "05112000"]}, geometry=[None, None])
    >>> t = pd.DataFrame({"ags": ["05111000"], "population": pd.array([621877], dtype="Int64")})
    >>> join_population(g, t)["population"].tolist()
    [621877, <NA>]
    """
    out = gemeinden.copy()
    mapped = out["ags"].astype("string").map(table.set_index("ags")["population"]).astype("Int64")
    current = (
        out["population"].astype("Int64")
        if "population" in out.columns
        else pd.Series(pd.NA, index=out.index, dtype="Int64")
    )
    out["population"] = mapped.fillna(current).astype("Int64")
    return out


def load_gemeinde_population(settings: Settings) -> pd.DataFrame | None:
    """Population per Gemeinde: the fetched Gemeindeverzeichnis, else the Gemeinde layer.

    Parameters
    ----------
    settings
        Where the local data store lives.

    Returns
    -------
    pandas.DataFrame or None
        Indexed by the 8-digit ``ags``, with at least ``name`` and
        ``population`` (``Int64``); the Destatis table adds area, male/female
        population, PLZ and centre. ``None`` when no population is known.
    """
    from geo.store import open_store, store_exists

    if not store_exists(settings):
        return None
    store = open_store(settings)
    table = store.read_layer(POPULATION_TABLE)
    if table is not None and len(table):
        frame = pd.DataFrame(table.drop(columns=["geometry", "batch_id"], errors="ignore"))
        frame["population"] = frame["population"].astype("Int64")
        return frame.drop_duplicates("ags", keep="last").set_index("ags").sort_index()
    gemeinden = store.read_layer("gemeinde")
    if gemeinden is None or "population" not in gemeinden.columns:
        return None
    pop = pd.to_numeric(gemeinden["population"], errors="coerce").astype("Int64")
    if pop.isna().all():
        return None
    frame = pd.DataFrame({"ags": gemeinden["ags"].astype("string"), "name": gemeinden["name"], "population": pop})
    return frame.drop_duplicates("ags", keep="last").set_index("ags").sort_index()


def _plz(values: pd.Series) -> pd.Series:
    plz = _strip(values).str.replace(r"\.0$", "", regex=True).str.zfill(5)
    return plz.mask(plz == "00000").astype("string")


def _strip(values: pd.Series) -> pd.Series:
    return values.fillna("").astype(str).str.strip().str.replace("\u00a0", " ", regex=False)


def gemeinden_with_population(settings: Settings) -> gpd.GeoDataFrame:
    """The Gemeinde boundaries (embedded or imported) with ``population`` from the best table loaded.

    The boundaries come from :func:`geo.units.load_boundaries`; the
    population from :func:`load_gemeinde_population` (the imported
    Gemeindeverzeichnis, else the layer's own column). Gemeinden without a
    figure keep ``NA``.

    Raises
    ------
    NotLoadedError
        If no Gemeinde boundaries are available.

    Notes
    -----
    Geometries in EPSG:25832.
    """
    from geo.units import load_boundaries

    gemeinden = load_boundaries("gemeinde", settings)
    table = load_gemeinde_population(settings)
    if table is None:
        return gemeinden
    return join_population(gemeinden, table.reset_index())
