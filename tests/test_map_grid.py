"""Grid cells as one Web-Mercator image overlay: colours land where the cells are, fast for NRW-sized grids."""

from __future__ import annotations

import base64
import io
import time

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from PIL import Image
from pyproj import Transformer

from geo.errors import CRSError
from ui import maps
from ui.map_grid import grid_image

X0, Y0 = 400_000.0, 5_700_000.0


def _cells(n: int, size: float = 100.0) -> gpd.GeoDataFrame:
    i, j = np.meshgrid(np.arange(n), np.arange(n))
    boxes = shapely.box(
        X0 + i.ravel() * size, Y0 + j.ravel() * size, X0 + (i.ravel() + 1) * size, Y0 + (j.ravel() + 1) * size
    )
    return gpd.GeoDataFrame({"i": i.ravel(), "j": j.ravel()}, geometry=boxes, crs="EPSG:25832")


def _pixel_at(img, x: float, y: float) -> np.ndarray:  # type: ignore[no-untyped-def]
    """RGBA of the image pixel over EPSG:25832 point (x, y)."""
    to_merc = Transformer.from_crs("EPSG:25832", "EPSG:3857", always_xy=True)
    to_merc_ll = Transformer.from_crs("EPSG:4326", "EPSG:3857", always_xy=True)
    (s, w), (n, e) = img.bounds
    (w_m, e_m), (s_m, n_m) = to_merc_ll.transform([w, e], [s, n])
    mx, my = to_merc.transform(x, y)
    rows, cols = img.rgba.shape[:2]
    col = int((mx - w_m) / (e_m - w_m) * cols)
    row = int((n_m - my) / (n_m - s_m) * rows)
    return img.rgba[row, col]


def test_each_cell_is_drawn_in_its_colour_and_missing_cells_are_transparent() -> None:
    cells = _cells(3)
    colors = pd.Series(np.where(cells["i"] == 0, "#ff0000", "#0000ff"), index=cells.index, dtype=object)
    colors[(cells["i"] == 2) & (cells["j"] == 2)] = None
    img = grid_image(cells, colors, alpha=200)
    assert tuple(_pixel_at(img, X0 + 50, Y0 + 150)) == (255, 0, 0, 200)  # cell (0, 1)
    assert tuple(_pixel_at(img, X0 + 150, Y0 + 250)) == (0, 0, 255, 200)  # cell (1, 2)
    assert _pixel_at(img, X0 + 250, Y0 + 250)[3] == 0  # cell (2, 2) has no value
    # pixels are about half a cell: a 300 m square is 3–4 cells of ~2 px, i.e. 5–8 px wide
    assert 5 <= img.rgba.shape[1] <= 8


def test_grid_overlay_is_an_image_in_the_map_with_the_legend_colours() -> None:
    cells = _cells(4)
    values = pd.Series(np.arange(16, dtype=float), index=cells.index)
    values.iloc[0] = np.nan
    cls = maps.classify_fixed(values, (5, 10, 15), "Minuten")
    layer = maps.grid_overlay(cells, values, cls)
    m = maps.base_map(tiles=None)
    layer.add_to(m)
    html = m.get_root().render()
    assert "L.imageOverlay" in html and html.count("data:image/png;base64,") == 1
    url = html.split('"data:image/png;base64,')[1].split('"')[0]
    png = np.asarray(Image.open(io.BytesIO(base64.b64decode(url))))
    colours = {tuple(p[:3]) for p in png.reshape(-1, 4) if p[3] > 0}
    palette = {tuple(int(c[k : k + 2], 16) for k in (1, 3, 5)) for c in cls.palette}
    assert colours and colours <= palette


def test_unprojected_cells_are_refused() -> None:
    cells = _cells(2).to_crs("EPSG:4326")
    with pytest.raises(CRSError):
        grid_image(cells, pd.Series("#ff0000", index=cells.index))


@pytest.mark.slow
def test_a_regional_grid_of_250_000_cells_is_quick() -> None:
    cells = _cells(500)
    colors = pd.Series(np.where(cells["i"] % 2 == 0, "#ff0000", "#00ff00"), index=cells.index, dtype=object)
    start = time.perf_counter()
    img = grid_image(cells, colors)
    url = img.png_data_url()
    elapsed = time.perf_counter() - start
    assert max(img.rgba.shape[:2]) <= 2048 and len(url) < 3_000_000
    assert elapsed < 10.0, elapsed
