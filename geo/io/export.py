"""Export any layer or result as GeoPackage, GeoJSON, CSV or Excel, always with its sources.

Every export carries the data attributions (licence terms of dl-de/by-2-0,
ODbL and CC BY require them), in the form that fits the format:

``gpkg``
    The layer description in ``gpkg_contents`` (shown by QGIS under
    *Eigenschaften → Information*), the GDAL layer metadata items
    ``attribution`` and ``export_date``, and an attribute table ``quellen``
    with one row per source line.
``geojson``
    A top-level member ``"attribution"`` (list of lines) next to
    ``"name"``, ``"crs_note"`` and ``"exported"``. GeoJSON is always written in
    EPSG:4326 (lon/lat, RFC 7946) with 9 decimals (about 0.1 mm); asking for
    EPSG:25832 raises :class:`~geo.errors.CRSError` with the advice to use
    GeoPackage or CSV instead, rather than silently writing lon/lat.
``csv``
    For Excel on German systems: ``;`` as separator, ``,`` as decimal mark,
    UTF-8 with BOM (umlauts open correctly by double-click), and a last column
    ``quellenangabe`` holding the attribution in every row, so that the
    sources stay with any rows copied elsewhere. Geometries become the columns
    ``x``/``y`` (EPSG:25832, metres) or ``lon``/``lat`` (EPSG:4326, degrees);
    for polygons these are a point inside the polygon (``representative_point``),
    the full geometry is only in GeoPackage and GeoJSON.
``xlsx``
    A sheet ``Daten`` (coordinates as in CSV, header frozen) and a sheet
    ``Quellen`` with the attribution lines, the layer, the CRS and the export
    date.

Text is exported literally: HTML, script or template syntax in a facility
name stays text, and GeoPackage and GeoJSON keep every value unchanged. In the
Excel workbook every text cell (headers and the ``Quellen`` sheet too) is typed
as text, so ``=…`` is never run as a formula; control characters, which a
worksheet cannot hold, become U+FFFD there. In CSV, text cells and headers
beginning with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return get a
leading apostrophe (the OWASP advice against formula injection), because
Excel would otherwise evaluate them on opening.

Examples
--------
>>> import geopandas as gpd
>>> gdf = gpd.GeoDataFrame({"name": ["Köln"]}, geometry=gpd.points_from_xy([356000.0], [5645000.0]),
...                        crs="EPSG:25832")
>>> data = export_frame(gdf, "csv", "EPSG:25832", layer_name="test", attribution=["© Test (CC BY 4.0)"])
>>> data.decode("utf-8-sig").splitlines()[:2]
['name;x;y;quellenangabe', 'Köln;356000,0;5645000,0;© Test (CC BY 4.0)']
"""

from __future__ import annotations

import io
import json
import logging
import re
import tempfile
from collections.abc import Mapping, Sequence
from datetime import date
from pathlib import Path
from typing import Any, Literal, get_args

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
from pyproj import CRS

from geo.errors import CRSError, DataError
from geo.layers.loading import load_layer
from geo.layers.registry import REGISTRY
from geo.layers.sources import ATTRIBUTIONS
from geo.layers.spec import LayerSpec
from geo.levels import admin_level, unit_keys
from geo.settings import DISPLAY_CRS, PROJECTED_CRS, Settings
from geo.units import available_levels

logger = logging.getLogger(__name__)

ExportFormat = Literal["gpkg", "geojson", "csv", "xlsx"]
ExportCRS = Literal["EPSG:25832", "EPSG:4326"]
FORMATS: tuple[str, ...] = get_args(ExportFormat)
#: File suffix and MIME type of each format.
SUFFIXES: dict[str, str] = {"gpkg": ".gpkg", "geojson": ".geojson", "csv": ".csv", "xlsx": ".xlsx"}
MIME_TYPES: dict[str, str] = {
    "gpkg": "application/geopackage+sqlite3",
    "geojson": "application/geo+json",
    "csv": "text/csv",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
#: German names of the formats for menus.
FORMAT_TITLES: dict[str, str] = {
    "gpkg": "GeoPackage (.gpkg)",
    "geojson": "GeoJSON (.geojson)",
    "csv": "CSV für Excel (.csv)",
    "xlsx": "Excel-Arbeitsmappe (.xlsx)",
}
#: The "CRS" of tables without geometry (no coordinate line in the sources).
NO_CRS = "–"
#: Column with the attribution in CSV exports.
ATTRIBUTION_COLUMN = "quellenangabe"
#: Decimals of GeoJSON coordinates (degrees): 1e-9° is about 0.1 mm.
GEOJSON_DECIMALS = 9
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_UMLAUTS: dict[str, str | int | None] = {"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss"}
_SAFE_NAME = re.compile(r"[^0-9A-Za-z_äöüÄÖÜß-]+")


def default_crs(fmt: str) -> ExportCRS:
    """The CRS used when none is asked for: EPSG:4326 for GeoJSON, else EPSG:25832."""
    return "EPSG:4326" if fmt == "geojson" else "EPSG:25832"


def export_filename(layer_name: str, fmt: str, crs: str | None = None) -> str:
    """A safe file name such as ``ki_25832.gpkg``.

    >>> export_filename("Lücken <KI>", "xlsx", "EPSG:4326")
    'Lücken_KI_4326.xlsx'
    """
    base = _SAFE_NAME.sub("_", layer_name).strip("_") or "export"
    code = (crs or default_crs(fmt)).split(":")[-1]
    return f"{base}_{code}{SUFFIXES.get(fmt, '')}"


def layer_attribution(spec: LayerSpec) -> tuple[str, ...]:
    """The attribution lines for an export of layer ``spec``.

    The attribution of each declared source of the layer with its licence
    (unless a general line already names it), followed by the general
    :data:`~geo.layers.catalog.ATTRIBUTIONS`.

    >>> layer_attribution(REGISTRY.get("kreis"))[0]
    '© GeoBasis-DE / BKG (dl-de/by-2-0)'
    """
    lines = [
        f"{s.attribution} ({s.licence})"
        for s in spec.sources
        if s.kind != "import" and not any(line.startswith(s.attribution) for line in ATTRIBUTIONS)
    ]
    return tuple(dict.fromkeys([*lines, *ATTRIBUTIONS]))


def _check_args(fmt: str, crs: str) -> None:
    if fmt not in FORMATS:
        raise DataError(f"Unbekanntes Exportformat »{fmt}«. Möglich sind: {', '.join(FORMATS)}.")
    if crs not in get_args(ExportCRS):
        raise CRSError(
            f"Export-Koordinatensystem »{crs}« wird nicht angeboten: bitte EPSG:25832 "
            "(ETRS89 / UTM 32N, Meter) oder EPSG:4326 (Längen-/Breitengrad) wählen."
        )
    if fmt == "geojson" and crs != DISPLAY_CRS:
        raise CRSError(
            "GeoJSON wird nach RFC 7946 immer in EPSG:4326 (Längen-/Breitengrad) geschrieben. "
            "Für EPSG:25832 bitte GeoPackage, CSV oder Excel wählen."
        )


def _prepare(frame: pd.DataFrame, crs: str, what: str) -> pd.DataFrame:
    """A copy with the index as columns (if meaningful) and geometries in ``crs``."""
    data = frame.copy()
    if not isinstance(data.index, pd.RangeIndex) or data.index.name is not None:
        data = data.reset_index()
    if isinstance(data, gpd.GeoDataFrame) and data.geometry.name in data.columns:
        if data.crs is None:
            raise CRSError(
                f"{what}: Kein Koordinatenbezugssystem gesetzt – Export nicht möglich. "
                f"Bitte die Daten mit CRS (z. B. {PROJECTED_CRS}) laden."
            )
        if CRS.from_user_input(data.crs) != CRS.from_user_input(crs):
            data = data.to_crs(crs)
    # object columns holding mixed values are written as text, consistently in all formats
    for col in data.columns:
        if data[col].dtype == object and not (isinstance(data, gpd.GeoDataFrame) and col == data.geometry.name):
            data[col] = data[col].astype("string")
    return data


def _has_geometry(data: pd.DataFrame) -> bool:
    return isinstance(data, gpd.GeoDataFrame) and data.geometry.name in data.columns


def _with_xy(data: pd.DataFrame, crs: str) -> pd.DataFrame:
    """Replace the geometry by coordinate columns (see the module notes)."""
    if not _has_geometry(data):
        return pd.DataFrame(data)
    gdf: gpd.GeoDataFrame = data
    geoms = gdf.geometry
    points = geoms.where(geoms.geom_type == "Point", geoms.representative_point())
    xcol, ycol = ("lon", "lat") if crs == DISPLAY_CRS else ("x", "y")
    empty = (geoms.isna() | geoms.is_empty).to_numpy()
    x = np.where(empty, np.nan, points.x.to_numpy(na_value=np.nan) if len(points) else np.empty(0))
    y = np.where(empty, np.nan, points.y.to_numpy(na_value=np.nan) if len(points) else np.empty(0))
    out = pd.DataFrame(gdf.drop(columns=gdf.geometry.name))
    decimals = GEOJSON_DECIMALS if crs == DISPLAY_CRS else 3  # 0.1 mm resp. 1 mm
    return out.assign(**{xcol: np.round(x, decimals), ycol: np.round(y, decimals)})


def _sources_table(layer_name: str, crs: str, attribution: Sequence[str], today: date) -> pd.DataFrame:
    unit = "Längen-/Breitengrad, Grad" if crs == DISPLAY_CRS else "ETRS89 / UTM 32N, Meter"
    rows = [("Quelle / Namensnennung", line) for line in attribution]
    rows += [
        ("Ebene / Inhalt", layer_name),
        *([("Koordinatensystem", f"{crs} ({unit})")] if crs != NO_CRS else []),
        ("Exportiert am", today.isoformat()),
        ("Erstellt mit", "Integrationsatlas NRW"),
    ]
    return pd.DataFrame(rows, columns=["angabe", "wert"])


def _table_name(layer_name: str) -> str:
    """An ASCII table name for GIS tools.

    >>> _table_name("Versorgungslücken (KI, 15 km)")
    'versorgungsluecken_ki_15_km'
    """
    ascii_name = layer_name.lower().translate(str.maketrans(_UMLAUTS))
    return re.sub(r"[^0-9a-z]+", "_", ascii_name).strip("_") or "daten"


def _gpkg(data: pd.DataFrame, layer_name: str, crs: str, attribution: Sequence[str], today: date) -> bytes:
    text = " | ".join(attribution)
    table = _table_name(layer_name)
    if table == "quellen":
        table = "daten_quellen"
    # two tables in one file: GDAL cannot append to an in-memory file, so go through a temp folder
    with tempfile.TemporaryDirectory(prefix="integrationsatlas_export_") as tmp:
        path = Path(tmp) / "export.gpkg"
        pyogrio.write_dataframe(
            data,
            path,
            layer=table,
            driver="GPKG",
            layer_options={"DESCRIPTION": f"{layer_name}. Quellen: {text}"},
            layer_metadata={"attribution": text, "export_date": today.isoformat(), "crs": crs},
        )
        pyogrio.write_dataframe(
            _sources_table(layer_name, crs, attribution, today), path, layer="quellen", driver="GPKG", append=True
        )
        return path.read_bytes()


def _geojson(data: pd.DataFrame, layer_name: str, attribution: Sequence[str], today: date) -> bytes:
    if not _has_geometry(data):
        raise DataError(f"»{layer_name}« hat keine Geometrie; GeoJSON braucht eine. Bitte CSV oder Excel wählen.")
    buf = io.BytesIO()
    pyogrio.write_dataframe(
        data, buf, driver="GeoJSON", layer_options={"RFC7946": "YES", "COORDINATE_PRECISION": str(GEOJSON_DECIMALS)}
    )
    doc = json.loads(buf.getvalue().decode("utf-8"))
    head = {
        "type": doc.pop("type"),
        "name": layer_name,
        "attribution": list(attribution),
        "crs_note": "EPSG:4326 (WGS 84, Längen-/Breitengrad) nach RFC 7946",
        "exported": today.isoformat(),
    }
    doc.pop("name", None)
    return json.dumps({**head, **doc}, ensure_ascii=False).encode("utf-8")


def _text_columns(frame: pd.DataFrame) -> list[str]:
    return [c for c in frame.columns if pd.api.types.is_string_dtype(frame[c]) or frame[c].dtype == object]


def csv_text(value: str) -> str:
    """A CSV cell that a spreadsheet shows as text: an apostrophe before a formula start.

    >>> print(csv_text("=HYPERLINK(1)"), csv_text("+cmd|x"), csv_text("@SUM(1)"), csv_text("Kita Regenbogen"))
    '=HYPERLINK(1) '+cmd|x '@SUM(1) Kita Regenbogen
    """
    return "'" + value if value.startswith(_FORMULA_START) else value


def _csv(data: pd.DataFrame, crs: str, attribution: Sequence[str]) -> bytes:
    table = _with_xy(data, crs)
    for col in _text_columns(table):
        table[col] = table[col].astype("string").map(csv_text, na_action="ignore")
    table.columns = [csv_text(str(c)) for c in table.columns]
    table[ATTRIBUTION_COLUMN] = " | ".join(attribution)
    out = table.to_csv(sep=";", decimal=",", index=False, lineterminator="\r\n")
    return out.encode("utf-8-sig")


def _append_text_row(ws: Any, values: Sequence[Any]) -> None:
    """Append ``values`` to worksheet ``ws``; every string is a text cell (never a formula), control characters
    a worksheet cannot hold become U+FFFD."""
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    ws.append([ILLEGAL_CHARACTERS_RE.sub("\ufffd", v) if isinstance(v, str) else v for v in values])
    for cell in ws[ws.max_row]:
        if isinstance(cell.value, str):
            cell.data_type = "s"


def _xlsx(data: pd.DataFrame, layer_name: str, crs: str, attribution: Sequence[str], today: date) -> bytes:
    return _workbook({"Daten": _with_xy(data, crs)}, layer_name, crs, attribution, today)


def _workbook(
    sheets: Mapping[str, pd.DataFrame], layer_name: str, crs: str, attribution: Sequence[str], today: date
) -> bytes:
    """An Excel workbook: one sheet per table (header frozen, text cells never formulas) and the sheet ``Quellen``."""
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    wb = Workbook()
    wb.remove(wb.active)
    for title, table in sheets.items():
        ws = wb.create_sheet(title)
        _append_text_row(ws, [str(c) for c in table.columns])
        # None for missing values; pandas/numpy scalars as Python values; datetimes without zone (Excel)
        values = table.astype(object).where(table.notna(), None)
        for col in values.columns:
            if pd.api.types.is_datetime64_any_dtype(table[col]) and getattr(table[col].dt, "tz", None) is not None:
                values[col] = table[col].dt.tz_localize(None).astype(object).where(table[col].notna(), None)
        for row in values.itertuples(index=False, name=None):
            _append_text_row(ws, [v.item() if isinstance(v, np.generic) else v for v in row])
        for j, col in enumerate(table.columns, start=1):
            width = max([len(str(col)), *table[col].astype("string").fillna("").str.len().head(500).tolist()])
            ws.column_dimensions[get_column_letter(j)].width = min(60, max(8, width + 2))
        for cell in ws[1]:
            cell.font = Font(bold=True)
        ws.freeze_panes = "A2"
    src = wb.create_sheet("Quellen")
    src.append(["Angabe", "Wert"])
    for row in _sources_table(layer_name, crs, attribution, today).itertuples(index=False, name=None):
        _append_text_row(src, list(row))
    src.column_dimensions["A"].width = 26
    src.column_dimensions["B"].width = 100
    for cell in src[1]:
        cell.font = Font(bold=True)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def export_workbook(
    sheets: Mapping[str, pd.DataFrame],
    *,
    layer_name: str,
    attribution: Sequence[str] = ATTRIBUTIONS,
    today: date | None = None,
) -> bytes:
    """Several tables without geometry as one Excel workbook, with the sheet ``Quellen`` (as :func:`export_frame`).

    Parameters
    ----------
    sheets
        Sheet name → table, in this order (at most 31 characters a name).
    layer_name, attribution, today
        As in :func:`export_frame`.

    Raises
    ------
    DataError
        Without attribution, or with a sheet called ``Quellen``.
    """
    if not attribution:
        raise DataError("Ein Export braucht die Quellenangaben (Namensnennung); die Liste ist leer.")
    if "Quellen" in sheets:
        raise DataError("Das Blatt »Quellen« schreibt der Export selbst; bitte ein anderes Blatt benennen.")
    tables = {name[:31]: _prepare(pd.DataFrame(table), PROJECTED_CRS, layer_name) for name, table in sheets.items()}
    return _workbook(tables, layer_name, NO_CRS, attribution, today or date.today())


def export_frame(
    frame: pd.DataFrame,
    fmt: ExportFormat,
    crs: ExportCRS | None = None,
    *,
    layer_name: str,
    attribution: Sequence[str] = ATTRIBUTIONS,
    today: date | None = None,
) -> bytes:
    """Export a layer or result table as the bytes of one file.

    Parameters
    ----------
    frame
        A GeoDataFrame (any projected or geographic CRS, must be set) or a
        plain DataFrame such as a gap table. A named or non-default index
        (e.g. AGS) becomes a column.
    fmt
        ``"gpkg"``, ``"geojson"``, ``"csv"`` or ``"xlsx"``.
    crs
        ``"EPSG:25832"`` or ``"EPSG:4326"``; ``None`` takes
        :func:`default_crs` (GeoJSON is always EPSG:4326).
    layer_name
        Name of the content, e.g. the layer title; used for the table name
        and the source notes.
    attribution
        Attribution lines with licences, written into every format.
    today
        Export date (default: today).

    Returns
    -------
    bytes
        The file content (see the module notes for each format).

    Raises
    ------
    DataError
        Unknown format, or GeoJSON for data without geometry.
    CRSError
        CRS not offered, GeoJSON in EPSG:25832, or input without CRS.

    Notes
    -----
    Coordinates are converted with pyproj from the input CRS; EPSG:25832 is in
    metres, EPSG:4326 in degrees (lon, lat).
    """
    crs = crs or default_crs(fmt)
    _check_args(fmt, crs)
    if not attribution:
        raise DataError("Ein Export braucht die Quellenangaben (Namensnennung); die Liste ist leer.")
    today = today or date.today()
    data = _prepare(frame, crs, layer_name)
    logger.info("Export %s: %d Zeilen als %s (%s)", layer_name, len(data), fmt, crs)
    if fmt == "gpkg":
        return _gpkg(data, layer_name, crs, attribution, today)
    if fmt == "geojson":
        return _geojson(data, layer_name, attribution, today)
    if fmt == "csv":
        return _csv(data, crs, attribution)
    return _xlsx(data, layer_name, crs, attribution, today)


def export_to_path(
    frame: pd.DataFrame,
    path: Path,
    fmt: ExportFormat | None = None,
    crs: ExportCRS | None = None,
    *,
    layer_name: str,
    attribution: Sequence[str] = ATTRIBUTIONS,
) -> Path:
    """Write :func:`export_frame` to ``path``; the format defaults to the file suffix.

    Raises
    ------
    DataError
        If the format cannot be told from the suffix (and is not given).
    """
    path = Path(path)
    if fmt is None:
        by_suffix = {v: k for k, v in SUFFIXES.items()} | {".json": "geojson"}
        guessed = by_suffix.get(path.suffix.lower())
        if guessed is None:
            raise DataError(
                f"Format von {path.name} unbekannt: bitte Endung .gpkg, .geojson, .csv oder .xlsx "
                "verwenden oder das Format angeben."
            )
        fmt = guessed  # type: ignore[assignment]
    data = export_frame(frame, fmt, crs, layer_name=layer_name, attribution=attribution)  # type: ignore[arg-type]
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".part")
    tmp.write_bytes(data)
    tmp.replace(path)
    return path


def export_layer(layer_id: str, settings: Settings, fmt: ExportFormat, crs: ExportCRS | None = None) -> bytes:
    """Export the registered layer ``layer_id`` (embedded plus stored data) with its sources.

    Raises
    ------
    IntegrationsatlasError
        Unknown layer, layer without data, or an error of :func:`export_frame`.
    """
    spec = REGISTRY.get(layer_id)
    gdf = load_layer(layer_id, settings)
    if gdf.empty:
        raise DataError(
            f"Die Ebene »{spec.title}« enthält keine Daten; es gibt nichts zu exportieren. "
            f"Bitte zuerst Daten importieren oder abrufen (Seite »Daten«)."
        )
    gdf = _with_gemeinde(gdf, settings)
    return export_frame(gdf, fmt, crs, layer_name=spec.title, attribution=layer_attribution(spec))


def _with_gemeinde(frame: gpd.GeoDataFrame, settings: Settings) -> gpd.GeoDataFrame:
    """Facilities without a Gemeinde from their source get the one they lie in, once Gemeinden are loaded.

    The embedded KI name their Kreis but not their Gemeinde; a planner filtering the exported table by Gemeinde
    would miss them. The Gemeinde follows the point-in-area rule that every count uses
    (:func:`geo.levels.unit_keys`); a Gemeinde the source gives is kept.
    """
    if "gemeinde_ags" not in frame.columns or not frame["gemeinde_ags"].isna().any():
        return frame
    if "gemeinde" not in available_levels(settings) or not (frame.geom_type == "Point").all():
        return frame
    return frame.assign(gemeinde_ags=unit_keys(admin_level("gemeinde"), frame, settings))
