"""One request, one pipeline: the request object, its JSON and key, and the pipeline on both store backends."""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import box

from geo.settings import Settings
from geo.store import Store, open_store
from geo.store.scenarios import load_scenario, save_scenario
from integrationsatlas.coverage import coverage_report
from integrationsatlas.pipeline.costs import Extent
from integrationsatlas.request import AnalysisRequest, AreaRef, SitingSpec
from integrationsatlas.scenarios import rerun_scenario, scenario_request
from integrationsatlas.siting import plan_sites

pytest_plugins = ("store_backends",)

CSV_1KM = """GITTER_ID_1km;x_mp_1km;y_mp_1km;Einwohner
CRS3035RES1000mN3096000E4106000;4106500;3096500;1.234
CRS3035RES1000mN3128000E4096000;4096500;3128500;87
"""


# --- the request -----------------------------------------------------------------------------------------------


def test_the_same_question_has_the_same_key_and_survives_json_and_pickle() -> None:
    a = AnalysisRequest("kita", 15, unit="min", mode="walk", area="05334", osm_file=Path("/data/aachen.osm.pbf"))
    b = AnalysisRequest("kita", 15.0, unit="min", area=AreaRef("05334"), osm_file="/data/aachen.osm.pbf")
    assert a == b and a.key == b.key and hash(a) == hash(b)
    assert AnalysisRequest("kita", 15, unit="min", area="05334").key != a.key  # another network, another question
    assert AnalysisRequest.from_dict(json.loads(json.dumps(a.as_dict()))) == a
    assert pickle.loads(pickle.dumps(a)) == a
    # a straight-line question has no mode, timetable or window: they cannot split one question into two keys
    km = AnalysisRequest("ki", 10, mode="bike", gtfs_file="x.zip", window=(0, 60))
    assert km.mode is None and km.gtfs_file is None and km.key == AnalysisRequest("ki", 10).key
    # public transport fixes its service day when asked, so a rerun asks about the same day
    assert AnalysisRequest("kita", 20, unit="min", mode="oepnv").day is not None


def test_older_scenario_parameters_are_read_as_a_request() -> None:
    legacy = {
        "area": "05334",
        "model": "pmedian",
        "p": 3,
        "radius_km": None,
        "minutes": 15.0,
        "mode": "bike",
        "osm_file": "/x/aachen.osm.pbf",
        "fixed_layer": "ankommenstreffpunkt",
        "user_points": [[300_000.0, 5_630_000.0, "Rathaus"]],
        "transit_window": [25200, 32400],
    }
    request = AnalysisRequest.from_dict(legacy)
    assert (request.unit, request.threshold, request.mode, request.area.code) == ("min", 15.0, "bike", "05334")
    assert request.siting is not None and request.siting.model == "pmedian" and request.siting.p == 3
    assert request.siting.keep_existing and request.siting.user_points == ((300_000.0, 5_630_000.0, "Rathaus"),)


def test_the_request_says_itself_in_german() -> None:
    text = AnalysisRequest(
        "kita", 15, unit="min", mode="oepnv", area="05334", osm_file="a.osm.pbf", gtfs_file="bus.zip", day="2026-12-08"
    ).describe("Städteregion Aachen", "Kitas")
    assert "15 Minuten mit Bus und Bahn" in text and "von Tür zu Tür" in text and "08.12.2026" in text
    assert "Städteregion Aachen (Kreis / kreisfreie Stadt, AGS 05334)" in text and "07:00–09:00" in text


def test_extent_names_the_covered_part() -> None:
    part = Extent("Ausschnitt aachen.osm.pbf", "Städteregion Aachen", 139_167, 556_246)
    assert part.partial and abs(part.share - 0.25) < 0.01
    assert part.caption.startswith("Ausschnitt aachen.osm.pbf: 25,0 % der Einwohner im Gebiet Städteregion Aachen")
    whole = Extent("Städteregion Aachen", "Städteregion Aachen", 10, 10)
    assert not whole.partial and whole.label == "Städteregion Aachen"


# --- the pipeline on both backends ------------------------------------------------------------------------------


def test_both_backends_are_stores() -> None:
    from geo.store.datastore import DataStore
    from geo.store.postgis import PostgisStore

    for cls in (DataStore, PostgisStore):
        missing = [name for name in vars(Store) if not name.startswith("_") and not hasattr(cls, name)]
        assert not missing, (cls.__name__, missing)


@pytest.mark.slow
def test_coverage_and_siting_agree_on_both_backends(backend_settings: Settings) -> None:
    kitas = gpd.GeoDataFrame(
        {"id": ["k1", "k2"], "name": ["Kita Nord", "Kita Süd"]},
        geometry=gpd.points_from_xy([345_000.0, 356_000.0], [5_650_000.0, 5_640_000.0]),
        crs="EPSG:25832",
    )
    open_store(backend_settings).write_layer(
        "kita", kitas, mode="replace", source_file="kitas.csv", source="import", licence="CC0"
    )
    request = AnalysisRequest("kita", 8.0, area=AreaRef("05315"))
    report = coverage_report(backend_settings, request)
    assert report.request == request and report.extent is not None and not report.extent.partial
    plan = plan_sites(
        backend_settings, request.with_(siting=SitingSpec(p=1, sensitivity_ps=(), n_clusters=5, grid_spacing_m=0))
    )
    # the plan's "before" is the coverage report's covered share: the same people, to the person
    assert round(plan.explanation.covered_before) == round(report.covered_weight)
    assert plan.summary()["share_before"] == pytest.approx(report.share_covered, abs=1e-12)
    assert plan.resolution is not None and plan.resolution.ok == report.resolution.ok
    # results travel: picklable (batch workers) and JSON (CLI, batch summaries)
    assert pickle.loads(pickle.dumps(report)).covered_weight == report.covered_weight
    assert pickle.loads(pickle.dumps(plan)).summary()["covered_after"] == plan.summary()["covered_after"]
    json.dumps(report.as_dict(), default=str)
    # a saved scenario stores its request and re-runs exactly
    save_scenario(backend_settings, plan.to_scenario("Köln 1"))
    saved = load_scenario(backend_settings, "Köln 1")
    assert scenario_request(saved) == plan.request
    again = rerun_scenario(backend_settings, saved)
    assert again.sites["candidate_id"].tolist() == plan.sites["candidate_id"].tolist()


def test_a_loaded_zensus_grid_is_used_on_both_backends(
    backend_settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With a Zensus grid in the store, no analysis estimates demand from OSM buildings (on either backend)."""
    import integrationsatlas.osm_demand
    from geo.sources.zensus import import_zensus
    from integrationsatlas.pipeline.demand import request_demand

    kreise = gpd.GeoDataFrame(
        {"ags": ["05315", "05111"], "name": ["Köln", "Düsseldorf"]},
        geometry=[box(340_000, 5_630_000, 370_000, 5_660_000), box(330_000, 5_665_000, 360_000, 5_690_000)],
        crs="EPSG:25832",
    )
    grid = tmp_path / "Zensus2022_Bevoelkerungszahl_1km-Gitter.csv"
    grid.write_text(CSV_1KM, encoding="utf-8")
    import_zensus(grid, backend_settings, kreise=kreise)
    osm = tmp_path / "irgendwo.osm"
    osm.write_text("<osm version='0.6'/>", encoding="utf-8")

    def no_estimate(*args: object, **kwargs: object) -> None:
        raise AssertionError("OSM-Gebäudeschätzung trotz geladenem Zensus-Gitter")

    monkeypatch.setattr(integrationsatlas.osm_demand, "osm_demand", no_estimate)
    demand, note = request_demand(backend_settings, AnalysisRequest("kita", 5.0, osm_file=osm))
    assert demand.level == "zensus" and note == ""
    assert np.isclose(demand.total_population, 1321.0)


@pytest.mark.slow
def test_sources_survive_the_import_and_reach_the_report(
    backend_settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from geo.layers.inventory import layer_inventory
    from geo.layers.sources import DB_STATIONS
    from integrationsatlas.cli import main
    from integrationsatlas.report import build_report

    monkeypatch.setattr(Settings, "from_env", classmethod(lambda cls: backend_settings))
    csv = tmp_path / "kitas.csv"
    csv.write_text("id;name;lat;lon\nk1;Kita am Dom;50.9413;6.9583\n", encoding="utf-8")
    argv = ["import", str(csv), "--layer", "kita", "--source", "db", "--as-of", "2020-06-30"]
    assert main(argv) == 0
    meta = open_store(backend_settings).layer_meta("kita")
    assert meta is not None and meta.publisher == DB_STATIONS.publisher and meta.licence == "CC BY 4.0"
    assert meta.as_of == "2020-06-30"
    info = next(i for i in layer_inventory(backend_settings) if i.id == "kita")
    assert info.publisher == DB_STATIONS.publisher and info.as_of == "2020-06-30"
    report = build_report(backend_settings, AnalysisRequest("kita", 10.0, area=AreaRef("05315")))
    cited = next(e for e in report.sources if e.what == info.title)
    assert cited.source == DB_STATIONS.publisher and cited.as_of == "30.06.2020" and cited.licence == "CC BY 4.0"
    assert main([*argv[:4], "--as-of", "30.6.2020"]) == 2  # a date the store could not sort is refused
    assert "JJJJ-MM-TT" in capsys.readouterr().err


def test_a_geopackage_of_an_earlier_release_gains_the_provenance_columns(settings: Settings) -> None:
    import sqlite3

    from geo.store import DataStore

    store = DataStore(settings.store_path)
    row = gpd.GeoDataFrame({"id": ["k1"], "name": ["Kita"]}, geometry=gpd.points_from_xy([345_000.0], [5_650_000.0]))
    row = row.set_crs("EPSG:25832")
    store.write_layer("kita", row, mode="replace", source_file="a.csv", source="import", licence="CC0")
    with sqlite3.connect(settings.store_path) as con:  # as an earlier release wrote it
        con.execute("ALTER TABLE atlas_batches DROP COLUMN publisher")
        con.execute("ALTER TABLE atlas_batches DROP COLUMN as_of")
    old = store.layer_meta("kita")
    assert old is not None and old.publisher == "" and old.as_of is None  # readable as it is
    provenance = {"source": "import", "licence": "CC0", "publisher": "Stadt", "as_of": "2024"}
    store.write_layer("kita", row, mode="replace", source_file="b.csv", **provenance)
    new = store.layer_meta("kita")
    assert new is not None and (new.publisher, new.as_of, new.source_file) == ("Stadt", "2024", "b.csv")


@pytest.mark.slow  # two real processes (about 15 s quiet): make test runs it, the edit loop leaves it out
def test_json_commands_print_only_json_on_standard_output(tmp_path: Path) -> None:
    """In a real process: the HiGHS banner (written by C code to file descriptor 1) goes to standard error."""
    import os
    import subprocess
    import sys

    from geo.settings import PROJECT_ROOT

    env = {**os.environ, "INTEGRATIONSATLAS_HOME": str(tmp_path / "home"), "PYTHONPATH": str(PROJECT_ROOT)}
    argv = ["sites", "--area", "05334", "-p", "1", "--radius-km", "5", "--no-sensitivity", "--layer", "none"]
    for args in (argv, ["coverage", "--layer", "ki", "--threshold-km", "15", "--area", "05334"]):
        out = subprocess.run(
            [sys.executable, "-m", "integrationsatlas.cli", *args, "--json"],
            capture_output=True,
            text=True,
            env=env,
            cwd=tmp_path,
            check=False,
            timeout=300,
        )
        assert out.returncode == 0, out.stderr
        document = json.loads(out.stdout)
        assert "resolution" in document and "extent" in document


def test_coverage_cells_count_the_facilities_within_the_threshold(settings: Settings) -> None:
    kitas = gpd.GeoDataFrame(
        {"id": ["k1", "k2", "k3"], "name": ["Kita Nord", "Kita Süd", "Kita Ost"]},
        geometry=gpd.points_from_xy([345_000.0, 356_000.0, 357_000.0], [5_650_000.0, 5_640_000.0, 5_641_000.0]),
        crs="EPSG:25832",
    )
    open_store(settings).write_layer("kita", kitas, mode="replace", source_file="k.csv", source="import", licence="CC0")
    report = coverage_report(settings, AnalysisRequest("kita", 8.0, area=AreaRef("05315")))
    cells = report.cells
    by_hand = sum((cells.distance(p) <= 8_000.0).astype(int) for p in kitas.geometry)
    assert cells["opportunities"].tolist() == by_hand.tolist()
    assert cells["opportunities"].max() >= 2  # the two southern Kitas overlap


def test_a_partial_extent_takes_its_interval_from_the_coverage_resamples() -> None:
    """With the residents as weights, the extent's share comes from the coverage's own draws: the same interval."""
    from integrationsatlas.pipeline.intervals import coverage_intervals, demand_uncertainty, extent_interval

    rng = np.random.default_rng(3)
    n = 400
    people = rng.integers(0, 40, n).astype(float)
    points = gpd.GeoDataFrame(
        {"level": "zensus", "weight": people, "population": people},
        geometry=gpd.points_from_xy(rng.uniform(290_000, 300_000, n), rng.uniform(5_620_000, 5_630_000, n)),
        crs="EPSG:25832",
    )
    uncertainty = demand_uncertainty(points, 200, 0.9, 7)
    assert uncertainty is not None and uncertainty.varied
    inside = rng.random(n) < 0.7
    rows = np.flatnonzero(inside)
    cost = rng.uniform(0, 30, rows.size)
    units = pd.Series(np.where(rng.random(rows.size) < 0.5, "a", "b"))
    of_area = float(people.sum()) + 500.0  # the area has residents the demand rows do not hold
    once = coverage_intervals(uncertainty, rows, cost, 15.0, units, np.array([5.0, 15.0]), residents_of_area=of_area)
    again = extent_interval(uncertainty, people, inside, of_area)
    assert once.extent is not None and once.extent == again
    assert once.extent.low < people[inside].sum() / of_area < once.extent.high
    assert coverage_intervals(uncertainty, rows, cost, 15.0, units, np.array([5.0, 15.0])).extent is None
