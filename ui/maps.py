"""Folium maps built from the layer registry only.

Two steps, so that the expensive one can be cached:

1. ``prepare_*`` turn GeoDataFrames in EPSG:25832 into small GeoJSON dicts
   for drawing: polygons simplified in metres *before* reprojecting to
   EPSG:4326, coordinates rounded to 6 decimals (about 0.1 m), and the tooltip
   as a ``_tooltip`` property: ``[label, value]`` rows of plain text.
2. ``*_layer``/``*_group`` builders wrap those dicts in folium objects that
   load Leaflet from ``/app/static`` (see :mod:`ui.static_assets`).

Text from data is never HTML or a template here: it reaches the page as JSON
and is shown with ``textContent`` (see :mod:`ui.map_script`).

Nothing here knows a particular layer: style, tooltip fields and titles come
from :class:`geo.layers.spec.LayerSpec`.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from branca.element import MacroElement
from markupsafe import Markup

from geo.formatting import de_number
from geo.layers.sources import ATTRIBUTIONS, OSM_TILES
from geo.layers.spec import LayerSpec
from geo.projection import NRW_BOUNDS_4326
from geo.settings import DISPLAY_CRS, PROJECTED_CRS, Settings
from integrationsatlas.classes import NO_DATA_COLOR, YLGNBU
from ui.basemap import Background, background
from ui.i18n import t
from ui.map_background import add_offline_backgrounds
from ui.map_controls import MetricScale, OneTooltip
from ui.map_grid import grid_image, grid_overlay_layer
from ui.map_points import CANVAS_ONLY_FROM, CLUSTER_THRESHOLD, PointCloud, point_rows
from ui.map_script import TEXT_JS, LayerControl, RowsTooltip, render_data_as_text, script_template
from ui.static_assets import LEAFLET_CSS, LEAFLET_JS, MARKERCLUSTER_CSS, MARKERCLUSTER_JS

__all__ = ["CANVAS_ONLY_FROM", "CLUSTER_THRESHOLD"]

#: Simplification tolerance in metres per boundary level at NRW zoom.
DISPLAY_TOLERANCE_M: dict[str, float] = {
    "land": 200.0,
    "regbez": 150.0,
    "kreis": 100.0,
    "gemeinde": 50.0,
    "stadtteil": 20.0,
}
#: Coordinate decimals in EPSG:4326 (1e-6 degrees is about 0.1 m).
COORD_DECIMALS = 6
NRW_CENTER: tuple[float, float] = (51.45, 7.55)
#: Extent of the Land NRW in EPSG:4326 (lon/lat), without margin: the first view.
NRW_EXTENT_4326: tuple[float, float, float, float] = (5.86, 50.32, 9.47, 52.53)
NRW_ZOOM = 8
#: German explanations of ``location_precision`` values for tooltips and the legend.
PRECISION_TEXT: dict[str, str] = {
    "Adresse": "Adresse (geokodiert)",
    "Koordinate": "Koordinate (vom Datengeber)",
    "PLZ": "PLZ-Gebiet (Schwerpunkt)",
    "Ort": "Standort auf Ortsebene",
}


# --------------------------------------------------------------------------
# step 1: data preparation (cacheable, pure)
# --------------------------------------------------------------------------


def format_values(values: pd.Series, decimals: int = 1) -> pd.Series:
    """Format numbers German-style (``17.939.936``, ``12,3``); other values as text."""
    if pd.api.types.is_bool_dtype(values.dtype):
        return values.map({True: "ja", False: "nein"}).astype("string").fillna("unbekannt")
    if pd.api.types.is_numeric_dtype(values.dtype):
        num = pd.to_numeric(values, errors="coerce").astype("float64")
        integral = bool(np.all(np.isnan(num) | (np.mod(num, 1) == 0)))
        places = 0 if integral else decimals
        return num.map(lambda v: "" if np.isnan(v) else de_number(v, places)).astype("string")
    return values.astype("string").fillna("")


def tooltip_rows(frame: pd.DataFrame, fields: Sequence[tuple[str, str]]) -> pd.Series:
    """The tooltip of every row: ``[label, value]`` pairs of plain text from ``(column, label)`` pairs.

    The browser shows them as a table with ``textContent`` (``atlasTip`` in
    :mod:`ui.map_script`), so a facility name like ``<img src=x onerror=…>``
    or ``{{ 6*7 }}`` from an imported file is shown literally and never runs.
    Missing columns and empty values are skipped; numbers are German.

    Returns
    -------
    pandas.Series
        One list of ``[label, text]`` per row, indexed like ``frame``.

    >>> tooltip_rows(pd.DataFrame({"name": ["<b>x</b>", None], "n": [1200, 3]}), [("name", "Name"), ("n", "Zahl")])
    0    [[Name, <b>x</b>], [Zahl, 1.200]]
    1                            [[Zahl, 3]]
    dtype: object
    """
    labels, texts = [], []
    for column, label in fields:
        if column in frame.columns:
            labels.append(label)
            texts.append(format_values(frame[column]).astype("string").fillna("").to_numpy(dtype=object))
    if not texts:
        return pd.Series([[] for _ in range(len(frame))], index=frame.index, dtype=object)
    rows = [[[label, v] for label, v in zip(labels, values, strict=True) if v] for values in zip(*texts, strict=True)]
    return pd.Series(rows, index=frame.index, dtype=object)


def layer_tooltip_fields(spec: LayerSpec) -> list[tuple[str, str]]:
    """The ``(column, label)`` pairs of a layer's declared tooltip, plus its type."""
    fields = []
    for name in spec.tooltip:
        try:
            fields.append((name, spec.column(name).title))
        except KeyError:
            fields.append((name, name))
    return fields


def _round_coords(geoms: gpd.GeoSeries) -> np.ndarray:
    return shapely.transform(geoms.to_numpy(), lambda xy: np.round(xy, COORD_DECIMALS))


def to_display_geojson(
    gdf: gpd.GeoDataFrame, properties: pd.DataFrame, tolerance_m: float | None = None
) -> dict[str, Any]:
    """Convert ``gdf`` to a compact GeoJSON dict in EPSG:4326 for drawing.

    Parameters
    ----------
    gdf
        Geometries in EPSG:25832.
    properties
        Feature properties, indexed like ``gdf`` (JSON-serialisable values).
    tolerance_m
        Simplification tolerance in metres for polygons; ``None`` keeps the
        geometry. Shared borders stay shared (coverage simplification).

    Returns
    -------
    dict
        A GeoJSON ``FeatureCollection``; feature ``id`` is the row position.

    Notes
    -----
    Simplifies in EPSG:25832 (metres) and only then reprojects to EPSG:4326;
    coordinates are rounded to 6 decimals (about 0.1 m).
    """
    geoms = gpd.GeoSeries(gdf.geometry.to_numpy(), crs=gdf.crs or PROJECTED_CRS)
    if tolerance_m:
        polygonal = geoms.geom_type.isin(["Polygon", "MultiPolygon"]).all()
        geoms = geoms.simplify_coverage(tolerance_m) if polygonal else geoms.simplify(tolerance_m)
    shown = gpd.GeoSeries(_round_coords(geoms.to_crs(DISPLAY_CRS)), crs=DISPLAY_CRS)
    props = properties.reset_index(drop=True)
    clean = props.astype(object).where(props.notna(), None)
    records = clean.to_dict(orient="records")
    geometries = [geom.__geo_interface__ for geom in shown.to_numpy()]
    features = [
        {"type": "Feature", "id": i, "properties": rec, "geometry": geom}
        for i, (rec, geom) in enumerate(zip(records, geometries, strict=True))
    ]
    return {"type": "FeatureCollection", "features": features}


def prepare_points(gdf: gpd.GeoDataFrame, spec: LayerSpec) -> dict[str, Any]:
    """GeoJSON of a point layer with text tooltips from its declaration.

    The tooltip shows the declared fields, the layer title (type) and the
    location precision spelled out, e.g. »Standort auf Ortsebene«.
    """
    frame = pd.DataFrame(gdf.drop(columns=gdf.geometry.name))
    if "location_precision" in frame.columns:
        prec = frame["location_precision"].astype("string")
        frame["location_precision"] = prec.map(lambda v: PRECISION_TEXT.get(v, v) if isinstance(v, str) else v)
    frame["_type"] = spec.title
    fields = [*layer_tooltip_fields(spec)[:1], ("_type", "Art"), *layer_tooltip_fields(spec)[1:]]
    props = pd.DataFrame({"_tooltip": tooltip_rows(frame, fields)}, index=frame.index)
    if spec.id_column in frame.columns:
        props["_id"] = frame[spec.id_column].astype("string")
    return to_display_geojson(gdf, props)


def prepare_polygons(
    gdf: gpd.GeoDataFrame,
    fields: Sequence[tuple[str, str]],
    tolerance_m: float | None,
    fill: pd.Series | None = None,
) -> dict[str, Any]:
    """GeoJSON of boundary polygons with text tooltips and an optional fill colour.

    Parameters
    ----------
    gdf
        Polygons in EPSG:25832 with an ``ags`` column.
    fields
        ``(column, label)`` pairs for the tooltip.
    tolerance_m
        Simplification tolerance in metres.
    fill
        Hex colour per row (the choropleth class), or ``None``.
    """
    frame = pd.DataFrame(gdf.drop(columns=gdf.geometry.name))
    props = pd.DataFrame({"_tooltip": tooltip_rows(frame, fields)}, index=frame.index)
    if "ags" in frame.columns:
        props["_id"] = frame["ags"].astype("string")
    if fill is not None:
        props["_fill"] = fill.reindex(frame.index).fillna(NO_DATA_COLOR)
    return to_display_geojson(gdf, props, tolerance_m)


def prepare_outline_mesh(gdf: gpd.GeoDataFrame, tolerance_m: float, decimals: int = 5) -> dict[str, Any]:
    """The borders of adjacent polygons as one line mesh, each shared border once (for outline layers).

    Drawing every polygon outline would send each shared border twice; the
    mesh halves the payload, and 5 decimals (about 1 m) are plenty for
    outlines at Gemeinde scale.

    Parameters
    ----------
    gdf
        Polygons in EPSG:25832 that share borders (e.g. the 396 Gemeinden).
    tolerance_m
        Simplification tolerance in metres (coverage-preserving).
    decimals
        Coordinate decimals in EPSG:4326.

    Returns
    -------
    dict
        A GeoJSON ``FeatureCollection`` with one ``MultiLineString`` feature.

    Notes
    -----
    Simplifies in EPSG:25832 (metres), then reprojects to EPSG:4326.

    >>> two = gpd.GeoDataFrame(geometry=[shapely.box(0, 0, 1000, 1000), shapely.box(1000, 0, 2000, 1000)],
    ...                        crs=PROJECTED_CRS)
    >>> mesh = prepare_outline_mesh(two, 1.0)
    >>> len(mesh["features"]), mesh["features"][0]["geometry"]["type"]
    (1, 'MultiLineString')
    """
    simplified = gpd.GeoSeries(gdf.geometry.to_numpy(), crs=gdf.crs or PROJECTED_CRS).simplify_coverage(tolerance_m)
    lines = shapely.line_merge(shapely.union_all(simplified.boundary.to_numpy()))
    shown = gpd.GeoSeries([lines], crs=PROJECTED_CRS).to_crs(DISPLAY_CRS)
    geom = shapely.transform(shown.to_numpy(), lambda xy: np.round(xy, decimals))[0]
    if geom.geom_type == "LineString":
        geom = shapely.MultiLineString([geom])
    return {
        "type": "FeatureCollection",
        "features": [{"type": "Feature", "id": 0, "properties": {}, "geometry": geom.__geo_interface__}],
    }


@dataclass(frozen=True)
class Classification:
    """Class breaks of a choropleth and the colour of every unit.

    Attributes
    ----------
    title
        Legend title (indicator with unit).
    colors
        Hex colour per unit, indexed like the input values.
    labels
        Legend entries (``"12,3 – 15,0"``), one per class, in order.
    palette
        Colour of each class, aligned with ``labels``.
    has_missing
        Whether some units have no value (drawn grey, »keine Angabe«).
    """

    title: str
    colors: pd.Series
    labels: tuple[str, ...]
    palette: tuple[str, ...]
    has_missing: bool


def classify(
    values: pd.Series, title: str, k: int = 5, decimals: int = 1, palette: Mapping[int, tuple[str, ...]] = YLGNBU
) -> Classification:
    """Classify ``values`` into ``k`` quantile classes (equal numbers of units).

    Quantile breaks suit the skewed Kreis figures (a few large cities) and
    keep every colour in use; tied breaks are merged, so there may be fewer
    than ``k`` classes. Class ``i`` holds values in ``(b[i-1], b[i]]``.

    Parameters
    ----------
    values
        One number per unit; NaN means no data.
    title
        Legend title.
    k
        Wanted number of classes.
    decimals
        Decimals shown in the legend.
    palette
        Colour ramp by class count, light to dark (colour-blind safe).

    >>> c = classify(pd.Series([1.0, 2.0, 3.0, 4.0, None]), "Test", k=2, decimals=0)
    >>> c.labels, c.colors.tolist()
    (('1 – 2', '2 – 4'), ['#a1dab4', '#a1dab4', '#225ea8', '#225ea8', '#d9d9d9'])
    """
    num = pd.to_numeric(values, errors="coerce").astype("float64")
    known = num.dropna()
    if known.empty:
        return Classification(title, pd.Series(NO_DATA_COLOR, index=values.index), (), (), True)
    k = max(1, min(k, max(palette)))
    qs = np.quantile(known.to_numpy(), np.linspace(0, 1, k + 1))
    edges = np.unique(qs)
    if len(edges) == 1:
        edges = np.array([edges[0], edges[0]])
    upper = edges[1:]
    n = len(upper)
    cls = np.searchsorted(upper, known.to_numpy(), side="left").clip(0, n - 1)
    colors_k = palette[n]
    colors = pd.Series(NO_DATA_COLOR, index=values.index, dtype=object)
    colors.loc[known.index] = np.asarray(colors_k, dtype=object)[cls]
    labels = tuple(
        de_number(edges[1], decimals)
        if edges[0] == edges[1]
        else f"{de_number(edges[i], decimals)} – {de_number(edges[i + 1], decimals)}"
        for i in range(n)
    )
    return Classification(title, colors, labels, tuple(colors_k), bool(num.isna().any()))


def classify_fixed(
    values: pd.Series,
    breaks: Sequence[float],
    title: str,
    decimals: int = 0,
    palette: Mapping[int, tuple[str, ...]] = YLGNBU,
    lower: float | None = None,
) -> Classification:
    """Classify ``values`` by fixed upper class limits ``breaks`` (for comparable maps).

    ``lower`` is the lower edge of the first class (default: 0, or the
    smallest value when it is negative).

    >>> c = classify_fixed(pd.Series([10.0, 60.0, 99.0]), (50, 90, 100), "Anteil")
    >>> c.labels
    ('0 – 50', '50 – 90', '90 – 100')
    >>> c.colors.tolist() == [YLGNBU[3][0], YLGNBU[3][1], YLGNBU[3][2]]
    True
    >>> classify_fixed(pd.Series([-3.0, 8.0]), (-5, -1e-9, 1e-9, 5, 10), "Δ", lower=-10).labels[:3]
    ('-10 – -5', '-5 – 0', '0 – 0')
    """
    num = pd.to_numeric(values, errors="coerce").astype("float64")
    upper = np.asarray(breaks, dtype="float64")
    n = len(upper)
    known = num.dropna()
    cls = np.searchsorted(upper, known.to_numpy(), side="left").clip(0, n - 1)
    colors = pd.Series(NO_DATA_COLOR, index=values.index, dtype=object)
    colors.loc[known.index] = np.asarray(palette[n], dtype=object)[cls]
    first = lower if lower is not None else min(0.0, float(known.min())) if len(known) else 0.0
    edges = [first, *upper]
    labels = tuple(f"{de_number(edges[i], decimals)} – {de_number(edges[i + 1], decimals)}" for i in range(n))
    return Classification(title, colors, labels, tuple(palette[n]), bool(num.isna().any()))


# --------------------------------------------------------------------------
# step 2: folium objects
# --------------------------------------------------------------------------


def _offline(element: Any, js: Sequence[tuple[str, str]], css: Sequence[tuple[str, str]]) -> Any:
    """Point an element's assets at ``/app/static`` (never a CDN)."""
    element.default_js = list(js)
    element.default_css = list(css)
    return element


class AttributionNote(MacroElement):
    """Add the data attribution lines to Leaflet's attribution control (which writes HTML: escaped)."""

    _template = script_template(
        """
        {% macro script(this, kwargs) %}
        {{ this._parent.get_name() }}.attributionControl.setPrefix(false);
        {%- for line in this.lines %}
        {{ this._parent.get_name() }}.attributionControl.addAttribution({{ line|tojson }});
        {%- endfor %}
        {% endmacro %}
        """
    )

    def __init__(self, lines: Sequence[str]) -> None:
        super().__init__()
        self._name = "AttributionNote"
        self.lines = [html.escape(line) for line in lines]


class Legend(MacroElement):
    """A legend control that lives inside a feature group, built from :func:`legend_rows` as text.

    It is a Leaflet layer whose ``onAdd`` adds a control, so it appears and
    disappears with the feature group it belongs to (also when
    streamlit-folium swaps the group on a rerun). Every text goes in as
    ``textContent``; colours as a CSS background.
    """

    _template = script_template(
        """
        {% macro script(this, kwargs) %}
        {{ this.text_js }}
        var {{ this.get_name() }} = new (L.Layer.extend({
            onAdd: function (map) {
                var rows = /* atlas-legend */ {{ this.rows|tojson }};
                var ctl = L.control({position: {{ this.position|tojson }}});
                ctl.onAdd = function () {
                    var div = L.DomUtil.create("div", "atlas-legend");
                    var details = document.createElement("details");
                    // open on a large map; on a laptop-sized one it starts folded and opens on click
                    details.open = map.getSize().x >= {{ this.open_from_px }};
                    details.appendChild(window.atlasText("summary", {{ this.title|tojson }}));
                    rows.forEach(function (r, i) {
                        var line;
                        if (r[0] === "title") {
                            line = window.atlasText("div", r[1], "atlas-legend-title");
                            if (i > 0) { line.style.marginTop = "4px"; }
                        } else if (r[0] === "note") {
                            line = document.createElement("div");
                            line.appendChild(window.atlasText("small", r[1]));
                        } else {
                            line = document.createElement("div");
                            var swatch = document.createElement("i");
                            if (r[0] === "symbol") { swatch.className = "atlas-dot"; }
                            swatch.style.background = r[1];
                            line.appendChild(swatch);
                            line.appendChild(document.createTextNode(r[2]));
                        }
                        details.appendChild(line);
                    });
                    div.appendChild(details);
                    L.DomEvent.disableClickPropagation(div);
                    L.DomEvent.disableScrollPropagation(div);
                    return div;
                };
                this._ctl = ctl.addTo(map);
            },
            onRemove: function (map) { if (this._ctl) { map.removeControl(this._ctl); } }
        }))();
        {{ this._parent.get_name() }}.addLayer({{ this.get_name() }});
        {% endmacro %}
        """
    )

    #: Map width (px) from which the legend starts unfolded.
    OPEN_FROM_PX = 760

    def __init__(self, rows: Sequence[Sequence[str]], position: str = "bottomright", title: str | None = None) -> None:
        super().__init__()
        self._name = "Legend"
        self.rows = [list(r) for r in rows]
        self.position = position
        self.open_from_px = self.OPEN_FROM_PX
        self.title = t("map.legend") if title is None else title  # text: set as textContent
        self.text_js = Markup(TEXT_JS)


def legend_rows(
    classification: Classification | None = None,
    symbols: Sequence[tuple[str, str]] = (),
    notes: Sequence[str] = (),
    symbols_title: str = "Einrichtungen",
) -> list[list[str]]:
    """The map legend as plain-text rows: choropleth classes, point symbols and notes.

    Rows are ``["title", text]``, ``["class", colour, text]``, ``["symbol",
    colour, text]`` and ``["note", text]``; :class:`Legend` shows them as text.

    >>> legend_rows(symbols=[("#0072B2", "Kitas <neu>")], notes=["{{ x }}"])
    [['title', 'Einrichtungen'], ['symbol', '#0072B2', 'Kitas <neu>'], ['note', '{{ x }}']]
    """
    rows: list[list[str]] = []
    if classification is not None and classification.labels:
        rows.append(["title", classification.title])
        rows += [
            ["class", color, label] for color, label in zip(classification.palette, classification.labels, strict=True)
        ]
        if classification.has_missing:
            rows.append(["class", NO_DATA_COLOR, t("map.no_data")])
    if symbols:
        rows.append(["title", symbols_title])
        rows += [["symbol", color, label] for color, label in symbols]
    rows += [["note", n] for n in notes]
    return rows


def base_map(
    outlines: Sequence[tuple[LayerSpec, dict[str, Any]]] = (),
    center: tuple[float, float] = NRW_CENTER,
    zoom: int = NRW_ZOOM,
    height: int = 620,
    fit_nrw: bool = True,
    tiles: Background | None = None,
    osm_file: str | None = None,
) -> folium.Map:
    """The stable base map: background tiles when reachable, outlines, attribution.

    Online background maps (basemap.de grau/farbig, OpenStreetMap) are
    switched on automatically when the tile server is reachable and off when
    not (see :mod:`ui.basemap`; ``INTEGRATIONSATLAS_TILES=off`` for
    air-gapped installations). Leaflet itself comes from ``/app/static``.

    Parameters
    ----------
    outlines
        ``(spec, geojson)`` pairs drawn as unfilled outlines (Land, Regierungsbezirke).
    tiles
        Background decision; ``None`` decides from the environment's settings.
    osm_file
        OSM extract drawn as the offline background (:mod:`ui.map_background`);
        ``None``: the most recently uploaded one, if any.
    """
    render_data_as_text()  # one template pass: data in any element is never evaluated (ui.map_script)
    m = folium.Map(
        location=list(center),
        zoom_start=zoom,
        tiles=None,
        control_scale=False,  # MetricScale below: Leaflet's default bar shows miles too
        zoom_snap=0.25,
        zoom_delta=0.5,
        min_zoom=6,
        max_zoom=18,
        max_bounds=True,
        prefer_canvas=False,
        height=height,
        min_lat=NRW_BOUNDS_4326[1] - 1.5,
        max_lat=NRW_BOUNDS_4326[3] + 1.5,
        min_lon=NRW_BOUNDS_4326[0] - 2.5,
        max_lon=NRW_BOUNDS_4326[2] + 2.5,
    )
    # streamlit-folium loads scripts only when the map is first mounted, so the
    # MarkerCluster plugin must come with the base map, not with a later layer.
    _offline(m, (*LEAFLET_JS, *MARKERCLUSTER_JS), (*LEAFLET_CSS, *MARKERCLUSTER_CSS))
    # folium passes min/max zoom to tile layers only; MarkerCluster needs the map's maxZoom.
    m.options["minZoom"] = 6
    m.options["maxZoom"] = 18
    MetricScale().add_to(m)
    OneTooltip().add_to(m)  # tooltips of different layers never stack over each other
    cfg = Settings.from_env()
    shown = background(cfg) if tiles is None else tiles
    add_offline_backgrounds(m, cfg, shown.local, shown.problem, shown.shown is not None, osm_file)
    for source, title in shown.offered:
        folium.TileLayer(
            tiles=source.url,
            name=f"{title} (online)",
            overlay=True,
            show=source.id == shown.shown,
            attr=source.attribution,
            max_zoom=19 if source.id == OSM_TILES.id else 18,
        ).add_to(m)
    for spec, data in outlines:
        outline_layer(spec, data).add_to(m)
    if fit_nrw:
        minx, miny, maxx, maxy = NRW_EXTENT_4326
        m.fit_bounds([[miny, minx], [maxy, maxx]])
    AttributionNote(ATTRIBUTIONS).add_to(m)
    return m


def _with_tooltip(layer: folium.GeoJson) -> folium.GeoJson:
    """``layer`` with the text tooltip of its features' ``_tooltip`` rows (:class:`ui.map_script.RowsTooltip`)."""
    RowsTooltip().add_to(layer)
    return layer


def outline_layer(spec: LayerSpec, data: dict[str, Any], name: str | None = None) -> folium.GeoJson:
    """Unfilled boundary outlines in the layer's declared style."""
    style = {
        "color": spec.style.color,
        "weight": spec.style.weight,
        "fill": False,
        "className": f"atlas-outline atlas-layer-{spec.id}",
    }
    return folium.GeoJson(
        data,
        name=name or spec.title,
        style_function=lambda _f: style,
        tooltip=None,
        interactive=False,
    )


#: Outline of the selected area: dark and thick, so it reads over every colour class (and without colour).
SELECTED_STYLE = {"color": "#111111", "weight": 4, "opacity": 1.0, "fill": False}


def selected_layer(data: dict[str, Any], ags: str, name: str) -> folium.GeoJson:
    """The outline of the selected area (CSS class ``atlas-selected atlas-selected-<AGS>``, tests look for it)."""
    style = {**SELECTED_STYLE, "className": f"atlas-selected atlas-selected-{html.escape(ags, quote=True)}"}
    return folium.GeoJson(data, name=name, style_function=lambda _f: style, tooltip=None, interactive=False)


class FadeOnZoom(MacroElement):
    """Make a filled layer more transparent from a zoom level on, so the background shows through.

    At Land or Kreis scale a choropleth needs strong colours; zoomed into a
    town, a planner wants to see streets, built-up areas and place names
    under it (the offline OSM background or tiles).
    """

    _template = script_template(
        """
        {% macro script(this, kwargs) %}
        (function (layer) {
            function fade() {
                var map = layer._map;
                if (map) { layer.setStyle({fillOpacity: map.getZoom() >= {{ this.zoom }} ? {{ this.faded }}
                                                                                    : {{ this.opacity }}}); }
            }
            function attach() { fade(); layer._map.off("zoomend", fade).on("zoomend", fade); }
            layer.on("add", attach);
            if (layer._map) { attach(); }  // streamlit-folium may add the layer before this script runs
            // folium's highlight resets a feature's style on mouseout: fade it again afterwards
            layer.on("mouseout", function (e) {
                if (layer._map && layer._map.getZoom() >= {{ this.zoom }}) {
                    e.layer.setStyle({fillOpacity: {{ this.faded }}});
                }
            });
            layer.on("remove", function (e) { e.target._map && e.target._map.off("zoomend", fade); });
        })({{ this._parent.get_name() }});
        {% endmacro %}
        """
    )

    def __init__(self, opacity: float, faded: float = 0.3, zoom: int = 10) -> None:
        super().__init__()
        self._name = "FadeOnZoom"
        self.opacity, self.faded, self.zoom = opacity, faded, zoom


def choropleth_layer(spec: LayerSpec | str, data: dict[str, Any], name: str, opacity: float = 0.75) -> folium.GeoJson:
    """Filled boundary polygons coloured by their ``_fill`` property, with tooltips.

    ``spec`` is the boundary layer, or the id of another level (an area set), for the CSS class only.

    From zoom 10 on the fill fades to 30 % (:class:`FadeOnZoom`), so that the
    background map is readable inside a town.
    """
    css = spec if isinstance(spec, str) else spec.id
    base = {"color": "#555555", "weight": 0.8, "fillOpacity": opacity, "className": f"atlas-area atlas-layer-{css}"}
    layer = folium.GeoJson(
        data,
        name=name,
        style_function=lambda f: {**base, "fillColor": f["properties"].get("_fill") or NO_DATA_COLOR},
        highlight_function=lambda _f: {"weight": 2.5, "color": "#1f4e79"},
    )
    _with_tooltip(layer)
    FadeOnZoom(opacity).add_to(layer)
    return layer


def area_layer(data: dict[str, Any], name: str, color: str, opacity: float = 0.12) -> folium.GeoJson:
    """Polygons in one colour (isochrones, buffers): clear outline, light fill, with the escaped ``_tooltip``.

    The outline has a white halo (``.atlas-isochrone`` in the map stylesheet), so it
    stays visible on a dark choropleth class as on a light background.
    """
    style = {
        "color": color,
        "weight": 2.8,
        "opacity": 0.95,
        "fillColor": color,
        "fillOpacity": opacity,
        "className": "atlas-area atlas-isochrone",
    }
    return _with_tooltip(
        folium.GeoJson(
            data,
            name=name,
            style_function=lambda _f: style,
            highlight_function=lambda _f: {"weight": 3.5, "fillOpacity": min(opacity + 0.15, 0.6)},
        )
    )


#: Colours of isochrones by travel minutes (up to the key), light to dark purple (colour-blind safe).
ISOCHRONE_COLORS: tuple[tuple[float, str], ...] = (
    (5, "#9e9ac8"),
    (10, "#807dba"),
    (15, "#6a51a3"),
    (30, "#54278f"),
    (float("inf"), "#3f007d"),
)


def isochrone_color(minutes: float) -> str:
    """The outline/fill colour of an isochrone of ``minutes`` travel time.

    >>> isochrone_color(15), isochrone_color(45)
    ('#6a51a3', '#3f007d')
    """
    return next(color for limit, color in ISOCHRONE_COLORS if minutes <= limit)


def area_points(data: dict[str, Any], name: str, color: str | None = None, radius: int = 4) -> folium.GeoJson:
    """Small circle markers coloured by their ``_fill`` property (or ``color``), with tooltips."""
    base = {
        "radius": radius,
        "color": "#ffffff",
        "weight": 0.6,
        "fill": True,
        "fillOpacity": 0.9,
        "className": "atlas-point atlas-demand",
    }
    return _with_tooltip(
        folium.GeoJson(
            data,
            name=name,
            marker=folium.CircleMarker(radius=radius),
            style_function=lambda f: {**base, "fillColor": color or f["properties"].get("_fill") or NO_DATA_COLOR},
        )
    )


def points_layer(
    spec: LayerSpec, data: dict[str, Any], name: str | None = None, color: str | None = None
) -> folium.map.Layer | PointCloud:
    """A point layer: SVG circle markers when small, canvas markers (clustered) when large.

    Up to :data:`CLUSTER_THRESHOLD` points each marker is an SVG path with the
    CSS class ``atlas-point atlas-layer-<id>`` (tests count them). Larger
    layers become a :class:`ui.map_points.PointCloud`: canvas markers,
    clustered up to :data:`CANVAS_ONLY_FROM` points, plain canvas above.
    """
    n = len(data["features"])
    if n > CLUSTER_THRESHOLD:
        style = {
            "radius": spec.style.radius,
            "color": "#ffffff",
            "weight": min(spec.style.weight, 0.8),
            "fill": True,
            "fillColor": color or spec.style.color,
            "fillOpacity": spec.style.fill_opacity,
        }
        return PointCloud(spec.id, point_rows(data), style, cluster=n < CANVAS_ONLY_FROM, noun=spec.title)
    style = {
        "radius": spec.style.radius,
        "color": "#ffffff",
        "weight": spec.style.weight,
        "fill": True,
        "fillColor": color or spec.style.color,
        "fillOpacity": spec.style.fill_opacity,
        "className": f"atlas-point atlas-layer-{spec.id}",
    }
    return _with_tooltip(
        folium.GeoJson(
            data,
            name=name or spec.title,
            marker=folium.CircleMarker(radius=spec.style.radius),
            style_function=lambda _f: style,
        )
    )


def grid_overlay(
    cells_gdf: gpd.GeoDataFrame,
    values: pd.Series,
    classification: Classification,
    name: str | None = None,
    opacity: float = 1.0,
) -> folium.raster_layers.ImageOverlay:
    """Per-cell values (e.g. 100 m cells: covered yes/no, minutes, gap score) as one PNG overlay.

    Parameters
    ----------
    cells_gdf
        Square cells (polygons or centre points) in EPSG:25832.
    values
        Value per cell, indexed like ``cells_gdf``; NaN cells stay transparent.
    classification
        Colours per cell (e.g. from :func:`classify` or :func:`classify_fixed` of ``values``);
        put ``Legend(legend_rows(classification))`` into the same feature group.
    name
        Layer name in the layer control (default: the classification title).

    Notes
    -----
    The image is sampled in EPSG:3857 pixels (half a cell wide, at most
    :data:`ui.map_grid.MAX_SIDE_PX` per side), so it is a few hundred kB for
    all of NRW instead of tens of thousands of SVG paths.
    """
    colors = classification.colors.reindex(cells_gdf.index).where(values.reindex(cells_gdf.index).notna())
    return grid_overlay_layer(grid_image(cells_gdf, colors), name or classification.title, opacity)


class NumberedSites(MacroElement):
    """Numbered site markers: a divIcon whose number is an element with ``textContent`` (local CSS only).

    Parameters
    ----------
    sites
        Records of :func:`site_records`: ``lat``, ``lon``, ``label`` (the text
        in the marker), ``css`` (its CSS classes) and ``tooltip`` (rows).
    size
        Marker size in pixels.
    """

    _template = script_template(
        """
        {% macro script(this, kwargs) %}
        {{ this.text_js }}
        var {{ this.get_name() }} = L.layerGroup();
        {{ this.sites|tojson }}.forEach(function (s) {
            L.marker([s.lat, s.lon], {icon: L.divIcon({
                className: "", iconSize: [{{ this.size }}, {{ this.size }}],
                iconAnchor: [{{ this.size // 2 }}, {{ this.size // 2 }}],
                html: window.atlasText("div", s.label, s.css)})})
             .bindTooltip(function () { return window.atlasTip(s.tooltip); })
             .addTo({{ this.get_name() }});
        });
        {{ this._parent.get_name() }}.addLayer({{ this.get_name() }});
        {% endmacro %}
        """
    )

    def __init__(self, sites: Sequence[Mapping[str, Any]], size: int = 26) -> None:
        super().__init__()
        self._name = "NumberedSites"
        self.sites = [dict(s) for s in sites]
        self.size = int(size)
        self.text_js = Markup(TEXT_JS)


#: CSS classes of a site marker: a new site, an existing (fixed) one, a clicked candidate.
SITE_CSS = "atlas-site-number"
FIXED_SITE_CSS = "atlas-site-number atlas-site-fixed"
CANDIDATE_CSS = "atlas-candidate"


def site_records(
    points: gpd.GeoDataFrame,
    label_column: str,
    tooltip_fields: Sequence[tuple[str, str]],
    fixed_column: str | None = None,
) -> list[dict[str, Any]]:
    """Records for :class:`NumberedSites`, numbered by ``label_column`` (selection order 1, 2, 3…).

    Parameters
    ----------
    points
        Site points in EPSG:25832.
    label_column
        Column with the number shown in the marker.
    tooltip_fields
        ``(column, label)`` pairs for the tooltip (text).
    fixed_column
        Boolean column marking existing (fixed) sites, drawn grey (``fixed`` is ``True``).
    """
    shown = points.to_crs(DISPLAY_CRS)
    tips = tooltip_rows(pd.DataFrame(points.drop(columns=points.geometry.name)), tooltip_fields)
    fixed = points[fixed_column].fillna(False).astype(bool) if fixed_column else pd.Series(False, index=points.index)
    sites = pd.DataFrame(
        {
            "lat": np.round(shown.geometry.y, COORD_DECIMALS),
            "lon": np.round(shown.geometry.x, COORD_DECIMALS),
            "label": points[label_column].astype("string").fillna(""),
            "css": np.where(fixed, FIXED_SITE_CSS, SITE_CSS),
            "fixed": fixed.to_numpy(),
            "tooltip": tips,
        }
    )
    return [
        {str(k): (v.item() if isinstance(v, np.generic) else v) for k, v in rec.items()}
        for rec in sites.to_dict(orient="records")
    ]


def feature_group(name: str, *children: Any, show: bool = True) -> folium.FeatureGroup:
    """A named overlay for ``st_folium(feature_group_to_add=...)``."""
    group = folium.FeatureGroup(name=name, show=show)
    for child in children:
        child.add_to(group)
    return group


def layer_control(collapsed: bool = False) -> folium.LayerControl:
    """The layer control (expanded by default, so layers are visible at a glance); names shown as text."""
    return LayerControl(collapsed=collapsed, position="topright")


def html_size(m: folium.Map) -> int:
    """Size in bytes of the standalone HTML of ``m`` (for the benchmarks)."""
    return len(m.get_root().render().encode("utf-8"))


def bounds_of(gdf: gpd.GeoDataFrame, width_px: int = 480) -> tuple[tuple[float, float], int]:
    """Centre (lat, lon) and the largest zoom at which ``gdf`` (EPSG:25832) fits a map.

    Parameters
    ----------
    gdf
        Geometries in EPSG:25832.
    width_px
        Smaller side of the map in pixels.

    Notes
    -----
    Web-Mercator pixels shrink with cos(latitude): at zoom ``z`` one pixel is
    ``40 075 016 m · cos(lat) / (256 · 2^z)``; the zoom is the largest whose
    ``width_px`` cover the larger side of the bounding box (metres).

    >>> box = gpd.GeoDataFrame(geometry=[shapely.box(290_000, 5_610_000, 330_000, 5_650_000)], crs=PROJECTED_CRS)
    >>> bounds_of(box)[1]
    10
    """
    minx, miny, maxx, maxy = gdf.total_bounds
    side = max(maxx - minx, maxy - miny, 1.0)
    centre = gpd.GeoSeries([shapely.Point((minx + maxx) / 2, (miny + maxy) / 2)], crs=PROJECTED_CRS)
    pt = centre.to_crs(DISPLAY_CRS).iloc[0]
    metres_per_px_z0 = 40_075_016.0 * np.cos(np.radians(pt.y)) / 256.0
    zoom = int(np.clip(np.floor(np.log2(metres_per_px_z0 * width_px / side)), 6, 15))
    return (round(pt.y, COORD_DECIMALS), round(pt.x, COORD_DECIMALS)), zoom
