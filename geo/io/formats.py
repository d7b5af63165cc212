"""Reading users' files of every supported format into a table: CSV, Excel, GeoJSON, GeoPackage, Shapefile-ZIP."""

from __future__ import annotations

import csv
import io
import json
import math
import re
import tempfile
import warnings
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pyproj

from geo.errors import (
    CRSError,
    DataError,
    Problem,
    raise_if_problems,
)
from geo.io.limits import (
    ZIP_ERRORS,
    ReadLimits,
    check_json_depth,
    check_rows,
    check_zip,
    extract_members,
)
from geo.io.shapefile import check_dbf
from geo.io.text import decode_strict, norm_header, sniff_separator
from geo.settings import PROJECTED_CRS

FileFormat = Literal["csv", "xlsx", "geojson", "gpkg", "shapefile"]


_SUFFIXES: dict[str, FileFormat] = {
    ".csv": "csv",
    ".txt": "csv",
    ".tsv": "csv",
    ".xlsx": "xlsx",
    ".xlsm": "xlsx",
    ".geojson": "geojson",
    ".json": "geojson",
    ".gpkg": "gpkg",
    ".zip": "shapefile",
}
_SEP_LINE = re.compile(r"^\s*\"?sep=(.)\"?\s*$", re.IGNORECASE)


# --- reading files ----------------------------------------------------------------


def detect_format(path: Path | str, name: str | None = None) -> FileFormat:
    """Detect the file format from the name and, failing that, the first bytes.

    Parameters
    ----------
    path
        The file on disk.
    name
        The name the user gave the file (an upload's original name), if the
        file on disk has a temporary name.

    Raises
    ------
    DataError
        For formats that are recognised but not supported (``.xls``, a loose
        ``.shp``) and for unreadable files.
    """
    path = Path(path)
    shown = name or path.name
    suffix = Path(shown).suffix.lower() or path.suffix.lower()
    if suffix == ".xls":
        raise DataError(
            f"Datei {shown}: Das alte Excel-Format .xls wird nicht unterstützt. "
            "Bitte in Excel als .xlsx (Excel-Arbeitsmappe) oder als CSV speichern."
        )
    if suffix in (".shp", ".dbf", ".shx"):
        raise DataError(
            f"Datei {shown}: Ein Shapefile besteht aus mehreren Dateien. Bitte .shp, .shx, "
            ".dbf und .prj zusammen in eine ZIP-Datei packen und diese importieren."
        )
    try:
        with path.open("rb") as fh:
            head = fh.read(4096)
    except OSError as exc:
        raise DataError(f"Datei {shown} kann nicht gelesen werden ({_short(exc, path, shown)}).") from exc
    if head.startswith(b"PK"):
        try:
            with zipfile.ZipFile(path) as zf:
                names = zf.namelist()
        except ZIP_ERRORS as exc:
            raise DataError(
                f"Datei {shown}: Die ZIP-Datei ist beschädigt ({type(exc).__name__}). "
                "Bitte die Datei neu speichern oder neu herunterladen."
            ) from exc
        return "xlsx" if any(n.startswith("xl/") for n in names) else "shapefile"
    if head.startswith(b"SQLite format 3"):
        return "gpkg"
    if suffix in _SUFFIXES and _SUFFIXES[suffix] not in ("xlsx", "shapefile", "gpkg"):
        return _SUFFIXES[suffix]
    if suffix in (".xlsx", ".xlsm", ".zip", ".gpkg"):
        raise DataError(
            f"Datei {shown}: Die Datei hat die Endung {suffix}, ist aber keine gültige "
            f"{suffix[1:].upper()}-Datei. Bitte die Datei neu speichern."
        )
    if head.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"{"):
        return "geojson"
    return "csv"


def read_table(
    path: Path | str,
    *,
    max_bytes: int,
    name: str | None = None,
    layer: str | None = None,
    limits: ReadLimits | None = None,
) -> pd.DataFrame | gpd.GeoDataFrame:
    """Read a CSV, XLSX, GeoJSON, GeoPackage or zipped Shapefile.

    Parameters
    ----------
    path
        The file.
    max_bytes
        Largest accepted file size (``Settings.max_upload_bytes``).
    name
        File name for messages and format detection (an upload's original name).
    layer
        For GeoPackages and zips with several layers: prefer the layer (or
        ``.shp``) with this name; otherwise the first one is read.
    limits
        Limits on unpacked size, rows, cells and JSON nesting, checked before
        reading (:class:`~geo.io.limits.ReadLimits`; defaults of
        :class:`~geo.settings.Settings`). ``max_bytes`` wins over ``limits.max_bytes``.

    Returns
    -------
    pandas.DataFrame or geopandas.GeoDataFrame
        Tables (CSV, XLSX) with every cell as text; geodata as a
        GeoDataFrame in its own CRS. ``attrs["row_offset"]`` is the number to
        add to a 0-based data row to get the row the user sees (header and
        ``sep=;`` line in a spreadsheet, feature number in geodata);
        ``attrs["format"]`` is the detected format, ``attrs["encoding"]`` the
        text encoding used (text formats). GeoJSON tables carry
        ``attrs["geometry_given"]``: per feature, whether the file had a
        (non-null) geometry, so geometries GDAL could not read are reported.

    Raises
    ------
    DataError
        If the file is too large (also unpacked), has too many rows or cells,
        is empty or cannot be parsed; the message names the file (never a
        server path) and says what to do.
    CRSError
        If the coordinate reference system is missing or unknown.
    """
    path = Path(path)
    shown = name or path.name
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise DataError(f"Datei {shown} nicht gefunden oder nicht lesbar ({_short(exc, path, shown)}).") from exc
    if size > max_bytes:
        raise DataError(
            f"Datei {shown} ist zu groß ({size / 1e6:.1f} MB); erlaubt sind höchstens {max_bytes / 1e6:.1f} MB. "
            "Bitte die Datei aufteilen oder nur die benötigten Spalten und Zeilen exportieren."
        )
    if size == 0:
        raise DataError(f"Datei {shown} ist leer. Bitte eine Datei mit Kopfzeile und Daten wählen.")
    fmt = detect_format(path, name)
    reader: Callable[..., pd.DataFrame] = {
        "csv": _read_csv,
        "xlsx": _read_xlsx,
        "geojson": _read_geojson,
        "gpkg": _read_gpkg,
        "shapefile": _read_zipped_shapefile,
    }[fmt]
    df = reader(path, shown, layer, limits or ReadLimits())
    df.attrs["format"] = fmt
    if isinstance(df, gpd.GeoDataFrame):
        df.attrs.setdefault("row_offset", 1)
    return df


def _read_csv(path: Path, shown: str, layer: str | None, limits: ReadLimits) -> pd.DataFrame:
    text, encoding = decode_strict(path.read_bytes(), shown)
    lines = text.splitlines()
    offset = 2  # header line + 1-based rows
    first = lines[0] if lines else ""
    m = _SEP_LINE.match(first)
    if m:
        sep = m.group(1)
        text = text.split("\n", 1)[1] if "\n" in text else ""
        offset += 1
        header = lines[1] if len(lines) > 1 else ""
    else:
        header = first
        sep = sniff_separator(header)
    if not header.strip():
        raise DataError(f"Datei {shown}: Keine Kopfzeile gefunden. Die erste Zeile muss die Spaltennamen enthalten.")
    check_rows(len(lines) - (offset - 1), header.count(sep) + 1, shown, limits)
    width = _check_field_counts(text, sep, shown, offset) if len(sep) == 1 else None
    try:
        with warnings.catch_warnings():  # surplus empty fields are dropped on purpose
            warnings.simplefilter("ignore", pd.errors.ParserWarning)
            df = pd.read_csv(
                io.StringIO(text),
                sep=sep,
                dtype=str,
                keep_default_na=False,
                na_values=[""],
                skip_blank_lines=True,
                engine="python" if len(sep) != 1 else "c",
                index_col=False,
                usecols=None if width is None else range(width),
            )
    except (pd.errors.ParserError, pd.errors.EmptyDataError, csv.Error, ValueError, UnicodeError, OverflowError) as exc:
        raise DataError(
            f"Datei {shown} ist keine lesbare CSV-Datei ({_short(exc, path, shown)}). Bitte prüfen: "
            "Trennzeichen »;« oder »,«, gleich viele Spalten in jeder Zeile, Anführungszeichen paarweise."
        ) from exc
    df = _drop_empty_unnamed(df)
    df.attrs["row_offset"] = offset
    df.attrs["encoding"] = encoding
    if len(df) and not text.endswith(("\n", "\r")):
        df.attrs["unterminated_row"] = len(df) - 1 + offset
    return df


def _check_field_counts(text: str, sep: str, shown: str, offset: int) -> int | None:
    """Refuse rows with more (non-empty) fields than the header, listing every one of them.

    pandas would otherwise take the first column as the index (when the first
    row is too long) and shift every value one column to the right, or fail
    at the first long row only. Returns the number of header fields
    (``None`` when the quoting is too broken to tell; pandas then reports it).
    """
    try:
        records = csv.reader(io.StringIO(text), delimiter=sep)
        width = len(next(records, []))
        problems = []
        pos = -1
        fields: list[str] = []
        for pos, fields in enumerate(r for r in records if r):
            if len(fields) > width and any(f.strip() for f in fields[width:]):
                problems.append(
                    Problem(
                        f"Die Zeile hat {len(fields)} statt {width} Felder.",
                        f'Trennzeichen »{sep}« innerhalb eines Werts in Anführungszeichen setzen ("…") '
                        "oder entfernen (z. B. »&amp;« → »&«).",
                        file=shown,
                        row=pos + offset,
                    )
                )
    except csv.Error:
        return None  # pandas reports unreadable quoting itself
    if pos >= 0 and not text.endswith(("\n", "\r")) and (len(fields) < width or not fields[-1].strip()):
        what = f"{len(fields)} statt {width} Felder" if len(fields) < width else "letztes Feld leer"
        problems.append(
            Problem(
                f"Die letzte Zeile ist unvollständig ({what}, kein Zeilenende): "
                "die Datei ist vermutlich abgeschnitten.",
                "Die Datei vollständig neu exportieren oder herunterladen.",
                file=shown,
                row=pos + offset,
            )
        )
    raise_if_problems(problems, f"Datei {shown}: Spaltenzahl passt nicht zur Kopfzeile")
    return width or None


_DIMENSION = re.compile(rb"<(?:\w+:)?dimension\s+ref=\"([A-Z]+)(\d+)(?::([A-Z]+)(\d+))?\"")


def _column_number(letters: bytes) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + ch - 64
    return n


#: Largest unpacked size of all worksheets of a workbook together. openpyxl reads some 30,000–80,000
#: cells a second, so a larger sheet would keep an import busy for more than a minute; a table that
#: large is read in seconds as CSV.
XLSX_MAX_SHEET_BYTES = 32 * 1024 * 1024


def _xlsx_sheet_limits(path: Path, shown: str, limits: ReadLimits) -> None:
    """Check a workbook before openpyxl opens it: unpacked sizes and the declared dimension of every sheet."""
    infos = check_zip(path, shown, limits)
    sheets = sorted(i.filename for i in infos if re.fullmatch(r"xl/worksheets/sheet\d+\.xml", i.filename))
    unpacked = sum(i.file_size for i in infos if i.filename in sheets)
    if unpacked > XLSX_MAX_SHEET_BYTES:
        size, allowed = (f"{v / 1e6:.1f}".replace(".", ",") for v in (unpacked, XLSX_MAX_SHEET_BYTES))
        raise DataError(
            f"Datei {shown}: Die Tabellenblätter sind entpackt {size} MB groß; erlaubt sind höchstens {allowed} MB "
            "(größere Arbeitsmappen brauchen zum Einlesen über eine Minute). Bitte als CSV speichern "
            "(Excel: Speichern unter → CSV UTF-8) oder die Datei aufteilen."
        )
    cells = 0
    for sheet in sheets:
        try:
            with zipfile.ZipFile(path) as zf, zf.open(sheet) as fh:
                head = fh.read(4096)
        except ZIP_ERRORS as exc:
            raise DataError(
                f"Datei {shown}: Die Excel-Datei ist beschädigt ({type(exc).__name__}). "
                "Bitte in Excel öffnen und erneut als .xlsx speichern."
            ) from exc
        m = _DIMENSION.search(head)
        if m and m.group(3):
            rows = int(m.group(4)) - int(m.group(2)) + 1
            cols = _column_number(m.group(3)) - _column_number(m.group(1)) + 1
            check_rows(max(rows - 1, 0), cols, shown, limits)
            cells += max(rows, 0) * max(cols, 0)
    if cells > limits.max_cells:
        raise DataError(
            f"Datei {shown}: Die Blätter der Arbeitsmappe haben zusammen {cells} Zellen; erlaubt sind höchstens "
            f"{limits.max_cells} (Einstellung max_cells). Bitte nur die benötigten Blätter und Spalten speichern."
        )


@dataclass(frozen=True)
class Sheet:
    """One worksheet of a workbook as read: its name, whether it is hidden, its rows as text cells."""

    name: str
    hidden: bool
    rows: list[list[object]]

    @property
    def empty(self) -> bool:
        """Whether no cell of the sheet holds a value."""
        return not any(not isinstance(v, float) for r in self.rows for v in r)


def read_xlsx_sheets(path: Path, shown: str, limits: ReadLimits) -> list[Sheet]:
    """Every worksheet of a workbook, read row by row within the limits (before and while reading).

    The ZIP directory and each sheet's declared ``<dimension>`` are checked
    first (:func:`_xlsx_sheet_limits`); rows are streamed with openpyxl's
    read-only mode, never padded to a declared dimension, and counted across
    all sheets (``max_rows`` per sheet, ``max_cells`` in all).

    Returns
    -------
    list of Sheet
        In workbook order; cells as :func:`_cell_text` gives them (empty cells NaN).

    Raises
    ------
    DataError
        If the workbook is damaged, not a workbook, or exceeds a limit.
    """
    import openpyxl

    _xlsx_sheet_limits(path, shown, limits)
    out: list[Sheet] = []
    cells = 0
    try:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True, keep_links=False)
        try:
            for ws in wb.worksheets:
                ws.reset_dimensions()  # never pad rows to a (possibly huge) declared dimension
                rows: list[list[object]] = []
                for row in ws.iter_rows(values_only=True):
                    rows.append([_cell_text(v) for v in row])
                    cells += len(row)
                    if len(rows) > limits.max_rows + 1:
                        raise DataError(
                            f"Datei {shown}, Blatt »{ws.title}«: mehr als {limits.max_rows} Zeilen "
                            "(Einstellung max_rows). Bitte die Datei aufteilen."
                        )
                    if cells > limits.max_cells:
                        raise DataError(
                            f"Datei {shown}, Blatt »{ws.title}«: mehr als {limits.max_cells} Zellen bis Zeile "
                            f"{len(rows)} (Einstellung max_cells). Bitte nur die benötigten Blätter und Spalten "
                            "speichern oder die Datei aufteilen."
                        )
                while rows and all(isinstance(v, float) for v in rows[-1]):  # trailing empty rows
                    rows.pop()
                out.append(Sheet(str(ws.title), getattr(ws, "sheet_state", "visible") != "visible", rows))
        finally:
            wb.close()
    except DataError:
        raise
    except Exception as exc:  # openpyxl raises many types on broken workbooks
        raise DataError(
            f"Datei {shown} ist keine lesbare Excel-Datei ({_short(exc, path, shown)}). "
            "Bitte in Excel öffnen und erneut als .xlsx speichern."
        ) from exc
    return out


def _cell_text(value: object) -> object:
    """A cell as text the way a user sees it (``40`` not ``40.0``); empty cells stay missing."""
    if value is None:
        return np.nan
    if isinstance(value, bool):
        return "ja" if value else "nein"
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return str(value)


def _read_xlsx(path: Path, shown: str, layer: str | None, limits: ReadLimits) -> pd.DataFrame:
    sheets = [sh for sh in read_xlsx_sheets(path, shown, limits) if not sh.empty]
    if not sheets:
        raise DataError(
            f"Datei {shown}: Die Arbeitsmappe ist leer. Bitte die Daten mit Kopfzeile in ein Tabellenblatt schreiben."
        )
    named = [sh for sh in sheets if layer and norm_header(sh.name) == norm_header(layer)]
    if len(named) == 1:
        sheets = named
    if len(sheets) > 1:
        listed = ", ".join(f"»{sh.name}«" + (" (ausgeblendet)" if sh.hidden else "") for sh in sheets)
        raise DataError(
            f"Datei {shown}: Die Arbeitsmappe hat {len(sheets)} Blätter mit Daten ({listed}); unklar, welches "
            f"importiert werden soll. Bitte die anderen Blätter löschen oder das gewünschte Blatt »{layer}« nennen."
        )
    if sheets[0].hidden:
        raise DataError(
            f"Datei {shown}: Die Daten stehen nur im ausgeblendeten Blatt »{sheets[0].name}«. Bitte das Blatt "
            "einblenden (Excel: Rechtsklick → Einblenden) und prüfen, ob es die gültigen Daten enthält."
        )
    rows = sheets[0].rows
    header = [("" if isinstance(v, float) else str(v)) for v in rows[0]]
    while (
        header
        and not header[-1]
        and all(len(r) < len(header) or isinstance(r[len(header) - 1], float) for r in rows[1:])
    ):
        header.pop()
    width = len(header)
    names = [h if h else f"Unnamed: {i}" for i, h in enumerate(header)]
    body = [(r + [np.nan] * width)[:width] for r in rows[1:] if not all(isinstance(v, float) for v in r)]
    df = pd.DataFrame(body, columns=pd.Index(names), dtype=object) if width else pd.DataFrame()
    df = _drop_empty_unnamed(df)
    df.attrs["row_offset"] = 2
    return df


def _check_crs_member(doc: dict, shown: str) -> None:
    """Refuse a GeoJSON ``crs`` member naming an unknown CRS (GDAL would silently read WGS84)."""
    crs = doc.get("crs")
    if crs is None:
        return
    name = crs.get("properties", {}).get("name") if isinstance(crs, dict) else None
    if not isinstance(name, str) or not isinstance(crs.get("properties"), dict):
        raise CRSError(
            f"Datei {shown}: Die Angabe »crs« ist unlesbar. Bitte ohne »crs« (dann gilt WGS84, "
            "EPSG:4326) oder mit einem bekannten EPSG-Code exportieren."
        )
    try:
        pyproj.CRS.from_user_input(name)
    except pyproj.exceptions.CRSError as exc:
        raise CRSError(
            f"Datei {shown}: Das Koordinatensystem »{name[:80]}« ist unbekannt. Bitte in "
            f"EPSG:4326 (WGS84) oder {PROJECTED_CRS} exportieren."
        ) from exc


_INT64 = 2**63


def _finite_json(value: object) -> bool:
    """Whether ``value`` serialises to strict JSON (no NaN or infinity anywhere)."""
    try:
        json.dumps(value, allow_nan=False)
    except ValueError:
        return False
    return True


def _sanitise_feature(feature: dict) -> str:
    """Make one feature safe for GDAL without losing what is wrong with it.

    A geometry with a non-finite coordinate (``1e999``, ``NaN``) is set to
    null and its problem returned (GDAL would refuse the whole file); property
    numbers GDAL cannot hold (non-finite, beyond 64 bits) become text, which
    the column parser then reports for their row and column.
    """
    props = feature.get("properties")
    if isinstance(props, dict):
        for key, value in props.items():
            if (isinstance(value, float) and not math.isfinite(value)) or (
                isinstance(value, int) and not isinstance(value, bool) and abs(value) >= _INT64
            ):
                props[key] = str(value)
    stack: list[object] = [feature.get("geometry")]
    while stack:  # iterative: depth is bounded already, but no recursion at all
        item = stack.pop()
        if isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, float) and not math.isfinite(item):
            feature["geometry"] = None
            return f"Die Geometrie hat die Koordinate {item}, keine endliche Zahl."
        elif isinstance(item, int) and not isinstance(item, bool) and abs(item) >= _INT64:
            feature["geometry"] = None
            return f"Die Geometrie hat die Koordinate {item}, zu groß."
    return ""


_SURROGATE = re.compile("[\ud800-\udfff]")


def _check_surrogates(text: str, features: list, shown: str) -> None:
    """Refuse a lone UTF-16 surrogate (``"\\ud800"`` escaped in JSON): it is no character and cannot be stored."""
    if "\\u" not in text.lower():
        return
    for pos, feature in enumerate(features):
        hit = _SURROGATE.search(json.dumps(feature, ensure_ascii=False))
        if hit:
            raise DataError(
                f"Datei {shown}, Objekt {pos + 1}: enthält ein ungültiges Zeichen (ein einzelnes "
                f"UTF-16-Ersatzzeichen U+{ord(hit.group()):04X}, kein Schriftzeichen). Bitte den Text korrigieren "
                "und die Datei mit einem GIS neu als GeoJSON exportieren."
            )


def _property_kinds(features: list) -> dict[str, np.ndarray]:
    """Per property, which features give a JSON list, object or true/false (GDAL would turn them into text
    or numbers silently): ``{key: array of "list"/"object"/"bool"/""}``, only keys where one occurs."""
    kinds: dict[str, np.ndarray] = {}
    for pos, feature in enumerate(features):
        for key, value in (feature.get("properties") or {}).items():
            kind = (
                "list"
                if isinstance(value, list)
                else "object"
                if isinstance(value, dict)
                else "bool"
                if isinstance(value, bool)
                else ""
            )
            if kind:
                kinds.setdefault(str(key), np.full(len(features), "", dtype=object))[pos] = kind
    return kinds


def _json_text(value: object) -> object:
    """A property value as the text the file holds (``None`` stays missing; lists and objects as JSON)."""
    if value is None:
        return np.nan
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)


def _properties_as_written(gdf: gpd.GeoDataFrame, features: list) -> None:
    """Replace GDAL's typed columns by the properties as the file writes them (in place).

    GDAL guesses one type per column and converts silently: the text
    ``"1.000"`` next to numbers becomes the number 1.0, ``true`` becomes 1.
    The importer parses text itself and reports what it cannot read.
    """
    table = pd.DataFrame([f.get("properties") or {} for f in features], dtype=object)
    for col in gdf.columns:
        if col != gdf.geometry.name and col in table.columns:
            gdf[col] = table[col].map(_json_text).astype(object).to_numpy()


def _read_geojson(path: Path, shown: str, layer: str | None, limits: ReadLimits) -> gpd.GeoDataFrame:
    text, encoding = decode_strict(path.read_bytes(), shown)
    check_json_depth(text, shown, limits)
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise DataError(
            f"Datei {shown} ist kein gültiges JSON (Zeile {exc.lineno}, Spalte {exc.colno}: "
            f"{exc.msg}). Bitte die Datei mit einem GIS neu als GeoJSON exportieren."
        ) from exc
    except RecursionError as exc:  # cannot happen below max_json_depth; kept as a last guard
        raise DataError(f"Datei {shown}: Das JSON ist zu tief verschachtelt.") from exc
    if not isinstance(doc, dict) or doc.get("type") not in ("FeatureCollection", "Feature"):
        raise DataError(
            f"Datei {shown} ist kein GeoJSON: erwartet wird ein Objekt mit "
            '"type": "FeatureCollection". Bitte als GeoJSON exportieren.'
        )
    if doc["type"] == "FeatureCollection" and not isinstance(doc.get("features"), list):
        raise DataError(f"Datei {shown}: Die FeatureCollection hat keine Liste »features«.")
    _check_crs_member(doc, shown)
    features = doc["features"] if doc["type"] == "FeatureCollection" else [doc]
    for pos, f in enumerate(features):
        if not isinstance(f, dict) or f.get("type") != "Feature":
            raise DataError(
                f"Datei {shown}, Objekt {pos + 1}: ist kein GeoJSON-»Feature«. "
                "Bitte die Datei mit einem GIS neu als GeoJSON exportieren."
            )
        if f.get("properties") is not None and not isinstance(f["properties"], dict):
            raise DataError(
                f"Datei {shown}, Objekt {pos + 1}: »properties« ist kein Objekt. "
                "Bitte die Datei mit einem GIS neu als GeoJSON exportieren."
            )
    width = max((len(f.get("properties") or {}) for f in features), default=0) + 1
    check_rows(len(features), width, shown, limits, what="Objekte")
    _check_surrogates(text, features, shown)
    kinds = _property_kinds(features)
    given = np.array([f.get("geometry") is not None for f in features], dtype=bool)
    errors = [_sanitise_feature(f) for f in features]
    try:
        cleaned = json.dumps(doc, ensure_ascii=False, allow_nan=False)
    except ValueError:  # a non-finite number (1e999, NaN) in a member other than geometry and properties
        bad = next((pos for pos, f in enumerate(features) if not _finite_json(f)), None)
        where = f"Objekt {bad + 1}" if bad is not None else "außerhalb der Objekte"
        raise DataError(
            f"Datei {shown}, {where}: enthält eine Zahl außerhalb des gültigen Bereichs (z. B. 1e999 oder NaN). "
            "Bitte die Datei mit einem GIS neu als GeoJSON exportieren."
        ) from None
    gdf = _read_with_gdal(cleaned.encode("utf-8"), shown, what="GeoJSON", origin=path)
    if len(gdf) != len(features):
        raise DataError(
            f"Datei {shown}: {len(features)} Objekte in der Datei, aber nur {len(gdf)} lesbar. "
            "Bitte die Datei mit einem GIS neu als GeoJSON exportieren."
        )
    _properties_as_written(gdf, features)
    gdf.attrs["geometry_given"] = given
    gdf.attrs["geometry_error"] = errors
    gdf.attrs["property_kinds"] = kinds
    gdf.attrs["encoding"] = encoding
    return gdf


def _read_gpkg(path: Path, shown: str, layer: str | None, limits: ReadLimits) -> gpd.GeoDataFrame:
    try:
        layers = pyogrio.list_layers(path)
    except Exception as exc:  # GDAL errors on broken files
        raise DataError(f"Datei {shown} ist keine lesbare GeoPackage-Datei ({_short(exc, path, shown)}).") from exc
    names = [str(r[0]) for r in layers if r[1] is not None] or [str(r[0]) for r in layers]
    if not names:
        raise DataError(f"Datei {shown}: Das GeoPackage enthält keine Ebene.")
    filled = [n for n in names if _feature_count(path, shown, n) > 0] or names[:1]
    chosen = _choose(filled, layer, shown, what="Ebenen")
    _check_info(path, shown, limits, layer=chosen, origin=path)
    return _read_with_gdal(path, shown, what="GeoPackage", layer=chosen, origin=path)


def _feature_count(path: Path, shown: str, layer: str) -> int:
    try:
        return int(pyogrio.read_info(path, layer=layer).get("features") or 0)
    except Exception as exc:  # GDAL errors on broken files
        raise DataError(f"Datei {shown} ist keine lesbare GeoPackage-Datei ({_short(exc, path, shown)}).") from exc


def _choose(names: list[str], wanted: str | None, shown: str, *, what: str) -> str:
    """The one layer (or Shapefile) to read: the only one, or the one named like the target layer.

    Several without such a name are ambiguous and refused (reading the first
    would silently drop the others).
    """
    if len(names) == 1:
        return names[0]
    named = [n for n in names if wanted and norm_header(Path(n).stem) == norm_header(wanted)]
    if len(named) == 1:
        return named[0]
    listed = ", ".join(f"»{n}«" for n in names[:10])
    raise DataError(
        f"Datei {shown}: enthält {len(names)} {what} mit Daten ({listed}); unklar, welche importiert werden soll. "
        f"Bitte nur eine speichern oder die gewünschte »{wanted}« nennen."
    )


def _read_zipped_shapefile(path: Path, shown: str, layer: str | None, limits: ReadLimits) -> gpd.GeoDataFrame:
    infos = check_zip(path, shown, limits)
    members = [i.filename for i in infos if not i.filename.startswith("__MACOSX/") and not i.is_dir()]
    shps = [n for n in members if n.lower().endswith(".shp")]
    if not shps:
        raise DataError(
            f"Datei {shown}: Die ZIP-Datei enthält kein Shapefile (.shp). "
            "Bitte .shp, .shx, .dbf und .prj zusammen zippen."
        )
    shp = _choose(shps, layer, shown, what="Shapefiles")
    stem = shp[:-4]
    by_ext = {
        m[len(stem) :].lower(): m
        for m in members
        if m.lower().startswith(stem.lower()) and m[len(stem) :].lower() in (".shp", ".shx", ".dbf", ".prj", ".cpg")
    }
    missing = [ext for ext in (".dbf", ".shx") if ext not in by_ext]
    if missing:
        raise DataError(
            f"Datei {shown}: Zum Shapefile {shp} fehlen {', '.join(missing)}. "
            "Bitte alle Teildateien des Shapefiles in die ZIP-Datei packen."
        )
    with tempfile.TemporaryDirectory(prefix="atlas-shp-") as tmp:
        files = extract_members(path, list(by_ext.values()), Path(tmp), shown, limits)
        target = next(f for f in files if f.suffix.lower() == ".shp")
        _check_info(target, shown, limits, origin=target)
        cpg = _sibling(files, ".cpg").read_bytes().decode("latin-1") if ".cpg" in by_ext else None
        encoding = check_dbf(_sibling(files, ".dbf"), _sibling(files, ".shx"), shown, cpg=cpg)
        gdf = _read_with_gdal(target, shown, what="Shapefile", origin=target, encoding=encoding)
    if gdf.crs is None:
        if ".prj" in by_ext:
            raise CRSError(
                f"Datei {shown}: Die .prj-Datei zum Shapefile {shp} beschreibt kein bekanntes "
                f"Koordinatensystem. Bitte mit einem GIS neu exportieren (z. B. {PROJECTED_CRS})."
            )
        raise CRSError(
            f"Datei {shown}: Zum Shapefile {shp} fehlt die .prj-Datei, das Koordinatensystem ist "
            f"unbekannt. Bitte die .prj mitzippen (z. B. {PROJECTED_CRS})."
        )
    return gdf


def _check_info(source: Path, shown: str, limits: ReadLimits, *, origin: Path, layer: str | None = None) -> None:
    """Refuse too many features or cells before GDAL reads them."""
    try:
        info = pyogrio.read_info(source, layer=layer)
    except Exception as exc:  # GDAL errors on broken files
        raise DataError(
            f"Datei {shown} ist nicht lesbar ({_short(exc, origin, shown)}). "
            "Bitte die Datei mit einem GIS neu exportieren."
        ) from exc
    count = int(info.get("features") or 0)
    check_rows(max(count, 0), len(info.get("fields", ())) + 1, shown, limits, what="Objekte")


def _check_crs(gdf: gpd.GeoDataFrame, shown: str) -> None:
    """Refuse a CRS that cannot be transformed to EPSG:25832 (engineering or unknown systems)."""
    if gdf.crs is None:
        return
    try:
        crs = pyproj.CRS.from_user_input(gdf.crs)
        ok = not crs.is_engineering and crs.datum is not None
        if ok:
            pyproj.Transformer.from_crs(crs, PROJECTED_CRS, always_xy=True)
    except (pyproj.exceptions.CRSError, pyproj.exceptions.ProjError) as exc:
        raise CRSError(
            f"Datei {shown}: Das Koordinatensystem ist unbekannt ({_short(exc, None, shown)}). "
            f"Bitte in EPSG:4326 (WGS84) oder {PROJECTED_CRS} exportieren."
        ) from exc
    if not ok:
        raise CRSError(
            f"Datei {shown}: Das Koordinatensystem »{crs.name}« ist unbekannt oder lokal und kann "
            f"nicht nach {PROJECTED_CRS} umgerechnet werden. Bitte in EPSG:4326 (WGS84) oder "
            f"{PROJECTED_CRS} exportieren."
        )


def _sibling(files: list[Path], suffix: str) -> Path:
    return next(f for f in files if f.suffix.lower() == suffix)


def _read_with_gdal(
    source: Path | str | bytes,
    shown: str,
    *,
    what: str,
    layer: str | None = None,
    origin: Path | None = None,
    encoding: str | None = None,
) -> gpd.GeoDataFrame:
    try:
        gdf = gpd.read_file(
            io.BytesIO(source) if isinstance(source, bytes) else source,
            layer=layer,
            engine="pyogrio",
            **({"encoding": encoding} if encoding else {}),
        )
    except Exception as exc:  # pyogrio/GDAL raise several types on broken files
        raise DataError(
            f"Datei {shown} ist keine lesbare {what}-Datei ({_short(exc, origin, shown)}). "
            f"Bitte die Datei mit einem GIS neu als {what} exportieren."
        ) from exc
    if not isinstance(gdf, gpd.GeoDataFrame) or gdf.active_geometry_name is None:
        # a table without geometry (e.g. an attribute-only GeoPackage layer): located by its columns
        gdf = gpd.GeoDataFrame(pd.DataFrame(gdf), geometry=gpd.GeoSeries([None] * len(gdf), index=gdf.index))
    _check_crs(gdf, shown)
    return gdf


def _drop_empty_unnamed(df: pd.DataFrame) -> pd.DataFrame:
    """Drop columns without a header and without values (a trailing ``;``)."""
    drop = [c for c in df.columns if str(c).startswith("Unnamed:") and df[c].isna().all()]
    return df.drop(columns=drop)


_PATH = re.compile(r"(?:/vsi\w+)?(?:/[^\s'\"():,;]+){2,}")


def _short(exc: BaseException, origin: Path | None, shown: str) -> str:
    """First line of an exception's message, with every server path replaced by the user's file name.

    >>> _short(OSError("/tmp/upload-1/x.gpkg: not a GeoPackage"), Path("/tmp/upload-1/x.gpkg"), "kitas.gpkg")
    'kitas.gpkg: not a GeoPackage'
    """
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    if origin is not None:
        text = text.replace(str(origin), shown).replace(str(origin.parent), "")
    return _PATH.sub(shown, text)[:200]
