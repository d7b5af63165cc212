"""Choices survive a change of language.

Streamlit stores the value of a selectbox, radio, multiselect or select
slider as the *formatted label* of the chosen option (``format_func(option)``)
and maps it back to the option on the next run. Our labels are translated, so
after a switch to English the browser still sent »Kreis« while the options
were labelled »District (Kreis)«: the widget handed the page the raw string
»Kreis« instead of the option ``"kreis"``, and the Karte failed with
``KeyError: 'Kreis'`` (issue 20). The language must not be part of a
widget's data key.

:func:`keep_choices` is the language toggle's ``on_change`` callback: it runs
before the script, while every choice widget still maps its (old-language)
label back to its option, and writes each option back into the session state.
On the next run the widget serializes that option with the new labels. Only
choice widgets are touched (buttons, uploads and editors cannot be written).
"""

from __future__ import annotations

import logging
from typing import Any

import streamlit as st
from streamlit.elements.widgets.button_group import _MultiSelectButtonGroupSerde, _SingleSelectButtonGroupSerde
from streamlit.elements.widgets.multiselect import MultiSelectSerde
from streamlit.elements.widgets.radio import RadioSerde
from streamlit.elements.widgets.select_slider import SelectSliderSerde
from streamlit.elements.widgets.selectbox import SelectboxSerde
from streamlit.runtime.state.session_state_proxy import get_session_state

logger = logging.getLogger(__name__)

#: Serializers of the widgets whose stored value is a formatted (translated) label.
CHOICE_SERDES: tuple[type, ...] = (
    SelectboxSerde,
    RadioSerde,
    MultiSelectSerde,
    SelectSliderSerde,
    _SingleSelectButtonGroupSerde,
    _MultiSelectButtonGroupSerde,
)


def choice_keys(skip: str = "") -> list[str]:
    """Keys of this session's choice widgets (see :data:`CHOICE_SERDES`), except ``skip``."""
    try:
        state: Any = get_session_state()._state
        mapping: dict[str, str] = state._key_id_mapper._key_id_mapping
        out = []
        for key, widget_id in mapping.items():
            metadata = state._get_widget_metadata(widget_id)
            serde = getattr(getattr(metadata, "deserializer", None), "__self__", None)
            if key != skip and isinstance(serde, CHOICE_SERDES):
                out.append(key)
        return out
    except AttributeError:  # Streamlit changed its internals: tests/test_browser_monkey.py says so
        logger.exception("Streamlit-Widgetzustand nicht lesbar: Auswahlen überstehen den Sprachwechsel nicht")
        return []


def keep_choices(language_key: str) -> None:
    """Write every choice widget's option back, so that it is labelled anew in the new language."""
    for key in choice_keys(skip=language_key):
        try:
            value = st.session_state[key]
        except KeyError:
            continue
        st.session_state[key] = value
