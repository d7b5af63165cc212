"""Tests of the data store (geo.store) on both backends: GeoPackage and PostgreSQL/PostGIS.

Tests taking ``store`` run on both backends (fixture ``backend_settings`` of
``tests/store_backends.py``); those taking ``gpkg_store`` test what only the
GeoPackage has (the file, orphan tables, SQLite transactions).
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio
import pytest
from shapely.geometry import Point

from geo.errors import CRSError, DataError, IntegrationsatlasError, SchemaError
from geo.settings import Settings
from geo.store import BATCHES_TABLE, PENDING_TABLE, BatchInfo, DataStore, Store, open_store

pytest_plugins = ("store_backends",)


def _points(ids: list[str], x0: float = 343_000.0) -> gpd.GeoDataFrame:
    """Points 100 m apart in Köln-ish UTM32 coordinates."""
    return gpd.GeoDataFrame(
        {"id": ids, "name": [f"Einrichtung {i}" for i in ids]},
        geometry=[Point(x0 + 100 * k, 5_655_000.0) for k in range(len(ids))],
        crs="EPSG:25832",
    )


def _write(store: Store, layer: str, gdf: gpd.GeoDataFrame, mode: str = "append") -> BatchInfo:
    return store.write_layer(
        layer,
        gdf,
        mode=mode,
        source_file="test.csv",
        source="import",  # type: ignore[arg-type]
        licence="CC0",
    )


@pytest.fixture
def gpkg_store(tmp_path: Path) -> DataStore:
    return DataStore(tmp_path / "sub" / "store.gpkg")


@pytest.fixture
def store(backend_settings: Settings) -> Store:
    return open_store(backend_settings)


def test_empty_store_creates_nothing(store: Store) -> None:
    assert store.read_layer("kita") is None
    assert store.batches() == []
    assert store.layer_ids() == []
    assert store.layer_meta("kita") is None
    if isinstance(store, DataStore):
        assert not store.path.parent.exists()


def test_write_and_read_round_trip(store: Store) -> None:
    info = _write(store, "kita", _points(["a", "b"]))
    assert info.rows_kept == 2
    assert info.rows_in == 2
    assert info.rows_rejected == 0
    assert info.active
    assert info.mode == "append"
    assert info.layer_id == "kita"
    assert datetime.fromisoformat(info.imported_at).utcoffset() == timedelta(0)
    gdf = store.read_layer("kita")
    assert gdf is not None
    assert gdf.crs == "EPSG:25832"
    assert list(gdf["id"]) == ["a", "b"]
    assert set(gdf["batch_id"]) == {info.batch_id}
    assert gdf.geometry.iloc[1].equals(Point(343_100, 5_655_000))
    assert store.layer_ids() == ["kita"]
    if not isinstance(store, DataStore):
        return
    # the file stays a valid GeoPackage that GDAL lists
    names = {row[0] for row in pyogrio.list_layers(store.path)}
    assert f"kita__{info.batch_id}" in names
    assert BATCHES_TABLE in names


def test_nullable_dtypes_survive(store: Store) -> None:
    gdf = _points(["a", "b", "c"])
    gdf["ogs"] = pd.array([True, None, False], dtype="boolean")
    gdf["plaetze"] = pd.array([40, None, 12], dtype="Int64")
    _write(store, "ogs", gdf)
    back = store.read_layer("ogs")
    assert back is not None
    assert str(back["ogs"].dtype) == "boolean"
    assert back["ogs"].isna().tolist() == [False, True, False]
    assert bool(back["ogs"].iloc[0]) is True
    assert bool(back["ogs"].iloc[2]) is False
    assert str(back["plaetze"].dtype) == "Int64"
    assert back["plaetze"].iloc[2] == 12


def test_html_text_is_stored_literally(store: Store) -> None:
    gdf = _points(["x"])
    gdf["name"] = ['<img src=x onerror=alert(1)> & "Kita" <b>Süd</b>']
    _write(store, "kita", gdf)
    back = store.read_layer("kita")
    assert back is not None
    assert back["name"].iloc[0] == '<img src=x onerror=alert(1)> & "Kita" <b>Süd</b>'


def test_append_then_replace_then_restore(store: Store) -> None:
    first = _write(store, "kita", _points(["a", "b"]))
    second = _write(store, "kita", _points(["c"]))
    other = _write(store, "ogs", _points(["s1"]))
    got = store.read_layer("kita")
    assert got is not None
    assert list(got["id"]) == ["a", "b", "c"]

    third = _write(store, "kita", _points(["z"]), mode="replace")
    got = store.read_layer("kita")
    assert got is not None
    assert list(got["id"]) == ["z"]
    # replace touches only its own layer
    assert store.read_layer("ogs") is not None
    by_id = {b.batch_id: b for b in store.batches()}
    assert not by_id[first.batch_id].active
    assert not by_id[second.batch_id].active
    assert by_id[third.batch_id].active
    assert by_id[other.batch_id].active
    assert [b.batch_id for b in store.batches("kita")] == [third.batch_id, second.batch_id, first.batch_id]
    assert store.layer_meta("kita") == by_id[third.batch_id]

    # undo the replace
    store.deactivate(third.batch_id)
    store.restore(first.batch_id)
    store.restore(second.batch_id)
    got = store.read_layer("kita")
    assert got is not None
    assert list(got["id"]) == ["a", "b", "c"]


def test_deactivate_and_restore(store: Store) -> None:
    info = _write(store, "kita", _points(["a"]))
    store.deactivate(info.batch_id)
    assert store.read_layer("kita") is None
    assert store.layer_ids() == []
    assert store.batches()[0].active is False
    store.restore(info.batch_id)
    got = store.read_layer("kita")
    assert got is not None
    assert len(got) == 1


def test_unknown_batch_is_a_clear_error(store: Store, raises_matching) -> None:  # type: ignore[no-untyped-def]
    with raises_matching(IntegrationsatlasError, "Stapel »nope« nicht gefunden"):
        store.deactivate("nope")
    _write(store, "kita", _points(["a"]))
    with raises_matching(IntegrationsatlasError, "Stapel »nope« nicht gefunden", "store list"):
        store.restore("nope")


def test_geographic_crs_is_refused(store: Store, raises_matching) -> None:  # type: ignore[no-untyped-def]
    gdf = _points(["a"]).to_crs("EPSG:4326")
    with raises_matching(CRSError, "EPSG:4326", "EPSG:25832"):
        _write(store, "kita", gdf)
    assert store.batches() == []


def test_reserved_column_and_bad_mode(store: Store, raises_matching) -> None:  # type: ignore[no-untyped-def]
    gdf = _points(["a"])
    gdf["FID"] = [7]
    with raises_matching(SchemaError, "FID", "reserviert"):
        _write(store, "kita", gdf)
    with raises_matching(IntegrationsatlasError, "Unbekannter Modus »merge«"):
        _write(store, "kita", _points(["a"]), mode="merge")
    with raises_matching(IntegrationsatlasError, "Ungültige Ebenen-ID"):
        _write(store, "Kita; DROP TABLE x", _points(["a"]))
    assert store.batches() == []


def test_failed_write_leaves_store_unchanged(
    gpkg_store: DataStore,
    raises_matching,
    monkeypatch: pytest.MonkeyPatch,  # type: ignore[no-untyped-def]
) -> None:
    store = gpkg_store
    _write(store, "kita", _points(["a"]))
    before = store.batches()
    layers_before = {r[0] for r in pyogrio.list_layers(store.path)}
    real_write = pyogrio.write_dataframe

    def write_then_fail(*args: object, **kwargs: object) -> None:
        real_write(*args, **kwargs)  # the table is on disk ...
        raise OSError("Kein Speicherplatz auf dem Gerät")  # ... and then the disk is full

    monkeypatch.setattr("geo.store.datastore.pyogrio.write_dataframe", write_then_fail)
    with raises_matching(DataError, "Kein Speicherplatz", "unverändert"):
        _write(store, "kita", _points(["b"]), mode="replace")
    monkeypatch.undo()
    assert store.batches() == before
    assert {r[0] for r in pyogrio.list_layers(store.path)} == layers_before
    got = store.read_layer("kita")
    assert got is not None
    assert list(got["id"]) == ["a"]


def test_orphan_table_of_killed_import_is_removed_on_open(gpkg_store: DataStore) -> None:
    store = gpkg_store
    _write(store, "kita", _points(["a"]))
    # simulate an import killed after writing its table but before registering it
    orphan = "kita__20200101T000000_abcdef"
    pyogrio.write_dataframe(
        _points(["ghost"]), store.path, layer=orphan, driver="GPKG", layer_options={"SPATIAL_INDEX": "NO"}
    )
    assert orphan in {r[0] for r in pyogrio.list_layers(store.path)}
    reopened = DataStore(store.path)
    assert orphan not in {r[0] for r in pyogrio.list_layers(store.path)}
    got = reopened.read_layer("kita")
    assert got is not None
    assert list(got["id"]) == ["a"]


def test_table_being_written_by_another_process_is_kept(gpkg_store: DataStore) -> None:
    store = gpkg_store
    _write(store, "kita", _points(["a"]))
    busy = "kita__20200101T000000_123456"
    with store.transaction() as con:
        con.execute(f"INSERT INTO {PENDING_TABLE} VALUES (?, ?)", (busy, datetime.now(UTC).isoformat()))
    pyogrio.write_dataframe(
        _points(["w"]), store.path, layer=busy, driver="GPKG", layer_options={"SPATIAL_INDEX": "NO"}
    )
    DataStore(store.path)
    assert busy in {r[0] for r in pyogrio.list_layers(store.path)}
    # ... but not forever: an abandoned write is cleaned up after the TTL
    with store.transaction() as con:
        old = (datetime.now(UTC) - timedelta(hours=2)).isoformat()
        con.execute(f"UPDATE {PENDING_TABLE} SET started_at = ?", (old,))
    DataStore(store.path)
    assert busy not in {r[0] for r in pyogrio.list_layers(store.path)}


def test_transaction_commits_and_rolls_back(gpkg_store: DataStore) -> None:
    store = gpkg_store
    with store.transaction() as con:
        con.execute("CREATE TABLE scenario (name TEXT)")
        con.execute("INSERT INTO scenario VALUES ('Basis')")

    def insert_then_fail() -> None:
        with store.transaction() as con:
            con.execute("INSERT INTO scenario VALUES ('verworfen')")
            raise RuntimeError("abort")

    with pytest.raises(RuntimeError, match="abort"):
        insert_then_fail()
    con2 = sqlite3.connect(store.path)
    try:
        assert con2.execute("SELECT name FROM scenario").fetchall() == [("Basis",)]
    finally:
        con2.close()
    # other modules' tables do not disturb the GeoPackage
    assert BATCHES_TABLE in {r[0] for r in pyogrio.list_layers(store.path)}


def test_corrupt_store_file_gives_data_error(tmp_path: Path, raises_matching) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "store.gpkg"
    path.write_bytes(b"this is not a geopackage" * 100)
    broken = DataStore(path)
    with raises_matching(DataError, "keine lesbare GeoPackage-Datei"):
        broken.batches()


@pytest.mark.filterwarnings("ignore:Table/view:RuntimeWarning")
def test_missing_table_of_active_batch_is_reported(gpkg_store: DataStore, raises_matching) -> None:  # type: ignore[no-untyped-def]
    store = gpkg_store
    info = _write(store, "kita", _points(["a"]))
    con = sqlite3.connect(store.path)
    con.execute(f'DROP TABLE "kita__{info.batch_id}"')
    con.commit()
    con.close()
    with raises_matching(DataError, info.batch_id, "store delete"):
        store.read_layer("kita")


def test_deleting_twice_changes_nothing_the_second_time(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from integrationsatlas.cli import main

    monkeypatch.setenv("INTEGRATIONSATLAS_HOME", str(tmp_path / "home"))
    store = DataStore(tmp_path / "home" / "store.gpkg")
    gdf = gpd.GeoDataFrame({"id": ["k1"], "name": ["Kita"]}, geometry=[Point(343_000, 5_655_000)], crs="EPSG:25832")
    batch = store.write_layer("kita", gdf, mode="append", source_file="k.csv", source="import", licence="-")
    assert main(["store", "delete", batch.batch_id]) == 0
    assert "gelöscht (deaktiviert)" in capsys.readouterr().out
    assert main(["store", "delete", batch.batch_id]) == 0
    assert "war bereits gelöscht; nichts geändert" in capsys.readouterr().out
    assert store.restore(batch.batch_id) is True
    assert store.restore(batch.batch_id) is False


def test_both_backends_give_the_same_frame(tmp_path: Path, database_url: str) -> None:
    gdf = _points(["a", "b", "c"])
    gdf["plaetze"] = pd.array([40, None, 12], dtype="Int64")
    gdf["ogs"] = pd.array([True, None, False], dtype="boolean")
    gdf["anteil"] = [0.25, float("nan"), 1e-9]
    gdf["jahr"] = [2019, 2020, 2021]
    gdf["offen"] = [True, False, True]
    gdf["traeger"] = ["AWO", None, 'Stadt Köln; "Süd"\nzweite Zeile \u2028']
    gdf.loc[2, "geometry"] = None  # a row without location
    gpkg = DataStore(tmp_path / "store.gpkg")
    pg = open_store(Settings(database_url=database_url))
    a = gpkg.read_layer(_write(gpkg, "kita", gdf).layer_id)
    b = pg.read_layer(_write(pg, "kita", gdf).layer_id)
    assert a is not None and b is not None
    pd.testing.assert_frame_equal(a.drop(columns=["batch_id", "geometry"]), b.drop(columns=["batch_id", "geometry"]))
    assert a.geometry.isna().tolist() == b.geometry.isna().tolist() == [False, False, True]
    assert a.geometry.iloc[:2].equals(b.geometry.iloc[:2])
    assert b["traeger"].iloc[2] == 'Stadt Köln; "Süd"\nzweite Zeile \u2028'


def test_ids_already_stored_are_refused_inside_the_write(store: Store) -> None:
    from geo.store.datastore import DuplicateIdError

    store.write_layer(
        "kita",
        _points(["a", "b"]),
        mode="append",
        source_file="a.csv",
        source="import",
        licence="CC0",
        unique_column="id",
    )
    before = store.batches()
    with pytest.raises(DuplicateIdError, match="»b«"):
        store.write_layer(
            "kita",
            _points(["b", "c"]),
            mode="append",
            source_file="b.csv",
            source="import",
            licence="CC0",
            unique_column="id",
        )
    assert [b.batch_id for b in store.batches()] == [b.batch_id for b in before]  # nothing stored
    store.write_layer(
        "kita", _points(["c"]), mode="append", source_file="c.csv", source="import", licence="CC0", unique_column="id"
    )
    assert sorted(store.read_layer("kita")["id"]) == ["a", "b", "c"]  # type: ignore[index]
