"""Map a table onto a layer declaration, parse and validate every column and locate every row."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

import geopandas as gpd
import numpy as np
import pandas as pd

from geo.errors import (
    Problem,
)
from geo.importing.boundaries import prepare_boundary
from geo.importing.geocoding import Geocoder
from geo.importing.locate import (
    COORDINATE_HEADERS,
    RowChecker,
    fill_ags,
    locate_rows,
)
from geo.io.limits import MAX_INT
from geo.io.text import has_control, norm_header, parse_number, parse_tristate, text_values
from geo.layers.spec import Column, LayerSpec
from geo.settings import PROJECTED_CRS, Settings

# --- column mapping and parsing -------------------------------------------------------


#: What a cell of each type is not, for the messages.
_EXPECT = {
    "int": "keine ganze Zahl",
    "float": "keine Zahl",
    "tristate": "kein ja/nein",
    "bool": "kein ja/nein",
    "date": "kein Datum",
}


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
        by_norm.setdefault(norm_header(c), c)
    mapping: dict[str, object] = {}
    used: set[str] = set()
    for col in spec.columns:
        for cand in (col.name, *col.aliases, col.title):
            key = norm_header(cand)
            if key in by_norm and key not in used:
                mapping[col.name] = by_norm[key]
                used.add(key)
                break
    return mapping


# --- the layer frame ------------------------------------------------------------------


def prepare_layer_frame(
    df: pd.DataFrame,
    spec: LayerSpec,
    *,
    file: str,
    settings: Settings,
    source: str = "import",
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
        Optional online geocoder (see :func:`geo.importing.geocoding.nominatim_geocoder`);
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
        return prepare_boundary(df, spec, file=file, settings=settings)
    offset = int(df.attrs.get("row_offset", 2))
    positions = df.index.to_numpy(dtype=np.int64) if pd.api.types.is_integer_dtype(df.index) else np.arange(len(df))
    df = df.reset_index(drop=True)
    rows = positions + offset
    chk = RowChecker(file=file, rows=rows)
    notes: list[str] = []
    n = len(df)

    mapping = map_columns([c for c in df.columns if c != "geometry"], spec)
    # file-level: required columns (an absent id is generated, see below)
    for required in spec.required_columns:
        if required not in mapping and required != spec.id_column:
            c = spec.column(required)
            names = ", ".join((c.name, *c.aliases))
            chk.file_level(
                "Pflichtspalte fehlt.", f"Spalte »{c.name}« ergänzen (erkannte Namen: {names}).", column=c.name
            )
    if n == 0:
        chk.file_level("Die Datei enthält keine Datenzeilen.", "Mindestens eine Zeile unter der Kopfzeile eintragen.")
    ignored = [
        str(c)
        for c in df.columns
        if c != "geometry" and c not in mapping.values() and norm_header(c) not in COORDINATE_HEADERS
    ]
    if ignored:
        notes.append(f"Nicht übernommene Spalten (nicht Teil der Ebene »{spec.title}«): {', '.join(ignored)}.")

    out: dict[str, object] = {}
    kinds = df.attrs.get("property_kinds") or {}
    for col in spec.columns:
        if col.name not in mapping:
            continue
        header = mapping[col.name]
        out[col.name] = _parse_column(df[header], col, chk, header, kinds.get(str(header)))

    geoms, precision, kind = locate_rows(df, spec, chk, settings, mapping, geocoder)

    # names
    if "name" in out:
        empty = pd.Series(out["name"]).isna().to_numpy()
        chk.row(empty, lambda p: "Der Name ist leer.", "Namen der Einrichtung eintragen.", mapping["name"])

    # ids: given, or generated from layer, name and location
    id_col = spec.id_column
    if id_col in out:
        ids = pd.Series(out[id_col])
        chk.row(
            ids.isna().to_numpy(),
            lambda p: "Die ID ist leer.",
            "Eindeutige ID eintragen oder die Spalte weglassen (dann wird sie erzeugt).",
            mapping[id_col],
        )
    elif n:
        name_values = pd.Series(out.get("name", pd.Series([""] * n))).fillna("").astype(str).to_numpy()
        keys = [f"{spec.id}|{nm}|{_geom_key(g)}" for nm, g in zip(name_values, geoms, strict=True)]
        ids = pd.Series([f"{spec.id}-{hashlib.sha1(k.encode()).hexdigest()[:10]}" for k in keys], dtype="str")
        out[id_col] = ids
        notes.append(
            f"Die Datei hat keine Spalte »{id_col}«: IDs wurden aus Name und Lage erzeugt "
            f"(z. B. {ids.iloc[0]}); ein erneuter Import derselben Zeilen ergibt dieselben IDs."
        )
    else:
        ids = pd.Series([], dtype="str")
    dup = ids.duplicated(keep="first").to_numpy() & ids.notna().to_numpy()
    first_row = {v: int(rows[p]) for p, v in reversed(list(enumerate(ids))) if isinstance(v, str)}
    chk.row(
        dup,
        lambda p: f"ID »{ids.iloc[p]}« kommt mehrfach vor (zuerst in Zeile {first_row[ids.iloc[p]]}).",
        "IDs eindeutig machen; doppelte Zeilen entfernen.",
        mapping.get(id_col, id_col),
    )

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
    fill_ags(gdf, settings)

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


#: A German thousands separator in a whole number ("1.000"): 1000, or 1 written with a decimal point?
_THOUSANDS = r"[+-]?\d{1,3}(\.\d{3})+"
_JSON_KIND = {"list": "eine Liste", "object": "ein Objekt", "bool": "ein Wahrheitswert (true/false)"}


def _parse_column(
    raw: pd.Series, col: Column, chk: RowChecker, header: object, kinds: np.ndarray | None = None
) -> pd.Series:
    """Parse one column by its declared type; bad cells become problems.

    ``kinds`` marks cells that a GeoJSON file gave as a JSON list, object or
    true/false (see :func:`geo.io.formats._property_kinds`): never a number
    or a name. A whole number written with thousands points (``1.000``) is
    ambiguous and refused; text with control characters is refused.
    """
    text = text_values(raw).reset_index(drop=True)
    present = text.notna().to_numpy()
    if kinds is not None and len(kinds) == len(text):
        allowed = ("bool",) if col.dtype in ("tristate", "bool") else ()
        wrong = np.isin(kinds, [k for k in _JSON_KIND if k not in allowed])
        chk.row(
            wrong,
            lambda p: f"»{text.iloc[p]}« ist {_JSON_KIND[str(kinds[p])]} – {_EXPECT.get(col.dtype, 'kein Text')}.",
            f"In »{header}« den Wert selbst eintragen (Zahl oder Text), keine Liste, kein Objekt, kein true/false.",
            header,
        )
        if col.dtype in _EXPECT:
            text = text.where(~wrong)
            present = present & ~wrong
    if col.dtype in ("int", "float"):
        ambiguous = present & text.str.fullmatch(_THOUSANDS).fillna(False).to_numpy(dtype=bool)
        if col.dtype == "int":
            chk.row(
                ambiguous,
                lambda p: (
                    f"»{text.iloc[p]}« ist mehrdeutig: mit Tausenderpunkt {text.iloc[p].replace('.', '')}, "
                    f"mit Dezimalpunkt {text.iloc[p].split('.')[0]}."
                ),
                f"In »{header}« ganze Zahlen ohne Tausenderpunkt schreiben (z. B. 1000).",
                header,
            )
            text = text.where(~ambiguous)
            present = present & ~ambiguous
        num = parse_number(text)
        bad = present & num.isna().to_numpy()
        chk.row(
            bad,
            lambda p: f"»{text.iloc[p]}« ist keine Zahl.",
            f"In »{header}« nur Zahlen eintragen (oder leer lassen).",
            header,
        )
        infinite = present & ~bad & ~np.isfinite(num.fillna(0).to_numpy())
        chk.row(
            infinite,
            lambda p: f"»{text.iloc[p]}« ist keine endliche Zahl.",
            f"In »{header}« eine Zahl eintragen (oder leer lassen).",
            header,
        )
        bad = bad | infinite
        num = num.where(~infinite)
        if col.dtype == "int":
            huge = present & ~bad & (np.abs(num.fillna(0).to_numpy()) > MAX_INT)
            chk.row(
                huge,
                lambda p: f"»{text.iloc[p]}« ist zu groß (höchstens {MAX_INT:,}).".replace(",", "."),
                f"In »{header}« eine realistische Anzahl eintragen.",
                header,
            )
            bad = bad | huge
            num = num.where(~huge)
            frac = present & num.notna().to_numpy() & (num.fillna(0) % 1 != 0).to_numpy()
            chk.row(frac, lambda p: f"»{text.iloc[p]}« ist keine ganze Zahl.", "Ganze Zahl eintragen.", header)
            neg = num.fillna(0).to_numpy() < 0
            chk.row(neg, lambda p: f"»{text.iloc[p]}« ist negativ.", "Anzahl ≥ 0 eintragen.", header)
            return num.where(~(bad | frac | neg)).round().astype("Int64")
        return num
    if col.dtype in ("tristate", "bool"):
        values, unknown_value = parse_tristate(text)
        chk.row(
            unknown_value.to_numpy(),
            lambda p: f"»{text.iloc[p]}« ist kein gültiger Wert.",
            "Erlaubt sind ja/nein (auch 1/0, x, true/false) oder leer für unbekannt.",
            header,
        )
        return values
    if col.dtype == "date":
        parsed = pd.to_datetime(text, errors="coerce", dayfirst=True, format="mixed")
        bad = present & parsed.isna().to_numpy()
        chk.row(bad, lambda p: f"»{text.iloc[p]}« ist kein Datum.", "Datum als TT.MM.JJJJ eintragen.", header)
        return parsed.dt.strftime("%Y-%m-%d").astype("str")
    if col.name in ("plz",):
        from geo.importing.geocoding import normalise_plz

        plz = text.map(lambda v: normalise_plz(v) if isinstance(v, str) else None)
        return plz.where(plz.notna(), text).astype("str")
    chk.row(
        has_control(text),
        lambda p: "Der Text enthält Steuerzeichen (unsichtbare Zeichen wie U+0007, Tabulator oder Zeilenumbruch).",
        f"Steuerzeichen aus »{header}« entfernen.",
        header,
    )
    if col.name.endswith("ags"):
        length = 8 if col.name == "gemeinde_ags" else 5
        ags = text.str.replace(r"\.0$", "", regex=True).str.zfill(length)
        bad = present & ~ags.str.fullmatch(rf"05\d{{{length - 2}}}").fillna(False).to_numpy(dtype=bool)
        chk.row(
            bad,
            lambda p: (
                f"»{text.iloc[p]}« ist kein {length}-stelliger Schlüssel "
                + ("einer NRW-Gemeinde" if length == 8 else "eines NRW-Kreises")
                + " (nur Ziffern, beginnt mit 05)."
            ),
            f"Amtlichen Schlüssel eintragen oder »{header}« leer lassen (dann wird er aus der Lage bestimmt).",
            header,
        )
        return ags.where(~bad)
    if col.choices:
        canon = {c.lower(): c for c in col.choices}
        low = text.str.lower()
        known = low.isin(list(canon)).to_numpy()
        bad = present & ~known
        chk.row(
            bad,
            lambda p: f"»{text.iloc[p]}« ist kein erlaubter Wert.",
            f"Erlaubt sind: {', '.join(col.choices or ())}.",
            header,
        )
        return low.map(canon).astype("str")
    return text
