"""Offline Leaflet: copy the xstatic packages into ``static/`` and point folium at them.

folium loads Leaflet, jQuery, Bootstrap and awesome-markers from CDNs by
default; with no internet the map stays blank. We serve Leaflet and the
MarkerCluster plugin from the installed ``xstatic-leaflet`` and
``xstatic-leaflet-markercluster`` packages through Streamlit's static file
serving (``[server] enableStaticServing = true``): at start-up the package
data is copied into the git-ignored ``static/`` folder next to ``app.py``,
which Streamlit serves under ``/app/static/``. No third-party JavaScript is
committed to the repository and no CDN is ever contacted.
"""

from __future__ import annotations

import logging
import shutil
from dataclasses import dataclass
from pathlib import Path

import xstatic.pkg.leaflet as xs_leaflet
import xstatic.pkg.leaflet_markercluster as xs_cluster

logger = logging.getLogger(__name__)

#: URL prefix under which Streamlit serves the ``static/`` folder next to app.py.
STATIC_URL = "/app/static"


@dataclass(frozen=True)
class StaticPackage:
    """One xstatic package copied to ``static/<folder>``."""

    folder: str
    base_dir: Path
    version: str


PACKAGES: tuple[StaticPackage, ...] = (
    StaticPackage("leaflet", Path(xs_leaflet.BASE_DIR), xs_leaflet.VERSION),
    StaticPackage("leaflet-markercluster", Path(xs_cluster.BASE_DIR), xs_cluster.VERSION),
)

#: Scripts and stylesheets of the map, as (name, URL) pairs in folium's format.
LEAFLET_JS: tuple[tuple[str, str], ...] = (("leaflet", f"{STATIC_URL}/leaflet/leaflet.js"),)
LEAFLET_CSS: tuple[tuple[str, str], ...] = (
    ("leaflet_css", f"{STATIC_URL}/leaflet/leaflet.css"),
    ("atlas_css", f"{STATIC_URL}/atlas/atlas-map.css"),
)
MARKERCLUSTER_JS: tuple[tuple[str, str], ...] = (
    ("markerclusterjs", f"{STATIC_URL}/leaflet-markercluster/leaflet.markercluster.js"),
)
MARKERCLUSTER_CSS: tuple[tuple[str, str], ...] = (
    ("markerclustercss", f"{STATIC_URL}/leaflet-markercluster/MarkerCluster.css"),
    ("markerclusterdefaultcss", f"{STATIC_URL}/leaflet-markercluster/MarkerCluster.Default.css"),
)

#: Our own small stylesheet for the map (legend, numbered site icons, tooltips).
#: It is generated here, not copied from anywhere, so nothing third-party is committed.
ATLAS_MAP_CSS = """\
.leaflet-container { font-family: "Source Sans Pro", "Segoe UI", Arial, sans-serif; font-size: 13px; }
.leaflet-control-layers { font-size: 12px; line-height: 1.3; }
.leaflet-control-layers label { margin-bottom: 1px; }
.leaflet-control-attribution { font-size: 10px; line-height: 1.25; max-width: 70%; }
.atlas-tooltip table { border-collapse: collapse; }
.atlas-tooltip th { text-align: left; padding-right: 6px; color: #444; font-weight: 600; }
.atlas-tooltip td { color: #111; }
.atlas-legend { background: rgba(255,255,255,0.95); padding: 6px 8px; font-size: 12px; border: 1px solid #999;
  border-radius: 4px; line-height: 1.35; color: #111; max-width: 240px; }
.atlas-legend .atlas-legend-title { font-weight: 700; margin-bottom: 3px; }
.atlas-legend summary { cursor: pointer; font-weight: 700; color: #1f4e79; margin-bottom: 2px; }
.atlas-legend details:not([open]) summary { margin-bottom: 0; }
.atlas-tooltip { max-width: 280px; white-space: normal; font-size: 12px; padding: 4px 6px; }
.atlas-tooltip th, .atlas-tooltip td { padding: 0 4px 0 0; vertical-align: top; }
.atlas-legend i { display: inline-block; width: 14px; height: 12px; margin-right: 6px;
  vertical-align: middle; border: 1px solid #666; }
.atlas-legend .atlas-dot { border-radius: 50%; width: 10px; height: 10px; }
.atlas-site-number { background: #1f4e79; color: #fff; border: 2px solid #fff; border-radius: 50%;
  width: 26px; height: 26px; line-height: 22px; text-align: center; font-weight: 700;
  font-size: 13px; box-shadow: 0 0 3px rgba(0,0,0,0.6); }
.atlas-site-number.atlas-site-fixed { background: #555; }
.atlas-candidate { background: #D55E00; border: 2px solid #fff; border-radius: 50%;
  width: 14px; height: 14px; box-shadow: 0 0 2px rgba(0,0,0,0.6); }
"""


def ensure_static_assets(static_dir: Path) -> Path:
    """Copy Leaflet and MarkerCluster into ``static_dir`` unless already there.

    Idempotent and cheap when the files are present: only files that are
    missing or differ in size are copied.

    Parameters
    ----------
    static_dir
        The ``static/`` folder next to ``app.py``.

    Returns
    -------
    pathlib.Path
        ``static_dir``.
    """
    copied = 0
    for pkg in PACKAGES:
        target = static_dir / pkg.folder
        for src in pkg.base_dir.rglob("*"):
            if src.is_dir() or src.suffix == ".map":
                continue
            dst = target / src.relative_to(pkg.base_dir)
            if dst.exists() and dst.stat().st_size == src.stat().st_size:
                continue
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dst)
            copied += 1
    css = static_dir / "atlas" / "atlas-map.css"
    if not css.exists() or css.read_text(encoding="utf-8") != ATLAS_MAP_CSS:
        css.parent.mkdir(parents=True, exist_ok=True)
        css.write_text(ATLAS_MAP_CSS, encoding="utf-8")
        copied += 1
    if copied:
        logger.info("Copied %d static map files to %s", copied, static_dir)
    return static_dir
