"""Text of users' files: decoding, separator sniffing, header normalisation, numbers and yes/no values."""

from __future__ import annotations

import codecs
import re

import numpy as np
import pandas as pd

from geo.errors import DataError

_TRUE = {"ja", "j", "true", "wahr", "1", "x", "yes", "y", "vorhanden"}
_FALSE = {"nein", "n", "false", "falsch", "0", "no", "nicht vorhanden"}
_UNKNOWN = {"", "leer", "unbekannt", "k.a.", "k. a.", "?", "-", "na", "n/a", "nan", "null", "none"}


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


# UTF-8 read as Windows-1252 ("KÃ¶ln"): Ã or Â followed by a continuation byte's cp1252 character
_MOJIBAKE = re.compile(
    "[\u00c2\u00c3][\u0080-\u00bf\u0152\u0153\u0160\u0161\u0178\u017d\u017e\u0192"
    "\u02c6\u02dc\u2013\u2014\u2018-\u201a\u201c-\u201e\u2020-\u2022\u2026\u2030"
    "\u2039\u203a\u2122]"
)
# DOS (cp850) or Mac umlauts read as Windows-1252 ("K\u201dln", "Stra\u00a7e", "Gr\u0160ben"). Spacing accents
# (´ ` ˆ ˜ ¨ ¯ ¸) between letters are not among them: they are typed on purpose ("Käpt´n", "Ren´e").
_FOREIGN = re.compile(
    "[^\\W\\d_][\u201e\u201d\u201c\u2122\u2022\u2020\u2021\u2030\u00a7\u00a4"
    "\u00a6\u00ac\u00a1\u00bf][^\\W\\d_]"
    "|[a-z\u00df-\u00ff][\u0152\u0160\u017d\u0178]"
)
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufffd]")
_UTF8_MULTIBYTE = re.compile(rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}")


def _line_of(text: str | bytes, pos: int) -> int:
    sep: str | bytes = "\n" if isinstance(text, str) else b"\n"
    return text.count(sep, 0, pos) + 1  # type: ignore[arg-type]


def decode_strict(raw: bytes, shown: str) -> tuple[str, str]:
    """Decode a user's text file, deciding the encoding strictly.

    UTF-8 (with or without BOM) and UTF-16 with BOM are taken as they are;
    otherwise Windows-1252 (a superset of Latin-1's printable characters)
    only when every byte is defined in it and the result is plausible text.
    Mixed files (UTF-8 next to Windows-1252), doubly encoded UTF-8
    (``KÃ¶ln``), DOS/Mac umlauts read as Windows-1252 (``K”ln``) and
    control characters are refused.

    Returns
    -------
    text, encoding
        The text and the name of the encoding used (``UTF-8``, ``UTF-8 mit BOM``,
        ``UTF-16``, ``Windows-1252``).

    Raises
    ------
    DataError
        Naming the file, the line and what to do.

    >>> decode_strict("Köln".encode("cp1252"), "a.csv")
    ('Köln', 'Windows-1252')
    >>> decode_strict("\ufeffKöln".encode("utf-8"), "a.csv")
    ('Köln', 'UTF-8 mit BOM')
    >>> decode_strict("Köln".encode("cp850"), "a.csv")
    Traceback (most recent call last):
    ...
    geo.errors.DataError: Datei a.csv, Zeile 1: Die Zeichenkodierung ist nicht erkennbar (»K”ln« sieht ...
    """
    fix = "Bitte die Datei als »CSV UTF-8« speichern (Excel: Speichern unter → CSV UTF-8)."
    encoding = ""
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) and not raw.startswith(codecs.BOM_UTF32_LE):
        try:
            text, encoding = raw.decode("utf-16"), "UTF-16"
        except UnicodeDecodeError as exc:
            raise DataError(
                f"Datei {shown}: Die Datei beginnt als UTF-16, enthält aber ungültige Zeichen (Byte {exc.start}). {fix}"
            ) from exc
    else:
        try:
            text = raw.decode("utf-8-sig")
            encoding = "UTF-8 mit BOM" if raw.startswith(codecs.BOM_UTF8) else "UTF-8"
        except UnicodeDecodeError as exc:
            line = _line_of(raw, exc.start)
            if _UTF8_MULTIBYTE.search(raw):
                raise DataError(
                    f"Datei {shown}, Zeile {line}: Die Datei mischt Zeichenkodierungen (teils UTF-8, "
                    f"teils eine andere, z. B. Windows-1252). {fix}"
                ) from exc
            try:
                text, encoding = raw.decode("cp1252"), "Windows-1252"
            except UnicodeDecodeError as exc2:
                line = _line_of(raw, exc2.start)
                raise DataError(
                    f"Datei {shown}, Zeile {line}: Die Zeichenkodierung ist nicht erkennbar (weder "
                    f"UTF-8 noch Windows-1252/Latin-1: Byte 0x{raw[exc2.start]:02X}). {fix}"
                ) from exc2
    bad = _CONTROL.search(text)
    if bad:
        what = "NUL-Zeichen (Binärdaten)" if bad.group() == "\x00" else f"Steuerzeichen U+{ord(bad.group()):04X}"
        raise DataError(
            f"Datei {shown}, Zeile {_line_of(text, bad.start())}: Die Datei enthält {what} und ist "
            f"keine Textdatei in {encoding}. Bitte als CSV (UTF-8) oder XLSX speichern."
        )
    for pattern, what in ((_MOJIBAKE, "doppelt kodiertes UTF-8"), (_FOREIGN, "falsch gelesenen Umlauten")):
        hit = pattern.search(text)
        if hit:
            lo = max(0, hit.start() - 3)
            word = text[lo : hit.end() + 3].split("\n")[-1].strip()
            raise DataError(
                f"Datei {shown}, Zeile {_line_of(text, hit.start())}: Die Zeichenkodierung ist nicht "
                f"erkennbar (»{word}« sieht nach {what} aus). {fix}"
            )
    return text, encoding


#: Characters that never belong in a name: C0 and C1 controls (tab and line breaks too), DEL, U+FFFD.
_CONTROL_IN_TEXT = "[\x00-\x1f\x7f-\x9f\ufffd]"


def has_control(series: pd.Series) -> np.ndarray:
    r"""Which cells hold a control character (tab and line breaks included) or U+FFFD; missing cells do not.

    A name with an invisible control character or a replacement character
    from a failed decoding is refused, never stored.

    >>> has_control(pd.Series(["Kita am Dom", "Kita\x07Dom", None, "Zeile\nUmbruch", "Käpt´n"])).tolist()
    [False, True, False, True, False]
    """
    text = series.astype("string")
    return text.str.contains(_CONTROL_IN_TEXT, regex=True).fillna(False).to_numpy(dtype=bool)


def sniff_separator(header: str) -> str:
    """The separator of a CSV line: ``;``, ``,``, tab or ``|`` (``;`` when in doubt).

    >>> sniff_separator('Name;"Straße, Nr.";PLZ'), sniff_separator("a,b")
    (';', ',')
    """
    outside = re.sub(r'"[^"]*"', "", header)
    counts = {sep: outside.count(sep) for sep in (";", ",", "\t", "|")}
    best = max(counts, key=lambda s: (counts[s], s == ";"))
    return best if counts[best] else ";"


def norm_header(name: object) -> str:
    """Normalise a header: lower case, umlauts spelled out, separators as ``_``.

    >>> norm_header(" Träger-Name "), norm_header("addr:postcode"), norm_header("\\ufeffPLZ")
    ('traeger_name', 'addr_postcode', 'plz')
    """
    s = str(name).replace("\ufeff", "").strip().lower()
    for a, b in (("ä", "ae"), ("ö", "oe"), ("ü", "ue"), ("ß", "ss")):
        s = s.replace(a, b)
    return re.sub(r"[\s\-./:]+", "_", s).strip("_")


def text_values(series: pd.Series) -> pd.Series:
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
    s = text_values(series).str.replace(r"[\s\u00a0\u202f\u2009]", "", regex=True)
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
    low = text_values(series).str.lower().fillna("")
    true = low.isin(_TRUE).to_numpy()
    false = low.isin(_FALSE).to_numpy()
    unknown = low.isin(_UNKNOWN).to_numpy()
    values = pd.array([pd.NA] * len(series), dtype="boolean")
    values[true] = True
    values[false] = False
    return pd.Series(values, index=series.index), pd.Series(~(true | false | unknown), index=series.index)
