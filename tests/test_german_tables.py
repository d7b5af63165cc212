"""Tables in the app show German numbers and no "None"/"nan"."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ui.components import german_style


def test_numbers_are_german_and_missing_values_empty() -> None:
    frame = pd.DataFrame(
        {
            "AGS": ["05334", "05315"],
            "Versorgt (%)": [12.4, 100.0],
            "Einwohner": pd.array([248_960, None], dtype="Int64"),
            "Lückenwert": [0.125, np.nan],
            "Name": ["Aachen", None],
        }
    )
    text = german_style(frame).to_string(delimiter="|")
    rows = [line.split("|")[1:] for line in text.splitlines()[1:]]
    assert rows[0] == ["05334", "12,4", "248.960", "0,125", "Aachen"]
    assert rows[1][1:4] == ["100,0", "", ""]
    assert "None" not in text and "nan" not in text.lower() and "<NA>" not in text


def test_values_stay_numeric_for_sorting() -> None:
    frame = pd.DataFrame({"x": [2.5, 10.25]})
    styled = german_style(frame)
    assert styled.data["x"].dtype == float  # the table sorts by number, only the display is German
    assert styled.to_string(delimiter="|").splitlines()[1].endswith("2,50")


def test_a_short_table_is_as_tall_as_its_rows(monkeypatch: pytest.MonkeyPatch) -> None:
    """The profile's facility table showed six empty grid rows under a single facility."""
    from ui import components

    heights: list[int] = []
    monkeypatch.setattr(components.st, "dataframe", lambda _data, **kw: heights.append(kw["height"]))
    components.table(pd.DataFrame({"Name": ["KI Aachen", "KI Städteregion"]}), max_height=260)
    components.table(pd.DataFrame({"Name": [f"Kita {i}" for i in range(50)]}), max_height=260)
    assert heights == [3 * components.GRID_ROW_PX + components.GRID_BORDER_PX, 260]


def test_columns_can_share_their_decimals() -> None:
    """»über der Schwelle vorher« read »100« beside »nachher« »100,0« and »0,0« (Kreis Borken, Standortplanung)."""
    frame = pd.DataFrame({"vorher": [100.0, 100.0], "nachher": [100.0, 45.9]})
    rows = [line.split("|")[1:] for line in german_style(frame).to_string(delimiter="|").splitlines()[1:]]
    assert rows[0] == ["100", "100,0"]  # each column by its own values
    fixed = german_style(frame, {"vorher": 1, "nachher": 1}).to_string(delimiter="|").splitlines()[1:]
    assert [line.split("|")[1:] for line in fixed] == [["100,0", "100,0"], ["100,0", "45,9"]]
