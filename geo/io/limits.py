"""Limits of users' files, checked *before* reading: unpacked sizes, rows, cells, nesting depth.

A 12 MB Shapefile-ZIP can unpack to gigabytes, a 7 MB workbook can declare a
sheet of a billion cells, a GeoJSON file nested a thousand levels deep breaks
any recursive parser. Each check here looks only at what the file *declares*
(the ZIP central directory, the sheet's ``<dimension>``, brackets counted by
an iterative scanner) and refuses with a German message naming the file and
the limit (:class:`ReadLimits`, from :class:`geo.settings.Settings`).
Unpacking itself is bounded as well (:func:`extract_members` counts bytes as
they come, so a ZIP whose headers lie cannot slip through).
"""

from __future__ import annotations

import re
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from geo.errors import DataError
from geo.settings import Settings

#: Largest sidecar member of a Shapefile-ZIP (``.prj``, ``.cpg``, ``.qpj``) in bytes.
SIDECAR_MAX_BYTES = 1024 * 1024
#: Largest value of an integer column (signed 32 bit; larger counts are typing errors).
MAX_INT = 2_147_483_647
#: Most members a ZIP-based upload may list.
MAX_ZIP_MEMBERS = 10_000
#: Largest unpack ratio of a member of a data ZIP (GTFS, Zensus) or a compressed OSM file; real
#: CSV and OSM XML pack 5–20 times, a bomb of repeated bytes 1,000 times and more.
MAX_RATIO = 100.0
#: Members smaller than this (unpacked) are never judged by their ratio.
RATIO_MIN_BYTES = 1024 * 1024
_SIDECARS = (".prj", ".cpg", ".qpj")
#: Exceptions :mod:`zipfile` raises on damaged archives (``NotImplementedError`` for
#: an unknown "version needed" or compression method).
ZIP_ERRORS = (
    zipfile.BadZipFile,
    zlib.error,
    OSError,
    EOFError,
    ValueError,
    NotImplementedError,
    RuntimeError,
    KeyError,
)


@dataclass(frozen=True)
class ReadLimits:
    """Limits of one import; see :class:`geo.settings.Settings` for the meaning of each."""

    max_bytes: int = Settings.max_upload_bytes
    max_uncompressed_bytes: int = Settings.max_uncompressed_bytes
    max_member_bytes: int = Settings.max_member_bytes
    max_rows: int = Settings.max_rows
    max_cells: int = Settings.max_cells
    max_json_depth: int = Settings.max_json_depth
    max_feed_bytes: int = Settings.max_feed_bytes
    max_osm_bytes: int = Settings.max_osm_bytes

    @classmethod
    def from_settings(cls, settings: Settings) -> ReadLimits:
        """The limits configured in ``settings``."""
        return cls(
            max_bytes=settings.max_upload_bytes,
            max_uncompressed_bytes=settings.max_uncompressed_bytes,
            max_member_bytes=settings.max_member_bytes,
            max_rows=settings.max_rows,
            max_cells=settings.max_cells,
            max_json_depth=settings.max_json_depth,
            max_feed_bytes=settings.max_feed_bytes,
            max_osm_bytes=settings.max_osm_bytes,
        )


def _mb(n: float) -> str:
    return f"{n / 1e6:,.1f} MB".replace(",", " ").replace(".", ",")


def check_file(path: Path, shown: str, max_bytes: int, setting: str) -> tuple[int, bytes]:
    """Size and first bytes of a file, refusing an unreadable file or one over ``max_bytes`` on disk.

    Returns
    -------
    size, head
        The size in bytes and the first 8 bytes (to tell a ZIP or a bzip2 stream from text).

    Raises
    ------
    DataError
        Naming the file (never a server path) and the setting.
    """
    try:
        size = path.stat().st_size
        with path.open("rb") as fh:
            head = fh.read(8)
    except OSError as exc:
        raise DataError(f"Datei {shown} kann nicht gelesen werden ({type(exc).__name__}).") from exc
    if size > max_bytes:
        raise DataError(
            f"Datei {shown} ist {_mb(size)} groß; erlaubt sind höchstens {_mb(max_bytes)} (Einstellung {setting}). "
            "Bitte die Datei aufteilen oder nur den benötigten Ausschnitt verwenden."
        )
    return size, head


def member_limit(name: str, limits: ReadLimits) -> int:
    """Largest unpacked size of ZIP member ``name``."""
    return SIDECAR_MAX_BYTES if name.lower().endswith(_SIDECARS) else limits.max_member_bytes


def check_zip(
    path: Path,
    shown: str,
    limits: ReadLimits,
    *,
    member_bytes: int | None = None,
    total_bytes: int | None = None,
    max_ratio: float | None = None,
) -> list[zipfile.ZipInfo]:
    """Check a ZIP's central directory before anything is unpacked.

    Refuses encrypted members, unknown compression methods or "version
    needed" values, too many members, members larger than
    :func:`member_limit` (or ``member_bytes``), a total unpacked size above
    ``limits.max_uncompressed_bytes`` (or ``total_bytes``) and, with
    ``max_ratio``, a member over 1 MB that unpacks to more than
    ``max_ratio`` times its packed size (a bomb: real CSV packs 5–20×).

    Returns
    -------
    list of zipfile.ZipInfo
        The members (directory order).

    Raises
    ------
    DataError
        Naming the file, the member and the limit.
    """
    fix = "Bitte die Datei neu speichern oder neu herunterladen."
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
    except ZIP_ERRORS as exc:
        raise DataError(f"Datei {shown}: Die ZIP-Datei ist beschädigt ({type(exc).__name__}). {fix}") from exc
    if len(infos) > MAX_ZIP_MEMBERS:
        raise DataError(
            f"Datei {shown}: Die ZIP-Datei enthält {len(infos)} Teildateien; erlaubt sind höchstens "
            f"{MAX_ZIP_MEMBERS}. Bitte nur die benötigten Dateien packen."
        )
    for info in infos:
        where = f"Datei {shown}, Teildatei {info.filename}"
        if info.flag_bits & 0x1:
            raise DataError(f"{where}: ist verschlüsselt. Bitte ohne Passwort packen.")
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise DataError(
                f"{where}: unbekanntes Kompressionsverfahren ({info.compress_type}). "
                f"Bitte mit dem Standardverfahren (Deflate) packen. {fix}"
            )
        if info.extract_version > zipfile.MAX_EXTRACT_VERSION:
            raise DataError(
                f"{where}: Der ZIP-Eintrag ist beschädigt (benötigte Version {info.extract_version / 10:.1f}). {fix}"
            )
        limit = member_limit(info.filename, limits) if member_bytes is None else member_bytes
        if info.file_size > limit:
            raise DataError(
                f"{where}: ist entpackt {_mb(info.file_size)} groß; erlaubt sind höchstens "
                f"{_mb(limit)}. Bitte nur die benötigten Daten exportieren."
            )
        if max_ratio and info.file_size > RATIO_MIN_BYTES and info.file_size > max_ratio * max(info.compress_size, 1):
            raise DataError(
                f"{where}: wird beim Entpacken {info.file_size / max(info.compress_size, 1):,.0f}-mal größer "
                f"({_mb(info.compress_size)} → {_mb(info.file_size)}); echte Daten werden höchstens etwa "
                f"{max_ratio:.0f}-mal größer. Die Datei ist beschädigt oder eine ZIP-Bombe. {fix}"
            )
    total = sum(i.file_size for i in infos)
    allowed = limits.max_uncompressed_bytes if total_bytes is None else total_bytes
    if total > allowed:
        setting = "max_uncompressed_bytes" if total_bytes is None else "max_feed_bytes"
        raise DataError(
            f"Datei {shown}: Der Inhalt ist entpackt {_mb(total)} groß; erlaubt sind höchstens "
            f"{_mb(allowed)} (Einstellung {setting}). "
            "Bitte die Daten aufteilen oder nur die benötigten Spalten und Zeilen exportieren."
        )
    return infos


def extract_members(path: Path, names: list[str], dest: Path, shown: str, limits: ReadLimits) -> list[Path]:
    """Unpack ``names`` from the ZIP at ``path`` into ``dest``, counting bytes as they come.

    A member that yields more bytes than its directory entry declares, than
    :func:`member_limit` or than the total limit is refused mid-stream, so
    memory and disk use stay bounded whatever the headers say.

    Returns
    -------
    list of Path
        The unpacked files (flat, under their base names).
    """
    out: list[Path] = []
    total = 0
    try:
        with zipfile.ZipFile(path) as zf:
            for name in names:
                limit = member_limit(name, limits)
                target = dest / Path(name).name
                written = 0
                with zf.open(name) as src, target.open("wb") as dst:
                    while chunk := src.read(1 << 20):
                        written += len(chunk)
                        total += len(chunk)
                        if written > limit or total > limits.max_uncompressed_bytes:
                            raise DataError(
                                f"Datei {shown}, Teildatei {name}: entpackt größer als erlaubt "
                                f"({_mb(min(limit, limits.max_uncompressed_bytes))}). "
                                "Bitte nur die benötigten Daten exportieren."
                            )
                        dst.write(chunk)
                out.append(target)
    except ZIP_ERRORS as exc:
        raise DataError(
            f"Datei {shown}: Die ZIP-Datei ist beschädigt ({type(exc).__name__}). "
            "Bitte die Datei neu speichern oder neu herunterladen."
        ) from exc
    return out


def check_rows(rows: int, columns: int, shown: str, limits: ReadLimits, *, what: str = "Zeilen") -> None:
    """Refuse more than ``limits.max_rows`` rows or ``limits.max_cells`` cells.

    >>> check_rows(10, 5, "a.csv", ReadLimits(max_rows=100, max_cells=1000))
    >>> check_rows(300, 5, "a.csv", ReadLimits(max_rows=100, max_cells=1000))
    Traceback (most recent call last):
    ...
    geo.errors.DataError: Datei a.csv: 300 Zeilen; erlaubt sind höchstens 100 (Einstellung max_rows). ...
    """
    if rows > limits.max_rows:
        raise DataError(
            f"Datei {shown}: {rows} {what}; erlaubt sind höchstens {limits.max_rows} "
            "(Einstellung max_rows). Bitte die Datei aufteilen."
        )
    if rows * max(columns, 1) > limits.max_cells:
        raise DataError(
            f"Datei {shown}: {rows} {what} × {columns} Spalten = {rows * columns} Zellen; erlaubt "
            f"sind höchstens {limits.max_cells} (Einstellung max_cells). Bitte nur die benötigten "
            "Spalten exportieren oder die Datei aufteilen."
        )


_JSON_STRING = re.compile(r'"(?:[^"\\\n]|\\.)*"')
_NOT_BRACKET = re.compile(r"[^\[\]{}\n]+")


def json_depth(text: str) -> tuple[int, int]:
    """Deepest nesting of ``[``/``{`` in JSON text, without recursion.

    Strings are cut out first (brackets inside them do not count), then the
    depth is a cumulative sum over the remaining brackets (numpy, linear time).

    Returns
    -------
    depth, line
        The deepest level and the 1-based line where it is first reached.

    >>> json_depth('{"a": [1, {"b": "[[[ \\u0022 ]"}]}')
    (3, 1)
    >>> json_depth("[" * 5000)
    (5000, 1)
    """
    reduced = _NOT_BRACKET.sub("", _JSON_STRING.sub("", text)).encode("ascii")
    if not reduced:
        return 0, 1
    b = np.frombuffer(reduced, dtype=np.uint8)
    step = np.isin(b, (ord("["), ord("{"))).astype(np.int32) - np.isin(b, (ord("]"), ord("}"))).astype(np.int32)
    depth = np.cumsum(step, dtype=np.int64)
    deepest = int(np.argmax(depth))
    return int(depth[deepest]), int(np.count_nonzero(b[:deepest] == ord("\n"))) + 1


def check_json_depth(text: str, shown: str, limits: ReadLimits) -> None:
    """Refuse JSON nested deeper than ``limits.max_json_depth`` (before any parser sees it)."""
    depth, line = json_depth(text)
    if depth > limits.max_json_depth:
        raise DataError(
            f"Datei {shown}, Zeile {line}: Das JSON ist tiefer als {limits.max_json_depth} Ebenen "
            "verschachtelt (Einstellung max_json_depth); GeoJSON braucht höchstens etwa 6. "
            "Bitte die Datei mit einem GIS neu als GeoJSON exportieren."
        )
