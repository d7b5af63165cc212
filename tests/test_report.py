"""The council report: model, fixed map extents, HTML and PDF, and the CLI.

The data is a tiny synthetic NRW written to a temporary data folder, so every
number can be worked out by hand:

* Kreis 05111 ``Kreis <Nord> & Süd`` = the square x 350–370 km, y 5650–5670 km
  (1000 inhabitants, foreign share 10 %); Kreis 05112 to its east, x 370–390 km
  (500 inhabitants, 20 %).
* Places: two in 05111 at (355, 5655) and (365, 5665) km with equal GeoNames
  population, so each gets 500 people; one in 05112 at (385, 5665) km.
* One KI at (355, 5655) km. At 5 km only the first place is covered: 05111 is
  50 % covered, the Regierungsbezirk 051 500 / 1500 = 33.3 %.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from shapely.geometry import Point, box

from geo.errors import DataError, NotLoadedError
from geo.layers.spec import FACILITY_COLUMNS
from geo.settings import PROJECTED_CRS, Settings
from geo.statistics import COLUMNS as STAT_COLUMNS
from geo.store.scenarios import Scenario, save_scenario
from geo.units import level_of
from integrationsatlas.classes import share_labels
from integrationsatlas.cli import main
from integrationsatlas.report import (
    MAP_ASPECT,
    CouncilReport,
    build_report,
    fixed_extent,
    render,
    render_html,
    render_pdf,
)
from integrationsatlas.request import AnalysisRequest, AreaRef

TODAY = date(2026, 11, 21)
KREIS_NAME = "Kreis <Nord> & Süd"
PDFTOTEXT = shutil.which("pdftotext")
PDFTOPPM = shutil.which("pdftoppm")
#: Written to the git-ignored test output; ``make screenshots`` copies it into ``docs/screenshots/``.
SCREENSHOT = Path(__file__).resolve().parent.parent / "test-results" / "screenshots" / "bericht_pdf.png"


def report_for(settings: Settings, area: str, threshold_km: float = 15.0, layer: str = "ki", **kwargs: Any) -> Any:
    """The council report of a straight-line request (``build_report`` takes the request)."""
    return build_report(settings, AnalysisRequest(layer, threshold_km, area=AreaRef(area)), **kwargs)


def _write_synthetic_nrw(data_dir: Path) -> None:
    west, east = box(350_000, 5_650_000, 370_000, 5_670_000), box(370_000, 5_650_000, 390_000, 5_670_000)
    both = west.union(east)
    gpkg = data_dir / "boundaries" / "nrw_verwaltungsgrenzen.gpkg"
    gpkg.parent.mkdir(parents=True)
    gpd.GeoDataFrame(
        {
            "ags": ["05111", "05112"],
            "name": [KREIS_NAME, "Oststadt"],
            "bez": ["Kreis", "Kreisfreie Stadt"],
            "regbez": ["051", "051"],
            "wsk": ["2021-01-01", "2021-01-01"],
        },
        geometry=[west, east],
        crs=PROJECTED_CRS,
    ).to_file(gpkg, layer="kreis")
    gpd.GeoDataFrame({"ags": ["051"], "name": ["Düsseldorf"]}, geometry=[both], crs=PROJECTED_CRS).to_file(
        gpkg, layer="regbez"
    )
    gpd.GeoDataFrame({"ags": ["05"], "name": ["Nordrhein-Westfalen"]}, geometry=[both], crs=PROJECTED_CRS).to_file(
        gpkg, layer="land"
    )
    places = data_dir / "places" / "nrw_orte_geonames.gpkg"
    places.parent.mkdir(parents=True)
    gpd.GeoDataFrame(
        {
            "id": ["1", "2", "3"],
            "name": ["Westdorf", "Nordheim", "Ostend"],
            "population": [1000, 1000, 800],
            "kreis_ags": ["05111", "05111", "05112"],
        },
        geometry=[Point(355_000, 5_655_000), Point(365_000, 5_665_000), Point(385_000, 5_665_000)],
        crs=PROJECTED_CRS,
    ).to_file(places, layer="orte")
    ki = data_dir / "facilities" / "ki.gpkg"
    ki.parent.mkdir(parents=True)
    record = {c.name: None for c in FACILITY_COLUMNS} | {
        "id": "KI-05111",
        "name": "KI Kreis Nord",
        "kreis_ags": "05111",
        "location_precision": "Ort",
        "source": "Test",
        "as_of": "2026-11",
        "sitz": "Westdorf",
    }
    gpd.GeoDataFrame([record], geometry=[Point(355_000, 5_655_000)], crs=PROJECTED_CRS).to_file(ki, layer="ki")
    stats = pd.DataFrame(
        [
            {
                "ags": "05111",
                "name": KREIS_NAME,
                "level": "kreis",
                "year": 2019,
                "population": 1000,
                "foreign_share_pct": 10.0,
                "density_per_km2": 2.5,
            },
            {
                "ags": "05112",
                "name": "Oststadt",
                "level": "kreis",
                "year": 2019,
                "population": 500,
                "foreign_share_pct": 20.0,
                "density_per_km2": 1.25,
            },
        ]
    ).reindex(columns=list(STAT_COLUMNS))
    (data_dir / "statistics").mkdir()
    stats.to_csv(data_dir / "statistics" / "kreis_statistik.csv", index=False)


@pytest.fixture
def atlas(tmp_path: Path) -> Settings:
    """Settings on the synthetic NRW described in the module docstring."""
    data_dir = tmp_path / "data"
    _write_synthetic_nrw(data_dir)
    return replace(Settings().with_home(tmp_path / "home"), data_dir=data_dir, online=False)


@pytest.fixture
def scenario(atlas: Settings) -> str:
    """A saved two-site plan for Kreis 05111 (one fixed site, one new one)."""
    sites = gpd.GeoDataFrame(
        {
            "candidate_id": ["ki:KI-05111", "grid:7"],
            "source": ["KI", "Raster"],
            "name": ["KI Kreis Nord", "Treffpunkt <b>Nordheim</b>"],
            "gemeinde_ags": [None, None],
            "kreis_ags": ["05111", "05111"],
            "fixed": [True, False],
            "order": pd.array([None, 1], dtype="Int64"),
            "marginal_gain": [float("nan"), 500.0],
        },
        geometry=[Point(355_000, 5_655_000), Point(365_000, 5_665_000)],
        crs=PROJECTED_CRS,
    )
    save_scenario(
        atlas,
        Scenario(
            name="Plan A",
            area_ags="05111",
            area_name=KREIS_NAME,
            model="mclp",
            parameters={"p": 2, "radius_km": 5.0},
            sites=sites,
            results={
                "objective": 1000.0,
                "gap": 0.0,
                "status": "optimal",
                "seconds": 0.01,
                "share_before": 0.5,
                "share_after": 1.0,
            },
            by_gemeinde=pd.DataFrame(),
        ),
    )
    return "Plan A"


def _pdf_text(data: bytes, tmp_path: Path) -> str:
    assert PDFTOTEXT is not None
    path = tmp_path / "r.pdf"
    path.write_bytes(data)
    return subprocess.run([PDFTOTEXT, "-layout", str(path), "-"], check=True, capture_output=True, text=True).stdout


def _page_count(data: bytes, tmp_path: Path) -> int:
    """Pages according to poppler's pdfinfo, which also fails on a broken xref table."""
    path = tmp_path / "count.pdf"
    path.write_bytes(data)
    info = subprocess.run(["pdfinfo", str(path)], check=True, capture_output=True, text=True).stdout
    pages = re.search(r"^Pages:\s+(\d+)$", info, re.M)
    assert pages is not None, info
    return int(pages.group(1))


# --- area and extent ---------------------------------------------------------


def test_level_of_ags_length(raises_matching: Callable) -> None:
    assert [level_of(a) for a in ("05", "053", "05334", "05334002")] == ["land", "regbez", "kreis", "gemeinde"]
    for bad in ("0533", "06334", "05x34", ""):
        with raises_matching(DataError, "kein AGS in NRW"):
            level_of(bad)


@hsettings(max_examples=60, deadline=None)
@given(
    x=st.floats(280_000, 520_000),
    y=st.floats(5_570_000, 5_820_000),
    w=st.floats(100, 250_000),
    h=st.floats(100, 250_000),
    grid=st.sampled_from([1_000.0, 5_000.0, 10_000.0]),
)
def test_property_fixed_extent_contains_bounds_has_fixed_aspect_and_grid(
    x: float, y: float, w: float, h: float, grid: float
) -> None:
    bounds = (x, y, x + w, y + h)
    minx, miny, maxx, maxy = fixed_extent(bounds, grid_m=grid)
    assert minx <= bounds[0] and miny <= bounds[1] and maxx >= bounds[2] and maxy >= bounds[3]
    assert (maxx - minx) / (maxy - miny) == pytest.approx(MAP_ASPECT, rel=1e-12)
    assert (maxx - minx) % grid == pytest.approx(0.0, abs=1e-6)
    assert fixed_extent(bounds, grid_m=grid) == (minx, miny, maxx, maxy)  # deterministic


# --- the report model --------------------------------------------------------


def test_report_figures_match_the_hand_computed_coverage(atlas: Settings) -> None:
    report = report_for(atlas, "05111", threshold_km=5, today=TODAY)
    figures = dict(report.figures)
    assert figures["Gebiet"] == f"{KREIS_NAME} (Kreis / kreisfreie Stadt)"  # name and level, not »(AGS 05111)«
    assert figures["AGS"] == "05111"
    assert report.subtitle.startswith(f"{KREIS_NAME} (Kreis / kreisfreie Stadt) · ")
    assert figures["Fläche"] == "400 km²"
    assert figures["Einwohner (Jahresmittel 2019)"] == "1.000"  # Destatis' annual mean, as on the map
    assert figures["Ausländeranteil"] == "10,0 %"
    assert figures["Kommunale Integrationszentren im Gebiet"] == "1"
    assert figures["Versorgt: Kommunale Integrationszentren ≤ 5 km Luftlinie"] == "50,0 %"
    assert figures["Einwohner jenseits der Schwelle"] == "500"
    assert [m.extent for m in report.maps] == [report.extent] * 2
    assert all(m.png.startswith(b"\x89PNG") for m in report.maps)
    # a single Kreis is ranked among all Kreise: Oststadt (0 % covered, 31.6 km to the KI) is the larger gap
    # official totals have no documented noise: no interval column (each interval would be the share itself)
    assert "Intervall" not in report.tables[0].columns
    assert [row[:6] for row in report.tables[0].rows] == [
        ("1", "05112", "Oststadt", "0,0 %", "500", "31,6"),
        ("2", "05111", f"{KREIS_NAME} (Berichtsgebiet)", "50,0 %", "500", "14,1"),
    ]
    assert figures["Rang unter den Kreisen NRW (1 = größte Lücke)"] == "2 von 2"
    # places 20 km apart for a 5 km question: each Kreis' share in the ranking is as rough as the total, and the
    # ranking says so (with its own verdict: it ranks all Kreise, not the report's area)
    assert "Auflösung der Nachfrage" in figures
    assert "Nur grobe Näherung: Auflösung zu grob für diese Frage" in report.tables[0].note
    assert any("2SFCA" in p for p in report.method) and any("EPSG:25832" in p for p in report.method)
    licences = {s.licence for s in report.sources}
    assert "dl-de/by-2-0" in licences and "CC BY 4.0" in licences


def test_a_layer_without_a_stichtag_is_cited_with_its_import_day_named_as_such(atlas: Settings) -> None:
    # the 2,787 Grundschulen of 2021, imported without »Stand«, were cited »Stand 07.12.2026«, the import day
    from geo.store import DataStore

    store = DataStore(atlas.store_path)
    ogs = gpd.GeoDataFrame({"id": ["g1"], "name": ["GS Nord"]}, geometry=[Point(356_000, 5_656_000)], crs=PROJECTED_CRS)
    batch = store.write_layer("ogs", ogs, mode="replace", source_file="gs.csv", source="import", licence="CC0")
    cited = {e.what: e for e in report_for(atlas, "05111", threshold_km=5, layer="ogs", today=TODAY).sources}
    day = batch.imported_at[:10]
    entry = cited["Offene Ganztagsschulen (Grundschulen)"]
    assert entry.as_of == f"unbekannt (Import {day[8:10]}.{day[5:7]}.{day[:4]})"
    assert entry.source == "Eigene Datei (Import): gs.csv"
    store.write_layer("ogs", ogs, mode="replace", source_file="gs.csv", source="import", licence="CC0", as_of="2021")
    cited = {e.what: e for e in report_for(atlas, "05111", threshold_km=5, layer="ogs", today=TODAY).sources}
    assert cited["Offene Ganztagsschulen (Grundschulen)"].as_of == "2021"


def test_regbez_report_weights_the_foreign_share_by_population(atlas: Settings) -> None:
    report = report_for(atlas, "051", threshold_km=5, today=TODAY)
    figures = dict(report.figures)
    assert figures["Ausländeranteil"] == "13,3 %"  # (1000·10 + 500·20) / 1500
    assert figures["Versorgt: Kommunale Integrationszentren ≤ 5 km Luftlinie"] == "33,3 %"
    assert [r[1] for r in report.tables[0].rows] == ["05112", "05111"]  # Oststadt (0 %) is the larger gap


def test_two_reports_of_the_same_area_have_identical_map_extents(atlas: Settings) -> None:
    first = report_for(atlas, "05111", threshold_km=5, today=TODAY)
    second = report_for(atlas, "05111", threshold_km=15, today=TODAY)
    assert first.extent == second.extent
    assert {m.extent for m in (*first.maps, *second.maps)} == {first.extent}
    assert first.extent == fixed_extent((350_000, 5_650_000, 370_000, 5_670_000), grid_m=5_000)
    assert first.maps[0].png == second.maps[0].png  # the overview does not depend on the threshold


def test_report_errors_are_german_and_actionable(atlas: Settings, raises_matching: Callable) -> None:
    with raises_matching(DataError, "Kein Kreis / kreisfreie Stadt mit AGS »05999«"):
        report_for(atlas, "05999")
    with raises_matching(NotLoadedError, "Gemeinden"):
        report_for(atlas, "05111000")
    with raises_matching(DataError, "Szenario »fehlt« nicht gefunden"):
        report_for(atlas, "05111", scenario="fehlt")


def test_scenario_adds_numbered_sites_tables_and_method(
    atlas: Settings, scenario: str, raises_matching: Callable
) -> None:
    report = report_for(atlas, "05111", threshold_km=5, scenario=scenario, today=TODAY)
    assert len(report.maps) == 4 and report.maps[2].extent == report.extent
    assert "je zusätzlichem Standort" in report.maps[3].title
    sites, before_after = report.tables[1], report.tables[2]
    assert sites.rows == (("1", "Treffpunkt <b>Nordheim</b>", "Raster", "", "500"),)
    assert before_after.rows[0][2:] == ("50,0 %", "100,0 %", "+50,0 Pp.")
    figures = dict(report.figures)
    scen = next(k for k in figures if k.startswith("Szenario (") and k.endswith("Versorgung vorher → nachher"))
    assert figures[scen] == "50,0 % → 100,0 %"
    # solver figures are for the record: in the appendix, not in the method a council member reads
    assert any("HiGHS" in p and "Optimalitätslücke 0,00 %" in p for p in report.appendix)
    assert not any("HiGHS" in p or "Zielwert" in p for p in report.method)
    assert any("Kartenausschnitt (EPSG:25832, Meter)" in p for p in report.appendix)
    # the method names the legend's classes, not other ones (it said »20-%-Schritte« beside 50/75/… classes)
    assert any(", ".join(share_labels()) in p for p in report.method)
    assert not any("20-%" in p for p in report.method)
    # one set of parameters, stated once in plain German; the scenario part names its own threshold
    assert report.summary.startswith("Die Frage dieses Berichts: Welcher Anteil der Gesamtbevölkerung")
    assert "5 km Luftlinie" in report.summary and "Szenario-Teil" in report.summary
    assert not any(re.search(r"\b\w+ = ", p) or "None" in p for p in report.method)  # no raw parameter dump
    assert any("Genauigkeit" in p for p in report.method)
    with raises_matching(DataError, "Szenario »Plan A« gilt für das Gebiet", "05112"):
        report_for(atlas, "05112", scenario=scenario)


def test_with_gemeinden_a_kreis_is_ranked_by_its_gemeinden_and_a_gemeinde_can_be_reported(atlas: Settings) -> None:
    """Gemeinden 05111001 (x 350–360 km, 600 inh.) and 05111002 (x 360–370 km, 400 inh.) in the store.

    With Gemeinden loaded the demand is one point per Gemeinde (inside it: the
    box centres (355, 5660) and (365, 5660) km), 5.0 and 11.2 km from the KI.
    """
    from geo.store import DataStore

    gemeinden = gpd.GeoDataFrame(
        {
            "ags": ["05111001", "05111002"],
            "name": ["Westheim", "Osthofen"],
            "bez": ["Stadt", "Gemeinde"],
            "kreis_ags": ["05111", "05111"],
            "population": [600, 400],
        },
        geometry=[box(350_000, 5_650_000, 360_000, 5_670_000), box(360_000, 5_650_000, 370_000, 5_670_000)],
        crs=PROJECTED_CRS,
    )
    DataStore(atlas.store_path).write_layer(
        "gemeinde", gemeinden, mode="replace", source_file="test.gpkg", source="Test", licence="dl-de/by-2-0"
    )
    kreis = report_for(atlas, "05111", threshold_km=8, today=TODAY)
    assert dict(kreis.figures)["Versorgt: Kommunale Integrationszentren ≤ 8 km Luftlinie"] == "60,0 %"
    assert [row[1:4] for row in kreis.tables[0].rows] == [
        ("05111002", "Osthofen", "0,0 %"),
        ("05111001", "Westheim", "100,0 %"),
    ]
    gemeinde = report_for(atlas, "05111001", threshold_km=8, today=TODAY)
    figures = dict(gemeinde.figures)
    assert figures["Einwohner"] == "600" and figures["Ausländeranteil (Kreiswert)"] == "10,0 %"
    assert figures["Versorgt: Kommunale Integrationszentren ≤ 8 km Luftlinie"] == "100,0 %"
    assert gemeinde.extent == fixed_extent((350_000, 5_650_000, 360_000, 5_670_000), grid_m=1_000)


# --- renderers ---------------------------------------------------------------


@pytest.fixture
def report(atlas: Settings, scenario: str) -> CouncilReport:
    return report_for(atlas, "05111", threshold_km=5, scenario=scenario, today=TODAY)


def test_html_is_self_contained_and_escapes_user_strings(report: CouncilReport) -> None:
    page = render_html(report)
    assert page.startswith("<!DOCTYPE html>")
    assert not re.search(r"""(?:src|href)\s*=\s*["']?(?:https?:)?//""", page, re.I)
    assert "<link" not in page and "<script" not in page
    assert page.count("data:image/png;base64,") == 4  # 3 maps + the coverage-per-site chart
    assert "Kreis &lt;Nord&gt; &amp; Süd" in page and KREIS_NAME not in page
    assert "Treffpunkt &lt;b&gt;Nordheim&lt;/b&gt;" in page
    assert "© OpenStreetMap contributors (ODbL)" in page and "dl-de/by-2-0" in page


@pytest.mark.skipif(PDFTOTEXT is None, reason="pdftotext (poppler-utils) fehlt")
def test_pdf_is_valid_and_names_area_and_sources(report: CouncilReport, tmp_path: Path) -> None:
    data = render_pdf(report)
    assert data.startswith(b"%PDF-") and data.rstrip().endswith(b"%%EOF")
    assert _page_count(data, tmp_path) >= 2
    text = _pdf_text(data, tmp_path)
    assert KREIS_NAME in text  # umlaut and <> intact (Unicode font)
    for line in ("© GeoBasis-DE / BKG (dl-de/by-2-0)", "© OpenStreetMap contributors (ODbL)", "GeoNames (CC BY 4.0)"):
        assert line in text
    assert "Methode" in text and "Datenquellen" in text and "Treffpunkt <b>Nordheim</b>" in text
    assert "Die Frage dieses Berichts" in text
    assert "PyPI" not in text and "npm-Paket" not in text
    assert render(report, "html").startswith(b"<!DOCTYPE html>")


@pytest.mark.skipif(PDFTOPPM is None, reason="pdftoppm (poppler-utils) fehlt")
def test_every_pdf_page_renders_as_an_image_with_content(report: CouncilReport, tmp_path: Path) -> None:
    """4–8 pages, each rendered by poppler with ink on it (no blank or broken page)."""
    import numpy as np
    from PIL import Image

    pdf = tmp_path / "r.pdf"
    pdf.write_bytes(render_pdf(report))
    subprocess.run([PDFTOPPM, "-r", "40", "-png", str(pdf), str(tmp_path / "p")], check=True)
    pages = sorted(tmp_path.glob("p*.png"))
    assert 4 <= len(pages) <= 8, len(pages)
    for page in pages:
        grey = np.asarray(Image.open(page).convert("L"))
        inked = float((grey < 200).mean())  # share of dark pixels: text, tables, maps
        assert 0.003 < inked < 0.6, (page.name, inked)


# --- CLI ---------------------------------------------------------------------


@pytest.mark.slow
def test_cli_report_and_export(
    atlas: Settings, scenario: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(Settings, "from_env", classmethod(lambda cls: atlas))
    out = tmp_path / "bericht.pdf"
    assert main(["report", "--area", "05111", "--threshold-km", "5", "-o", str(out)]) == 0
    assert out.read_bytes().startswith(b"%PDF")
    html_out = tmp_path / "bericht.html"
    assert main(["report", "--area", "051", "--format", "html", "-o", str(html_out)]) == 0
    page = html_out.read_text(encoding="utf-8")
    assert "Düsseldorf (Regierungsbezirk)" in page and "(AGS 051)" not in page.split("Die Frage dieses Berichts")[0]
    assert "Anhang: Technische Angaben" in page
    gpkg = tmp_path / "ki.gpkg"
    assert main(["export", "--layer", "ki", "-o", str(gpkg)]) == 0
    assert gpd.read_file(gpkg, layer="kommunale_integrationszentren")["id"].tolist() == ["KI-05111"]
    sites_csv = tmp_path / "plan.csv"
    assert main(["export", "--scenario", "Plan A", "-o", str(sites_csv)]) == 0
    assert "Treffpunkt <b>Nordheim</b>" in sites_csv.read_text(encoding="utf-8-sig")
    assert (
        main(["export", "--layer", "ki", "--format", "geojson", "--crs", "25832", "-o", str(tmp_path / "ki.geojson")])
        == 2
    )
    assert main(["report", "--area", "0511", "-o", str(tmp_path / "x.pdf")]) == 2
    err = capsys.readouterr().err
    assert "RFC 7946" in err and "kein AGS in NRW" in err


@pytest.mark.slow
@pytest.mark.skipif(PDFTOPPM is None, reason="pdftoppm (poppler-utils) fehlt")
def test_embedded_data_report_page_screenshot(tmp_path: Path) -> None:
    """A report on the embedded data for the Städteregion Aachen; page 2 saved for the docs."""
    cfg = Settings().with_home(tmp_path / "home")
    report = report_for(cfg, "05334", threshold_km=15)
    pdf = tmp_path / "aachen.pdf"
    pdf.write_bytes(render_pdf(report))
    subprocess.run(
        [PDFTOPPM, "-r", "80", "-f", "2", "-l", "2", "-png", "-singlefile", str(pdf), str(tmp_path / "page")],
        check=True,
    )
    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(tmp_path / "page.png", SCREENSHOT)
    assert "Städteregion Aachen" in _pdf_text(pdf.read_bytes(), tmp_path)


@pytest.mark.slow
def test_overview_map_draws_the_osm_background_it_is_given(tmp_path: Path) -> None:
    """With an OSM extract, the overview map shows it and its caption says so; nobody else's upload is used."""
    from test_osm_background import write_osm

    cfg = Settings().with_home(tmp_path / "home")
    plain = report_for(cfg, "05334", threshold_km=15, today=TODAY)
    assert "Hintergrund" not in plain.maps[0].caption
    uploads = Path(cfg.cache_dir) / "osm_uploads"  # where every session's uploads once lay, shared
    uploads.mkdir(parents=True)
    write_osm(uploads / "klein.osm")  # a lake, a forest, a residential area, roads near 6.0° E, 50.7° N
    assert "Hintergrund" not in report_for(cfg, "05334", threshold_km=15, today=TODAY).maps[0].caption
    with_bg = report_for(cfg, "05334", threshold_km=15, today=TODAY, osm_file=uploads / "klein.osm")
    assert "Hintergrund: OSM-Auszug »klein.osm«" in with_bg.maps[0].caption
    assert with_bg.maps[0].png != plain.maps[0].png
    assert with_bg.maps[1].png != plain.maps[1].png  # main roads and places for orientation
    # a broken extract is left out, the report still builds
    broken = tmp_path / "kaputt.osm"
    broken.write_text("<osm><node", encoding="utf-8")
    fallback = report_for(cfg, "05334", threshold_km=15, today=TODAY, osm_file=broken)
    assert "Hintergrund" not in fallback.maps[0].caption


# --- the Bericht page (AppTest) ----------------------------------------------


@pytest.mark.slow
def test_bericht_page_builds_a_report_and_offers_exports(
    atlas: Settings, scenario: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from streamlit.testing.v1 import AppTest

    import ui.cached

    monkeypatch.setattr(ui.cached, "settings", lambda: atlas)
    page = Path(__file__).resolve().parent.parent / "ui" / "pages" / "bericht.py"
    at = AppTest.from_file(str(page), default_timeout=120).run()
    assert not at.exception and not at.error
    at.selectbox(key="bericht_area").set_value("05111").run()
    assert at.selectbox(key="bericht_scenario").options == ["kein Szenario", "Plan A"]
    at.selectbox(key="bericht_scenario").set_value("Plan A")
    at.button(key="bericht_build").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert "Bericht\\_05111\\_" in at.success[0].value  # the file name as text: Markdown characters escaped
    labels = [b.label for b in at.get("download_button")]
    assert labels[0].startswith("PDF herunterladen")
    at.selectbox(key="export_source").set_value("scenario:Plan A")
    at.selectbox(key="export_format").set_value("geojson").run()
    assert not at.exception and not at.error
    assert at.radio(key="export_crs_geojson").options == ["EPSG:4326 – WGS 84 (Längen-/Breitengrad)"]
    labels = [b.label for b in at.get("download_button")]
    assert labels[0].startswith("PDF herunterladen")  # the built report stays offered
    assert labels[1] == "Szenario\\_Plan\\_A\\_4326\\.geojson herunterladen"  # shows as Szenario_Plan_A_4326…
    at.selectbox(key="bericht_area").set_value("05112").run()
    assert at.selectbox(key="bericht_scenario").options == ["kein passendes Szenario"]
    assert not [b for b in at.get("download_button") if b.label.startswith("PDF")]  # other area: build again


def test_bericht_page_asks_public_transport_for_its_timetable(atlas: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every mode of the gap page is offered for a report; ÖPNV asks for the feed, day and window as there."""
    from streamlit.testing.v1 import AppTest

    import ui.cached
    import ui.uploads
    from geo.store.uploads import UploadStore

    monkeypatch.setattr(ui.cached, "settings", lambda: atlas)
    monkeypatch.setattr(ui.uploads, "upload_owner", lambda: "session:planner")
    UploadStore(atlas).put("osm", "session:planner", "ausschnitt.osm.pbf", b"not read before a report is built")
    page = Path(__file__).resolve().parent.parent / "ui" / "pages" / "bericht.py"
    at = AppTest.from_file(str(page), default_timeout=120).run()
    at.radio(key="bericht_unit").set_value("min").run()
    assert at.selectbox(key="bericht_mode").options == ["zu Fuß", "Fahrrad", "Auto", "ÖPNV"]
    at.selectbox(key="bericht_mode").set_value("oepnv").run()
    assert not at.exception, [e.message for e in at.exception]
    assert at.date_input(key="bericht_day") is not None and at.selectbox(key="bericht_window") is not None
    assert any("Fahrplan" in i.value or "GTFS" in i.value for i in at.info)  # no feed yet: the page asks for one


@pytest.mark.skipif(shutil.which("pdfimages") is None, reason="pdfimages (poppler-utils) fehlt")
def test_charts_keep_their_aspect_ratio_in_pdf_and_html(report: CouncilReport, tmp_path: Path) -> None:
    """The chart after the maps (report page 5 of issue 20) is placed at its own aspect ratio, not a map's."""
    from integrationsatlas.report.model import png_size

    pdf = tmp_path / "r.pdf"
    pdf.write_bytes(render_pdf(report))
    listing = subprocess.run(["pdfimages", "-list", str(pdf)], check=True, capture_output=True, text=True).stdout
    rows = [line.split() for line in listing.splitlines()[2:] if line.strip()]
    assert len(rows) == len(report.maps)
    for row in rows:  # x-ppi == y-ppi: the image is scaled the same in both directions
        assert abs(int(row[12]) - int(row[13])) <= 1, row
    page = render_html(report)
    for m in report.maps:
        w, h = png_size(m.png)
        assert f'width="{w}" height="{h}"' in page
    assert "height:auto" in page


def test_interval_column_only_where_the_demand_has_documented_noise(atlas: Settings) -> None:
    """Official totals give no interval column (»50–50 %« beside »kein Intervall« confused the council)."""
    from integrationsatlas.coverage import coverage_report
    from integrationsatlas.report.build import _gap_table
    from ui.views import ranking_table

    official = coverage_report(atlas, AnalysisRequest("ki", 5.0, area=AreaRef("05111")))
    assert official.intervals is not None and not official.intervals.uncertainty.varied
    assert "Intervall" not in _gap_table(official).columns
    assert not any("Intervall" in c for c in ranking_table(official, "de").columns)
    unc = official.intervals.uncertainty  # the same rows, as if they were OSM building estimates
    noisy = replace(unc, kinds=np.full(len(unc.kinds), "osm_estimate", dtype=object))
    estimated = replace(official, intervals=replace(official.intervals, uncertainty=noisy))
    table = _gap_table(estimated)
    assert table.columns[4] == "Intervall" and len(table.widths) == len(table.columns) == len(table.rows[0])
    assert [row[4] for row in table.rows] == ["50–50 %"]
    assert any("90-%-Intervall" in c for c in ranking_table(estimated, "de").columns)
