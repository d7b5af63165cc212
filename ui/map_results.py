"""Stored Land-wide results on the Karte: an image pyramid as a tile layer with its legend.

The browser receives image tiles (published from the pyramid's folder by
:func:`ui.static_assets.publish_local_tiles`) and never the cells of the
result, so a million 100 m cells draw as fast as a background map.
"""

from __future__ import annotations

import html

import folium

from geo.formatting import de_number
from integrationsatlas.pyramid import Pyramid
from ui.i18n import current_language, t_plain
from ui.maps import Legend, feature_group
from ui.static_assets import LocalTiles


def result_layer(tiles: LocalTiles, pyramid: Pyramid, name: str) -> folium.FeatureGroup:
    """A stored result as an overlay: its tiles (scaled up beyond the pyramid's highest zoom) and its legend."""
    west, south, east, north = tiles.bounds
    layer = folium.TileLayer(
        tiles=tiles.url,
        name=name,
        overlay=True,
        attr=html.escape(t_plain("karte.result_attr")),
        min_zoom=5,
        max_zoom=18,
        max_native_zoom=tiles.max_zoom,
        min_native_zoom=tiles.min_zoom,
        bounds=[[south, west], [north, east]],
    )
    return feature_group(name, layer, Legend(result_legend_rows(pyramid), title=t_plain("map.legend_result")))


def result_legend_rows(pyramid: Pyramid) -> list[list[str]]:
    """Legend rows of a result pyramid: its title, the cost classes in the current language, its description.

    Every row is plain text (the title and description come from the result file).

    >>> from pathlib import Path
    >>> p = Pyramid(Path("p"), (5,), (0, 0, 1, 1), 1, 0, (7.5, 15.0, 22.5, 30.0, float("inf")),
    ...             ("#1", "#2", "#3", "#4", "#5"), (), "min", "OGS", "Frage")
    >>> result_legend_rows(p)[1:3]
    [['class', '#1', 'bis 7,5 min'], ['class', '#2', 'bis 15 min']]
    >>> result_legend_rows(p)[-2:]
    [['class', '#5', 'über 30 min / nicht erreichbar'], ['note', 'Frage']]
    """

    def number(value: float) -> str:
        decimals = 0 if float(value).is_integer() else 1
        return de_number(value, decimals) if current_language() == "de" else f"{value:,.{decimals}f}"

    finite = pyramid.breaks[:-1]
    rows: list[list[str]] = [["title", pyramid.title]]
    for color, limit in zip(pyramid.colors, finite, strict=False):
        rows.append(["class", color, t_plain("karte.result_class", value=number(limit), unit=pyramid.unit)])
    last = t_plain("karte.result_last", value=number(finite[-1]), unit=pyramid.unit)
    rows.append(["class", pyramid.colors[-1], last])
    if pyramid.description:
        rows.append(["note", pyramid.description])
    return rows
