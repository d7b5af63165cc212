"""Data never becomes code, on every surface (issue 18).

Hostile names (:mod:`hostile`: Jinja, HTML and script, a JavaScript template
literal, Markdown image and link, spreadsheet formulas, a right-to-left
override, a very long string) go into every place where the app shows or
writes text, and nothing may be evaluated, nothing may break, and the names
must come out as the text they are:

- the map (every element: tooltips, legends, layer names, site numbers,
  background labels, notes) – rendered as streamlit-folium renders it, and in
  a real Chromium, where the exact strings must arrive in the DOM as text;
- Streamlit's Markdown surfaces (a check of the source: nothing reaches them
  unescaped) and :func:`ui.i18n.t` / :func:`ui.markdown.md`;
- the exports (CSV/XLSX formulas neutralised, GeoPackage/GeoJSON unchanged);
- the council report (HTML and the text of the PDF);
- the CLI output and log lines; scenario names.

The importers with real files (a Geofabrik-style OSM extract with hostile
names, Gemeinden, population, facilities, Zensus, GTFS) and every page of the
running app are in ``tests/test_injection_e2e.py``.
"""

from __future__ import annotations

import ast
import io
import json
import logging
import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from hostile import CANARY_ENV, PWNED, html_text, payloads, visible
from loopback import LoopbackServer

from geo.errors import ValidationError
from geo.layers.registry import REGISTRY
from geo.settings import PROJECT_ROOT, PROJECTED_CRS, Settings

pytest_plugins = ("loopback",)

ROOT = PROJECT_ROOT
#: Stands for the canary server in tests that need no server (nothing may ever request it).
NO_SERVER = "http://127.0.0.1:9"


@pytest.fixture
def canary_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The directory the ``jinja_os`` payload would create; it must never exist."""
    path = tmp_path / "rce-canary"
    monkeypatch.setenv(CANARY_ENV, str(path))
    yield path
    assert not path.exists(), "a template evaluated data: the os.mkdir payload ran"


def _names(canary_url: str = NO_SERVER) -> list[str]:
    return list(payloads(canary_url).values())


# --- 1. the map -------------------------------------------------------------------------------------------


def _background_with_places(names: list[str]) -> dict[str, Any]:
    """The drawing data of an OSM background whose places carry ``names`` (EPSG:25832 around Aachen)."""
    from ui.map_background import background_payload

    n = len(names)
    bg = gpd.GeoDataFrame(
        {
            "kind": ["place"] * n + ["water"],
            "name": [*names, None],
            "rank": [1] * n + [0],
            "cls": [None] * (n + 1),
        },
        geometry=[shapely.Point(294_000 + 300 * i, 5_628_000 + 200 * i) for i in range(n)]
        + [shapely.box(294_000, 5_628_000, 295_000, 5_629_000)],
        crs=PROJECTED_CRS,
    )
    return background_payload(bg)


def _streamlit_folium_render(m: folium.Map) -> str:
    """What ``st_folium`` renders of a map: the whole page once, then header, html and the Leaflet script."""
    from streamlit_folium import _get_header, _get_html, _get_map_string

    page = m.get_root().render()
    return "\n".join([page, _get_header(m), _get_html(m), _get_map_string(m)])


def test_rce_an_osm_name_with_jinja_is_never_evaluated(canary_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The reproduction of the RCE: OSM place names ``{{ 6*7 }}`` and an ``os.mkdir`` call in Jinja.

    Before the fix the map rendered ``42`` and created the canary directory.
    """
    from ui import maps
    from ui.basemap import Background
    from ui.map_background import OsmBackgroundLayer
    from ui.map_script import script_json

    monkeypatch.setenv("INTEGRATIONSATLAS_HOME", str(canary_dir.parent / "home"))
    names = [payloads(NO_SERVER)["jinja"], payloads(NO_SERVER)["jinja_os"]]
    payload = _background_with_places(names)
    assert [label[2] for label in payload["labels"]] == names  # the names as they are
    m = maps.base_map(tiles=Background((), None))
    OsmBackgroundLayer(payload).add_to(m)
    page = _streamlit_folium_render(m)
    assert str(script_json(payload["labels"])) in page  # the labels reach the page as data, unevaluated
    assert ", 42, 1]" not in page and "'42'" not in page and '"42"' not in page


#: Which hostile name each feature group of :func:`_every_element_map` is called.
GROUP_NAME_INDEX = (3, 6, 7, 9, 11, 13, 14)


def _every_element_map(names: list[str]) -> tuple[folium.Map, list[folium.FeatureGroup]]:
    """A base map plus one feature group per kind of element, every text being a hostile name."""
    from ui import maps
    from ui.basemap import Background
    from ui.map_background import MapNotice, OsmBackgroundLayer

    n = len(names)
    spec = REGISTRY.get("kita")
    m = maps.base_map(tiles=Background((), None))
    OsmBackgroundLayer(_background_with_places(names)).add_to(m)
    MapNotice(names[0]).add_to(m)
    points = gpd.GeoDataFrame(
        {"id": [f"k{i}" for i in range(n)], "name": names, "traeger": names[::-1], "ort": names},
        geometry=gpd.points_from_xy(294_000 + 150 * np.arange(n), 5_628_000 + 150 * np.arange(n)),
        crs=PROJECTED_CRS,
    )
    many = pd.concat([points] * (maps.CLUSTER_THRESHOLD // n + 1), ignore_index=True)
    many["id"] = [f"m{i}" for i in range(len(many))]
    polygons = gpd.GeoDataFrame(
        {"ags": [f"0533400{i}" for i in range(n)], "name": names},
        geometry=[shapely.box(290_000 + 1000 * i, 5_620_000, 291_000 + 1000 * i, 5_621_000) for i in range(n)],
        crs=PROJECTED_CRS,
    )
    cls = maps.classify(pd.Series(np.arange(n, dtype=float), index=polygons.index), names[1], k=3)
    fields = [("name", names[2]), ("ags", "AGS")]
    sites = points.assign(label=[str(i + 1) for i in range(n)], fixed=[i % 2 == 0 for i in range(n)])
    groups = [
        maps.feature_group(
            names[3],
            maps.choropleth_layer(
                REGISTRY.get("gemeinde"), maps.prepare_polygons(polygons, fields, 10.0, cls.colors), names[4]
            ),
            maps.Legend(maps.legend_rows(cls, [("#0072B2", name) for name in names], names, symbols_title=names[5])),
        ),
        maps.feature_group(names[6], maps.points_layer(spec, maps.prepare_points(points, spec))),
        maps.feature_group(names[7], maps.points_layer(spec, maps.prepare_points(many, spec), name=names[8])),
        maps.feature_group(
            names[9], maps.area_layer(maps.prepare_polygons(polygons, fields, None), names[10], "#6a51a3")
        ),
        maps.feature_group(names[11], maps.area_points(maps.prepare_points(points, spec), names[12])),
        maps.feature_group(
            names[13], maps.NumberedSites(maps.site_records(sites, "name", fields, fixed_column="fixed"))
        ),
        maps.feature_group(
            names[14], maps.outline_layer(REGISTRY.get("kreis"), maps.prepare_polygons(polygons, fields, None))
        ),
    ]
    return m, groups


def test_every_map_element_carries_data_as_json_only(canary_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from jinja2.utils import htmlsafe_json_dumps
    from streamlit_folium import _get_feature_group_string, _get_layer_control_string

    from ui import maps
    from ui.map_script import script_json

    monkeypatch.setenv("INTEGRATIONSATLAS_HOME", str(canary_dir.parent / "home"))
    names = _names()
    m, groups = _every_element_map(names)
    page = _streamlit_folium_render(m)
    scripts = [_get_feature_group_string(g, m, i) for i, g in enumerate(groups)]
    scripts.append(_get_layer_control_string(maps.layer_control(), m))
    everything = page + "\n".join(scripts)
    for raw in ("<img src=x", "<script>window." + PWNED, "</script><script>"):
        assert raw not in everything  # HTML never reaches the page as such
    for name in names:  # every name arrives as a JSON string (ours, or folium's for its GeoJSON), unevaluated
        assert str(script_json(name)) in everything or htmlsafe_json_dumps(name) in everything, name


def test_our_map_templates_refuse_raw_text() -> None:
    """A future element that prints a value without ``|tojson`` fails instead of injecting it."""
    from branca.element import MacroElement

    from ui.map_script import script_template

    class Careless(MacroElement):
        _template = script_template("{% macro script(this, kwargs) %}var x = {{ this.text }};{% endmacro %}")

        def __init__(self, text: str) -> None:
            super().__init__()
            self.text = text

    m = folium.Map()
    Careless("{{ 6*7 }} </script>").add_to(m)
    with pytest.raises(TypeError, match=r"\|tojson"):
        m.get_root().render()


def test_every_map_element_of_ours_uses_the_safe_templates() -> None:
    import branca.element

    import ui.map_background
    import ui.map_points
    import ui.map_script
    import ui.maps
    from ui.map_script import SCRIPTS

    modules = {ui.maps, ui.map_points, ui.map_background, ui.map_script}
    ours = [
        cls
        for module in modules
        for cls in vars(module).values()
        if isinstance(cls, type)
        and issubclass(cls, branca.element.MacroElement)
        and cls.__module__ == module.__name__
        and "_template" in vars(cls)
    ]
    assert len(ours) >= 8, ours
    assert all(cls._template.environment is SCRIPTS for cls in ours), [
        c for c in ours if c._template.environment is not SCRIPTS
    ]


def test_branca_renders_text_elements_verbatim() -> None:
    from branca.element import Element

    from ui.map_script import render_data_as_text

    render_data_as_text()
    for text in ("{{ 6*7 }}", "{% if %}", "{# x", payloads(NO_SERVER)["jinja_os"]):
        assert Element(text).render() == text


# --- 2. Streamlit Markdown ---------------------------------------------------------------------------------

#: Streamlit calls whose first argument (or ``label``/``body``/``text``/``help``) is rendered as Markdown.
MARKDOWN_CALLS = {
    "markdown", "caption", "write", "info", "warning", "error", "success", "toast", "title", "header", "subheader",
    "spinner", "status", "expander", "tabs", "metric", "button", "download_button", "form_submit_button",
    "link_button", "checkbox", "toggle", "radio", "selectbox", "multiselect", "slider", "select_slider",
    "text_input", "text_area", "number_input", "date_input", "time_input", "file_uploader", "color_picker",
    "popover", "segmented_control", "pills", "progress", "update",
}  # fmt: skip
MARKDOWN_KEYWORDS = {"label", "body", "text", "help"}
#: Functions whose result is safe Markdown: our texts with escaped values, and escaped data.
SAFE_CALLS = {"t", "md"}
#: Calls whose Markdown is only in a keyword (``bar.progress(0.5, text=…)``, ``status.update(label=…)``).
KEYWORD_ONLY = {"progress", "update"}


def _safe(node: ast.expr, names: dict[str, list[ast.expr]], seen: frozenset[str] = frozenset()) -> bool:
    """Whether ``node`` can only be safe Markdown (literal text, ``t(…)``, ``md(…)`` and joins of them)."""
    if isinstance(node, ast.Constant):
        return isinstance(node.value, str | int | float) or node.value is None
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in SAFE_CALLS:
        return True
    if isinstance(node, ast.JoinedStr):
        return all(
            isinstance(v, ast.Constant) or (isinstance(v, ast.FormattedValue) and _safe(v.value, names, seen))
            for v in node.values
        )
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        return _safe(node.left, names, seen) and _safe(node.right, names, seen)
    if isinstance(node, ast.IfExp):
        return _safe(node.body, names, seen) and _safe(node.orelse, names, seen)
    if isinstance(node, ast.List | ast.Tuple):
        return all(_safe(e, names, seen) for e in node.elts)
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "join"
        and isinstance(node.func.value, ast.Constant)
        and len(node.args) == 1
        and isinstance(node.args[0], ast.GeneratorExp | ast.ListComp)
    ):
        return _safe(node.args[0].elt, names, seen)
    if isinstance(node, ast.Name) and node.id in names and node.id not in seen:
        return all(_safe(v, names, seen | {node.id}) for v in names[node.id])
    return False


def _scope_names(scope: ast.AST) -> dict[str, list[ast.expr]]:
    """What each local name of ``scope`` is assigned (parameters typed ``Markdown`` or ``list[Markdown]`` are safe)."""
    names: dict[str, list[ast.expr]] = {}
    if isinstance(scope, ast.FunctionDef):
        for a in [*scope.args.args, *scope.args.kwonlyargs]:
            annotation = a.annotation.slice if isinstance(a.annotation, ast.Subscript) else a.annotation
            if isinstance(annotation, ast.Name) and annotation.id == "Markdown":  # Markdown or list[Markdown]
                names[a.arg] = [ast.Constant("")]
    for node in ast.walk(scope):
        if isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    names.setdefault(target.id, []).append(node.value)
    return names


def _calls_by_scope(tree: ast.AST) -> Iterator[tuple[ast.AST, ast.Call]]:
    """Every call with its innermost enclosing function (or the module)."""
    stack: list[tuple[ast.AST, ast.AST]] = [(tree, child) for child in ast.iter_child_nodes(tree)]
    while stack:
        owner, node = stack.pop()
        if isinstance(node, ast.Call):
            yield owner, node
        inner = node if isinstance(node, ast.FunctionDef) else owner
        stack += [(inner, child) for child in ast.iter_child_nodes(node)]


def unsafe_markdown_calls(path: Path) -> list[str]:
    """Markdown-rendering Streamlit calls in ``path`` that may receive unescaped text."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    found, scopes = [], {}
    for owner, node in _calls_by_scope(tree):
        if not isinstance(node.func, ast.Attribute) or node.func.attr not in MARKDOWN_CALLS:
            continue
        if isinstance(node.func.value, ast.Name) and node.func.value.id in {"logger", "logging", "self"}:
            continue
        names = scopes.setdefault(id(owner), _scope_names(owner))
        positional = node.args[:1] if node.func.attr not in KEYWORD_ONLY else []
        for arg in positional + [k.value for k in node.keywords if k.arg in MARKDOWN_KEYWORDS]:
            if not _safe(arg, names):
                found.append(f"{path.relative_to(ROOT)}:{node.lineno}: {ast.unparse(node)[:100]}")
    return sorted(set(found))


def test_markdown_surfaces_take_only_escaped_text() -> None:
    """Every text Streamlit renders as Markdown is literal, a ``t(…)`` text or ``md(…)``-escaped data."""
    files = [ROOT / "app.py", *sorted((ROOT / "ui").rglob("*.py"))]
    found = [line for f in files for line in unsafe_markdown_calls(f)]
    assert not found, "Daten ungeschützt in Markdown (md(…) oder t(…) verwenden):\n" + "\n".join(found)


def test_the_markdown_check_finds_data(tmp_path: Path) -> None:
    """The check above would catch the calls the issue found (Gemeinde and file names as Markdown)."""
    page = ROOT / "ui" / "_hostile_example.py"
    source = (
        "import streamlit as st\n"
        "def render(profile, upload, t):\n"
        "    st.markdown(f'**{profile.name}**')\n"
        "    st.success('Datei ' + upload.name)\n"
        "    st.info(t('x', name=upload.name))\n"
    )
    try:
        page.write_text(source, encoding="utf-8")
        found = unsafe_markdown_calls(page)
    finally:
        page.unlink()
    assert len(found) == 2, found


def test_t_escapes_every_value_and_md_shows_text(monkeypatch: pytest.MonkeyPatch) -> None:
    from ui import i18n
    from ui.markdown import Markdown, md
    from ui.texts import text

    monkeypatch.setattr(i18n, "current_language", lambda: "de")
    for name in _names():
        message = i18n.t("karte.no_hit", query=name)
        assert isinstance(message, Markdown)
        shown = re.sub(r"\\(.)", r"\1", message).replace("\u2060", "")
        assert visible(shown) == text("karte.no_hit", "de", query=name)  # shows exactly the name
        assert not re.search(r"(?<!\\)[\[\]()*_`{}<>!$:]", md(name).replace("\u2060", ""))  # nothing unescaped
    assert i18n.t("luecken.isochrones_layer", minutes=15.0) == "Isochronen 15 min"  # numbers keep their format
    assert i18n.t_plain("karte.no_hit", query="a_b") == text("karte.no_hit", "de", query="a_b")
    assert md("\ud800 Zeile\nzwei\x1b") == "\ufffd Zeile zwei "
    assert md(md("**x**")) == md("**x**")  # escaped once, never twice


# --- 3. exports -------------------------------------------------------------------------------------------

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _hostile_frame() -> gpd.GeoDataFrame:
    names = [*_names(), "\tTabulator", "\rWagenrücklauf", "-2+3", "Kita\x07Glocke"]
    return gpd.GeoDataFrame(
        {"name": names, "traeger": names[::-1], names[0]: ["Spalte"] * len(names), "=SUMME(A1)": names},
        geometry=gpd.points_from_xy(294_000 + np.arange(len(names)), 5_628_000 + np.arange(len(names))),
        crs=PROJECTED_CRS,
    )


def test_exports_keep_text_as_text_and_formulas_inert(tmp_path: Path) -> None:
    import openpyxl
    import pyogrio

    from geo.io.export import export_frame

    frame = _hostile_frame()
    layer = '=HYPERLINK("x") {{ 6*7 }}'
    csv = export_frame(frame, "csv", "EPSG:25832", layer_name=layer).decode("utf-8-sig")
    table = pd.read_csv(io.StringIO(csv), sep=";", dtype=str, keep_default_na=False)
    for column in table.columns:
        assert not column.startswith(FORMULA_STARTS), column
        for value in table[column]:
            assert not value.startswith(FORMULA_STARTS), value  # Excel shows them as text
    assert list(table["name"].str.removeprefix("'")) == list(frame["name"])
    book = openpyxl.load_workbook(io.BytesIO(export_frame(frame, "xlsx", "EPSG:25832", layer_name=layer)))
    cells = [c for sheet in book for row in sheet.iter_rows() for c in row]
    assert not [c.coordinate for c in cells if c.data_type == "f"]  # no formula anywhere, headers included
    shown = [row[0].value for row in book["Daten"].iter_rows(min_row=2)]
    assert shown[: len(_names())] == _names()  # the names as they are
    assert shown[-1] == "Kita\ufffdGlocke"  # a control character a worksheet cannot hold
    doc = json.loads(export_frame(frame, "geojson", "EPSG:4326", layer_name=layer))
    assert [f["properties"]["name"] for f in doc["features"]] == list(frame["name"]) and doc["name"] == layer
    gpkg = tmp_path / "x.gpkg"
    gpkg.write_bytes(export_frame(frame, "gpkg", "EPSG:25832", layer_name=layer))
    back = pyogrio.read_dataframe(gpkg, layer=pyogrio.list_layers(gpkg)[0][0])
    assert list(back["name"]) == list(frame["name"]) and list(back["=SUMME(A1)"]) == list(frame["name"])


# --- 4. CLI output, log lines, scenario names ---------------------------------------------------------------


def test_cli_prints_control_characters_as_escapes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from integrationsatlas.cli import main

    env = {"INTEGRATIONSATLAS_HOME": str(tmp_path / "home"), "INTEGRATIONSATLAS_OFFLINE": "1"}
    name = tmp_path / "kitas \x1b[2J\x1b]0;gekapert\x07.csv"
    name.write_text("id;name;lat;lon\nk1;{{ 6*7 }} <b>x</b>;50.77;6.08\n", encoding="utf-8")
    old = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        assert main(["import", str(name), "--layer", "kita"]) == 0
        assert main(["store", "list"]) == 0
    finally:
        for k, v in old.items():
            os.environ.pop(k) if v is None else os.environ.__setitem__(k, v)
    out = capsys.readouterr().out
    assert "\x1b" not in out and "\x07" not in out
    assert "kitas \\x1b[2J\\x1b]0;gekapert\\x07.csv" in out


def test_log_lines_stay_one_line() -> None:
    from integrationsatlas.terminal import OneLineLogRecords

    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(OneLineLogRecords())
    log = logging.getLogger("atlas.injection.test")
    log.addHandler(handler)
    try:
        log.warning("Import %s", "kitas.csv\nERROR gefälscht\x1b[31m")
    finally:
        log.removeHandler(handler)
    assert stream.getvalue() == "Import kitas.csv\\x0aERROR gefälscht\\x1b[31m\n"


def test_scenario_names_are_one_line_of_text(tmp_path: Path) -> None:
    from test_scenarios import make_scenario

    from geo.store.scenarios import list_scenarios, load_scenario, save_scenario

    settings = Settings().with_home(tmp_path / "home")
    names = [n for n in _names() if len(n) <= 120]
    for name in names:
        save_scenario(settings, make_scenario(name))
        assert load_scenario(settings, name).name == name
    assert sorted(list_scenarios(settings)["name"]) == sorted(names)
    for bad in ("Plan\nB", "Plan \x1b[31m", "Plan \ud800", "Plan " + "x" * 200):
        with pytest.raises(ValidationError, match="Szenario"):
            save_scenario(settings, make_scenario(bad))


# --- 5. the council report ---------------------------------------------------------------------------------


@pytest.fixture
def hostile_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """A home with hostile Kitas (CSV) in the Städteregion Aachen and a scenario with hostile site names."""
    from test_scenarios import make_scenario

    from geo.importing import import_file
    from geo.store.scenarios import save_scenario

    monkeypatch.setenv("INTEGRATIONSATLAS_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("INTEGRATIONSATLAS_OFFLINE", "1")
    settings = Settings.from_env()
    names = _names()
    csv = tmp_path / "kitas.csv"
    quoted = ['"' + n.replace('"', '""') + '"' for n in names]
    rows = [f"k{i};{q};{q};{q};{50.77 + 0.003 * i:.4f};{6.08 + 0.003 * i:.4f}" for i, q in enumerate(quoted)]
    csv.write_text("id;name;traeger;ort;lat;lon\n" + "\n".join(rows) + "\n", encoding="utf-8")
    assert import_file(csv, "kita", settings, on_invalid="reject").rows_kept == len(names)
    plan = make_scenario("Plan {{ 6*7 }} <b>fett</b>", n_new=len(names))
    sites = plan.sites.assign(name=["Treff Mitte", *names], kreis_ags="05334")
    from dataclasses import replace

    save_scenario(settings, replace(plan, sites=sites, area_ags="05334", area_name="Städteregion Aachen"))
    return settings


PDFTOTEXT = shutil.which("pdftotext")


def _squeeze(text: str) -> str:
    """``text`` without white space and bidi controls (pdftotext adds its own around right-to-left text)."""
    return re.sub(r"[\s\u200e\u200f\u202a-\u202e\u2066-\u2069]+", "", text)


@pytest.mark.slow
def test_report_shows_hostile_names_as_text(hostile_home: Settings, canary_dir: Path, tmp_path: Path) -> None:
    from integrationsatlas.report import build_report, render
    from integrationsatlas.request import AnalysisRequest, AreaRef

    request = AnalysisRequest("kita", 5.0, area=AreaRef("05334"))
    report = build_report(hostile_home, request, scenario="Plan {{ 6*7 }} <b>fett</b>")
    text, tags = html_text(render(report, "html").decode("utf-8"))
    assert "script" not in tags and tags.count("img") == len(report.maps)  # only our map images
    assert "Plan {{ 6*7 }} <b>fett</b>" in text
    for name in _names():
        assert name in text, name
    if PDFTOTEXT is None:
        pytest.skip("pdftotext (poppler-utils) fehlt: PDF-Text nicht geprüft")
    pdf = tmp_path / "bericht.pdf"
    pdf.write_bytes(render(report, "pdf"))
    pdf_text = subprocess.run([PDFTOTEXT, "-raw", str(pdf), "-"], check=True, capture_output=True, text=True).stdout
    for name in ["Plan {{ 6*7 }} <b>fett</b>", *_names()]:
        assert _squeeze(name) in _squeeze(pdf_text), name


def test_report_map_place_names_are_never_mathtext() -> None:
    from matplotlib.figure import Figure

    from integrationsatlas.report.maps import _draw_places

    fig = Figure()
    ax = fig.add_axes((0, 0, 1, 1))
    shown = gpd.GeoDataFrame(
        {"kind": ["place", "place"], "name": ["$\\frac{1}{$", "Kosten $5 und $6"], "rank": [1, 1]},
        geometry=[shapely.Point(1000, 1000), shapely.Point(2000, 2000)],
        crs=PROJECTED_CRS,
    )
    _draw_places(ax, shown, (0.0, 0.0, 10_000.0, 10_000.0))
    fig.savefig(io.BytesIO(), format="png")  # mathtext would fail on the first name
    assert [t.get_text() for t in ax.texts] == ["$\\frac{1}{$", "Kosten $5 und $6"]


# --- 6. the map in a real browser: the exact strings arrive as text ----------------------------------------

#: JS that collects, in the map page, every text the elements put into the DOM (tooltips via their content).
_COLLECT_TEXTS = """() => {
    const out = {tooltips: [], icons: [], legend: [], layers: [], notice: []};
    const seen = new Set();
    window.map.eachLayer(function (l) {
        const tip = l.getTooltip && l.getTooltip();
        if (tip && !seen.has(tip)) {
            seen.add(tip);
            const children = l.getLayers ? l.getLayers() : [l];
            children.forEach(function (c) {
                const content = typeof tip._content === "function" ? tip._content(c) : tip._content;
                out.tooltips.push(content && content.textContent !== undefined ? content.textContent : String(content));
                if (content && content.querySelectorAll) {
                    out.tooltips_html = (out.tooltips_html || 0) + content.querySelectorAll("img,script,a").length;
                }
            });
        }
        if (l.options && l.options.icon && l.options.icon.options.html) {
            out.icons.push(l.options.icon.options.html.textContent);
        }
    });
    document.querySelectorAll(".atlas-legend").forEach(e => out.legend.push(e.textContent));
    document.querySelectorAll(".leaflet-control-layers label span").forEach(e => out.layers.push(e.textContent));
    document.querySelectorAll(".atlas-map-notice").forEach(e => out.notice.push(e.textContent));
    out.pwned = window.atlasPwned === undefined ? null : window.atlasPwned;
    out.evil = document.querySelectorAll("img[src='x'], .leaflet-container script").length;
    return out;
}"""


@pytest.mark.browser
def test_map_texts_arrive_in_the_browser_exactly_as_text(
    loopback: LoopbackServer, canary_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every element of a map with hostile names, opened in Chromium: the names are text, nothing ran."""
    from browser_support import browser_unavailable_reason, checked_page, chromium_browser

    from ui import maps
    from ui.static_assets import ensure_static_assets

    if browser_unavailable_reason():
        pytest.skip(str(browser_unavailable_reason()))
    monkeypatch.setenv("INTEGRATIONSATLAS_HOME", str(tmp_path / "home"))
    names = _names(loopback.base_url)
    m, groups = _every_element_map(names)
    for group in groups:
        group.add_to(m)
    maps.layer_control().add_to(m)
    static = ensure_static_assets(tmp_path / "static")
    for path in static.rglob("*"):
        if path.is_file():
            loopback.route("/app/static/" + path.relative_to(static).as_posix(), path, content_type=_mime(path))
    loopback.route("/karte.html", m.get_root().render(), content_type="text/html; charset=utf-8")
    loopback.route("/favicon.ico", b"", status=204, content_type="image/x-icon")
    with chromium_browser() as browser, checked_page(browser) as page:
        page.goto(loopback.url("/karte.html"))
        page.wait_for_function("() => window.atlasLayers && window.atlasLayers.osm_background")
        # a plain folium page (no streamlit-folium): its map is the global map_<id>
        page.evaluate(
            "() => { window.map = window[Object.keys(window).find(k => k.startsWith('map_') && window[k].eachLayer)];"
            " window.map.setView([50.77, 6.08], 14); }"
        )
        page.wait_for_timeout(500)
        got = page.evaluate(_COLLECT_TEXTS)
        page.screenshot(path=str(tmp_path / "karte.png"))
    assert got["pwned"] is None and got["evil"] == 0 and not got.get("tooltips_html")
    tips = "\n".join(got["tooltips"])
    for name in names:
        assert name in tips, name  # every hostile name shown as the text it is
    assert set(names) <= set(got["icons"])  # site numbers and background labels
    legend = "".join(got["legend"])
    assert all(name in legend for name in names), got["legend"]
    assert {x.strip() for x in got["layers"]} >= {names[i] for i in GROUP_NAME_INDEX}
    assert got["notice"] == [names[0]]
    assert not [r.path for r in loopback.requests if not r.path.startswith(("/app/static/", "/karte.html", "/favicon"))]


def _mime(path: Path) -> str:
    return {".js": "text/javascript", ".css": "text/css", ".png": "image/png"}.get(
        path.suffix, "application/octet-stream"
    )
