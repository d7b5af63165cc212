"""The language toggle: English covers the chrome of every page, German stays German.

:func:`_tour` drives the app with AppTest through every page, in the states
that show most of its widgets (a selected area and a search with several hits;
distance and travel time; clicked candidates, a computed plan, two saved
scenarios and their comparison; an upload with a faulty row, its import and
the batch table; a built report), with ``lang`` set in the session. It collects
what the app writes itself: widget labels, help texts, placeholders and option
labels, tabs, expanders, status boxes, metrics, headings, captions, markdown,
alerts and table headers.

Data values and messages from ``geo``, ``planning`` and ``integrationsatlas``
stay German by design (see :mod:`ui.i18n`). So the English checks do not ban
every German word: they ban

* our own German texts (a German entry of :data:`ui.texts.TEXTS`, placeholders
  filled with anything) anywhere on the page, and
* umlauts and typical German words in labels, which never carry data.

The German checks ban our English texts and Streamlit's English defaults.
"""

from __future__ import annotations

import json
import re
import string
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from streamlit.testing.v1 import AppTest

from geo.settings import PROJECT_ROOT
from ui import state
from ui.texts import TEXTS, text

APP = str(PROJECT_ROOT / "app.py")

#: Typical German words that never belong in an English label (official names such as
#: Kreis, Gemeinde or AGS are glossed in English and therefore not listed).
GERMAN_WORDS = (  # noqa: SIM905 (a word list reads best as text)
    "und oder für mit nach bitte keine kein nicht wählen anzeigen schwelle einrichtung einrichtungen "
    "einrichtungsart versorgt versorgung standort standorte kandidaten ebene datei zeilen gebiet "
    "szenario herunterladen erstellen speichern löschen abrufen entfernung fahrzeit einwohner nachfrage "
    "bestehende neue minuten anzahl luftlinie quelle lizenz hinweis stapel zielgruppe vorher nachher "
    "verkehrsmittel importieren wiederherstellen überschreiben modell sprache inhalt koordinatensystem "
    "bericht karte daten der die das den dem des ein eine einer ist sind wird auf bei von zu zum zur vom "
    "aus bis ohne je pro neu alle laden berechnen hinzufügen auswählen zurücksetzen"
).split()
_GERMAN_WORD = re.compile(r"\b(?:" + "|".join(GERMAN_WORDS) + r")\b", re.IGNORECASE)
_UMLAUT = re.compile("[äöüÄÖÜß]")
#: What Streamlit shows when a widget gets no text of ours (English in a German app).
STREAMLIT_DEFAULTS = {"Choose an option", "Choose options", "Select...", "Select an option", "Choose a date"}
#: Widgets whose options are data (names of Kreise, sources, files, scenarios), not our texts.
DATA_OPTIONS = {
    "luecken_area",
    "standort_area",
    "daten_fetch_source",
    "daten_fetch_kreis",
    "daten_batch",
    "bericht_area",
    "bericht_scenario",
    "standort_cmp_a",
    "standort_cmp_b",
    "karte_search_hit",
    "lang",
}


@dataclass(frozen=True)
class Chrome:
    """One text on a page: ``label`` (our wording only) or ``text`` (may embed data)."""

    page: str
    kind: str
    what: str
    value: str


# --- the dictionary ---------------------------------------------------------------------------------


def _fields(template: str) -> list[tuple[str, str]]:
    return sorted((name, spec or "") for _, name, spec, _ in string.Formatter().parse(template) if name is not None)


def test_every_text_has_both_languages_with_the_same_placeholders() -> None:
    for key, pair in TEXTS.items():
        assert len(pair) == 2, key
        german, english = pair
        assert german.strip() and english.strip(), key
        assert _fields(german) == _fields(english), key
        assert german == german.strip() and english == english.strip(), key


def test_values_are_filled_in_and_unknown_keys_show_up() -> None:
    assert text("karte.no_hit", "de", query="X").startswith("Kein Kreis und keine Gemeinde passt zu »X«")
    assert text("karte.no_hit", "en", query="X").startswith("No district or municipality matches “X”")
    assert text("luecken.isochrones_layer", "en", minutes=15.0) == "Isochrones 15 min"
    assert text("daten.download_of", "de", done=1.25, total=3.0) == "Download: 1.2 von 3.0 MB"
    assert text("no.such.key", "en") == "no.such.key"
    assert text("nav.karte", "fr") == "Karte"  # unknown language: German


def test_english_texts_read_as_english() -> None:
    for key, (_, english) in TEXTS.items():
        assert not _UMLAUT.search(english), (key, english)


def test_german_copies_of_analysis_labels_match_their_source() -> None:
    """Where English replaces a label the analysis defines, the German entry is that label."""
    from geo.io.export import FORMAT_TITLES
    from geo.layers.registry import REGISTRY
    from integrationsatlas.areas import INDICATORS
    from integrationsatlas.scenarios import CHANGE_CLASSES
    from planning.siting.models import SITING_MODELS

    for ind in INDICATORS:
        assert text(f"indicator.{ind.id}") == ind.title
    for model in SITING_MODELS.values():
        assert text(f"standort.model_label.{model.id}") == model.label
    for fmt, title in FORMAT_TITLES.items():
        assert text(f"export.{fmt}") == title
    for i, label in enumerate(CHANGE_CLASSES):
        assert text(f"standort.change.{i}") == label
    column = REGISTRY.get("haltestelle").column("modus")
    for value, title in zip(column.choices or (), column.choice_titles or (), strict=True):
        assert text(f"stops.{value}") == title


# --- the pages ------------------------------------------------------------------------------------


def _walk(node: Any) -> Iterator[Any]:
    yield node
    for child in getattr(node, "children", {}).values():
        yield from _walk(child)


_LABELLED = {
    "button",
    "checkbox",
    "date_input",
    "download_button",
    "file_uploader",
    "multiselect",
    "number_input",
    "radio",
    "selectbox",
    "slider",
    "tab",
    "text_input",
    "toggle",
    "metric",
    "status",
}
_TEXTS = {"markdown", "caption", "info", "warning", "success", "error", "subheader", "header"}


def _collect(at: AppTest, page: str) -> list[Chrome]:
    """Everything of ours that the page shows now."""
    out: list[Chrome] = []
    for root in (at.main, at.sidebar):
        for node in _walk(root):
            kind = getattr(node, "type", "")
            proto = getattr(node, "proto", None)
            if kind in _LABELLED or kind == "expander":
                out += _widget_chrome(page, kind, node)
            elif kind == "title":
                out.append(Chrome(page, "label", kind, str(node.value)))
            elif kind in _TEXTS:
                out.append(Chrome(page, "text", kind, str(node.value)))
            elif kind == "dataframe":
                out += [Chrome(page, "text", "column", str(c)) for c in node.value.columns]
            elif kind == "vega_lite_chart" and proto is not None:
                out += [Chrome(page, "label", "chart.title", title) for title in _chart_titles(json.loads(proto.spec))]
            elif kind == "component_instance" and proto is not None:
                args = json.loads(proto.json_args)
                out += _map_chrome(page, args) if "layer_control" in args else []
    return [c for c in out if c.value]


def _widget_chrome(page: str, kind: str, node: Any) -> list[Chrome]:
    """Label, help, placeholder (or Streamlit's default for none) and option labels of a widget."""
    proto = node.proto
    # an expander's label may carry a site's name; a download button's, a file name
    out = [Chrome(page, "text" if kind in ("expander", "download_button") else "label", kind, str(proto.label))]
    for attr in ("help", "placeholder"):
        value = getattr(proto, attr, "")
        if isinstance(value, str) and value:
            out.append(Chrome(page, "label", f"{kind}.{attr}", value))
    placeholder = getattr(proto, "placeholder", "")
    if kind == "multiselect" and not placeholder:
        out.append(Chrome(page, "label", "multiselect.placeholder", "Choose options"))
    if kind == "selectbox" and not placeholder and node.value is None:
        out.append(Chrome(page, "label", "selectbox.placeholder", "Choose an option"))
    if kind in ("selectbox", "radio", "multiselect"):
        options_kind = "text" if node.key in DATA_OPTIONS else "label"
        out += [Chrome(page, options_kind, f"{kind}.option", str(o)) for o in node.options]
    return out


def _chart_titles(spec: Any) -> Iterator[str]:
    """Axis, legend and tooltip titles of a Vega-Lite spec."""
    if isinstance(spec, dict):
        for key, value in spec.items():
            if key == "title" and isinstance(value, str):
                yield value
            else:
                yield from _chart_titles(value)
    elif isinstance(spec, list):
        for item in spec:
            yield from _chart_titles(item)


_OVERLAY = re.compile(r'"((?:[^"\\]|\\.)*)"\s*:\s*feature_group_')
_LEGEND_ROWS = re.compile(r"/\* atlas-legend \*/\s*")


def _map_chrome(page: str, args: dict[str, Any]) -> list[Chrome]:
    """What a folium map of the pages shows: names of its overlays and its legend.

    Only the overlays the pages add (feature groups) count; the base map (background
    tiles, outlines of Land and Regierungsbezirke, the legend's frame) is built in
    :mod:`ui.maps`.
    """
    out = [
        Chrome(page, "label", "map.layer", json.loads(f'"{name}"'))
        for name in _OVERLAY.findall(args.get("layer_control") or "")
    ]
    script = args.get("feature_group") or ""
    for marker in _LEGEND_ROWS.finditer(script):
        rows, _end = json.JSONDecoder().raw_decode(script, marker.end())
        out += [Chrome(page, "label", "map.legend_title", r[1]) for r in rows if r[0] == "title"]
        out += [Chrome(page, "text", "map.legend_entry", r[2]) for r in rows if r[0] in ("class", "symbol")]
    return out


def _ok(at: AppTest) -> None:
    assert not at.exception, [e.message for e in at.exception]


def _tour(lang: str) -> list[Chrome]:
    """Every page in ``lang``, in the states that show most of its chrome."""
    seen: list[Chrome] = []
    at = AppTest.from_file(APP, default_timeout=180)
    at.session_state["lang"] = lang
    at.session_state[state.SELECTED_AREA] = ("kreis", "05334")
    at.run()
    _ok(at)
    seen += _collect(at, "karte")
    figures = at.dataframe[0].value.iloc[:, 0]  # the names of the profile's figures are ours to translate
    seen += [Chrome("karte", "label", "profile.figure", str(name)) for name in figures]
    at.text_input(key="karte_search").set_value("051").run()  # several hits: a selectbox of them
    _ok(at)
    seen += _collect(at, "karte (search)")
    at.text_input(key="karte_search").set_value("Atlantis").run()
    seen += _collect(at, "karte (no hit)")

    at.switch_page("ui/pages/luecken.py").run()
    _ok(at)
    seen += _collect(at, "luecken")
    at.radio(key="luecken_unit").set_value("min").run()
    seen += _collect(at, "luecken (travel time)")

    at.switch_page("ui/pages/standort.py").run()
    at.session_state[state.CANDIDATES] = [(50.7753, 6.0839)]
    at.toggle(key="standort_use_time").set_value(True).run()
    _ok(at)
    seen += _collect(at, "standort (travel time, candidates)")
    at.button(key="standort_clear").click().run()
    at.toggle(key="standort_use_time").set_value(False)
    at.number_input(key="standort_p").set_value(2)
    at.button(key="standort_run").click().run()
    _ok(at)
    assert not at.error, [e.value for e in at.error]
    seen += _collect(at, "standort (plan)")
    for name in ("Plan A", "Plan B"):
        at.text_input[0].set_value(name)
        at.form_submit_button[0].click().run()
        _ok(at)
    seen += _collect(at, "standort (plan, comparison)")

    at.switch_page("ui/pages/daten.py").run()
    csv = "id;name;traeger;lat;lon\nk1;Kita A;AWO;50.7753;6.0839\nk2;Kita B;AWO;x;6.1\n"
    at.selectbox(key="daten_layer").set_value("kita").run()
    at.radio(key="daten_mode").set_value("append").run()
    at.file_uploader(key="daten_file").set_value(("kitas.csv", csv.encode(), "text/csv")).run()
    _ok(at)
    at.button(key="daten_import").click().run()
    _ok(at)
    seen += _collect(at, "daten (upload, import, batches)")
    at.button(key="daten_batch_delete").click().run()
    seen += _collect(at, "daten (deleted batch)")

    at.switch_page("ui/pages/bericht.py").run()
    _ok(at)
    seen += _collect(at, "bericht")
    at.radio(key="bericht_format").set_value("html")
    at.button(key="bericht_build").click().run()
    _ok(at)
    seen += _collect(at, "bericht (built)")
    return seen


def _pattern(template: str) -> re.Pattern[str]:
    """A template as a regex: literal text, any value for a placeholder."""
    parts = [
        re.escape(literal) + (".+?" if name is not None else "")
        for literal, name, _, _ in string.Formatter().parse(template)
    ]
    return re.compile("".join(parts), re.DOTALL)


def _own_texts(lang: str) -> list[tuple[str, re.Pattern[str], bool]]:
    """(key, pattern, whole): our texts in ``lang`` that differ in the other language.

    ``whole``: short texts (or texts that copy an analysis label, which the analysis
    may also write into its German messages) count only as the whole text.
    """
    out = []
    for key, (german, english) in TEXTS.items():
        if german == english:
            continue
        template = german if lang == "de" else english
        literal = "".join(lit for lit, *_ in string.Formatter().parse(template))
        whole = len(literal) < 25 or " " not in literal or key.startswith(_ANALYSIS_COPIES)
        out.append((key, _pattern(template), whole))
    return out


#: Entries that repeat a label defined in the analysis (which writes it into its own German messages).
_ANALYSIS_COPIES = ("indicator.", "standort.model_label.", "standort.change.", "luecken.target.", "export.", "stops.")


def _matches(chrome: Chrome, own: list[tuple[str, re.Pattern[str], bool]]) -> list[str]:
    value = chrome.value.strip()
    return [
        key
        for key, pattern, whole in own
        if (pattern.fullmatch(value) if whole or chrome.kind == "label" else pattern.search(value))
    ]


#: The tours click through every page of the app in one language (about 15 s each): the edit loop
#: (``make test-fast``) leaves them out; ``make test`` and ``pytest tests/test_i18n.py`` run them.
TOUR = pytest.mark.slow


@pytest.fixture(scope="module")
def english_tour(tmp_path_factory: pytest.TempPathFactory) -> list[Chrome]:
    return _tour_in("en", tmp_path_factory)


@pytest.fixture(scope="module")
def german_tour(tmp_path_factory: pytest.TempPathFactory) -> list[Chrome]:
    return _tour_in("de", tmp_path_factory)


def _tour_in(lang: str, tmp_path_factory: pytest.TempPathFactory) -> list[Chrome]:
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("INTEGRATIONSATLAS_HOME", str(tmp_path_factory.mktemp(f"home-{lang}")))
        mp.setenv("INTEGRATIONSATLAS_OFFLINE", "1")
        return _tour(lang)


@TOUR
def test_the_tour_reaches_every_page_and_widget_kind(english_tour: list[Chrome]) -> None:
    pages = {c.page.split(" ")[0] for c in english_tour}
    assert pages == {"karte", "luecken", "standort", "daten", "bericht"}
    kinds = {c.what for c in english_tour}
    for kind in (
        "title",
        "selectbox",
        "selectbox.option",
        "radio.option",
        "multiselect.placeholder",
        "text_input.placeholder",
        "button",
        "download_button",
        "file_uploader",
        "number_input",
        "slider",
        "toggle",
        "checkbox",
        "tab",
        "expander",
        "status",
        "metric",
        "subheader",
        "caption",
        "info",
        "warning",
        "success",
        "column",
        "chart.title",
        "map.layer",
        "map.legend_title",
        "map.legend_entry",
        "profile.figure",
    ):
        assert kind in kinds, kind


@TOUR
def test_english_shows_no_german_chrome(english_tour: list[Chrome]) -> None:
    own_german = _own_texts("de")
    found = []
    for chrome in english_tour:
        keys = _matches(chrome, own_german)
        if keys:
            found.append((chrome, keys))
        elif chrome.kind == "label" and (_UMLAUT.search(chrome.value) or _GERMAN_WORD.search(chrome.value)):
            found.append((chrome, ["German word"]))
    assert not found, "\n".join(f"{c.page}: {c.what} {c.value!r} {keys}" for c, keys in found)


@TOUR
def test_english_says_once_that_analysis_output_is_german(english_tour: list[Chrome]) -> None:
    note = text("app.german_data", "en")
    assert any(c.value == note for c in english_tour)
    assert {c.value for c in english_tour if c.what == "title"} >= {"Integration Atlas NRW", "Site planning", "Report"}


@TOUR
def test_german_shows_no_english_chrome(german_tour: list[Chrome]) -> None:
    own_english = _own_texts("en")
    found = []
    for chrome in german_tour:
        keys = _matches(chrome, own_english)
        if keys:
            found.append((chrome, keys))
        elif chrome.value in STREAMLIT_DEFAULTS:
            found.append((chrome, ["Streamlit default"]))
    assert not found, "\n".join(f"{c.page}: {c.what} {c.value!r} {keys}" for c, keys in found)
    assert not any(c.value == text("app.german_data", "en") for c in german_tour)


@TOUR
def test_german_keeps_the_words_the_browser_tests_match(german_tour: list[Chrome]) -> None:
    values = {c.value for c in german_tour}
    for expected in (
        "Standorte berechnen",
        "Berechnung abgeschlossen",
        "Datei hochladen",
        "Eigene Kandidaten löschen",
        "Integrationsatlas NRW",
    ):
        assert expected in values, expected
    # the file name is data: it goes into the Markdown escaped (ui.markdown) and shows as it is
    shown = {re.sub(r"\\(.)", r"\1", v) for v in values}
    assert any(v.startswith("Prüfbericht: 1 Problem(e) in kitas.csv.") for v in shown)
