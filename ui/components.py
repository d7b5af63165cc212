"""Small reusable Streamlit pieces: error display, the map widget, the footer."""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import folium
import pandas as pd
import streamlit as st
from streamlit_folium import st_folium

from geo.errors import IntegrationsatlasError, Problem, ValidationError
from geo.layers.sources import ATTRIBUTIONS
from ui import maps
from ui.i18n import t

logger = logging.getLogger(__name__)


@contextmanager
def user_errors(what: str = "") -> Iterator[None]:
    """Show an :class:`~geo.errors.IntegrationsatlasError` as ``st.error``; the page goes on.

    Only the project's own errors are caught: their messages are German and
    say what to do. Anything else is a bug and is left to Streamlit.
    """
    try:
        yield
    except ValidationError as exc:
        logger.info("validation error shown to user: %s", exc.title)
        st.error(
            f"{what + ': ' if what else ''}{exc.title} ({len(exc.problems)} Problem(e)). "
            "Details in der Tabelle unten; bitte die Datei korrigieren und erneut hochladen."
        )
        problem_table(exc.problems)
    except IntegrationsatlasError as exc:
        logger.info("error shown to user: %s", exc)
        st.error(f"{what + ': ' if what else ''}{exc}")


def problem_table(problems: Sequence[Problem]) -> None:
    """Render validation problems as a table with file, row, column and fix."""
    if not problems:
        return
    frame = pd.DataFrame([p.as_dict() for p in problems]).rename(
        columns={
            "file": t("col.file"),
            "row": t("col.row"),
            "column": t("col.column"),
            "message": t("col.problem"),
            "fix": t("col.fix"),
        }
    )
    frame[t("col.row")] = frame[t("col.row")].astype("Int64")
    st.dataframe(frame, hide_index=True, width="stretch")


def render_map(
    base: folium.Map,
    groups: Sequence[folium.FeatureGroup],
    key: str,
    center: tuple[float, float] | None = None,
    zoom: int | None = None,
    height: int = 620,
    returned: Sequence[str] = ("last_object_clicked",),
    collapsed: bool = False,
) -> dict[str, Any]:
    """Draw ``base`` once and swap ``groups`` on reruns (streamlit-folium pattern).

    The base map (outlines, attribution, optional online tiles) stays mounted
    across reruns; changing overlays go through ``feature_group_to_add`` and
    the view through ``center``/``zoom``. Only ``returned`` events round-trip.
    """
    out = st_folium(
        base,
        key=key,
        feature_group_to_add=list(groups),
        layer_control=maps.layer_control(collapsed),
        center=center,
        zoom=zoom,
        height=height,
        use_container_width=True,
        returned_objects=list(returned),
    )
    return out or {}


#: Less white space above the page and smaller headings, so that on a 1366×768 screen
#: the controls and the map fit above the fold.
COMPACT_CSS = """
<style>
[data-testid="stMainBlockContainer"], .block-container { padding-top: 3.4rem; padding-bottom: 2rem; }
h1 { font-size: 1.9rem !important; padding-top: 0 !important; padding-bottom: 0.2rem !important; }
h2, [data-testid="stHeading"] h2 { font-size: 1.35rem !important; }
</style>
"""


def compact_layout() -> None:
    """Apply the compact page layout (call once per run, before the page)."""
    st.html(COMPACT_CSS)


def attribution_footer() -> None:
    """The data sources and licences, shown under every page."""
    st.divider()
    st.caption(f"{t('footer.sources')}: " + " · ".join(ATTRIBUTIONS) + f" · {t('footer.map')}")
