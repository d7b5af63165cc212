"""Checks of an unpacked Shapefile that GDAL does not make: the record count and the text encoding of the DBF.

GDAL trusts the record count in the DBF header: a header that says 1 while
the file holds 2 records silently drops the second, one that says 3 reads
garbage or stops. And without a ``.cpg`` file and without a code page in the
header (LDID 0), GDAL reads the text as ISO-8859-1, so a UTF-8 DBF (what QGIS
and current ArcGIS write) comes out as ``KÃ¶ln``; so does a ``.cpg`` naming an
encoding nobody knows (``WTF-8``). :func:`check_dbf` compares the header with
the file sizes of the ``.dbf`` and the ``.shx``. A ``.cpg`` naming a known
encoding must decode the text; when the encoding is not declared (or the
``.cpg`` is unreadable), it is found in the bytes: valid UTF-8 with non-ASCII
characters is UTF-8 (other encodings practically never form valid UTF-8),
otherwise Windows-1252 if the text is plausible, else the file is refused.
"""

from __future__ import annotations

import codecs
from pathlib import Path

from geo.errors import DataError
from geo.io.text import decode_strict

#: Fixed part of a DBF header (before the field descriptors).
_DBF_HEAD = 32
_FIX = "Bitte das Shapefile mit einem GIS neu exportieren (z. B. QGIS: Exportieren → Objekte speichern als)."


def cpg_encoding(text: str) -> str | None:
    """The Python codec of a ``.cpg`` text as GDAL reads it, ``None`` if it names no known encoding.

    >>> [cpg_encoding(t) for t in ("UTF-8", "ANSI 1252", "65001", "88591", "1252", "WTF-8", "N\x91aN", "base64")]
    ['utf-8', 'cp1252', 'utf-8', 'iso8859-1', 'cp1252', None, None, None]
    """
    name = text.strip().upper().removeprefix("ANSI ").strip()
    if name.startswith("8859"):
        name = "ISO-8859-" + name[4:].lstrip("_-")
    elif name.isdigit():
        name = "UTF-8" if name == "65001" else f"CP{name}"
    if not name or not name.isascii():
        return None
    try:
        b"x".decode(name)  # a text encoding (not rot13 or base64, which Python also knows)
        return codecs.lookup(name).name
    except LookupError:
        return None


def check_dbf(dbf: Path, shx: Path | None, shown: str, *, cpg: str | None) -> str | None:
    """Check the DBF of a Shapefile against its sizes and find the encoding GDAL should use.

    Parameters
    ----------
    dbf, shx
        The unpacked ``.dbf`` and ``.shx``.
    shown
        The user's file name, for messages.
    cpg
        The text of the ``.cpg`` (``None`` without one).

    Returns
    -------
    str or None
        ``"UTF-8"`` or ``"CP1252"`` when GDAL must be told (it overrides an
        unreadable ``.cpg``); ``None`` when a known ``.cpg`` or the header's
        code page decides, or the text is ASCII.

    Raises
    ------
    DataError
        If the header's record count does not match the file (or the
        ``.shx``), the text is not in the encoding the ``.cpg`` names, or the
        undeclared encoding cannot be told.
    """
    data = dbf.read_bytes()
    if len(data) < _DBF_HEAD:
        raise DataError(f"Datei {shown}: Die .dbf-Datei ist zu kurz ({len(data)} Bytes) und beschädigt. {_FIX}")
    records = int.from_bytes(data[4:8], "little")
    header = int.from_bytes(data[8:10], "little")
    width = int.from_bytes(data[10:12], "little")
    expected = header + records * width
    if header < _DBF_HEAD or width < 1 or len(data) not in (expected, expected + 1):
        actual = (len(data) - header) // width if width and len(data) >= header else 0
        raise DataError(
            f"Datei {shown}: Die .dbf-Datei nennt im Kopf {records} Datensätze, enthält aber {actual} "
            f"({len(data)} statt {expected} Bytes); GDAL würde Zeilen stillschweigend auslassen oder erfinden. {_FIX}"
        )
    if shx is not None and shx.is_file():
        shapes = max(shx.stat().st_size - 100, 0) // 8
        if shapes != records:
            raise DataError(
                f"Datei {shown}: Die .dbf-Datei hat {records} Datensätze, die .shx-Datei {shapes} Geometrien; "
                f"Sachdaten und Geometrien passen nicht zusammen. {_FIX}"
            )
    body = data[header:expected]
    declared = cpg_encoding(cpg) if cpg is not None else None
    if cpg is not None and declared is not None:
        try:
            body.decode(declared)
        except UnicodeDecodeError:
            raise DataError(
                f"Datei {shown}: Die .cpg-Datei gibt die Zeichenkodierung »{cpg.strip()[:40]}« an, die Texte der "
                ".dbf-Datei sind aber nicht so kodiert. Bitte die .cpg-Datei korrigieren (meist »UTF-8«). "
                f"{_FIX}"
            ) from None
        return None
    if (cpg is None and data[29] != 0) or body.isascii():
        return None
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        pass
    else:
        return "UTF-8"
    try:
        decode_strict(body.replace(b"\x00", b" "), shown)
    except DataError as exc:
        raise DataError(
            f"Datei {shown}: Die Zeichenkodierung der .dbf-Datei ist nicht angegeben (keine lesbare .cpg-Datei) "
            "und nicht erkennbar (weder UTF-8 noch Windows-1252). Bitte eine .cpg-Datei mit der Kodierung "
            f"(z. B. »UTF-8«) mitzippen. {_FIX}"
        ) from exc
    return "CP1252"
