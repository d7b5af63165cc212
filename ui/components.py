"""Small reusable Streamlit pieces: error display, tables, charts, the map widget, the footer."""

from __future__ import annotations

import html
import logging
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import altair as alt
import folium
import numpy as np
import pandas as pd
import streamlit as st
from sqlalchemy import exc as sa_exc
from streamlit_folium import st_folium

from geo.errors import DatabaseUnavailableError, IntegrationsatlasError, Problem, ValidationError
from geo.formatting import de_number
from geo.layers.sources import ATTRIBUTIONS
from geo.store.grants import denied
from ui import maps
from ui.i18n import current_language, t
from ui.markdown import md

logger = logging.getLogger(__name__)


@contextmanager
def user_errors(what: str = "") -> Iterator[None]:
    """Show an :class:`~geo.errors.IntegrationsatlasError` as ``st.error``; the page goes on.

    Only the project's own errors are caught: their messages are German and
    say what to do. Anything else is a bug and is left to Streamlit. A lost
    database connection (:class:`~geo.errors.DatabaseUnavailableError`, after
    the store's own retries of reads) also offers a button that runs the page
    again.
    """
    try:
        yield
    except DatabaseUnavailableError as exc:
        logger.warning("database unavailable, shown to user: %s", exc)
        st.error(t("common.label_value", label=what, value=str(exc)) if what else md(exc))
        if st.button(t("common.retry"), key=f"atlas_retry_{what}", icon=":material/refresh:"):
            st.rerun()
    except ValidationError as exc:
        logger.info("validation error shown to user: %s", exc.title)
        message = t("common.validation_error", title=exc.title, n=len(exc.problems))
        st.error(t("common.label_value", label=what, value=message) if what else message)
        problem_table(exc.problems)
    except IntegrationsatlasError as exc:
        logger.info("error shown to user: %s", exc)
        st.error(t("common.label_value", label=what, value=str(exc)) if what else md(exc))
    except sa_exc.DBAPIError as exc:  # a server with login: the database refused the role (grants, row security)
        refusal = denied(exc)
        if refusal is None:
            raise
        logger.info("database refusal shown to user: %s", exc)
        st.error(t("common.label_value", label=what, value=str(refusal)) if what else md(refusal))


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
    table(frame)


def _decimals(values: pd.Series, most: int = 3) -> int:
    """The fewest decimals (≤ ``most``) that show every value of ``values`` as it is."""
    finite = values[np.isfinite(values)]
    for d in range(most + 1):
        if np.allclose(finite, finite.round(d), rtol=0, atol=1e-9):
            return d
    return most


def german_style(frame: pd.DataFrame, decimals: Mapping[str, int] | None = None) -> Any:
    """``frame`` as a pandas Styler with German numbers (``1.234,5``) and empty cells for missing values.

    The cells keep their numeric values, so sorting a column in the table still
    sorts by number; only the display changes. Floats get as many decimals as
    their (already rounded) values need, at most three, or the ``decimals``
    given for their column (so that »vorher« and »nachher« read alike: »100,0«
    beside »0,0«, not »100«).
    """
    formats: dict[str, Any] = {}
    fixed = decimals or {}
    for name in frame.columns:
        col = frame[name]
        if pd.api.types.is_bool_dtype(col) or not pd.api.types.is_numeric_dtype(col):
            continue
        digits = fixed.get(name, 0 if pd.api.types.is_integer_dtype(col) else _decimals(col.astype(float)))
        formats[name] = lambda v, d=digits: "" if pd.isna(v) else de_number(v, d)
    # a missing text shows as an empty cell, never as »None« (na_rep of a formatter dict covers only its columns)
    return frame.style.format(na_rep="").format(formats, na_rep="")


#: Streamlit's data grid: pixels per row (the header is one) and of the border.
GRID_ROW_PX, GRID_BORDER_PX = 35, 3


def table(
    frame: pd.DataFrame,
    *,
    max_height: int | None = None,
    decimals: Mapping[str, int] | None = None,
    **kwargs: Any,
) -> Any:
    """``st.dataframe`` with German number formats (see :func:`german_style`); ``kwargs`` go to Streamlit.

    With ``max_height`` the grid is as tall as its rows need, at most ``max_height`` pixels (a short table
    shows no empty grid rows below it; a long one scrolls). ``decimals`` fixes the decimals of columns.
    """
    if max_height is not None:
        kwargs["height"] = min(max_height, GRID_ROW_PX * (len(frame) + 1) + GRID_BORDER_PX)
    kwargs.setdefault("hide_index", True)
    kwargs.setdefault("width", "stretch")
    return st.dataframe(german_style(frame, decimals), **kwargs)


#: Two columns, label and value, that wrap instead of cutting values off (the profile panel is narrow).
KEY_VALUES_CSS = (
    "<style>.atlas-kv{display:grid;grid-template-columns:minmax(0,1.25fr) minmax(0,1fr);gap:2px 10px;"
    "font-size:0.9rem;margin:0 0 0.8rem 0}.atlas-kv dt{color:#555;font-weight:400}"
    ".atlas-kv dd{margin:0;text-align:right;font-variant-numeric:tabular-nums}</style>"
)


#: Vega's number format in German (d3-format locale): decimal comma, thousands dot, euros after the figure.
GERMAN_NUMBERS = {"decimal": ",", "thousands": ".", "grouping": [3], "currency": ["", "\u00a0€"]}


def chart(figure: alt.Chart | alt.LayerChart | alt.FacetChart, height: int) -> None:
    """Draw an Altair chart across the page, axis and tooltip figures in the page's language (German: 1.234,5)."""
    figure = figure.properties(height=height)
    if current_language() == "de":
        figure = figure.configure(locale=alt.Locale(number=GERMAN_NUMBERS))
    st.altair_chart(figure, width="stretch")


def key_values(pairs: Sequence[tuple[str, str]]) -> None:
    """Show ``(label, value)`` pairs as a compact two-column list; both are escaped."""
    rows = "".join(f"<dt>{html.escape(str(k))}</dt><dd>{html.escape(str(v))}</dd>" for k, v in pairs)
    st.html(f'{KEY_VALUES_CSS}<dl class="atlas-kv">{rows}</dl>')


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
/* WCAG 1.4.3: Streamlit's grey captions reach only 4.4:1 on the sidebar's background */
[data-testid="stCaptionContainer"], [data-testid="stCaptionContainer"] p {
  color: #4d4f52 !important; opacity: 1 !important; }
</style>
"""


#: Streamlit's file uploader has English chrome ("Upload", "300MB per file • …") and no
#: setting for it: the texts are replaced in CSS. The size limit is stated by each
#: uploader's own label (the import limit differs from the server's upload limit).
UPLOADER_CSS = """
<style>
[data-testid="stFileUploaderDropzone"] button [data-testid="stMarkdownContainer"] p { font-size: 0; }
[data-testid="stFileUploaderDropzone"] button [data-testid="stMarkdownContainer"] p::after {
  content: "{button}"; font-size: 0.875rem; }
[data-testid="stFileUploaderDropzoneInstructions"] span { font-size: 0; }
[data-testid="stFileUploaderDropzoneInstructions"] span::after { content: "{drop}"; font-size: 0.875rem; }
</style>
"""


def compact_layout() -> None:
    """Apply the compact page layout and the translated uploader texts (once per run, before the page)."""
    css = UPLOADER_CSS.replace("{button}", t("upload.button")).replace("{drop}", t("upload.drop"))
    st.html(COMPACT_CSS + css)


def attribution_footer() -> None:
    """The data sources and licences, shown under every page."""
    st.divider()
    sources = t("common.label_value", label=t("footer.sources"), value=" · ".join(ATTRIBUTIONS))
    st.caption(sources + " · " + t("footer.map"))
