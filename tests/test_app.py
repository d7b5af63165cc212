"""AppTest: every page of the app runs without exception, and the main controls work.

Clicks inside the Leaflet map cannot be simulated here; those paths are
driven through session state (and covered for real in ``test_browser.py``).
Every test runs against an isolated ``INTEGRATIONSATLAS_HOME``.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest
from hostile import shown_text
from streamlit.testing.v1 import AppTest

from geo.layers.registry import REGISTRY
from geo.settings import PROJECT_ROOT, Settings
from ui import state

APP = str(PROJECT_ROOT / "app.py")
PAGES = ("ui/pages/karte.py", "ui/pages/luecken.py", "ui/pages/standort.py", "ui/pages/daten.py")
XSS_NAME = "<img src=x onerror=alert(1)>"


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An isolated data store for the app (never the user's real one)."""
    path = tmp_path / "atlas-home"
    monkeypatch.setenv("INTEGRATIONSATLAS_HOME", str(path))
    monkeypatch.setenv("INTEGRATIONSATLAS_OFFLINE", "1")
    return path


def _app() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=180)
    at.run()
    return at


def _no_failures(at: AppTest) -> None:
    assert not at.exception, [e.message for e in at.exception]


def _frame_with(at: AppTest, column: str) -> pd.DataFrame:
    """The (first) dataframe on the page that has ``column``."""
    for element in at.dataframe:
        if column in element.value.columns:
            return element.value
    raise AssertionError(f"no table with column {column!r} on the page")


def _import_kitas(home: Path, tmp_path: Path) -> None:
    from geo.importing import import_file

    csv = tmp_path / "kitas.csv"
    csv.write_text(
        "id;name;traeger;lat;lon\n"
        f"k1;{XSS_NAME};Stadt Aachen;50.7753;6.0839\n"
        "k2;Kita Sonnenschein;AWO;50.7800;6.1000\n",
        encoding="utf-8",
    )
    import_file(csv, "kita", Settings.from_env(), on_invalid="reject")


@pytest.mark.slow
@pytest.mark.parametrize("page", PAGES)
def test_every_page_runs(home: Path, page: str) -> None:
    at = _app()
    if page != PAGES[0]:
        at.switch_page(page).run()
    _no_failures(at)
    assert not at.error, [e.value for e in at.error]
    assert at.title[0].value


def test_first_screen_is_the_nrw_map(home: Path) -> None:
    at = _app()
    _no_failures(at)
    assert at.title[0].value == "Integrationsatlas NRW"
    assert at.selectbox(key="karte_indicator").value == "population"
    assert any("Klicken Sie auf ein Gebiet" in i.value for i in at.info)


@pytest.mark.parametrize(
    "indicator",
    ["foreign_share_pct", "density_per_km2", "facilities_per_10k", "share_covered", "access_ratio", "gap_score"],
)
@pytest.mark.slow
def test_every_indicator_renders(home: Path, indicator: str) -> None:
    at = _app()
    at.selectbox(key="karte_indicator").set_value(indicator).run()
    _no_failures(at)
    assert not at.error, [e.value for e in at.error]


def test_search_selects_a_kreis_and_shows_its_profile(home: Path) -> None:
    at = _app()
    at.text_input(key="karte_search").set_value("05170").run()
    _no_failures(at)
    assert at.session_state[state.SELECTED_AREA] == ("kreis", "05170")
    assert any("Wesel" in m.value for m in at.markdown)
    facilities = at.dataframe[-1].value
    assert list(facilities["Name"]) == ["Kommunales Integrationszentrum Kreis Wesel"]
    assert list(facilities["Lagegenauigkeit"]) == ["Ort"]


def test_search_without_hit_warns_in_german(home: Path) -> None:
    at = _app()
    at.text_input(key="karte_search").set_value("Atlantis").run()
    _no_failures(at)
    assert "Kein Kreis und keine Gemeinde passt zu »Atlantis«" in at.warning[0].value


def test_clicked_unit_profile_via_session_state(home: Path) -> None:
    at = _app()
    at.session_state[state.SELECTED_AREA] = ("kreis", "05334")
    at.run()
    _no_failures(at)
    profile = [h.proto.body for h in at.get("html") if "atlas-kv" in h.proto.body]
    assert len(profile) == 1 and "<dt>Einwohner (Jahresmittel 2019)</dt>" in profile[0]
    names = set(at.dataframe[0].value["Name"])
    # Stadt Aachen (05334002) lies inside the Städteregion and has its own KI
    assert names == {
        "Kommunales Integrationszentrum StädteRegion Aachen",
        "Kommunales Integrationszentrum Stadt Aachen",
    }
    at.radio(key="lang").set_value("en").run()  # the Kreis' population is an annual mean, in English too
    profile = [h.proto.body for h in at.get("html") if "atlas-kv" in h.proto.body]
    assert "<dt>Population (annual mean 2019)</dt>" in profile[0]
    assert "<dt>Area</dt>" in profile[0] and f"<dt>{REGISTRY.get('ki').title_en}</dt>" in profile[0]
    assert "Fläche" not in profile[0] and "Einwohner" not in profile[0]


def test_a_map_click_selects_the_kreis_before_the_map_is_drawn(home: Path) -> None:
    """streamlit-folium keeps the click under the map's key; the Karte takes it before drawing the outline."""
    at = _app()
    at.run()
    at.session_state["karte_map"] = {"last_object_clicked": {"lat": 50.776, "lng": 6.084}}  # Aachen, Markt
    at.run()
    _no_failures(at)
    assert at.session_state[state.SELECTED_AREA] == ("kreis", "05334")
    assert any("StädteRegion Aachen" in m.value or "Städteregion Aachen" in m.value for m in at.markdown)


def test_english_toggle_translates_the_chrome(home: Path) -> None:
    at = _app()
    at.radio(key="lang").set_value("en").run()
    _no_failures(at)
    assert at.title[0].value == "Integration Atlas NRW"


@pytest.mark.slow
def test_threshold_change_updates_the_gap_table(home: Path) -> None:
    at = _app()
    at.switch_page("ui/pages/luecken.py").run()
    _no_failures(at)
    before = _frame_with(at, "Rang")
    at.slider(key="luecken_km").set_value(25).run()
    _no_failures(at)
    after = _frame_with(at, "Rang")
    assert len(before) == len(after) == 53
    share_before = before.set_index("AGS")["Versorgt (%)"].sort_index()
    share_after = after.set_index("AGS")["Versorgt (%)"].sort_index()
    assert (share_after >= share_before).all()
    assert (share_after > share_before).any()
    assert any("Orte (GeoNames)" in shown_text(i.value) for i in at.info)


@pytest.mark.slow
def test_gap_analysis_for_one_kreis(home: Path) -> None:
    at = _app()
    at.switch_page("ui/pages/luecken.py").run()
    at.selectbox(key="luecken_area").set_value("05334").run()
    _no_failures(at)
    table = _frame_with(at, "Rang")
    assert list(table["AGS"]) == ["05334"]
    # one unit has no gap score to compare with (it showed 0, which reads as »no gap«), and the page says why
    assert table["Lückenwert"].isna().all()
    assert any(shown_text(c.value).startswith("Lückenwert: vergleicht die Gebiete") for c in at.caption)
    # GeoNames places for a 10 km question: the ranking's shares are as rough as the total, and it says so
    assert any("Auflösung zu grob" in shown_text(w.value) for w in at.warning)
    heading = next(shown_text(m.value) for m in at.markdown if "Am schlechtesten versorgte Gebiete" in m.value)
    assert heading.endswith("(grobe Näherung, Nachfrage zu grob)"), heading


def test_the_gap_map_says_when_its_shares_are_rough(home: Path) -> None:
    from integrationsatlas.coverage import coverage_report
    from integrationsatlas.request import AnalysisRequest, AreaRef
    from ui import views

    cfg = Settings.from_env()
    for km, rough in ((2.0, True), (50.0, False)):  # GeoNames places: too coarse for 2 km, fine for 50 km
        request = AnalysisRequest("ki", km, area=AreaRef("05"))
        report = coverage_report(cfg, request)
        assert report.resolution.ok is not rough
        data, cls = views.gap_map(cfg, request, report)
        assert cls.title.endswith(" – grobe Näherung, Nachfrage zu grob") is rough, cls.title
        tooltips = [f["properties"]["_tooltip"] for f in data["features"]]
        assert all(("grobe Näherung" in str(tip)) is rough for tip in tooltips)


@pytest.mark.slow
def test_travel_time_without_osm_file_asks_for_one(home: Path) -> None:
    at = _app()
    at.switch_page("ui/pages/luecken.py").run()
    at.radio(key="luecken_unit").set_value("min").run()
    _no_failures(at)
    assert any("OSM-Auszug" in i.value for i in at.info)


@pytest.mark.slow
def test_imported_layer_appears_and_batches_can_be_deleted(home: Path, tmp_path: Path) -> None:
    _import_kitas(home, tmp_path)
    at = _app()
    at.switch_page("ui/pages/daten.py").run()
    _no_failures(at)
    inventory = at.dataframe[0].value.set_index("Kennung")
    assert inventory.loc["kita", "Anzahl"] == 2
    assert inventory.loc["ki", "Anzahl"] == 54
    batches = at.dataframe[1].value
    assert list(batches["Datei"]) == ["kitas.csv"]
    at.button(key="daten_batch_delete").click().run()
    _no_failures(at)
    inventory = at.dataframe[0].value.set_index("Kennung")
    assert inventory.loc["kita", "Anzahl"] == 0
    at.button(key="daten_batch_restore").click().run()
    inventory = at.dataframe[0].value.set_index("Kennung")
    assert inventory.loc["kita", "Anzahl"] == 2


def test_imported_names_reach_the_map_as_text(home: Path, tmp_path: Path) -> None:
    from ui import cached

    _import_kitas(home, tmp_path)
    cfg = Settings.from_env()
    data = cached.points_geojson(cfg, cached.store_version(cfg), "kita")
    tips = [f["properties"]["_tooltip"] for f in data["features"]]
    assert ["Name", XSS_NAME] in tips[0] + tips[1]  # the name as it is, shown with textContent


def test_fetch_offline_says_so_and_the_session_goes_on(home: Path) -> None:
    at = _app()
    at.switch_page("ui/pages/daten.py").run()
    assert any("Online-Abrufe sind ausgeschaltet" in w.value for w in at.warning)
    at.button(key="daten_fetch_run").click().run()
    _no_failures(at)
    assert at.error, "an offline fetch must show st.error"
    assert any("nternet" in e.value or "offline" in e.value.lower() or "nicht erreichbar" in e.value for e in at.error)
    at.switch_page("ui/pages/karte.py").run()
    _no_failures(at)


def test_clicked_candidates_are_listed(home: Path) -> None:
    at = _app()
    at.switch_page("ui/pages/standort.py").run()
    at.session_state[state.CANDIDATES] = [(50.7753, 6.0839), (50.80, 6.12)]
    at.run()
    _no_failures(at)
    clicked = _frame_with(at, "Breite")
    assert len(clicked) == 2
    at.button(key="standort_clear").click().run()
    assert at.session_state[state.CANDIDATES] == []


@pytest.mark.slow
def test_siting_run_shows_numbered_sites_and_can_be_saved(home: Path) -> None:
    at = _app()
    at.switch_page("ui/pages/standort.py").run()
    at.number_input(key="standort_p").set_value(2)
    at.button(key="standort_run").click().run()
    _no_failures(at)
    assert not at.error, [e.value for e in at.error]
    sites = _frame_with(at, "Zusätzlich erreicht (%)")
    assert list(sites["Nr."]) == [1, 2]
    plan = at.session_state[state.SITING_RESULT]
    assert plan.request.siting.p == 2
    # the table per Gemeinde says it is as rough as the total when the demand is too coarse
    from ui.markdown import md

    heading = next(str(m.value) for m in at.markdown if "Wer bleibt weit weg?" in str(m.value))
    assert (md("(grobe Näherung, Nachfrage zu grob)") in heading) == (not plan.resolution.ok)
    # its shares and the metric's change in points follow the rule of every other surface
    from geo.formatting import de_points, shown_percent

    equity = _frame_with(at, "über der Schwelle vorher (%)")
    assert list(equity["über der Schwelle nachher (%)"]) == [shown_percent(x) for x in plan.equity["beyond_after"]]
    summary = plan.summary()
    delta = next(m for m in at.metric if m.label == "Versorgt nachher").delta
    assert delta == f"{de_points(summary['share_before'], summary['share_after'])} Prozentpunkte"


@pytest.mark.slow
def test_grid_candidates_reach_the_planner(home: Path) -> None:
    at = _app()
    at.switch_page("ui/pages/standort.py").run()
    at.number_input(key="standort_grid").set_value(3.0)
    at.number_input(key="standort_p").set_value(2)
    at.button(key="standort_run").click().run()
    _no_failures(at)
    assert not at.error, [e.value for e in at.error]
    plan = at.session_state[state.SITING_RESULT]
    assert plan.request.siting.grid_spacing_m == 3000.0
    assert "Raster" in set(plan.candidates["source"])


@pytest.mark.slow
def test_two_saved_plans_are_compared_with_a_difference_map(home: Path) -> None:
    from integrationsatlas.cli import main

    for p in ("2", "4"):
        assert (
            main(["sites", "--area", "05334", "-p", p, "--radius-km", "5", "--save", f"Plan {p}", "--no-sensitivity"])
            == 0
        )
    at = _app()
    at.switch_page("ui/pages/standort.py").run()
    _no_failures(at)
    assert {at.selectbox(key="standort_cmp_a").value, at.selectbox(key="standort_cmp_b").value} == {"Plan 2", "Plan 4"}
    assert any("Differenzkarte: Nachfragepunkte" in str(m.value) for m in at.markdown)
    diff = _frame_with(at, "B − A (Prozentpunkte)")
    assert len(diff) >= 1
    from geo.settings import Settings
    from geo.store.scenarios import load_scenario
    from ui.markdown import md

    rough = {name: load_scenario(Settings.from_env(), name).rough for name in ("Plan 2", "Plan 4")}
    warned = [str(w.value) for w in at.warning if "nur grobe Näherung" in str(w.value)]
    assert len(warned) == sum(bool(r) for r in rough.values())
    assert all(md(r) in " ".join(warned) for r in rough.values())


def test_problem_table_lists_file_row_column_fix() -> None:
    def page() -> None:
        from geo.errors import Problem
        from ui.components import problem_table

        problem_table([Problem("keine Zahl", "Zahl eintragen", file="a.csv", row=3, column="lat")])

    at = AppTest.from_function(page)
    at.run()
    frame = at.dataframe[0].value
    assert isinstance(frame, pd.DataFrame)
    assert frame.iloc[0].to_dict() == {
        "Datei": "a.csv",
        "Zeile": 3,
        "Spalte": "lat",
        "Problem": "keine Zahl",
        "Was tun?": "Zahl eintragen",
    }


# --- the pure helpers behind the pages (ui.maps, integrationsatlas.areas, ui.static_assets) -------------


def test_tooltips_are_rows_of_plain_text() -> None:
    from ui.maps import tooltip_rows

    frame = pd.DataFrame({"name": [XSS_NAME, None], "traeger": ['"Träger" & Co', "AWO"]})
    tips = tooltip_rows(frame, [("name", "Name"), ("traeger", "Träger"), ("missing", "Fehlt")])
    assert tips.iloc[0] == [["Name", XSS_NAME], ["Träger", '"Träger" & Co']]
    assert tips.iloc[1] == [["Träger", "AWO"]]


def test_quantile_classes_cover_all_values_and_mark_missing() -> None:
    from integrationsatlas.classes import NO_DATA_COLOR, YLGNBU
    from ui.maps import classify

    values = pd.Series([1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0, float("nan")])
    c = classify(values, "Test", k=5, decimals=0)
    assert c.palette == YLGNBU[5]
    assert c.has_missing and c.colors.iloc[-1] == NO_DATA_COLOR
    assert c.colors.iloc[0] == YLGNBU[5][0] and c.colors.iloc[9] == YLGNBU[5][4]
    assert len(c.labels) == 5
    constant = classify(pd.Series([3.0, 3.0]), "Konstant")
    assert constant.labels == ("3,0",) and set(constant.colors) == {YLGNBU[1][0]}


def test_fixed_classes_keep_maps_comparable() -> None:
    from ui.maps import classify_fixed

    c = classify_fixed(pd.Series([0.0, 50.0, 50.1, 100.0]), (50.0, 100.0), "Anteil")
    assert c.labels == ("0 – 50", "50 – 100")
    assert list(c.colors) == [c.palette[0], c.palette[0], c.palette[1], c.palette[1]]


def test_display_geojson_is_simplified_in_metres_and_rounded() -> None:
    import geopandas as gpd
    import shapely

    from ui.maps import to_display_geojson

    # a 10 km square with a 20 m notch: the notch disappears at 100 m tolerance
    ring = [
        (300_000, 5_650_000),
        (305_000, 5_650_000),
        (305_000, 5_650_020),
        (305_020, 5_650_020),
        (305_020, 5_650_000),
        (310_000, 5_650_000),
        (310_000, 5_660_000),
        (300_000, 5_660_000),
    ]
    gdf = gpd.GeoDataFrame(geometry=[shapely.Polygon(ring)], crs="EPSG:25832")
    data = to_display_geojson(gdf, pd.DataFrame({"_id": ["a"]}), tolerance_m=100.0)
    coords = data["features"][0]["geometry"]["coordinates"][0]
    assert len(coords) == 5
    assert all(round(v, 6) == v for xy in coords for v in xy)
    assert data["features"][0]["properties"] == {"_id": "a"}
    assert 6.1 < coords[0][0] < 6.3 and 50.9 < coords[0][1] < 51.1


def test_points_are_counted_per_unit_and_found_by_click() -> None:
    import geopandas as gpd
    import shapely

    from geo.units import count_in_units
    from integrationsatlas.areas import area_at

    units = gpd.GeoDataFrame(
        {"ags": ["05001", "05002"], "name": ["West", "Ost"]},
        geometry=[
            shapely.box(300_000, 5_650_000, 310_000, 5_660_000),
            shapely.box(310_000, 5_650_000, 320_000, 5_660_000),
        ],
        crs="EPSG:25832",
    )
    points = gpd.GeoDataFrame(
        geometry=gpd.points_from_xy([301_000, 302_000, 315_000], [5_651_000] * 3), crs="EPSG:25832"
    )
    assert count_in_units(units, {"p": points})["p"].tolist() == [2, 1]
    centre_east = gpd.GeoSeries([shapely.Point(315_000, 5_655_000)], crs="EPSG:25832").to_crs("EPSG:4326")
    assert area_at(units, centre_east.y.iloc[0], centre_east.x.iloc[0]) == "05002"
    assert area_at(units, 52.0, 9.0) is None


def test_search_matches_names_and_ags_prefixes() -> None:
    import geopandas as gpd
    import shapely

    from integrationsatlas.areas import search_areas

    names = ["Wesel", "Steinfurt", "Hochsauerlandkreis"]
    kreise = gpd.GeoDataFrame(
        {"ags": ["05170", "05566", "05958"], "name": names}, geometry=[shapely.box(0, 0, 1, 1)] * 3, crs="EPSG:25832"
    )
    assert [h.ags for h in search_areas({"kreis": kreise}, "wesel")] == ["05170"]
    assert [h.ags for h in search_areas({"kreis": kreise}, "055")] == ["05566"]
    assert [h.label for h in search_areas({"kreis": kreise}, "kreis")] == ["Hochsauerlandkreis (05958)"]
    assert search_areas({"kreis": kreise}, "  ") == []


def test_clicked_points_round_trip_to_utm() -> None:
    import geopandas as gpd

    from integrationsatlas.areas import clicked_points_25832

    ((x, y, name),) = clicked_points_25832([(51.0, 7.0)])
    back = gpd.GeoSeries(gpd.points_from_xy([x], [y]), crs="EPSG:25832").to_crs("EPSG:4326")
    assert abs(back.y.iloc[0] - 51.0) < 1e-5 and abs(back.x.iloc[0] - 7.0) < 1e-5
    assert name == "Eigener Punkt 1"


def test_leaflet_is_copied_once_and_maps_never_use_a_cdn(tmp_path: Path) -> None:

    from ui import maps
    from ui.static_assets import ensure_static_assets

    static = ensure_static_assets(tmp_path / "static")
    leaflet = static / "leaflet" / "leaflet.js"
    assert leaflet.stat().st_size > 100_000
    mtime = leaflet.stat().st_mtime_ns
    ensure_static_assets(tmp_path / "static")
    assert leaflet.stat().st_mtime_ns == mtime
    assert (static / "leaflet-markercluster" / "leaflet.markercluster.js").exists()

    many = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "id": i,
                "properties": {"_tooltip": [["Name", "x"]]},
                "geometry": {"type": "Point", "coordinates": [7.0 + i * 1e-4, 51.0]},
            }
            for i in range(maps.CLUSTER_THRESHOLD + 1)
        ],
    }

    m = maps.base_map()
    maps.feature_group("Kitas", maps.points_layer(REGISTRY.get("kita"), many)).add_to(m)
    html = m.get_root().render()
    scripts = re.findall(r'<(?:script|link)[^>]+(?:src|href)="([^"]+)"', html)
    assert scripts and all(s.startswith("/app/static/") for s in scripts), scripts
    assert "markercluster" in " ".join(scripts)


@pytest.mark.slow
def test_an_area_set_is_a_level_of_the_gap_page_and_its_title_stays_text(home: Path, tmp_path: Path) -> None:
    """Issue 24: an imported area set is offered as units of the table and map; its title is data, not Markdown."""
    from test_areasets import _quarters, _write

    from geo.areasets import import_area_set

    settings = Settings.from_env()
    import_area_set(_write(_quarters(settings), tmp_path / "v.geojson"), "koeln-viertel", settings, title=XSS_NAME)
    at = _app()
    at.switch_page("ui/pages/luecken.py").run()
    by = at.selectbox(key="luecken_by")
    assert "koeln-viertel" in by.options[-1] and XSS_NAME in by.options[-1]
    by.set_value("koeln-viertel").run()
    _no_failures(at)
    table = _frame_with(at, "Rang")
    assert set(table["Nr."]) <= {"1", "2", "3", "4"} and len(table) >= 3 and "AGS" not in table.columns
    assert not any("<img" in shown_text(m.value) for m in at.markdown)


@pytest.mark.slow
def test_the_karte_maps_an_area_sets_indicator_and_its_change(home: Path, tmp_path: Path) -> None:
    """Issue 24: stored indicators of an area set on the Karte, at one date and as change between two."""
    from test_areasets import _quarters, _write
    from test_monitoring import KITA_NE, KITA_NW, _kitas

    from geo.areasets import import_area_set
    from integrationsatlas.monitoring import IndicatorSeries, Reach, compute_indicators, store_indicators
    from integrationsatlas.request import AreaRef

    settings = Settings.from_env()
    import_area_set(_write(_quarters(settings), tmp_path / "v.geojson"), "koeln-viertel", settings, title=XSS_NAME)
    series = IndicatorSeries("koeln-viertel", AreaRef("", set="koeln-viertel"), ("kita",), (Reach("km", 1.0),))
    _kitas(settings, [KITA_NW], "2020-06-30")
    store_indicators(settings, compute_indicators(settings, series))
    _kitas(settings, [KITA_NW, KITA_NE], "2021-06-30")
    store_indicators(settings, compute_indicators(settings, series))
    at = _app()
    _no_failures(at)
    assert at.selectbox(key="karte_set").value == "koeln-viertel"
    at.selectbox(key="karte_set_indicator").set_value("area_covered.kita.km1").run()
    at.selectbox(key="karte_set_before").set_value("2020-06-30").run()
    _no_failures(at)
    assert at.selectbox(key="karte_set_date").value == "2021-06-30"
    assert not any("<img" in shown_text(m.value) for m in at.markdown)
