"""Offline Leaflet: copy the xstatic packages into ``static/`` and point folium at them.

folium loads Leaflet, jQuery, Bootstrap and awesome-markers from CDNs by
default; with no internet the map stays blank. We serve Leaflet and the
MarkerCluster plugin from the installed ``xstatic-leaflet`` and
``xstatic-leaflet-markercluster`` packages through Streamlit's static file
serving (``[server] enableStaticServing = true``): at start-up the package
data is copied into the git-ignored ``static/`` folder next to ``app.py``,
which Streamlit serves under ``/app/static/``. No third-party JavaScript is
committed to the repository and no CDN is ever contacted.

Local raster tiles (``Settings.tiles_dir``: a z/x/y folder or an MBTiles file)
are published the same way under ``static/tiles-local/<key>/`` by
:func:`publish_local_tiles`. Streamlit (1.5x+, Starlette) serves only files
whose *real* path lies inside ``static/`` (a symlink to elsewhere gives
HTTP 400), so folder tiles are hard-linked (copied across file systems) and
MBTiles are unpacked, their TMS rows flipped to XYZ. ``.png``/``.jpg``/
``.webp`` are served with their image content type.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import os
import shutil
import sqlite3
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import xstatic.pkg.leaflet as xs_leaflet
import xstatic.pkg.leaflet_markercluster as xs_cluster

from geo.errors import DataError

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
.atlas-isochrone { filter: drop-shadow(0 0 1px #ffffff) drop-shadow(0 0 1px #ffffff); }
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


# --------------------------------------------------------------------------
# local raster tiles (a z/x/y folder or an MBTiles file the administration has)
# --------------------------------------------------------------------------

#: The ``static/`` folder next to ``app.py`` that Streamlit serves under :data:`STATIC_URL`.
STATIC_DIR = Path(__file__).resolve().parent.parent / "static"
#: Sub-folder of ``static/`` holding the published copies of local tile sets.
TILES_LOCAL_FOLDER = "tiles-local"
#: Tile image suffixes served (Streamlit sends them as ``image/png``/``image/jpeg``/``image/webp``).
TILE_SUFFIXES: dict[str, str] = {".png": "png", ".jpg": "jpg", ".jpeg": "jpeg", ".webp": "webp"}
_MAGIC: tuple[tuple[bytes, str], ...] = ((b"\x89PNG", "png"), (b"\xff\xd8\xff", "jpg"), (b"RIFF", "webp"))


@dataclass(frozen=True)
class LocalTiles:
    """A local tile set published under ``static/tiles-local/<key>/`` in XYZ order.

    Attributes
    ----------
    url
        Leaflet URL template, e.g. ``/app/static/tiles-local/3f2a…/{z}/{x}/{y}.png``.
    min_zoom, max_zoom
        Lowest and highest zoom level with tiles (Leaflet scales the highest one up).
    bounds
        ``(west, south, east, north)`` in EPSG:4326 degrees covered by the tiles at ``max_zoom``.
    count
        Number of tiles published.
    source
        The configured folder or MBTiles file.
    attribution
        The MBTiles ``attribution`` metadata, else a generic note.
    """

    url: str
    min_zoom: int
    max_zoom: int
    bounds: tuple[float, float, float, float]
    count: int
    source: Path
    attribution: str


def _tile_lonlat(z: int, x: float, y: float) -> tuple[float, float]:
    """North-west corner of XYZ tile ``(z, x, y)`` in degrees (Web Mercator tiling).

    >>> _tile_lonlat(1, 1, 1)
    (0.0, 0.0)
    """
    n = 2.0**z
    lon = x / n * 360.0 - 180.0
    lat = math.degrees(math.atan(math.sinh(math.pi * (1 - 2 * y / n))))
    return round(lon, 7), round(lat, 7) + 0.0


def _tile_bounds(tiles: list[tuple[int, int, int]]) -> tuple[float, float, float, float]:
    """``(west, south, east, north)`` of the XYZ tiles at their highest zoom."""
    zmax = max(t[0] for t in tiles)
    xs = [t[1] for t in tiles if t[0] == zmax]
    ys = [t[2] for t in tiles if t[0] == zmax]
    west, north = _tile_lonlat(zmax, min(xs), min(ys))
    east, south = _tile_lonlat(zmax, max(xs) + 1, max(ys) + 1)
    return west, south, east, north


def _publish_dir(source: Path, static_dir: Path) -> Path:
    key = hashlib.sha256(str(source.resolve()).encode("utf-8")).hexdigest()[:12]
    return static_dir / TILES_LOCAL_FOLDER / key


def _place(src: Path, dst: Path) -> None:
    """Hard-link ``src`` to ``dst`` (same file system), else copy it.

    Streamlit serves only files whose real path lies inside ``static/``, so a
    symlink to the administration's tile folder would be refused (HTTP 400).
    """
    if dst.exists() and dst.stat().st_size == src.stat().st_size:
        return
    dst.parent.mkdir(parents=True, exist_ok=True)
    dst.unlink(missing_ok=True)
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)


def _folder_tiles(source: Path) -> dict[tuple[int, int, int], Path]:
    """The ``z/x/y.<ext>`` image files of a tile folder."""
    found: dict[tuple[int, int, int], Path] = {}
    for zdir in source.iterdir():
        if not (zdir.is_dir() and zdir.name.isdigit()):
            continue
        for xdir in zdir.iterdir():
            if not (xdir.is_dir() and xdir.name.isdigit()):
                continue
            for tile in xdir.iterdir():
                if tile.suffix.lower() in TILE_SUFFIXES and tile.stem.isdigit() and tile.is_file():
                    found[(int(zdir.name), int(xdir.name), int(tile.stem))] = tile
    return found


def _publish_folder(source: Path, static_dir: Path) -> LocalTiles:
    found = _folder_tiles(source)
    if not found:
        raise DataError(
            f"Kachelordner {source}: keine Kacheln gefunden. Erwartet werden Bilddateien in der Ordnerstruktur "
            "z/x/y.png (oder .jpg/.webp), z. B. 14/8529/5493.png. Bitte INTEGRATIONSATLAS_TILES_DIR prüfen."
        )
    suffixes = Counter(TILE_SUFFIXES[p.suffix.lower()] for p in found.values())
    ext = suffixes.most_common(1)[0][0]
    target = _publish_dir(source, static_dir)
    used = {k: p for k, p in found.items() if TILE_SUFFIXES[p.suffix.lower()] == ext}
    for (z, x, y), src in used.items():
        _place(src, target / str(z) / str(x) / f"{y}.{ext}")
    return _local_tiles(source, target, ext, list(used), static_dir, "Hintergrund: lokale Kacheln der Verwaltung")


def _publish_mbtiles(source: Path, static_dir: Path) -> LocalTiles:
    """Write the tiles of an MBTiles file as ``z/x/y.<ext>`` files, flipping its TMS rows to XYZ."""
    target = _publish_dir(source, static_dir)
    stamp = target / "source.json"
    stat = source.stat()
    signature = {"source": str(source.resolve()), "size": stat.st_size, "mtime_ns": stat.st_mtime_ns}
    try:
        con = sqlite3.connect(f"file:{source.resolve()}?mode=ro", uri=True)
    except sqlite3.Error as exc:
        raise DataError(f"MBTiles-Datei {source.name}: nicht lesbar ({exc}).") from exc
    try:
        meta = dict(con.execute("SELECT name, value FROM metadata").fetchall())
        keys = [(int(z), int(x), int(row)) for z, x, row in con.execute(
            "SELECT zoom_level, tile_column, tile_row FROM tiles")]  # fmt: skip
        if not keys:
            raise DataError(
                f"MBTiles-Datei {source.name}: enthält keine Kacheln (Tabelle »tiles« ist leer). "
                "Bitte eine vollständige MBTiles-Datei angeben."
            )
        fmt = str(meta.get("format", "")).lower()
        ext = {"png": "png", "jpg": "jpg", "jpeg": "jpg", "webp": "webp"}.get(fmt, "")
        if not ext:
            first = con.execute("SELECT tile_data FROM tiles LIMIT 1").fetchone()[0]
            ext = next((e for magic, e in _MAGIC if bytes(first).startswith(magic)), "")
        if not ext:
            raise DataError(
                f"MBTiles-Datei {source.name}: Format »{fmt or 'unbekannt'}« wird nicht unterstützt. "
                "Es werden nur Rasterkacheln (PNG, JPEG, WebP) angezeigt, keine Vektorkacheln (pbf)."
            )
        xyz = [(z, x, (1 << z) - 1 - row) for z, x, row in keys]
        fresh = not (stamp.is_file() and json.loads(stamp.read_text(encoding="utf-8")) == signature)
        if fresh:
            rows = con.execute("SELECT zoom_level, tile_column, tile_row, tile_data FROM tiles")
            for z, x, row, data in rows:
                dst = target / str(z) / str(x) / f"{(1 << int(z)) - 1 - int(row)}.{ext}"
                dst.parent.mkdir(parents=True, exist_ok=True)
                dst.write_bytes(bytes(data))
            stamp.write_text(json.dumps(signature), encoding="utf-8")
            logger.info("MBTiles %s: %d Kacheln nach %s ausgepackt", source.name, len(xyz), target)
    except sqlite3.DatabaseError as exc:
        raise DataError(
            f"MBTiles-Datei {source.name}: keine gültige MBTiles-Datenbank ({exc}). Erwartet werden die "
            "Tabellen »metadata« und »tiles« (MBTiles 1.x); bitte die Datei prüfen."
        ) from exc
    finally:
        con.close()
    attribution = str(meta.get("attribution") or "Hintergrund: lokale Kacheln der Verwaltung")
    return _local_tiles(source, target, ext, xyz, static_dir, attribution)


def _local_tiles(
    source: Path, target: Path, ext: str, tiles: list[tuple[int, int, int]], static_dir: Path, attribution: str
) -> LocalTiles:
    rel = target.relative_to(static_dir).as_posix()
    zooms = [t[0] for t in tiles]
    return LocalTiles(
        url=f"{STATIC_URL}/{rel}/{{z}}/{{x}}/{{y}}.{ext}",
        min_zoom=min(zooms),
        max_zoom=max(zooms),
        bounds=_tile_bounds(tiles),
        count=len(tiles),
        source=source,
        attribution=attribution,
    )


def publish_local_tiles(source: Path, static_dir: Path = STATIC_DIR) -> LocalTiles:
    """Make a local tile set servable by Streamlit under ``/app/static/tiles-local/<key>/``.

    Parameters
    ----------
    source
        A folder of XYZ tiles (``z/x/y.png``, ``.jpg`` or ``.webp``, as
        written by most tile tools with ``--xyz``) or an ``.mbtiles`` file
        (raster tiles; its TMS rows are flipped to XYZ: ``y = 2**z - 1 - row``).
    static_dir
        The ``static/`` folder next to ``app.py``.

    Returns
    -------
    LocalTiles
        URL template, zoom range and extent for a Leaflet tile layer.

    Raises
    ------
    DataError
        If ``source`` does not exist, is neither a folder nor an ``.mbtiles``
        file, holds no tiles or is no valid MBTiles database.

    Notes
    -----
    Folder tiles are hard-linked into ``static/`` (copied across file
    systems): Streamlit's static handler refuses files whose real path lies
    outside ``static/``, so a symlink would not do. MBTiles are unpacked once
    and again only when the file changes (size or modification time).
    The extent is in EPSG:4326 degrees (tiles in Web Mercator, EPSG:3857).
    """
    source = Path(source).expanduser()
    if not source.exists():
        raise DataError(
            f"Lokale Kacheln: {source} gibt es nicht. Bitte INTEGRATIONSATLAS_TILES_DIR auf einen Ordner "
            "mit z/x/y-Kacheln oder eine .mbtiles-Datei setzen (oder die Variable entfernen)."
        )
    if source.is_dir():
        return _publish_folder(source, static_dir)
    if source.suffix.lower() == ".mbtiles":
        return _publish_mbtiles(source, static_dir)
    raise DataError(
        f"Lokale Kacheln: {source.name} ist weder ein Kachelordner (z/x/y.png) noch eine .mbtiles-Datei. "
        "Bitte INTEGRATIONSATLAS_TILES_DIR prüfen."
    )
