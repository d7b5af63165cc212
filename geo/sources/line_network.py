"""Street networks from a municipality's own line data (GeoPackage, zipped Shapefile, GeoJSON).

Many cities publish their street network as line segments, e.g. Köln's
»Straßenabschnitte« (offenedaten-koeln.de), an ATKIS extract or a GIS
department's export. :func:`read_line_network` turns such a file into a
:class:`geo.network.Network`, the same structure the OSM reader
(:mod:`geo.sources.osm_pbf`) builds, so every travel-time analysis runs on it
unchanged. The file is read with the bounded reader of every upload
(:func:`geo.io.formats.read_table`: size, CRS and encoding checks).

Rules, chosen to match how such data is drawn:

* lines connect where they share a point: an end point or an interior vertex
  (OSM ways meet at shared nodes, a city's segments at their ends); points
  closer than :data:`JUNCTION_TOLERANCE_M` (1 cm: round-off of an export or a
  reprojection) are one; two lines crossing without a common vertex do not
  connect (a bridge), nor do lines that end a metre apart (a gap in the data
  stays a gap);
* every stretch between consecutive vertices is an edge, its length measured
  in EPSG:25832 (about 0.2 % longer at 51° N than osmnx' great circle on a
  sphere of mean radius, which is the shorter of the two);
* every edge can be walked and cycled both ways (line files carry no reliable
  one-way or access tags); cars are refused, because the file has no speeds;
* the largest connected component is kept (as osmnx and the OSM reader do), so
  a stray segment can never become the nearest node of a home.
"""

from __future__ import annotations

import logging
from pathlib import Path

import geopandas as gpd
import numpy as np
import scipy.sparse as sp
import shapely
from numpy.typing import NDArray
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree
from shapely.geometry.base import BaseGeometry

from geo.errors import DataError, SourceUnavailableError
from geo.io.formats import read_table
from geo.io.limits import ReadLimits
from geo.modes import STREET_MODES, StreetMode, travel_mode
from geo.network import Network
from geo.projection import NRW_BOUNDS_25832
from geo.settings import PROJECTED_CRS

logger = logging.getLogger(__name__)

#: File endings read as a street network of lines instead of an OSM extract.
LINE_NETWORK_SUFFIXES = frozenset({".gpkg", ".zip", ".geojson", ".json", ".shp"})
#: Column names (compared in lower case) that give the street name of a line.
STREET_NAME_COLUMNS = ("name", "strasse", "straße", "strassenname", "straßenname", "str_name", "bezeichnung")
#: Vertices closer than this (metres) are one junction.
JUNCTION_TOLERANCE_M = 0.01


def is_line_network(path: Path | str) -> bool:
    """Whether ``path`` names a line file (by its ending), not an OSM extract.

    >>> is_line_network("Strassenabschnitt.zip"), is_line_network("koeln.osm.pbf")
    (True, False)
    """
    return Path(path).suffix.lower() in LINE_NETWORK_SUFFIXES


def read_line_network(
    path: Path | str,
    mode: StreetMode,
    *,
    clip: BaseGeometry | None = None,
    limits: ReadLimits | None = None,
    name: str | None = None,
) -> Network:
    """Read a street network of one mode from a line file.

    Parameters
    ----------
    path
        GeoPackage, zipped Shapefile or GeoJSON with (Multi)LineStrings in
        any declared CRS.
    mode
        ``"walk"`` or ``"bike"``; ``"drive"`` is refused (no speeds in the file).
    clip
        Optional area in EPSG:25832; lines that touch it are kept whole.
    limits
        Size limits; the file may be as large as an OSM extract
        (``limits.max_osm_bytes``).
    name
        File name for messages (an upload's original name).

    Returns
    -------
    Network
        Edge lengths in metres and times at the mode's speed; node ids are
        the junction numbers 0…n-1 (the file has no stable node ids).

    Raises
    ------
    SourceUnavailableError
        If the file does not exist.
    DataError
        If the mode needs speeds, the file holds no lines, none in ``clip``,
        or the lines form no network.
    CRSError
        If the file has no or an unknown CRS.

    Examples
    --------
    Two segments meeting within a centimetre form one path of 300 m with three junctions:

    >>> import tempfile, geopandas as gpd
    >>> from shapely import LineString
    >>> lines = [LineString([(350000, 5650000), (350100, 5650000)]),
    ...          LineString([(350100.005, 5650000), (350100, 5650200)])]
    >>> f = Path(tempfile.mkdtemp()) / "netz.gpkg"
    >>> gpd.GeoDataFrame(geometry=lines, crs=25832).to_file(f)
    >>> net = read_line_network(f, "walk")
    >>> net.n_nodes, sorted(np.round(net.lengths, 2).tolist())
    (3, [100.0, 100.0, 200.0, 200.0])
    """
    path = Path(path)
    shown = name or path.name
    if mode not in STREET_MODES:
        raise DataError(f"Unbekannter Verkehrsmodus »{mode}« für ein Straßennetz. Erlaubt: {', '.join(STREET_MODES)}.")
    if travel_mode(mode).speed_kmh is None:
        raise DataError(
            f"Datei {shown}: ein Straßennetz aus Linien hat keine Geschwindigkeiten, Fahrzeiten mit dem Auto sind "
            "damit nicht möglich. Bitte zu Fuß oder mit dem Fahrrad rechnen oder einen OSM-Auszug (.osm.pbf) laden."
        )
    lines = read_lines(path, limits=limits, name=shown)
    if clip is not None:
        lines = lines[shapely.intersects(lines, clip)]
        if lines.size == 0:
            raise DataError(
                f"Datei {shown}: im Planungsgebiet (mit Puffer) liegt keine Linie des Straßennetzes. "
                "Passt die Datei zum Gebiet? Bitte ein Netz wählen, das das Gebiet abdeckt."
            )
    net = _network(lines, mode)
    if net.matrix.nnz == 0:
        raise DataError(f"Datei {shown}: die Linien bilden kein Straßennetz (keine zwei verbundenen Punkte).")
    logger.info("%s: Netz %s aus %d Linien, %d Knoten, %d Kanten", shown, mode, lines.size, net.n_nodes, net.matrix.nnz)
    return net


def read_lines(path: Path | str, *, limits: ReadLimits | None = None, name: str | None = None) -> NDArray[np.object_]:
    """The LineStrings of a line file in EPSG:25832 (MultiLineStrings split), checked as :func:`read_line_network`.

    Raises
    ------
    SourceUnavailableError
        If the file does not exist.
    DataError
        If the file holds no lines, or none in NRW after reprojection.
    CRSError
        If the file has no or an unknown CRS.
    """
    path = Path(path)
    shown = name or path.name
    if not path.is_file():
        raise SourceUnavailableError(f"Straßennetz-Datei {shown} nicht gefunden. Bitte den Pfad prüfen.")
    limits = limits or ReadLimits()
    frame = read_table(path, max_bytes=limits.max_osm_bytes, name=shown, limits=limits)
    if not isinstance(frame, gpd.GeoDataFrame):
        raise DataError(
            f"Datei {shown}: keine Geodaten. Ein Straßennetz braucht Linien (GeoPackage, Shapefile als ZIP, GeoJSON)."
        )
    return _in_nrw(_lines(frame.to_crs(PROJECTED_CRS).geometry.to_numpy(), shown), shown, frame.crs)


def street_name_points(path: Path | str, *, limits: ReadLimits | None = None) -> gpd.GeoDataFrame | None:
    """The vertices of the named lines of a line file: column ``name`` (text, as given), points in EPSG:25832.

    The name column is the first of :data:`STREET_NAME_COLUMNS` the file has (e.g. ``STRASSE`` of Köln's
    »Straßenabschnitte«); ``None`` without one.

    Raises
    ------
    DataError, CRSError, SourceUnavailableError
        As :func:`read_lines`.
    """
    path = Path(path)
    limits = limits or ReadLimits()
    frame = read_table(path, max_bytes=limits.max_osm_bytes, name=path.name, limits=limits)
    column = next((c for c in frame.columns if str(c).strip().lower() in STREET_NAME_COLUMNS), None)
    if column is None or not isinstance(frame, gpd.GeoDataFrame):
        return None
    text = frame[column].astype("string").str.strip()
    named = frame[text.fillna("").ne("").to_numpy()].to_crs(PROJECTED_CRS)
    coords, row = shapely.get_coordinates(named.geometry.to_numpy(), return_index=True)
    names = text[text.fillna("").ne("")].to_numpy()[row]
    return gpd.GeoDataFrame({"name": names}, geometry=gpd.points_from_xy(coords[:, 0], coords[:, 1]), crs=PROJECTED_CRS)


def _lines(geoms: NDArray[np.object_], shown: str) -> NDArray[np.object_]:
    """The non-empty LineStrings of ``geoms`` (MultiLineStrings split), refusing a file without any."""
    parts = shapely.get_parts(geoms[~shapely.is_missing(geoms)])
    lines = parts[(shapely.get_type_id(parts) == shapely.GeometryType.LINESTRING) & ~shapely.is_empty(parts)]
    if lines.size == 0:
        kinds = sorted({str(t) for t in shapely.get_type_id(parts)}) if parts.size else []
        found = ", ".join(shapely.GeometryType(int(k)).name for k in kinds) or "keine Geometrien"
        raise DataError(
            f"Datei {shown}: keine Linien gefunden ({found}). Ein Straßennetz braucht LineStrings, "
            "z. B. die Straßenabschnitte der Stadt."
        )
    return lines


def _in_nrw(lines: NDArray[np.object_], shown: str, crs: object) -> NDArray[np.object_]:
    """``lines`` unchanged if their coordinates are finite and some lie in NRW; else a CRS hint."""
    bounds = shapely.bounds(lines)
    finite = np.isfinite(bounds).all(axis=1)
    x0, y0, x1, y1 = NRW_BOUNDS_25832
    inside = finite & (bounds[:, 2] >= x0) & (bounds[:, 0] <= x1) & (bounds[:, 3] >= y0) & (bounds[:, 1] <= y1)
    if not finite.all() or not inside.any():
        bad = int((~finite).sum())
        what = f"{bad} Linien ergeben keine gültigen Koordinaten" if bad else "keine Linie liegt in NRW"
        raise DataError(
            f"Datei {shown}: {what} (angegebenes Koordinatensystem: {crs}). Stimmt das Koordinatensystem? "
            "GeoJSON ist immer in Längen-/Breitengrad (WGS84); Daten in UTM (EPSG:25832) bitte als GeoPackage "
            "oder als Shapefile-ZIP mit .prj speichern."
        )
    return lines


def _network(lines: NDArray[np.object_], mode: StreetMode) -> Network:
    """Junctions from the vertices, edges both ways, largest component, shortest of parallels."""
    coords, line = shapely.get_coordinates(lines, return_index=True)
    junction = _junctions(coords)
    stretch = np.flatnonzero((line[1:] == line[:-1]) & (junction[1:] != junction[:-1]))
    a, b = junction[stretch], junction[stretch + 1]
    length = np.hypot(*(coords[stretch + 1] - coords[stretch]).T)
    n = int(junction.max()) + 1
    _, label = connected_components(sp.coo_array((np.ones(a.size), (a, b)), shape=(n, n)), directed=False)
    biggest = int(np.argmax(np.bincount(label[a], minlength=n))) if a.size else 0
    keep = label[a] == biggest
    a, b, length = a[keep], b[keep], length[keep]
    nodes = np.unique(np.concatenate([a, b]))
    remap = np.full(n, -1, dtype=np.intp)
    remap[nodes] = np.arange(nodes.size)
    u, v = np.concatenate([remap[a], remap[b]]), np.concatenate([remap[b], remap[a]])
    metres = np.concatenate([length, length])
    order = np.lexsort((metres, v, u))
    u, v, metres = u[order], v[order], metres[order]
    first = np.ones(u.size, dtype=bool)
    first[1:] = (u[1:] != u[:-1]) | (v[1:] != v[:-1])
    xy = np.zeros((n, 2))
    xy[junction] = coords  # the vertices of a junction lie within the tolerance: any of them will do
    shape = (nodes.size, nodes.size)
    lengths = sp.csr_array((metres[first], (u[first], v[first])), shape=shape)
    speed_ms = float(travel_mode(mode).speed_kmh or 0) / 3.6
    matrix = sp.csr_array((lengths.data / speed_ms, lengths.indices, lengths.indptr), shape=shape)
    return Network(matrix, np.arange(nodes.size, dtype=np.int64), xy[nodes], mode, lengths=lengths.data)


def _junctions(points: NDArray[np.float64]) -> NDArray[np.intp]:
    """Junction number per point: points within :data:`JUNCTION_TOLERANCE_M` of each other (transitively) share one."""
    pairs = cKDTree(points).query_pairs(JUNCTION_TOLERANCE_M, output_type="ndarray")
    n = len(points)
    graph = sp.coo_array((np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])), shape=(n, n))
    _, label = connected_components(graph, directed=False)
    return label.astype(np.intp)
