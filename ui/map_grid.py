"""Per-cell results (100 m grid) on the Leaflet map as one PNG image overlay.

Thousands of grid cells as SVG paths make the browser crawl; one image does
not. :func:`grid_image` samples the cells (EPSG:25832) onto a raster whose
pixels are aligned with Web-Mercator (EPSG:3857), which is what Leaflet
draws in, so the image can be laid over the map with plain ``L.imageOverlay``
at its EPSG:4326 corner coordinates without distortion. Colours come from a
:class:`ui.maps.Classification` (the same classes as the legend).
"""

from __future__ import annotations

import base64
import io
from dataclasses import dataclass

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
from PIL import Image
from pyproj import Transformer

from geo.projection import ensure_projected
from integrationsatlas.classes import NO_DATA_COLOR

#: Longest image side in pixels (NRW at 100 m fits with about 2 pixels per cell side at zoom 10).
MAX_SIDE_PX = 2048
_TO_3857 = Transformer.from_crs("EPSG:25832", "EPSG:3857", always_xy=True)
_FROM_3857 = Transformer.from_crs("EPSG:3857", "EPSG:25832", always_xy=True)
_TO_4326 = Transformer.from_crs("EPSG:3857", "EPSG:4326", always_xy=True)


@dataclass(frozen=True)
class GridImage:
    """An RGBA raster in EPSG:3857 pixels and its corners.

    Attributes
    ----------
    rgba
        ``(rows, cols, 4)`` uint8 array, north up.
    bounds
        ``((south, west), (north, east))`` in EPSG:4326 degrees (Leaflet order).
    """

    rgba: np.ndarray
    bounds: tuple[tuple[float, float], tuple[float, float]]

    def png_data_url(self) -> str:
        """The image as a ``data:image/png;base64,…`` URL (no file, no server round trip)."""
        buf = io.BytesIO()
        Image.fromarray(self.rgba, mode="RGBA").save(buf, format="PNG", optimize=True)
        return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def _rgba(colors: pd.Series, alpha: int) -> np.ndarray:
    hexes = colors.astype("string").fillna(NO_DATA_COLOR).str.lstrip("#").to_numpy(dtype=str)
    ints = np.array([int(h[:6], 16) for h in hexes], dtype=np.int64) if len(hexes) else np.zeros(0, np.int64)
    out = np.empty((len(ints), 4), dtype=np.uint8)
    out[:, 0], out[:, 1], out[:, 2], out[:, 3] = (ints >> 16) & 255, (ints >> 8) & 255, ints & 255, alpha
    return out


def grid_image(
    cells: gpd.GeoDataFrame,
    colors: pd.Series,
    cell_m: float | None = None,
    alpha: int = 190,
    max_side_px: int = MAX_SIDE_PX,
) -> GridImage:
    """Sample square grid cells onto a Web-Mercator-aligned RGBA raster.

    Parameters
    ----------
    cells
        Square cells (polygons or their centre points) in EPSG:25832.
    colors
        Hex colour per cell, indexed like ``cells``; missing means transparent.
    cell_m
        Cell side in metres; ``None`` takes it from the first polygon's width
        (100 m for points).
    alpha
        Opacity of coloured pixels (0–255).
    max_side_px
        Longest image side; the pixel size grows beyond half a cell to stay within it.

    Returns
    -------
    GridImage

    Notes
    -----
    Cells are in EPSG:25832 (metres). Every image pixel centre (EPSG:3857) is
    transformed back to EPSG:25832 and looked up in the cell index by
    ``floor(x / cell_m)``, ``floor(y / cell_m)`` relative to the grid origin
    (vectorised; no loop over cells). Pixels are about half a cell wide.

    >>> import shapely
    >>> cells = gpd.GeoDataFrame(geometry=[shapely.box(400_000, 5_700_000, 400_100, 5_700_100),
    ...                                    shapely.box(400_100, 5_700_000, 400_200, 5_700_100)], crs="EPSG:25832")
    >>> img = grid_image(cells, pd.Series(["#ff0000", "#0000ff"]))
    >>> img.rgba.shape[2], bool((img.rgba[..., 0] == 255).any() and (img.rgba[..., 2] == 255).any())
    (4, True)
    """
    ensure_projected(cells, "Rasterzellen")
    geoms = cells.geometry
    is_point = bool((geoms.geom_type == "Point").all())
    if cell_m is None:
        if is_point:
            cell_m = 100.0
        else:
            b = geoms.iloc[0].bounds
            cell_m = float(b[2] - b[0])
    centre = geoms.to_numpy() if is_point else geoms.centroid.to_numpy()
    cx, cy = gpd.GeoSeries(centre).x.to_numpy(), gpd.GeoSeries(centre).y.to_numpy()
    ix = np.floor(cx / cell_m).astype(np.int64)
    iy = np.floor(cy / cell_m).astype(np.int64)
    ix0, iy0 = int(ix.min()), int(iy.min())
    lookup = np.full((int(iy.max()) - iy0 + 1, int(ix.max()) - ix0 + 1), -1, dtype=np.int64)
    lookup[iy - iy0, ix - ix0] = np.arange(len(cx))
    palette = _rgba(colors.reindex(cells.index), alpha)
    palette[colors.reindex(cells.index).isna().to_numpy(), 3] = 0
    # extent of the cells (their outer edges) in EPSG:3857
    ex = np.array([ix0 * cell_m, (ix.max() + 1) * cell_m, ix0 * cell_m, (ix.max() + 1) * cell_m])
    ey = np.array([iy0 * cell_m, iy0 * cell_m, (iy.max() + 1) * cell_m, (iy.max() + 1) * cell_m])
    mx, my = _TO_3857.transform(ex, ey)
    west, east, south, north = float(np.min(mx)), float(np.max(mx)), float(np.min(my)), float(np.max(my))
    # one cell side in EPSG:3857 metres (about 1.6 × in NRW); pixels are half of that
    cell_3857 = float(np.diff(_TO_3857.transform([ex[0], ex[0] + cell_m], [ey[0], ey[0]])[0])[0])
    px = max(cell_3857 / 2.0, (east - west) / max_side_px, (north - south) / max_side_px)
    cols, rows = max(1, int(np.ceil((east - west) / px))), max(1, int(np.ceil((north - south) / px)))
    east, south = west + cols * px, north - rows * px
    gx, gy = np.meshgrid(west + (np.arange(cols) + 0.5) * px, north - (np.arange(rows) + 0.5) * px)
    ux, uy = _FROM_3857.transform(gx.ravel(), gy.ravel())
    jx = np.floor(np.asarray(ux) / cell_m).astype(np.int64) - ix0
    jy = np.floor(np.asarray(uy) / cell_m).astype(np.int64) - iy0
    inside = (jx >= 0) & (jy >= 0) & (jx < lookup.shape[1]) & (jy < lookup.shape[0])
    idx = np.full(jx.shape, -1, dtype=np.int64)
    idx[inside] = lookup[jy[inside], jx[inside]]
    rgba = np.zeros((rows * cols, 4), dtype=np.uint8)
    hit = idx >= 0
    rgba[hit] = palette[idx[hit]]
    (w_lon, e_lon), (s_lat, n_lat) = _TO_4326.transform([west, east], [south, north])
    return GridImage(rgba.reshape(rows, cols, 4), ((float(s_lat), float(w_lon)), (float(n_lat), float(e_lon))))


def grid_overlay_layer(image: GridImage, name: str, opacity: float = 1.0) -> folium.raster_layers.ImageOverlay:
    """A Leaflet image overlay of ``image`` (not interactive; the legend explains the colours)."""
    return folium.raster_layers.ImageOverlay(
        image=image.png_data_url(),
        bounds=[list(image.bounds[0]), list(image.bounds[1])],
        name=name,
        opacity=opacity,
        interactive=False,
        cross_origin=False,
        zindex=1,
        mercator_project=False,
        className="atlas-grid",
    )
