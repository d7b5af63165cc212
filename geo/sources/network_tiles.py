"""Land-scale street networks: one streaming pass over a large OSM extract, cut into tiles and cached per tile.

A Geofabrik extract of all of NRW (``nordrhein-westfalen-latest.osm.pbf``,
about 750 MB) holds some 70 million nodes. Built as one network it would take
minutes and gigabytes for every question, even one about a single Kreis.
:func:`build_tile_set` reads such a file **once**, streaming: the ways of one
street network (the filter, trimming and direction rules of
:func:`geo.sources.osm_pbf.accepted_ways`) are sorted into **tiles**, one per
Kreis with an overlap buffer, spilled to disk chunk by chunk, and each tile is
then built on its own (:func:`geo.sources.osm_pbf.build_network`, osmnx'
rules) and cached as a plain ``.npz``. Memory stays bounded by pyosmium's node
location index, one chunk of ways and one tile, never by the whole network.

A question opens only the tiles it needs (:meth:`TileSet.load`): a Kreis or
Gemeinde its Kreis tile, a Regierungsbezirk or the Land the union of theirs.

**Exactness.** The buffer is the tile horizon (:attr:`geo.settings.Settings.network_tile_minutes`)
at the fastest speed on the network (:func:`tile_buffer_m`): every path of at
most that many minutes that starts in the Kreis stays inside its tile, so
travel times up to the horizon equal those on the whole network; longer ones
may come out longer (the search does not see beyond the tile). As in the
whole-file build, each tile keeps its largest connected component. The union
of tiles (a Regierungsbezirk, the Land) is exact at any time.

The tile cut is conservative: a way belongs to a tile when one of its nodes
lies in a raster cell (:data:`RASTER_M`) touching the buffered Kreis, so a
tile may reach up to a raster cell's diagonal beyond its buffer.
"""

from __future__ import annotations

import fcntl
import json
import logging
import math
import os
import shutil
import tempfile
import time
from array import array
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import scipy.sparse as sp
import shapely
from numpy.typing import NDArray
from pyproj import Transformer

from geo.errors import DataError, SourceUnavailableError
from geo.io.bounded import check_osm_extract
from geo.io.limits import ReadLimits
from geo.modes import MODES, STREET_MODES, StreetMode
from geo.network import NPZ_FORMAT, Network
from geo.settings import DISPLAY_CRS, PROJECTED_CRS, Settings
from geo.sources.line_network import is_line_network
from geo.sources.osm_pbf import (
    _PRECISION,
    OSM_READ_ERRORS,
    _Ways,
    accepted_ways,
    build_network,
    check_locations,
    unreadable_osm,
)

logger = logging.getLogger(__name__)

#: Version of a tile folder's layout (``index.json`` + one ``.npz`` per tile).
TILES_FORMAT = 1
#: Side (metres) of the raster that sorts node locations into tiles.
RASTER_M = 500.0
#: Node references gathered before a chunk of ways is sorted into the tiles' spill files.
CHUNK_REFS = 2_000_000
#: Fastest car speed (km/h) assumed for the buffer of the drive network (German advisory motorway speed);
#: edges tagged faster shorten the exact horizon of a drive tile a little.
DRIVE_MAX_KMH = 130.0
_TO_XY = Transformer.from_crs(DISPLAY_CRS, PROJECTED_CRS, always_xy=True)


def tile_buffer_m(network: StreetMode, minutes: float) -> float:
    """The overlap buffer (metres) of a tile: ``minutes`` at the fastest speed of any mode on ``network``.

    >>> tile_buffer_m("walk", 30), tile_buffer_m("bike", 30)
    (2250.0, 7500.0)
    """
    speeds = [
        max(m.speed_kmh if m.speed_kmh is not None else DRIVE_MAX_KMH, m.access_kmh)
        for m in MODES.values()
        if m.network == network
    ]
    return minutes * 60.0 * max(speeds, default=DRIVE_MAX_KMH) / 3.6


def is_land_scale(path: Path, settings: Settings) -> bool:
    """Whether the OSM extract is large enough to be built in tiles (:attr:`Settings.network_tile_bytes`).

    A street network of lines (:func:`geo.sources.line_network.is_line_network`) is always read whole.
    """
    return not is_line_network(path) and Path(path).stat().st_size >= settings.network_tile_bytes


@dataclass(frozen=True)
class Tile:
    """One built tile: a Kreis (``code``) with its buffer.

    Attributes
    ----------
    code, name
        AGS and name of the Kreis.
    file
        Name of the ``.npz`` in the tile folder.
    nodes, edges
        Size of the tile's network.
    bounds
        ``(minx, miny, maxx, maxy)`` of its nodes, EPSG:25832.
    """

    code: str
    name: str
    file: str
    nodes: int
    edges: int
    bounds: tuple[float, float, float, float]


@dataclass(frozen=True)
class TileSet:
    """The tiles of one street network of one extract, as cached on disk.

    Attributes
    ----------
    folder
        The cache folder (``index.json`` and the tiles' ``.npz``).
    source, source_hash
        The extract's file name and SHA-256.
    network
        The street network (way filter): ``walk``, ``bike`` or ``drive``.
    level
        Administrative level of the tiles (``kreis``).
    horizon_min, buffer_m
        Travel time up to which a tile is exact, and its overlap buffer.
    tiles
        The tiles holding a network (Kreise the extract does not reach have none).
    build_s
        Seconds the build took.
    """

    folder: Path
    source: str
    source_hash: str
    network: str
    level: str
    horizon_min: float
    buffer_m: float
    tiles: tuple[Tile, ...]
    build_s: float = 0.0

    def codes_for(self, region: str) -> tuple[str, ...]:
        """The tiles a question about ``region`` (an AGS prefix) needs.

        The Land (``05``) and a Regierungsbezirk (``051``) need every tile
        inside; a Kreis its own; a Gemeinde (8 digits) its Kreis.

        Raises
        ------
        DataError
            If the extract has no tile for the region.
        """
        region = str(region).strip()
        codes = tuple(t.code for t in self.tiles if t.code.startswith(region) or region.startswith(t.code))
        if not codes:
            raise DataError(
                f"Der OSM-Auszug {self.source} enthält kein Straßennetz ({self.network}) für das Gebiet {region}. "
                "Bitte einen Auszug wählen, der das Gebiet abdeckt."
            )
        return codes

    def load(self, codes: Sequence[str]) -> Network:
        """The network of the given tiles (their union when several; nodes by OSM id, each edge once).

        Raises
        ------
        DataError
            If a tile file is missing or unreadable (then the tile folder is rebuilt on the next build).
        """
        by_code = {t.code: t for t in self.tiles}
        nets = [Network.load(self.folder / by_code[c].file) for c in codes]
        return nets[0] if len(nets) == 1 else merge_networks(nets)

    def hull(self, codes: Sequence[str]) -> shapely.Polygon:
        """The bounding box of the tiles' nodes (EPSG:25832), without reading them."""
        by_code = {t.code: t for t in self.tiles}
        bounds = np.array([by_code[c].bounds for c in codes])
        return shapely.box(bounds[:, 0].min(), bounds[:, 1].min(), bounds[:, 2].max(), bounds[:, 3].max())

    def as_dict(self) -> dict[str, Any]:
        """JSON form (``index.json``)."""
        data = asdict(self)
        data["folder"] = None
        data["format"] = TILES_FORMAT
        return data

    @classmethod
    def read(cls, folder: Path) -> TileSet | None:
        """The tile set in ``folder``, or ``None`` when it is missing, unfinished or of an older layout."""
        index = folder / "index.json"
        try:
            data = json.loads(index.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if data.get("format") != TILES_FORMAT or data.get("npz_format") != NPZ_FORMAT:
            return None
        tiles = tuple(Tile(**{**t, "bounds": tuple(t["bounds"])}) for t in data["tiles"])
        if not all((folder / t.file).is_file() for t in tiles):
            return None
        fields = {k: data[k] for k in ("source", "source_hash", "network", "level", "horizon_min", "buffer_m")}
        return cls(folder=folder, tiles=tiles, build_s=float(data.get("build_s", 0.0)), **fields)


def merge_networks(nets: Sequence[Network]) -> Network:
    """The union of overlapping networks of one street network: nodes by OSM id, of parallel edges the fastest.

    Tiles overlap in their buffers; an edge present in two tiles is kept once.
    Lengths (and tagged speeds) follow the kept edge, so
    :meth:`Network.for_mode` works on the union as on each tile.
    """
    ids = np.concatenate([n.node_ids for n in nets])
    xy = np.concatenate([n.xy for n in nets])
    node_ids, first, inverse = np.unique(ids, return_index=True, return_inverse=True)
    offsets = np.concatenate([[0], np.cumsum([n.n_nodes for n in nets])])
    us, vs, times, lengths, speeds = [], [], [], [], []
    for net, start in zip(nets, offsets[:-1], strict=True):
        coo = net.matrix.tocoo()
        us.append(inverse[start + coo.row])
        vs.append(inverse[start + coo.col])
        times.append(coo.data)
        csr = net.matrix  # lengths/speeds are aligned with the CSR data, which tocoo() keeps in order
        lengths.append(net.lengths if net.lengths is not None else np.full(csr.nnz, np.nan))
        speeds.append(net.speeds_kmh if net.speeds_kmh is not None else np.full(csr.nnz, np.nan))
    u, v = np.concatenate(us), np.concatenate(vs)
    t, length, speed = np.concatenate(times), np.concatenate(lengths), np.concatenate(speeds)
    order = np.lexsort((t, v, u))
    u, v, t, length, speed = u[order], v[order], t[order], length[order], speed[order]
    keep = np.ones(u.size, dtype=bool)
    keep[1:] = (u[1:] != u[:-1]) | (v[1:] != v[:-1])
    n = node_ids.size
    u, v = u[keep], v[keep]
    matrix = sp.csr_array((t[keep], (u, v)), shape=(n, n))
    length_m = sp.csr_array((length[keep], (u, v)), shape=(n, n)).data
    speed_kmh = sp.csr_array((speed[keep], (u, v)), shape=(n, n)).data
    return Network(
        matrix=matrix,
        node_ids=node_ids.astype(np.int64),
        xy=xy[first],
        mode=nets[0].mode,
        crs=nets[0].crs,
        lengths=length_m if np.isfinite(length_m).all() else None,
        speeds_kmh=speed_kmh if np.isfinite(speed_kmh).all() else None,
    )


# --------------------------------------------------------------------------- building


def open_tile_set(
    path: Path,
    network: StreetMode,
    folder: Path,
    settings: Settings,
    *,
    source_hash: str = "",
    location_store: str | None = None,
) -> TileSet:
    """The tile set of ``path`` in ``folder``: read when built, else built now (once, under a file lock).

    Parallel callers (batch workers) wait for the first builder and then read
    its tiles; nothing is built twice.
    """
    found = TileSet.read(folder)
    if found is not None:
        return found
    folder.mkdir(parents=True, exist_ok=True)
    with _locked(folder / ".lock"):
        found = TileSet.read(folder)  # another process may have built it while we waited
        if found is not None:
            return found
        return build_tile_set(path, network, folder, settings, source_hash=source_hash, location_store=location_store)


def build_tile_set(
    path: Path,
    network: StreetMode,
    folder: Path,
    settings: Settings,
    *,
    units: gpd.GeoDataFrame | None = None,
    source_hash: str = "",
    location_store: str | None = None,
) -> TileSet:
    """Read ``path`` once and build one network tile per Kreis (with buffer) into ``folder``.

    Parameters
    ----------
    path
        OSM extract (``.osm.pbf`` as Geofabrik publishes it, or ``.osm``/``.osm.bz2``).
    network
        ``walk``, ``bike`` or ``drive``.
    folder
        Output folder; ``index.json`` is written last, so a folder without it
        is an unfinished build.
    settings
        Embedded Kreis boundaries and the tile horizon
        (:attr:`~geo.settings.Settings.network_tile_minutes`).
    units
        Tile polygons with ``ags`` and ``name`` in EPSG:25832 (default: the 53 Kreise).
    source_hash
        The extract's SHA-256, recorded in the index.
    location_store
        pyosmium's node location index (default ``flex_mem``, in memory, about
        16 bytes per node of the file; ``sparse_file_array,<file>`` keeps it on disk).

    Returns
    -------
    TileSet

    Raises
    ------
    SourceUnavailableError
        If the file is missing.
    DataError
        If it is no readable OSM file or holds no way of this network inside the tiles.

    Notes
    -----
    Coordinates are projected to EPSG:25832 chunk by chunk; the spill files
    hold osmium's fixed-point lon/lat, so each tile is built from exactly the
    values :func:`geo.sources.osm_pbf.read_street_network` would read.
    """
    if network not in STREET_MODES:
        raise DataError(f"Unbekanntes Straßennetz »{network}«. Erlaubt sind: {', '.join(STREET_MODES)}.")
    path = Path(path)
    if not path.is_file():
        raise SourceUnavailableError(f"OSM-Datei {path} nicht gefunden. Bitte den Pfad prüfen.")
    check_osm_extract(path, path.name, ReadLimits.from_settings(settings))
    t0 = time.perf_counter()
    if units is None:
        from geo.units import load_boundaries  # the boundaries are read only when tiles are built

        units = load_boundaries("kreis", settings)
    minutes = float(settings.network_tile_minutes)
    buffer_m = tile_buffer_m(network, minutes)
    raster = TileRaster(units.geometry.to_numpy(), buffer_m)
    folder.mkdir(parents=True, exist_ok=True)
    spill_dir = Path(tempfile.mkdtemp(prefix=".spill-", dir=folder))
    try:
        tables = _spill(path, network, raster, spill_dir, location_store or "flex_mem")
        tiles = []
        for t, (code, name) in enumerate(zip(units["ags"].astype(str), units["name"].astype(str), strict=True)):
            net = _build_tile(spill_dir, t, network, tables)
            if net is None:
                continue
            file = f"{code}.npz"
            net.save(folder / file)
            (x0, y0), (x1, y1) = net.xy.min(axis=0), net.xy.max(axis=0)
            bounds = (float(x0), float(y0), float(x1), float(y1))
            tiles.append(Tile(code, name, file, net.n_nodes, int(net.matrix.nnz), bounds))
            logger.info("Kachel %s (%s): %d Knoten, %d Kanten", code, name, net.n_nodes, net.matrix.nnz)
    finally:
        shutil.rmtree(spill_dir, ignore_errors=True)
    if not tiles:
        raise DataError(
            f"Datei {path.name}: kein Weg für das Netz »{network}« liegt in einem Kreis von NRW. "
            "Passt die OSM-Datei zu NRW?"
        )
    result = TileSet(
        folder=folder,
        source=path.name,
        source_hash=source_hash,
        network=network,
        level="kreis",
        horizon_min=minutes,
        buffer_m=buffer_m,
        tiles=tuple(tiles),
        build_s=time.perf_counter() - t0,
    )
    _write_json(folder / "index.json", {**result.as_dict(), "npz_format": NPZ_FORMAT})
    logger.info("%s: %d Kacheln (%s) in %.1f s", path.name, len(tiles), network, result.build_s)
    return result


class TileRaster:
    """Which tiles a location belongs to: a raster of bit masks over the buffered tile polygons.

    Parameters
    ----------
    polygons
        Tile polygons in EPSG:25832.
    buffer_m
        Overlap buffer (metres) around each.
    cell_m
        Raster cell side; a cell belongs to every tile whose buffered polygon it touches.
    """

    def __init__(self, polygons: NDArray[Any], buffer_m: float, cell_m: float = RASTER_M) -> None:
        buffered = shapely.simplify(shapely.buffer(polygons, buffer_m), cell_m / 10)
        x0, y0, x1, y1 = shapely.total_bounds(buffered)
        self.cell = float(cell_m)
        self.x0, self.y0 = math.floor(x0 / cell_m) * cell_m, math.floor(y0 / cell_m) * cell_m
        self.nx = math.ceil((x1 - self.x0) / cell_m)
        self.ny = math.ceil((y1 - self.y0) / cell_m)
        self.n_tiles = len(buffered)
        self.words = max(1, (self.n_tiles + 63) // 64)
        self.mask = np.zeros((self.ny, self.nx, self.words), dtype=np.uint64)
        for t, poly in enumerate(buffered):
            shapely.prepare(poly)
            bx0, by0, bx1, by1 = poly.bounds
            ix = np.arange(int((bx0 - self.x0) // cell_m), min(int((bx1 - self.x0) // cell_m) + 1, self.nx))
            iy = np.arange(int((by0 - self.y0) // cell_m), min(int((by1 - self.y0) // cell_m) + 1, self.ny))
            gx, gy = np.meshgrid(ix, iy)
            boxes = shapely.box(
                self.x0 + gx * cell_m, self.y0 + gy * cell_m, self.x0 + (gx + 1) * cell_m, self.y0 + (gy + 1) * cell_m
            )
            hit = shapely.intersects(poly, boxes)
            self.mask[gy[hit], gx[hit], t // 64] |= np.uint64(1 << (t % 64))

    def masks(self, x: NDArray[np.float64], y: NDArray[np.float64]) -> NDArray[np.uint64]:
        """Bit masks ``(n, words)`` of the tiles each location belongs to (0 outside every tile)."""
        ix = np.floor((x - self.x0) / self.cell).astype(np.int64)
        iy = np.floor((y - self.y0) / self.cell).astype(np.int64)
        inside = (ix >= 0) & (ix < self.nx) & (iy >= 0) & (iy < self.ny)
        out = np.zeros((x.size, self.words), dtype=np.uint64)
        out[inside] = self.mask[iy[inside], ix[inside]]
        return out


class _Chunk:
    """Accepted ways gathered before they are sorted into the tiles (compact typed buffers)."""

    def __init__(self) -> None:
        self.refs, self.xs, self.ys = array("q"), array("i"), array("i")  # per node reference
        self.counts, self.direction = array("q"), array("b")  # per way
        self.highway, self.maxspeed = array("i"), array("i")  # per way: codes into the string tables


#: Spill file of a tile per column, with its dtype; the first three have one value per node reference.
_COLUMNS: dict[str, type[np.generic]] = {
    "refs": np.int64,
    "xs": np.int32,
    "ys": np.int32,
    "counts": np.int64,
    "direction": np.int8,
    "highway": np.int32,
    "maxspeed": np.int32,
}
_PER_REF = ("refs", "xs", "ys")


def _spill(
    path: Path, network: StreetMode, raster: TileRaster, spill_dir: Path, location_store: str
) -> tuple[NDArray[np.object_], NDArray[np.object_]]:
    """Stream the ways into per-tile spill files; returns the highway and maxspeed string tables."""
    highway_codes: dict[str, int] = {}
    maxspeed_codes: dict[str | None, int] = {None: 0}
    chunk = _Chunk()
    trimmed = 0
    try:
        for way in accepted_ways(path, network, location_store):
            trimmed += way.trimmed
            chunk.refs.extend(way.refs)
            chunk.xs.extend(way.xs)
            chunk.ys.extend(way.ys)
            chunk.counts.append(len(way.refs))
            chunk.direction.append(way.direction)
            chunk.highway.append(highway_codes.setdefault(way.highway, len(highway_codes)))
            chunk.maxspeed.append(maxspeed_codes.setdefault(way.maxspeed, len(maxspeed_codes)))
            if len(chunk.refs) >= CHUNK_REFS:
                _flush(chunk, raster, spill_dir, path)
                chunk = _Chunk()
    except OSM_READ_ERRORS as exc:
        raise unreadable_osm(path, path.name, exc) from exc
    _flush(chunk, raster, spill_dir, path)
    if trimmed:
        logger.info("%s: %d Wege am Rand des Auszugs gekürzt", path.name, trimmed)
    return np.array(list(highway_codes), dtype=object), np.array(list(maxspeed_codes), dtype=object)


def _flush(chunk: _Chunk, raster: TileRaster, spill_dir: Path, path: Path) -> None:
    """Sort one chunk of ways into the spill files of every tile they touch."""
    counts = np.frombuffer(chunk.counts, dtype=np.int64)
    if counts.size == 0:
        return
    cols = {name: np.frombuffer(getattr(chunk, name), dtype=dtype) for name, dtype in _COLUMNS.items()}
    lon, lat = cols["xs"] / _PRECISION, cols["ys"] / _PRECISION
    check_locations(path, cols["refs"], lon, lat)
    x, y = _TO_XY.transform(lon, lat)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    way_mask = np.bitwise_or.reduceat(raster.masks(np.asarray(x), np.asarray(y)), starts, axis=0)
    for word in range(raster.words):
        present = np.bitwise_or.reduce(way_mask[:, word])
        for bit in range(64):
            if not (int(present) >> bit) & 1:
                continue
            ways = ((way_mask[:, word] >> np.uint64(bit)) & np.uint64(1)).astype(bool)
            refs = np.repeat(ways, counts)
            tile = word * 64 + bit
            for name, values in cols.items():
                selected = values[refs] if name in _PER_REF else values[ways]
                with (spill_dir / f"{tile}.{name}").open("ab") as fh:
                    selected.tofile(fh)


def _build_tile(
    spill_dir: Path, tile: int, network: StreetMode, tables: tuple[NDArray[np.object_], NDArray[np.object_]]
) -> Network | None:
    """The network of one tile from its spill files (``None`` when it has no way or no network)."""
    if not (spill_dir / f"{tile}.counts").is_file():
        return None
    cols = {name: np.fromfile(spill_dir / f"{tile}.{name}", dtype=dtype) for name, dtype in _COLUMNS.items()}
    highway, maxspeed = tables
    lon, lat = cols["xs"] / _PRECISION, cols["ys"] / _PRECISION
    ways = _Ways(
        way=np.repeat(np.arange(cols["counts"].size), cols["counts"]),
        ref=cols["refs"],
        lon=lon,
        lat=lat,
        direction=cols["direction"],
        highway=highway[cols["highway"]],
        maxspeed=maxspeed[cols["maxspeed"]],
    )
    x, y = _TO_XY.transform(lon, lat)
    net = build_network(ways, np.column_stack([x, y]), network)
    for name in _COLUMNS:
        (spill_dir / f"{tile}.{name}").unlink()
    return net if net.matrix.nnz else None


@contextmanager
def _locked(lock: Path) -> Iterator[None]:
    """An exclusive lock on ``lock`` (waits for another process holding it)."""
    with lock.open("a") as fh:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


def _write_json(path: Path, data: dict[str, Any]) -> None:
    """Write ``data`` under a temporary name and rename it (never half a file)."""
    partial = path.with_name(f".{path.name}.{os.getpid()}.partial")
    partial.write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")
    partial.replace(path)
