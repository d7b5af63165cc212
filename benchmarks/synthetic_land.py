"""A **synthetic** Land-sized walk network: the real Aachen walk network tiled k × k.

Used by the search and siting benchmarks; never passed off as real data. The
Aachen extract (``../shared/data/osm/aachen.osm.pbf``, central Aachen, about
8.6 × 5.4 km, 14,317 walk nodes) is read with the project's own reader and
copied ``k × k`` times, shifted by the extract's extent plus 20 m, with node
ids offset per tile. Neighbouring tiles are joined by footways between the
``links`` node pairs closest across each shared border (both ways, at walking
speed), so searches cross tile borders as they would between districts.
Facilities (the extract's 94 Kitas), public-transport stops (1,046) and the
100 m cell centres within 500 m of the network are copied with their tile.

17 × 17 tiles give 4.14 M nodes (about the walk network of a large
Regierungsbezirk; NRW's would be larger), 4 × 4 a Kreis-sized cut (229 k nodes,
740 km²).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray
from scipy.spatial import cKDTree

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT.parent / "shared" / "data"
PBF = DATA / "osm" / "aachen.osm.pbf"
FACILITIES = DATA / "facilities" / "aachen_osm2021_facilities.geojson"
STOPS = DATA / "facilities" / "aachen_osm2021_pt_stops.geojson"
TILE_ID_OFFSET = 10_000_000_000
WALK_MS = 4.5 / 3.6


@dataclass(frozen=True)
class Land:
    """The tiled network and the tiled points (node positions and coordinates, EPSG:25832)."""

    net: object  # geo.network.Network (imported lazily: the benchmark sets sys.path first)
    tiles: int
    kita_xy: NDArray[np.float64]
    stop_xy: NDArray[np.float64]
    cell_xy: NDArray[np.float64]
    tile_of_node: NDArray[np.int32]


def _base() -> tuple[object, NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    import geopandas as gpd

    from geo.settings import PROJECTED_CRS
    from geo.sources.osm_pbf import read_street_network

    net = read_street_network(PBF, "walk")
    fac = gpd.read_file(FACILITIES)
    kitas = fac[fac["amenity"] == "kindergarten"].to_crs(PROJECTED_CRS)
    kita_xy = np.column_stack([kitas.geometry.representative_point().x, kitas.geometry.representative_point().y])
    stops = gpd.read_file(STOPS).to_crs(PROJECTED_CRS)
    stop_xy = np.column_stack([stops.geometry.x, stops.geometry.y])
    lo, hi = net.xy.min(axis=0), net.xy.max(axis=0)
    gx, gy = np.meshgrid(
        np.arange(np.floor(lo[0] / 100) * 100 + 50, hi[0], 100.0),
        np.arange(np.floor(lo[1] / 100) * 100 + 50, hi[1], 100.0),
    )
    cells = np.column_stack([gx.ravel(), gy.ravel()])
    d, _ = net.tree.query(cells)
    return net, kita_xy, stop_xy, cells[d <= 500.0]


def tiled(k: int, links: int = 40) -> Land:
    """The Aachen walk network tiled ``k × k`` (synthetic), with its Kitas, stops and cells."""
    from geo.network import Network

    base, kita_xy, stop_xy, cell_xy = _base()
    n0 = base.n_nodes
    m = sp.coo_array(base.matrix)
    lo, hi = base.xy.min(axis=0), base.xy.max(axis=0)
    step = (hi - lo) + 20.0
    # border nodes: the ``links`` nodes nearest to each side of the tile
    right = np.argsort(-base.xy[:, 0])[: 4 * links]
    left = np.argsort(base.xy[:, 0])[: 4 * links]
    top = np.argsort(-base.xy[:, 1])[: 4 * links]
    bottom = np.argsort(base.xy[:, 1])[: 4 * links]

    def joins(a: NDArray[np.intp], b: NDArray[np.intp], shift: NDArray[np.float64]) -> tuple[NDArray, NDArray, NDArray]:
        d, j = cKDTree(base.xy[b] + shift).query(base.xy[a])
        best = np.argsort(d)[:links]
        return a[best], b[j[best]], d[best] / WALK_MS

    ra, rb, rt = joins(right, left, np.array([step[0], 0.0]))
    ta, tb, tt = joins(top, bottom, np.array([0.0, step[1]]))
    rows, cols, vals, xys = [], [], [], []
    for ty in range(k):
        for tx in range(k):
            t = ty * k + tx
            off = t * n0
            rows.append(m.row + off)
            cols.append(m.col + off)
            vals.append(m.data)
            xys.append(base.xy + step * np.array([tx, ty]))
            if tx + 1 < k:
                other = (t + 1) * n0
                rows += [ra + off, rb + other]
                cols += [rb + other, ra + off]
                vals += [rt, rt]
            if ty + 1 < k:
                other = (t + k) * n0
                rows += [ta + off, tb + other]
                cols += [tb + other, ta + off]
                vals += [tt, tt]
    n = n0 * k * k
    matrix = sp.csr_array(
        (np.concatenate(vals), (np.concatenate(rows).astype(np.int64), np.concatenate(cols).astype(np.int64))),
        shape=(n, n),
    )
    node_ids = (np.arange(k * k, dtype=np.int64)[:, None] * TILE_ID_OFFSET + base.node_ids[None, :]).ravel()
    net = Network(matrix, node_ids, np.vstack(xys), "walk")
    shifts = np.array([[tx, ty] for ty in range(k) for tx in range(k)], dtype=np.float64) * step

    def copy(xy: NDArray[np.float64]) -> NDArray[np.float64]:
        return (xy[None, :, :] + shifts[:, None, :]).reshape(-1, 2)

    tile_of_node = np.repeat(np.arange(k * k, dtype=np.int32), n0)
    return Land(net, k, copy(kita_xy), copy(stop_xy), copy(cell_xy), tile_of_node)
