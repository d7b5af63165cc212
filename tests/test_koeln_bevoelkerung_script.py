"""The converter of the Stadt Köln's »Bevölkerung« table into residents per Stadtteil (``scripts/koeln_bevoelkerung``).

The input is written here in the city's own layout (``;``, BOM, one row per Stadtteil, year and characteristic); the
expected output follows from it by hand.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from scripts.koeln_bevoelkerung import main, read_source, wide_table

HEADER = "id;tab_id;tabelle;jahr;raum_id;raum;zei_id;zeile;zahl"
AGES = ("00 - < 03", "03 - < 06", "06 - < 10", "10 - < 15", "15 - < 18", "18 - < 25")


def _rows(raum: str, name: str, year: str, residents: int, ages: tuple[int, ...], foreign: int) -> list[str]:
    rows = [f"x;005;Einwohner in Köln;{year};{raum};{name};10;Einwohner;{residents},0"]
    rows += [
        f"x;020;Einwohner nach Alter;{year};{raum};{name};{k};{a};{n}"
        for k, (a, n) in enumerate(zip(AGES, ages, strict=True))
    ]
    rows.append(f"x;030;Einwohner mit Migrationshintergrund;{year};{raum};{name};50;Ausländer;{foreign}")
    return rows


def test_the_stadtteile_are_kept_with_their_age_groups_and_foreign_residents(tmp_path: Path) -> None:
    lines = [HEADER]
    lines += _rows("000", "Stadt Köln", "2012", 3_000, (90, 80, 100, 120, 70, 300), 500)  # the city: dropped
    lines += _rows("001", "Innenstadt", "2012", 3_000, (90, 80, 100, 120, 70, 300), 500)  # a Bezirk: dropped
    lines += _rows("101", "Altstadt/Süd", "2012", 1_000, (30, 20, 40, 50, 20, 100), 200)
    lines += _rows("102", "Neustadt/Süd", "2012", 2_000, (60, 60, 60, 70, 50, 200), 300)
    source = tmp_path / "bevoelkerung.csv"
    source.write_text("\ufeff" + "\n".join(lines) + "\n", encoding="utf-8")
    table = wide_table(read_source(source))
    assert table.to_dict(orient="records") == [
        {"stt_nr": "101", "stadtteil": "Altstadt/Süd", "jahr": "2012", "einwohner": 1_000, "unter3": 30,
         "a3bis5": 20, "a6bis9": 40, "unter18": 160, "auslaender": 200},
        {"stt_nr": "102", "stadtteil": "Neustadt/Süd", "jahr": "2012", "einwohner": 2_000, "unter3": 60,
         "a3bis5": 60, "a6bis9": 60, "unter18": 300, "auslaender": 300},
    ]  # fmt: skip
    target = tmp_path / "out.csv"
    assert main([str(source), str(target)]) == 0
    assert pd.read_csv(target, dtype={"stt_nr": str})["einwohner"].tolist() == [1_000, 2_000]
    incomplete = tmp_path / "incomplete.csv"
    incomplete.write_text("\n".join(line for line in lines if "Ausländer;200" not in line), encoding="utf-8")
    with pytest.raises(ValueError, match="ohne alle Werte"):
        wide_table(read_source(incomplete))
