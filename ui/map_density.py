"""Any number of points on the map: large layers are drawn as counted grid cells.

With about 400,000 Kitas stored the Karte failed for everyone: the map's data
went to the browser as one 217.9 MB message (Streamlit's ``MessageSizeError``).
Above :data:`MAX_MAP_POINTS` points a layer is therefore drawn as the cells of
a square grid in EPSG:25832 with the number of points in each cell; the cell
size is the smallest of :data:`CELL_SIZES_M` that gives at most
:data:`MAX_CELLS` cells, so the payload stays at a few MB whatever is stored.
The layer's name in the layer control and legend says so
(:func:`aggregation_note`), and the tooltip of a cell gives its count.
"""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from geo.formatting import de_int, de_number
from geo.layers.registry import LayerSpec
from geo.settings import PROJECTED_CRS
from ui.maps import to_display_geojson

#: Above this many points a layer is aggregated (the ≈ 59,000 NRW stops are still drawn one by one).
MAX_MAP_POINTS = 60_000
#: At most this many cells are drawn.
MAX_CELLS = 20_000
#: Cell edge lengths tried, in metres.
CELL_SIZES_M = (250, 500, 1_000, 2_000, 5_000, 10_000, 25_000, 50_000)


def cell_size_for(x: np.ndarray, y: np.ndarray, max_cells: int = MAX_CELLS) -> int:
    """The smallest edge length of :data:`CELL_SIZES_M` with at most ``max_cells`` occupied cells.

    >>> cell_size_for(np.array([0.0, 10.0, 900.0]), np.array([0.0, 0.0, 0.0]), max_cells=2)
    250
    >>> cell_size_for(np.array([0.0, 300.0, 600.0]), np.array([0.0, 0.0, 0.0]), max_cells=2)
    500
    """
    for size in CELL_SIZES_M:
        cells = np.unique(np.stack([np.floor(x / size), np.floor(y / size)], axis=1), axis=0)
        if len(cells) <= max_cells:
            return size
    return CELL_SIZES_M[-1]


def aggregate_points(gdf: gpd.GeoDataFrame, spec: LayerSpec, max_cells: int = MAX_CELLS) -> dict[str, Any]:
    """Display GeoJSON of a large point layer as counted grid cells (cell centres as points).

    Parameters
    ----------
    gdf
        Points in EPSG:25832.
    spec
        The layer's declaration (title for the tooltips).
    max_cells
        Upper bound of the number of cells.

    Returns
    -------
    dict
        A GeoJSON ``FeatureCollection`` like :func:`ui.maps.prepare_points`
        (``_tooltip`` rows per feature) with one more member ``aggregated``:
        ``{"points": n, "cells": m, "cell_m": edge length}``.

    Notes
    -----
    Cells are squares of the grid anchored at the EPSG:25832 origin; each is
    drawn at its centre. Coordinates go out in EPSG:4326.
    """
    pts = gdf.geometry
    x, y = pts.x.to_numpy(), pts.y.to_numpy()
    ok = np.isfinite(x) & np.isfinite(y)
    x, y = x[ok], y[ok]
    size = cell_size_for(x, y, max_cells)
    cells = pd.DataFrame({"i": np.floor(x / size).astype(np.int64), "j": np.floor(y / size).astype(np.int64)})
    counts = cells.value_counts().rename("n").reset_index()
    centres = gpd.GeoDataFrame(
        counts,
        geometry=gpd.points_from_xy((counts["i"] + 0.5) * size, (counts["j"] + 0.5) * size),
        crs=PROJECTED_CRS,
    )
    edge = f"{de_number(size / 1000, 2).rstrip('0').rstrip(',')} km"
    tooltips = [[[spec.title, f"{de_int(n)} in dieser Zelle ({edge} × {edge})"]] for n in counts["n"]]
    props = pd.DataFrame({"_tooltip": tooltips}, index=centres.index)
    data = to_display_geojson(centres, props)
    data["aggregated"] = {"points": int(ok.sum()), "cells": len(counts), "cell_m": size}
    return data


def aggregation_note(data: dict[str, Any]) -> dict[str, Any] | None:
    """``{"points", "cells", "km"}`` of an aggregated layer for the legend text, or ``None``."""
    agg = data.get("aggregated")
    if not agg:
        return None
    return {"points": de_int(agg["points"]), "cells": de_int(agg["cells"]), "km": de_number(agg["cell_m"] / 1000, 2)}
