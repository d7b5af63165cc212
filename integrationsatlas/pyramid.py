"""An image pyramid of a 100 m result: XYZ tiles (``z/x/y.png``) that draw a Land-wide grid fast at every zoom.

A Land-wide result has a million cells or more; the browser never receives
them as features. :func:`render_pyramid` rasterises the cells once into a
grid in EPSG:25832 (one value per 100 m cell), builds coarser grids by
population-weighted averaging (200 m, 400 m … for the low zooms, so zoom 7
shows the average trip of the people in a pixel, not a random cell), and
renders each Web-Mercator tile by sampling the grid of its resolution at the
tile's pixel centres. The colours are the cost classes of the maps
(:data:`integrationsatlas.classes.COST_COLORS`: multiples of the threshold).
The folder is served like any local tile set (``ui.static_assets.publish_local_tiles``);
``pyramid.json`` holds the zooms, extent, classes and the request's description.

Tiles inside the extent without data are written too (all the same
transparent image, hard-linked), so the browser never asks for a missing
tile.
"""

from __future__ import annotations

import io
import json
import logging
import math
import os
import shutil
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
from numpy.typing import NDArray
from PIL import Image
from pyproj import Transformer

from geo.errors import DataError
from geo.formatting import de_number
from geo.projection import ensure_projected
from integrationsatlas.classes import COST_BREAKS_X, COST_COLORS

logger = logging.getLogger(__name__)

#: Zoom levels rendered by default. Leaflet scales the highest one up beyond it: at zoom 13 a
#: 100 m cell is 8 pixels wide (in NRW), so zoom 14 and closer show the same cells without a
#: fourth of the tiles (zoom 14 alone would be three quarters of a Land-wide pyramid: ≈ 27,000 tiles).
DEFAULT_ZOOMS: tuple[int, ...] = tuple(range(5, 14))
TILE_PX = 256
#: Half the circumference of the Web-Mercator world (metres).
_HALF = math.pi * 6_378_137.0
#: Control points per tile side for the EPSG:3857 → 25832 transform (bilinear in between; < 1 m error at zoom 5).
_CONTROL = 17
_TO_25832 = Transformer.from_crs("EPSG:3857", "EPSG:25832", always_xy=True)
_TO_3857 = Transformer.from_crs("EPSG:25832", "EPSG:3857", always_xy=True)
_TO_4326 = Transformer.from_crs("EPSG:3857", "EPSG:4326", always_xy=True)
#: Opacity of coloured pixels.
ALPHA = 200
NO_DATA = 255


@dataclass(frozen=True)
class Pyramid:
    """A rendered pyramid.

    Attributes
    ----------
    folder
        Its folder (``z/x/y.png`` and ``pyramid.json``).
    zooms
        Zoom levels rendered.
    bounds
        ``(west, south, east, north)`` in degrees.
    tiles
        Tile files written (with data), and ``empty`` ones inside the extent.
    breaks, colors, labels
        Upper class limits (in ``unit``), colours and German legend labels.
    title
        Legend title; ``description`` the request in one German sentence.
    """

    folder: Path
    zooms: tuple[int, ...]
    bounds: tuple[float, float, float, float]
    tiles: int
    empty: int
    breaks: tuple[float, ...]
    colors: tuple[str, ...]
    labels: tuple[str, ...]
    unit: str
    title: str
    description: str

    @classmethod
    def read(cls, folder: Path) -> Pyramid:
        """The pyramid rendered into ``folder``.

        Raises
        ------
        DataError
            If the folder holds no (complete) pyramid.
        """
        try:
            data = json.loads((folder / "pyramid.json").read_text(encoding="utf-8"))
            return cls(
                folder=folder,
                zooms=tuple(int(z) for z in data["zooms"]),
                bounds=(
                    float(data["bounds"][0]),
                    float(data["bounds"][1]),
                    float(data["bounds"][2]),
                    float(data["bounds"][3]),
                ),
                tiles=int(data["tiles"]),
                empty=int(data["empty"]),
                breaks=tuple(float(b) for b in data["breaks"]),
                colors=tuple(str(c) for c in data["colors"]),
                labels=tuple(str(t) for t in data["labels"]),
                unit=str(data["unit"]),
                title=str(data["title"]),
                description=str(data["description"]),
            )
        except (OSError, ValueError, TypeError, KeyError, IndexError) as exc:
            raise DataError(f"Kachelpyramide {folder.name}: nicht lesbar ({exc}). Bitte neu erzeugen.") from exc


def cost_classes(threshold: float, unit: str) -> tuple[tuple[float, ...], tuple[str, ...]]:
    """Upper class limits and German labels of a cost against ``threshold`` (the map's classes).

    >>> cost_classes(15, "min")[1]
    ('bis 7,5 min', 'bis 15 min', 'bis 22,5 min', 'bis 30 min', 'über 30 min / nicht erreichbar')
    """
    breaks = tuple(threshold * x for x in COST_BREAKS_X)
    labels = [f"bis {de_number(b, 0 if float(b).is_integer() else 1)} {unit}" for b in breaks[:-1]]
    last = breaks[-2]
    labels.append(f"über {de_number(last, 0 if float(last).is_integer() else 1)} {unit} / nicht erreichbar")
    return breaks, tuple(labels)


def render_pyramid(
    cells: gpd.GeoDataFrame,
    cost: NDArray[np.float64],
    threshold: float,
    unit: str,
    folder: Path,
    *,
    weight: NDArray[np.float64] | None = None,
    cell_m: float = 100.0,
    zooms: tuple[int, ...] = DEFAULT_ZOOMS,
    title: str = "",
    description: str = "",
) -> Pyramid:
    """Render ``cost`` per cell into XYZ PNG tiles under ``folder`` (replacing an earlier pyramid).

    Parameters
    ----------
    cells
        Cell centres (or squares) of a regular grid in EPSG:25832.
    cost
        Cost per cell in ``unit`` (``inf``: unreachable, drawn in the last class).
    threshold
        The threshold the classes are multiples of.
    unit
        ``min`` or ``km`` (legend).
    folder
        Output folder.
    weight
        People per cell: coarser levels average the cost weighted by it (default: equal weights).
    cell_m
        Grid spacing (metres).
    zooms
        Zoom levels to render.
    title, description
        Legend title and the request in one sentence (stored in ``pyramid.json``).

    Returns
    -------
    Pyramid

    Notes
    -----
    Grids are in EPSG:25832 (metres); tiles are Web Mercator (EPSG:3857).
    Each tile pixel centre is transformed to EPSG:25832 through a 17 × 17
    grid of control points per tile (bilinear in between) and takes the
    class of the grid cell it falls in, on the level whose cell is at most a
    pixel wide.
    """
    ensure_projected(cells, "Rasterzellen")
    if len(cells) == 0:
        raise DataError("Keine Zellen: es gibt nichts zu zeichnen.")
    breaks, labels = cost_classes(threshold, unit)
    levels = _levels(cells, np.asarray(cost, dtype=np.float64), weight, cell_m, threshold)
    palette = _palette()
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    blank = folder / "leer.png"
    blank.write_bytes(_png(np.full((TILE_PX, TILE_PX), NO_DATA, dtype=np.uint8), palette))
    x0, y0, x1, y1 = levels[0].bounds_3857
    written = empty = 0
    for z in zooms:
        size = 2 * _HALF / 2**z
        tx0, tx1 = int((x0 + _HALF) // size), int((x1 + _HALF) // size)
        ty0, ty1 = int((_HALF - y1) // size), int((_HALF - y0) // size)
        pixel_m = size / TILE_PX * math.cos(math.radians(51.5))  # ground metres per pixel in NRW
        level = levels[min(len(levels) - 1, max(0, math.floor(math.log2(max(pixel_m, cell_m) / cell_m))))]
        for tx in range(tx0, tx1 + 1):
            column = folder / str(z) / str(tx)
            column.mkdir(parents=True, exist_ok=True)
            for ty in range(ty0, ty1 + 1):
                classes = level.sample(_pixel_centres(z, tx, ty))
                target = column / f"{ty}.png"
                if (classes == NO_DATA).all():
                    os.link(blank, target)
                    empty += 1
                else:
                    target.write_bytes(_png(classes, palette))
                    written += 1
    west, south = _TO_4326.transform(x0, y0)
    east, north = _TO_4326.transform(x1, y1)
    pyramid = Pyramid(
        folder=folder,
        zooms=tuple(zooms),
        bounds=(float(west), float(south), float(east), float(north)),
        tiles=written,
        empty=empty,
        breaks=tuple(float(b) for b in breaks),
        colors=COST_COLORS,
        labels=labels,
        unit=unit,
        title=title,
        description=description,
    )
    data = {k: v for k, v in asdict(pyramid).items() if k != "folder"}
    (folder / "pyramid.json").write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")
    logger.info("Kachelpyramide %s: %d Kacheln mit Daten, %d leer", folder, written, empty)
    return pyramid


class _Level:
    """One level of the grid: a class per cell of ``cell`` metres, origin ``(x0, y0)`` in EPSG:25832."""

    def __init__(self, classes: NDArray[np.uint8], x0: float, y0: float, cell: float) -> None:
        self.classes, self.x0, self.y0, self.cell = classes, x0, y0, cell
        ny, nx = classes.shape
        corners_x = np.array([x0, x0 + nx * cell, x0, x0 + nx * cell])
        corners_y = np.array([y0, y0, y0 + ny * cell, y0 + ny * cell])
        mx, my = _TO_3857.transform(corners_x, corners_y)
        self.bounds_3857 = (float(np.min(mx)), float(np.min(my)), float(np.max(mx)), float(np.max(my)))

    def sample(self, xy: tuple[NDArray[np.float64], NDArray[np.float64]]) -> NDArray[np.uint8]:
        x, y = xy
        ix = np.floor((x - self.x0) / self.cell).astype(np.int64)
        iy = np.floor((y - self.y0) / self.cell).astype(np.int64)
        ny, nx = self.classes.shape
        inside = (ix >= 0) & (ix < nx) & (iy >= 0) & (iy < ny)
        out = np.full(x.shape, NO_DATA, dtype=np.uint8)
        out[inside] = self.classes[iy[inside], ix[inside]]
        return out


def _levels(
    cells: gpd.GeoDataFrame,
    cost: NDArray[np.float64],
    weight: NDArray[np.float64] | None,
    cell_m: float,
    threshold: float,
    max_levels: int = 8,
) -> list[_Level]:
    """The grid at ``cell_m`` and coarser levels (population-weighted mean cost), each as classes."""
    centre = cells.geometry.centroid
    cx, cy = centre.x.to_numpy(), centre.y.to_numpy()
    ix = np.floor(cx / cell_m).astype(np.int64)
    iy = np.floor(cy / cell_m).astype(np.int64)
    ix0, iy0 = int(ix.min()), int(iy.min())
    shape = (int(iy.max()) - iy0 + 1, int(ix.max()) - ix0 + 1)
    capped = np.where(np.isfinite(cost), cost, threshold * 10.0)
    w = np.ones(len(cost)) if weight is None else np.maximum(np.asarray(weight, dtype=np.float64), 1e-9)
    total = np.zeros(shape)
    weights = np.zeros(shape)
    np.add.at(total, (iy - iy0, ix - ix0), capped * w)
    np.add.at(weights, (iy - iy0, ix - ix0), w)
    breaks = np.asarray([threshold * x for x in COST_BREAKS_X][:-1])
    levels = []
    cell = cell_m
    for _ in range(max_levels):
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = total / weights
        classes = np.where(weights > 0, np.searchsorted(breaks, mean, side="left"), NO_DATA).astype(np.uint8)
        levels.append(_Level(classes, ix0 * cell_m, iy0 * cell_m, cell))
        if min(total.shape) < 2:
            break
        total, weights, cell = _halve(total), _halve(weights), cell * 2
    return levels


def _halve(grid: NDArray[np.float64]) -> NDArray[np.float64]:
    """Sums of 2 × 2 blocks (padded with zeros to even sides)."""
    ny, nx = grid.shape
    padded = np.zeros((ny + ny % 2, nx + nx % 2))
    padded[:ny, :nx] = grid
    return padded.reshape(padded.shape[0] // 2, 2, padded.shape[1] // 2, 2).sum(axis=(1, 3))


def _pixel_centres(z: int, tx: int, ty: int) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """EPSG:25832 coordinates of the 256 × 256 pixel centres of tile ``(z, tx, ty)``, north row first."""
    size = 2 * _HALF / 2**z
    left, top = -_HALF + tx * size, _HALF - ty * size
    steps = np.linspace(0.0, 1.0, _CONTROL)
    gx, gy = np.meshgrid(left + steps * size, top - steps * size)
    cx, cy = _TO_25832.transform(gx, gy)
    f = (np.arange(TILE_PX) + 0.5) / TILE_PX * (_CONTROL - 1)
    k = np.minimum(f.astype(np.int64), _CONTROL - 2)
    t = f - k

    def bilinear(c: NDArray[np.float64]) -> NDArray[np.float64]:
        rows = c[k] * (1 - t)[:, None] + c[k + 1] * t[:, None]  # along y (rows), still at control columns
        return np.asarray(rows[:, k] * (1 - t)[None, :] + rows[:, k + 1] * t[None, :])

    return bilinear(np.asarray(cx)), bilinear(np.asarray(cy))


def _palette() -> list[int]:
    flat: list[int] = []
    for color in COST_COLORS:
        flat += [int(color[i : i + 2], 16) for i in (1, 3, 5)]
    return flat + [0] * (768 - len(flat))


def _png(classes: NDArray[np.uint8], palette: list[int]) -> bytes:
    """A palette PNG: class ``k`` in colour ``k`` at :data:`ALPHA`, :data:`NO_DATA` transparent."""
    image = Image.fromarray(classes, mode="P")
    image.putpalette(palette)
    alpha = bytes([ALPHA] * len(COST_COLORS) + [0] * (256 - len(COST_COLORS)))
    buf = io.BytesIO()
    image.save(buf, format="PNG", transparency=alpha, optimize=False, compress_level=6)
    return buf.getvalue()


def pyramid_info(pyramid: Pyramid) -> dict[str, Any]:
    """JSON form of a pyramid (without its folder)."""
    return {k: v for k, v in asdict(pyramid).items() if k != "folder"}
