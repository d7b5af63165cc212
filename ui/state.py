"""Session-state keys and helpers: one browser session's unsaved state.

Streamlit keeps ``st.session_state`` per browser session, so two users (or
two tabs) never see each other's clicked candidates or results.
"""

from __future__ import annotations

from typing import Any

import streamlit as st

#: Selected unit on the Karte page: (level, ags) or absent.
SELECTED_AREA = "karte_selected_area"
#: Last map click already handled on the Karte page: (lat, lon).
LAST_CLICK = "karte_last_click"
#: View requested by the search box: ((lat, lon), zoom) or absent.
MAP_VIEW = "karte_map_view"
#: Candidate points clicked on the Standortplanung map: list of (lat, lon).
CANDIDATES = "standort_candidates"
#: Last siting result of this session.
SITING_RESULT = "standort_result"
#: Last coverage parameters of this session (Versorgungslücken).
COVERAGE_PARAMS = "luecken_params"


def get(key: str, default: Any = None) -> Any:
    """Read a session value."""
    return st.session_state.get(key, default)


def put(key: str, value: Any) -> None:
    """Store a session value."""
    st.session_state[key] = value


def candidates() -> list[tuple[float, float]]:
    """This session's clicked candidate points (lat, lon in EPSG:4326)."""
    return list(st.session_state.get(CANDIDATES, []))


def add_candidate(lat: float, lon: float) -> bool:
    """Add a clicked point unless it is already the last one; return whether it was added."""
    points = candidates()
    point = (round(float(lat), 6), round(float(lon), 6))
    if points and points[-1] == point:
        return False
    points.append(point)
    st.session_state[CANDIDATES] = points
    return True


def clear_candidates() -> None:
    """Forget the clicked candidate points."""
    st.session_state[CANDIDATES] = []
