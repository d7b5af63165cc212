"""Checks of an unpacked Shapefile that GDAL does not make: the record count and the text encoding of the DBF.

GDAL trusts the record count in the DBF header: a header that says 1 while
the file holds 2 records silently drops the second, one that says 3 reads
garbage or stops. And without a ``.cpg`` file and without a code page in the
header (LDID 0), GDAL reads the text as ISO-8859-1, so a UTF-8 DBF (what QGIS
and current ArcGIS write) comes out as ``KÃ¶ln``. :func:`check_dbf` compares
the header with the file sizes of the ``.dbf`` and the ``.shx`` and, when the
encoding is not declared, finds it in the bytes: valid UTF-8 with non-ASCII
characters is UTF-8 (other encodings practically never form valid UTF-8),
otherwise Windows-1252 if the text is plausible, else the file is refused.
"""

from __future__ import annotations

from pathlib import Path

from geo.errors import DataError
from geo.io.text import decode_strict

#: Fixed part of a DBF header (before the field descriptors).
_DBF_HEAD = 32
_FIX = "Bitte das Shapefile mit einem GIS neu exportieren (z. B. QGIS: Exportieren → Objekte speichern als)."


def check_dbf(dbf: Path, shx: Path | None, shown: str, *, has_cpg: bool) -> str | None:
    """Check the DBF of a Shapefile against its sizes and find the encoding GDAL should use.

    Parameters
    ----------
    dbf, shx
        The unpacked ``.dbf`` and ``.shx``.
    shown
        The user's file name, for messages.
    has_cpg
        Whether a ``.cpg`` names the encoding (then GDAL uses it).

    Returns
    -------
    str or None
        ``"UTF-8"`` or ``"CP1252"`` when GDAL must be told; ``None`` when
        the ``.cpg`` or the header's code page decides, or the text is ASCII.

    Raises
    ------
    DataError
        If the header's record count does not match the file (or the
        ``.shx``), or the undeclared encoding cannot be told.
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
    if has_cpg or data[29] != 0:
        return None
    body = data[header:expected]
    if body.isascii():
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
            f"Datei {shown}: Die Zeichenkodierung der .dbf-Datei ist nicht angegeben (keine .cpg-Datei) und nicht "
            "erkennbar (weder UTF-8 noch Windows-1252). Bitte eine .cpg-Datei mit der Kodierung (z. B. »UTF-8«) "
            f"mitzippen. {_FIX}"
        ) from exc
    return "CP1252"
