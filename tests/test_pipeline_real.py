"""The same question asked everywhere gets the same answer, on the real shared data.

The Aachen extract, the 2019 Gemeinde population and the OSM Kitas of Aachen: the Versorgungslücken page
(AppTest), ``coverage --json``, the siting plan's "before" figure and the council report agree to the person;
the extract is named with its share of the Städteregion's people (about a quarter); public transport on a
hand-made bus line is never slower than walking on the real network; siting on Gemeinde-level demand in
Kreis Borken says that the resolution is too coarse.
"""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import pytest
from hostile import shown_text

from geo.formatting import de_int
from geo.settings import Settings
from geo.store.uploads import UploadStore
from integrationsatlas.cli import main
from integrationsatlas.coverage import coverage_report
from integrationsatlas.request import AnalysisRequest, AreaRef, SitingSpec

pytestmark = [pytest.mark.shared]

AACHEN = "05334"
#: Owner of the planner's upload (the session of the pages under test).
OWNER = "session:planner"


@pytest.fixture(scope="module")
def aachen(tmp_path_factory: pytest.TempPathFactory, shared_data: Path) -> tuple[Settings, str]:
    """A store with the 2019 population and the OSM Kitas of Aachen, and the extract as an app upload."""
    from geo.importing import import_file
    from geo.sources.destatis import import_gemeinde_population

    home = tmp_path_factory.mktemp("aachen")
    settings = Settings(online=False).with_home(home / "home")
    import_gemeinde_population(shared_data / "population" / "nrw_gemeinden_destatis_gv_2019.csv", settings)
    fac = gpd.read_file(shared_data / "facilities" / "aachen_osm2021_facilities.geojson")
    kitas = fac[fac["amenity"] == "kindergarten"]
    kitas = kitas.assign(id=kitas["osm_id"].astype(str), name=kitas["name"].fillna("Kita"))[["id", "name", "geometry"]]
    kitas.to_file(home / "kitas.geojson", driver="GeoJSON")
    import_file(home / "kitas.geojson", "kita", settings)
    # the planner's upload, as the pages keep it (by content, owned by the session)
    extract = (shared_data / "osm" / "aachen.osm.pbf").read_bytes()
    osm = UploadStore(settings).put("osm", OWNER, "aachen.osm.pbf", extract).path
    return settings, str(osm)


def _request(osm: str, **changes: object) -> AnalysisRequest:
    base = AnalysisRequest("kita", 15.0, unit="min", mode="walk", area=AreaRef(AACHEN), by="gemeinde", osm_file=osm)
    return base.with_(**changes)


def test_page_cli_siting_and_report_agree_to_the_person(
    aachen: tuple[Settings, str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from streamlit.testing.v1 import AppTest

    import ui.cached
    import ui.uploads
    from integrationsatlas.report import build_report
    from integrationsatlas.siting import plan_sites

    settings, osm = aachen
    request = _request(osm)
    # the CLI
    monkeypatch.setattr(Settings, "from_env", classmethod(lambda cls: settings))
    argv = ["coverage", "--layer", "kita", "--threshold-min", "15", "--mode", "walk", "--osm", osm]
    assert main([*argv, "--area", AACHEN, "--by", "gemeinde", "--json"]) == 0
    cli = json.loads(capsys.readouterr().out)
    covered = cli["overall"]["weight_covered"]
    assert cli["request_key"] == request.key
    # the extract is named with its share of the Städteregion's residents: about a quarter
    extent = cli["extent"]
    assert extent["name"] == "Ausschnitt aachen.osm.pbf" and extent["partial"]
    assert 0.2 < extent["share"] < 0.3, extent
    assert 500_000 < extent["population_of_area"] < 600_000
    # the population carries its Stichtag (2019 for the shared GV file), not the day of the import
    assert cli["inputs"]["as_of"]["Bevölkerung"].startswith("Gemeindebevölkerung 2019")
    # the Versorgungslücken page
    monkeypatch.setattr(ui.cached, "settings", lambda: settings)
    monkeypatch.setattr(ui.uploads, "upload_owner", lambda: OWNER)  # the session that uploaded the extract
    page = Path(__file__).resolve().parent.parent / "ui" / "pages" / "luecken.py"
    at = AppTest.from_file(str(page), default_timeout=600).run()
    at.selectbox(key="luecken_layer").set_value("kita")
    at.selectbox(key="luecken_area").set_value(AACHEN)
    at.selectbox(key="luecken_by").set_value("gemeinde")
    at.radio(key="luecken_unit").set_value("min").run()
    at.selectbox(key="luecken_mode").set_value("walk")
    at.slider(key="luecken_min").set_value(15).run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    warnings = [shown_text(w.value) for w in at.warning]
    assert any("Ausschnitt aachen.osm.pbf: " in w for w in warnings), warnings  # the covered part, named
    line = next(text for c in at.caption if (text := shown_text(c.value)).startswith("Versorgt: "))
    assert f"{de_int(covered)} Personen" in line, (line, covered)
    # the siting plan's "before": the existing Kitas stay open, so nobody is counted differently
    plan = plan_sites(
        settings, request.with_(siting=SitingSpec(p=1, n_clusters=5, grid_spacing_m=0, sensitivity_ps=()))
    )
    assert de_int(plan.explanation.covered_before) == de_int(covered)
    assert plan.extent is not None and plan.extent.share == pytest.approx(extent["share"])
    # the council report
    report = build_report(settings, request)
    figures = dict(report.figures)
    key = next(k for k in figures if k.startswith("Personen der Zielgruppe innerhalb der Schwelle"))
    assert "Ausschnitt aachen.osm.pbf" in key  # never the bare area beside a partial figure
    assert figures[key] == de_int(covered)
    assert any(k.startswith("Abgedeckter Teil") for k in figures)
    # the method counts the facilities of the extent, and says so beside the key figures' count of the whole area
    facilities = next(p for p in report.method if p.startswith("Nachfrage: "))
    within = f"{cli['n_facilities']} Einrichtungen der Ebene »Kitas« im Ausschnitt aachen.osm.pbf (die Kennzahlen"
    assert within in facilities, facilities


def test_public_transport_never_below_walking_on_the_real_network(aachen: tuple[Settings, str]) -> None:
    from test_cli_oepnv import STOPS, _feed  # the hand-made bus line across central Aachen, every 10 minutes

    from geo.importing import import_file

    settings, osm = aachen
    folder = Path(osm).parent.parent
    feed = _feed(folder / "bus.zip")
    walk_vs_bus(settings, osm, feed, "kita", 10.0)  # Kitas are everywhere: the bus rarely helps, never hurts
    # one Integrationsagentur at the western stop: the line brings the east within reach
    _, lon, lat = STOPS[0]
    (folder / "agentur.csv").write_text(f"id;name;lat;lon\nia1;Agentur West;{lat};{lon}\n", encoding="utf-8")
    import_file(folder / "agentur.csv", "integrationsagentur", settings)
    walk_vs_bus(settings, osm, feed, "integrationsagentur", 30.0, must_help=True)


def walk_vs_bus(settings: Settings, osm: str, feed: Path, layer: str, minutes: float, must_help: bool = False) -> None:
    """Per cell, public transport is never slower than walking (and, with ``must_help``, faster somewhere)."""
    walk = coverage_report(settings, _request(osm, layer=layer, threshold=minutes))
    oepnv = coverage_report(
        settings, _request(osm, layer=layer, threshold=minutes, mode="oepnv", gtfs_file=str(feed), day="2026-12-08")
    )
    w, o = walk.cells["cost"].to_numpy(), oepnv.cells["cost"].to_numpy()
    assert walk.cells.index.equals(oepnv.cells.index) and len(w) > 1000
    assert (o <= w).all(), int((o > w).sum())  # per cell: a bus line never makes access worse
    assert oepnv.share_covered >= walk.share_covered
    if must_help:
        assert (o < w - 1.0).sum() > 50  # more than a minute faster (costs in minutes) for many cells
        assert oepnv.share_covered > walk.share_covered


def test_siting_on_gemeinde_demand_in_borken_says_the_resolution_is_too_coarse(
    aachen: tuple[Settings, str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    settings, _ = aachen
    monkeypatch.setattr(Settings, "from_env", classmethod(lambda cls: settings))
    argv = ["sites", "--area", "05554", "-p", "2", "--radius-km", "3", "--no-sensitivity", "--time-limit", "20"]
    assert main([*argv, "--json"]) == 0
    out = json.loads(capsys.readouterr().out)  # only JSON on standard output, whatever the solver prints
    assert out["resolution"]["ok"] is False
    assert out["resolution"]["message"].startswith("Auflösung zu grob für diese Frage")
    assert main(argv) == 0
    assert "Auflösung zu grob für diese Frage" in capsys.readouterr().out  # the text says it as well
