"""Text of users' files: decoding, separator sniffing, header normalisation, numbers and yes/no values."""
from __future__ import annotations

import re

import numpy as np
import pandas as pd

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
