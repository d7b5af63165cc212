"""Multi-user safety of the data store on both backends (GeoPackage and PostgreSQL/PostGIS).

* two processes writing the same ids at the same moment: exactly one wins,
  the other gets a clear German error, nothing is mixed;
* a process killed (SIGKILL) during an import batch write: every batch is
  complete or absent afterwards;
* forward schema migrations (PostGIS) and of old GeoPackage stores.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from test_scenarios import make_scenario

from geo.errors import DatabaseUnavailableError, DataError, IntegrationsatlasError
from geo.settings import PROJECT_ROOT, Settings
from geo.store import DataStore, open_store
from geo.store.scenarios import load_scenario, save_scenario

pytest_plugins = ("store_backends",)

TASKS = ("scenario", "batch", "overwrite")
ROUNDS = 6

RACER = textwrap.dedent("""
    import json, sys, time
    from dataclasses import replace
    from pathlib import Path
    sys.path.insert(0, {root!r})
    sys.path.insert(0, {tests!r})
    import geopandas as gpd
    import numpy as np
    import geo.store.datastore as datastore
    from geo.errors import DataError
    from geo.settings import Settings
    from geo.store import open_store
    from geo.store.scenarios import load_scenario, save_scenario
    from test_scenarios import make_scenario

    me, start_at, gap = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])
    settings = replace(Settings().with_home(Path({home!r})), database_url={url!r})
    store = open_store(settings)
    if settings.database_url:
        import geo.store.postgis as backend
    else:
        backend = datastore
    tasks = {tasks!r}
    loaded = {{r: load_scenario(settings, f"Geteilt {{r}}") for r in range({rounds}) if tasks[r % 3] == "overwrite"}}
    for r in range({rounds}):
        task = tasks[r % 3]
        rows = 3000
        frame = gpd.GeoDataFrame({{"id": [f"{{me}}:{{i}}" for i in range(rows)]}},
                                 geometry=gpd.points_from_xy(300000.0 + np.arange(rows), np.full(rows, 5650000.0)),
                                 crs="EPSG:25832") if task == "batch" else None
        backend.new_batch_id = lambda now, r=r: f"20250101T000000_{{r:06x}}"  # same id in both processes
        while time.time() < start_at + r * gap:
            time.sleep(0.0005)
        t0 = time.time()
        try:
            if task == "scenario":
                save_scenario(settings, replace(make_scenario(f"Neu {{r}}", n_new=1500), area_name=me))
            elif task == "batch":
                store.write_layer(f"layer{{r}}", frame, mode="append", source_file=me, source="import", licence="-")
            else:
                sc = loaded[r]
                save_scenario(settings, replace(sc, area_name=me, results={{**sc.results, "by": me}}), overwrite=True)
            result = "won"
        except DataError as exc:
            result = "lost: " + str(exc)
        print(json.dumps({{"round": r, "task": task, "result": result, "t0": t0, "t1": time.time()}}), flush=True)
""")


def _script(tmp_path: Path, name: str, template: str, settings: Settings, **extra: object) -> Path:
    path = tmp_path / f"{name}.py"
    path.write_text(
        template.format(
            root=str(PROJECT_ROOT),
            tests=str(Path(__file__).parent),
            home=str(settings.store_path.parent),
            url=settings.database_url,
            **extra,
        )
    )
    return path


@pytest.mark.slow  # ~20 s per backend: two fresh interpreters and six synchronised rounds
def test_two_processes_writing_the_same_ids_exactly_one_wins(backend_settings: Settings, tmp_path: Path) -> None:
    settings = backend_settings
    for r in range(ROUNDS):
        if TASKS[r % 3] == "overwrite":
            save_scenario(settings, make_scenario(f"Geteilt {r}", n_new=1500))
    script = _script(tmp_path, "racer", RACER, settings, tasks=TASKS, rounds=ROUNDS)
    start_at, gap = time.time() + 10.0, 0.8
    procs = {
        me: subprocess.Popen(
            [sys.executable, str(script), me, str(start_at), str(gap)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for me in ("A", "B")
    }
    outputs = {}
    for me, proc in procs.items():
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
        outputs[me] = {d["round"]: d for d in map(json.loads, out.splitlines())}
    # the race was real: both writes were under way at the same time (in most rounds; a loaded machine may
    # delay one process, which then loses by finding the other's committed row – also exactly one winner)
    a, b = outputs["A"], outputs["B"]
    overlapping = sum(max(a[r]["t0"], b[r]["t0"]) < min(a[r]["t1"], b[r]["t1"]) for r in range(ROUNDS))
    print(f"RACE {(settings.database_url and 'postgis') or 'geopackage'}: {overlapping}/{ROUNDS} rounds overlapped")
    assert overlapping >= ROUNDS // 2, outputs
    store = open_store(settings)
    for r in range(ROUNDS):
        task = TASKS[r % 3]
        results = {me: outputs[me][r]["result"] for me in procs}
        winners = [me for me, res in results.items() if res == "won"]
        assert len(winners) == 1, (task, results)
        loser = next(res for res in results.values() if res != "won")
        winner = winners[0]
        if task == "scenario":
            assert "gibt es schon" in loser
            back = load_scenario(settings, f"Neu {r}")
            assert back.area_name == winner and len(back.sites) == 1501
        elif task == "batch":
            assert "gleichzeitig von einem anderen Import vergeben" in loser
            layer = store.read_layer(f"layer{r}")
            assert layer is not None and len(layer) == 3000
            assert set(layer["id"].str.split(":").str[0]) == {winner}
        else:
            assert "inzwischen von jemand anderem gespeichert" in loser
            back = load_scenario(settings, f"Geteilt {r}")
            assert back.version == 2 and back.area_name == winner and back.results["by"] == winner


WRITER = textwrap.dedent("""
    import sys, time
    from dataclasses import replace
    from pathlib import Path
    sys.path.insert(0, {root!r})
    import geopandas as gpd
    import numpy as np
    from geo.settings import Settings
    from geo.store import open_store

    settings = replace(Settings().with_home(Path({home!r})), database_url={url!r})
    signal_file = Path({signal_file!r})
    store = open_store(settings)
    if {mode!r} == "hang":
        import geo.store.postgis as backend
        original = backend._insert_features

        def slow_insert(con, rows):
            original(con, rows[: len(rows) // 2])    # half of the rows are written ...
            signal_file.write_text("inside")
            time.sleep(120)                           # ... and the process is killed here
            original(con, rows[len(rows) // 2:])

        backend._insert_features = slow_insert
    k = {first}
    while True:
        n = 200 + (k * 37) % 800
        frame = gpd.GeoDataFrame({{"id": [f"{{k}}:{{i}}" for i in range(n)], "k": np.full(n, k)}},
                                 geometry=gpd.points_from_xy(300000.0 + np.arange(n), np.full(n, 5650000.0)),
                                 crs="EPSG:25832")
        store.write_layer("kita", frame, mode="replace" if k % 5 == 0 else "append", source_file=f"n={{n}}",
                          source="import", licence="-")
        if k == {first} + 1:
            signal_file.write_text("looping")
        k += 1
""")


def _wait_for(path: Path, proc: subprocess.Popen[bytes], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        if proc.poll() is not None:
            raise AssertionError(f"Kindprozess beendet: {proc.stderr.read().decode() if proc.stderr else ''}")
        if time.monotonic() > deadline:
            proc.kill()
            raise AssertionError("Kindprozess hat das Signal nicht gesetzt")
        time.sleep(0.01)


def _assert_batches_complete(settings: Settings) -> int:
    """Every registered batch has exactly its rows; return the number of batches."""
    store = open_store(settings)
    batches = store.batches("kita")
    for b in batches:
        assert b.rows_kept == int(b.source_file.removeprefix("n=")), b
    active = [b for b in batches if b.active]
    layer = store.read_layer("kita")  # raises DataError if an active batch is incomplete
    if not active:
        assert layer is None
        return len(batches)
    assert layer is not None
    counts = layer.groupby("batch_id").size().to_dict()
    assert counts == {b.batch_id: b.rows_kept for b in active}
    for _, part in layer.groupby("batch_id"):
        k = int(part["k"].iloc[0])
        assert part["id"].tolist() == [f"{k}:{i}" for i in range(len(part))]
    if isinstance(store, DataStore):  # reopening (orphan clean-up) keeps the visible content
        assert DataStore(store.path).batches("kita") == batches
    return len(batches)


@pytest.mark.slow  # kills writer processes at random moments: tens of seconds
def test_import_killed_at_a_random_moment_leaves_complete_batches(backend_settings: Settings, tmp_path: Path) -> None:
    settings = backend_settings
    rng = np.random.default_rng(11)
    first, before = 0, 0
    for attempt in range(3):
        signal_file = tmp_path / f"signal-{attempt}"
        script = _script(
            tmp_path, f"writer{attempt}", WRITER, settings, signal_file=str(signal_file), mode="loop", first=first
        )
        proc = subprocess.Popen([sys.executable, str(script)], stderr=subprocess.PIPE)
        _wait_for(signal_file, proc)
        time.sleep(float(rng.uniform(0.0, 0.5)))
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
        n = _assert_batches_complete(settings)
        assert n >= before + 2  # the writer had registered at least two batches before the kill
        first, before = 1000 * (attempt + 1), n  # fresh ids for the next writer


@pytest.mark.slow
def test_import_killed_inside_the_transaction_leaves_nothing(
    database_url: str, settings: Settings, tmp_path: Path
) -> None:
    settings = replace(settings, database_url=database_url)
    signal_file = tmp_path / "signal-hang"
    script = _script(tmp_path, "writer-hang", WRITER, settings, signal_file=str(signal_file), mode="hang", first=0)
    proc = subprocess.Popen([sys.executable, str(script)], stderr=subprocess.PIPE)
    _wait_for(signal_file, proc)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    store = open_store(settings)
    assert store.batches() == [] and store.read_layer("kita") is None
    with store.transaction() as con:  # type: ignore[attr-defined]
        from sqlalchemy import text

        assert con.execute(text("SELECT count(*) FROM atlas_features")).scalar_one() == 0


# --- schema migrations ------------------------------------------------------------


def test_postgis_schema_migrates_forward(database_url: str, settings: Settings) -> None:
    from sqlalchemy import create_engine, text

    from geo.store.postgis import SCHEMA_VERSION, ensure_schema, sqlalchemy_url

    engine = create_engine(sqlalchemy_url(database_url))
    try:
        assert ensure_schema(engine, target=1) == 1  # a database created by the first release
        with engine.begin() as con:
            cols = {
                r[0]
                for r in con.execute(
                    text("SELECT column_name FROM information_schema.columns WHERE table_name = 'atlas_scenarios'")
                )
            }
            assert "version" not in cols
        old = replace(settings, database_url=database_url)
        # a scenario saved by the old release (no version column yet)
        with engine.begin() as con:
            con.execute(
                text(
                    "INSERT INTO atlas_scenarios VALUES ('Alt', '2025-01-01T00:00:00+00:00', '05334', 'mclp', 0, 1, :p)"
                ),
                {"p": json.dumps({"area_name": "Aachen"})},
            )
        assert ensure_schema(engine) == SCHEMA_VERSION == 5
        assert ensure_schema(engine) == 5  # idempotent
        with engine.begin() as con:
            applied = [r[0] for r in con.execute(text("SELECT version FROM atlas_schema_version ORDER BY 1"))]
            assert applied == [1, 2, 3, 4, 5]
        back = load_scenario(old, "Alt")
        assert back.version == 1 and back.area_name == "Aachen"
        with engine.begin() as con:
            con.execute(text("INSERT INTO atlas_schema_version (version) VALUES (99)"))
        with pytest.raises(DataError, match="Schema-Version 99"):
            ensure_schema(engine)
    finally:
        engine.dispose()


def test_old_geopackage_scenarios_get_the_version_column(settings: Settings) -> None:
    save_scenario(settings, make_scenario("Alt"))
    con = sqlite3.connect(settings.store_path)
    con.execute("ALTER TABLE atlas_scenarios DROP COLUMN version")  # as written by the first release
    con.commit()
    con.close()
    assert load_scenario(settings, "Alt").version == 1
    assert save_scenario(settings, make_scenario("Alt"), overwrite=True) == 2


def test_unreachable_database_is_a_clear_error(settings: Settings) -> None:
    from geo.store.postgis import PostgisStore

    with pytest.raises(
        DatabaseUnavailableError, match=r"nicht erreichbar[\s\S]*INTEGRATIONSATLAS_DATABASE_URL"
    ) as info:
        PostgisStore("postgresql://atlas:geheim@127.0.0.1:1/atlas")
    assert "geheim" not in str(info.value)
    with pytest.raises(IntegrationsatlasError, match="keine PostgreSQL-Adresse"):
        PostgisStore("mysql://x@y/z")


# --- cached results shared between app processes ---------------------------------------------


def test_result_cache_first_writer_wins(database_url: str) -> None:
    from geo.store.result_cache import ResultCache

    cache = ResultCache(database_url)
    assert cache.get("network/x.npz") is None
    assert cache.put("network/x.npz", b"\x00erste") is True
    assert cache.put("network/x.npz", b"zweite") is False  # immutable: the first writer wins
    assert cache.get("network/x.npz") == b"\x00erste"
    assert cache.keys("network/") == ["network/x.npz"]


def test_street_network_is_shared_between_app_processes(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from test_network import TINY_OSM

    from geo.sources import streets
    from geo.sources.streets import load_network

    osm = tmp_path / "tiny.osm"
    osm.write_text(TINY_OSM, encoding="utf-8")
    first_server = replace(Settings().with_home(tmp_path / "a"), database_url=database_url)
    second_server = replace(Settings().with_home(tmp_path / "b"), database_url=database_url)
    monkeypatch.setattr(streets, "_MEMORY", streets.OrderedDict())
    built = load_network("walk", first_server, osm_file=osm)
    streets._MEMORY.clear()

    def must_not_build(*args: object, **kwargs: object) -> None:
        raise AssertionError("the second app process rebuilt the network")

    monkeypatch.setattr(streets, "build_graph_from_xml", must_not_build)
    shared = load_network("walk", second_server, osm_file=osm)  # own cache_dir is empty: from the database
    assert (shared.node_ids == built.node_ids).all()
    assert (shared.matrix != built.matrix).nnz == 0
    assert list((tmp_path / "b" / "cache" / "networks").glob("*.npz"))  # and now cached locally as well
