"""Map scripts: data reaches the Leaflet page as JSON and as text, never as a template or HTML.

Every map element (ours in :mod:`ui.maps`, :mod:`ui.map_points`,
:mod:`ui.map_background`, :mod:`ui.map_grid`, and folium's own) follows three
rules, kept here once:

1. **One template pass.** branca renders an element's macros and wraps the
   output in ``Element(text)``, which compiles ``text`` as a Jinja template
   and renders it *again* when the page is rendered (``Figure.render``;
   streamlit-folium calls it for every map). A ``{{ … }}`` that came in with
   the data – an OSM street name, a facility name, a scenario name – was
   evaluated on the server: ``{{ 6*7 }}`` became 42, Jinja's globals reached
   ``os``, and a stray ``{%`` broke the map for every later visitor.
   :func:`render_data_as_text` makes an element built from a string stand for
   that string, verbatim (branca and folium only ever build such elements
   from text they rendered already); :func:`ui.maps.base_map` calls it.
2. **Data enters our templates only as JSON.** Templates of our elements come
   from :func:`script_template`. Its ``tojson`` (:func:`script_json`) writes
   strings that cannot contain ``{{``, ``{%``, ``{#``, ``${``, a backtick or
   ``</script`` (written as ``\\uXXXX`` escapes, the same characters to
   JavaScript), and any other ``{{ … }}``
   output must be a number, a boolean or a JavaScript name (an element's
   variable), else rendering stops with an error. So even a second pass, or
   a future element, finds no template syntax in the data.
3. **Text in the browser is text.** Labels, tooltips and legends are built
   with ``textContent`` (:data:`TEXT_JS`), never ``innerHTML`` or a divIcon's
   ``html`` string; Leaflet's layer control writes names as HTML, so
   :class:`LayerControl` escapes them.
"""

from __future__ import annotations

import html
import json
import re
from collections import OrderedDict
from typing import Any

import folium
from branca.element import Element
from jinja2 import Environment, StrictUndefined, Template
from markupsafe import Markup

#: Characters that only occur inside JSON strings (never in JSON's structure), written as ``\\uXXXX`` escapes
#: (lone surrogates too: Streamlit sends UTF-8).
_UNSAFE = re.compile("[$`<>&'%#\u2028\u2029\ud800-\udfff]")
#: What a ``{{ … }}`` of our templates may print without ``|tojson``: a JavaScript name.
_JS_NAME = re.compile(r"[A-Za-z_$][A-Za-z0-9_$]*(?:\.[A-Za-z_$][A-Za-z0-9_$]*)*")


def script_json(value: Any) -> Markup:
    """``value`` as JSON that is safe inside a ``<script>`` and inside any template.

    The structure is unchanged. Inside strings ``$ ` < > & ' % #``, the line
    separators U+2028/U+2029 and lone surrogates become ``\\uXXXX`` escapes
    (JavaScript reads the same characters), and every ``{{`` becomes
    ``{\\u007b``: none of these characters occurs in JSON's own structure, and
    two braces in a row only inside a string, so the whole text is rewritten at
    once (C speed: the 59,000 stops of NRW take a fraction of a second). No
    ``{{``, ``{%``, ``{#``, ``${``, backtick or ``</script`` is left.

    >>> print(script_json({"name": "{{ 6*7 }} {% x %} ${y} </script>", "n": [1, {"k": 2}]}))
    {"name": "{\\u007b 6*7 }} {\\u0025 x \\u0025} \\u0024{y} \\u003c/script\\u003e", "n": [1, {"k": 2}]}
    >>> json.loads(str(script_json(["{{{%", "\\ud800"]))) == ["{{{%", "\\ud800"]
    True
    """
    text = json.dumps(value, ensure_ascii=False).replace("{{", "{\\u007b")
    return Markup(_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", text))


def _only_code(value: Any) -> Any:
    """The ``finalize`` of :data:`SCRIPTS`: a ``{{ … }}`` prints JSON, a number, a boolean or a JS name."""
    if isinstance(value, Markup | bool | int | float):
        return value
    if isinstance(value, str) and _JS_NAME.fullmatch(value):
        return value
    raise TypeError(f"Kartenvorlage: {type(value).__name__} {str(value)[:60]!r} nur über |tojson einsetzen")


#: The Jinja environment of every map script template we write (see the module notes).
SCRIPTS = Environment(autoescape=False, undefined=StrictUndefined, finalize=_only_code)
SCRIPTS.filters["tojson"] = script_json


def script_template(source: str) -> Template:
    """A template for a branca ``MacroElement`` in :data:`SCRIPTS` (data only via ``|tojson``)."""
    return SCRIPTS.from_string(source)


class _Verbatim:
    """Stands in for the template branca compiles from already rendered text: renders to that text."""

    def __init__(self, text: str) -> None:
        self.text = text

    def render(self, *_args: Any, **_kwargs: Any) -> str:
        return self.text


_PLAIN_INIT = Element.__init__


def _text_element_init(self: Element, template: str | None = None, template_name: str | None = None) -> None:
    _PLAIN_INIT(self, None, template_name)
    if template is not None:
        self._template_str = template
        self._template = _Verbatim(template)  # type: ignore[assignment]


def _text_element_setstate(self: Element, state: dict[str, Any]) -> None:
    if state.get("_template_str") is not None:
        state["_template"] = _Verbatim(state["_template_str"])
    elif state.get("_template_name") is not None:
        from branca.element import ENV

        state["_template"] = ENV.get_template(state["_template_name"])
    self.__dict__.update(state)


def render_data_as_text() -> None:
    """Make every branca ``Element(text)`` render ``text`` verbatim: one template pass per map (idempotent).

    branca builds such elements only from output it has rendered already
    (a macro's ``header``/``html``/``script``, folium's popups and styles);
    compiling that output as a template again is what evaluated data.

    >>> render_data_as_text()
    >>> Element("{{ 6*7 }} {% if %}").render()
    '{{ 6*7 }} {% if %}'
    """
    if Element.__init__ is not _text_element_init:
        Element.__init__ = _text_element_init  # type: ignore[method-assign]
        Element.__setstate__ = _text_element_setstate  # type: ignore[method-assign]


#: Browser helpers, defined once per page: ``atlasText(tag, text, className)`` and ``atlasTip(rows)``
#: (a ``<table>`` of ``[label, value]`` rows; a row ``[text]`` is one cell). Both write ``textContent`` only.
TEXT_JS = """
window.atlasText = window.atlasText || function (tag, text, className) {
    var el = document.createElement(tag);
    if (className) { el.className = className; }
    el.textContent = text == null ? "" : String(text);
    return el;
};
window.atlasTip = window.atlasTip || function (rows) {
    var table = document.createElement("table");
    (rows || []).forEach(function (row) {
        var tr = document.createElement("tr");
        if (row.length > 1) {
            tr.appendChild(window.atlasText("th", row[0]));
            tr.appendChild(window.atlasText("td", row[1]));
        } else {
            tr.appendChild(window.atlasText("td", row[0]));
        }
        table.appendChild(tr);
    });
    return table;
};
"""


class RowsTooltip(folium.MacroElement):
    """The tooltip of a GeoJSON layer: its features' ``_tooltip`` rows as a text-only table.

    Replaces folium's ``GeoJsonTooltip``, which builds HTML from property values.
    """

    _template = script_template(
        """
        {% macro script(this, kwargs) %}
        {{ this.text_js }}
        {{ this._parent.get_name() }}.bindTooltip(function (layer) {
            return window.atlasTip(layer.feature && layer.feature.properties._tooltip);
        }, {{ this.options|tojson }});
        {% endmacro %}
        """
    )

    def __init__(self, class_name: str = "atlas-tooltip", sticky: bool = True) -> None:
        super().__init__()
        self._name = "RowsTooltip"
        self.text_js = Markup(TEXT_JS)
        self.options = {"sticky": sticky, "className": class_name}


class _HtmlKeys(OrderedDict[str, str]):
    """A dict that HTML-escapes its keys (layer names, which Leaflet's layer control writes as HTML)."""

    def __setitem__(self, key: str, value: str) -> None:
        super().__setitem__(html.escape(str(key), quote=True), value)


class LayerControl(folium.LayerControl):
    """folium's layer control, with every layer name shown as text (escaped for Leaflet's ``innerHTML``)."""

    def reset(self) -> None:
        self.base_layers = _HtmlKeys()
        self.overlays = _HtmlKeys()
