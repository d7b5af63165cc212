"""Kreis statistics of NRW (Destatis), read from the embedded CSV.

The table ``statistics/kreis_statistik.csv`` is built by :mod:`scripts.databuild`
from the GENESIS tables 12411-05-01-4 (population) and AI002-1 (Regionalatlas).
It is tidy: one row per ``ags`` and ``year`` for the Land, the five
Regierungsbezirke and the 53 Kreise.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pandas as pd

from geo.errors import DataError, Problem, SchemaError, raise_if_problems
from geo.settings import Settings
from geo.units import AGS_LENGTH, Level

logger = logging.getLogger(__name__)

#: Path of the table relative to ``Settings.data_dir``.
STATISTICS_FILE = Path("statistics/kreis_statistik.csv")
LEVELS: tuple[Level, ...] = ("land", "regbez", "kreis")
INT_COLUMNS = ("population", "population_m", "population_w")
FLOAT_COLUMNS = (
    "density_per_km2",
    "population_change_per_10000",
    "foreign_share_pct",
    "births_per_10000",
    "deaths_per_10000",
    "natural_balance_per_10000",
    "migration_balance_per_10000",
)
COLUMNS: tuple[str, ...] = ("ags", "name", "level", "year", *INT_COLUMNS, *FLOAT_COLUMNS)
#: Columns of :func:`kreis_indicators`, besides ``year``.
INDICATORS = ("population", "foreign_share_pct", "density_per_km2")
_FIX = "Bitte die Datei mit »python -m scripts.databuild« neu erzeugen."


def load_kreis_statistics(settings: Settings) -> pd.DataFrame:
    """Read and validate the embedded Kreis statistics table.

    Parameters
    ----------
    settings
        Application settings; the file is ``settings.data_dir / statistics/kreis_statistik.csv``.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`COLUMNS`; ``ags``, ``name`` and ``level`` as str,
        ``year`` as int, population columns as nullable ``Int64``, the
        indicators as float (NaN where Destatis has no value).

    Raises
    ------
    DataError
        If the file is missing or unreadable.
    SchemaError
        If required columns are missing.
    ValidationError
        (a :class:`DataError`) listing every bad row: AGS not in NRW or of the
        wrong length for its level, unknown level, non-integer year, repeated
        (``ags``, ``year``) key, non-numeric values.
    """
    path = settings.data_dir / STATISTICS_FILE
    if not path.is_file():
        raise DataError(f"Datei {path} fehlt: Kreisstatistik nicht gefunden. {_FIX}")
    try:
        raw = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")
    except (OSError, UnicodeDecodeError, pd.errors.ParserError) as exc:
        raise DataError(f"Datei {path.name}: nicht lesbar ({exc}). {_FIX}") from exc
    missing = [c for c in COLUMNS if c not in raw.columns]
    if missing:
        raise SchemaError(f"Datei {path.name}: Pflichtspalte(n) fehlen: {', '.join(missing)}. {_FIX}")
    problems: list[Problem] = []
    frame = raw.loc[:, list(COLUMNS)].copy()

    def rows(mask: pd.Series) -> list[int]:
        # 1-based data rows as in a spreadsheet with the header in row 1
        return [int(i) + 2 for i in frame.index[mask.to_numpy()]][:20]

    for col in (*INT_COLUMNS, *FLOAT_COLUMNS, "year"):
        text = frame[col].str.strip()
        numbers = pd.to_numeric(text.where(text != ""), errors="coerce")
        bad = numbers.isna() & (text != "")
        if col == "year":
            bad |= numbers.isna() | (numbers % 1 != 0)
        elif col in INT_COLUMNS:
            bad |= numbers.notna() & (numbers % 1 != 0)
        for r in rows(bad):
            problems.append(Problem("keine gültige Zahl", _FIX, file=path.name, row=r, column=col))
        frame[col] = numbers
    bad_level = ~frame["level"].isin(LEVELS)
    for r in rows(bad_level):
        problems.append(
            Problem(f"Ebene muss eine von {', '.join(LEVELS)} sein", _FIX, file=path.name, row=r, column="level")
        )
    ags_ok = frame["ags"].str.fullmatch(r"05\d*") & (
        frame["ags"].str.len() == frame["level"].map(AGS_LENGTH).fillna(-1)
    )
    for r in rows(~ags_ok & ~bad_level):
        problems.append(
            Problem("AGS liegt nicht in NRW oder passt nicht zur Ebene", _FIX, file=path.name, row=r, column="ags")
        )
    for r in rows(frame.duplicated(["ags", "year"], keep="first")):
        problems.append(Problem("Schlüssel (ags, year) doppelt", _FIX, file=path.name, row=r, column="ags"))
    raise_if_problems(problems, f"Kreisstatistik {path.name} ist ungültig")
    return frame.astype(
        {"year": "int64"} | dict.fromkeys(INT_COLUMNS, "Int64") | dict.fromkeys(FLOAT_COLUMNS, "float64")
    )


def kreis_indicators(settings: Settings, year: int | None = None) -> pd.DataFrame:
    """Population, foreign share and density of the 53 Kreise for one year.

    Parameters
    ----------
    settings
        Application settings (see :func:`load_kreis_statistics`).
    year
        Reference year. ``None`` takes, for each Kreis and each indicator
        separately, the value of the latest year in which it is known.

    Returns
    -------
    pandas.DataFrame
        Indexed by the 5-digit ``ags`` (53 rows, sorted), columns
        ``population`` (``Int64``), ``foreign_share_pct``, ``density_per_km2``
        and ``year``. With an explicit ``year`` the values of that year, NaN
        where Destatis has none, and ``year`` equals it. With ``year=None``,
        ``year`` is the reference year of ``population``, and the columns
        ``foreign_share_year`` and ``density_year`` give the years of the
        other two indicators (they may differ per Kreis; in the shipped data
        all three are 2019 for every Kreis).

    Raises
    ------
    DataError
        If ``year`` is not in the table, or the table is invalid.

    Notes
    -----
    Taking the latest known value per indicator (instead of the latest year
    overall) keeps a Kreis on the map when one indicator lags, e.g. the foreign
    share, which Destatis publishes for fewer years than the population.
    """
    stats = load_kreis_statistics(settings)
    kreise = stats[stats["level"] == "kreis"]
    if year is not None:
        years = sorted(kreise["year"].unique().tolist())
        if year not in years:
            raise DataError(
                f"Datei {STATISTICS_FILE.name}: kein Berichtsjahr {year}; verfügbar sind {years[0]}–{years[-1]}."
            )
        chosen = kreise[kreise["year"] == year].set_index("ags").sort_index()
        return chosen.loc[:, [*INDICATORS, "year"]]
    latest: dict[str, pd.Series] = {}
    years_of: dict[str, pd.Series] = {}
    ordered = kreise.sort_values(["ags", "year"])
    for col in INDICATORS:
        known = ordered[ordered[col].notna()].drop_duplicates("ags", keep="last").set_index("ags")
        latest[col] = known[col]
        years_of[col] = known["year"]
    index = pd.Index(sorted(kreise["ags"].unique()), name="ags")
    result = pd.DataFrame({col: latest[col].reindex(index) for col in INDICATORS}, index=index)
    result["population"] = result["population"].astype("Int64")
    result["year"] = years_of["population"].reindex(index).astype("Int64")
    result["foreign_share_year"] = years_of["foreign_share_pct"].reindex(index).astype("Int64")
    result["density_year"] = years_of["density_per_km2"].reindex(index).astype("Int64")
    return result
