"""Residents per area of an area set: the table is checked row by row, stored with its date, and is the demand of
questions about the set's areas (spread evenly over each area, exact per area, honest about its resolution).

The set is the four quarters of the embedded Köln polygon (:mod:`test_areasets`); the residents are written here.
"""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from shapely.geometry import box
from test_areasets import _quarters, _write
from test_line_network import write_walk_ways

from geo.areasets import import_area_set, load_area_set
from geo.areasets.population import AreaPopulation, import_area_population, load_area_population
from geo.errors import DataError, NotLoadedError, ValidationError
from geo.settings import Settings
from geo.sources.line_network import read_lines
from integrationsatlas.cli import main
from integrationsatlas.coverage import coverage_report
from integrationsatlas.request import AnalysisRequest, AreaRef
from planning.demand import AREA_STREETS_LABEL, demand_from_areas
from planning.resolution import check_resolution

pytest_plugins = ("store_backends",)

SET = "koeln-viertel"
#: Residents and children under 3 of the four quarters (written for the test).
RESIDENTS = {"1": (300_000, 9_000), "2": (250_000, 7_000), "3": (280_000, 8_000), "4": (210_000, 6_000)}


def _table(path: Path, rows: dict[str, tuple[int, int]] = RESIDENTS, year: str | None = None) -> Path:
    lines = ["nr;Einwohner;unter 3" + (";Jahr" if year else "")]
    lines += [f"{k};{p};{u}" + (f";{year}" if year else "") for k, (p, u) in rows.items()]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def viertel(backend_settings: Settings, tmp_path: Path) -> Settings:
    import_area_set(_write(_quarters(backend_settings), tmp_path / "v.geojson"), SET, backend_settings)
    return backend_settings


def test_each_area_is_spread_evenly_over_its_cells_and_sums_exactly() -> None:
    areas = gpd.GeoDataFrame(
        {"unit_id": ["a", "b", "c"], "gemeinde_ags": ["05315000", "05315000", "05314000"]},
        geometry=[box(1_000, 0, 1_300, 200), box(1_300, 0, 1_400, 100), box(1_400, 0, 1_430, 30)],
        crs="EPSG:25832",
    )
    counts = pd.DataFrame({"unit_id": ["a", "b", "c"], "population": [601, 7, 3], "u3": [13, 0, 1]})
    d = demand_from_areas(areas, counts)
    # 6 cells of 100 m in a (centres 1050…1250 × 50, 150), 1 in b, none in c: c gets its representative point
    assert d.groupby("unit_id").size().to_dict() == {"a": 6, "b": 1, "c": 1}
    assert d.groupby("unit_id")["population"].sum().to_dict() == {"a": 601.0, "b": 7.0, "c": 3.0}
    assert sorted(d.loc[d["unit_id"] == "a", "population"]) == [100.0] * 5 + [101.0]
    assert d.groupby("unit_id")["zg_u3"].sum().to_dict() == {"a": 13.0, "b": 0.0, "c": 1.0}
    a = d[d["unit_id"] == "a"]
    assert set(np.round(a.geometry.x % 100)) == {50.0} and set(np.round(a.geometry.y % 100)) == {50.0}
    assert d.loc[d["unit_id"] == "c", "geometry"].iloc[0].within(areas.geometry.iloc[2])
    # the resolution is the area, not the cell: √(60,000 m²) for a
    assert d.loc[d["unit_id"] == "a", "unit_size_m"].iloc[0] == pytest.approx(np.sqrt(60_000))
    assert set(d["resolution"]) == {"gebiet"} and set(d["kreis_ags"]) == {"05315", "05314"}
    assert not check_resolution(d, None, 100.0).ok


def test_a_table_is_refused_with_every_bad_row_and_nothing_is_stored(settings: Settings, tmp_path: Path) -> None:
    import_area_set(_write(_quarters(settings), tmp_path / "v.geojson"), SET, settings)
    bad = tmp_path / "einwohner.csv"
    bad.write_text("nr;Einwohner;unter 3\n1;300000;9000\n2;-5;0\n2;250000;7000\n9;100;1\n3;1.000;2.000\n",
                   encoding="utf-8")  # fmt: skip
    with pytest.raises(ValidationError) as caught:
        import_area_population(bad, SET, settings, as_of="2012")
    shown = [str(p) for p in caught.value.problems]
    assert any("Zeile 3" in s and "»Einwohner« ist keine ganze Zahl ≥ 0" in s for s in shown)
    assert any("Zeile 5" in s and "»9« gibt es im Gebietssatz" in s for s in shown)
    assert sum("»2« steht mehrfach" in s for s in shown) == 2
    assert any("Zeile 6" in s and "größer als die Einwohnerzahl" in s for s in shown)
    assert any("1 Gebiet(e) des Satzes ohne Zeile: 4" in s for s in shown)
    assert all("einwohner.csv" in s for s in shown)
    assert load_area_population(settings, SET) is None
    with pytest.raises(NotLoadedError, match="»koeln-stadtteile« ist nicht geladen"):
        import_area_population(_table(tmp_path / "ok.csv"), "koeln-stadtteile", settings, as_of="2012")
    with pytest.raises(DataError, match="kein Stichtag"):
        import_area_population(_table(tmp_path / "ok.csv"), SET, settings)


def test_a_file_of_several_years_needs_one_chosen(settings: Settings, tmp_path: Path) -> None:
    import_area_set(_write(_quarters(settings), tmp_path / "v.geojson"), SET, settings)
    years = tmp_path / "jahre.csv"
    text = _table(tmp_path / "a.csv", year="2011").read_text(encoding="utf-8")
    later = {k: (p + 1_000, u) for k, (p, u) in RESIDENTS.items()}
    text += "".join(f"{k};{p};{u};2012\n" for k, (p, u) in later.items())
    years.write_text(text, encoding="utf-8")
    with pytest.raises(DataError, match=r"2 Stichtage in »Jahr« \(2011, 2012\); bitte einen als Stand angeben"):
        import_area_population(years, SET, settings)
    stored = import_area_population(years, SET, settings, as_of="2012", publisher="Stadt Köln", licence="CC BY")
    assert stored.as_of == "2012" and stored.groups == ("u3",)
    loaded = load_area_population(settings, SET)
    assert loaded is not None and loaded.as_of == "2012" and loaded.publisher == "Stadt Köln"
    assert loaded.table.set_index("unit_id")["population"].to_dict() == {k: p for k, (p, _) in later.items()}


def test_a_question_about_the_set_counts_its_residents_on_both_backends(viertel: Settings, tmp_path: Path) -> None:
    import_area_population(_table(tmp_path / "e.csv"), SET, viertel, as_of="2012-12-31", publisher="Stadt Köln")
    request = AnalysisRequest("ki", 5.0, area=AreaRef("", set=SET), by=SET, target_group="u3")
    report = coverage_report(viertel, request)
    assert report.demand_level_label.startswith("Einwohner je Gebiet") and "Näherung" in report.demand_level_label
    table = report.gaps.table
    # the areas' residents exactly, each a figure of its own (the residents nest in the areas)
    assert table["population"].to_dict() == {k: float(p) for k, (p, _) in RESIDENTS.items()}
    assert table["weight"].to_dict() == {k: float(u) for k, (_, u) in RESIDENTS.items()}
    assert not table["too_coarse"].any()
    # the share within 5 km is the share of each quarter's surface cells within 5 km of a KI (hand-computed)
    cells = report.cells
    ki = gpd.read_file(Path(__file__).resolve().parents[1] / "data/facilities/ki.gpkg", layer="ki").to_crs(25832)
    near = np.array([ki.distance(p).min() <= 5_000 for p in cells.geometry])
    assert (cells["covered"].to_numpy() == near).all() and 0 < near.mean() < 1
    unit = gpd.sjoin(cells[["geometry"]], load_area_set(viertel, SET)[["unit_id", "geometry"]], predicate="within")
    unit = unit["unit_id"][~unit.index.duplicated()].reindex(cells.index)
    expected = (cells["weight"] * near).groupby(unit).sum() / cells["weight"].groupby(unit).sum()
    assert table["share_covered"].to_dict() == pytest.approx(expected.to_dict())
    # a Gemeinde question does not use them; asking for them without a set says how to get them
    gemeinde = coverage_report(viertel, AnalysisRequest("ki", 5.0, area=AreaRef("05315")))
    assert not gemeinde.demand_level_label.startswith("Einwohner je Gebiet")
    # asked about the city by its quarters, they answer: the same figures as the question about the set
    by_quarter = coverage_report(viertel, AnalysisRequest("ki", 5.0, area=AreaRef("05315"), by=SET, target_group="u3"))
    assert by_quarter.demand_level_label == report.demand_level_label
    assert by_quarter.gaps.table["share_covered"].to_dict() == pytest.approx(table["share_covered"].to_dict())
    # … but not about the Regierungsbezirk around it, where they would leave every other Gemeinde empty
    regbez = coverage_report(viertel, AnalysisRequest("ki", 5.0, area=AreaRef("053"), by=SET))
    assert not regbez.demand_level_label.startswith("Einwohner je Gebiet")
    with pytest.raises(NotLoadedError, match="areas population"):
        coverage_report(viertel, AnalysisRequest("ki", 5.0, area=AreaRef("05315"), demand="gebiet"))
    with pytest.raises(DataError, match="zählt sie nicht"):
        coverage_report(viertel, AnalysisRequest("ki", 5.0, area=AreaRef("", set=SET), target_group="foreign"))


def test_the_command_imports_and_refuses_with_exit_code_2(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("INTEGRATIONSATLAS_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("INTEGRATIONSATLAS_DATABASE_URL", raising=False)
    import_area_set(_write(_quarters(settings), tmp_path / "v.geojson"), SET, settings)
    capsys.readouterr()
    argv = ["areas", "population", str(_table(tmp_path / "e.csv")), "--set", SET, "--as-of", "2012"]
    assert main(argv) == 0
    assert "4 Gebiete von »koeln-viertel«, 1.040.000 Einwohner, Stichtag 2012" in capsys.readouterr().out
    assert main([*argv, "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["ok"] and out["population"] == 1_040_000 and out["groups"] == {"u3": 30_000}
    broken = _table(tmp_path / "b.csv", {**RESIDENTS, "1": (10, 20)})
    assert main(["areas", "population", str(broken), "--set", SET, "--as-of", "2012", "--json"]) == 2
    problems = json.loads(capsys.readouterr().out)["problems"]
    assert problems[0]["row"] == 2 and "größer als die Einwohnerzahl" in problems[0]["message"]


def test_the_daten_page_action_stores_the_table_under_its_own_name(settings: Settings, tmp_path: Path) -> None:
    """The Daten page's upload goes through the CLI's importer; messages name the upload, never the server path."""
    from ui.actions import import_area_population_file

    import_area_set(_write(_quarters(settings), tmp_path / "v.geojson"), SET, settings)
    content = _table(tmp_path / "e.csv").read_bytes()
    counted, recomputed = import_area_population_file(settings, "../../e.csv", content, SET, ("Stadt", "CC BY", "2012"))
    assert (counted.source_file, counted.as_of, counted.publisher) == ("e.csv", "2012", "Stadt") and recomputed == []
    broken = content.replace(b"\n1;", b"\n7;")
    with pytest.raises(ValidationError) as caught:
        import_area_population_file(settings, "../x/b.csv", broken, SET, ("", "", "2012"))
    assert all(p.file == "b.csv" for p in caught.value.problems)
    loaded = load_area_population(settings, SET)
    assert loaded is not None and loaded.source_file == "e.csv"


#: Residents and children under 3 of six 2 km squares of central Aachen (written for the tests).
QUADRATE = {str(k): (4_000 + 1_000 * k, 100 + 10 * k) for k in range(1, 7)}


@pytest.fixture
def quadrate(settings: Settings, tmp_path: Path) -> AreaPopulation:
    """Six 2 km squares of central Aachen (inside the real extract) as area set »aachen-quadrate«, with residents."""
    squares = gpd.GeoDataFrame(
        {"nr": list(QUADRATE), "name": [f"Quadrat {k}" for k in QUADRATE]},
        geometry=[box(x, y, x + 2_000, y + 2_000) for y in (5_626_000, 5_628_000) for x in (292_500, 294_500, 296_500)],
        crs="EPSG:25832",
    )
    import_area_set(_write(squares, tmp_path / "q.gpkg"), "aachen-quadrate", settings)
    return import_area_population(_table(tmp_path / "q.csv", QUADRATE), "aachen-quadrate", settings, as_of="2021")


@pytest.mark.shared
@pytest.mark.slow
def test_with_an_extract_the_residents_go_to_the_buildings_and_walking_shares_per_area(
    shared_data: Path, settings: Settings, quadrate: AreaPopulation
) -> None:
    """Six 2 km squares of central Aachen (inside the real extract) with written residents: each square's residents
    on its real residential buildings by floor area, exact per square, fine enough for a share on foot per square."""
    from integrationsatlas.osm_demand import AREA_BUILDINGS_LABEL, area_cells

    pbf = shared_data / "osm" / "aachen.osm.pbf"
    residents, counted = QUADRATE, quadrate
    cells = area_cells(settings, pbf, counted)
    # each square's residents exactly, over its cells in proportion to the floor area of their buildings
    assert cells.groupby("unit_id")["population"].sum().astype(int).to_dict() == {
        k: p for k, (p, _) in residents.items()
    }
    assert set(cells["resolution"]) == {"osm_100m"} and set(cells["gemeinde_ags"]) == {"05334002"}
    share = cells["floor_area_m2"] / cells.groupby("unit_id")["floor_area_m2"].transform("sum")
    quota = share * cells["unit_id"].map({k: p for k, (p, _) in residents.items()})
    assert (cells["population"].astype(float) - quota).abs().max() < 1.0
    assert cells.groupby("unit_id")["zg_u3"].sum().to_dict() == pytest.approx({k: u for k, (_, u) in residents.items()})
    # the same residents as demand: the KI within 15 minutes on foot, per square (network times of the extract)
    area = AreaRef("", set="aachen-quadrate")
    request = AnalysisRequest("ki", 15.0, unit="min", mode="walk", area=area, by="aachen-quadrate", osm_file=str(pbf))
    report = coverage_report(settings, request)
    assert report.demand_level_label == f"{AREA_BUILDINGS_LABEL} (aachen-quadrate)" and report.resolution.ok
    table = report.gaps.table
    assert table["population"].to_dict() == {k: float(p) for k, (p, _) in residents.items()}
    shares = table["share_covered"]
    assert shares.notna().all() and shares.min() == 0.0 and 0.0 < shares.max() < 1.0


@pytest.mark.shared
@pytest.mark.slow
def test_with_a_street_network_of_lines_the_residents_go_along_the_streets(
    shared_data: Path, settings: Settings, quadrate: AreaPopulation, tmp_path: Path
) -> None:
    """The same six squares with a city-style street network (the extract's walk ways as lines): each square's
    residents over its cells by street length, exact per square, none where no street runs; shares on foot."""
    residents, counted = QUADRATE, quadrate
    lines = write_walk_ways(shared_data / "osm" / "aachen.osm.pbf", tmp_path / "strassen.gpkg")
    streets = read_lines(lines)
    cells = demand_from_areas(load_area_set(settings, "aachen-quadrate"), counted.table, streets=streets)
    per_square = {k: p for k, (p, _) in residents.items()}
    assert cells.groupby("unit_id")["population"].sum().astype(int).to_dict() == per_square
    assert set(cells["resolution"]) == {"strassen_100m"} and len(cells) < 6 * 400
    # independent check: the street length of each populated cell from points every metre along the streets
    n = np.ceil(shapely.length(streets)).astype(int)
    line = np.repeat(np.arange(streets.size), n)
    at = (np.arange(line.size) - np.repeat(np.cumsum(n) - n, n) + 0.5) * (shapely.length(streets) / n)[line]
    xy = shapely.get_coordinates(shapely.line_interpolate_point(streets[line], at))
    metres = (
        pd.Series((shapely.length(streets) / n)[line])
        .groupby([np.floor(xy[:, 0] / 100), np.floor(xy[:, 1] / 100)])
        .sum()
    )
    centre = shapely.get_coordinates(cells.geometry.to_numpy())
    cell = pd.MultiIndex.from_arrays([np.floor(centre[:, 0] / 100), np.floor(centre[:, 1] / 100)])
    length = metres.reindex(cell).fillna(0.0).to_numpy()
    assert (length > 0).all()  # nobody where no street runs
    total = pd.Series(length).groupby(cells["unit_id"].to_numpy()).transform("sum").to_numpy()
    quota = length / total * cells["unit_id"].map(per_square).to_numpy()
    assert np.abs(cells["population"].to_numpy() - quota).max() < 1.1  # rounding to whole persons, 1 m samples
    # as demand: the KI within 15 minutes on foot on the same lines, per square
    request = AnalysisRequest(
        "ki", 15.0, unit="min", mode="walk", area=AreaRef("", set="aachen-quadrate"), by="aachen-quadrate",
        osm_file=str(lines),
    )  # fmt: skip
    report = coverage_report(settings, request)
    assert report.demand_level_label == f"{AREA_STREETS_LABEL} (aachen-quadrate)" and report.resolution.ok
    assert report.gaps.table["population"].to_dict() == {k: float(p) for k, (p, _) in residents.items()}
    shares = report.gaps.table["share_covered"]
    assert shares.notna().all() and shares.min() == 0.0 and 0.0 < shares.max() < 1.0


def test_the_report_on_the_set_names_its_residents_and_their_source(settings: Settings, tmp_path: Path) -> None:
    """A council report for all areas of the set: the residents of the table, its publisher and licence."""
    from integrationsatlas.report import build_report
    from integrationsatlas.report.html import render_html

    import_area_set(_write(_quarters(settings), tmp_path / "v.geojson"), SET, settings)
    import_area_population(_table(tmp_path / "e.csv"), SET, settings, as_of="2012", publisher="Stadt", licence="CC BY")
    report = build_report(settings, AnalysisRequest("ki", 5.0, area=AreaRef("", set=SET), by=SET))
    figures = dict(report.figures)
    assert figures["Gebietssatz"] == SET and "Einwohner (Einwohner je Gebiet" in " ".join(figures)
    assert "1.040.000" in figures.values()
    demand = next(s for s in report.sources if s.what == "Bevölkerung (Nachfrage)")
    assert (demand.source, demand.licence, demand.as_of) == (
        "Einwohner je Gebiet: e.csv, Stadt (CC BY)",
        "CC BY",
        "2012",
    )
    assert "1.040.000" in render_html(report)


def test_siting_at_least_one_per_area_plans_for_the_sets_residents(viertel: Settings, tmp_path: Path) -> None:
    """Sites for Köln with at least one per quarter: the demand is the quarters' own residents, exactly."""
    from integrationsatlas.request import SitingSpec
    from integrationsatlas.siting import plan_sites

    import_area_population(_table(tmp_path / "e.csv"), SET, viertel, as_of="2012-12-31")
    spec = SitingSpec(p=4, min_per_gemeinde=1, min_per_level=SET, sensitivity_ps=(), n_clusters=12,
                      grid_spacing_m=2_000, keep_existing=False, place_layers=())  # fmt: skip
    plan = plan_sites(viertel, AnalysisRequest("ki", 3.0, area=AreaRef("05315"), siting=spec))
    assert str(plan.inputs["demand_level"]).startswith("Einwohner je Gebiet")
    assert plan.demand.groupby("unit_id")["population"].sum().to_dict() == {
        k: float(p) for k, (p, _) in RESIDENTS.items()
    }


def test_siting_on_a_set_says_how_to_plan_per_area() -> None:
    """Sites are planned for a Kreis or Gemeinde; the areas of a set enter as a rule, and the message says how."""
    from integrationsatlas.request import SitingSpec

    with pytest.raises(DataError, match=r"nicht den Gebietssatz »koeln-stadtteile«.*--per koeln-stadtteile"):
        AnalysisRequest("kita", 1.0, area=AreaRef("", set="koeln-stadtteile"), siting=SitingSpec(p=3)).validate()


def test_an_excel_table_with_german_numbers_is_read_like_the_csv(settings: Settings, tmp_path: Path) -> None:
    """XLSX as a city exports it: German thousands separators, a header row of its own words, a script in a key."""
    import openpyxl

    import_area_set(_write(_quarters(settings), tmp_path / "v.geojson"), SET, settings)
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["Nr", "Bevölkerung", "Ausländer"])
    for key, (people, _) in RESIDENTS.items():
        sheet.append([key, f"{people:,}".replace(",", "."), "1.000"])
    book.save(tmp_path / "einwohner.xlsx")
    stored = import_area_population(tmp_path / "einwohner.xlsx", SET, settings, as_of="2012-12-31")
    assert stored.groups == ("foreign",) and int(stored.table["population"].sum()) == 1_040_000
    sheet.append(["<script>alert(1)</script>", "5", "1"])
    book.save(tmp_path / "script.xlsx")
    with pytest.raises(ValidationError) as caught:
        import_area_population(tmp_path / "script.xlsx", SET, settings, as_of="2012-12-31")
    (problem,) = caught.value.problems
    assert problem.row == 6 and "»<script>alert(1)</script>« gibt es im Gebietssatz" in problem.message
    loaded = load_area_population(settings, SET)
    assert loaded is not None and loaded.source_file == "einwohner.xlsx"  # the refused file changed nothing
