"""A lost PostgreSQL connection at any point: the German message and a retry, never a traceback (issue 18).

The throwaway cluster of ``tests/store_backends.py`` is stopped in the middle
of a session (``pg_ctl stop -m fast`` cuts every open connection, as a crashed
or restarted server does) and started again. Every page of the app, the CLI
and the library must then say in German what happened and what to do, offer a
retry, and after the restart show everything that was saved before.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import geopandas as gpd
import pytest
from streamlit.testing.v1 import AppTest
from test_scenarios import make_scenario

from geo.errors import DatabaseUnavailableError
from geo.settings import PROJECT_ROOT, Settings
from geo.store import open_store
from geo.store.scenarios import list_scenarios, load_scenario, save_scenario

if TYPE_CHECKING:
    from store_backends import Cluster

pytest_plugins = ("store_backends",)

PAGES = ("ui/pages/karte.py", "ui/pages/luecken.py", "ui/pages/standort.py", "ui/pages/daten.py", "ui/pages/bericht.py")
MESSAGE = "nicht erreichbar oder die Verbindung ist abgebrochen"


@pytest.fixture
def saved(pg_home: Settings) -> Settings:
    """The app on a fresh PostGIS database, with one import and one scenario saved."""
    open_store(pg_home).write_layer(
        "kita", _kitas(), mode="append", source_file="kitas.csv", source="import", licence="CC0"
    )
    save_scenario(pg_home, make_scenario("Plan A"))
    return pg_home


def _kitas(prefix: str = "k") -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"id": [f"{prefix}1", f"{prefix}2"], "name": ["Kita Mitte", "Kita Sonnenschein"]},
        geometry=gpd.points_from_xy([294_000.0, 295_100.0], [5_628_000.0, 5_628_500.0]),
        crs="EPSG:25832",
    )


@pytest.fixture
def outage(postgres_cluster: Cluster) -> Iterator[Cluster]:
    """Stop the database server; it runs again at the end of the test whatever happens."""
    postgres_cluster.stop()
    try:
        yield postgres_cluster
    finally:
        if not postgres_cluster.running():
            postgres_cluster.start()


def _saved_data_is_all_there(settings: Settings) -> None:
    store = open_store(settings)
    assert [b.source_file for b in store.batches()] == ["kitas.csv"]
    assert list(store.read_layer("kita")["id"]) == ["k1", "k2"]
    assert list(list_scenarios(settings)["name"]) == ["Plan A"]
    assert len(load_scenario(settings, "Plan A").sites) == 3


@pytest.mark.slow
def test_every_page_says_so_in_german_and_the_retry_button_brings_it_back(saved: Settings, outage: Cluster) -> None:
    apps = []
    for page in PAGES:
        at = AppTest.from_file(str(PROJECT_ROOT / "app.py"), default_timeout=180)
        at.run()
        if page != PAGES[0]:
            at.switch_page(page).run()
        assert not at.exception, (page, [e.message for e in at.exception])  # no traceback
        messages = [e.value for e in at.error]
        assert any(MESSAGE in m.replace("\\", "") for m in messages), (page, messages)
        assert all("Traceback" not in m and "sqlalchemy" not in m.lower() for m in messages), messages
        retry = [b for b in at.button if b.key and b.key.startswith("atlas_retry_")]
        assert retry and retry[0].label == "Erneut versuchen", page
        apps.append((page, at, retry[0].key))
    outage.start()
    for page, at, key in apps:
        at.button(key=key).click().run()
        assert not at.exception and not at.error, (page, [e.value for e in at.error])
    daten = apps[PAGES.index("ui/pages/daten.py")][1]
    assert list(daten.dataframe[1].value["Datei"]) == ["kitas.csv"]
    _saved_data_is_all_there(saved)


@pytest.mark.slow
def test_cli_and_library_say_so_and_keep_what_was_saved(
    saved: Settings, outage: Cluster, capsys: pytest.CaptureFixture[str]
) -> None:
    from integrationsatlas.cli import main

    assert main(["store", "list"]) == 2
    err = capsys.readouterr().err
    assert MESSAGE in err and "INTEGRATIONSATLAS_DATABASE_URL" in err and "Traceback" not in err
    with pytest.raises(DatabaseUnavailableError, match=MESSAGE):
        save_scenario(saved, make_scenario("Plan B"))
    with pytest.raises(DatabaseUnavailableError, match=MESSAGE):
        open_store(saved).write_layer(
            "kita", _kitas("n"), mode="append", source_file="neu.csv", source="import", licence="CC0"
        )
    outage.start()
    assert main(["store", "list"]) == 0
    _saved_data_is_all_there(saved)  # nothing saved before is lost, nothing half-written is there


def test_connection_lost_in_the_middle_of_an_import_leaves_the_store_as_it_was(
    saved: Settings, postgres_cluster: Cluster, monkeypatch: pytest.MonkeyPatch
) -> None:
    from geo.store import postgis

    insert = postgis._insert_features

    def server_goes_away(con: object, rows: list[dict[str, object]]) -> None:
        postgres_cluster.stop()
        insert(con, rows)  # type: ignore[arg-type]

    monkeypatch.setattr(postgis, "_insert_features", server_goes_away)
    try:
        with pytest.raises(DatabaseUnavailableError, match=MESSAGE):
            open_store(saved).write_layer(
                "kita", _kitas("n"), mode="append", source_file="neu.csv", source="import", licence="CC0"
            )
    finally:
        postgres_cluster.start()
    monkeypatch.setattr(postgis, "_insert_features", insert)
    _saved_data_is_all_there(saved)
    # the retry (the user presses import again) works and adds the batch once
    open_store(saved).write_layer(
        "kita", _kitas("n"), mode="append", source_file="neu.csv", source="import", licence="CC0"
    )
    assert [b.source_file for b in open_store(saved).batches()] == ["neu.csv", "kitas.csv"]


def test_a_read_is_retried_with_backoff_before_it_gives_up(monkeypatch: pytest.MonkeyPatch) -> None:
    from geo.store import postgis

    waits: list[float] = []
    monkeypatch.setattr(postgis.time, "sleep", waits.append)
    calls = []

    @postgis.retry_reads
    def flaky() -> str:
        calls.append(1)
        if len(calls) < 3:
            raise postgis.unavailable("postgresql://x:***@db/atlas", "server closed the connection unexpectedly")
        return "Daten"

    assert flaky() == "Daten" and waits == list(postgis.READ_RETRY_WAITS_S)
    calls.clear()
    waits.clear()

    @postgis.retry_reads
    def down() -> str:
        calls.append(1)
        raise postgis.unavailable("postgresql://x:***@db/atlas", "connection refused")

    with pytest.raises(DatabaseUnavailableError, match="connection refused"):
        down()
    assert len(calls) == len(postgis.READ_RETRY_WAITS_S) + 1
