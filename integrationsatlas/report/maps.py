"""Static report maps drawn with matplotlib at a fixed extent per area (EPSG:25832)."""

from __future__ import annotations

import io
import logging
import textwrap
from collections.abc import Sequence
from typing import Any, Literal

import geopandas as gpd
import numpy as np
import pandas as pd
from matplotlib import patheffects
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch, Rectangle
from matplotlib.text import Text
from matplotlib.transforms import Bbox

from geo.formatting import de_int
from geo.layers.registry import REGISTRY
from geo.settings import PROJECTED_CRS
from integrationsatlas.classes import NO_DATA_COLOR, SHARE_COLORS, share_colors, share_labels
from integrationsatlas.report.model import LEGEND_BAND_IN, MAP_ASPECT, MAP_DPI, MAP_WIDTH_MM, ReportArea

logger = logging.getLogger(__name__)

ReportFormat = Literal["pdf", "html"]

#: Characters per line of the attribution in a map's corner (it must never run off the map).
ATTRIBUTION_WRAP = 95

# --- maps -----------------------------------------------------------------------


def _new_map(extent: tuple[float, float, float, float]) -> tuple[Figure, Any]:
    """A figure of the fixed map size: the map on top, a band for the legend below it."""
    width_in = MAP_WIDTH_MM / 25.4
    map_in = width_in / MAP_ASPECT
    fig = Figure(figsize=(width_in, map_in + LEGEND_BAND_IN), dpi=MAP_DPI)
    FigureCanvasAgg(fig)  # a renderer to measure labels with (label_units, place_numbers)
    band = LEGEND_BAND_IN / (map_in + LEGEND_BAND_IN)
    ax = fig.add_axes((0.0, band, 1.0, 1.0 - band))
    ax.set_xlim(extent[0], extent[2])
    ax.set_ylim(extent[1], extent[3])
    ax.set_aspect("equal", adjustable="box")
    ax.set_autoscale_on(False)
    ax.set_axis_off()
    ax.add_patch(
        Rectangle(
            (extent[0], extent[1]),
            extent[2] - extent[0],
            extent[3] - extent[1],
            facecolor="#f7f7f7",
            edgecolor="none",
            zorder=0,
        )
    )
    return fig, ax


def _finish_map(fig: Figure, ax: Any, extent: tuple[float, float, float, float], attribution: str) -> bytes:
    """Scale bar, north arrow, attribution and frame; return PNG bytes."""
    minx, miny, maxx, maxy = extent
    ax.set_xlim(minx, maxx)  # GeoPandas' plot() autoscales: restore the fixed extent
    ax.set_ylim(miny, maxy)
    width = maxx - minx
    target = width / 5
    nice = max(v for v in (1, 2, 5, 10, 20, 25, 50, 100, 200) if v * 1000 <= max(target, 1000))
    x0, y0 = minx + 0.03 * width, miny + 0.05 * (maxy - miny)
    ax.add_patch(Rectangle((x0, y0), nice * 1000, 0.008 * (maxy - miny), facecolor="#222222", zorder=9))
    ax.text(x0, y0 + 0.015 * (maxy - miny), f"{nice} km", fontsize=7, zorder=9, va="bottom")
    ax.annotate(
        "N",
        xy=(maxx - 0.04 * width, maxy - 0.05 * (maxy - miny)),
        xytext=(maxx - 0.04 * width, maxy - 0.13 * (maxy - miny)),
        ha="center",
        va="center",
        fontsize=9,
        fontweight="bold",
        zorder=9,
        arrowprops={"arrowstyle": "-|>", "color": "#222222", "lw": 1.2},
    )
    ax.text(
        maxx - 0.01 * width,
        miny + 0.012 * (maxy - miny),
        "\n".join(textwrap.wrap(attribution, ATTRIBUTION_WRAP)),
        fontsize=5.5,
        ha="right",
        va="bottom",
        zorder=9,
        color="#333333",
        bbox={"facecolor": "white", "alpha": 0.8, "edgecolor": "none", "pad": 1.5},
    )
    ax.add_patch(Rectangle((minx, miny), width, maxy - miny, facecolor="none", edgecolor="#999999", lw=0.8, zorder=10))
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=MAP_DPI, metadata={"Software": None})
    return buf.getvalue()


def _share_colors(share: pd.Series) -> list[str]:
    return share_colors(100.0 * pd.to_numeric(share, errors="coerce").to_numpy(dtype=float))


def _share_legend() -> list[Any]:
    handles: list[Any] = [
        Patch(facecolor=c, edgecolor="#666666", label=f"{label} versorgt")
        for c, label in zip(SHARE_COLORS, share_labels(), strict=True)
    ]
    handles.append(Patch(facecolor=NO_DATA_COLOR, edgecolor="#666666", label="keine Nachfrage"))
    return handles


def _draw_context(ax: Any, context: gpd.GeoDataFrame, area: ReportArea) -> None:
    """Neighbouring Kreise in grey, the area's outline on top."""
    context.plot(ax=ax, facecolor="#ececec", edgecolor="#b0b0b0", linewidth=0.5, zorder=1)
    gpd.GeoSeries([area.geometry], crs=PROJECTED_CRS).plot(
        ax=ax, facecolor="none", edgecolor="#222222", linewidth=1.6, zorder=6
    )


#: White halo of unit labels, so a name stays legible on every class colour and on the background.
LABEL_HALO = [patheffects.withStroke(linewidth=2.2, foreground="white")]


def label_units(ax: Any, *frames: gpd.GeoDataFrame, avoid: Sequence[Any] = (), fontsize: float = 6.5) -> list[Any]:
    """Label each unit with its name (plain text, white halo) where the label fits.

    Units are labelled largest first, at a point inside the unit that lies in
    the map's extent; a label that would overlap one already placed, or run
    off the map, is left out. Later ``frames`` (e.g. the neighbouring Kreise)
    only fill the space the earlier ones left. Frames without a ``name``
    column are skipped; no label covers one of the texts in ``avoid`` (site numbers).

    Returns
    -------
    list
        The placed :class:`matplotlib.text.Text` objects.
    """
    renderer = ax.figure.canvas.get_renderer()
    ax_box = ax.get_window_extent(renderer)
    xmin, xmax = ax.get_xlim()
    ymin, ymax = ax.get_ylim()
    frame_box = _box((xmin, ymin, xmax, ymax))
    placed: list[Any] = []
    for gdf, weight in zip(frames, ("bold", "normal"), strict=False):
        if "name" not in gdf.columns or not len(gdf):
            continue
        shown = gdf[gdf["name"].notna()].copy()
        shown["_visible"] = shown.geometry.intersection(frame_box)
        shown = shown[~shown["_visible"].is_empty]
        order = shown["_visible"].area.sort_values(ascending=False, kind="stable").index
        for idx in order:
            point = shown.at[idx, "_visible"].representative_point()
            text = ax.text(
                point.x,
                point.y,
                str(shown.at[idx, "name"]),
                fontsize=fontsize,
                fontweight=weight,
                color="#222222",
                ha="center",
                va="center",
                zorder=8.5,
                path_effects=LABEL_HALO,
                parse_math=False,  # a name is text: »$…$« must not be read as mathtext
            )
            box = text.get_window_extent(renderer)
            inside = ax_box.x0 <= box.x0 and box.x1 <= ax_box.x1 and ax_box.y0 <= box.y0 and box.y1 <= ax_box.y1
            if not inside or any(box.overlaps(p.get_window_extent(renderer)) for p in (*avoid, *placed)):
                text.remove()
                continue
            placed.append(text)
    return placed


#: Offsets (points) tried in turn for a site number that would cover another one: rings around the site.
NUMBER_OFFSETS: tuple[tuple[float, float], ...] = ((0.0, 0.0),) + tuple(
    (r * np.cos(a), r * np.sin(a)) for r in (14.0, 24.0, 34.0, 46.0) for a in np.radians(np.arange(90, 450, 45))
)


#: Padding of a site number's round box, in font sizes.
NUMBER_PAD = 0.25


def number_box(text: Any, renderer: Any) -> Any:
    """The display-coordinate extent (pixels) of a number's round box, not just of its digits or leader line."""
    text.update_positions(renderer)  # an Annotation knows where its text sits only after this
    digits = Text.get_window_extent(text, renderer)  # its own extent would include the leader line
    pad = NUMBER_PAD * text.get_fontsize() * renderer.points_to_pixels(1.0)
    r = max(digits.width, digits.height) / 2 + pad
    cx, cy = (digits.x0 + digits.x1) / 2, (digits.y0 + digits.y1) / 2
    return Bbox.from_extents(cx - r, cy - r, cx + r, cy + r)


def place_numbers(ax: Any, xs: np.ndarray, ys: np.ndarray, numbers: Sequence[Any], color: str) -> list[Any]:
    """Number the new sites in a round box each, moved apart so that no two boxes overlap.

    A number sits on its site when there is room; otherwise it is shifted to
    the first free place on rings around the site (:data:`NUMBER_OFFSETS`)
    and joined to the site by a thin leader line. Only when more sites crowd
    one spot than the rings hold does a number take the outermost place anyway.

    Returns
    -------
    list
        The placed number texts (matplotlib annotations), in the order of ``numbers``.
    """
    renderer = ax.figure.canvas.get_renderer()
    placed: list[Any] = []
    for x, y, number in zip(xs, ys, numbers, strict=True):
        for dx, dy in NUMBER_OFFSETS:
            moved = bool(dx or dy)
            text = ax.annotate(
                de_int(number),
                xy=(x, y),
                xytext=(dx, dy),
                textcoords="offset points",
                ha="center",
                va="center",
                fontsize=7,
                fontweight="bold",
                color="white",
                zorder=12,
                bbox={
                    "boxstyle": f"circle,pad={NUMBER_PAD}",
                    "facecolor": color,
                    "edgecolor": "white",
                    "linewidth": 1.0,
                },
                arrowprops={"arrowstyle": "-", "color": "#333333", "lw": 0.7} if moved else None,
            )
            box = number_box(text, renderer)
            if (dx, dy) == NUMBER_OFFSETS[-1] or not any(box.overlaps(number_box(p, renderer)) for p in placed):
                break
            text.remove()
        placed.append(text)
    return placed


#: Widest map extent (m) that still labels villages and suburbs.
PLACE_DETAIL_WIDTH_M = 20_000.0
#: Quiet colours of the OSM background in report maps (as on screen, see ui.map_background).
BACKGROUND_STYLE: dict[str, dict[str, Any]] = {
    "builtup": {"facecolor": "#dcdcdc", "edgecolor": "none", "zorder": 2.1},
    "park": {"facecolor": "#dff0d2", "edgecolor": "none", "zorder": 2.2},
    "forest": {"facecolor": "#cfe5c0", "edgecolor": "none", "zorder": 2.3},
    "water": {"facecolor": "#bcd9ee", "edgecolor": "none", "zorder": 2.4},
    "waterway": {"color": "#9cc3e0", "linewidth": 0.8, "zorder": 2.5},
    "road": {"color": "#ffffff", "linewidth": 0.7, "zorder": 2.6},
}


def _draw_background(ax: Any, background: gpd.GeoDataFrame, extent: tuple[float, float, float, float]) -> None:
    """OSM background (built-up, green, water, main roads, place names) under the map's content.

    ``background`` is :func:`geo.sources.osm_background.cached_background` output
    (EPSG:25832); only what lies in ``extent`` is drawn.
    """
    shown = clip_to_extent(background, extent)
    for kind, style in BACKGROUND_STYLE.items():
        part = shown[shown["kind"] == kind]
        if len(part):
            part.plot(ax=ax, **style)
    roads = shown[(shown["kind"] == "road") & (shown["rank"].fillna(9) <= 2)]
    if len(roads):  # main roads a little stronger
        roads.plot(ax=ax, color="#b5b5b5", linewidth=1.1, zorder=2.55)
    _draw_places(ax, shown, extent)


def _draw_orientation(ax: Any, background: gpd.GeoDataFrame, extent: tuple[float, float, float, float]) -> None:
    """Main roads and place names over a choropleth, thin enough not to hide its colours."""
    shown = clip_to_extent(background, extent)
    roads = shown[(shown["kind"] == "road") & (shown["rank"].fillna(9) <= 2)]
    if len(roads):
        roads.plot(ax=ax, color="#9a9a9a", linewidth=0.7, alpha=0.85, zorder=3.5)  # seen on dark and light classes
    _draw_places(ax, shown, extent)


def _draw_places(ax: Any, shown: gpd.GeoDataFrame, extent: tuple[float, float, float, float]) -> None:
    """Place names; villages and suburbs only on a map of a town or Gemeinde (on a Kreis they would pile up)."""
    max_rank = 3 if extent[2] - extent[0] <= PLACE_DETAIL_WIDTH_M else 2
    places = shown[(shown["kind"] == "place") & shown["name"].notna() & (shown["rank"].fillna(9) <= max_rank)]
    lift = 0.012 * (extent[3] - extent[1])  # above the place, so a facility marker there does not hide it
    for geom, name, rank in zip(places.geometry, places["name"], places["rank"].fillna(3), strict=True):
        ax.text(
            geom.x,
            geom.y + lift,
            str(name),
            fontsize=8 if rank <= 1 else 6.5,
            color="#555555",
            ha="center",
            va="bottom",
            zorder=6.5,
            bbox={"facecolor": "white", "alpha": 0.6, "edgecolor": "none", "pad": 0.6},
            parse_math=False,  # a name from OSM is text: »$…$« would be read as mathtext (and could fail)
        )


def _draw_points(ax: Any, gdf: gpd.GeoDataFrame, layer_id: str, label: str, zorder: int = 7) -> Any:
    style = REGISTRY.get(layer_id).style
    xy = np.column_stack([gdf.geometry.x.to_numpy(), gdf.geometry.y.to_numpy()]) if len(gdf) else np.empty((0, 2))
    size = max(10.0, (style.radius * 1.6) ** 2 / 2)
    ax.scatter(xy[:, 0], xy[:, 1], s=size, c=style.color, edgecolors="white", linewidths=0.6, zorder=zorder)
    return Line2D(
        [],
        [],
        marker="o",
        linestyle="none",
        markerfacecolor=style.color,
        markeredgecolor="white",
        markersize=6,
        label=label,
    )


def clip_to_extent(gdf: gpd.GeoDataFrame, extent: tuple[float, float, float, float]) -> gpd.GeoDataFrame:
    return gdf.iloc[gdf.sindex.query(_box(extent), predicate="intersects")] if len(gdf) else gdf


def _box(extent: tuple[float, float, float, float]) -> Any:
    import shapely

    return shapely.box(*extent)


def _legend(ax: Any, handles: list[Any], title: str) -> None:
    """The legend in the band below the map, so it never hides part of the area."""
    ax.figure.legend(
        handles=handles,
        title=title,
        loc="lower left",
        bbox_to_anchor=(0.0, 0.0),
        ncols=3,
        fontsize=6.5,
        title_fontsize=7,
        frameon=False,
        alignment="left",
        borderaxespad=0.3,
    )


def overview_map(
    area: ReportArea,
    extent: tuple[float, float, float, float],
    context: gpd.GeoDataFrame,
    units: gpd.GeoDataFrame,
    facilities: dict[str, gpd.GeoDataFrame],
    attribution: str,
    background: gpd.GeoDataFrame | None = None,
) -> bytes:
    """The area with its units, every loaded facility layer and, when given, the OSM background."""
    fig, ax = _new_map(extent)
    _draw_context(ax, context, area)
    units.plot(ax=ax, facecolor="white", edgecolor="#8c8c8c", linewidth=0.5, zorder=2)
    if background is not None and len(background):
        _draw_background(ax, background, extent)
        units.plot(ax=ax, facecolor="none", edgecolor="#8c8c8c", linewidth=0.5, zorder=3)
    handles = []
    for layer_id, gdf in facilities.items():
        shown = clip_to_extent(gdf, extent)
        handles.append(_draw_points(ax, shown, layer_id, f"{REGISTRY.get(layer_id).title} ({len(shown)})"))
    label_units(ax, units, context)
    _legend(ax, handles, "Einrichtungen im Ausschnitt")
    return _finish_map(fig, ax, extent, attribution)


def coverage_map(
    area: ReportArea,
    extent: tuple[float, float, float, float],
    context: gpd.GeoDataFrame,
    units: gpd.GeoDataFrame,
    share: pd.Series,
    layer_id: str,
    facilities: gpd.GeoDataFrame,
    attribution: str,
    sites: gpd.GeoDataFrame | None = None,
    background: gpd.GeoDataFrame | None = None,
) -> bytes:
    """The covered share per unit in fixed classes, the facilities, the scenario's sites and, with an
    OSM ``background``, main roads and place names for orientation."""
    fig, ax = _new_map(extent)
    numbers: list[Any] = []
    _draw_context(ax, context, area)
    values = share.reindex(units["ags"].astype(str).to_numpy())
    units.plot(ax=ax, color=_share_colors(values), edgecolor="#666666", linewidth=0.5, zorder=2)
    if background is not None and len(background):
        _draw_orientation(ax, background, extent)
    handles = _share_legend()
    shown = clip_to_extent(facilities, extent)
    handles.append(_draw_points(ax, shown, layer_id, f"{REGISTRY.get(layer_id).title} (bestehend)"))
    if sites is not None and len(sites):
        fixed = sites[sites["fixed"].astype(bool)]
        new = sites[~sites["fixed"].astype(bool)].sort_values("order", kind="stable")
        if len(fixed):
            ax.scatter(
                fixed.geometry.x,
                fixed.geometry.y,
                marker="s",
                s=40,
                c="#000000",
                edgecolors="white",
                linewidths=0.6,
                zorder=8,
            )
            handles.append(
                Line2D(
                    [],
                    [],
                    marker="s",
                    linestyle="none",
                    markerfacecolor="#000000",
                    markeredgecolor="white",
                    markersize=6,
                    label="fester Standort (Szenario)",
                )
            )
        color = REGISTRY.get("ankommenstreffpunkt").style.color
        ax.scatter(new.geometry.x, new.geometry.y, s=28, c=color, edgecolors="white", linewidths=0.8, zorder=11)
        numbers = place_numbers(ax, new.geometry.x.to_numpy(), new.geometry.y.to_numpy(), new["order"], color)
        handles.append(
            Line2D(
                [],
                [],
                marker="o",
                linestyle="none",
                markerfacecolor=color,
                markeredgecolor="white",
                markersize=9,
                label="neuer Standort (Nr. = Reihenfolge)",
            )
        )
    label_units(ax, units, context, avoid=numbers)
    _legend(ax, handles, "Versorgungsanteil")
    return _finish_map(fig, ax, extent, attribution)


# --- charts ---------------------------------------------------------------------


def gain_chart(shares: Sequence[float], threshold_label: str) -> bytes:
    """Coverage after 0, 1, 2 … additional sites as a step chart (PNG, the size of a map).

    Parameters
    ----------
    shares
        Covered share (0–1) before any new site and after each new site, in selection order.
    threshold_label
        The scenario's threshold in German, e.g. ``"5 km Luftlinie"`` (axis label).
    """
    width_in = MAP_WIDTH_MM / 25.4
    fig = Figure(figsize=(width_in, width_in / MAP_ASPECT * 0.6), dpi=MAP_DPI)
    ax = fig.add_axes((0.1, 0.2, 0.86, 0.72))
    x = np.arange(len(shares))
    y = 100.0 * np.asarray(shares, dtype="float64")
    ax.plot(x, y, marker="o", color="#1f4e79", lw=1.6, ms=4)
    for xi, yi in zip(x, y, strict=True):
        ax.annotate(
            f"{yi:.1f} %".replace(".", ","),
            (xi, yi),
            textcoords="offset points",
            xytext=(0, 6),
            ha="center",
            fontsize=7,
        )
    ax.set_xticks(x)
    ax.set_xlabel("Anzahl neuer Standorte (in Auswahlreihenfolge)", fontsize=8)
    ax.set_ylabel(f"versorgt (%), ≤ {threshold_label}", fontsize=8)
    low = max(0.0, float(np.nanmin(y)) - 10.0) if len(y) else 0.0
    ax.set_ylim(low, 105)
    return chart_png(fig, ax)


def chart_png(fig: Any, ax: Any) -> bytes:
    """Finish a report chart (small ticks, light horizontal grid, no top/right frame) as PNG bytes."""
    ax.tick_params(labelsize=7)
    ax.grid(axis="y", color="#dddddd", lw=0.6)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=MAP_DPI, metadata={"Software": None})
    return buf.getvalue()
