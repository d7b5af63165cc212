"""Large point layers on the Leaflet map: canvas markers, clustered or not.

SVG circle markers (one ``<path>`` each) are fine for a few hundred points;
with thousands the browser stalls and folium's GeoJSON payload grows to
megabytes. :class:`PointCloud` draws a layer as canvas circle markers built
from compact rows ``[lat, lon, tooltip head, values]`` (:class:`PointRows`):

* up to :data:`CANVAS_ONLY_FROM` points they are grouped with the Leaflet
  MarkerCluster plugin (served from ``/app/static``, loaded by the base map);
* above that (the ≈ 59,000 NRW stops) they are drawn unclustered on one
  shared canvas, which is faster than clustering that many markers.

Tooltips are bound once to the group (not per marker) and show the hovered
marker's tooltip rows as text (``atlasTip`` of :mod:`ui.map_script`). Every cloud registers itself in
``window.atlasLayers[<layer id>] = {count, drawn(), layer}`` so that tests
and benchmarks can check in the real browser that all points were drawn.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from branca.element import MacroElement
from markupsafe import Markup

from ui.map_script import TEXT_JS, script_template

#: Above this many points a layer is clustered (no more one SVG path per point).
CLUSTER_THRESHOLD = 500
#: From this many points on, the layer is drawn on a canvas without clustering.
CANVAS_ONLY_FROM = 20_000


@dataclass(frozen=True)
class PointRows:
    """A point layer in the compact form the browser builds its markers from.

    Tooltip labels repeat for every point of a layer (»Name«, »Art«, »Ort« …);
    they are sent once per distinct label list (``heads``) and each row holds
    only its values. For the 2,787 MSB Grundschulen the JSON the browser
    receives and parses on every open shrinks by a third (0.66 MB → 0.45 MB).

    Attributes
    ----------
    heads
        The distinct tooltip label lists.
    rows
        One ``[lat, lon, head index, values]`` per point (EPSG:4326 degrees).
    """

    heads: list[list[str]]
    rows: list[list[Any]]


def point_rows(data: Mapping[str, Any], decimals: int = 5) -> PointRows:
    """Compact rows of a point GeoJSON (EPSG:4326), tooltip labels factored out.

    Parameters
    ----------
    data
        GeoJSON ``FeatureCollection`` of points with a ``_tooltip`` property
        of ``[label, text]`` rows (see :func:`ui.maps.prepare_points`).
    decimals
        Coordinate decimals (5 decimals ≈ 1 m, plenty for a marker).

    Returns
    -------
    PointRows
        The label lists once, and one row per feature with a point geometry.

    Notes
    -----
    Input and output coordinates are EPSG:4326 degrees; GeoJSON order is
    lon/lat, Leaflet's is lat/lon.

    >>> point_rows({"features": [{"geometry": {"type": "Point", "coordinates": [7.123456, 51.5]},
    ...                           "properties": {"_tooltip": [["Name", "<b>x</b>"]]}}]})
    PointRows(heads=[['Name']], rows=[[51.5, 7.12346, 0, ['<b>x</b>']]])
    """
    feats = [f for f in data.get("features", []) if f.get("geometry") and f["geometry"].get("type") == "Point"]
    if not feats:
        return PointRows([], [])
    xy = np.round(np.array([f["geometry"]["coordinates"][:2] for f in feats], dtype="float64"), decimals)
    heads: dict[tuple[str, ...], int] = {}
    rows: list[list[Any]] = []
    for (lon, lat), feature in zip(xy.tolist(), feats, strict=True):
        tip = (feature.get("properties") or {}).get("_tooltip") or []
        head = heads.setdefault(tuple(str(label) for label, _ in tip), len(heads))
        rows.append([lat, lon, head, [value for _, value in tip]])
    return PointRows([list(h) for h in heads], rows)


#: One canvas for all point layers of a map, in its own pane above the areas.
#: The pane ignores the mouse (so the Kreise below keep their tooltips and
#: clicks); the map forwards mouse moves and clicks to the markers it hits.
POINT_RENDERER_JS = """
function atlasPointRenderer(map) {
    if (!map) { return L.canvas({padding: 0.3, tolerance: 3}); }
    if (map._atlasPoints) { return map._atlasPoints; }
    var pane = map.createPane("atlasPoints");
    pane.style.zIndex = 450;
    pane.style.pointerEvents = "none";
    var r = L.canvas({pane: "atlasPoints", padding: 0.3, tolerance: 3});
    var hovered = null;
    function hit(ev) {
        var found = null;
        for (var o = r._drawFirst; o; o = o.next) {
            var l = o.layer;
            if (l.options.interactive && l._map && l._containsPoint(ev.layerPoint)) { found = l; }
        }
        return found;
    }
    map.on("mousemove", function (ev) {
        var l = hit(ev);
        if (l !== hovered) {
            if (hovered) { hovered.fire("mouseout", ev, true); }
            if (l) { l.fire("mouseover", ev, true); }
            hovered = l;
            map.getContainer().style.cursor = l ? "pointer" : "";
        }
        if (l) { l.fire("mousemove", ev, true); }
    });
    map.on("mouseout", function (ev) { if (hovered) { hovered.fire("mouseout", ev, true); hovered = null; } });
    map.on("click", function (ev) { var l = hit(ev); if (l) { l.fire("click", ev, true); } });
    map._atlasPoints = r;
    return r;
}
"""


class PointCloud(MacroElement):
    """Many points as canvas circle markers, optionally clustered.

    Parameters
    ----------
    layer_id
        Layer id, used for the registry ``window.atlasLayers`` and CSS classes.
    points
        The markers and their tooltips (:func:`point_rows`; shown as text).
    style
        Leaflet path options of the markers (``radius``, ``fillColor`` …).
    cluster
        Group the markers with MarkerCluster (needs the plugin loaded and the
        map's ``maxZoom`` set, both done by :func:`ui.maps.base_map`).
    noun
        Plural noun for cluster tooltips, e.g. »Einrichtungen«.
    """

    _template = script_template(
        """
        {% macro script(this, kwargs) %}
        {{ this.shared_js }}
        {{ this.text_js }}
        var {{ this.get_name() }} = (function () {
            var heads = {{ this.heads|tojson }};
            var rows = {{ this.rows|tojson }};
            var style = {{ this.style|tojson }};
            var renderer = atlasPointRenderer(window.map);
            var group = {% if this.cluster %}L.markerClusterGroup({{ this.cluster_options|tojson }})
                        {%- else %}L.featureGroup(){% endif %};
            var markers = new Array(rows.length);
            for (var i = 0; i < rows.length; i++) {
                var m = L.circleMarker([rows[i][0], rows[i][1]], Object.assign({renderer: renderer}, style));
                m.atlasHead = rows[i][2];
                m.atlasValues = rows[i][3];
                markers[i] = m;
            }
            if (group.addLayers) { group.addLayers(markers); }
            else { markers.forEach(function (m) { group.addLayer(m); }); }
            group.bindTooltip(function (l) {
                if (l && l.getChildCount) {
                    return window.atlasText("span", l.getChildCount().toLocaleString("de-DE") + " "
                                                    + {{ this.noun|tojson }});
                }
                return window.atlasTip(l && l.atlasValues && heads[l.atlasHead].map(function (label, j) {
                    return [label, l.atlasValues[j]];
                }));
            }, {sticky: true, className: "atlas-tooltip"});
            window.atlasLayers = window.atlasLayers || {};
            window.atlasLayers[{{ this.layer_id|tojson }}] = {
                count: rows.length, layer: group, clustered: {{ this.cluster|tojson }},
                drawn: function () { return group.getLayers().length; }
            };
            return group;
        })();
        {{ this._parent.get_name() }}.addLayer({{ this.get_name() }});
        {% endmacro %}
        """
    )

    shared_js = Markup(POINT_RENDERER_JS)
    text_js = Markup(TEXT_JS)

    def __init__(
        self, layer_id: str, points: PointRows, style: Mapping[str, Any], *, cluster: bool, noun: str = "Standorte"
    ) -> None:
        super().__init__()
        self._name = "PointCloud"
        self.layer_id = layer_id
        self.heads = points.heads
        self.rows = points.rows
        self.style = dict(style)
        self.cluster = bool(cluster)
        self.noun = noun
        self.cluster_options = {
            "chunkedLoading": True,
            "disableClusteringAtZoom": 13,
            "maxClusterRadius": 50,
            "showCoverageOnHover": False,
            "spiderfyOnMaxZoom": False,
        }
