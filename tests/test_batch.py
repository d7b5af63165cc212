"""Batch plans (TOML) and batch runs on a local dask cluster (integrationsatlas.batch)."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest

from geo.errors import DataError
from geo.io.geoparquet import read_geoparquet, write_geoparquet
from geo.settings import PROJECT_ROOT, Settings
from integrationsatlas.batch import BatchFolder, read_plan, run_batch
from integrationsatlas.batch.run import run_task
from integrationsatlas.cli import main
from integrationsatlas.request import AnalysisRequest
from integrationsatlas.results import stored_request

PLAN = """
[plan]
name = "Test"
areas = ["05334", "05111"]
layers = ["ki"]
modes = ["luftlinie"]
thresholds = [5, 10]

[scenarios.gesamt]
[scenarios.auslaender]
target_group = "foreign"
"""


#: Two populated 1 km cells in Düsseldorf (EPSG:3035) in the Destatis layout.
ZENSUS_1KM = (
    "GITTER_ID_1km;x_mp_1km;y_mp_1km;Einwohner\n"
    "CRS3035RES1000mN3122000E4100000;4100500;3122500;1200\n"
    "CRS3035RES1000mN3122000E4101000;4101500;3122500;800\n"
)


def write(tmp_path: Path, text: str, name: str = "plan.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_plan_expands_areas_layers_modes_thresholds_and_scenarios(tmp_path: Path, settings: Settings) -> None:
    plan = read_plan(write(tmp_path, PLAN), settings)
    tasks = plan.tasks()
    assert len(tasks) == 2 * 1 * 1 * 2 * 2
    assert len({t.key for t in tasks}) == len(tasks)
    foreign = [t for t in tasks if t.scenario == "auslaender"]
    assert {t.request.target_group for t in foreign} == {"foreign"}
    assert {(t.request.area.code, t.request.threshold, t.request.unit) for t in foreign} == {
        ("05334", 5.0, "km"),
        ("05334", 10.0, "km"),
        ("05111", 5.0, "km"),
        ("05111", 10.0, "km"),
    }


def test_plan_area_sets_and_the_example_plan(settings: Settings) -> None:
    plan = read_plan(PROJECT_ROOT / "examples" / "batch_kreise.toml", settings)
    assert len(plan.areas) == 53 and plan.layers == ("ki", "ogs") and plan.thresholds == (5.0, 10.0)
    assert len(plan.tasks()) == 212
    assert [(d.kind, d.target) for d in plan.data] == [("layer", "ogs"), ("population", "destatis_gv")]


def test_plan_problems_are_all_reported_in_german(tmp_path: Path, settings: Settings) -> None:
    bad = """
[plan]
areas = "bundeslaender"
layers = []
modes = ["rakete"]
thresholds = [0]
farbe = "blau"
[[data]]
layer = "ogs"
"""
    with pytest.raises(DataError) as info:
        read_plan(write(tmp_path, bad), settings)
    text = str(info.value)
    for fragment in ("areas", "layers", "»rakete« unbekannt", "thresholds", "farbe", "[[data]] Nr. 1"):
        assert fragment in text
    with pytest.raises(DataError, match="keine gültige TOML"):
        read_plan(write(tmp_path, "[plan\nareas=", "broken.toml"), settings)


def test_plan_data_imports_a_zensus_grid_into_the_batch_store_once(tmp_path: Path, settings: Settings) -> None:
    """``zensus = "…"`` under ``[[data]]`` fills the batch's own store; a rerun keeps the table (same batch id)."""
    from geo.sources.zensus import ZENSUS_LAYER
    from geo.store import open_store
    from integrationsatlas.coverage import best_demand

    grid = tmp_path / "Zensus2022_Bevoelkerungszahl_1km-Gitter.csv"
    grid.write_text(ZENSUS_1KM, encoding="utf-8")
    plan = read_plan(write(tmp_path, PLAN + f'\n[[data]]\nzensus = "{grid.name}"\n'), settings)
    [item] = plan.data
    assert (item.kind, item.target, item.file) == ("zensus", ZENSUS_LAYER, grid.resolve())
    own = BatchFolder(tmp_path / "out").settings_for(settings, own_store=True)
    item.apply(own)
    demand = best_demand(own)
    assert demand.level == "zensus" and demand.points["population"].sum() == 2000
    first = open_store(own).batches(ZENSUS_LAYER)
    item.apply(own)
    assert open_store(own).batches(ZENSUS_LAYER) == first and len(first) == 1
    assert not settings.store_path.exists()


def test_travel_modes_need_their_files(tmp_path: Path, settings: Settings) -> None:
    plan = read_plan(write(tmp_path, PLAN.replace('modes = ["luftlinie"]', 'modes = ["walk"]')), settings)
    with pytest.raises(DataError, match="OSM-Datei"):
        plan.tasks()


def test_plan_paths_are_relative_to_the_plan(tmp_path: Path, settings: Settings) -> None:
    osm = tmp_path / "netz.osm.pbf"
    osm.write_bytes(b"")
    plan = read_plan(write(tmp_path, PLAN + '\n[scenarios.zu_fuss]\nosm = "netz.osm.pbf"\n'), settings)
    assert plan.scenarios["zu_fuss"]["osm"] == str(osm.resolve())


def test_result_files_are_written_once_and_carry_their_request(tmp_path: Path) -> None:
    frame = gpd.GeoDataFrame({"a": [1]}, geometry=gpd.points_from_xy([300_000], [5_650_000]), crs="EPSG:25832")
    path = tmp_path / "r.parquet"
    assert write_geoparquet(frame, path, {"request": {"x": 1}}) is True
    assert write_geoparquet(frame.assign(a=2), path, {"request": {"x": 2}}) is False  # the first writer wins
    back, meta = read_geoparquet(path)
    assert back["a"].tolist() == [1] and meta == {"request": {"x": 1}}
    assert back.crs == frame.crs
    assert not list(tmp_path.glob(".*partial"))


def test_a_task_answers_with_the_pipeline_and_is_not_computed_twice(tmp_path: Path, settings: Settings) -> None:
    task = read_plan(write(tmp_path, PLAN), settings).tasks()[0]
    folder = BatchFolder(tmp_path / "out")
    row = run_task(task, settings, str(folder.results), None)
    path = folder.result_path(task.key)
    assert row["key"] == task.key and 0 <= row["share_covered"] <= 1 and row["scenario"] == "gesamt"
    assert stored_request(path) == task.request
    stamp = path.stat().st_mtime_ns
    assert run_task(task, settings, str(folder.results), None) == row
    assert path.stat().st_mtime_ns == stamp
    cells, meta = read_geoparquet(path)
    assert {"cost", "covered", "weight"} <= set(cells.columns) and meta["key"] == task.key
    assert AnalysisRequest.from_dict(meta["request"]).key == task.key


def test_data_errors_become_rows_with_a_german_message(tmp_path: Path, settings: Settings) -> None:
    task = read_plan(write(tmp_path, PLAN.replace('"ki"', '"kita"')), settings).tasks()[0]  # kita: no data
    row = run_task(task, settings, str(tmp_path), None)
    assert "keine Einrichtungen" in row["message"]
    assert not list(tmp_path.glob("*.parquet"))


@pytest.mark.slow
def test_batch_on_a_local_cluster_then_a_rerun_skips_every_finished_task(tmp_path: Path, settings: Settings) -> None:
    plan_path = write(tmp_path, PLAN.replace("thresholds = [5, 10]", "thresholds = [5]"))
    out = tmp_path / "out"
    plan = read_plan(plan_path, settings)
    seen: list[tuple[int, int, int]] = []
    first = run_batch(plan, out, settings, n_workers=1, progress=lambda *a: seen.append(a))
    assert (first.total, first.done, first.skipped, first.failed) == (4, 4, 0, {})
    assert seen[-1] == (4, 4, 0)
    table = pd.read_csv(out / "zusammenfassung.csv", dtype={"area": str})
    assert sorted(table["area"]) == ["05111", "05111", "05334", "05334"] and (table["status"] == "fertig").all()
    stamps = {p.name: p.stat().st_mtime_ns for p in (out / "ergebnisse").glob("*.parquet")}
    again = run_batch(plan, out, settings, n_workers=1)
    assert (again.done, again.skipped, again.workers) == (0, 4, 0)  # nothing submitted, no cluster started
    assert {p.name: p.stat().st_mtime_ns for p in (out / "ergebnisse").glob("*.parquet")} == stamps


def test_cli_batch_json(
    tmp_path: Path, settings: Settings, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The CLI reports a finished plan without starting a cluster (every task done)."""
    monkeypatch.setenv("INTEGRATIONSATLAS_HOME", str(tmp_path / "home"))
    plan_path = write(tmp_path, PLAN.replace("thresholds = [5, 10]", "thresholds = [5]").replace(', "05111"', ""))
    out = tmp_path / "out"
    for task in read_plan(plan_path, settings).tasks():
        run_task(task, settings, str(BatchFolder(out).results), None)
    assert main(["batch", str(plan_path), "-o", str(out), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["tasks"] == 2 and report["skipped"] == 2 and report["done"] == 0
    assert Path(report["summary"]).is_file()


#: The batch run with one task that ends its worker every time, as ``integrationsatlas batch`` runs it: in a
#: fresh process (in the long test process, after the app tests, the nanny once never restarted the worker).
KILLER_RUN = """
import json, os, sys
from pathlib import Path

from geo.settings import Settings
from integrationsatlas.batch import read_plan, run_batch
from integrationsatlas.batch import run as batch_run


def end_worker(*_rows):
    os._exit(1)  # as dask's nanny ends a worker above the memory limit


def submit_one_killer(client, tasks, settings, folder):
    others = real_submit(client, tasks[1:], settings, folder)
    # after the others (so no other task is on the worker when it dies), every time it runs
    killer = client.submit(end_worker, *others, key=f"abbruch-{tasks[0].key}", pure=False)
    return [killer, *others]


if __name__ == "__main__":
    real_submit, batch_run.submit = batch_run.submit, submit_one_killer
    plan_path, home, out = (Path(a) for a in sys.argv[1:4])
    settings = Settings().with_home(home)
    plan = read_plan(plan_path, settings)
    outcome = run_batch(plan, out, settings, n_workers=1, worker_memory="2GiB")
    print(json.dumps({"first": plan.tasks()[0].key, "failed": outcome.failed, "done": outcome.done}, default=str))
"""


@pytest.mark.slow
def test_a_task_that_kills_its_workers_fails_alone(tmp_path: Path) -> None:
    """A task whose workers die every time (as over the memory limit) is one failed row; the others are done."""
    import subprocess
    import sys

    script = write(tmp_path, KILLER_RUN, "killer_run.py")
    plan_path = write(tmp_path, PLAN.replace("thresholds = [5, 10]", "thresholds = [5]"))
    done = subprocess.run(
        [sys.executable, str(script), str(plan_path), str(tmp_path / "home"), str(tmp_path / "out")],
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "PYTHONPATH": str(PROJECT_ROOT)},
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    outcome = json.loads(done.stdout.strip().splitlines()[-1])
    assert set(outcome["failed"]) == {outcome["first"]} and outcome["done"] == 3
    message = outcome["failed"][outcome["first"]]["message"]
    assert "beendet" in message and "--worker-memory" in message and "2GiB" in message
    table = pd.read_csv(tmp_path / "out" / "zusammenfassung.csv", dtype={"area": str})
    assert sorted(table["status"]) == ["fehler", "fertig", "fertig", "fertig"]


def test_tasks_left_without_any_worker_fail_instead_of_waiting_for_ever() -> None:
    # a scheduler without workers (as when a nanny never restarts its killed worker): the task is orphaned
    from distributed import Client, LocalCluster

    from integrationsatlas.batch.run import WorkerlessError, as_finished, killed_message

    with LocalCluster(n_workers=0, processes=False, dashboard_address=None) as cluster, Client(cluster) as client:
        future = client.submit(sum, [1, 2], key="ohne-worker")
        t0 = time.perf_counter()
        assert [(f.key, orphaned) for f, orphaned in as_finished(client, [future], 1.0)] == [("ohne-worker", True)]
        assert 1.0 <= time.perf_counter() - t0 < 10.0
    message = killed_message(WorkerlessError(), "2GiB", None)
    assert message.startswith("Seit 60 s ist kein Worker mehr da")
    assert "--worker-memory" in message and "2GiB" in message


def test_a_finished_run_sweeps_the_partial_files_of_finished_tasks(tmp_path: Path) -> None:
    # a worker killed between writing and renaming leaves ».KEY.parquet.PID.RUN.partial« behind (its clean-up never
    # runs); once KEY's complete file exists that file is garbage, while a partial of an unfinished task is not ours
    folder = BatchFolder(tmp_path / "out")
    folder.result_path("k1").write_bytes(b"done")
    (folder.results / ".k1.parquet.10307.39e809d9.partial").write_bytes(b"half")
    (folder.results / ".k2.parquet.10308.0a1b2c3d.partial").write_bytes(b"half")
    assert folder.sweep_partials() == 1
    assert sorted(p.name for p in folder.results.iterdir()) == [".k2.parquet.10308.0a1b2c3d.partial", "k1.parquet"]
