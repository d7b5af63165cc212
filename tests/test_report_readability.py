"""Readability of the council report's maps and charts (issue 20, item 3): labels, site numbers, aspect ratio."""

from __future__ import annotations

import itertools
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
from loopback import LoopbackServer
from shapely.geometry import box

from geo.settings import PROJECTED_CRS
from integrationsatlas.report import maps
from integrationsatlas.report.maps import _new_map, label_units, number_box, place_numbers
from integrationsatlas.report.model import png_size

pytest_plugins = ("loopback",)

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


def test_coverage_map_with_sites_renders_labels_and_numbers(monkeypatch: pytest.MonkeyPatch) -> None:
    import pandas as pd

    labelled: list[list[str]] = []
    real = maps.label_units

    def spy(ax: object, *frames: gpd.GeoDataFrame, **kwargs: object) -> list[object]:
        placed = real(ax, *frames, **kwargs)  # type: ignore[arg-type]
        labelled.append([t.get_text() for t in placed])
        assert len(kwargs.get("avoid", ())) == 2  # type: ignore[arg-type]  # the labels keep clear of the numbers
        return placed

    monkeypatch.setattr(maps, "label_units", spy)

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
    assert labelled and "Klein" in labelled[0]


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
    assert 'map.on("tooltipopen"' in html and "map.removeLayer(last)" in html


@pytest.mark.browser
def test_two_tooltips_never_stay_open_side_by_side_in_chromium(
    loopback: LoopbackServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two overlapping layers with sticky tooltips: opening the second closes the first."""
    import folium
    from browser_support import browser_unavailable_reason, checked_page, chromium_browser

    from ui import maps as ui_maps
    from ui.map_script import RowsTooltip
    from ui.static_assets import ensure_static_assets

    if browser_unavailable_reason():
        pytest.skip(str(browser_unavailable_reason()))
    monkeypatch.setenv("INTEGRATIONSATLAS_HOME", str(tmp_path / "home"))
    m = ui_maps.base_map(tiles=None)
    square = [[[6.0, 50.7], [6.2, 50.7], [6.2, 50.9], [6.0, 50.9], [6.0, 50.7]]]
    for name in ("Kreise", "Gemeinden"):
        data = {
            "type": "FeatureCollection",
            "features": [
                {
                    "type": "Feature",
                    "geometry": {"type": "Polygon", "coordinates": square},
                    "properties": {"_tooltip": [["Name", name]]},
                }
            ],
        }
        layer = folium.GeoJson(data, name=name)
        RowsTooltip().add_to(layer)
        layer.add_to(m)
    static = ensure_static_assets(tmp_path / "static")
    for path in static.rglob("*"):
        if path.is_file():
            kind = {".js": "text/javascript", ".css": "text/css"}.get(path.suffix, "application/octet-stream")
            loopback.route("/app/static/" + path.relative_to(static).as_posix(), path, content_type=kind)
    loopback.route("/karte.html", m.get_root().render(), content_type="text/html; charset=utf-8")
    loopback.route("/favicon.ico", b"", status=204, content_type="image/x-icon")
    with chromium_browser() as browser, checked_page(browser) as page:
        page.goto(loopback.url("/karte.html"))
        page.wait_for_function("() => window.L && document.querySelector('.leaflet-interactive')")
        opened = page.evaluate(
            """() => {
            const map = window[Object.keys(window).find(k => k.startsWith('map_') && window[k].eachLayer)];
            const groups = [];
            map.eachLayer(l => { if (l.feature === undefined && l.getTooltip && l.getTooltip()) groups.push(l); });
            groups.forEach(g => g.eachLayer(f => g.openTooltip(f.getBounds().getCenter())));
            return groups.length;
        }"""
        )
        page.wait_for_timeout(600)  # Leaflet fades a closed tooltip out for 200 ms before removing it
        shown = page.evaluate("() => Array.from(document.querySelectorAll('.leaflet-tooltip'), t => t.textContent)")
    assert opened == 2
    assert shown == ["NameGemeinden"], shown  # the one opened last
