"""Image pyramid of a 100 m result: classes, population-weighted coarse levels, tile geometry, read back."""

from __future__ import annotations

import math
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
from PIL import Image
from pyproj import Transformer
from shapely.geometry import Point

from geo.errors import CRSError, DataError
from integrationsatlas.classes import COST_COLORS
from integrationsatlas.pyramid import NO_DATA, Pyramid, _levels, cost_classes, render_pyramid

TO_4326 = Transformer.from_crs("EPSG:25832", "EPSG:4326", always_xy=True)
#: Grid origin (EPSG:25832) in Aachen; the test grids are made up (synthetic), not data.
X0, Y0 = 294_000.0, 5_628_000.0


def grid(nx: int, ny: int) -> gpd.GeoDataFrame:
    """Centres of an ``nx × ny`` grid of 100 m cells (synthetic)."""
    xs, ys = np.meshgrid(X0 + 50 + 100 * np.arange(nx), Y0 + 50 + 100 * np.arange(ny))
    return gpd.GeoDataFrame(geometry=gpd.points_from_xy(xs.ravel(), ys.ravel()), crs=25832)


def tile_pixel(lon: float, lat: float, z: int) -> tuple[int, int, int, int]:
    """Tile ``(x, y)`` and pixel ``(px, py)`` of a point at zoom ``z``."""
    n = 2**z
    fx = (lon + 180) / 360 * n
    fy = (1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n
    return int(fx), int(fy), int((fx % 1) * 256), int((fy % 1) * 256)


def rgba(path: Path, px: int, py: int) -> tuple[int, ...]:
    with Image.open(path) as img:
        value = img.convert("RGBA").getpixel((px, py))
    assert isinstance(value, tuple)
    return value


def colour(k: int) -> tuple[int, int, int]:
    c = COST_COLORS[k]
    return int(c[1:3], 16), int(c[3:5], 16), int(c[5:7], 16)


def test_cost_classes_are_multiples_of_the_threshold() -> None:
    breaks, labels = cost_classes(10, "km")
    assert breaks[:4] == (5, 10, 15, 20) and math.isinf(breaks[4])
    assert labels[1] == "bis 10 km" and labels[-1].startswith("über 20 km")


def test_tiles_draw_each_cell_in_its_class_where_it_lies(tmp_path: Path) -> None:
    cells = grid(10, 10)
    x, y = cells.geometry.x.to_numpy(), cells.geometry.y.to_numpy()
    south_west = (x < X0 + 500) & (y < Y0 + 500)
    cost = np.where(south_west, 3.0, np.inf)  # south-west quarter near (class 0), the rest unreachable (last class)
    pyramid = render_pyramid(cells, cost, 15, "min", tmp_path / "p", zooms=(10, 14), title="OGS zu Fuß")
    last = len(COST_COLORS) - 1
    for east, north, expected in ((250, 250, 0), (750, 250, last), (250, 750, last), (750, 750, last)):
        lon, lat = TO_4326.transform(X0 + east, Y0 + north)
        tx, ty, px, py = tile_pixel(lon, lat, 14)
        r, g, b, a = rgba(tmp_path / "p" / "14" / str(tx) / f"{ty}.png", px, py)
        assert (r, g, b) == colour(expected) and a > 0
    # 1 km outside the grid: transparent
    lon, lat = TO_4326.transform(X0 - 300, Y0 + 500)
    tx, ty, px, py = tile_pixel(lon, lat, 14)
    tile = tmp_path / "p" / "14" / str(tx) / f"{ty}.png"
    if tile.exists():
        assert rgba(tile, px, py)[3] == 0
    assert pyramid.tiles >= 2 and pyramid.zooms == (10, 14)
    assert Pyramid.read(tmp_path / "p") == pyramid


def test_every_tile_inside_the_extent_exists(tmp_path: Path) -> None:
    cells = grid(30, 3)
    pyramid = render_pyramid(cells, np.zeros(len(cells)), 15, "min", tmp_path / "p", zooms=(14, 15))
    files = list((tmp_path / "p").glob("1[45]/*/*.png"))
    assert len(files) == pyramid.tiles + pyramid.empty
    west, south, east, north = pyramid.bounds
    for z in (14, 15):
        x0, y1 = tile_pixel(west, south, z)[:2]
        x1, y0 = tile_pixel(east, north, z)[:2]
        for tx in range(x0, x1 + 1):
            for ty in range(y0, y1 + 1):
                assert (tmp_path / "p" / str(z) / str(tx) / f"{ty}.png").is_file()


def test_coarse_levels_average_the_cost_of_the_people() -> None:
    cells = grid(2, 2)
    cost = np.array([0.0, 0.0, 0.0, 28.0])  # one far cell
    even = _levels(cells, cost, None, 100.0, 15.0)
    crowded = _levels(cells, cost, np.array([1.0, 1.0, 1.0, 97.0]), 100.0, 15.0)
    assert even[0].classes.tolist() == crowded[0].classes.tolist() == [[0, 0], [0, 3]]
    assert even[1].classes.tolist() == [[0]]  # mean 7 min: the people are near
    assert crowded[1].classes.tolist() == [[3]]  # mean 27.2 min: almost everybody lives in the far cell
    assert even[1].cell == 200.0


def test_cells_without_people_are_no_data() -> None:
    cells = grid(3, 1).iloc[[0, 2]]
    level = _levels(cells, np.array([1.0, 1.0]), None, 100.0, 15.0)[0]
    assert level.classes.tolist() == [[0, NO_DATA, 0]]


def test_a_rerender_replaces_the_old_pyramid(tmp_path: Path) -> None:
    render_pyramid(grid(3, 3), np.zeros(9), 15, "min", tmp_path / "p", zooms=(13, 14))
    render_pyramid(grid(3, 3), np.zeros(9), 15, "min", tmp_path / "p", zooms=(12,))
    assert not (tmp_path / "p" / "14").exists() and Pyramid.read(tmp_path / "p").zooms == (12,)


def test_unusable_input_raises_data_errors(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="Keine Zellen"):
        render_pyramid(grid(1, 1).iloc[:0], np.zeros(0), 15, "min", tmp_path / "p")
    with pytest.raises(CRSError):
        render_pyramid(gpd.GeoDataFrame(geometry=[Point(6.1, 50.8)], crs=4326), np.zeros(1), 15, "min", tmp_path / "q")
    with pytest.raises(DataError, match="Kachelpyramide"):
        Pyramid.read(tmp_path / "fehlt")
