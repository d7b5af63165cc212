"""Integrationsatlas NRW – the Streamlit app.

Start with ``streamlit run app.py``. The pages live in :mod:`ui.pages`; this
entry point sets up logging, the page config, offline Leaflet, the navigation,
the language toggle and the attribution footer.
"""

from __future__ import annotations

import logging
from pathlib import Path

import streamlit as st
from PIL import Image, ImageDraw

from geo.access import AUDIT
from integrationsatlas.terminal import OneLineLogRecords
from ui import auth, heap
from ui.components import compact_layout
from ui.failures import guarded
from ui.i18n import language_selector, t
from ui.static_assets import ensure_static_assets

APP_DIR = Path(__file__).resolve().parent
PAGES_DIR = Path("ui") / "pages"


@st.cache_resource(show_spinner=False)
def _start_up() -> Path:
    """Once per server process: logging and the local copy of Leaflet."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for handler in logging.getLogger().handlers:  # a name from the data never forges a log line
        if not any(isinstance(f, OneLineLogRecords) for f in handler.filters):
            handler.addFilter(OneLineLogRecords())
    return ensure_static_assets(APP_DIR / "static")


@st.cache_resource(show_spinner=False)
def _favicon() -> Image.Image:
    """A small local favicon (a material-icon favicon would be fetched from a font CDN)."""
    icon = Image.new("RGBA", (64, 64), (0, 0, 0, 0))
    draw = ImageDraw.Draw(icon)
    draw.rounded_rectangle((2, 2, 62, 62), radius=12, fill="#1f4e79")
    draw.ellipse((20, 12, 44, 36), fill="#ffffff")
    draw.polygon([(22, 30), (42, 30), (32, 54)], fill="#ffffff")
    draw.ellipse((27, 19, 37, 29), fill="#1f4e79")
    return icon


_start_up()
st.set_page_config(
    page_title=t("app.title"),
    page_icon=_favicon(),
    layout="wide",
    initial_sidebar_state="expanded",
    menu_items={"About": t("app.about")},
)
principal = auth.login_gate()  # with [auth] in secrets.toml: anonymous visitors see only the login page

pages = [
    st.Page(str(PAGES_DIR / "karte.py"), title=t("nav.karte"), icon=":material/map:", url_path="karte", default=True),
    st.Page(
        str(PAGES_DIR / "luecken.py"),
        title=t("nav.luecken"),
        icon=":material/location_off:",
        url_path="versorgungsluecken",
    ),
    st.Page(
        str(PAGES_DIR / "standort.py"),
        title=t("nav.standort"),
        icon=":material/add_location_alt:",
        url_path="standortplanung",
    ),
    st.Page(str(PAGES_DIR / "daten.py"), title=t("nav.daten"), icon=":material/database:", url_path="daten"),
    st.Page(str(PAGES_DIR / "bericht.py"), title=t("nav.bericht"), icon=":material/description:", url_path="bericht"),
    st.Page(
        str(PAGES_DIR / "barrierefreiheit.py"),
        title=t("nav.barrierefreiheit"),
        icon=":material/accessibility_new:",
        url_path="barrierefreiheit",
    ),
]
if principal is not None and auth.allows(AUDIT):
    pages.append(
        st.Page(
            str(PAGES_DIR / "protokoll.py"), title=t("nav.protokoll"), icon=":material/policy:", url_path="protokoll"
        )
    )
navigation = st.navigation(pages)
st.sidebar.markdown(f"### {t('app.title')}")
language_selector()
auth.sidebar(principal)
compact_layout()
guarded(navigation.run)
heap.settle(navigation.url_path)  # after the page's first run: shorter collector pauses
