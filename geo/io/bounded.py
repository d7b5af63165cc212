"""Bounded reading of large inputs: bytes and line lengths counted while streaming; OSM extracts checked first.

The facility import reads uploads of a few megabytes; GTFS feeds, Zensus grids
and OSM extracts are far larger and are streamed instead of read whole. Each
stream is wrapped in a :class:`LimitedReader`, which counts the bytes that come
out of it (a ZIP member or a compressed file whose headers lie is stopped
mid-stream) and the length of every line (one field of a gigabyte would
otherwise be built in memory by the CSV parser), and turns the errors of a
damaged ZIP member into a German :class:`~geo.errors.DataError` naming the
file. :func:`check_osm_extract` looks at an OSM extract before pyosmium or
osmnx reads it: the declared block sizes of a ``.osm.pbf``, the size of an
``.osm``, what an ``.osm.bz2``/``.osm.gz`` unpacks to (counted in one streaming
pass, refused early when it grows like a bomb).
"""

from __future__ import annotations

import bz2
import gzip
import io
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

import numpy as np

from geo.errors import DataError
from geo.io.limits import MAX_RATIO, RATIO_MIN_BYTES, ZIP_ERRORS, ReadLimits

#: Longest line of a CSV-like member (GTFS, Zensus) in bytes; real lines are under 1 KB.
MAX_LINE_BYTES = 1024 * 1024
#: Largest block of an ``.osm.pbf``, unpacked (the limit of the PBF format and of libosmium).
PBF_MAX_BLOB_BYTES = 32 * 1024 * 1024
#: Largest ``BlobHeader`` of an ``.osm.pbf`` (the format allows 64 KiB).
PBF_MAX_HEADER_BYTES = 64 * 1024
_FIX = "Bitte die Datei neu herunterladen oder unverändert verwenden."


def _mb(n: float) -> str:
    return f"{n / 1e6:,.1f} MB".replace(",", " ").replace(".", ",")


class LimitedReader(io.RawIOBase):
    """A binary stream that refuses more than ``limit`` bytes and lines longer than ``max_line``.

    Parameters
    ----------
    raw
        The underlying binary stream (a file, a ZIP member, a decompressor).
    shown
        File name for the messages (``archiv.zip!stop_times.txt`` for a member).
    limit
        Most bytes that may come out of the stream.
    setting
        Name of the setting behind ``limit`` (for the message).
    max_line
        Longest line in bytes (``None``: no check).

    Notes
    -----
    The line check runs on the bytes as they pass (numpy, no Python loop
    over lines), so a line of a gigabyte is refused after ``max_line`` bytes.
    Errors of a damaged ZIP member (bad CRC, broken deflate stream) become a
    :class:`~geo.errors.DataError` naming the file.
    """

    def __init__(
        self, raw: IO[bytes], *, shown: str, limit: int, setting: str, max_line: int | None = MAX_LINE_BYTES
    ) -> None:
        super().__init__()
        self._raw = raw
        self.shown = shown
        self.limit = limit
        self.setting = setting
        self.max_line = max_line
        self.count = 0
        self.lines = 0
        self._run = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        try:
            n = self._raw.readinto(buffer)  # type: ignore[attr-defined]
        except ZIP_ERRORS as exc:
            raise DataError(
                f"Datei {self.shown}: ist beschädigt und kann nicht entpackt werden ({type(exc).__name__}). {_FIX}"
            ) from exc
        if not n:
            return 0
        self.count += n
        if self.count > self.limit:
            raise DataError(
                f"Datei {self.shown}: ist entpackt größer als {_mb(self.limit)} (Einstellung {self.setting}). "
                "Bitte nur den benötigten Ausschnitt verwenden, oder die Datei ist beschädigt (ZIP-Bombe)."
            )
        if self.max_line is not None:
            self._check_lines(np.frombuffer(buffer, dtype=np.uint8, count=n))
        return int(n)

    def _check_lines(self, data: np.ndarray) -> None:
        newlines = np.flatnonzero(data == 10)
        if newlines.size == 0:
            self._run += data.size
            longest, at = self._run, self.lines + 1
        else:
            lengths = np.diff(newlines, prepend=-1) - 1
            lengths[0] += self._run
            pos = int(np.argmax(lengths))
            longest, at = int(lengths[pos]), self.lines + pos + 1
            self.lines += newlines.size
            self._run = data.size - int(newlines[-1]) - 1
            if self._run > longest:
                longest, at = self._run, self.lines + 1
        assert self.max_line is not None
        if longest > self.max_line:
            raise DataError(
                f"Datei {self.shown}, Zeile {at}: Die Zeile ist länger als {_mb(self.max_line)} – ein Feld "
                "dieser Größe kommt in echten Daten nicht vor (fehlendes Anführungs- oder Zeilenende?). "
                f"{_FIX}"
            )


@contextmanager
def open_limited(
    path: Path,
    member: str | None,
    *,
    shown: str,
    limit: int,
    setting: str,
    max_line: int | None = MAX_LINE_BYTES,
) -> Iterator[io.BufferedReader]:
    """Open a file, or a member of the ZIP at ``path``, as a bounded buffered stream.

    Raises
    ------
    DataError
        If the ZIP cannot be opened or the member is damaged (also later,
        while reading), or a limit is exceeded while reading.
    """
    archive: zipfile.ZipFile | None = None
    try:
        if member is None:
            raw: IO[bytes] = open(path, "rb")  # noqa: SIM115 - closed below
        else:
            archive = zipfile.ZipFile(path)
            raw = archive.open(member)
    except ZIP_ERRORS as exc:
        if archive is not None:
            archive.close()
        raise DataError(
            f"Datei {shown}: kann nicht geöffnet werden oder ist beschädigt ({type(exc).__name__}). {_FIX}"
        ) from exc
    try:
        reader = LimitedReader(raw, shown=shown, limit=limit, setting=setting, max_line=max_line)
        yield io.BufferedReader(reader, buffer_size=1 << 20)
    finally:
        raw.close()
        if archive is not None:
            archive.close()


# --- OSM extracts ----------------------------------------------------------------------------

_CHECKED: dict[tuple[str, int, int, int], None] = {}


def check_osm_extract(path: Path, shown: str, limits: ReadLimits) -> None:
    """Refuse an OSM extract that unpacks to more than ``limits.max_osm_bytes`` or like a bomb.

    ``.osm.pbf``: the block headers are read (seeking past the data), the
    declared unpacked sizes summed and each block's ratio checked.
    ``.osm``: the file size. ``.osm.bz2``/``.osm.gz``: unpacked once,
    streaming, counting bytes; refused as soon as the data grows more than
    :data:`geo.io.limits.MAX_RATIO` times or past the limit. A file that
    passed is remembered (path, size, modification time), so the street
    network, the background and the facilities read it without a second pass.

    Raises
    ------
    DataError
        Naming the file, the size found and the setting.
    """
    path = Path(path)
    try:
        stat = path.stat()
    except OSError as exc:
        raise DataError(f"OSM-Datei {shown} kann nicht gelesen werden ({type(exc).__name__}).") from exc
    key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns, limits.max_osm_bytes)
    if key in _CHECKED:
        return
    with path.open("rb") as fh:
        magic = fh.read(4)
    name = path.name.lower()
    if name.endswith(".pbf"):
        _check_pbf(path, shown, limits.max_osm_bytes)
    elif name.endswith(".bz2") or magic.startswith(b"BZh"):
        _check_stream(path, shown, limits.max_osm_bytes, bz2.open)
    elif name.endswith(".gz") or magic.startswith(b"\x1f\x8b"):
        _check_stream(path, shown, limits.max_osm_bytes, gzip.open)
    elif stat.st_size > limits.max_osm_bytes:
        raise DataError(
            f"OSM-Datei {shown} ist {_mb(stat.st_size)} groß; erlaubt sind höchstens "
            f"{_mb(limits.max_osm_bytes)} (Einstellung max_osm_bytes). Bitte einen kleineren Auszug "
            "oder das kompaktere Format .osm.pbf verwenden."
        )
    _CHECKED[key] = None


def _too_big(shown: str, size: int, limit: int) -> DataError:
    return DataError(
        f"OSM-Datei {shown}: ist entpackt größer als {_mb(limit)} (mindestens {_mb(size)}; Einstellung "
        "max_osm_bytes). Bitte einen kleineren Auszug verwenden (z. B. den Kreis statt des Landes)."
    )


def _bomb(shown: str, packed: int, unpacked: int) -> DataError:
    return DataError(
        f"OSM-Datei {shown}: wird beim Entpacken mehr als {MAX_RATIO:.0f}-mal größer ({_mb(packed)} → "
        f"mindestens {_mb(unpacked)}); echte OSM-Daten werden etwa 10-mal größer. Die Datei ist beschädigt "
        f"oder eine Entpack-Bombe. {_FIX}"
    )


def _check_stream(path: Path, shown: str, limit: int, opener: Callable[..., Any]) -> None:
    total = 0
    try:
        with path.open("rb") as raw, opener(raw) as fh:
            while chunk := fh.read(1 << 20):
                total += len(chunk)
                if total > limit:
                    raise _too_big(shown, total, limit)
                packed = raw.tell()
                if total > RATIO_MIN_BYTES and total > MAX_RATIO * max(packed, 1):
                    raise _bomb(shown, packed, total)
    except (OSError, EOFError, ValueError) as exc:
        if isinstance(exc, DataError):
            raise
        raise DataError(f"OSM-Datei {shown}: ist beschädigt und kann nicht entpackt werden ({exc}). {_FIX}") from exc


def _varint(data: bytes, pos: int) -> tuple[int, int]:
    """A protobuf varint at ``pos``: ``(value, next position)``; raises ``ValueError`` when cut off."""
    value = shift = 0
    while True:
        if pos >= len(data) or shift > 63:
            raise ValueError("varint")
        byte = data[pos]
        value |= (byte & 0x7F) << shift
        pos += 1
        shift += 7
        if not byte & 0x80:
            return value, pos


def _fields(data: bytes) -> Iterator[tuple[int, int, int | bytes | None]]:
    """``(field, wire type, value)`` of a protobuf message; a length-delimited field cut off gives ``None``."""
    pos = 0
    while pos < len(data):
        key, pos = _varint(data, pos)
        field, wire = key >> 3, key & 7
        if wire == 0:
            value, pos = _varint(data, pos)
            yield field, wire, value
        elif wire == 2:
            length, pos = _varint(data, pos)
            yield field, wire, data[pos : pos + length] if pos + length <= len(data) else None
            pos += length
        elif wire in (1, 5):
            pos += 8 if wire == 1 else 4
            yield field, wire, None
        else:
            raise ValueError(f"wire type {wire}")


def _check_pbf(path: Path, shown: str, limit: int) -> None:
    """Sum the declared unpacked sizes of the blocks of an ``.osm.pbf`` without unpacking them."""
    size = path.stat().st_size
    total = 0
    block = 0

    def broken(why: str) -> DataError:
        return DataError(f"Datei {shown} ist keine lesbare OSM-Datei: Block {block + 1} ist beschädigt ({why}). {_FIX}")

    with path.open("rb") as fh:
        while True:
            head = fh.read(4)
            if not head:
                break
            if len(head) < 4:
                raise broken("Datei endet mitten im Block")
            n = int.from_bytes(head, "big")
            if n > PBF_MAX_HEADER_BYTES:
                raise broken(f"Blockkopf mit {n} Bytes")
            header = fh.read(n)
            try:
                fields = {f: v for f, _, v in _fields(header)}
            except ValueError as exc:
                raise broken("Blockkopf unlesbar") from exc
            datasize = fields.get(3)
            if len(header) < n or not isinstance(datasize, int) or not isinstance(fields.get(1), bytes):
                raise broken("Blockkopf unvollständig")
            if datasize > PBF_MAX_BLOB_BYTES or fh.tell() + datasize > size:
                raise broken(f"Blockgröße {datasize} Bytes")
            start = fh.read(min(datasize, 64))
            raw_size = _blob_raw_size(start, datasize)
            if raw_size is None or raw_size > PBF_MAX_BLOB_BYTES:
                raise broken("entpackte Blockgröße fehlt oder ist zu groß")
            if raw_size > RATIO_MIN_BYTES and raw_size > MAX_RATIO * max(datasize, 1):
                raise _bomb(shown, datasize, raw_size)
            total += raw_size
            if total > limit:
                raise _too_big(shown, total, limit)
            fh.seek(datasize - len(start), io.SEEK_CUR)
            block += 1
    if block == 0:
        raise DataError(f"OSM-Datei {shown} ist leer. {_FIX}")


def _blob_raw_size(start: bytes, datasize: int) -> int | None:
    """The unpacked size a ``Blob`` declares (its first bytes): ``raw_size``, or the length of ``raw`` data."""
    pos = 0
    try:
        while pos < len(start):
            key, pos = _varint(start, pos)
            field, wire = key >> 3, key & 7
            if field == 2 and wire == 0:
                return _varint(start, pos)[0]
            if wire != 2:
                return None
            length, pos = _varint(start, pos)
            if field == 1:  # uncompressed data: its length is the size
                return int(length)
            pos += length
    except ValueError:
        return None
    return None if datasize > len(start) else 0
