"""Import of users' own files into the local data store.

The most common way real data gets into the atlas: a Kita list from the
Jugendamt as Excel, the addresses of the Integrationsagenturen as CSV, a
GeoPackage from the GIS department. :func:`import_file` reads the file
(:func:`read_table`), maps its columns onto the layer declaration, finds out how
the location is given, validates everything (:func:`prepare_layer_frame`) and
writes the valid rows to the :class:`~geo.store.DataStore`.

Validation collects *all* problems, each naming the file, the row as the user
sees it in the spreadsheet, the column and the fix. The user chooses whether
invalid rows are dropped (``on_invalid="keep_valid"``) or the whole file is
rejected (``"reject"``); a rejected or failed import changes nothing.

Text is stored exactly as given: a name containing HTML stays that text and
is escaped when it is shown, never interpreted.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import logging
import re
import warnings
import zipfile
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely

from geo import schuldaten
from geo.errors import (
    CRSError,
    DataError,
    IntegrationsatlasError,
    NotLoadedError,
    Problem,
    ValidationError,
    raise_if_problems,
)
from geo.geocoding import Geocoder, geocode_addresses, plz_points
from geo.layers.registry import REGISTRY, LayerRegistry
from geo.layers.spec import Column, LayerSpec
from geo.projection import NRW_BOUNDS_4326, NRW_BOUNDS_25832
from geo.settings import PROJECTED_CRS, Settings
from geo.store import BatchInfo, DataStore
from geo.units import unit_of

logger = logging.getLogger(__name__)

FileFormat = Literal["csv", "xlsx", "geojson", "gpkg", "shapefile"]
LocationKind = Literal["lonlat", "utm32", "geometry", "plz"]

#: Licence recorded for a user's own file unless one is given.
USER_LICENCE = "wie vom Datengeber angegeben"
#: Points this far outside the NRW outline are still accepted, in metres: the
#: embedded outline is generalised (VG250), and a school on the border of Lotte
#: lies 1.9 km outside it. The check is for gross errors (wrong CRS, other Land).
NRW_TOLERANCE_M = 2_500.0

_SUFFIXES: dict[str, FileFormat] = {
    ".csv": "csv", ".txt": "csv", ".tsv": "csv",
    ".xlsx": "xlsx", ".xlsm": "xlsx",
    ".geojson": "geojson", ".json": "geojson",
    ".gpkg": "gpkg",
    ".zip": "shapefile",
}
_SEP_LINE = re.compile(r"^\s*\"?sep=(.)\"?\s*$", re.IGNORECASE)

# normalised header names of coordinate columns
_LON = ("lon", "lng", "long", "longitude", "laenge", "laengengrad", "geo_laenge", "wgs84_lon", "lon_wgs84")
_LAT = ("lat", "latitude", "breite", "breitengrad", "geo_breite", "wgs84_lat", "lat_wgs84")
_EAST = ("rechtswert", "utmrechtswert", "utm_rechtswert", "easting", "ostwert", "utm_x", "utm_east", "x_utm")
_NORTH = ("hochwert", "utmhochwert", "utm_hochwert", "northing", "nordwert", "utm_y", "utm_north", "y_utm")
_X, _Y = ("x", "x_koordinate", "koordinate_x"), ("y", "y_koordinate", "koordinate_y")

_TRUE = {"ja", "j", "true", "wahr", "1", "x", "yes", "y", "vorhanden"}
_FALSE = {"nein", "n", "false", "falsch", "0", "no", "nicht vorhanden"}
_UNKNOWN = {"", "leer", "unbekannt", "k.a.", "k. a.", "?", "-", "na", "n/a", "nan", "null", "none"}


# --- result ---------------------------------------------------------------------


@dataclass(frozen=True)
class ImportResult:
    """Outcome of one import.

    Parameters
    ----------
    layer_id
        Target layer.
    file
        File name as the user knows it.
    format
        ``csv``, ``xlsx``, ``geojson``, ``gpkg``, ``shapefile`` (plus
        ``+schuldaten`` when the MSB format was recognised).
    location_kind
        How the location was given: ``lonlat``, ``utm32``, ``geometry`` or
        ``plz`` (postcode centroid).
    rows_in
        Data rows read from the file.
    data
        The rows kept, in the layer schema, EPSG:25832.
    problems
        Every problem found (also those of rows that were dropped).
    batch
        The stored batch; ``None`` for a dry run or a rejected file.
    notes
        Information that is not a problem (generated ids, ignored columns,
        rows filtered by the format).
    """

    layer_id: str
    file: str
    format: str
    location_kind: str
    rows_in: int
    data: gpd.GeoDataFrame
    problems: tuple[Problem, ...]
    batch: BatchInfo | None
    notes: tuple[str, ...] = field(default=())

    @property
    def rows_kept(self) -> int:
        """Number of rows kept."""
        return len(self.data)

    def as_dict(self) -> dict[str, object]:
        """Summary as a JSON-serialisable dict (without the data)."""
        return {
            "ok": self.batch is not None or (not self.problems and self.rows_kept > 0),
            "layer": self.layer_id,
            "file": self.file,
            "format": self.format,
            "location_kind": self.location_kind,
            "rows_in": self.rows_in,
            "rows_kept": self.rows_kept,
            "problems": [p.as_dict() for p in self.problems],
            "notes": list(self.notes),
            "batch": self.batch.as_dict() if self.batch else None,
        }


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


def decode_text(raw: bytes) -> str:
    """Decode text file bytes: UTF-8 (with or without BOM), else Windows-1252.

    >>> decode_text("Köln".encode("cp1252")), decode_text("\ufeffKöln".encode("utf-8"))
    ('Köln', 'Köln')
    """
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return raw.decode("cp1252")
    except UnicodeDecodeError:
        return raw.decode("latin-1")  # maps every byte; cp1252 leaves five undefined


def sniff_separator(header: str) -> str:
    """The separator of a CSV line: ``;``, ``,``, tab or ``|`` (``;`` when in doubt).

    >>> sniff_separator('Name;"Straße, Nr.";PLZ'), sniff_separator("a,b")
    (';', ',')
    """
    outside = re.sub(r'"[^"]*"', "", header)
    counts = {sep: outside.count(sep) for sep in (";", ",", "\t", "|")}
    best = max(counts, key=lambda s: (counts[s], s == ";"))
    return best if counts[best] else ";"


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
            if _norm(key(n)) == _norm(wanted):
                return n
    return names[0]


def _drop_empty_unnamed(df: pd.DataFrame) -> pd.DataFrame:
    """Drop columns without a header and without values (a trailing ``;``)."""
    drop = [c for c in df.columns if str(c).startswith("Unnamed:") and df[c].isna().all()]
    return df.drop(columns=drop)


def _short(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text[:200]


# --- column mapping and parsing -------------------------------------------------------


def _norm(name: object) -> str:
    """Normalise a header: lower case, umlauts spelled out, separators as ``_``.

    >>> _norm(" Träger-Name "), _norm("addr:postcode"), _norm("\\ufeffPLZ")
    ('traeger_name', 'addr_postcode', 'plz')
    """
    s = str(name).replace("\ufeff", "").strip().lower()
    for a, b in (("ä", "ae"), ("ö", "oe"), ("ü", "ue"), ("ß", "ss")):
        s = s.replace(a, b)
    return re.sub(r"[\s\-./:]+", "_", s).strip("_")


def map_columns(columns: Iterable[object], spec: LayerSpec) -> dict[str, object]:
    """Map the file's headers to the declared columns of ``spec``.

    Headers are compared case-insensitively with umlauts spelled out, against
    each column's name, aliases and German title (so exported tables import again).

    Returns
    -------
    dict
        Declared column name → header in the file.

    >>> from geo.layers.catalog import KITA
    >>> map_columns(["Name", "Träger", "Postleitzahl", "Platzzahl"], KITA)
    {'name': 'Name', 'traeger': 'Träger', 'plz': 'Postleitzahl', 'plaetze': 'Platzzahl'}
    """
    by_norm: dict[str, object] = {}
    for c in columns:
        by_norm.setdefault(_norm(c), c)
    mapping: dict[str, object] = {}
    used: set[str] = set()
    for col in spec.columns:
        for cand in (col.name, *col.aliases, col.title):
            key = _norm(cand)
            if key in by_norm and key not in used:
                mapping[col.name] = by_norm[key]
                used.add(key)
                break
    return mapping


def _text(series: pd.Series) -> pd.Series:
    """Cells as stripped text; empty cells are missing. Content is not altered."""
    s = series.astype("object")
    s = s.where(s.notna(), None)
    out = s.map(lambda v: None if v is None else str(v).strip()).astype("str")
    return out.mask(out == "")


def parse_number(series: pd.Series, *, integer: bool = False) -> pd.Series:
    """Parse numbers written the German or the English way.

    ``"1.234,5"`` and ``"1234,5"`` and ``"1234.5"`` all give 1234.5; a single
    dot is a decimal point, unless ``integer`` is set: then ``"1.234"`` is
    1234 and values with a fraction give ``NaN``. Spaces (also the narrow
    and non-breaking ones Destatis uses as thousands separators) are ignored.
    Cells that are not numbers give ``NaN``.

    >>> parse_number(pd.Series(["6,95", "1.234,5", "50.94", "", "viele"])).tolist()
    [6.95, 1234.5, 50.94, nan, nan]
    >>> parse_number(pd.Series(["90 164", "1.234", "12,5"]), integer=True).tolist()
    [90164.0, 1234.0, nan]
    """
    s = _text(series).str.replace(r"[\s\u00a0\u202f\u2009]", "", regex=True)
    both = s.str.contains(",", regex=False) & s.str.contains(".", regex=False)
    many_dots = s.str.count(r"\.") > 1
    thousands = s.str.fullmatch(r"\d{1,3}(\.\d{3})+") if integer else False
    s = s.mask(both | many_dots | thousands, s.str.replace(".", "", regex=False))
    s = s.str.replace(",", ".", regex=False)
    values = pd.to_numeric(s, errors="coerce").astype("float64")
    if integer:
        values = values.where(np.isclose(values % 1, 0) | values.isna())
    return values


def parse_tristate(series: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Parse ja/nein/unbekannt values.

    Returns
    -------
    values, bad
        ``values`` as nullable ``boolean`` (``NA`` = unknown); ``bad`` marks
        cells that are none of the known spellings.

    >>> v, bad = parse_tristate(pd.Series(["ja", "Nein", "x", "", None, "1", "vielleicht"]))
    >>> v.tolist(), bad.tolist()
    ([True, False, True, <NA>, <NA>, True, <NA>], [False, False, False, False, False, False, True])
    """
    low = _text(series).str.lower().fillna("")
    true = low.isin(_TRUE).to_numpy()
    false = low.isin(_FALSE).to_numpy()
    unknown = low.isin(_UNKNOWN).to_numpy()
    values = pd.array([pd.NA] * len(series), dtype="boolean")
    values[true] = True
    values[false] = False
    return pd.Series(values, index=series.index), pd.Series(~(true | false | unknown), index=series.index)


# --- location ------------------------------------------------------------------------


def _not_a_number(cells: pd.Series, pos: int) -> str:
    return f"»{cells.iloc[pos]}« ist keine Zahl."


def _find(norm_cols: Mapping[str, object], names: tuple[str, ...]) -> object | None:
    return next((norm_cols[n] for n in names if n in norm_cols), None)


@dataclass
class _Checker:
    """Collects problems and the rows they invalidate."""

    file: str
    rows: np.ndarray  # 1-based row number the user sees, per position
    problems: list[Problem] = field(default_factory=list)
    invalid: np.ndarray = field(init=False)
    fatal: bool = False

    def __post_init__(self) -> None:
        self.invalid = np.zeros(len(self.rows), dtype=bool)

    def row(self, mask: np.ndarray, message: Callable[[int], str], fix: str, column: object | None) -> None:
        """Add one problem per ``True`` position of ``mask`` (loop only over bad rows)."""
        mask = np.asarray(mask, dtype=bool)
        self.invalid |= mask
        for pos in np.flatnonzero(mask):
            self.problems.append(Problem(message(int(pos)), fix, file=self.file, row=int(self.rows[pos]),
                                         column=None if column is None else str(column)))

    def file_level(self, message: str, fix: str, column: object | None = None) -> None:
        self.fatal = True
        self.problems.append(Problem(message, fix, file=self.file,
                                     column=None if column is None else str(column)))


def _nrw_area(settings: Settings) -> shapely.Geometry:
    """The NRW outline (embedded Land boundary) with a tolerance, or the NRW box."""
    from geo.units import load_boundaries

    try:
        land = load_boundaries("land", settings)
        outline = shapely.union_all(land.geometry.to_numpy()).buffer(NRW_TOLERANCE_M)
    except IntegrationsatlasError as exc:
        logger.warning("NRW outline not available (%s); using the NRW bounding box", exc)
        outline = shapely.box(*NRW_BOUNDS_25832)
    shapely.prepare(outline)
    return outline


def _locate(df: pd.DataFrame, spec: LayerSpec, chk: _Checker, settings: Settings,
            mapping: dict[str, object], geocoder: Geocoder | None) -> tuple[np.ndarray, np.ndarray, str]:
    """Find each row's point; return geometries (EPSG:25832), precisions and the location kind."""
    n = len(df)
    geoms = np.full(n, None, dtype=object)
    precision = np.full(n, None, dtype=object)
    kind = ""
    norm_cols = {_norm(c): c for c in df.columns if c != "geometry"}

    if isinstance(df, gpd.GeoDataFrame) and df.geometry.notna().any():
        kind = "geometry"
        if df.crs is None:
            chk.file_level("Die Geodaten haben kein Koordinatensystem (CRS).",
                           f"Datei mit CRS speichern, z. B. {PROJECTED_CRS}.")
            return geoms, precision, kind
        g = df.geometry.to_crs(PROJECTED_CRS)
        g = g.where(~g.is_empty, None)
        polygonal = g.geom_type.isin(["Polygon", "MultiPolygon", "LineString", "MultiLineString"]).to_numpy()
        pts = g.to_numpy().copy()
        if polygonal.any():
            pts[polygonal] = shapely.point_on_surface(pts[polygonal])
        multi = g.geom_type.eq("MultiPoint").to_numpy()
        if multi.any():
            pts[multi] = shapely.get_geometry(pts[multi], 0)
        geoms[:] = pts
        precision[g.notna().to_numpy()] = "Koordinate"
    else:
        xcol = _find(norm_cols, _EAST) or None
        ycol = _find(norm_cols, _NORTH) or None
        pair_kind = "utm32" if xcol is not None and ycol is not None else ""
        if not pair_kind:
            xcol, ycol = _find(norm_cols, _LON), _find(norm_cols, _LAT)
            if xcol is None or ycol is None:
                xcol, ycol = _find(norm_cols, _X), _find(norm_cols, _Y)
            pair_kind = "lonlat" if xcol is not None and ycol is not None else ""
        if pair_kind:
            x, y = parse_number(df[xcol]), parse_number(df[ycol])
            for col, val in ((xcol, x), (ycol, y)):
                cells = _text(df[col])
                bad = (cells.notna() & val.isna()).to_numpy()
                chk.row(bad, partial(_not_a_number, cells),
                        "Koordinate als Zahl eintragen (Dezimaltrennzeichen Komma oder Punkt).", col)
            ok = (x.notna() & y.notna()).to_numpy()
            xv, yv = x.to_numpy(), y.to_numpy()
            if ok.any():
                degrees = np.nanmedian(np.abs(xv[ok])) <= 180 and np.nanmedian(np.abs(yv[ok])) <= 90
                pair_kind = "lonlat" if degrees else "utm32"
            kind = pair_kind
            if kind == "lonlat":
                lo0, la0, lo1, la1 = NRW_BOUNDS_4326
                swapped = ok & (yv >= lo0) & (yv <= lo1) & (xv >= la0) & (xv <= la1)
                chk.row(swapped, lambda p: f"Länge {xv[p]} und Breite {yv[p]} sind offenbar vertauscht.",
                        f"Werte der Spalten »{xcol}« (Länge, ca. 6–9) und »{ycol}« (Breite, ca. 50–52) tauschen.",
                        xcol)
                pts = gpd.GeoSeries(gpd.points_from_xy(xv, yv), crs="EPSG:4326").to_crs(PROJECTED_CRS)
                use = ok & ~swapped & (np.abs(xv) <= 180) & (np.abs(yv) <= 90)
            else:
                xv = np.where(xv >= 32_000_000, xv - 32_000_000, xv)  # "32" zone prefix
                x0, y0, x1, y1 = NRW_BOUNDS_25832
                swapped = ok & (yv >= x0) & (yv <= x1) & (xv >= y0) & (xv <= y1)
                chk.row(swapped, lambda p: f"Rechtswert {xv[p]:.0f} und Hochwert {yv[p]:.0f} sind offenbar vertauscht.",
                        f"Werte der Spalten »{xcol}« (Rechtswert, ca. 280 000–500 000) und »{ycol}« "
                        "(Hochwert, ca. 5 570 000–5 820 000) tauschen.", xcol)
                gk = ok & ~swapped & (xv >= 2_000_000) & (xv < 5_000_000)
                chk.row(gk, lambda p: f"Rechtswert {xv[p]:.0f} ist kein UTM32-Wert (Gauß-Krüger?).",
                        f"Koordinaten nach {PROJECTED_CRS} (ETRS89/UTM 32N) umrechnen.", xcol)
                pts = gpd.GeoSeries(gpd.points_from_xy(xv, yv), crs=PROJECTED_CRS)
                use = ok & ~swapped & ~gk
            geoms[use] = pts.to_numpy()[use]
            precision[use] = "Koordinate"

    missing = np.array([g is None for g in geoms], dtype=bool) & ~chk.invalid
    if geocoder is not None and missing.any():
        addr = _address(df, mapping)
        if addr is not None:
            found = geocode_addresses(addr[missing], geocoder).to_numpy()
            idx = np.flatnonzero(missing)
            hit = np.array([g is not None for g in found], dtype=bool)
            geoms[idx[hit]] = found[hit]
            precision[idx[hit]] = "Adresse"
            kind = kind or "address"
            missing = np.array([g is None for g in geoms], dtype=bool) & ~chk.invalid
    if missing.any() and "plz" in mapping:
        plz_col = mapping["plz"]
        plz = _text(df[plz_col])
        pts = plz_points(plz).to_numpy()
        has_plz = plz.notna().to_numpy()
        known = np.array([p is not None for p in pts], dtype=bool)
        fill = missing & known
        geoms[fill] = pts[fill]
        precision[fill] = "PLZ"
        kind = kind or "plz"
        chk.row(missing & has_plz & ~known, lambda p: f"PLZ »{plz.iloc[p]}« ist unbekannt.",
                "PLZ prüfen (fünfstellig) oder Koordinaten angeben.", plz_col)
        missing = missing & ~known & ~has_plz
    if not kind:
        chk.file_level(
            "Keine Lageangabe gefunden.",
            "Spalten lon/lat (Längen-/Breitengrad), rechtswert/hochwert (UTM32, EPSG:25832) oder plz ergänzen, "
            "oder eine Geodatei (GeoJSON, GeoPackage, Shapefile) importieren.",
        )
        return geoms, precision, kind
    chk.row(missing, lambda p: "Keine Lage: Koordinaten und PLZ fehlen.",
            "Koordinaten oder eine PLZ eintragen.", None)

    located = np.array([g is not None for g in geoms], dtype=bool)
    if located.any():
        area = _nrw_area(settings)
        inside = np.ones(n, dtype=bool)
        inside[located] = shapely.intersects(area, geoms[located].astype(object))
        outside = located & ~inside
        by_plz = outside & (precision == "PLZ")
        col = mapping.get("plz")
        chk.row(by_plz, lambda p: "Die PLZ liegt nicht in NRW.", "PLZ prüfen: nur Einrichtungen in NRW.", col)
        chk.row(outside & ~by_plz, lambda p: (
            f"Die Koordinate (UTM32 {geoms[p].x:.0f}, {geoms[p].y:.0f}) liegt außerhalb von NRW."),
            "Koordinaten und Koordinatensystem prüfen (Länge/Breite in Grad oder UTM32 in Metern).", None)
    return geoms, precision, kind


def _address(df: pd.DataFrame, mapping: dict[str, object]) -> pd.Series | None:
    """One-line addresses ``"Straße, PLZ Ort"`` for online geocoding."""
    if "strasse" not in mapping or not ({"plz", "ort"} & set(mapping)):
        return None
    parts = [_text(df[mapping["strasse"]]).fillna("")]
    city = [_text(df[mapping[c]]).fillna("") for c in ("plz", "ort") if c in mapping]
    place = city[0] if len(city) == 1 else (city[0] + " " + city[1]).str.strip()
    addr = (parts[0] + ", " + place).str.strip(", ")
    return addr.mask(addr == "")


# --- the layer frame ------------------------------------------------------------------


def prepare_layer_frame(
    df: pd.DataFrame, spec: LayerSpec, *, file: str, settings: Settings, source: str = "import",
    geocoder: Geocoder | None = None,
) -> tuple[gpd.GeoDataFrame, list[Problem]]:
    """Map, parse, locate and validate the rows of ``df`` for layer ``spec``.

    Parameters
    ----------
    df
        As returned by :func:`read_table` (text cells, or a GeoDataFrame).
        An integer index is taken as the 0-based data row of the file.
    spec
        The target layer declaration.
    file
        File name for the messages.
    settings
        Where the boundaries live (NRW outline, Kreise, Gemeinden).
    source
        Value of ``source`` for rows that do not name one.
    geocoder
        Optional online geocoder (see :func:`geo.geocoding.nominatim_geocoder`);
        without it, rows without coordinates are located by PLZ centroid.

    Returns
    -------
    data, problems
        The valid rows in the layer schema (EPSG:25832; index = position in
        ``df``) and *all* problems found. ``data.attrs["notes"]`` lists
        information that is not a problem; ``data.attrs["location_kind"]``
        how the location was given.

    Notes
    -----
    Result CRS is EPSG:25832 (metres). Rows without an ``id`` get a stable one
    from a hash of layer, name and location (re-importing the same row gives
    the same id).
    """
    if spec.group == "boundary":
        return _prepare_boundary(df, spec, file=file, settings=settings)
    offset = int(df.attrs.get("row_offset", 2))
    positions = (df.index.to_numpy(dtype=np.int64) if pd.api.types.is_integer_dtype(df.index)
                 else np.arange(len(df)))
    df = df.reset_index(drop=True)
    rows = positions + offset
    chk = _Checker(file=file, rows=rows)
    notes: list[str] = []
    n = len(df)

    mapping = map_columns([c for c in df.columns if c != "geometry"], spec)
    # file-level: required columns (an absent id is generated, see below)
    for required in spec.required_columns:
        if required not in mapping and required != spec.id_column:
            c = spec.column(required)
            names = ", ".join((c.name, *c.aliases))
            chk.file_level("Pflichtspalte fehlt.", f"Spalte »{c.name}« ergänzen (erkannte Namen: {names}).",
                           column=c.name)
    if n == 0:
        chk.file_level("Die Datei enthält keine Datenzeilen.", "Mindestens eine Zeile unter der Kopfzeile eintragen.")
    ignored = [str(c) for c in df.columns if c != "geometry" and c not in mapping.values()
               and _norm(c) not in _LON + _LAT + _EAST + _NORTH + _X + _Y]
    if ignored:
        notes.append(f"Nicht übernommene Spalten (nicht Teil der Ebene »{spec.title}«): {', '.join(ignored)}.")

    out: dict[str, object] = {}
    for col in spec.columns:
        if col.name not in mapping:
            continue
        out[col.name] = _parse_column(df[mapping[col.name]], col, chk, mapping[col.name])

    geoms, precision, kind = _locate(df, spec, chk, settings, mapping, geocoder)

    # names
    if "name" in out:
        empty = pd.Series(out["name"]).isna().to_numpy()
        chk.row(empty, lambda p: "Der Name ist leer.", "Namen der Einrichtung eintragen.", mapping["name"])

    # ids: given, or generated from layer, name and location
    id_col = spec.id_column
    if id_col in out:
        ids = pd.Series(out[id_col])
        chk.row(ids.isna().to_numpy(), lambda p: "Die ID ist leer.",
                "Eindeutige ID eintragen oder die Spalte weglassen (dann wird sie erzeugt).", mapping[id_col])
    elif n:
        name_values = pd.Series(out.get("name", pd.Series([""] * n))).fillna("").astype(str).to_numpy()
        keys = [f"{spec.id}|{nm}|{_geom_key(g)}" for nm, g in zip(name_values, geoms, strict=True)]
        ids = pd.Series([f"{spec.id}-{hashlib.sha1(k.encode()).hexdigest()[:10]}" for k in keys], dtype="str")
        out[id_col] = ids
        notes.append(f"Die Datei hat keine Spalte »{id_col}«: IDs wurden aus Name und Lage erzeugt "
                     f"(z. B. {ids.iloc[0]}); ein erneuter Import derselben Zeilen ergibt dieselben IDs.")
    else:
        ids = pd.Series([], dtype="str")
    dup = ids.duplicated(keep="first").to_numpy() & ids.notna().to_numpy()
    first_row = {v: int(rows[p]) for p, v in reversed(list(enumerate(ids))) if isinstance(v, str)}
    chk.row(dup, lambda p: f"ID »{ids.iloc[p]}« kommt mehrfach vor (zuerst in Zeile {first_row[ids.iloc[p]]}).",
            "IDs eindeutig machen; doppelte Zeilen entfernen.", mapping.get(id_col, id_col))

    # assemble the frame in the layer schema
    data = {}
    for col in spec.columns:
        data[col.name] = out[col.name] if col.name in out else _empty(col, n)
    gdf = gpd.GeoDataFrame(data, geometry=gpd.GeoSeries(geoms, crs=PROJECTED_CRS), crs=PROJECTED_CRS)
    if "location_precision" in gdf.columns:
        given = gdf["location_precision"]
        gdf["location_precision"] = given.where(given.notna(), pd.Series(precision, dtype="str"))
    if "source" in gdf.columns:
        gdf["source"] = gdf["source"].fillna(source)
    _fill_ags(gdf, settings)

    keep = np.zeros(n, dtype=bool) if chk.fatal else ~chk.invalid
    gdf = gdf.loc[keep].copy()
    gdf.index = positions[keep]
    gdf.attrs["notes"] = notes
    gdf.attrs["location_kind"] = kind
    problems = sorted(chk.problems, key=lambda p: (p.row or 0, p.column or ""))
    return gdf, problems


def _geom_key(g: object) -> str:
    if g is None:
        return ""
    return f"{g.x:.0f},{g.y:.0f}"  # type: ignore[attr-defined]


def _empty(col: Column, n: int) -> pd.Series:
    dtype = {"int": "Int64", "float": "float64", "bool": "boolean", "tristate": "boolean"}.get(col.dtype, "str")
    return pd.Series([pd.NA if dtype != "float64" else np.nan] * n, dtype=dtype)


def _parse_column(raw: pd.Series, col: Column, chk: _Checker, header: object) -> pd.Series:
    """Parse one column by its declared type; bad cells become problems."""
    text = _text(raw).reset_index(drop=True)
    present = text.notna().to_numpy()
    if col.dtype in ("int", "float"):
        num = parse_number(text)
        bad = present & num.isna().to_numpy()
        chk.row(bad, lambda p: f"»{text.iloc[p]}« ist keine Zahl.",
                f"In »{header}« nur Zahlen eintragen (oder leer lassen).", header)
        if col.dtype == "int":
            frac = present & num.notna().to_numpy() & (num.fillna(0) % 1 != 0).to_numpy()
            chk.row(frac, lambda p: f"»{text.iloc[p]}« ist keine ganze Zahl.", "Ganze Zahl eintragen.", header)
            neg = num.fillna(0).to_numpy() < 0
            chk.row(neg, lambda p: f"»{text.iloc[p]}« ist negativ.", "Anzahl ≥ 0 eintragen.", header)
            return num.where(~(bad | frac | neg)).round().astype("Int64")
        return num
    if col.dtype in ("tristate", "bool"):
        values, unknown_value = parse_tristate(text)
        chk.row(unknown_value.to_numpy(), lambda p: f"»{text.iloc[p]}« ist kein gültiger Wert.",
                "Erlaubt sind ja/nein (auch 1/0, x, true/false) oder leer für unbekannt.", header)
        return values
    if col.dtype == "date":
        parsed = pd.to_datetime(text, errors="coerce", dayfirst=True, format="mixed")
        bad = present & parsed.isna().to_numpy()
        chk.row(bad, lambda p: f"»{text.iloc[p]}« ist kein Datum.", "Datum als TT.MM.JJJJ eintragen.", header)
        return parsed.dt.strftime("%Y-%m-%d").astype("str")
    if col.name in ("plz",):
        from geo.geocoding import normalise_plz

        plz = text.map(lambda v: normalise_plz(v) if isinstance(v, str) else None)
        return plz.where(plz.notna(), text).astype("str")
    if col.name.endswith("ags"):
        return text.str.replace(r"\.0$", "", regex=True).str.zfill(8 if col.name == "gemeinde_ags" else 5)
    if col.choices:
        canon = {c.lower(): c for c in col.choices}
        low = text.str.lower()
        known = low.isin(list(canon)).to_numpy()
        bad = present & ~known
        chk.row(bad, lambda p: f"»{text.iloc[p]}« ist kein erlaubter Wert.",
                f"Erlaubt sind: {', '.join(col.choices or ())}.", header)
        return low.map(canon).astype("str")
    return text


def _fill_ags(gdf: gpd.GeoDataFrame, settings: Settings) -> None:
    """Fill missing ``kreis_ags``/``gemeinde_ags`` by a spatial join (in place).

    Kreise are always embedded; Gemeinden only when they have been loaded.
    Provided codes are kept.
    """
    from geo.units import load_boundaries

    for col, level in (("gemeinde_ags", "gemeinde"), ("kreis_ags", "kreis")):
        if col not in gdf.columns or not len(gdf):
            continue
        todo = gdf[col].isna().to_numpy() & gdf.geometry.notna().to_numpy()
        if not todo.any():
            continue
        try:
            units = load_boundaries(level, settings)[["ags", "geometry"]]  # type: ignore[arg-type]
        except NotLoadedError:
            continue
        except IntegrationsatlasError as exc:
            logger.warning("%s boundaries not available for the spatial join: %s", level, exc)
            continue
        found = unit_of(gdf.geometry[todo], units)
        gdf.loc[gdf.index[todo], col] = found.astype(object).where(found.notna(), None).to_numpy()
    if "kreis_ags" in gdf.columns and "gemeinde_ags" in gdf.columns:
        gdf["kreis_ags"] = gdf["kreis_ags"].fillna(gdf["gemeinde_ags"].str[:5])


# --- boundaries --------------------------------------------------------------------------


_BOUNDARY_ALIASES = {"AGS": ("ags", "ags_0", "gemeindeschluessel", "kreisschluessel", "schluessel"),
                     "GEN": ("gen", "name", "gemeindename", "kreisname"),
                     "BEZ": ("bez", "art", "typ"),
                     "EWZ": ("ewz", "population", "einwohner", "bevoelkerung")}


def _prepare_boundary(df: pd.DataFrame, spec: LayerSpec, *, file: str,
                      settings: Settings) -> tuple[gpd.GeoDataFrame, list[Problem]]:
    """VG250-style polygons (``AGS``, ``GEN``, ``BEZ``) → ``gemeinde``/``kreis`` layer."""
    from geo.sources.bkg import vg250_to_layer

    problems: list[Problem] = []
    if spec.level not in ("gemeinde", "kreis"):
        raise DataError(f"In die Ebene »{spec.title}« kann nicht importiert werden; "
                        "möglich sind Gemeinden und Kreise.")
    if not isinstance(df, gpd.GeoDataFrame) or not df.geometry.notna().any():
        problems.append(Problem("Die Datei enthält keine Flächen.", "Eine Geodatei (GeoJSON, GeoPackage, "
                                "Shapefile) mit den Grenzen der Gemeinden bzw. Kreise importieren.", file=file))
        return _empty_layer(spec), problems
    if df.crs is None:
        problems.append(Problem("Die Geodaten haben kein Koordinatensystem (CRS).",
                                f"Datei mit CRS speichern, z. B. {PROJECTED_CRS}.", file=file))
        return _empty_layer(spec), problems
    norm_cols = {_norm(c): c for c in df.columns if c != df.geometry.name}
    renamed = {}
    for target, names in _BOUNDARY_ALIASES.items():
        found = _find(norm_cols, names)
        if found is not None:
            renamed[found] = target
    frame = df.rename(columns=renamed)
    for target in ("AGS", "GEN"):
        if target not in frame.columns:
            what = "Schlüssel" if target == "AGS" else "Name"
            problems.append(Problem("Pflichtspalte fehlt.", f"Spalte {target} ({what}) ergänzen, wie in den "
                                    "VG250-Daten des BKG.", file=file, column=target))
    if problems:
        return _empty_layer(spec), problems
    if "EWZ" not in frame.columns and "destatis" in frame.columns:
        frame["EWZ"] = frame["destatis"].map(_destatis_population)
    polys = frame.geometry.geom_type.isin(["Polygon", "MultiPolygon"]).to_numpy()
    rows = np.arange(len(frame)) + int(df.attrs.get("row_offset", 1))
    for pos in np.flatnonzero(~polys):
        problems.append(Problem("Das Objekt ist keine Fläche.", "Nur (Multi-)Polygone importieren.",
                                file=file, row=int(rows[pos])))
    length = 8 if spec.level == "gemeinde" else 5
    ags = frame["AGS"].astype("string").str.strip()
    bad = ~ags.str.fullmatch(rf"\d{{{length - 1},{length}}}", na=False).to_numpy()
    for pos in np.flatnonzero(bad & polys):
        problems.append(Problem(f"AGS »{ags.iloc[pos]}« hat nicht {length} Stellen.",
                                f"{length}-stelligen Amtlichen Gemeindeschlüssel eintragen.", file=file,
                                row=int(rows[pos]), column="AGS"))
    foreign = ~bad & ~ags.str.zfill(length).str.startswith("05", na=False).to_numpy()
    for pos in np.flatnonzero(foreign & polys):
        problems.append(Problem(f"AGS »{ags.iloc[pos]}« liegt nicht in NRW (muss mit 05 beginnen).",
                                "Nur NRW-Daten importieren.", file=file, row=int(rows[pos]), column="AGS"))
    valid = polys & ~bad & ~foreign
    out = vg250_to_layer(frame.loc[valid], spec.level, file=file)  # type: ignore[arg-type]
    dup = out["ags"].duplicated(keep="first").to_numpy() if len(out) else np.zeros(0, dtype=bool)
    for ags_value in out["ags"][dup]:
        problems.append(Problem(f"AGS »{ags_value}« kommt mehrfach vor.", "AGS eindeutig machen.",
                                file=file, column="AGS"))
    out = out.loc[~dup]
    for col in spec.column_names:
        if col not in out.columns:
            out[col] = pd.NA
    out = out[[*spec.column_names, "geometry"]]
    out.attrs["notes"] = []
    out.attrs["location_kind"] = "geometry"
    return out, problems


def _destatis_population(value: object) -> object:
    """Population from the nested ``destatis`` object of OpenDataLab's VG250 GeoJSON."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError:
            return None
    if isinstance(value, dict):
        return value.get("population")
    return None


def _empty_layer(spec: LayerSpec) -> gpd.GeoDataFrame:
    from geo.layers.loading import empty_layer

    return empty_layer(spec)


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
    table = read_table(path, max_bytes=settings.max_upload_bytes, name=shown, layer=layer_id)
    fmt = str(table.attrs.get("format", ""))
    rows_in = len(table)
    notes: list[str] = []
    source, source_licence, url = "import", licence or USER_LICENCE, None
    is_msb = False
    if schuldaten.is_schuldaten(table):
        if layer_id != "ogs":
            raise DataError(f"Datei {shown} ist die Schuldatei des MSB NRW; sie kann nur in die Ebene »ogs« "
                            f"(Grundschulen) importiert werden, nicht in »{layer_id}«.")
        offset = table.attrs.get("row_offset", 2)
        parsed = schuldaten.parse_schuldaten(table)
        parsed.attrs["row_offset"] = offset
        notes.append(f"MSB-Schuldatei erkannt: {len(parsed)} von {rows_in} Schulen sind Grundschulen in Betrieb "
                     f"(Schulform {schuldaten.SCHULFORM_GRUNDSCHULE}, Schulbetriebsschlüssel "
                     f"{schuldaten.IN_BETRIEB}) und werden übernommen; das OGS-Merkmal bleibt unbekannt.")
        table, fmt = parsed, f"{fmt}+schuldaten"
        is_msb = True
        source, source_licence, url = schuldaten.SOURCE, licence or schuldaten.LICENCE, schuldaten.URL

    data, problems = prepare_layer_frame(table, spec, file=shown, settings=settings, source=source,
                                         geocoder=geocoder)
    notes += list(data.attrs.get("notes", []))
    kind = "utm32" if is_msb else str(data.attrs.get("location_kind", ""))
    store = DataStore(settings.store_path)
    if mode == "append" and len(data):
        clash, clash_problems = _clashes_with_store(data, spec, store, shown,
                                                    int(table.attrs.get("row_offset", 2)))
        problems = sorted([*problems, *clash_problems], key=lambda p: (p.row or 0, p.column or ""))
        data = data.loc[~clash]
    data = data.reset_index(drop=True)
    result = ImportResult(layer_id=layer_id, file=shown, format=fmt, location_kind=kind, rows_in=rows_in,
                          data=data, problems=tuple(problems), batch=None, notes=tuple(notes))
    if dry_run:
        return result
    if problems and on_invalid == "reject":
        raise ValidationError(problems, f"Import von {shown} abgelehnt, nichts wurde gespeichert")
    if not len(data):
        raise ValidationError(problems or [Problem("Keine gültige Zeile gefunden.", "Datei prüfen.", file=shown)],
                              f"Import von {shown}: keine gültige Zeile, nichts wurde gespeichert")
    rejected = len({p.row for p in problems if p.row is not None})
    batch = store.write_layer(layer_id, data, mode=mode, source_file=shown, source=source,
                              licence=source_licence, url=url, rows_in=rows_in, rows_rejected=rejected)
    logger.info("imported %d of %d rows of %s into %s", len(data), rows_in, shown, layer_id)
    return ImportResult(layer_id=layer_id, file=shown, format=fmt, location_kind=kind, rows_in=rows_in,
                        data=data, problems=tuple(problems), batch=batch, notes=tuple(notes))


def _clashes_with_store(data: gpd.GeoDataFrame, spec: LayerSpec, store: DataStore, file: str,
                        offset: int) -> tuple[np.ndarray, list[Problem]]:
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
        problems.append(Problem(
            f"ID »{value}« ist bereits im Datenspeicher (Import {known[value]}).",
            "Modus »replace« wählen, um die Ebene zu ersetzen, oder die ID ändern.",
            file=file, row=int(data.index[pos]) + offset, column=key,
        ))
    return clash, problems
