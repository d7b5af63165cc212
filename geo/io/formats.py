"""Reading users' files of every supported format into a table: CSV, Excel, GeoJSON, GeoPackage, Shapefile-ZIP."""
from __future__ import annotations

import csv
import io
import json
import re
import warnings
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Literal

import geopandas as gpd
import pandas as pd
import pyogrio

from geo.errors import (
    CRSError,
    DataError,
    Problem,
    raise_if_problems,
)
from geo.io.text import decode_text, norm_header, sniff_separator
from geo.settings import PROJECTED_CRS

FileFormat = Literal["csv", "xlsx", "geojson", "gpkg", "shapefile"]


_SUFFIXES: dict[str, FileFormat] = {
    ".csv": "csv", ".txt": "csv", ".tsv": "csv",
    ".xlsx": "xlsx", ".xlsm": "xlsx",
    ".geojson": "geojson", ".json": "geojson",
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
        raise DataError(f"Datei {shown}: Das alte Excel-Format .xls wird nicht unterstützt. "
                        "Bitte in Excel als .xlsx (Excel-Arbeitsmappe) oder als CSV speichern.")
    if suffix in (".shp", ".dbf", ".shx"):
        raise DataError(f"Datei {shown}: Ein Shapefile besteht aus mehreren Dateien. Bitte .shp, .shx, "
                        ".dbf und .prj zusammen in eine ZIP-Datei packen und diese importieren.")
    try:
        with path.open("rb") as fh:
            head = fh.read(4096)
    except OSError as exc:
        raise DataError(f"Datei {shown} kann nicht gelesen werden: {exc}.") from exc
    if head.startswith(b"PK"):
        try:
            with zipfile.ZipFile(path) as zf:
                names = zf.namelist()
        except (zipfile.BadZipFile, OSError, ValueError) as exc:
            raise DataError(f"Datei {shown}: Die ZIP-Datei ist beschädigt ({exc}). "
                            "Bitte die Datei neu speichern oder neu herunterladen.") from exc
        return "xlsx" if any(n.startswith("xl/") for n in names) else "shapefile"
    if head.startswith(b"SQLite format 3"):
        return "gpkg"
    if suffix in _SUFFIXES and _SUFFIXES[suffix] not in ("xlsx", "shapefile", "gpkg"):
        return _SUFFIXES[suffix]
    if suffix in (".xlsx", ".xlsm", ".zip", ".gpkg"):
        raise DataError(f"Datei {shown}: Die Datei hat die Endung {suffix}, ist aber keine gültige "
                        f"{suffix[1:].upper()}-Datei. Bitte die Datei neu speichern.")
    if head.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"{"):
        return "geojson"
    return "csv"


def read_table(
    path: Path | str, *, max_bytes: int, name: str | None = None, layer: str | None = None
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

    Returns
    -------
    pandas.DataFrame or geopandas.GeoDataFrame
        Tables (CSV, XLSX) with every cell as text; geodata as a
        GeoDataFrame in its own CRS. ``attrs["row_offset"]`` is the number to
        add to a 0-based data row to get the row the user sees (header and
        ``sep=;`` line in a spreadsheet, feature number in geodata);
        ``attrs["format"]`` is the detected format.

    Raises
    ------
    DataError
        If the file is too large, empty or cannot be parsed; the message says
        what to do.
    """
    path = Path(path)
    shown = name or path.name
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise DataError(f"Datei {shown} nicht gefunden oder nicht lesbar: {exc}.") from exc
    if size > max_bytes:
        raise DataError(
            f"Datei {shown} ist zu groß ({size / 1e6:.1f} MB); erlaubt sind höchstens {max_bytes / 1e6:.1f} MB. "
            "Bitte die Datei aufteilen oder nur die benötigten Spalten und Zeilen exportieren."
        )
    if size == 0:
        raise DataError(f"Datei {shown} ist leer. Bitte eine Datei mit Kopfzeile und Daten wählen.")
    fmt = detect_format(path, name)
    reader: Callable[..., pd.DataFrame] = {
        "csv": _read_csv, "xlsx": _read_xlsx, "geojson": _read_geojson,
        "gpkg": _read_gpkg, "shapefile": _read_zipped_shapefile,
    }[fmt]
    df = reader(path, shown, layer)
    df.attrs["format"] = fmt
    if isinstance(df, gpd.GeoDataFrame):
        df.attrs.setdefault("row_offset", 1)
    return df


def _read_csv(path: Path, shown: str, layer: str | None = None) -> pd.DataFrame:
    text = decode_text(path.read_bytes())
    if "\x00" in text:
        raise DataError(f"Datei {shown} enthält Binärdaten (NUL-Zeichen) und ist keine CSV-Datei. "
                        "Bitte als CSV (Trennzeichen ;) oder XLSX speichern.")
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
    width = _check_field_counts(text, sep, shown, offset) if len(sep) == 1 else None
    try:
        with warnings.catch_warnings():  # surplus empty fields are dropped on purpose
            warnings.simplefilter("ignore", pd.errors.ParserWarning)
            df = pd.read_csv(
                io.StringIO(text), sep=sep, dtype=str, keep_default_na=False, na_values=[""],
                skip_blank_lines=True, engine="python" if len(sep) != 1 else "c", index_col=False,
                usecols=None if width is None else range(width),
            )
    except (pd.errors.ParserError, pd.errors.EmptyDataError, csv.Error, ValueError,
            UnicodeError, OverflowError) as exc:
        raise DataError(
            f"Datei {shown} ist keine lesbare CSV-Datei ({_short(exc)}). Bitte prüfen: Trennzeichen »;« "
            "oder »,«, gleich viele Spalten in jeder Zeile, Anführungszeichen paarweise."
        ) from exc
    df = _drop_empty_unnamed(df)
    df.attrs["row_offset"] = offset
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
        problems = [
            Problem(f"Die Zeile hat {len(fields)} statt {width} Felder.",
                    f"Trennzeichen »{sep}« innerhalb eines Werts in Anführungszeichen setzen (\"…\") "
                    "oder entfernen (z. B. »&amp;« → »&«).", file=shown, row=pos + offset)
            for pos, fields in enumerate(r for r in records if r)
            if len(fields) > width and any(f.strip() for f in fields[width:])
        ]
    except csv.Error:
        return None  # pandas reports unreadable quoting itself
    raise_if_problems(problems, f"Datei {shown}: Spaltenzahl passt nicht zur Kopfzeile")
    return width or None


def _read_xlsx(path: Path, shown: str, layer: str | None = None) -> pd.DataFrame:
    try:
        df = pd.read_excel(path, sheet_name=0, dtype=str, engine="openpyxl")
    except Exception as exc:  # openpyxl raises many types on broken workbooks
        raise DataError(f"Datei {shown} ist keine lesbare Excel-Datei ({_short(exc)}). "
                        "Bitte in Excel öffnen und erneut als .xlsx speichern.") from exc
    df = _drop_empty_unnamed(df)
    df.attrs["row_offset"] = 2
    return df


def _read_geojson(path: Path, shown: str, layer: str | None = None) -> gpd.GeoDataFrame:
    raw = path.read_bytes()
    try:
        doc = json.loads(decode_text(raw))
    except json.JSONDecodeError as exc:
        raise DataError(f"Datei {shown} ist kein gültiges JSON (Zeile {exc.lineno}, Spalte {exc.colno}: "
                        f"{exc.msg}). Bitte die Datei mit einem GIS neu als GeoJSON exportieren.") from exc
    if not isinstance(doc, dict) or doc.get("type") not in ("FeatureCollection", "Feature"):
        raise DataError(f"Datei {shown} ist kein GeoJSON: erwartet wird ein Objekt mit "
                        "\"type\": \"FeatureCollection\". Bitte als GeoJSON exportieren.")
    if doc["type"] == "FeatureCollection" and not isinstance(doc.get("features"), list):
        raise DataError(f"Datei {shown}: Die FeatureCollection hat keine Liste »features«.")
    return _read_with_gdal(path, shown, what="GeoJSON")


def _read_gpkg(path: Path, shown: str, layer: str | None = None) -> gpd.GeoDataFrame:
    try:
        layers = pyogrio.list_layers(path)
    except Exception as exc:  # GDAL errors on broken files
        raise DataError(f"Datei {shown} ist keine lesbare GeoPackage-Datei ({_short(exc)}).") from exc
    names = [str(r[0]) for r in layers if r[1] is not None] or [str(r[0]) for r in layers]
    if not names:
        raise DataError(f"Datei {shown}: Das GeoPackage enthält keine Ebene.")
    chosen = _pick(names, layer)
    return _read_with_gdal(path, shown, what="GeoPackage", layer=chosen)


def _read_zipped_shapefile(path: Path, shown: str, layer: str | None = None) -> gpd.GeoDataFrame:
    with zipfile.ZipFile(path) as zf:
        members = [n for n in zf.namelist() if not n.startswith("__MACOSX/")]
    shps = [n for n in members if n.lower().endswith(".shp")]
    if not shps:
        raise DataError(f"Datei {shown}: Die ZIP-Datei enthält kein Shapefile (.shp). "
                        "Bitte .shp, .shx, .dbf und .prj zusammen zippen.")
    shp = _pick(shps, layer, key=lambda n: Path(n).stem)
    stem = shp[:-4]
    lower = {m.lower() for m in members}
    missing = [ext for ext in (".dbf", ".shx") if f"{stem}{ext}".lower() not in lower]
    if missing:
        raise DataError(f"Datei {shown}: Zum Shapefile {shp} fehlen {', '.join(missing)}. "
                        "Bitte alle Teildateien des Shapefiles in die ZIP-Datei packen.")
    gdf = _read_with_gdal(f"/vsizip/{path}/{shp}", shown, what="Shapefile")
    if gdf.crs is None:
        raise CRSError(f"Datei {shown}: Zum Shapefile {shp} fehlt die .prj-Datei, das Koordinatensystem ist "
                       f"unbekannt. Bitte die .prj mitzippen (z. B. {PROJECTED_CRS}).")
    return gdf


def _read_with_gdal(source: Path | str, shown: str, *, what: str, layer: str | None = None) -> gpd.GeoDataFrame:
    try:
        gdf = gpd.read_file(source, layer=layer, engine="pyogrio")
    except Exception as exc:  # pyogrio/GDAL raise several types on broken files
        raise DataError(f"Datei {shown} ist keine lesbare {what}-Datei ({_short(exc)}). "
                        f"Bitte die Datei mit einem GIS neu als {what} exportieren.") from exc
    if not isinstance(gdf, gpd.GeoDataFrame) or gdf.active_geometry_name is None:
        # a table without geometry (e.g. an attribute-only GeoPackage layer): located by its columns
        gdf = gpd.GeoDataFrame(pd.DataFrame(gdf), geometry=gpd.GeoSeries([None] * len(gdf), index=gdf.index))
    return gdf


def _pick(names: list[str], wanted: str | None, key: Callable[[str], str] = str) -> str:
    if wanted:
        for n in names:
            if norm_header(key(n)) == norm_header(wanted):
                return n
    return names[0]


def _drop_empty_unnamed(df: pd.DataFrame) -> pd.DataFrame:
    """Drop columns without a header and without values (a trailing ``;``)."""
    drop = [c for c in df.columns if str(c).startswith("Unnamed:") and df[c].isna().all()]
    return df.drop(columns=drop)


def _short(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text[:200]
