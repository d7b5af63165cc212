"""German/English for the app's visible chrome.

German is the default. Everything the pages, ``app.py`` and the small shared
pieces write themselves (titles, headings, widget labels and options, help
texts, placeholders, captions, buttons, tabs, expanders, status boxes, metrics,
chart axes, map overlay names and legend titles, table headers built in
:mod:`ui.views`, info and warning texts, the footer) goes through :func:`t`;
the texts live in :mod:`ui.texts`, grouped by page.

What stays German in English mode, by design: data values and messages that
come from ``geo``, ``planning`` and ``integrationsatlas`` — error messages and
validation problems, import notes, layer descriptions and data-source titles,
names of Kreise and Gemeinden and their kind (»Kreis«, »Kreisfreie Stadt«), the
coverage citation and resolution warning, a site's explanation, the solver's
progress messages, the council report — and numbers, which keep the German
format (decimal comma). The English sidebar says so in one line. The base map's
own labels (background tiles, outlines of Land and Regierungsbezirke, the
legend frame) and the map tooltips come from :mod:`ui.maps` and
:mod:`ui.views` and are German too.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date, time
from numbers import Number
from typing import TypeVar

import streamlit as st

from geo.layers.registry import REGISTRY
from geo.modes import MODES
from ui.markdown import Markdown, md
from ui.texts import LANGUAGES, TEXTS, text
from ui.widget_state import keep_choices

__all__ = [
    "LANGUAGES",
    "current_language",
    "labels",
    "language_selector",
    "layer_title",
    "mode_title",
    "t",
    "t_plain",
]

T = TypeVar("T")

_LANG_KEY = "lang"
#: Kept for callers of the old module-level dictionary.
_TEXTS = TEXTS


def current_language() -> str:
    """The language chosen in the sidebar (``de`` or ``en``)."""
    lang = st.session_state.get(_LANG_KEY, "de")
    return lang if lang in LANGUAGES else "de"


def _inert(value: object) -> object:
    """A value for a Markdown text: numbers and dates as they are (format specs apply), the rest as :func:`md`."""
    if isinstance(value, Number | date | time) and not isinstance(value, str):
        return value
    return md(value)


def t(key: str, /, **values: object) -> Markdown:
    """Return the text ``key`` in the current language, with ``values`` filled in, as safe Markdown.

    ``values`` fill the :meth:`str.format` placeholders of the text, e.g.
    ``t("karte.no_hit", query="Atlantis")``. Every value that is not a number,
    a date or already Markdown goes through :func:`ui.markdown.md`, so a
    name from the data is shown as text wherever Streamlit renders Markdown
    (messages, captions, labels, expanders …). Unknown keys are returned
    unchanged, so a missing entry shows up in the UI instead of breaking it.
    For a surface that is not Markdown (options of a selectbox, map layers and
    legends, table headers, chart titles) use :func:`t_plain`.
    """
    return Markdown(text(key, current_language(), **{k: _inert(v) for k, v in values.items()}))


def t_plain(key: str, /, **values: object) -> str:
    """The text ``key`` with ``values`` filled in verbatim, for surfaces that show plain text.

    Selectbox and multiselect options, map layer names, legends and tooltips
    (shown with ``textContent``), table headers and chart titles are not
    Markdown; there an escaped value would show its backslashes. Never pass
    the result to a Markdown surface (``tests/test_injection.py`` checks).
    """
    return text(key, current_language(), **values)


def layer_title(layer_id: str) -> str:
    """The title of a registered layer in the current language (``title`` or ``title_en``)."""
    spec = REGISTRY.get(layer_id)
    return spec.title_en if current_language() == "en" else spec.title


def mode_title(mode_id: str) -> str:
    """The short title of a travel mode in the current language (e.g. "zu Fuß" / "walking")."""
    mode = MODES[mode_id]
    return mode.title_en if current_language() == "en" else mode.title


def labels(options: Iterable[T], label: Callable[[T], str]) -> Callable[[T], str]:
    """A ``format_func`` for ``options`` whose labels are fixed now, in the current language.

    Streamlit's test harness calls a widget's ``format_func`` again outside the
    script run, where the session's language is not at hand; a lookup table
    built during the run gives the same labels there.

    Examples
    --------
    >>> labels(["a", "b"], str.upper)("b")
    'B'
    """
    table = {option: label(option) for option in options}
    return table.__getitem__


def language_selector() -> None:
    """Render the Deutsch/English toggle in the sidebar (plus a note on German data in English mode)."""
    st.sidebar.radio(
        t("app.language"),
        options=list(LANGUAGES),
        format_func=LANGUAGES.__getitem__,
        key=_LANG_KEY,
        horizontal=True,
        on_change=keep_choices,
        args=(_LANG_KEY,),
    )
    if current_language() == "en":
        st.sidebar.caption(t("app.german_data"))
