"""Street networks straight from OSM extracts (``.osm.pbf``, ``.osm``, ``.osm.bz2``) with pyosmium.

:func:`read_street_network` reads the ways of one travel mode from a regional
extract (e.g. a Geofabrik Kreis or Regierungsbezirk file) into numpy arrays and
builds a :class:`geo.network.Network` without networkx. It reproduces the graph
that osmnx 2.1 builds from the same data (``graph_from_xml`` after the mode's
way filter, largest weakly connected component, ``simplify_graph``,
``add_edge_speeds`` / ``add_edge_travel_times``, ``project_graph``), see the
Notes of :func:`read_street_network` for the rules and the known differences.
"""

from __future__ import annotations

import logging
import re
from array import array
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, cast

import numpy as np
import osmium
import scipy.sparse as sp
import shapely
from numpy.typing import NDArray
from pyproj import Transformer
from scipy.sparse.csgraph import connected_components
from shapely.geometry.base import BaseGeometry

from geo.errors import DataError, SourceUnavailableError
from geo.io.bounded import check_osm_extract
from geo.io.limits import ReadLimits
from geo.modes import DRIVE_FALLBACK_KMH, STREET_MODES, StreetMode, travel_mode
from geo.network import Network
from geo.settings import DISPLAY_CRS, PROJECTED_CRS

logger = logging.getLogger(__name__)

#: Highway filters per mode in Overpass syntax, identical to osmnx 2.x
#: ``network_type`` filters (``osmnx._overpass._get_network_filter``, with
#: ``settings.default_access = '["access"!~"private"]'``); the tests check that
#: they stay identical. The offline readers apply them to the full tags of
#: each way, so offline and online graphs contain the same ways.
WAY_FILTERS: dict[str, str] = {
    "drive": (
        '["highway"]["area"!~"yes"]["access"!~"private"]'
        '["highway"!~"abandoned|bridleway|bus_guideway|construction|corridor|'
        "cycleway|elevator|escalator|footway|no|path|pedestrian|planned|platform|"
        'proposed|raceway|razed|rest_area|service|services|steps|track"]'
        '["motor_vehicle"!~"no"]["motorcar"!~"no"]'
        '["service"!~"alley|driveway|emergency_access|parking|parking_aisle|private"]'
    ),
    "walk": (
        '["highway"]["area"!~"yes"]["access"!~"private"]'
        '["highway"!~"abandoned|bus_guideway|construction|cycleway|motor|no|planned|'
        'platform|proposed|raceway|razed|rest_area|services"]'
        '["foot"!~"no"]["service"!~"private"]'
        '["sidewalk"!~"separate"]["sidewalk:both"!~"separate"]'
        '["sidewalk:left"!~"separate"]["sidewalk:right"!~"separate"]'
    ),
    "bike": (
        '["highway"]["area"!~"yes"]["access"!~"private"]'
        '["highway"!~"abandoned|bus_guideway|construction|corridor|elevator|'
        "escalator|footway|motor|no|planned|platform|proposed|raceway|razed|"
        'rest_area|services|steps"]'
        '["bicycle"!~"no"]["service"!~"private"]'
    ),
}


class TagLookup(Protocol):
    """Tags of a way: a ``dict`` or pyosmium's ``TagList`` (anything with ``get``)."""

    def get(self, key: str, default: None = None) -> str | None: ...


_FILTER_TERM = re.compile(r'\["(?P<key>[^"]+)"(?:(?P<op>!?~)"(?P<value>[^"]*)")?\]')

#: osmnx ``oneway`` values meaning "one-way" and "one-way against the node order"
#: (``osmnx.graph._add_paths``).
ONEWAY_VALUES = frozenset({"yes", "true", "1", "-1", "reverse", "T", "F"})
REVERSED_VALUES = frozenset({"-1", "reverse", "T"})
#: Mean earth radius of osmnx' great-circle lengths (``osmnx.distance.EARTH_RADIUS_M``).
EARTH_RADIUS_M = 6_371_009.0
#: Implicit ``maxspeed`` values (km/h) of osmnx' ``_IMPLICIT_MAXSPEEDS`` for the
#: countries an NRW extract touches (Germany, the Netherlands, Belgium, Luxembourg).
IMPLICIT_MAXSPEEDS: dict[str, float] = {
    "BE-BRU:rural": 70.0, "BE-BRU:urban": 30.0, "BE-VLG:rural": 70.0, "BE-VLG:urban": 50.0,
    "BE-WAL:rural": 90.0, "BE-WAL:urban": 50.0, "BE:cyclestreet": 30.0, "BE:living_street": 20.0,
    "BE:motorway": 120.0, "BE:trunk": 120.0, "BE:zone30": 30.0,
    "DE:bicycle_road": 30.0, "DE:living_street": 15.0, "DE:motorway": 120.0, "DE:rural": 80.0,
    "DE:urban": 50.0,
}  # fmt: skip
_MAXSPEED = re.compile(r"^([0-9][\.,0-9]*?)(?:[ ]?(?:km/h|kmh|kph|mph|knots))?$")
_MILES_TO_KM = 1.60934
_Members = tuple[NDArray[np.intp], NDArray[np.intp]]
#: way direction codes
_BOTH, _FORWARD, _BACKWARD = 0, 1, 2
#: osmium's fixed-point coordinates: 1e-7 degrees, this value for an unknown location
_PRECISION = 10_000_000.0
_UNDEFINED = 2_147_483_647
#: What pyosmium raises on a broken file: unreadable data, an illegal id, a coordinate that is no number.
OSM_READ_ERRORS: tuple[type[Exception], ...] = (RuntimeError, ValueError, OSError, osmium.InvalidLocationError)
_QUOTED = re.compile(r"'([^']{1,80})'")


def unreadable_osm(path: Path, shown: str, exc: Exception) -> DataError:
    """The German message for an OSM extract pyosmium cannot read, with the line of the culprit when found.

    pyosmium names the value it refused (``illegal id: '9223372036854775807'``,
    ``wrong format for coordinate: 'nan'``) but not where; for XML files the
    first line holding that value is looked up (streaming, bounded).
    """
    detail = str(exc).strip().splitlines()[0][:160] if str(exc).strip() else type(exc).__name__
    where = ""
    quoted = _QUOTED.search(detail)
    if quoted and not path.name.lower().endswith(".pbf"):
        line = _line_with(path, f'"{quoted.group(1)}"'.encode())
        where = f", Zeile {line}" if line else ""
    return DataError(
        f"Datei {shown}{where} ist keine lesbare OSM-Datei ({detail}). Erwartet wird ein unveränderter "
        "OSM-Auszug als .osm.pbf oder OSM-XML (.osm, .osm.bz2), z. B. von download.geofabrik.de; bitte die Datei "
        "neu herunterladen."
    )


def check_node_locations(path: Path, shown: str) -> None:
    """Refuse an OSM extract with a node whose location is missing or outside −180…180 / −90…90 degrees.

    For readers that do not use pyosmium's checks themselves (osmnx parses XML
    with the standard library and would wrap a longitude of 366° round to 6°).

    Raises
    ------
    DataError
        Naming the file and the first such node (and its line, for XML).
    """
    try:
        for obj in osmium.FileProcessor(str(path), osmium.osm.NODE):
            node = cast(osmium.osm.Node, obj)
            if not node.location.valid():
                line = None if path.name.lower().endswith(".pbf") else _line_with(path, f'id="{node.id}"'.encode())
                where = f", Zeile {line}" if line else ""
                raise DataError(
                    f"OSM-Datei {shown}{where}: Knoten {node.id} hat keine gültige Lage (Länge/Breite außerhalb "
                    "von −180…180 / −90…90 Grad). Bitte einen unveränderten OSM-Auszug verwenden."
                )
    except OSM_READ_ERRORS as exc:
        if isinstance(exc, DataError):
            raise
        raise unreadable_osm(path, shown, exc) from exc


def _line_with(path: Path, needle: bytes, max_lines: int = 50_000_000) -> int | None:
    """1-based number of the first line of an (optionally bz2/gzip-packed) XML file containing ``needle``."""
    import bz2
    import gzip

    name = path.name.lower()
    opener = bz2.open if name.endswith(".bz2") else gzip.open if name.endswith(".gz") else open
    try:
        with opener(path, "rb") as fh:
            for number, line in enumerate(fh, start=1):
                if needle in line[: 1 << 20]:
                    return number
                if number >= max_lines:
                    break
    except (OSError, EOFError, ValueError):
        return None
    return None


def way_predicate(mode: StreetMode) -> Callable[[TagLookup], bool]:
    """Compile the Overpass filter of ``mode`` into a predicate on a way's tags.

    Overpass semantics: ``["k"]`` needs the key, ``["k"~"re"]`` needs a value
    matching ``re`` somewhere, ``["k"!~"re"]`` holds when the key is absent or
    its value does not match.

    >>> accept = way_predicate("drive")
    >>> accept({"highway": "residential"}), accept({"highway": "footway"})
    (True, False)
    """
    terms = [
        (m["key"], m["op"], re.compile(m["value"]) if m["op"] else None)
        for m in _FILTER_TERM.finditer(WAY_FILTERS[mode])
    ]

    def accept(tags: TagLookup) -> bool:
        for key, op, rx in terms:
            value = tags.get(key)
            if op is None:
                if value is None:
                    return False
            elif op == "~":
                if value is None or rx is None or not rx.search(value):
                    return False
            elif value is not None and rx is not None and rx.search(value):
                return False
        return True

    return accept


@dataclass(frozen=True)
class _Ways:
    """The accepted ways of one mode as flat arrays (one row per node reference)."""

    way: NDArray[np.intp]  # way number per reference
    ref: NDArray[np.int64]  # OSM node id per reference
    lon: NDArray[np.float64]
    lat: NDArray[np.float64]
    direction: NDArray[np.int8]  # per way: _BOTH, _FORWARD, _BACKWARD
    highway: NDArray[np.object_]  # per way
    maxspeed: NDArray[np.object_]  # per way, None when untagged


def read_street_network(
    path: Path, mode: StreetMode, *, clip: BaseGeometry | None = None, limits: ReadLimits | None = None
) -> Network:
    """Read the street network of one mode from an OSM extract, osmnx-compatible.

    Parameters
    ----------
    path
        OSM extract: ``.osm.pbf`` (e.g. a Geofabrik Regierungsbezirk file),
        ``.osm``, ``.osm.bz2`` or ``.osm.gz``.
    mode
        ``"walk"``, ``"bike"`` or ``"drive"``.
    clip
        Optional area (shapely (Multi)Polygon in EPSG:25832). A way is kept
        **whole** when at least one of its nodes lies inside the area or on
        its boundary; ways with all nodes outside are dropped before the graph
        is built. So the network reaches up to the first node beyond the
        border along every street that crosses it (never farther than the
        crossing way's own end).
    limits
        Size limits checked before reading (:func:`geo.io.bounded.check_osm_extract`;
        defaults of :class:`geo.settings.Settings`).

    Returns
    -------
    Network
        Travel times in seconds, node coordinates in EPSG:25832, node ids =
        OSM node ids.

    Raises
    ------
    SourceUnavailableError
        If the file does not exist.
    DataError
        If the file is no readable OSM file (also: a node without a valid
        location, an illegal id, an unpacked size over the limit), holds no
        way of this mode, no such way lies in ``clip``, or the ways form no
        network (a lone ring).

    Notes
    -----
    The rules are osmnx 2.1's, so the graph equals that of
    :func:`geo.sources.streets.build_graph_from_xml` on the same data:

    * ways: the mode's Overpass filter :data:`WAY_FILTERS` on all tags of the
      way; node references missing from the extract (ways cut at its border)
      are trimmed, a way with a gap keeps its longest complete stretch; repeated
      consecutive references are dropped;
    * direction: walk ways are two-way; bike and drive ways are one-way when
      ``oneway`` is ``yes``/``true``/``1``/``-1``/``reverse``/``T``/``F`` or
      ``junction=roundabout``, against the node order for ``-1``/``reverse``/
      ``T`` (``_is_path_one_way``, ``_is_path_reversed``);
    * the largest weakly connected component is kept, then interstitial nodes
      are removed with the endpoint rules of ``simplification._is_endpoint``
      (self-loop; no in- or no out-edge; not exactly two neighbours with 2 or 4
      edges); parallel segments between two interstitial nodes collapse to one,
      as in osmnx;
    * length: great-circle distance (radius 6,371,009 m) between consecutive
      nodes on lon/lat, summed along the simplified edge;
    * speed: walk and bike at :data:`geo.modes.MODES` speeds; drive from
      ``maxspeed`` (osmnx' cleaning: ``|``-lists averaged, mph converted,
      implicit ``DE:urban`` etc. from :data:`IMPLICIT_MAXSPEEDS`), a merged edge
      with several distinct values gets their mean, edges without a value get
      the mean of their highway type over all edges, types without any value
      :data:`geo.modes.DRIVE_FALLBACK_KMH`. Where osmnx takes the first element
      of a Python ``set`` of highway types (order varies between runs), this
      reader takes the highway type of the first segment;
    * travel time = length / speed; of parallel edges the fastest is kept and
      self-loops are dropped (:meth:`Network.from_graph`).

    Coordinates are projected from EPSG:4326 to EPSG:25832 with one vectorised
    pyproj call; lengths in metres, times in seconds. Memory: pyosmium's
    location cache holds every node of the file (about 16 bytes each) while
    reading; the way arrays hold only ways of this mode.
    """
    if mode not in STREET_MODES:
        raise DataError(
            f"Unbekannter Verkehrsmodus »{mode}« für ein Straßennetz. Erlaubt sind: {', '.join(STREET_MODES)}."
        )
    path = Path(path)
    if not path.is_file():
        raise SourceUnavailableError(
            f"OSM-Datei {path} nicht gefunden. Bitte den Pfad prüfen "
            "(erwartet wird eine .osm.pbf-, .osm-, .osm.bz2- oder .osm.gz-Datei)."
        )
    check_osm_extract(path, path.name, limits or ReadLimits())
    ways = _read_ways(path, mode)
    if ways.direction.size == 0:
        raise DataError(
            f"Datei {path.name}: keine Wege für den Modus »{mode}« gefunden "
            "(keine passenden highway-Tags). Bitte einen OSM-Auszug mit Straßennetz verwenden."
        )
    to_xy = Transformer.from_crs(DISPLAY_CRS, PROJECTED_CRS, always_xy=True)
    x, y = to_xy.transform(ways.lon, ways.lat)
    if clip is not None:
        inside = shapely.intersects_xy(clip, x, y)
        keep_way = np.zeros(ways.direction.size, dtype=bool)
        keep_way[ways.way[inside]] = True
        if not keep_way.any():
            raise DataError(
                f"Datei {path.name}: im Planungsgebiet (mit Puffer) liegt kein Weg für den Modus »{mode}«. "
                "Passt die OSM-Datei zum Gebiet? Bitte einen Auszug wählen, der das Gebiet abdeckt."
            )
        keep_ref = keep_way[ways.way]
        ways = _Ways(
            ways.way[keep_ref], ways.ref[keep_ref], ways.lon[keep_ref], ways.lat[keep_ref],
            ways.direction, ways.highway, ways.maxspeed,
        )  # fmt: skip
        x, y = x[keep_ref], y[keep_ref]
    net = _build_network(ways, np.column_stack([x, y]), mode)
    if net.matrix.nnz == 0:
        raise DataError(
            f"Datei {path.name}: die Wege für den Modus »{mode}« bilden kein Straßennetz (nur ein Ring ohne "
            "Abzweig oder Wege ohne zwei verschiedene Knoten). Bitte einen größeren OSM-Auszug verwenden."
        )
    logger.info("%s: Netz %s mit %d Knoten, %d Kanten", path.name, mode, net.n_nodes, net.matrix.nnz)
    return net


def _read_ways(path: Path, mode: StreetMode) -> _Ways:
    """Stream ``path`` once and keep the ways of ``mode`` with their node locations."""
    accept = way_predicate(mode)
    bidirectional = mode == "walk"
    # compact typed buffers (8 + 4 + 4 bytes per node reference), not Python lists of ints
    refs = array("q")
    xs = array("i")
    ys = array("i")
    counts = array("q")
    direction: list[int] = []
    highway: list[str] = []
    maxspeed: list[str | None] = []
    trimmed = 0
    processor = (
        osmium.FileProcessor(str(path), osmium.osm.NODE | osmium.osm.WAY)
        .with_locations()
        .with_filter(osmium.filter.EntityFilter(osmium.osm.WAY))
        .with_filter(osmium.filter.KeyFilter("highway"))
    )
    try:
        for obj in processor:
            way = cast(osmium.osm.Way, obj)
            tags = way.tags
            if not accept(tags):
                continue
            nodes = [(nd.ref, nd.x, nd.y) for nd in way.nodes]
            if any(x == _UNDEFINED for _, x, _ in nodes):
                nodes = _longest_present_run(nodes)
                trimmed += 1
            if len(nodes) < 2:
                continue
            oneway = tags.get("oneway")
            if bidirectional:
                code = _BOTH
            elif oneway in REVERSED_VALUES:
                code = _BACKWARD
            elif oneway in ONEWAY_VALUES or tags.get("junction") == "roundabout":
                code = _FORWARD
            else:
                code = _BOTH
            direction.append(code)
            highway.append(tags.get("highway") or "")
            maxspeed.append(tags.get("maxspeed"))
            ref, x, y = zip(*nodes, strict=True)
            refs.extend(ref)
            xs.extend(x)
            ys.extend(y)
            counts.append(len(nodes))
    except OSM_READ_ERRORS as exc:
        raise unreadable_osm(path, path.name, exc) from exc
    lon = np.frombuffer(xs, dtype=np.int32) / _PRECISION
    lat = np.frombuffer(ys, dtype=np.int32) / _PRECISION
    bad = np.flatnonzero((np.abs(lon) > 180) | (np.abs(lat) > 90))
    if bad.size:
        node = int(np.frombuffer(refs, dtype=np.int64)[bad[0]])
        raise DataError(
            f"OSM-Datei {path.name}: Knoten {node} hat die Lage ({lon[bad[0]]:.7f}, {lat[bad[0]]:.7f}) außerhalb "
            f"von −180…180 / −90…90 Grad ({bad.size} Wegpunkte betroffen). Bitte einen unveränderten "
            "OSM-Auszug verwenden."
        )
    if trimmed:
        logger.info("%s: %d Wege am Rand des Auszugs gekürzt", path.name, trimmed)
    # osmium stores 1e-7 degree integers; x / 1e7 is exactly the float osmium (and an XML parser) gives
    return _Ways(
        way=np.repeat(np.arange(len(counts)), np.frombuffer(counts, dtype=np.int64)),
        ref=np.frombuffer(refs, dtype=np.int64).copy(),
        lon=lon,
        lat=lat,
        direction=np.asarray(direction, dtype=np.int8),
        highway=np.asarray(highway, dtype=object),
        maxspeed=np.asarray(maxspeed, dtype=object),
    )


def _longest_present_run(nodes: list[tuple[int, int, int]]) -> list[tuple[int, int, int]]:
    """The longest stretch of consecutive node references with a location (first one on ties)."""
    best: list[tuple[int, int, int]] = []
    run: list[tuple[int, int, int]] = []
    for node in nodes:
        if node[1] == _UNDEFINED:
            run = []
        else:
            run.append(node)
            if len(run) > len(best):
                best = run
    return best


def great_circle_m(
    lat1: NDArray[np.float64], lon1: NDArray[np.float64], lat2: NDArray[np.float64], lon2: NDArray[np.float64]
) -> NDArray[np.float64]:
    """Haversine distance in metres, exactly as ``osmnx.distance.great_circle``.

    >>> round(float(great_circle_m(np.array([50.0]), np.array([6.0]), np.array([50.0]), np.array([6.001]))[0]), 2)
    71.47
    """
    y1, y2 = np.deg2rad(lat1), np.deg2rad(lat2)
    x1, x2 = np.deg2rad(lon1), np.deg2rad(lon2)
    h = np.sin((y2 - y1) / 2) ** 2 + np.cos(y1) * np.cos(y2) * np.sin((x2 - x1) / 2) ** 2
    dist = 2 * np.arcsin(np.sqrt(np.minimum(1, h))) * EARTH_RADIUS_M
    return np.where(np.isnan(dist), 0.0, dist)


def _build_network(ways: _Ways, xy: NDArray[np.float64], mode: StreetMode) -> Network:
    """Segments → largest weak component → osmnx simplification → travel times."""
    # segments between consecutive references of one way, repeated references dropped
    same_way = ways.way[1:] == ways.way[:-1]
    dup = np.zeros(ways.ref.size, dtype=bool)
    dup[1:] = same_way & (ways.ref[1:] == ways.ref[:-1])
    keep = ~dup
    way, ref, lon, lat, xy = ways.way[keep], ways.ref[keep], ways.lon[keep], ways.lat[keep], xy[keep]
    a = np.flatnonzero(way[1:] == way[:-1])
    b = a + 1
    seg_way = way[a]
    seg_len = great_circle_m(lat[a], lon[a], lat[b], lon[b])
    node_ids, first, inverse = np.unique(ref, return_index=True, return_inverse=True)
    node_of_ref = inverse.astype(np.int32)  # node positions fit int32 (< 2^31 nodes): half the memory
    node_xy = xy[first]
    del ref, lon, lat, xy, first, inverse
    n = node_ids.size
    d = ways.direction[seg_way]
    fwd = d != _BACKWARD
    bwd = d != _FORWARD
    # osmnx adds the edges way by way, forward segments before the reversed ones
    u = np.concatenate([node_of_ref[a][fwd], node_of_ref[b][bwd]])
    v = np.concatenate([node_of_ref[b][fwd], node_of_ref[a][bwd]])
    e_len = np.concatenate([seg_len[fwd], seg_len[bwd]])
    e_way = np.concatenate([seg_way[fwd], seg_way[bwd]])
    order = np.argsort(e_way * 2 + np.repeat([0, 1], [int(fwd.sum()), int(bwd.sum())]), kind="stable")
    u, v, e_len, e_way = u[order], v[order], e_len[order], e_way[order]
    del a, b, seg_way, seg_len, node_of_ref, d, fwd, bwd, order

    # largest weakly connected component (osmnx truncate.largest_component: the first on ties)
    graph = sp.coo_array((np.ones(u.size), (u, v)), shape=(n, n))
    _, label = connected_components(graph, directed=True, connection="weak")
    in_big = label == int(np.argmax(np.bincount(label)))
    keep_e = in_big[u]
    u, v, e_len, e_way = u[keep_e], v[keep_e], e_len[keep_e], e_way[keep_e]

    u, v, e_len, e_way, left, members = _simplify(u, v, e_len, e_way, in_big)
    nodes = np.flatnonzero(left)
    speed = _speeds_kmh(mode, ways, e_way, members, u.size)
    times = e_len / (speed / 3.6)
    remap = np.full(n, -1, dtype=np.intp)
    remap[nodes] = np.arange(nodes.size)
    ru, rv = remap[u], remap[v]
    loop = ru == rv
    ru, rv, times, e_len, speed = ru[~loop], rv[~loop], times[~loop], e_len[~loop], speed[~loop]
    order = np.lexsort((times, rv, ru))
    ru, rv, times, e_len, speed = ru[order], rv[order], times[order], e_len[order], speed[order]
    firsts = np.ones(ru.size, dtype=bool)
    firsts[1:] = (ru[1:] != ru[:-1]) | (rv[1:] != rv[:-1])
    shape = (nodes.size, nodes.size)
    ru, rv = ru[firsts], rv[firsts]
    matrix = sp.csr_array((times[firsts], (ru, rv)), shape=shape)
    # lengths and (cars) tagged speeds in the matrix' order: each mode applies its own speed (Network.for_mode)
    lengths = sp.csr_array((e_len[firsts], (ru, rv)), shape=shape).data
    tagged = travel_mode(mode).speed_kmh is None  # the network whose mode takes each edge's tagged speed
    speeds = sp.csr_array((speed[firsts], (ru, rv)), shape=shape).data if tagged else None
    return Network(
        matrix=matrix,
        node_ids=node_ids[nodes].astype(np.int64),
        xy=node_xy[nodes],
        mode=mode,
        lengths=lengths,
        speeds_kmh=speeds,
    )


def _endpoints(u: NDArray[np.intp], v: NDArray[np.intp], n: int) -> NDArray[np.bool_]:
    """``osmnx.simplification._is_endpoint`` (strict rules 1-3) for every node of a multigraph.

    A node is an endpoint if it has a self-loop, no in- or no out-edge, or not
    exactly two neighbours with 2 or 4 edges (parallel edges counted).
    """
    indeg = np.bincount(v, minlength=n)
    outdeg = np.bincount(u, minlength=n)
    selfloop = np.zeros(n, dtype=bool)
    selfloop[u[u == v]] = True
    proper = u != v
    lo, hi = np.minimum(u[proper], v[proper]), np.maximum(u[proper], v[proper])
    pairs = np.unique(lo.astype(np.int64) * n + hi)
    neighbours = np.bincount(pairs // n, minlength=n) + np.bincount(pairs % n, minlength=n)
    degree = indeg + outdeg
    two_neighbours = (neighbours == 2) & ((degree == 2) | (degree == 4))
    return np.asarray(selfloop | (indeg == 0) | (outdeg == 0) | ~two_neighbours)


def _simplify(
    u: NDArray[np.intp],
    v: NDArray[np.intp],
    length: NDArray[np.float64],
    way: NDArray[np.intp],
    nodes: NDArray[np.bool_],
) -> tuple[NDArray[np.intp], NDArray[np.intp], NDArray[np.float64], NDArray[np.intp], NDArray[np.bool_], _Members]:
    """Remove interstitial nodes as ``osmnx.simplify_graph`` does (multigraph edge arrays in, out).

    ``nodes`` marks the nodes of the graph (edges in osmnx insertion order).
    Returns the simplified edges ``u, v, length``, the way of each edge's first
    segment, the nodes left and ``(member_edge, member_way)``: the way of every
    segment of every output edge (for the per-edge ``maxspeed`` values).
    """
    n = nodes.size
    endpoint = _endpoints(u, v, n) & nodes
    # paths start at an endpoint's distinct interstitial successors; one segment per (u, v) pair is followed
    inner = np.flatnonzero(~(endpoint[u] & endpoint[v])).astype(np.int32)
    _, pick = np.unique(u[inner].astype(np.int64) * n + v[inner], return_index=True)
    inner = inner[np.sort(pick)]
    iu, iv = u[inner], v[inner]
    # next segment after arriving at an interstitial node: leave it towards its other neighbour
    order = np.argsort(iu, kind="stable")
    start_at = np.searchsorted(iu[order], np.arange(n + 1))
    n_out = start_at[1:] - start_at[:-1]
    padded = np.append(order, -1)  # -1: no such out-edge
    first_out = np.where(n_out > 0, padded[np.minimum(start_at[:-1], order.size)], -1)
    second_out = np.where(n_out > 1, padded[np.minimum(start_at[:-1] + 1, order.size)], -1)
    c1 = first_out[iv]
    nxt = np.where((c1 >= 0) & (iv[np.maximum(c1, 0)] != iu), c1, second_out[iv])
    nxt = np.where(endpoint[iv], -1, nxt)
    del order, start_at, n_out, padded, first_out, second_out, c1
    starts = np.flatnonzero(endpoint[iu])
    cur, chain = starts, np.arange(starts.size)
    total = length[inner[cur]].copy()
    last = cur.copy()
    members_chain, members_edge, interior = [chain], [cur], []
    for _ in range(inner.size):
        step = nxt[cur]
        alive = step >= 0
        if not alive.any():
            break
        interior.append(iv[cur[alive]])
        cur, chain = step[alive], chain[alive]
        total[chain] += length[inner[cur]]
        last[chain] = cur
        members_chain.append(chain)
        members_edge.append(cur)
    unexpected = int((~endpoint[iv[last]]).sum())
    if unexpected:
        logger.warning("%d Wegketten enden an einem Zwischenknoten (OSM-Digitalisierungsfehler)", unexpected)
    # as osmnx: the interior nodes of every path are removed with all their edges; everything else stays
    removed = np.zeros(n, dtype=bool)
    if interior:
        removed[np.concatenate(interior)] = True
    left = nodes & ~removed
    new_u, new_v = iu[starts], iv[last]
    new_ok = left[new_u] & left[new_v]
    old = np.flatnonzero(left[u] & left[v])
    chain_no = np.concatenate(members_chain)
    ok_member = new_ok[chain_no]
    renumber = np.cumsum(new_ok) - 1
    member_edge = np.concatenate([renumber[chain_no[ok_member]], int(new_ok.sum()) + np.arange(old.size)])
    member_way = np.concatenate([way[inner[np.concatenate(members_edge)][ok_member]], way[old]])
    out_u = np.concatenate([new_u[new_ok], u[old]])
    out_v = np.concatenate([new_v[new_ok], v[old]])
    out_len = np.concatenate([total[new_ok], length[old]])
    out_way = np.concatenate([way[inner[starts]][new_ok], way[old]])
    # osmnx _remove_rings: drop components in which no node is an endpoint (isolated rings)
    if out_u.size or left.any():
        ends = _endpoints(out_u, out_v, n) & left
        graph = sp.coo_array((np.ones(out_u.size), (out_u, out_v)), shape=(n, n))
        _, label = connected_components(graph, directed=True, connection="weak")
        good = np.zeros(label.max() + 1, dtype=bool)
        good[label[ends]] = True
        left &= good[label]
        keep = left[out_u]
        renumber = np.cumsum(keep) - 1
        member_keep = keep[member_edge]
        member_edge, member_way = renumber[member_edge[member_keep]], member_way[member_keep]
        out_u, out_v, out_len, out_way = out_u[keep], out_v[keep], out_len[keep], out_way[keep]
    return out_u, out_v, out_len, out_way, left, (member_edge, member_way)


def _speeds_kmh(
    mode: StreetMode,
    ways: _Ways,
    edge_way: NDArray[np.intp],
    members: _Members,
    n_edges: int,
) -> NDArray[np.float64]:
    """Speed (km/h) per simplified edge: constant for walk/bike, osmnx imputation for drive."""
    kmh = travel_mode(mode).speed_kmh
    if kmh is not None:  # a constant speed; None: the speed of each edge from its tags
        return np.full(n_edges, float(kmh))
    member_edge, member_way = members
    tagged = np.array([s is not None for s in ways.maxspeed], dtype=bool)
    values, code = np.unique(np.where(tagged, ways.maxspeed, ""), return_inverse=True)
    kmh_of_value = np.array([clean_maxspeed(str(s)) if s else np.nan for s in values])
    sel = tagged[member_way]
    n_values = max(values.size, 1)
    pairs = np.unique(member_edge[sel].astype(np.int64) * n_values + code[member_way[sel]])
    edge, value_kmh = pairs // n_values, kmh_of_value[pairs % n_values]
    finite = np.isfinite(value_kmh)
    with np.errstate(invalid="ignore", divide="ignore"):
        # mean of the distinct readable values of an edge (one value: that value; none: nan)
        speed = np.bincount(edge, np.where(finite, value_kmh, 0.0), minlength=n_edges) / np.bincount(
            edge, finite, minlength=n_edges
        )
    _, hwy = np.unique(ways.highway[edge_way], return_inverse=True)
    known = np.isfinite(speed)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.bincount(hwy, np.where(known, speed, 0.0)) / np.bincount(hwy, known)
    mean = np.where(np.isfinite(mean), mean, DRIVE_FALLBACK_KMH)
    return np.where(known, speed, mean[hwy])


def clean_maxspeed(value: str) -> float:
    """A ``maxspeed`` tag in km/h as osmnx' ``_clean_maxspeed`` reads it; ``nan`` if unreadable.

    >>> clean_maxspeed("30"), clean_maxspeed("50|30"), clean_maxspeed("DE:urban"), clean_maxspeed("20 mph")
    (30.0, 40.0, 50.0, 32.1868)
    """
    try:
        values = []
        for part in value.split("|"):
            match = _MAXSPEED.match(part)
            number = float(match.group(1).replace(",", "."))  # type: ignore[union-attr]
            if "mph" in value.lower():
                number *= _MILES_TO_KM
            values.append(number)
        return float(np.mean(values))
    except (ValueError, AttributeError):
        return IMPLICIT_MAXSPEEDS.get(value, np.nan)
