"""Streaming reader for the Destatis Zensus 2022 grid files (CSV or the published ZIPs).

Destatis publishes every grid theme as a ZIP holding ``;``-separated UTF-8
CSVs, one per resolution, e.g. ``Zensus2022_Bevoelkerungszahl_100m-Gitter.csv``::

    GITTER_ID_100m;x_mp_100m;y_mp_100m;Einwohner
    CRS3035RES100mN2689100E4337000;4337050;2689150;4

Themes read here (matched on the header, case-insensitively):

=====================  ==============================================  ==========================
theme                  file                                            columns kept
=====================  ==============================================  ==========================
``bevoelkerung``       ``Bevoelkerungszahl``                           ``Einwohner``
``auslaender``         ``Auslaenderanteil_in_Gitterzellen``            ``AnteilAuslaender`` (%)
``alter_infra``        ``Alter_in_infrastrukturellen_Altersgruppen``   ``Unter3``, ``a3bis5``,
                                                                       ``a6bis9``, ``a10bis15``, …
``alter_5``            ``Alter_in_5_Altersklassen``                    ``Unter18``, ``a18bis29``, …
``durchschnittsalter`` ``Durchschnittsalter``                          ``Durchschnittsalter``
=====================  ==============================================  ==========================

Numbers use a decimal comma; values kept secret are an EN DASH ``–``
(U+2013); cells without population are absent. An optional column
``werterlaeuternde_Zeichen`` marks values of low reliability (``KLAMMERN``);
it is kept as the boolean column ``unsicher_<theme>``.

A Germany-wide 100 m file has about 3 million rows per theme. It is streamed
with pyarrow's CSV reader in blocks (about :data:`CHUNK_ROWS` rows), all
columns as Arrow strings; each block is cut to a bounding box (NRW, in
EPSG:3035) with Arrow kernels before any Python object is made, and only the
kept rows are parsed, checked and stored, as ``int32`` centres and
``float32`` values. The whole file is never held in memory. A block with a
coordinate that is not a plain number is checked row by row instead, so
every broken row is reported with its line number.

Licence: © Statistisches Bundesamt (Destatis), Zensus 2022, dl-de/by-2-0.
"""

from __future__ import annotations

import io
import logging
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from geo.errors import DataError, Problem, SchemaError, raise_if_problems
from geo.io.bounded import open_limited
from geo.io.limits import MAX_RATIO, ReadLimits, check_file, check_zip

logger = logging.getLogger(__name__)

#: Rows of text parsed at a time.
CHUNK_ROWS = 50_000
#: Values that mark a cell kept secret (or without a value).
SUPPRESSED = frozenset({"–", "-", "—", ".", "x", "X", "/", ""})
#: Marks in ``werterlaeuternde_Zeichen`` meaning "low reliability".
LOW_RELIABILITY = ("KLAMMERN", "(", ")")
#: Bounding box of NRW in EPSG:3035 (metres): the embedded Gemeinden reach 4,031–4,284 km east and
#: 3,030–3,270 km north (Minden-Lübbecke); with a margin of 5 km.
NRW_BBOX_3035: tuple[float, float, float, float] = (4_025_000.0, 3_025_000.0, 4_290_000.0, 3_275_000.0)

ValueKind = Literal["count", "percent", "mean"]

_ID_COLUMN = re.compile(r"^GITTER_ID_(\d+)(k?m)$", re.IGNORECASE)
_FLAG_COLUMN = "werterlaeuternde_zeichen"
_MAX_PROBLEMS = 100


@dataclass(frozen=True)
class Theme:
    """One Zensus grid theme: which columns to keep and how to read them.

    Parameters
    ----------
    id
        Short id, used as suffix of the flag column.
    label
        German title of the theme.
    marker
        Header column (lower case) that identifies the theme.
    columns
        Source column (lower case) → output column.
    kind
        ``"count"`` (whole people), ``"percent"`` (0–100) or ``"mean"``.
    """

    id: str
    label: str
    marker: str
    columns: dict[str, str]
    kind: ValueKind


THEMES: tuple[Theme, ...] = (
    Theme("bevoelkerung", "Bevölkerungszahl", "einwohner", {"einwohner": "population"}, "count"),
    Theme("auslaender", "Ausländeranteil", "anteilauslaender", {"anteilauslaender": "anteil_auslaender"}, "percent"),
    Theme(
        "alter_infra",
        "Alter in infrastrukturellen Altersgruppen",
        "unter3",
        {
            "insgesamt_bevoelkerung": "population_alter",
            "unter3": "unter3",
            "a3bis5": "a3bis5",
            "a6bis9": "a6bis9",
            "a10bis15": "a10bis15",
            "a16bis18": "a16bis18",
            "a19bis24": "a19bis24",
            "a25bis39": "a25bis39",
            "a40bis59": "a40bis59",
            "a60bis66": "a60bis66",
            "a67bis74": "a67bis74",
            "a75undaelter": "a75undaelter",
        },
        "count",
    ),
    Theme(
        "alter_5",
        "Alter in 5 Altersklassen",
        "unter18",
        {
            "insgesamt_bevoelkerung": "population_alter5",
            "unter18": "unter18",
            "a18bis29": "a18bis29",
            "a30bis49": "a30bis49",
            "a50bis64": "a50bis64",
            "a65undaelter": "a65undaelter",
        },
        "count",
    ),
    Theme(
        "durchschnittsalter",
        "Durchschnittsalter",
        "durchschnittsalter",
        {"durchschnittsalter": "durchschnittsalter"},
        "mean",
    ),
)


@dataclass(frozen=True)
class ThemeTable:
    """The cells of one theme file at one resolution.

    Parameters
    ----------
    theme
        The theme read.
    resolution_m
        Cell width in metres.
    source_file
        File (``zip!member`` for a ZIP member).
    rows_in
        Data rows in the file.
    cells
        One row per kept cell: ``x``, ``y`` (``int32`` centre, EPSG:3035),
        the theme's output columns (``float32``, NaN = kept secret), and
        ``unsicher_<theme>`` (bool) when the file has a flag column.
    suppressed
        Count of secret values per output column among the kept cells.
    """

    theme: Theme
    resolution_m: int
    source_file: str
    rows_in: int
    cells: pd.DataFrame
    suppressed: dict[str, int] = field(default_factory=dict)


def theme_of(columns: list[str]) -> Theme | None:
    """The theme whose marker column is among ``columns`` (case-insensitive).

    >>> theme_of(["GITTER_ID_100m", "x_mp_100m", "y_mp_100m", "AnteilAuslaender"]).id
    'auslaender'
    """
    lower = {c.strip().lower() for c in columns}
    return next((t for t in THEMES if t.marker in lower), None)


def _encoding(raw: io.BufferedReader) -> str:
    """``utf-8`` unless the first 64 KiB are not UTF-8 (then Windows-1252); ``raw`` is only peeked at."""
    head = raw.peek(65_536)[:65_536]
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:  # a character cut at the end of the sample is no evidence
        return "cp1252" if exc.start < len(head) - 4 else "utf-8"
    return "utf-8"


def csv_members(path: Path, limits: ReadLimits | None = None) -> list[str | None]:
    """The CSVs to read from ``path``: the ZIP's ``.csv`` members, or ``[None]`` for a plain CSV.

    The file is checked before anything is read: its size, and for a ZIP the
    central directory (damage, encryption, unpacked sizes up to
    ``limits.max_feed_bytes``, members that unpack like a bomb).

    Raises
    ------
    DataError
        If the file is unreadable, too large, a damaged ZIP or one without a CSV.
    """
    path = Path(path)
    limits = limits or ReadLimits()
    _, head = check_file(path, path.name, limits.max_feed_bytes, "max_feed_bytes")
    if not head.startswith(b"PK"):
        return [None]
    infos = check_zip(
        path,
        path.name,
        limits,
        member_bytes=limits.max_feed_bytes,
        total_bytes=limits.max_feed_bytes,
        max_ratio=MAX_RATIO,
    )
    names = [
        i.filename
        for i in infos
        if i.filename.lower().endswith(".csv") and not i.filename.startswith("__MACOSX") and not i.is_dir()
    ]
    if not names:
        raise DataError(
            f"Datei {path.name}: das ZIP enthält keine CSV-Datei. Bitte das Zensus-ZIP von "
            "destatis.de unverändert verwenden."
        )
    return list(names)


def read_theme_file(
    path: Path,
    member: str | None = None,
    *,
    bbox: tuple[float, float, float, float] | None = None,
    chunk_rows: int = CHUNK_ROWS,
    limits: ReadLimits | None = None,
) -> ThemeTable:
    """Read one Zensus grid CSV (or a CSV member of a ZIP) in chunks.

    Parameters
    ----------
    path
        The CSV or ZIP.
    member
        The CSV inside the ZIP (see :func:`csv_members`); ``None`` for a CSV.
    bbox
        ``(minx, miny, maxx, maxy)`` in EPSG:3035: keep only cells whose
        centre lies inside (e.g. :data:`NRW_BBOX_3035`). ``None`` keeps all.
    chunk_rows
        Rows of text parsed at a time, roughly: the Arrow CSV reader cuts
        blocks of ``chunk_rows × 64`` bytes.
    limits
        ``max_feed_bytes``: most bytes read (counted while streaming, so a
        ZIP whose directory lies is stopped too); lines over 1 MB are refused.

    Returns
    -------
    ThemeTable
        The kept cells in file order.

    Raises
    ------
    SchemaError
        If the header has no ``GITTER_ID_…`` or no column of a known theme.
    ValidationError
        Listing (up to 100) rows with an unreadable cell id or coordinate, a
        cell id that does not match the coordinates, a cell listed twice, or
        a value that is neither a plausible number ≥ 0 (a count of at most
        :func:`max_count` people per cell, a share of at most 100 %, an age
        of at most 120) nor a secrecy mark. Rows outside ``bbox`` are checked
        for their coordinates only.
    DataError
        If the file is damaged, not text, or larger than the limits.

    Notes
    -----
    Coordinates stay in EPSG:3035 (metres); when ``x_mp``/``y_mp`` are absent
    the centre is derived from the cell id (lower-left corner + half a cell).
    """
    import pyarrow as pa
    import pyarrow.csv as pacsv

    path = Path(path)
    limits = limits or ReadLimits()
    shown = f"{path.name}!{member}" if member else path.name
    problems: list[Problem] = []
    parts: list[pd.DataFrame] = []
    rows_in = 0
    with open_limited(path, member, shown=shown, limit=limits.max_feed_bytes, setting="max_feed_bytes") as raw:
        encoding = _encoding(raw)
        try:
            line = raw.readline().decode(encoding).lstrip("\ufeff")
        except UnicodeDecodeError as exc:
            raise DataError(
                f"Datei {shown}, Zeile 1: Die Kopfzeile ist kein Text in {encoding} (Byte {exc.start}). "
                "Bitte die Original-CSV von Destatis verwenden."
            ) from exc
        header = [c.strip() for c in line.rstrip("\r\n").split(";")]
        layout = _layout(header, shown)
        reader_options = pacsv.ReadOptions(column_names=header, encoding=encoding, block_size=max(chunk_rows * 64, 256))
        convert = pacsv.ConvertOptions(
            column_types=dict.fromkeys(header, pa.string()), include_columns=layout.usecols, strings_can_be_null=False
        )
        try:
            reader = pacsv.open_csv(
                raw,
                read_options=reader_options,
                parse_options=pacsv.ParseOptions(delimiter=";"),
                convert_options=convert,
            )
            for batch in reader:
                keep = _inside(batch, layout, bbox)
                chunk = batch if keep is None else batch.take(pa.array(keep))
                box = bbox if keep is None else None
                parts.append(_parse_chunk(chunk, layout, rows_in, box, problems, shown, positions=keep))
                rows_in += batch.num_rows
        except (pa.ArrowInvalid, UnicodeDecodeError) as exc:
            raise DataError(
                f"Datei {shown}: nicht lesbar ({exc}). Bitte die Original-CSV von Destatis "
                "verwenden (Semikolon-getrennt)."
            ) from exc
    cells = (
        pd.concat(parts, ignore_index=True)
        if parts
        else pd.DataFrame({c: pd.Series(dtype=t) for c, t in {**layout.dtypes(), "line": "int64"}.items()})
    )
    _note_duplicates(cells, layout, problems, shown)
    raise_if_problems(problems, f"Zensus-Gitterdatei {shown} ist ungültig")
    cells = cells.drop(columns=["line"])
    suppressed = {c: int(cells[c].isna().sum()) for c in layout.outputs}
    logger.info("%s: %d Zeilen gelesen, %d Zellen behalten", shown, rows_in, len(cells))
    return ThemeTable(layout.theme, layout.resolution, shown, rows_in, cells, suppressed)


def max_count(resolution_m: int) -> float:
    """Most people (or people of an age group) one cell of ``resolution_m`` metres may hold.

    500,000 per km² (seven times the densest city districts in the world): a
    gross-error bound that catches a typing error or a number past 64 bits,
    not a statistic.

    >>> max_count(100), max_count(1000)
    (5000.0, 500000.0)
    """
    return 500_000.0 * resolution_m**2 / 1_000_000.0


#: Highest plausible mean age in years.
MAX_MEAN_AGE = 120.0


def _note_duplicates(cells: pd.DataFrame, layout: _Layout, problems: list[Problem], shown: str) -> None:
    """A cell listed twice in one file: a problem of each repeat (its first row named)."""
    if len(cells) < 2:
        return
    key = pd.Series(cell_key(cells["x"].to_numpy(), cells["y"].to_numpy(), layout.resolution))
    repeat = key.duplicated(keep="first").to_numpy()
    if not repeat.any():
        return
    first = pd.Series(cells["line"].to_numpy(), index=key.to_numpy())
    first = first[~first.index.duplicated(keep="first")]
    for pos in np.flatnonzero(repeat)[: max(_MAX_PROBLEMS - len(problems), 0)]:
        problems.append(
            Problem(
                f"Die Gitterzelle kommt doppelt vor (zuerst in Zeile {int(first[key.iloc[pos]])}).",
                "Jede Zelle nur einmal aufführen; die Original-Datei von Destatis verwenden.",
                file=shown,
                row=int(cells["line"].iloc[pos]),
                column=layout.id_col,
            )
        )


def _inside(batch: Any, layout: _Layout, bbox: tuple[float, float, float, float] | None) -> np.ndarray | None:
    """Positions of the batch rows whose centre lies in ``bbox`` (Arrow kernels, no Python strings).

    ``None`` when the batch must be checked row by row: no box, no coordinate
    columns, or a coordinate that is not a plain number.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    if bbox is None or not (layout.x_col and layout.y_col):
        return None
    try:
        x = pc.cast(pc.utf8_trim_whitespace(batch.column(layout.x_col)), pa.float64())
        y = pc.cast(pc.utf8_trim_whitespace(batch.column(layout.y_col)), pa.float64())
    except pa.ArrowInvalid:
        return None
    mask = pc.and_(
        pc.and_(pc.greater_equal(x, bbox[0]), pc.less_equal(x, bbox[2])),
        pc.and_(pc.greater_equal(y, bbox[1]), pc.less_equal(y, bbox[3])),
    )
    # "NaN" and "1e400" cast to floats outside every box: such a row is checked (and refused), never dropped
    broken = pc.invert(pc.and_(pc.is_finite(x), pc.is_finite(y)))
    return np.flatnonzero(pc.or_(mask, broken).to_numpy(zero_copy_only=False))


@dataclass(frozen=True)
class _Layout:
    theme: Theme
    resolution: int
    id_col: str
    x_col: str | None
    y_col: str | None
    values: dict[str, str]  # header name → output column
    flag_col: str | None

    @property
    def usecols(self) -> list[str]:
        cols = [self.id_col, *(c for c in (self.x_col, self.y_col) if c), *self.values]
        return cols + ([self.flag_col] if self.flag_col else [])

    @property
    def outputs(self) -> list[str]:
        return list(self.values.values())

    def dtypes(self) -> dict[str, str]:
        out = {"x": "int32", "y": "int32", **dict.fromkeys(self.outputs, "float32")}
        if self.flag_col:
            out[f"unsicher_{self.theme.id}"] = "bool"
        return out


def _layout(header: list[str], shown: str) -> _Layout:
    id_col = next((c for c in header if _ID_COLUMN.match(c)), None)
    theme = theme_of(header)
    missing = [] if id_col else ["GITTER_ID_1km (oder _100m/_10km)"]
    if theme is None:
        missing.append("Einwohner (oder AnteilAuslaender, Unter3, Unter18, Durchschnittsalter)")
    if missing or id_col is None or theme is None:
        raise SchemaError(
            f"Datei {shown}: Spalte(n) {', '.join(missing)} fehlen – das ist keine Zensus-2022-Gitterdatei "
            f"(gefunden: {', '.join(header[:8])}). Bitte z. B. »Zensus2022_Bevoelkerungszahl_100m-Gitter.csv« "
            "oder das ZIP von destatis.de verwenden."
        )
    m = _ID_COLUMN.match(id_col)
    assert m is not None  # matched above
    resolution = int(m.group(1)) * (1000 if m.group(2).lower() == "km" else 1)
    suffix = id_col[len("GITTER_ID_") :].lower()
    by_lower = {c.lower(): c for c in header}
    values = {by_lower[src]: out for src, out in theme.columns.items() if src in by_lower}
    return _Layout(
        theme,
        resolution,
        id_col,
        by_lower.get(f"x_mp_{suffix}"),
        by_lower.get(f"y_mp_{suffix}"),
        values,
        by_lower.get(_FLAG_COLUMN),
    )


def _parse_chunk(
    chunk: Any,
    layout: _Layout,
    offset: int,
    bbox: tuple[float, float, float, float] | None,
    problems: list[Problem],
    shown: str,
    positions: np.ndarray | None = None,
) -> pd.DataFrame:
    """Parse and check one Arrow batch of text rows with Arrow kernels.

    ``positions`` maps the batch rows to their place in the block read (for
    the line numbers of the messages).
    """
    import pyarrow as pa

    res = layout.resolution
    n = chunk.num_rows
    where = np.arange(n) if positions is None else np.asarray(positions)

    def note(mask: np.ndarray, local: np.ndarray, message: str, column: str, fix: str) -> None:
        room = _MAX_PROBLEMS - len(problems)
        for pos in local[mask][: max(room, 0)]:
            problems.append(Problem(message, fix, file=shown, row=offset + int(where[pos]) + 2, column=column))

    id_res, id_n, id_e = _cell_id_parts(chunk.column(layout.id_col))
    if layout.x_col and layout.y_col:
        x = _to_float(chunk.column(layout.x_col))
        y = _to_float(chunk.column(layout.y_col))
        where_xy = f"{layout.x_col}/{layout.y_col}"
    else:
        x, y = id_e + res / 2, id_n + res / 2
        where_xy = layout.id_col
    allpos = np.arange(n)
    bad_xy = ~(np.isfinite(x) & np.isfinite(y))
    if where_xy != layout.id_col:
        note(bad_xy, allpos, "Koordinate fehlt oder ist keine Zahl.", where_xy, "Original-Datei verwenden.")
    # rows checked in full: those inside the box, and broken ones (whose place is unknown)
    keep = np.ones(n, dtype=bool)
    if bbox is not None:
        with np.errstate(invalid="ignore"):
            keep = bad_xy | ((x >= bbox[0]) & (x <= bbox[2]) & (y >= bbox[1]) & (y <= bbox[3]))
    pos = allpos[keep]
    rows = chunk if keep.all() else chunk.take(pa.array(pos))
    bad_id = ~np.isfinite(id_res[keep]) | (id_res[keep] != res)
    note(
        bad_id,
        pos,
        "Gitter-ID unlesbar oder falsche Zellgröße.",
        layout.id_col,
        f"Format CRS3035RES{res}mN…E… erwartet.",
    )
    if where_xy != layout.id_col:
        with np.errstate(invalid="ignore"):
            mismatch = (
                np.isfinite(id_res[keep])
                & (id_res[keep] == res)
                & ~bad_xy[keep]
                & ((np.floor(x[keep] / res) * res != id_e[keep]) | (np.floor(y[keep] / res) * res != id_n[keep]))
            )
        note(
            mismatch,
            pos,
            "Gitter-ID und Mittelpunkt-Koordinaten passen nicht zusammen.",
            where_xy,
            "Die Original-Datei von Destatis verwenden (x_mp/y_mp = Ecke der ID + halbe Zellgröße).",
        )
    out: dict[str, object] = {
        "x": np.floor(np.clip(np.nan_to_num(x[keep]), -(2**31), 2**31 - 1)).astype(np.int32),
        "y": np.floor(np.clip(np.nan_to_num(y[keep]), -(2**31), 2**31 - 1)).astype(np.int32),
        "line": (offset + where[pos] + 2).astype(np.int64),
    }
    for col, name in layout.values.items():
        text = rows.column(col)
        secret = _is_secret(text)
        v = _to_float(text, thousands=layout.theme.kind == "count")
        with np.errstate(invalid="ignore"):
            bad = ~secret & (~np.isfinite(v) | (v < 0))
            if layout.theme.kind == "count":
                bad |= ~secret & np.isfinite(v) & ((v % 1 != 0) | (v > max_count(res)))
                expect = f"ganze Zahl von 0 bis {max_count(res):,.0f}".replace(",", ".")
            elif layout.theme.kind == "percent":
                bad |= ~secret & (v > 100)
                expect = "Prozentwert 0–100"
            else:
                bad |= ~secret & (v > MAX_MEAN_AGE)
                expect = f"Zahl von 0 bis {MAX_MEAN_AGE:.0f}"
        note(bad, pos, f"Wert ist keine {expect}.", col, "Zahl oder »–« (geheim gehalten) eintragen.")
        out[name] = np.where(secret | bad, np.nan, v).astype(np.float32)
    if layout.flag_col:
        out[f"unsicher_{layout.theme.id}"] = _low_reliability(rows.column(layout.flag_col))
    return pd.DataFrame(out)


_NUMBER = r"^[+-]?(\d+\.?\d*|\.\d+)$"
_CELL_ID_NAMED = r"^CRS3035RES(?P<res>\d+)mN(?P<n>\d+)E(?P<e>\d+)$"


def _to_float(text: Any, *, thousands: bool = False) -> np.ndarray:
    """Arrow strings as float64, NaN where not a plain number.

    A decimal comma is read as a point; with ``thousands`` (counts) ``.``
    and spaces are thousands separators (``"1.234"`` is 1234, ``"4,5"``
    stays 4.5 and is rejected by the caller).
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    s = pc.utf8_trim_whitespace(text)
    if thousands:
        s = pc.replace_substring(pc.replace_substring(s, ".", ""), " ", "")
    s = pc.replace_substring(s, ",", ".")
    clean = pc.if_else(pc.match_substring_regex(s, _NUMBER), s, pa.scalar(None, pa.string()))
    return np.asarray(pc.cast(clean, pa.float64()).to_numpy(zero_copy_only=False), dtype=np.float64)


def _cell_id_parts(ids: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Cell width, northing and easting (float64, NaN where unreadable) of Arrow cell-id strings."""
    import pyarrow.compute as pc

    parts = pc.extract_regex(pc.utf8_trim_whitespace(ids), _CELL_ID_NAMED)
    return tuple(_to_float(pc.struct_field(parts, name)) for name in ("res", "n", "e"))  # type: ignore[return-value]


def _is_secret(text: Any) -> np.ndarray:
    import pyarrow as pa
    import pyarrow.compute as pc

    found = pc.is_in(pc.utf8_trim_whitespace(text), value_set=pa.array(sorted(SUPPRESSED)))
    return np.asarray(found.to_numpy(zero_copy_only=False), dtype=bool)


def _low_reliability(text: Any) -> np.ndarray:
    import pyarrow.compute as pc

    found = pc.match_substring_regex(pc.utf8_upper(text), "KLAMMER|\\(")
    return np.asarray(pc.fill_null(found, False).to_numpy(zero_copy_only=False), dtype=bool)


def cell_key(x: np.ndarray, y: np.ndarray, resolution_m: int) -> np.ndarray:
    """An ``int64`` key of a cell from its centre (EPSG:3035): northing index × 10⁸ + easting index.

    >>> int(cell_key(np.array([4106550]), np.array([3096550]), 100)[0])
    3096541065
    """
    col = np.floor(np.asarray(x, dtype=np.float64) / resolution_m).astype(np.int64)
    row = np.floor(np.asarray(y, dtype=np.float64) / resolution_m).astype(np.int64)
    return row * 100_000 + col


def cell_ids(x: np.ndarray, y: np.ndarray, resolution_m: int) -> pd.Series:
    """INSPIRE cell ids (``CRS3035RES100mN…E…``) of cell centres in EPSG:3035.

    >>> cell_ids(np.array([4106550]), np.array([3096550]), 100).tolist()
    ['CRS3035RES100mN3096500E4106500']
    """
    e = (np.floor(np.asarray(x, dtype=np.float64) / resolution_m) * resolution_m).astype(np.int64)
    n = (np.floor(np.asarray(y, dtype=np.float64) / resolution_m) * resolution_m).astype(np.int64)
    prefix = f"CRS3035RES{resolution_m}mN"
    return (prefix + pd.Series(n).astype(str) + "E" + pd.Series(e).astype(str)).astype("string")
