"""The planner's frictions of issue 20, one test each (AppTest and unit level; the browser ones are in
``tests/test_browser_monkey.py`` and ``tests/test_browser_frictions.py``)."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from geo.errors import DataError
from geo.importing.osm_tags import is_osm_table, select_for_layer
from geo.settings import PROJECT_ROOT
from ui.components import german_style

APP = str(PROJECT_ROOT / "app.py")


def _daten() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=180)
    at.run()
    at.switch_page("ui/pages/daten.py").run()
    assert not at.exception, [e.message for e in at.exception]
    return at


KITAS_CSV = b"id;name;traeger;lat;lon\nk1;Kita A;AWO;50.7753;6.0839\nk2;Kita B;AWO;50.78;6.1\n"


@pytest.mark.slow
def test_upload_has_no_default_layer_and_asks_for_replace_or_append(app_home: Path) -> None:
    at = _daten()
    layer = at.selectbox(key="daten_layer")
    assert layer.value is None  # nothing preselected (it used to be the KI layer)
    assert any("Zuerst die Ebene wählen" in i.value for i in at.info)
    assert not [u for u in at.get("file_uploader") if u.proto.id.endswith("daten_file")]
    layer.set_value("kita").run()
    assert at.radio(key="daten_mode").value is None
    at.file_uploader(key="daten_file").set_value(("kitas.csv", KITAS_CSV, "text/csv")).run()
    assert any("ersetzen oder die Datei anhängen" in i.value for i in at.info)
    assert not [b for b in at.button if b.key == "daten_import"]  # no import before the choice
    at.radio(key="daten_mode").set_value("replace").run()
    assert not at.exception, [e.message for e in at.exception]
    assert [b for b in at.button if b.key == "daten_import"]


def test_osm_extract_is_uploaded_on_the_daten_page_and_offered_everywhere(app_home: Path, shared_data: Path) -> None:
    at = _daten()
    extract = (shared_data / "osm/aachen.osm.pbf").read_bytes()
    at.file_uploader(key="daten_osm").set_value(("aachen.osm.pbf", extract, "application/octet-stream")).run()
    assert not at.exception, [e.message for e in at.exception]
    shown = [re.sub(r"\\(.)", r"\1", s.value).replace("\u2060", "") for s in at.success]
    assert any("aachen.osm.pbf" in s and "bereit" in s for s in shown), shown
    at.switch_page("ui/pages/standort.py").run()
    at.toggle(key="standort_use_time").set_value(True).run()
    assert at.selectbox(key="standort_osm_known").value.name == "aachen.osm.pbf"


def _osm_table() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "osm_id": [1, 2, 3, 4, 5],
            "osm_type": ["node"] * 5,
            "amenity": ["kindergarten", "place_of_worship", "library", "childcare", "place_of_worship"],
            "name": ["Kita Sonne", "St. Foillan", "Stadtarchiv", "Krabbelstube", "Moschee"],
        },
        index=[0, 1, 2, 3, 4],
    )


def test_an_osm_export_gives_a_kita_layer_only_its_kitas_and_says_what_it_left_out() -> None:
    table = _osm_table()
    assert is_osm_table(table)
    kept, note = select_for_layer(table, "kita", "export.geojson")
    assert list(kept["name"]) == ["Kita Sonne", "Krabbelstube"]
    assert list(kept.index) == [0, 3]  # row numbers of the file stay right
    assert note is not None
    assert "2 von 5" in note and "2 × amenity=place_of_worship" in note and "1 × amenity=library" in note


def test_an_osm_export_without_any_object_of_the_layer_is_refused_with_what_it_holds() -> None:
    table = _osm_table().iloc[[1, 2]]
    with pytest.raises(DataError, match=r"keines der 2 OSM-Objekte.*1 × amenity=place_of_worship"):
        select_for_layer(table, "kita", "export.geojson")


def test_a_plain_table_and_a_layer_without_osm_category_are_left_alone() -> None:
    plain = pd.DataFrame({"id": ["a"], "name": ["x"], "amenity": ["library"]})  # no OSM id column
    assert select_for_layer(plain, "kita", "x.csv") == (plain, None)
    assert select_for_layer(_osm_table(), "ki", "x.geojson")[1] is None


def test_real_aachen_export_imports_94_kitas_not_342(shared_data: Path, tmp_path: Path) -> None:
    from geo.importing import import_file
    from geo.settings import Settings

    cfg = Settings().with_home(tmp_path)
    result = import_file(
        shared_data / "facilities/aachen_osm2021_facilities.geojson", "kita", cfg, dry_run=True, on_invalid="keep_valid"
    )
    assert result.rows_in == 342
    assert 90 <= len(result.data) <= 94
    assert any("weggelassen: 88 × amenity=place_of_worship" in n for n in result.notes)


def test_tables_show_missing_text_as_an_empty_cell_and_counts_in_german() -> None:
    frame = pd.DataFrame({"Name": ["Kita A", None], "Anzahl": [2787, 2091]})
    html = german_style(frame).to_html()
    assert "None" not in html and "nan" not in html
    assert "2.787" in html and "2.091" in html


def test_scale_bars_are_metric_only() -> None:
    from ui import maps

    html = maps.base_map().get_root().render()
    assert "imperial: false" in html
    assert "L.control.scale()" not in html


@pytest.mark.slow
def test_offline_fetch_says_so_in_a_short_german_message_and_clears_its_progress_bar(app_home: Path) -> None:
    at = _daten()
    at.selectbox(key="daten_fetch_source").set_value("bkg-vg250").run()
    at.button(key="daten_fetch_run").click().run()
    assert not at.exception, [e.message for e in at.exception]
    [error] = at.error
    shown = re.sub(r"\\(.)", r"\1", error.value).replace("\u2060", "")  # as rendered: no Markdown escapes
    assert "Online-Quellen sind abgeschaltet" in shown and "sgx.geodatenzentrum.de" in shown
    assert len(shown) < 400, shown  # it was about 700 characters, mostly a WFS query
    assert "outputFormat" not in shown
    assert not at.get("progress"), "the progress bar must not stay behind"


@pytest.mark.slow
def test_scenario_comparison_opens_on_two_plans_of_the_same_area_without_an_error(app_home: Path) -> None:
    from integrationsatlas.cli import main

    for area, p, name in (("05334", "2", "Plan 2"), ("05334", "3", "Plan 3"), ("05334002", "2", "Nur Aachen")):
        args = ["sites", "--area", area, "-p", p, "--radius-km", "5", "--save", name, "--no-sensitivity"]
        assert main(args) == 0
    at = AppTest.from_file(APP, default_timeout=180)
    at.run()
    at.switch_page("ui/pages/standort.py").run()
    assert not at.exception, [e.message for e in at.exception]
    # the newest scenario (»Nur Aachen«) has no partner of its area: the comparison opens on the two Städteregion plans
    # each option names its measure, so plans of different thresholds are told apart
    assert at.selectbox(key="standort_cmp_a").options == ["Plan 3 (5 km Luftlinie)", "Plan 2 (5 km Luftlinie)"]
    assert (at.selectbox(key="standort_cmp_a").value, at.selectbox(key="standort_cmp_b").value) == ("Plan 3", "Plan 2")
    assert not at.error, [e.value for e in at.error]
    at.selectbox(key="standort_cmp_a").set_value("Plan 2").run()
    assert at.selectbox(key="standort_cmp_b").value == "Plan 3"
    assert not at.error and not at.exception


@pytest.mark.slow
def test_the_karte_keeps_its_level_while_another_page_is_open(app_home: Path) -> None:
    at = AppTest.from_file(APP, default_timeout=180)
    at.run()
    at.radio(key="karte_level").set_value("gemeinde").run()
    at.switch_page("ui/pages/luecken.py").run()
    at.switch_page("ui/pages/karte.py").run()
    assert not at.exception, [e.message for e in at.exception]
    assert at.radio(key="karte_level").value == "gemeinde"  # it fell back to »Kreis« on every return
