"""Kreis statistics from the GENESIS tables 12411-05-01-4 and AI002-1."""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from geo.errors import Problem, raise_if_problems
from scripts.databuild.config import (
    LAND_AGS,
    LEVEL_BY_LENGTH,
    N_KREISE,
    N_KREISFREIE_STAEDTE,
    NRW_POPULATION_2019,
    POPULATION_COLUMNS,
    STATISTICS_COLUMNS,
    STATISTICS_CSV,
)

logger = logging.getLogger(__name__)


_NUMBER = re.compile(r"^-?\d+(?:,\d+)?$")
_DATA_LINE = re.compile(r"^\d{4};")


# --- statistics -----------------------------------------------------------


def parse_genesis_number(token: str) -> float:
    """Parse one GENESIS table cell; every non-number sign gives NaN.

    GENESIS writes comma decimals and marks gaps with ``-`` (nothing),
    ``.`` (unknown or secret), ``x`` (not meaningful), ``...`` or ``/``.

    >>> parse_genesis_number("1563,6"), parse_genesis_number("-52,9"), parse_genesis_number("17939936")
    (1563.6, -52.9, 17939936.0)
    >>> [parse_genesis_number(t) for t in ("-", ".", "x", "")]
    [nan, nan, nan, nan]
    """
    text = token.strip()
    if _NUMBER.match(text):
        return float(text.replace(",", "."))
    return float("nan")


def parse_genesis_csv(text: str, value_columns: Sequence[str], source: str = "GENESIS-Tabelle") -> pd.DataFrame:
    """Parse a GENESIS ``;``-separated table with rows ``year;code;name;values…``.

    Header and footer lines (title, column labels, notes, copyright) are
    skipped: only lines starting with a four-digit year and ``;`` are data.

    Parameters
    ----------
    text
        The decoded file content (GENESIS exports are Latin-1).
    value_columns
        Names for the value fields after ``year;code;name``.
    source
        File name for error messages.

    Returns
    -------
    pandas.DataFrame
        Columns ``year`` (int), ``ags`` (str, as printed, e.g. ``05`` or
        ``05334002``), ``name`` (str, stripped) and ``value_columns`` (float,
        NaN for ``-``, ``.``, ``x`` and other gap signs).

    Raises
    ------
    DataError
        Listing every data line with the wrong number of fields.

    Examples
    --------
    >>> raw = "GENESIS-Tabelle: 1\\n;;;Insgesamt;Dichte\\n2019;05;  Nordrhein-Westfalen;17939936;526,1\\n"
    >>> raw += "2019;05334002;      Aachen, krfr. Stadt;-;1547,8\\n__________\\nStand: 20.08.2021\\n"
    >>> parse_genesis_csv(raw, ["population", "density"])
       year       ags                 name  population  density
    0  2019        05  Nordrhein-Westfalen  17939936.0    526.1
    1  2019  05334002  Aachen, krfr. Stadt         NaN   1547.8
    """
    n_fields = 3 + len(value_columns)
    rows: list[list[object]] = []
    problems: list[Problem] = []
    for lineno, line in enumerate(text.splitlines(), start=1):
        if not _DATA_LINE.match(line):
            continue
        fields = line.split(";")
        if len(fields) != n_fields:
            problems.append(
                Problem(
                    f"{len(fields)} statt {n_fields} Felder",
                    "Tabellenformat prüfen",
                    file=source,
                    row=lineno,
                )
            )
            continue
        year, code, name, *values = fields
        rows.append([int(year), code.strip(), name.strip(), *(parse_genesis_number(v) for v in values)])
    raise_if_problems(problems, f"GENESIS-Tabelle {source} ist nicht lesbar")
    frame = pd.DataFrame(rows, columns=["year", "ags", "name", *value_columns])
    return frame.astype({"year": "int64", "ags": "str", "name": "str"} | dict.fromkeys(value_columns, "float64"))


def read_genesis_file(path: Path, value_columns: Sequence[str]) -> pd.DataFrame:
    """Read a Latin-1 GENESIS CSV file with :func:`parse_genesis_csv`."""
    return parse_genesis_csv(path.read_bytes().decode("latin-1"), value_columns, source=path.name)


def build_statistics(
    population: pd.DataFrame,
    regionalatlas: pd.DataFrame,
    kreis_ags: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Join the two Destatis tables into a tidy NRW table keyed by ``ags`` and ``year``.

    Parameters
    ----------
    population
        Table 12411-05-01-4 parsed with :func:`parse_genesis_csv` (columns
        ``population``, ``population_m``, ``population_w``).
    regionalatlas
        Table AI002-1 parsed likewise (columns :data:`REGIONALATLAS_COLUMNS`).
    kreis_ags
        The current Kreise; 5-digit codes not among them (dissolved Kreise
        such as 05354 »Aachen, Kreis«) are dropped. ``None`` keeps all.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`STATISTICS_COLUMNS`, sorted by ``level`` order
        (land, regbez, kreis), ``ags`` and ``year``. Rows below Kreis level
        (8-digit codes such as 05334002 »Aachen, krfr. Stadt«) are dropped.
        Population columns are nullable integers.
    """
    frames = []
    for table in (population, regionalatlas):
        nrw = table[table["ags"].str.startswith(LAND_AGS)]
        frames.append(nrw.set_index(["ags", "year"]))
    pop, atlas = frames
    joined = pop.drop(columns="name").join(atlas.drop(columns="name"), how="outer")
    # name: the latest name printed for the code, preferring the population table
    names = (
        pd.concat([atlas["name"], pop["name"]])
        .reset_index()
        .sort_values(["ags", "year"], kind="stable")
        .drop_duplicates("ags", keep="last")
        .set_index("ags")["name"]
    )
    stats = joined.reset_index()
    stats["name"] = stats["ags"].map(names)
    stats["level"] = stats["ags"].str.len().map(LEVEL_BY_LENGTH)
    dropped = stats.loc[stats["level"].isna(), ["ags", "name"]].drop_duplicates()
    for row in dropped.itertuples():
        logger.info("Statistik: Zeilen unterhalb der Kreisebene verworfen: %s %s", row.ags, row.name)
    stats = stats[stats["level"].notna()]
    if kreis_ags is not None:
        stale = (stats["level"] == "kreis") & ~stats["ags"].isin(set(kreis_ags))
        for row in stats.loc[stale, ["ags", "name"]].drop_duplicates().itertuples():
            logger.info(
                "Statistik: ehemaliger Kreis verworfen (nicht unter den heutigen Kreisen): %s %s",
                row.ags,
                row.name,
            )
        stats = stats[~stale]
    for col in POPULATION_COLUMNS:
        stats[col] = stats[col].round().astype("Int64")
    order = stats["level"].map({"land": 0, "regbez": 1, "kreis": 2})
    stats = stats.assign(_order=order).sort_values(["_order", "ags", "year"], kind="stable")
    return stats.loc[:, list(STATISTICS_COLUMNS)].reset_index(drop=True)


def kreis_sum_tolerance(n_kreise: int) -> float:
    """Largest rounding gap between the sum of ``n_kreise`` annual means and the Land's.

    Destatis rounds each Kreis' Jahresdurchschnitt (mean of two integer
    stock counts, so a multiple of 0.5) to an integer on its own, and the
    Land's as well: each rounding moves a value by at most 0.5.

    >>> kreis_sum_tolerance(53)
    27.0
    """
    return 0.5 * (n_kreise + 1)


def check_statistics(stats: pd.DataFrame, n_kreise: int = N_KREISE + N_KREISFREIE_STAEDTE) -> None:
    """Check the population totals of 2019 and the uniqueness of the keys.

    Raises
    ------
    DataError
        If NRW 2019 differs from :data:`NRW_POPULATION_2019`, the Kreise of 2019
        do not sum to it, or an ``(ags, year)`` key repeats.
    """
    problems: list[Problem] = []
    if stats.duplicated(["ags", "year"]).any():
        problems.append(Problem("Schlüssel (ags, year) doppelt", file=str(STATISTICS_CSV)))
    y2019 = stats[stats["year"] == 2019]
    land = y2019.loc[y2019["level"] == "land", "population"]
    kreise = y2019.loc[y2019["level"] == "kreis"]
    if land.tolist() != [NRW_POPULATION_2019]:
        problems.append(Problem(f"NRW 2019 hat {land.tolist()} Einwohner statt {NRW_POPULATION_2019:,}"))
    if len(kreise) != n_kreise or kreise["population"].isna().any():
        problems.append(
            Problem(f"2019: {kreise['population'].notna().sum()} Kreise mit Einwohnerzahl statt {n_kreise}")
        )
    else:
        total = int(kreise["population"].sum())
        if abs(total - NRW_POPULATION_2019) > kreis_sum_tolerance(n_kreise):
            problems.append(Problem(f"Summe der Kreise 2019 = {total:,} weicht von {NRW_POPULATION_2019:,} ab"))
        logger.info(
            "Statistik 2019: NRW %s, Summe der %d Kreise %s (Differenz %+d, Rundung der Jahresmittel)",
            f"{NRW_POPULATION_2019:,}",
            n_kreise,
            f"{total:,}",
            total - NRW_POPULATION_2019,
        )
    raise_if_problems(problems, "Kreisstatistik unplausibel")
    # informative: the rounding gap in every year with all 53 Kreise present
    kreisrow_poss = stats[stats["level"] == "kreis"]
    complete = kreisrow_poss.groupby("year")["population"].count() == n_kreise
    gap = (
        kreisrow_poss.groupby("year")["population"].sum()[complete]
        - stats[stats["level"] == "land"].set_index("year")["population"]
    ).dropna()
    if len(gap):
        logger.info(
            "Statistik: Kreissumme − Landeswert %d–%d zwischen %+d und %+d",
            gap.index.min(),
            gap.index.max(),
            int(gap.min()),
            int(gap.max()),
        )
