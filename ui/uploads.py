"""Uploads of large input files the analyses read from disk: OSM extracts and GTFS feeds.

Both are kept under ``cache_dir`` by name, so a file is uploaded once: its street
network is then built once and read from the network cache, and a later session
can pick it again.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from geo.settings import Settings
from ui.i18n import t
from ui.markdown import Markdown


def _keep(cfg: Settings, folder: str, key: str, label: Markdown, types: list[str], pattern: str) -> str | None:
    """Pick a file uploaded earlier or upload one into ``cache_dir/folder``; its path, or ``None``.

    With earlier uploads the picker comes first and the uploader is folded
    away (one line instead of a drop zone, so the map stays on the first screen).
    """
    target_dir = Path(cfg.cache_dir) / folder
    known = (
        sorted(target_dir.glob(pattern), key=lambda p: (-p.stat().st_mtime_ns, p.name)) if target_dir.is_dir() else []
    )
    if known:
        c1, c2 = st.columns([1, 1])
        chosen = c1.selectbox(label, known, format_func=lambda p: p.name, key=f"{key}_known")
        with c2.expander(t("uploads.other")):
            upload = st.file_uploader(label, type=types, key=key, label_visibility="collapsed")
    else:
        chosen = None
        upload = st.file_uploader(label, type=types, key=key)
    if upload is not None:
        target_dir.mkdir(parents=True, exist_ok=True)
        target = target_dir / Path(upload.name).name
        if not target.exists() or target.stat().st_size != upload.size:
            target.write_bytes(upload.getvalue())
        return str(target)
    return str(chosen) if chosen is not None else None


def osm_extract(cfg: Settings, key: str) -> str | None:
    """Upload (or pick an earlier upload of) an OSM extract: ``.osm.pbf`` (Geofabrik), ``.osm`` or ``.osm.bz2``."""
    return _keep(
        cfg,
        "osm_uploads",
        key,
        t("uploads.osm"),
        ["pbf", "osm", "bz2"],
        "*.osm*",
    )


def gtfs_feed(cfg: Settings, key: str) -> str | None:
    """Upload (or pick an earlier upload of) a GTFS timetable (zip)."""
    return _keep(cfg, "gtfs_uploads", key, t("uploads.gtfs"), ["zip"], "*.zip")
