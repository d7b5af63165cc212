"""Destatis Gemeindeverzeichnis (GV-ISys): population, area and centre per Gemeinde.

The "Auszug GV" is published as XLSX (and sometimes re-saved as CSV). Its data
rows follow a fixed column layout; only rows of *Satzart* 60 describe a
Gemeinde::

    0 Satzart  1 Textkennzeichen  2 Land  3 RB  4 Kreis  5 VB  6 Gem  7 Gemeindename
    8 Fläche km²  9 Bevölkerung insgesamt  10 männlich  11 weiblich  12 je km²
    13 PLZ  14 Längengrad  15 Breitengrad  16–19 Reisegebiet, Verstädterung

The header spans several rows in the XLSX, so the parser reads the table
without a header and picks the Satzart-60 rows by position. Numbers may carry
space thousands separators (``"90 164"``) and decimal commas (``"6,78"``).
"""

from __future__ import annotations

import logging
from pathlib import Path

import geopandas as gpd
import pandas as pd

from geo.errors import DataError, Problem, raise_if_problems
from geo.importing import decode_text, parse_number, sniff_separator
from geo.settings import DISPLAY_CRS, PROJECTED_CRS, Settings

logger = logging.getLogger(__name__)

#: Store table holding the parsed Gemeindeverzeichnis (points at the Gemeinde centres).
POPULATION_TABLE = "destatis_gv"
#: Output columns of :func:`parse_gemeindeverzeichnis`.
COLUMNS: tuple[str, ...] = (
    "ags", "ars", "name", "kreis_ags", "area_km2", "population", "population_m", "population_w",
    "plz", "center_lon", "center_lat",
)
_MIN_COLUMNS = 16
_FIX = "Bitte das »Auszug GV« des Statistischen Bundesamts (GV-ISys) unverändert verwenden."


def read_gemeindeverzeichnis(path: Path) -> pd.DataFrame:
    """Read an "Auszug GV" file (XLSX or CSV) as an all-text table without header.

    Raises
    ------
    DataError
        If the file cannot be read.
    """
    suffix = path.suffix.lower()
    try:
        if suffix in (".xlsx", ".xlsm", ".xls") or path.read_bytes()[:2] == b"PK":
            sheets = pd.read_excel(path, sheet_name=None, header=None, dtype=str)
            # the sheet with the most Gemeinde rows ("Onlineprodukt_Gemeinden")
            return max(sheets.values(), key=lambda df: int((_strip(df.iloc[:, 0]) == "60").sum())
                       if df.shape[1] else 0)
        from io import StringIO


        text = decode_text(path.read_bytes())
        sep = sniff_separator(text.split("\n", 1)[0])
        return pd.read_csv(StringIO(text), sep=sep, header=None, dtype=str, keep_default_na=False,
                           skip_blank_lines=True)
    except (OSError, ValueError, pd.errors.ParserError) as exc:
        raise DataError(f"Datei {path.name}: Gemeindeverzeichnis nicht lesbar ({exc}). {_FIX}") from exc


def parse_gemeindeverzeichnis(raw: pd.DataFrame, *, land: str = "05", file: str = "AuszugGV") -> pd.DataFrame:
    """Parse the Gemeinde rows (Satzart 60) of one Land from an "Auszug GV" table.

    Parameters
    ----------
    raw
        The table as read by :func:`read_gemeindeverzeichnis` (no header, text).
    land
        Two-digit Land code; ``05`` is NRW.
    file
        File name for the messages.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`COLUMNS`: 8-digit ``ags``, 12-digit ``ars``, ``name``,
        ``kreis_ags``, ``area_km2`` (float), ``population``,
        ``population_m``, ``population_w`` (``Int64``), ``plz`` (str) and the
        centre as ``center_lon``/``center_lat`` (float, WGS84); sorted by AGS.

    Raises
    ------
    DataError
        If the layout does not match or no Gemeinde of ``land`` is found.
    ValidationError
        Listing every row with an unparseable number or coordinate.

    Examples
    --------
    >>> raw = pd.DataFrame([["60", "61", "05", "1", "11", "0000", "000", "Düsseldorf, Stadt", "217,41",
    ...                      "621 877", "300 507", "321 370", "2 860", "40213", "6,780068", "51,22422"]])
    >>> parse_gemeindeverzeichnis(raw)[["ags", "population", "center_lat"]].to_dict("records")
    [{'ags': '05111000', 'population': 621877, 'center_lat': 51.22422}]
    """
    if raw.shape[1] < _MIN_COLUMNS:
        raise DataError(
            f"Datei {file}: {raw.shape[1]} Spalten, erwartet sind mindestens {_MIN_COLUMNS} "
            f"(Satzart bis Breitengrad). {_FIX}"
        )
    table = raw.iloc[:, :_MIN_COLUMNS].copy()
    table.columns = pd.RangeIndex(_MIN_COLUMNS)
    for col in range(8):
        table[col] = _strip(table[col])
    satzart = table[0].str.replace(r"\.0$", "", regex=True)
    land_code = table[2].str.replace(r"\.0$", "", regex=True).str.zfill(2)
    rows = table[(satzart == "60") & (land_code == land)]
    if rows.empty:
        raise DataError(f"Datei {file}: keine Gemeinde-Datensätze (Satzart 60) für Land {land} gefunden. {_FIX}")
    code = {i: rows[i].str.replace(r"\.0$", "", regex=True) for i in (3, 4, 5, 6)}
    ags = land + code[3].str.zfill(1) + code[4].str.zfill(2) + code[6].str.zfill(3)
    ars = land + code[3].str.zfill(1) + code[4].str.zfill(2) + code[5].str.zfill(4) + code[6].str.zfill(3)
    problems: list[Problem] = []

    def number(col: int, name: str, integer: bool) -> pd.Series:
        text = _strip(rows[col])
        values = parse_number(text, integer=integer)
        bad = values.isna() & text.ne("")
        for idx in rows.index[bad.to_numpy()][:20]:
            problems.append(Problem("»" + str(text.at[idx]) + "« ist keine Zahl.", _FIX, file=file, row=int(idx) + 1,
                                    column=name))
        return values

    out = pd.DataFrame({
        "ags": ags.astype("string"),
        "ars": ars.astype("string"),
        "name": rows[7].astype("string"),
        "kreis_ags": ags.str[:5].astype("string"),
        "area_km2": number(8, "Fläche km²", integer=False).astype("float64"),
        "population": number(9, "Bevölkerung insgesamt", integer=True).astype("Int64"),
        "population_m": number(10, "männlich", integer=True).astype("Int64"),
        "population_w": number(11, "weiblich", integer=True).astype("Int64"),
        "plz": _plz(rows[13]),
        "center_lon": number(14, "Längengrad", integer=False).astype("float64"),
        "center_lat": number(15, "Breitengrad", integer=False).astype("float64"),
    })
    bad_ags = ~out["ags"].str.fullmatch(r"\d{8}", na=False)
    for idx in out.index[bad_ags.to_numpy()][:20]:
        problems.append(Problem("Gemeindeschlüssel unvollständig.", _FIX, file=file, row=int(idx) + 1,
                                column="Land/RB/Kreis/Gem"))
    for idx in out.index[out["ags"].duplicated().to_numpy()][:20]:
        problems.append(Problem("AGS " + str(out.at[idx, 'ags']) + " doppelt.", _FIX, file=file, row=int(idx) + 1))
    raise_if_problems(problems, f"Gemeindeverzeichnis {file} ist ungültig")
    return out.sort_values("ags").reset_index(drop=True)


def population_points(table: pd.DataFrame) -> gpd.GeoDataFrame:
    """The Gemeindeverzeichnis as points at the Gemeinde centres, in EPSG:25832.

    Rows without a centre get an empty geometry (they are kept for the population).
    """
    points = gpd.points_from_xy(table["center_lon"], table["center_lat"], crs=DISPLAY_CRS)
    return gpd.GeoDataFrame(table.copy(), geometry=points, crs=DISPLAY_CRS).to_crs(PROJECTED_CRS)


def join_population(gemeinden: gpd.GeoDataFrame, table: pd.DataFrame) -> gpd.GeoDataFrame:
    """Set ``population`` of ``gemeinden`` from the Gemeindeverzeichnis by AGS.

    Gemeinden missing from ``table`` keep their value (or NA); the input index
    is kept.

    >>> import geopandas as gpd
    >>> g = gpd.GeoDataFrame({"ags": ["05111000", "05112000"]}, geometry=[None, None])
    >>> t = pd.DataFrame({"ags": ["05111000"], "population": pd.array([621877], dtype="Int64")})
    >>> join_population(g, t)["population"].tolist()
    [621877, <NA>]
    """
    out = gemeinden.copy()
    mapped = out["ags"].astype("string").map(table.set_index("ags")["population"]).astype("Int64")
    current = (out["population"].astype("Int64") if "population" in out.columns
               else pd.Series(pd.NA, index=out.index, dtype="Int64"))
    out["population"] = mapped.fillna(current).astype("Int64")
    return out


def load_gemeinde_population(settings: Settings) -> pd.DataFrame | None:
    """Population per Gemeinde: the fetched Gemeindeverzeichnis, else the Gemeinde layer.

    Parameters
    ----------
    settings
        Where the local data store lives.

    Returns
    -------
    pandas.DataFrame or None
        Indexed by the 8-digit ``ags``, with at least ``name`` and
        ``population`` (``Int64``); the Destatis table adds area, male/female
        population, PLZ and centre. ``None`` when no population is known.
    """
    if not Path(settings.store_path).exists():
        return None
    from geo.store import DataStore

    store = DataStore(settings.store_path)
    table = store.read_layer(POPULATION_TABLE)
    if table is not None and len(table):
        frame = pd.DataFrame(table.drop(columns=["geometry", "batch_id"], errors="ignore"))
        frame["population"] = frame["population"].astype("Int64")
        return frame.drop_duplicates("ags", keep="last").set_index("ags").sort_index()
    gemeinden = store.read_layer("gemeinde")
    if gemeinden is None or "population" not in gemeinden.columns:
        return None
    pop = pd.to_numeric(gemeinden["population"], errors="coerce").astype("Int64")
    if pop.isna().all():
        return None
    frame = pd.DataFrame({"ags": gemeinden["ags"].astype("string"), "name": gemeinden["name"],
                          "population": pop})
    return frame.drop_duplicates("ags", keep="last").set_index("ags").sort_index()


def _plz(values: pd.Series) -> pd.Series:
    plz = _strip(values).str.replace(r"\.0$", "", regex=True).str.zfill(5)
    return plz.mask(plz == "00000").astype("string")


def _strip(values: pd.Series) -> pd.Series:
    return values.fillna("").astype(str).str.strip().str.replace("\u00a0", " ", regex=False)
