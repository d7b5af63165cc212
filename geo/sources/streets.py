"""Street networks: acquisition and on-disk cache.

Offline from an OSM extract (``.osm.pbf``, ``.osm``, ``.osm.bz2``) with the
pyosmium reader :func:`geo.sources.osm_pbf.read_street_network` or from a
municipality's own line data with :func:`geo.sources.line_network.read_line_network`, online with
``osmnx.graph_from_polygon`` (Overpass). The network of one mode is built once
and cached; analyses receive a :class:`geo.network.Network`.
:func:`build_graph_from_xml` (the former offline path through osmnx) is kept
as the reference the reader is compared with.
"""

from __future__ import annotations

import bz2
import gzip
import hashlib
import logging
import tempfile
import xml.etree.ElementTree as ET
from collections import OrderedDict
from collections.abc import Container, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, TYPE_CHECKING, cast
from xml.sax.saxutils import quoteattr

import networkx as nx
import numpy as np
import requests
import shapely
from pyproj import Transformer
from shapely.geometry.base import BaseGeometry

from geo.errors import CRSError, DataError, SourceUnavailableError
from geo.io.limits import ReadLimits
from geo.modes import DRIVE_FALLBACK_KMH, STREET_MODES, StreetMode, TravelMode, travel_mode
from geo.network import NPZ_FORMAT, Network
from geo.projection import NRW_BOUNDS_25832
from geo.settings import DISPLAY_CRS, PROJECTED_CRS, Settings
from geo.sources.line_network import is_line_network, read_line_network
from geo.sources.network_tiles import TileSet, is_land_scale, open_tile_set
from geo.sources.osm_pbf import WAY_FILTERS, read_street_network, way_predicate

if TYPE_CHECKING:
    from geo.store.postgis import ResultCache

logger = logging.getLogger(__name__)

__all__ = ["WAY_FILTERS", "build_graph_from_polygon", "build_graph_from_xml", "content_hash", "load_network"]

# --------------------------------------------------------------------------- graphs


def build_graph_from_xml(path: Path, mode: StreetMode, settings: Settings) -> nx.MultiDiGraph:
    """Build the street network of one mode from an OSM XML file (offline).

    Parameters
    ----------
    path
        OSM XML file (``.osm``, ``.osm.bz2`` or ``.osm.gz``), e.g. an extract
        from a regional download service.
    mode
        ``"walk"``, ``"bike"`` or ``"drive"``.
    settings
        Project settings; ``settings.crs`` is the target CRS.

    Returns
    -------
    networkx.MultiDiGraph
        Simplified osmnx graph in ``settings.crs`` with edge attributes
        ``length`` (m), ``speed_kph`` and ``travel_time`` (s).

    Raises
    ------
    SourceUnavailableError
        If the file does not exist.
    DataError
        If the file is not valid OSM XML or holds no way of this mode.

    Notes
    -----
    ``osmnx.graph_from_xml`` turns *every* way of a file into edges (buildings,
    land use…). So the file is first filtered with the mode's osmnx highway
    filter (:data:`WAY_FILTERS`, evaluated on all tags of each way, as Overpass
    does online) into a temporary file holding only those ways and their nodes;
    no isolated node survives. From it osmnx builds the graph (walk graphs
    bidirectional, as ``graph_from_polygon`` does), keeps the **largest weakly
    connected component** (osmnx' default; for walk graphs it is also strongly
    connected, in bike/drive graphs a few one-way dead ends may be unable to
    reach a facility and then get an infinite travel time) and simplifies it.
    Travel times use the constant speeds of :data:`geo.modes.MODES` for walk/bike and osmnx speeds for
    drive. The graph is projected to EPSG:25832 (metres).
    """
    mode = _check_mode(mode)
    path = Path(path)
    if not path.is_file():
        raise SourceUnavailableError(
            f"OSM-Datei {path} nicht gefunden. Bitte den Pfad prüfen "
            "(erwartet wird eine .osm-, .osm.bz2- oder .osm.gz-Datei)."
        )
    import osmnx as ox  # imported here: osmnx (with scikit-learn) takes seconds to import

    with tempfile.TemporaryDirectory(prefix="integrationsatlas-osm-") as tmp:
        filtered = Path(tmp) / f"{mode}.osm"
        n_ways, n_nodes = _filter_osm_xml(path, filtered, mode)
        if n_ways == 0:
            raise DataError(
                f"Datei {path.name}: keine Wege für den Modus »{mode}« gefunden "
                "(keine passenden highway-Tags). Bitte einen OSM-Auszug mit Straßennetz verwenden."
            )
        logger.info("%s: %d Wege mit %d Knoten für Modus %s", path.name, n_ways, n_nodes, mode)
        graph = ox.graph_from_xml(
            filtered,
            bidirectional=mode in ox.settings.bidirectional_network_types,
            simplify=True,
            retain_all=False,
        )
    return _finish_graph(graph, mode, settings)


def build_graph_from_polygon(polygon_25832: BaseGeometry, mode: StreetMode, settings: Settings) -> nx.MultiDiGraph:
    """Download the street network of one mode inside a polygon (online).

    Parameters
    ----------
    polygon_25832
        Area (e.g. a Kreis or Gemeinde boundary) as a shapely (Multi)Polygon in
        EPSG:25832.
    mode
        ``"walk"``, ``"bike"`` or ``"drive"``; used as osmnx ``network_type``.
    settings
        Project settings; ``settings.online`` must be true.

    Returns
    -------
    networkx.MultiDiGraph
        As :func:`build_graph_from_xml`.

    Raises
    ------
    SourceUnavailableError
        If online sources are switched off or the Overpass API cannot be
        reached or answers with an error.
    CRSError
        If the polygon does not lie in NRW in EPSG:25832 (e.g. lon/lat).

    Notes
    -----
    osmnx expects lon/lat, so the polygon is converted to EPSG:4326 for the
    query only; the graph is projected back to EPSG:25832. osmnx keeps the
    largest weakly connected component.
    """
    mode = _check_mode(mode)
    if not settings.online:
        raise SourceUnavailableError(
            "Online-Abruf des Straßennetzes ist abgeschaltet (INTEGRATIONSATLAS_OFFLINE). "
            "Bitte eine OSM-Datei angeben (z. B. »--osm datei.osm.bz2«)."
        )
    if not isinstance(polygon_25832, shapely.Polygon | shapely.MultiPolygon) or polygon_25832.is_empty:
        raise DataError("Für den Netzabruf wird eine Fläche (Polygon) benötigt, z. B. eine Gemeindegrenze.")
    minx, miny, maxx, maxy = polygon_25832.bounds
    nx0, ny0, nx1, ny1 = NRW_BOUNDS_25832
    if maxx < nx0 or minx > nx1 or maxy < ny0 or miny > ny1:
        raise CRSError(
            f"Die Fläche (Ausdehnung {minx:.0f}, {miny:.0f} – {maxx:.0f}, {maxy:.0f}) liegt nicht in NRW "
            f"in {PROJECTED_CRS}. Bitte die Grenze vorher mit to_projected() nach {PROJECTED_CRS} umrechnen."
        )
    import osmnx as ox  # imported here: osmnx (with scikit-learn) takes seconds to import

    to_lonlat = Transformer.from_crs(settings.crs, DISPLAY_CRS, always_xy=True)
    polygon_4326 = shapely.transform(polygon_25832, lambda xy: np.column_stack(to_lonlat.transform(*xy.T)))
    try:
        graph = ox.graph_from_polygon(polygon_4326, network_type=mode, simplify=True, retain_all=False)
    except (requests.RequestException, ox._errors.ResponseStatusCodeError) as exc:
        raise SourceUnavailableError(
            f"Straßennetz ({mode}) konnte nicht von der Overpass-API geladen werden: {exc}. "
            "Bitte später erneut versuchen oder eine OSM-Datei verwenden."
        ) from exc
    except ox._errors.InsufficientResponseError as exc:
        raise DataError(f"Im gewählten Gebiet wurden keine Wege für den Modus »{mode}« gefunden ({exc}).") from exc
    return _finish_graph(graph, mode, settings)


#: Default buffer (metres) around a planning area before the network is clipped,
#: so that demand cells at the edge keep their routes through the neighbourhood.
DEFAULT_BUFFER_M = 2_000.0
#: Networks kept in memory per process (most recently used first).
_MEMORY_SIZE = 6
_MEMORY: OrderedDict[tuple[Path, TravelMode], Network] = OrderedDict()
_HASHES: dict[tuple[str, int, int], str] = {}


def load_network(
    mode: str,
    settings: Settings,
    *,
    osm_file: Path | str | None = None,
    area: BaseGeometry | None = None,
    buffer_m: float = DEFAULT_BUFFER_M,
    region: str | None = None,
) -> Network:
    """The street network of one travel mode: the one loader of the project.

    CLI, planner, report and app all call this function. A network is built
    once per input file (by content), mode and clip area, stored on disk under
    ``settings.cache_dir / "networks"`` and kept in memory, so a second
    analysis on the same file and mode (another threshold, another layer,
    a siting run) never parses the file again.

    Parameters
    ----------
    mode
        A travel mode of :data:`geo.modes.MODES`; public transport (``oepnv``)
        loads the walk network it uses for access, egress and transfers.
    settings
        Cache folder, online switch and target CRS.
    osm_file
        OSM extract (``.osm.pbf``, ``.osm``, ``.osm.bz2``, ``.osm.gz``), read
        with :func:`geo.sources.osm_pbf.read_street_network`, or a street
        network of lines (GeoPackage, zipped Shapefile, GeoJSON), read with
        :func:`geo.sources.line_network.read_line_network`; ``None``
        downloads the network of ``area`` from the Overpass API (online only).
    area
        Planning area in EPSG:25832; the network is clipped to it plus
        ``buffer_m`` (from a file: every way with a node inside is kept whole,
        before the graph is built; online: the Overpass query polygon).
        ``None`` keeps the whole file.
    buffer_m
        Buffer around ``area`` in metres (default 2 km).
    region
        AGS prefix of the question's area (``05`` Land, ``051``
        Regierungsbezirk, ``05334`` Kreis, a Gemeinde): for a land-scale
        extract (:attr:`Settings.network_tile_bytes`, without ``area``) only
        the Kreis tiles of the region are opened
        (:mod:`geo.sources.network_tiles`); ``None`` opens all. Ignored for
        smaller extracts, which are built whole.

    Returns
    -------
    Network
        In EPSG:25832 with travel times in seconds.

    Raises
    ------
    SourceUnavailableError
        If the file is missing, or online access is off or fails.
    DataError
        If the file is no OSM file, holds no way of this mode or none in the
        clip area.

    Notes
    -----
    The cache key is the SHA-256 of the file's content (not its name or
    date), the street **network** the mode travels on (not the mode) and the
    clip polygon; a changed file gets a new entry. Entries are plain ``.npz``
    arrays (:meth:`Network.save`) holding edge lengths (and tagged car
    speeds); the mode's own speed is applied on loading
    (:meth:`Network.for_mode`), so modes sharing a network share the cache
    entry but never a speed. A land-scale extract is read once into one tile
    per Kreis (:func:`geo.sources.network_tiles.open_tile_set`), each cached
    on its own.
    """
    declared = travel_mode(mode)
    smode = declared.network
    if osm_file is not None and area is None and Path(osm_file).is_file() and is_land_scale(Path(osm_file), settings):
        return _region_network(declared, settings, Path(osm_file), region or "05")
    clip = None
    if area is not None:
        if buffer_m < 0:
            raise DataError(f"Der Puffer um das Planungsgebiet muss ≥ 0 m sein, nicht {buffer_m}.")
        clip = shapely.buffer(area, buffer_m) if buffer_m else area
    if osm_file is not None:
        path = Path(osm_file)
        if not path.is_file():
            raise SourceUnavailableError(
                f"Straßennetz-Datei {path} nicht gefunden. Bitte den Pfad prüfen (erwartet wird ein OSM-Auszug "
                ".osm.pbf, .osm, .osm.bz2, .osm.gz oder ein Liniennetz als GeoPackage, Shapefile-ZIP oder GeoJSON)."
            )
        source_key = f"{'lines' if is_line_network(path) else 'file'}-{content_hash(path)[:16]}"
    elif clip is None:
        raise DataError("Ohne OSM-Datei braucht der Netzabruf ein Planungsgebiet (Fläche).")
    else:
        source_key = "overpass"
    clip_key = "all" if clip is None else _geometry_hash(clip)
    cache_path = settings.cache_dir / "networks" / f"{source_key}-{clip_key}-{smode}-v{NPZ_FORMAT}.npz"
    key = (cache_path, declared)
    if key in _MEMORY:
        _MEMORY.move_to_end(key)
        return _MEMORY[key]
    base = next((n for (p, _), n in _MEMORY.items() if p == cache_path), None)
    net = base if base is not None else _read_cached(cache_path)
    if net is None:
        net = _read_shared(settings, cache_path)
    if net is None:
        if osm_file is not None:
            read = read_line_network if is_line_network(osm_file) else read_street_network
            net = read(Path(osm_file), smode, clip=clip, limits=ReadLimits.from_settings(settings))
        else:
            assert clip is not None
            net = Network.from_graph(build_graph_from_polygon(clip, smode, settings))
        net.save(cache_path)
        logger.info("Netz im Cache gespeichert: %s", cache_path)
        _share(settings, cache_path)
    net = net.for_mode(declared)
    _MEMORY[key] = net
    while len(_MEMORY) > _MEMORY_SIZE:
        _MEMORY.popitem(last=False)
    return net


def tile_set(network: StreetMode, settings: Settings, osm_file: Path) -> TileSet:
    """The Kreis tiles of ``osm_file``'s street network ``network``, built once and cached by content.

    The tiles live in ``settings.cache_dir / "networks" / "tiles" / <hash>-<network>-h<minutes>``.
    """
    digest = content_hash(osm_file)
    horizon = f"{settings.network_tile_minutes:g}".replace(".", "_")
    folder = settings.cache_dir / "networks" / "tiles" / f"file-{digest[:16]}-{network}-h{horizon}-v{NPZ_FORMAT}"
    return open_tile_set(osm_file, network, folder, settings, source_hash=digest)


def _region_network(declared: TravelMode, settings: Settings, osm_file: Path, region: str) -> Network:
    """The network of ``region``'s tiles, at the mode's speed (kept in memory like any other network)."""
    tiles = tile_set(declared.network, settings, osm_file)
    codes = tiles.codes_for(region)
    key = (tiles.folder / "+".join(codes), declared)
    if key in _MEMORY:
        _MEMORY.move_to_end(key)
        return _MEMORY[key]
    base = next((n for (p, _), n in _MEMORY.items() if p == key[0]), None)
    net = (base if base is not None else tiles.load(codes)).for_mode(declared)
    _MEMORY[key] = net
    while len(_MEMORY) > _MEMORY_SIZE:
        _MEMORY.popitem(last=False)
    return net


def content_hash(path: Path) -> str:
    """SHA-256 of a file's content, memoised per path, size and modification time."""
    stat = path.stat()
    key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns)
    if key not in _HASHES:
        digest = hashlib.sha256()
        with path.open("rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                digest.update(chunk)
        _HASHES[key] = digest.hexdigest()
    return _HASHES[key]


def _geometry_hash(geom: BaseGeometry) -> str:
    """Short hash of a polygon rounded to whole metres (stable across reruns)."""
    return hashlib.sha256(shapely.to_wkb(shapely.set_precision(geom, 1.0))).hexdigest()[:12]


def _read_shared(settings: Settings, path: Path) -> Network | None:
    """A network another app process put into the shared result cache (copied to ``path`` first)."""
    cache = _result_cache(settings)
    payload = None if cache is None else cache.get(f"network/{path.name}")
    if payload is None:
        return None
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=".shared.npz", dir=path.parent)
    with open(handle, "wb") as fh:  # written under a unique name and renamed: never half a file
        fh.write(payload)
    Path(name).replace(path)
    return _read_cached(path)


def _share(settings: Settings, path: Path) -> None:
    """Offer a computed network to the other app processes (shared result cache), if the store has one."""
    cache = _result_cache(settings)
    if cache is not None:
        cache.put(f"network/{path.name}", path.read_bytes())


def _result_cache(settings: Settings) -> ResultCache | None:
    from geo.store import store_exists

    if not store_exists(settings):
        return None
    from geo.store import open_store  # the database driver is imported only when a database is configured

    return open_store(settings).result_cache()


def _read_cached(path: Path) -> Network | None:
    if not path.is_file():
        return None
    try:
        net = Network.load(path)
    except DataError as exc:
        logger.warning("Netz-Cache %s unlesbar (%s); wird neu erzeugt", path, exc)
        return None
    logger.info("Netz aus Cache geladen: %s", path)
    return net


# --------------------------------------------------------------------------- internals


def _check_mode(mode: str) -> StreetMode:
    if mode not in STREET_MODES:
        raise DataError(
            f"Unbekannter Verkehrsmodus »{mode}« für ein Straßennetz. Erlaubt sind: {', '.join(STREET_MODES)} "
            "(zu Fuß, Fahrrad, Auto)."
        )
    return cast(StreetMode, mode)


def _finish_graph(graph: nx.MultiDiGraph, mode: StreetMode, settings: Settings) -> nx.MultiDiGraph:
    """Add speeds and travel times for ``mode`` and project to ``settings.crs``."""
    import osmnx as ox

    if travel_mode(mode).speed_kmh is None:  # speeds from the maxspeed tags
        graph = ox.add_edge_speeds(graph, fallback=DRIVE_FALLBACK_KMH)
    else:
        nx.set_edge_attributes(graph, travel_mode(mode).speed_kmh, "speed_kph")
    graph = ox.add_edge_travel_times(graph)
    graph = ox.project_graph(graph, to_crs=settings.crs)
    graph.graph["mode"] = mode
    logger.info("Netz %s: %d Knoten, %d Kanten", mode, graph.number_of_nodes(), graph.number_of_edges())
    return graph


@contextmanager
def _open_binary(path: Path) -> Iterator[IO[bytes]]:
    if path.suffix == ".bz2":
        with bz2.open(path, "rb") as fh:
            yield fh
    elif path.suffix == ".gz":
        with gzip.open(path, "rb") as fh:
            yield cast(IO[bytes], fh)
    else:
        with path.open("rb") as fh:
            yield fh


def _filter_osm_xml(src: Path, dst: Path, mode: StreetMode) -> tuple[int, int]:
    """Write the ways of ``mode`` (and only their nodes) from ``src`` to ``dst``.

    Returns the number of ways and nodes written. Node references missing from
    the extract (ways clipped at its border) are trimmed from the way's ends;
    a way with a gap inside keeps its longest complete stretch.
    """
    accept = way_predicate(mode)
    nodes: dict[int, tuple[str, str, list[tuple[str, str]]]] = {}
    ways: list[tuple[str, list[int], list[tuple[str, str]]]] = []
    clipped = 0
    try:
        with _open_binary(src) as fh:
            for _, elem in ET.iterparse(fh, events=("end",)):
                if elem.tag == "node":
                    tags = [(t.get("k", ""), t.get("v", "")) for t in elem.iter("tag")]
                    nodes[int(elem.get("id", "0"))] = (elem.get("lat", ""), elem.get("lon", ""), tags)
                    elem.clear()
                elif elem.tag == "way":
                    tags = [(t.get("k", ""), t.get("v", "")) for t in elem.iter("tag")]
                    if accept(dict(tags)):
                        refs = [int(nd.get("ref", "0")) for nd in elem.iter("nd")]
                        kept = _longest_present_run(refs, nodes)
                        clipped += len(kept) != len(refs)
                        if len(kept) >= 2:
                            ways.append((elem.get("id", "0"), kept, tags))
                    elem.clear()
                elif elem.tag == "relation":
                    elem.clear()
    except ET.ParseError as exc:
        line, column = exc.position
        raise DataError(
            f"Datei {src.name}, Zeile {line}, Spalte {column}: keine gültige OSM-XML-Datei ({exc}). "
            "Bitte einen unveränderten OSM-Auszug (.osm / .osm.bz2) verwenden."
        ) from exc
    except (OSError, EOFError) as exc:
        raise DataError(f"Datei {src.name} kann nicht gelesen werden: {exc}.") from exc
    if clipped:
        logger.info("%s: %d Wege am Rand des Auszugs gekürzt", src.name, clipped)
    used = sorted({ref for _, refs, _ in ways for ref in refs})
    with dst.open("w", encoding="utf-8") as out:
        out.write("<?xml version='1.0' encoding='UTF-8'?>\n")
        out.write(f'<osm version="0.6" generator={quoteattr("Integrationsatlas NRW: " + src.name)}>\n')
        for ref in used:
            lat, lon, tags = nodes[ref]
            out.write(f'  <node id="{ref}" lat={quoteattr(lat)} lon={quoteattr(lon)}')
            if tags:
                out.write(">\n")
                out.writelines(f"    <tag k={quoteattr(k)} v={quoteattr(v)}/>\n" for k, v in tags)
                out.write("  </node>\n")
            else:
                out.write("/>\n")
        for way_id, refs, tags in ways:
            out.write(f"  <way id={quoteattr(way_id)}>\n")
            out.writelines(f'    <nd ref="{ref}"/>\n' for ref in refs)
            out.writelines(f"    <tag k={quoteattr(k)} v={quoteattr(v)}/>\n" for k, v in tags)
            out.write("  </way>\n")
        out.write("</osm>\n")
    return len(ways), len(used)


def _longest_present_run(refs: list[int], nodes: Container[int]) -> list[int]:
    """The longest stretch of consecutive node references present in ``nodes``."""
    best: list[int] = []
    run: list[int] = []
    for ref in refs:
        if ref in nodes:
            run.append(ref)
            if len(run) > len(best):
                best = run
        else:
            run = []
    return best
