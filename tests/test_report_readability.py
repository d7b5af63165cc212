"""Readability of the council report's maps and charts (issue 20, item 3): labels, site numbers, aspect ratio."""

from __future__ import annotations

import itertools

import geopandas as gpd
import numpy as np
import pytest
from shapely.geometry import box

from geo.settings import PROJECTED_CRS
from integrationsatlas.report import maps
from integrationsatlas.report.maps import _new_map, label_units, number_box, place_numbers
from integrationsatlas.report.model import png_size

EXTENT = (300_000.0, 5_600_000.0, 340_000.0, 5_630_000.0)


def test_close_site_numbers_are_moved_apart_so_no_two_boxes_overlap() -> None:
    fig, ax = _new_map(EXTENT)
    xs = np.array([320_000.0, 320_100.0, 320_200.0, 319_900.0, 320_050.0, 330_000.0])
    ys = np.array([5_615_000.0, 5_615_050.0, 5_614_950.0, 5_615_000.0, 5_615_100.0, 5_620_000.0])
    texts = place_numbers(ax, xs, ys, range(1, 7), "#c0392b")
    fig.canvas.draw()
    renderer = ax.figure.canvas.get_renderer()
    boxes = [number_box(t, renderer) for t in texts]
    assert [t.get_text() for t in texts] == ["1", "2", "3", "4", "5", "6"]
    for (i, a), (j, b) in itertools.combinations(enumerate(boxes), 2):
        assert not a.overlaps(b), (i + 1, j + 1)
    assert texts[0].arrow_patch is None and texts[1].arrow_patch is not None  # moved numbers have a leader line
    assert texts[5].arrow_patch is None  # a site with room keeps its number on it


def _units() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"name": ["Großstadt $x$", "Klein", "Winzig", None]},
        geometry=[
            box(300_000, 5_600_000, 320_000, 5_630_000),
            box(320_000, 5_600_000, 340_000, 5_630_000),
            box(320_000, 5_600_000, 320_300, 5_600_300),  # too small for its name: skipped
            box(330_000, 5_620_000, 331_000, 5_621_000),
        ],
        crs=PROJECTED_CRS,
    )


def test_units_are_labelled_by_name_as_text_without_overlaps() -> None:
    fig, ax = _new_map(EXTENT)
    neighbours = gpd.GeoDataFrame({"name": ["Nachbarkreis"]}, geometry=[box(290_000, 5_600_000, 301_000, 5_630_000)])
    placed = label_units(ax, _units(), neighbours)
    fig.canvas.draw()
    renderer = ax.figure.canvas.get_renderer()
    shown = [t.get_text() for t in placed]
    assert "Großstadt $x$" in shown and "Klein" in shown  # the name as given, no mathtext
    assert all(not t.get_parse_math() for t in placed)
    boxes = [t.get_window_extent(renderer) for t in placed]
    for a, b in itertools.combinations(boxes, 2):
        assert not a.overlaps(b)
    frame = ax.get_window_extent(renderer)
    assert all(frame.x0 <= b.x0 and b.x1 <= frame.x1 for b in boxes)  # nothing runs off the map


def test_coverage_map_with_sites_renders_labels_and_numbers() -> None:
    import pandas as pd

    units = _units().assign(ags=["1", "2", "3", "4"])
    sites = gpd.GeoDataFrame(
        {"fixed": [False, False], "order": [1, 2]},
        geometry=gpd.points_from_xy([310_000, 310_050], [5_615_000, 5_615_000]),
        crs=PROJECTED_CRS,
    )
    facilities = gpd.GeoDataFrame(geometry=gpd.points_from_xy([305_000], [5_605_000]), crs=PROJECTED_CRS)
    png = maps.coverage_map(
        _FakeArea(),  # type: ignore[arg-type]
        EXTENT,
        units.iloc[:0],
        units,
        pd.Series([0.5, 0.9, 1.0, 0.2], index=["1", "2", "3", "4"]),
        "ki",
        facilities,
        "© Test",
        sites=sites,
    )
    assert png_size(png)[0] > 0


class _FakeArea:
    geometry = box(300_000, 5_600_000, 340_000, 5_630_000)


def test_png_size_reads_the_header() -> None:
    fig, _ax = _new_map(EXTENT)
    import io

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=50)
    w, h = png_size(buf.getvalue())
    assert abs(w - fig.get_figwidth() * 50) <= 1 and abs(h - fig.get_figheight() * 50) <= 1
    with pytest.raises(ValueError, match="not a PNG"):
        png_size(b"GIF89a" + bytes(30))


def test_the_karte_shows_one_tooltip_at_a_time() -> None:
    from ui import maps as ui_maps

    html = ui_maps.base_map().get_root().render()
    assert 'map.on("tooltipopen"' in html and "closeTooltip" in html
