"""Area sets: import with checks, storage on both backends, and a set as a level of the pipeline.

The areas are the four quarters of the embedded Köln Gemeinde polygon (EPSG:25832), written as a GeoJSON file in
EPSG:4326 as a city would deliver it; every expected figure follows from that geometry.
"""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from shapely.geometry import Point, Polygon, box

from geo.areasets import (
    area_set,
    area_sets,
    check_area_set,
    check_name,
    delete_area_set,
    detect_columns,
    import_area_set,
    load_area_set,
)
from geo.errors import DataError, NotLoadedError, ValidationError
from geo.levels import analysis_level
from geo.settings import Settings
from geo.store import open_store
from geo.units import count_in_units, load_boundaries
from integrationsatlas.coverage import coverage_report
from integrationsatlas.request import AnalysisRequest, AreaRef, SitingSpec

pytest_plugins = ("store_backends",)

KOELN = "05315000"
CENTRE = (357_000.0, 5_647_000.0)
NAMES = {"1": "Südwest", "2": "Südost", "3": "Nordwest", "4": "Nordost"}


def _koeln(settings: Settings) -> shapely.Geometry:
    gemeinden = load_boundaries("gemeinde", settings)
    return gemeinden.loc[gemeinden["ags"] == KOELN, "geometry"].iloc[0]


def _quarters(settings: Settings) -> gpd.GeoDataFrame:
    """The Köln polygon cut into four quarters at :data:`CENTRE` (EPSG:25832)."""
    koeln = _koeln(settings)
    x0, y0, x1, y1 = koeln.bounds
    cx, cy = CENTRE
    boxes = [box(x0, y0, cx, cy), box(cx, y0, x1, cy), box(x0, cy, cx, y1), box(cx, cy, x1, y1)]
    return gpd.GeoDataFrame(
        {"Sozialraum_Nr": list(NAMES), "Bezeichnung": list(NAMES.values())},
        geometry=[shapely.intersection(koeln, b) for b in boxes],
        crs="EPSG:25832",
    )


def _write(frame: gpd.GeoDataFrame, path: Path) -> Path:
    """GeoJSON in EPSG:4326 as a city would deliver it; a GeoPackage keeps EPSG:25832 (and exact borders)."""
    if path.suffix == ".gpkg":
        frame.to_file(path, driver="GPKG")
    else:
        frame.to_crs("EPSG:4326").to_file(path, driver="GeoJSON")
    return path


# --- columns and names -----------------------------------------------------------------------------------------


def test_key_and_name_columns_are_detected_or_refused_with_the_columns_listed() -> None:
    frame = pd.DataFrame({"STT_NR": ["101", "102"], "STT_NAME": ["Altstadt", "Deutz"], "area_km2": [2.3, 4.1]})
    assert detect_columns(frame, file="x")[:2] == ("STT_NR", "STT_NAME")
    other = pd.DataFrame({"sozialraum_id": ["a", "b"], "bezeichnung": ["Nord", "Süd"]})
    assert detect_columns(other, file="x")[:2] == ("sozialraum_id", "bezeichnung")
    plain = pd.DataFrame({"feld1": ["a"], "feld2": ["b"]})
    key, name, problems = detect_columns(plain, file="x.geojson")
    assert key is None and name is None and len(problems) == 2
    assert all("»feld1«, »feld2«" in p.fix for p in problems)
    _, _, wrong = detect_columns(frame, file="x", id_column="NR")
    assert "»NR« gibt es nicht" in wrong[0].message


@pytest.mark.parametrize("name", ["Köln-Stadtteile", "koeln_stadtteile", "kreis", "-x", "a" * 49, ""])
def test_area_set_names_are_checked(name: str) -> None:
    with pytest.raises(DataError):
        check_name(name)


# --- import, checks and storage ---------------------------------------------------------------------------------


def test_an_area_set_is_checked_and_stored_with_its_provenance_on_both_backends(
    backend_settings: Settings, tmp_path: Path
) -> None:
    path = _write(_quarters(backend_settings), tmp_path / "sozialraeume.geojson")
    done = import_area_set(
        path, "koeln-viertel", backend_settings, title="Viertel", licence="CC BY", publisher="Stadt Köln", as_of="2014"
    )
    check = done.check
    assert (check.n_units, check.id_column, check.name_column) == (4, "Sozialraum_Nr", "Bezeichnung")
    assert check.gemeinden == ((KOELN, "Köln", 4),) and not check.problems and not check.straddling
    assert check.overlap_km2 < 1e-3 and check.gap_km2 < 1e-3 and check.gap_parts == 0
    assert check.area_km2 == pytest.approx(_koeln(backend_settings).area / 1e6, rel=1e-4)
    stored = area_set(backend_settings, "koeln-viertel")
    batch = stored.batch
    assert (stored.title, stored.n_units, stored.gemeinden) == ("Viertel", 4, (KOELN,))
    assert (batch.licence, batch.publisher, batch.as_of, batch.source_file) == (
        "CC BY",
        "Stadt Köln",
        "2014",
        "sozialraeume.geojson",
    )
    units = load_area_set(backend_settings, "koeln-viertel")
    assert units["unit_id"].tolist() == ["1", "2", "3", "4"] and units.crs == "EPSG:25832"
    assert units.set_index("unit_id")["name"].to_dict() == NAMES
    assert (units["gemeinde_ags"] == KOELN).all() and np.allclose(units["nrw_share"], 1.0)
    # a new import of the name replaces the set; deleting it is restorable
    import_area_set(path, "koeln-viertel", backend_settings, title="Viertel 2")
    assert area_set(backend_settings, "koeln-viertel").title == "Viertel 2" and len(area_sets(backend_settings)) == 1
    assert delete_area_set(backend_settings, "koeln-viertel") == 1
    with pytest.raises(NotLoadedError, match="areas import"):
        load_area_set(backend_settings, "koeln-viertel")
    open_store(backend_settings).restore(area_set_batch := batch.batch_id)
    assert area_set(backend_settings, "koeln-viertel").batch.batch_id == area_set_batch


def test_every_problem_of_a_file_is_reported_at_once(settings: Settings, tmp_path: Path) -> None:
    good = _quarters(settings)
    bad = gpd.GeoDataFrame(
        {"Sozialraum_Nr": ["1", "5", "6", None], "Bezeichnung": ["Doppelt", None, "Punkt", "Ohne Nr"]},
        geometry=[box(350_000, 5_640_000, 351_000, 5_641_000), box(350_000, 5_640_000, 351_000, 5_641_000),
                  Point(352_000, 5_642_000), box(352_000, 5_642_000, 353_000, 5_643_000)],
        crs="EPSG:25832",
    )  # fmt: skip
    far = gpd.GeoDataFrame(
        {"Sozialraum_Nr": ["7"], "Bezeichnung": ["Berlin"]}, geometry=[box(790_000, 5_820_000, 792_000, 5_822_000)]
    ).set_crs("EPSG:25832")
    path = _write(pd.concat([good, bad, far], ignore_index=True), tmp_path / "fehler.geojson")
    with pytest.raises(ValidationError) as info:
        import_area_set(path, "fehler", settings)
    found = {(p.row, p.column) for p in info.value.problems}
    assert {(1, "Sozialraum_Nr"), (5, "Sozialraum_Nr"), (6, "Bezeichnung"), (7, "geometry")} <= found
    assert (8, "Sozialraum_Nr") in found and (9, "geometry") in found  # the area in Berlin is not in NRW
    assert not area_sets(settings)  # nothing was stored
    kept = import_area_set(path, "fehler", settings, on_invalid="keep_valid")
    assert kept.area_set is not None and kept.area_set.n_units == 3  # quarters 2–4; the doubled "1" is refused


def test_overlaps_gaps_and_repairs_are_measured(settings: Settings) -> None:
    bowtie = Polygon([(357_000, 5_649_000), (358_000, 5_650_000), (358_000, 5_649_000), (357_000, 5_650_000)])
    frame = gpd.GeoDataFrame(
        {"nr": ["a", "b", "c"], "name": ["A", "B", "Schleife"]},
        geometry=[box(355_000, 5_646_000, 357_000, 5_648_000), box(356_800, 5_646_000, 359_000, 5_648_000), bowtie],
        crs="EPSG:25832",
    )
    units, check = check_area_set(frame, settings, file="x.geojson")
    assert len(units) == 3 and check.n_repaired == 1 and not check.problems
    assert check.gemeinden == ((KOELN, "Köln", 3),)
    assert check.overlap_km2 == pytest.approx(0.4, rel=1e-6)  # 200 m × 2 km
    assert len(check.overlap_pairs) == 1 and check.overlap_pairs[0][:2] == ("A", "B")
    assert check.overlap_pairs[0][2] == pytest.approx(0.4, rel=1e-6)
    covered = shapely.union_all(units.geometry.to_numpy()).area / 1e6
    assert check.gap_km2 == pytest.approx(_koeln(settings).area / 1e6 - covered, rel=1e-6)
    assert "Überschneidungen: 40,0 ha" in " ".join(check.findings())


# --- an area set as a level ---------------------------------------------------------------------------------------


@pytest.fixture
def viertel(backend_settings: Settings, tmp_path: Path) -> Settings:
    import_area_set(_write(_quarters(backend_settings), tmp_path / "v.geojson"), "koeln-viertel", backend_settings)
    return backend_settings


def test_a_set_is_a_level_and_unknown_levels_name_the_loaded_sets(viertel: Settings) -> None:
    level = analysis_level("koeln-viertel", viertel)
    assert not level.administrative and (level.key, level.column, level.key_title) == ("unit_id", "unit_id", "Nr.")
    assert analysis_level("kreis", viertel).administrative
    with pytest.raises(NotLoadedError, match="»koeln-viertel«"):
        analysis_level("koeln-stadtteile", viertel)


def test_coverage_by_an_area_set_on_both_backends(viertel: Settings) -> None:
    report = coverage_report(
        viertel, AnalysisRequest("ki", 5.0, area=AreaRef("", set="koeln-viertel"), by="koeln-viertel")
    )
    table = report.gaps.table
    assert sorted(table.index) == ["1", "2", "3", "4"] and table["name"].to_dict() == NAMES
    # the population of each quarter is that of the demand points inside it (joined here without the atlas' rule)
    quarters = _quarters(viertel).rename(columns={"Sozialraum_Nr": "key"})
    points = report.cells[["population", "geometry"]]
    joined = gpd.sjoin(points, quarters[["key", "geometry"]], predicate="within")
    inside = joined.groupby("key")["population"].sum()
    shown = table.loc[~table["too_coarse"], "population"]
    assert len(shown) >= 3 and shown.to_dict() == pytest.approx(inside[shown.index].to_dict())
    # a quarter narrower than two demand units (places with the Kreis population, 3,7 km) has no figures of its own
    coarse = table[table["too_coarse"]]
    assert coarse[["population", "share_covered"]].isna().all().all() and coarse["rank"].isna().all()
    assert report.overall["population_total"].iloc[0] == pytest.approx(joined["population"].sum())
    # the same set inside an administrative area, one area of it, and a Kreis table of a set's area
    by_ags = coverage_report(viertel, AnalysisRequest("ki", 5.0, area=AreaRef("05315"), by="koeln-viertel"))
    assert sorted(by_ags.gaps.table.index) == ["1", "2", "3", "4"]
    one = coverage_report(
        viertel, AnalysisRequest("ki", 5.0, area=AreaRef("3", set="koeln-viertel"), by="koeln-viertel")
    )
    assert one.gaps.table.index.tolist() == ["3"] and one.area is not None and one.area.name == "Nordwest"
    assert one.gaps.table["population"].iloc[0] == pytest.approx(table.loc["3", "population"])
    kreis = coverage_report(viertel, AnalysisRequest("ki", 5.0, area=AreaRef("3", set="koeln-viertel"), by="kreis"))
    assert kreis.gaps.table.index.tolist() == ["05315"]


def test_a_facility_on_the_border_of_two_areas_counts_once_for_the_smaller_key(
    settings: Settings, tmp_path: Path
) -> None:
    import_area_set(_write(_quarters(settings), tmp_path / "v.gpkg"), "koeln-viertel", settings)
    units = load_area_set(settings, "koeln-viertel")
    on_border = gpd.GeoDataFrame(geometry=[Point(CENTRE[0], CENTRE[1] - 1_000)], crs="EPSG:25832")  # between 1 and 2
    counts = count_in_units(units, {"kita": on_border}, key="unit_id").set_index("unit_id")["kita"]
    assert counts.to_dict() == {"1": 1, "2": 0, "3": 0, "4": 0}


def test_siting_keeps_at_least_one_site_per_area_of_a_set(viertel: Settings) -> None:
    from integrationsatlas.siting import plan_sites

    spec = SitingSpec(p=4, min_per_gemeinde=1, min_per_level="koeln-viertel", sensitivity_ps=(), n_clusters=12,
                      grid_spacing_m=2_000, keep_existing=False, place_layers=())  # fmt: skip
    plan = plan_sites(viertel, AnalysisRequest("ki", 3.0, area=AreaRef("05315"), siting=spec))
    chosen = plan.sites[~plan.sites["fixed"].astype(bool)]
    units = load_area_set(viertel, "koeln-viertel")
    inside = gpd.sjoin(chosen[["geometry"]], units[["unit_id", "geometry"]], predicate="within")["unit_id"]
    assert sorted(set(inside)) == ["1", "2", "3", "4"]
    with pytest.raises(DataError, match="Mindestzahl je Einheit"):
        AnalysisRequest("ki", 3.0, area=AreaRef("05315"), siting=SitingSpec(min_per_level="Köln")).validate()


def test_the_request_names_area_sets_on_the_command_line_and_in_json() -> None:
    ref = AreaRef.parse("koeln-viertel:3")
    assert (ref.code, ref.set, str(ref)) == ("3", "koeln-viertel", "koeln-viertel:3")
    request = AnalysisRequest("ki", 5.0, area="koeln-viertel", by="koeln-viertel")
    assert request.area == AreaRef("", set="koeln-viertel")
    assert AnalysisRequest.from_dict(json.loads(json.dumps(request.as_dict()))) == request
    assert "Gebietssatz »koeln-viertel«" in request.describe()
    with pytest.raises(DataError, match="Einheiten"):
        AnalysisRequest("ki", 5.0, by="Köln Viertel").validate()


def test_the_daten_page_action_checks_then_stores_an_uploaded_set(settings: Settings, tmp_path: Path) -> None:
    """The Daten page's upload goes through the CLI's importer: a dry run stores nothing, the import stores."""
    from geo.areasets import area_sets
    from ui.actions import import_area_set_file

    content = _write(_quarters(settings), tmp_path / "v.geojson").read_bytes()
    checked = import_area_set_file(settings, "../../v.geojson", content, "koeln-viertel", dry_run=True)
    assert checked.area_set is None and checked.check.n_units == 4 and not area_sets(settings)
    provenance = ("Stadt Köln", "CC BY 4.0", "2014")
    done = import_area_set_file(
        settings, "v.geojson", content, " koeln-viertel ", title="Viertel", provenance=provenance
    )
    assert done.area_set is not None and [a.name for a in area_sets(settings)] == ["koeln-viertel"]
    assert (done.area_set.title, done.area_set.batch.publisher, done.area_set.as_of) == (
        "Viertel",
        "Stadt Köln",
        "2014",
    )


def test_the_gap_map_of_an_area_set_greys_areas_without_own_figures(viertel: Settings) -> None:
    """The Lücken map of a set: every area once, by its number; too coarse demand gives grey and a note."""
    from ui import maps, views

    request = AnalysisRequest("ki", 5.0, area=AreaRef("", set="koeln-viertel"), by="koeln-viertel")
    report = coverage_report(viertel, request)
    data, _ = views.gap_map(viertel, request, report)
    shown = {f["properties"]["_id"]: f["properties"] for f in data["features"]}
    assert set(shown) == {"1", "2", "3", "4"}
    coarse = report.gaps.table.index[report.gaps.table["too_coarse"]].astype(str).tolist()
    assert coarse and all(shown[k]["_fill"] == maps.NO_DATA_COLOR for k in coarse)
    assert all("zu grob" in str(shown[k]["_tooltip"]) for k in coarse)
    assert all(shown[k]["_fill"] != maps.NO_DATA_COLOR for k in shown if k not in coarse)
