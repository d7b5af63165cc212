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
from typing import TypeVar

import streamlit as st

from geo.layers.registry import REGISTRY
from geo.modes import MODES
from ui.texts import LANGUAGES, TEXTS, text

__all__ = ["LANGUAGES", "current_language", "labels", "language_selector", "layer_title", "mode_title", "t"]

T = TypeVar("T")

_LANG_KEY = "lang"
#: Kept for callers of the old module-level dictionary.
_TEXTS = TEXTS


def current_language() -> str:
    """The language chosen in the sidebar (``de`` or ``en``)."""
    lang = st.session_state.get(_LANG_KEY, "de")
    return lang if lang in LANGUAGES else "de"


def t(key: str, /, **values: object) -> str:
    """Return the text ``key`` in the current language, with ``values`` filled in.

    ``values`` fill the :meth:`str.format` placeholders of the text, e.g.
    ``t("karte.no_hit", query="Atlantis")``. Unknown keys are returned
    unchanged, so a missing entry shows up in the UI instead of breaking it.
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
    )
    if current_language() == "en":
        st.sidebar.caption(t("app.german_data"))
