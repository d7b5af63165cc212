"""Offline backgrounds of the Leaflet maps: the loaded OSM extract drawn quietly, and local raster tiles.

Two backgrounds that need no internet, put under every map by
:func:`ui.maps.base_map` (one call to :func:`add_offline_backgrounds`):

* **Hintergrund: lokale Kacheln** – a z/x/y folder or an ``.mbtiles`` file
  the administration already has (``Settings.tiles_dir``, env
  ``INTEGRATIONSATLAS_TILES_DIR``), published under ``/app/static`` by
  :func:`ui.static_assets.publish_local_tiles`. First in the layer control and
  switched on when present. A wrong path or an empty folder gives a German
  note on the map; the map itself keeps working.
* **Hintergrund: OSM-Auszug (offline)** – water, forest, parks, built-up
  areas, main roads and place names from an OSM extract
  (:mod:`geo.sources.osm_background`), drawn on a canvas in its own pane
  below all overlays, never taking clicks. **Which extract:** the one a page
  passes to ``base_map(osm_file=...)``, else this session's most recent upload
  (:func:`ui.uploads.default_background`), so the Karte shows the extract that
  was loaded on the analysis pages. Switched on when
  no raster background (local or online tiles) is shown.

The GeoJSON sent to the browser is kept small: geometries simplified in
EPSG:25832, road segments merged per class, coordinates rounded to 5 decimals
(about 1 m), and when it would still exceed :data:`MAX_PAYLOAD_BYTES` the
tolerance and the smallest area are raised step by step.
"""

from __future__ import annotations

import functools
import html
import json
import logging
from pathlib import Path
from typing import Any

import folium
import geopandas as gpd
import numpy as np
import shapely
import streamlit as st
from branca.element import MacroElement
from markupsafe import Markup

from geo.errors import IntegrationsatlasError
from geo.settings import DISPLAY_CRS, PROJECTED_CRS, Settings
from geo.sources.line_network import is_line_network
from geo.sources.osm_background import cached_background
from ui.i18n import t
from ui.map_script import TEXT_JS, script_template
from ui.static_assets import STATIC_DIR, LocalTiles, publish_local_tiles
from ui.uploads import default_background

logger = logging.getLogger(__name__)

OSM_LAYER_NAME = "Hintergrund: OSM-Auszug (offline)"
LOCAL_TILES_LAYER_NAME = "Hintergrund: lokale Kacheln"
#: Largest GeoJSON payload (bytes) of the OSM background in one map.
MAX_PAYLOAD_BYTES = 1_000_000
#: Coordinate decimals in EPSG:4326 (1e-5 degrees is about 1 m).
DECIMALS = 5
#: ``(tolerance m, smallest area m², lowest road rank kept)`` tried in turn until the payload fits.
REDUCTION_STEPS: tuple[tuple[float, float, int], ...] = (
    (0.0, 0.0, 4),
    (10.0, 8_000.0, 4),
    (20.0, 30_000.0, 3),
    (40.0, 100_000.0, 2),
    (80.0, 400_000.0, 1),
)
#: Quiet cartographic style: fill colours of areas, colours/widths of lines.
AREA_STYLE: dict[str, dict[str, Any]] = {
    "builtup": {"fillColor": "#e7e4e0"},
    "park": {"fillColor": "#e4efdc"},
    "forest": {"fillColor": "#d5e6cb"},
    "water": {"fillColor": "#c9e0f2"},
}
#: Colour of the land (the map's container) while the OSM background is shown.
LAND_COLOR = "#f5f3ef"
ROAD_WIDTH: tuple[float, ...] = (3.5, 3.5, 3.0, 2.5, 1.8)  # by rank: motorway … tertiary
#: Smallest zoom at which place labels of a rank appear (1 city … 4 hamlet).
LABEL_MIN_ZOOM: dict[int, int] = {1: 9, 2: 11, 3: 13, 4: 14}
LABEL_CSS = (
    ".atlas-bg-label { color: #6b6b6b; font-size: 11px; white-space: nowrap; text-align: center;"
    " text-shadow: 0 0 2px #fff, 0 0 2px #fff, 0 0 3px #fff; pointer-events: none; }"
    " .atlas-bg-label.atlas-bg-rank-1 { font-size: 14px; font-weight: 600; color: #555; }"
    " .atlas-bg-label.atlas-bg-rank-2 { font-size: 12.5px; font-weight: 600; }"
)


def _rounded(geoms: np.ndarray) -> list[dict[str, Any]]:
    shown = gpd.GeoSeries(geoms, crs=PROJECTED_CRS).to_crs(DISPLAY_CRS).to_numpy()
    rounded = shapely.transform(shown, lambda xy: np.round(xy, DECIMALS))
    return [g.__geo_interface__ for g in rounded]


def _payload(bg: gpd.GeoDataFrame, tolerance_m: float, min_area_m2: float, max_rank: int) -> dict[str, Any]:
    kind = bg["kind"].to_numpy()
    geoms = bg.geometry.to_numpy()
    if tolerance_m:
        geoms = np.where(kind == "place", geoms, shapely.simplify(geoms, tolerance_m, preserve_topology=True))
    is_area = np.isin(kind, list(AREA_STYLE))
    keep_area = is_area & (shapely.area(geoms) >= min_area_m2) & ~shapely.is_empty(geoms)
    features: list[dict[str, Any]] = [
        {"type": "Feature", "properties": {"k": k}, "geometry": g}
        for k, g in zip(kind[keep_area], _rounded(geoms[keep_area]), strict=True)
    ]
    lines: list[tuple[str, int, Any]] = []
    rank = bg["rank"].to_numpy()
    cls = bg["cls"].to_numpy()
    for line_kind, wanted in (("waterway", kind == "waterway"), ("road", (kind == "road") & (rank <= max_rank))):
        for value in sorted(set(cls[wanted]), key=lambda c: -int(rank[wanted & (cls == c)][0])):
            sel = wanted & (cls == value)
            merged = shapely.line_merge(shapely.multilinestrings(geoms[sel]))
            lines.append((line_kind, int(rank[sel][0]), merged))
    if lines:
        shown = _rounded(np.array([g for _k, _r, g in lines], dtype=object))
        features += [
            {"type": "Feature", "properties": {"k": k, "r": r}, "geometry": g}
            for (k, r, _g), g in zip(lines, shown, strict=True)
        ]
    places = bg[kind == "place"]
    labels: list[list[Any]] = []
    if len(places):
        pts = places.geometry.to_crs(DISPLAY_CRS)
        labels = [
            [round(float(y), DECIMALS), round(float(x), DECIMALS), str(name), int(r)]
            for x, y, name, r in zip(pts.x, pts.y, places["name"], places["rank"], strict=True)
        ]
    return {"features": {"type": "FeatureCollection", "features": features}, "labels": labels}


def payload_bytes(payload: dict[str, Any]) -> int:
    """Size in bytes of ``payload`` as compact JSON (what the browser receives)."""
    return len(json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode("utf-8"))


def background_payload(bg: gpd.GeoDataFrame, max_bytes: int = MAX_PAYLOAD_BYTES) -> dict[str, Any]:
    """The drawing data of an OSM background, at most ``max_bytes`` of JSON.

    Parameters
    ----------
    bg
        Output of :func:`geo.sources.osm_background.cached_background` (EPSG:25832).
    max_bytes
        Budget for the JSON; the steps of :data:`REDUCTION_STEPS` are tried in
        turn (more simplification, fewer small areas, fewer road classes),
        then ever larger smallest areas with motorways only; if even that is
        too large (a whole Land), only the place names are kept.

    Returns
    -------
    dict
        ``features``: a GeoJSON ``FeatureCollection`` (property ``k`` = kind,
        ``r`` = road rank; roads and rivers merged per class) and ``labels``:
        ``[lat, lon, name, rank]`` rows of the places (the name as in OSM, shown as text).

    Notes
    -----
    Simplifies in EPSG:25832 (metres), then reprojects to EPSG:4326 and rounds
    to :data:`DECIMALS` decimals (about 1 m).
    """
    payload: dict[str, Any] = {}
    tolerance_m, min_area_m2, max_rank = REDUCTION_STEPS[-1]
    steps = [*REDUCTION_STEPS, *((tolerance_m, min_area_m2 * 4**i, 0) for i in range(1, 8))]
    for tolerance_m, min_area_m2, max_rank in steps:
        payload = _payload(bg, tolerance_m, min_area_m2, max_rank)
        size = payload_bytes(payload)
        if size <= max_bytes:
            break
        logger.info("OSM-Hintergrund %d Bytes > %d: stärker vereinfacht", size, max_bytes)
    else:  # still too large (a huge extract): only the place names
        payload = {"features": {"type": "FeatureCollection", "features": []}, "labels": payload["labels"]}
        logger.warning("OSM-Hintergrund zu groß für die Karte: nur Ortsnamen")
    return payload


@functools.lru_cache(maxsize=4)
def _extract_payload(path: str, _size: int, _mtime_ns: int, cache_dir: str) -> dict[str, Any]:
    cfg = Settings(cache_dir=Path(cache_dir))
    return background_payload(cached_background(Path(path), cfg))


def extract_payload(path: Path, cfg: Settings) -> dict[str, Any] | None:
    """The (process-wide cached) drawing data of the OSM extract ``path``; ``None`` if it cannot be read.

    A street network of lines (:func:`geo.sources.line_network.is_line_network`) is no background.
    """
    if is_line_network(path):
        return None
    try:
        stat = Path(path).stat()
        # reading a large extract the first time takes a while: say what the page is waiting for
        with st.spinner(t("map.background_loading", file=Path(path).name)):
            return _extract_payload(str(Path(path).resolve()), stat.st_size, stat.st_mtime_ns, str(cfg.cache_dir))
    except (OSError, IntegrationsatlasError) as exc:
        logger.warning("OSM-Hintergrund aus %s nicht verfügbar: %s", path, exc)
        return None


class OsmBackgroundLayer(folium.map.Layer):
    """The OSM background as one Leaflet layer: canvas areas/lines in a low pane, grey place labels.

    Parameters
    ----------
    payload
        Output of :func:`background_payload`.
    name
        Layer name in the layer control.
    show
        Whether the layer is switched on when the map opens.
    """

    _template = script_template(
        """
        {% macro script(this, kwargs) %}
        {{ this.text_js }}
        var {{ this.get_name() }} = (function () {
            var map = {{ this._parent.get_name() }};
            function pane(name, z) {
                var p = map.getPane(name) || map.createPane(name);
                p.style.zIndex = z; p.style.pointerEvents = "none";
                return name;
            }
            var bgPane = pane("atlasBackground", 250), labelPane = pane("atlasBackgroundLabels", 420);
            if (!document.getElementById("atlas-bg-css")) {
                var css = document.createElement("style"); css.id = "atlas-bg-css";
                css.textContent = {{ this.css|tojson }}; document.head.appendChild(css);
            }
            var renderer = L.canvas({pane: bgPane, padding: 0.5});
            var areas = {{ this.areas|tojson }}, widths = {{ this.widths|tojson }};
            var data = {{ this.payload.features|tojson }};
            function style(f, casing) {
                var k = f.properties.k;
                if (areas[k]) { return {stroke: false, fill: true, fillOpacity: 1, fillColor: areas[k].fillColor}; }
                if (k === "waterway") { return {color: "#a9cbe6", weight: 2, opacity: 1, fill: false}; }
                var w = widths[f.properties.r] || 1.5;
                return casing ? {color: "#c4c4c4", weight: w + 1.6, opacity: 1, fill: false, lineCap: "round"}
                              : {color: "#ffffff", weight: w, opacity: 1, fill: false, lineCap: "round"};
            }
            var opts = {renderer: renderer, pane: bgPane, interactive: false, bubblingMouseEvents: false};
            var base = L.geoJSON(data, Object.assign({style: function (f) { return style(f, false); },
                filter: function (f) { return f.properties.k !== "road"; }}, opts));
            var casing = L.geoJSON(data, Object.assign({style: function (f) { return style(f, true); },
                filter: function (f) { return f.properties.k === "road"; }}, opts));
            var roads = L.geoJSON(data, Object.assign({style: function (f) { return style(f, false); },
                filter: function (f) { return f.properties.k === "road"; }}, opts));
            var minZoom = {{ this.label_zoom|tojson }};
            var labels = L.layerGroup(), markers = {{ this.payload.labels|tojson }}.map(function (p) {
                var m = L.marker([p[0], p[1]], {pane: labelPane, interactive: false, keyboard: false,
                    icon: L.divIcon({className: "atlas-bg-label atlas-bg-rank-" + p[3],
                                     html: window.atlasText("span", p[2]), iconSize: null, iconAnchor: [0, 0]})});
                m.atlasRank = p[3];
                return m;
            });
            function updateLabels() {
                var z = map.getZoom();
                markers.forEach(function (m) {
                    var on = z >= (minZoom[m.atlasRank] || 14);
                    if (on && !labels.hasLayer(m)) { labels.addLayer(m); }
                    if (!on && labels.hasLayer(m)) { labels.removeLayer(m); }
                });
            }
            map.on("zoomend", updateLabels);
            updateLabels();
            var group = L.layerGroup([base, casing, roads, labels]);
            var paper = map.getContainer().style.background;
            group.on("add", function () { map.getContainer().style.background = {{ this.land|tojson }}; });
            group.on("remove", function () { map.getContainer().style.background = paper; });
            window.atlasLayers = window.atlasLayers || {};
            window.atlasLayers["osm_background"] = {count: data.features.length, labels: markers.length,
                layer: group, drawn: function () { return base.getLayers().length + roads.getLayers().length; }};
            return group;
        })();
        {% endmacro %}
        """
    )

    def __init__(self, payload: dict[str, Any], name: str = OSM_LAYER_NAME, show: bool = True) -> None:
        super().__init__(name=name, overlay=True, control=True, show=show)
        self._name = "OsmBackground"
        self.payload = payload
        self.areas = AREA_STYLE
        self.widths = list(ROAD_WIDTH)
        self.label_zoom = {str(k): v for k, v in LABEL_MIN_ZOOM.items()}
        self.css = LABEL_CSS
        self.land = LAND_COLOR
        self.text_js = Markup(TEXT_JS)


class MapNotice(MacroElement):
    """A small German note in a map corner (e.g. why the local tiles are missing)."""

    _template = script_template(
        """
        {% macro script(this, kwargs) %}
        (function () {
            var ctl = L.control({position: "bottomleft"});
            ctl.onAdd = function () {
                var div = L.DomUtil.create("div", "atlas-legend atlas-map-notice");
                div.textContent = {{ this.text|tojson }};
                return div;
            };
            ctl.addTo({{ this._parent.get_name() }});
        })();
        {% endmacro %}
        """
    )

    def __init__(self, text: str) -> None:
        super().__init__()
        self._name = "MapNotice"
        self.text = text


def local_tiles_layer(tiles: LocalTiles, show: bool = True) -> folium.TileLayer:
    """A Leaflet tile layer of the published local tiles (scaled up beyond their highest zoom)."""
    west, south, east, north = tiles.bounds
    return folium.TileLayer(
        tiles=tiles.url,
        name=LOCAL_TILES_LAYER_NAME,
        overlay=True,
        show=show,
        attr=html.escape(tiles.attribution),
        min_zoom=6,
        max_zoom=18,
        max_native_zoom=tiles.max_zoom,
        min_native_zoom=tiles.min_zoom,
        bounds=[[south, west], [north, east]],
    )


def add_offline_backgrounds(
    m: folium.Map,
    cfg: Settings,
    local: LocalTiles | None,
    problem: str | None,
    raster_shown: bool,
    osm_file: Path | str | None = None,
) -> None:
    """Add the local tiles (first) and the OSM extract background to ``m``.

    Parameters
    ----------
    m
        The base map (before the online tile layers are added, so these come first).
    cfg
        Settings (``cache_dir`` for the uploads and the background cache).
    local
        Published local tiles, or ``None``.
    problem
        German message why the configured local tiles cannot be shown, or ``None``.
    raster_shown
        Whether an online tile layer is switched on (then the OSM background starts off).
    osm_file
        The extract to draw; ``None``: this session's most recent upload, when it is quick to draw
        (:func:`ui.uploads.default_background`).
    """
    if local is not None:
        local_tiles_layer(local, show=True).add_to(m)
    if problem:
        MapNotice(problem).add_to(m)
    path = Path(osm_file) if osm_file else default_background(cfg)
    payload = extract_payload(path, cfg) if path is not None else None
    if payload and payload["features"]["features"]:
        OsmBackgroundLayer(payload, show=local is None and not raster_shown).add_to(m)


def local_tiles(cfg: Settings, static_dir: Path | None = None) -> tuple[LocalTiles | None, str | None]:
    """The configured local tiles, published for Streamlit, or the German reason why not.

    Memoised per path and modification time, so the folder is scanned once per process.

    Parameters
    ----------
    cfg
        ``tiles_dir``: the folder or ``.mbtiles`` file; ``None`` for none.
    static_dir
        The served ``static/`` folder (default :data:`STATIC_DIR`).
    """
    static_dir = STATIC_DIR if static_dir is None else static_dir
    if cfg.tiles_dir is None:
        return None, None
    source = Path(cfg.tiles_dir).expanduser()
    try:
        mtime = source.stat().st_mtime_ns
    except OSError:
        mtime = -1
    return _local_tiles(str(source), mtime, str(static_dir))


@functools.lru_cache(maxsize=8)
def _local_tiles(source: str, _mtime_ns: int, static_dir: str) -> tuple[LocalTiles | None, str | None]:
    try:
        return publish_local_tiles(Path(source), Path(static_dir)), None
    except (OSError, IntegrationsatlasError) as exc:
        logger.warning("Lokale Kacheln nicht verfügbar: %s", exc)
        return None, str(exc)
