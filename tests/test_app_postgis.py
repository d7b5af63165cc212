"""The app on PostgreSQL/PostGIS: the same pages work with INTEGRATIONSATLAS_DATABASE_URL set.

AppTest runs ``app.py`` in-process (no browser); batches and scenarios written
by the CLI or the library land in the database and the app shows them.
"""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from geo.settings import PROJECT_ROOT, Settings
from geo.store import DataStore, open_store

pytest_plugins = ("store_backends",)


def _app() -> AppTest:
    at = AppTest.from_file(str(PROJECT_ROOT / "app.py"), default_timeout=180)
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def _frame_with(at: AppTest, column: str) -> pd.DataFrame:
    for element in at.dataframe:
        if column in element.value.columns:
            return element.value
    raise AssertionError(f"no table with column {column!r} on the page")


@pytest.mark.slow
def test_batches_in_the_database_are_shown_deleted_and_restored(pg_home: Settings) -> None:
    kitas = gpd.GeoDataFrame(
        {"id": ["k1", "k2"], "name": ["Kita Mitte", "Kita Sonnenschein"]},
        geometry=gpd.points_from_xy([294_000.0, 295_100.0], [5_628_000.0, 5_628_500.0]),
        crs="EPSG:25832",
    )
    batch = open_store(pg_home).write_layer(
        "kita", kitas, mode="append", source_file="kitas.csv", source="import", licence="CC0"
    )
    at = _app()
    at.switch_page("ui/pages/daten.py").run()
    inventory = at.dataframe[0].value.set_index("Kennung")
    assert inventory.loc["kita", "Anzahl"] == 2
    assert list(at.dataframe[1].value["Datei"]) == ["kitas.csv"]
    at.button(key="daten_batch_delete").click().run()
    assert not at.exception
    assert at.dataframe[0].value.set_index("Kennung").loc["kita", "Anzahl"] == 0
    assert open_store(pg_home).batches()[0].active is False  # the app wrote to the database
    at.button(key="daten_batch_restore").click().run()
    assert at.dataframe[0].value.set_index("Kennung").loc["kita", "Anzahl"] == 2
    assert open_store(pg_home).layer_meta("kita") == batch
    assert not pg_home.store_path.exists()  # nothing went to a local GeoPackage
    assert DataStore(pg_home.store_path).batches() == []


@pytest.mark.slow
def test_scenarios_saved_by_the_cli_are_compared_in_the_app(pg_home: Settings) -> None:
    from geo.store.scenarios import list_scenarios
    from integrationsatlas.cli import main

    for p in ("2", "4"):
        assert (
            main(
                [
                    "sites",
                    "--area",
                    "05334",
                    "-p",
                    p,
                    "--radius-km",
                    "5",
                    "--save",
                    f"Plan {p}",
                    "--no-sensitivity",
                    "--fixed-layer",
                    "none",
                ]
            )
            == 0
        )
    assert sorted(list_scenarios(pg_home)["name"]) == ["Plan 2", "Plan 4"]
    at = _app()
    at.switch_page("ui/pages/standort.py").run()
    assert not at.exception, [e.message for e in at.exception]
    assert {at.selectbox(key="standort_cmp_a").value, at.selectbox(key="standort_cmp_b").value} == {"Plan 2", "Plan 4"}
    assert len(_frame_with(at, "B − A (Prozentpunkte)")) >= 1
    assert not pg_home.store_path.exists()
