"""Uploads of large input files the analyses read from disk: OSM extracts and GTFS feeds.

An upload is kept by :class:`geo.store.uploads.UploadStore`: by the SHA-256 of
its bytes, owned by this browser session (:func:`upload_owner`), deleted when
unused for ``Settings.upload_max_age_hours``. Within the session a file is
uploaded once: its street network is then built once (cached by content) and
the file can be picked again on every page. Other sessions never see it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

from geo.modes import next_tuesday
from geo.settings import Settings
from geo.sources.line_network import LINE_NETWORK_SUFFIXES
from geo.sources.osm_background import quick_to_draw
from geo.store.uploads import Upload, UploadStore
from ui.i18n import t
from ui.markdown import Markdown

#: Departure windows offered for public transport (seconds after midnight) and their labels.
WINDOWS: dict[tuple[int, int], str] = {
    (7 * 3600, 9 * 3600): "07:00–09:00",
    (9 * 3600, 12 * 3600): "09:00–12:00",
    (12 * 3600, 15 * 3600): "12:00–15:00",
    (15 * 3600, 18 * 3600): "15:00–18:00",
}
#: Session key: paths of the files of this session's uploader widgets, by Streamlit file id (no re-hashing).
_KEPT = "uploads_kept"


def upload_owner() -> str:
    """Who owns the uploads of this browser session: the session itself.

    The one place that decides ownership: once the app has a login, return
    ``f"user:{user_id}"`` here and a user's uploads follow them across sessions.
    """
    ctx = get_script_run_ctx()
    return f"session:{ctx.session_id}" if ctx is not None else "session:local"


def _keep(cfg: Settings, kind: str, key: str, label: Markdown, types: list[str]) -> str | None:
    """Pick an upload of this session or upload one; its path, or ``None``.

    With earlier uploads the picker comes first and the uploader is folded
    away (one line instead of a drop zone, so the map stays on the first screen).
    """
    store, owner = UploadStore(cfg), upload_owner()
    known = store.list(kind, owner)
    if known:
        c1, c2 = st.columns([1, 1])
        chosen: Upload | None = c1.selectbox(label, known, format_func=lambda u: u.name, key=f"{key}_known")
        with c2.expander(t("uploads.other")):
            upload = st.file_uploader(label, type=types, key=key, label_visibility="collapsed")
    else:
        chosen = None
        upload = st.file_uploader(label, type=types, key=key)
    if upload is not None:
        kept: dict[str, str] = st.session_state.setdefault(_KEPT, {})
        path = kept.get(upload.file_id)
        if path is None or not Path(path).is_file():
            path = str(store.put(kind, owner, upload.name, upload.getvalue()).path)
            kept[upload.file_id] = path
        return path
    if chosen is not None and chosen.path.is_file():
        store.touch(chosen.path)
        return str(chosen.path)
    return None


def osm_extract(cfg: Settings, key: str) -> str | None:
    """Upload (or pick an earlier upload of) a street network: an OSM extract (``.osm.pbf`` from Geofabrik,
    ``.osm``, ``.osm.bz2``) or lines (:data:`geo.sources.line_network.LINE_NETWORK_SUFFIXES`)."""
    lines = sorted(s.lstrip(".") for s in LINE_NETWORK_SUFFIXES if s != ".shp")  # a Shapefile comes zipped
    return _keep(cfg, "osm", key, t("uploads.osm"), ["pbf", "osm", "bz2", *lines])


def gtfs_feed(cfg: Settings, key: str) -> str | None:
    """Upload (or pick an earlier upload of) a GTFS timetable (zip)."""
    return _keep(cfg, "gtfs", key, t("uploads.gtfs"), ["zip"])


@dataclass(frozen=True)
class Timetable:
    """The timetable inputs of a public-transport question: feed, service day and departure window."""

    gtfs_file: str
    day: date
    window: tuple[int, int]


def timetable(cfg: Settings, key: str) -> Timetable | None:
    """Upload or pick a GTFS feed and choose the day and departure window (``None`` until a feed is there).

    The same widgets on every page that asks public-transport questions (keys ``{key}_gtfs``, ``_day``,
    ``_window``).
    """
    gtfs_file = gtfs_feed(cfg, key=f"{key}_gtfs")
    d1, d2 = st.columns(2)
    day = d1.date_input(t("luecken.day"), value=next_tuesday(), key=f"{key}_day", format="DD.MM.YYYY")
    window = d2.selectbox(t("luecken.window"), list(WINDOWS), format_func=WINDOWS.__getitem__, key=f"{key}_window")
    if gtfs_file is None:
        st.info(t("luecken.need_gtfs"))
        return None
    return Timetable(gtfs_file, day, window)


def default_background(cfg: Settings) -> Path | None:
    """This session's most recent OSM extract, if it can be drawn without waiting; else ``None``.

    The Karte and the report draw it as the offline background when no page
    names an extract (a large one only once its background is cached, see
    :func:`geo.sources.osm_background.quick_to_draw`).
    """
    latest = UploadStore(cfg).latest("osm", upload_owner())
    return latest.path if latest is not None and quick_to_draw(latest.path, cfg) else None
