"""Write ``data/population/koeln_stadtteile_bevoelkerung.csv`` from the Stadt Köln's open-data table »Bevölkerung«.

The city publishes its population per Stadtteil, year and characteristic as one long table (Offene Daten Köln,
»Strukturdaten 010 Bevölkerung«, file ``2013-06-24_010_Bevölkerung.csv``, CC BY 3.0 DE, Stadt Köln). This script
keeps the 86 Stadtteile (3-digit ``raum_id`` ≥ 100, the ``STT_NR`` of the city's Stadtteil boundaries) and the
figures the Integrationsatlas uses as demand: residents, the age groups of the Kita and OGS target groups and the
foreign residents, one row per Stadtteil and year, in the column names of an area population
(:mod:`geo.areasets.population`)::

    python -m scripts.koeln_bevoelkerung 2013-06-24_010_Bevölkerung.csv \\
        data/population/koeln_stadtteile_bevoelkerung.csv

Both the city's original (``;``-separated, UTF-8 with BOM, German column names) and the comma-separated copy with
columns ``raum_id, jahr, tab_id, zeile, zahl`` are read. The output is deterministic.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

#: (table id, line) of the source → output column; ``unter18`` is the sum of the age groups below 18.
COLUMNS: dict[tuple[str, str], str] = {
    ("005", "Einwohner"): "einwohner",
    ("020", "00 - < 03"): "unter3",
    ("020", "03 - < 06"): "a3bis5",
    ("020", "06 - < 10"): "a6bis9",
    ("030", "Ausländer"): "auslaender",
}
UNDER_18: tuple[str, ...] = ("00 - < 03", "03 - < 06", "06 - < 10", "10 - < 15", "15 - < 18")
OUTPUT: tuple[str, ...] = ("stt_nr", "stadtteil", "jahr", "einwohner", "unter3", "a3bis5", "a6bis9", "unter18",
                           "auslaender")  # fmt: skip


def read_source(path: Path) -> pd.DataFrame:
    """The long table: ``raum_id``, ``raum``, ``jahr``, ``tab_id``, ``zeile`` (text) and ``zahl`` (number)."""
    text = path.read_text(encoding="utf-8-sig")
    sep = ";" if text.split("\n", 1)[0].count(";") > text.split("\n", 1)[0].count(",") else ","
    frame = pd.read_csv(path, sep=sep, dtype=str, encoding="utf-8-sig")
    frame.columns = [str(c).strip().lower() for c in frame.columns]
    frame["tab_id"] = frame["tab_id"].str.zfill(3)
    frame["raum_id"] = frame["raum_id"].str.zfill(3)
    frame["zahl"] = pd.to_numeric(frame["zahl"].str.replace(",", ".", regex=False), errors="raise")
    return frame


def wide_table(long: pd.DataFrame) -> pd.DataFrame:
    """One row per Stadtteil and year with the columns of :data:`OUTPUT`.

    Raises
    ------
    ValueError
        If a Stadtteil lacks one of the figures in a year.
    """
    stadtteile = long[long["raum_id"].astype(int) >= 100]
    keys = ["raum_id", "raum", "jahr"]
    out = stadtteile[keys].drop_duplicates().set_index(["raum_id", "jahr"])
    for (table, line), column in COLUMNS.items():
        rows = stadtteile[(stadtteile["tab_id"] == table) & (stadtteile["zeile"] == line)]
        out[column] = rows.set_index(["raum_id", "jahr"])["zahl"]
    ages = stadtteile[(stadtteile["tab_id"] == "020") & stadtteile["zeile"].isin(UNDER_18)]
    out["unter18"] = ages.groupby(["raum_id", "jahr"])["zahl"].sum()
    numbers = [c for c in OUTPUT if c not in ("stt_nr", "stadtteil", "jahr")]
    if out[numbers].isna().any().any():
        missing = out[out[numbers].isna().any(axis=1)].index.tolist()[:5]
        raise ValueError(f"Stadtteile ohne alle Werte, z. B. {missing}")
    out = out.reset_index().rename(columns={"raum_id": "stt_nr", "raum": "stadtteil"})
    out[numbers] = out[numbers].round().astype("int64")
    return out.sort_values(["jahr", "stt_nr"]).loc[:, list(OUTPUT)].reset_index(drop=True)


def main(argv: list[str] | None = None) -> int:
    """Convert SOURCE into TARGET."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", type=Path, help="die Tabelle »Bevölkerung« der Offenen Daten Köln")
    parser.add_argument("target", type=Path, help="Zieldatei (CSV)")
    args = parser.parse_args(argv)
    table = wide_table(read_source(args.source))
    table.to_csv(args.target, index=False, lineterminator="\n")
    years = sorted(table["jahr"].unique())
    print(f"{args.target}: {table['stt_nr'].nunique()} Stadtteile, Jahre {years[0]}–{years[-1]}, {len(table)} Zeilen")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
