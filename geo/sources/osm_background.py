"""A quiet background map from an OSM extract: water, forest, built-up areas, main roads, place names.

Offline (the normal case for an administration without tile server access) the
Leaflet maps would show nothing but Kreis and Gemeinde outlines, so nobody
could tell whether a suggested site lies in a village or a forest.
:func:`background_from_file` reads the few feature classes a topographic
background needs from the OSM extract that was loaded anyway for the street
network (``.osm.pbf``, ``.osm``, ``.osm.bz2``) with pyosmium:

=============  ==============================================================
``kind``       OSM tags
=============  ==============================================================
``water``      ``natural=water``, ``landuse=reservoir|basin``, ``waterway=riverbank`` (areas)
``waterway``   ``waterway=river|canal`` (lines)
``forest``     ``landuse=forest``, ``natural=wood`` (areas)
``park``       ``leisure=park`` (areas)
``builtup``    ``landuse=residential|commercial|industrial|retail`` (areas)
``road``       ``highway=motorway|trunk|primary|secondary|tertiary`` and their ``_link`` (lines)
``place``      ``place=city|town|suburb|village|hamlet`` with a ``name`` (points)
=============  ==============================================================

Areas come from closed ways and multipolygon relations through pyosmium's
area assembler. Geometries are simplified to a display tolerance
(:data:`DISPLAY_TOLERANCE_M`) and areas under :data:`MIN_AREA_M2` are dropped,
so the result is small enough to be drawn in the browser.
:func:`cached_background` keeps the result as GeoParquet under
``Settings.cache_dir / "osm_background"``, keyed by the file's content hash
(the same key as the street-network and building caches).

Licence of the data: © OpenStreetMap contributors, ODbL 1.0.
"""

from __future__ import annotations

import logging
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.errors import DataError, SourceUnavailableError
from geo.io.bounded import check_osm_extract
from geo.io.limits import ReadLimits
from geo.settings import DISPLAY_CRS, PROJECTED_CRS, Settings
from geo.sources.frame_cache import cached_frame
from geo.sources.line_network import is_line_network
from geo.sources.osm_pbf import OSM_READ_ERRORS, unreadable_osm

logger = logging.getLogger(__name__)

#: Version of the on-disk cache layout (bump when the columns or rules change).
CACHE_FORMAT = 1
#: Simplification tolerance in metres (Douglas-Peucker, topology preserving).
DISPLAY_TOLERANCE_M = 5.0
#: Areas smaller than this (m², after simplification) are dropped: invisible at town scale.
MIN_AREA_M2 = 2_000.0
#: Output columns besides ``geometry``.
BACKGROUND_COLUMNS = ("kind", "cls", "name", "rank")
#: Feature kinds in drawing order (bottom first).
KINDS = ("builtup", "park", "forest", "water", "waterway", "road", "place")
#: Road classes drawn, most important first; ``rank`` is the position (0 = motorway).
ROAD_CLASSES = ("motorway", "trunk", "primary", "secondary", "tertiary")
#: Place classes with their rank (1 = most important): labels of higher ranks appear at closer zoom.
PLACE_RANKS: dict[str, int] = {"city": 1, "town": 2, "suburb": 3, "village": 3, "hamlet": 4}
WATER_TAGS: dict[str, frozenset[str]] = {
    "natural": frozenset({"water"}),
    "landuse": frozenset({"reservoir", "basin"}),
    "waterway": frozenset({"riverbank"}),
}
FOREST_TAGS: dict[str, frozenset[str]] = {"landuse": frozenset({"forest"}), "natural": frozenset({"wood"})}
BUILTUP_LANDUSE = frozenset({"residential", "commercial", "industrial", "retail"})
WATERWAY_LINES = frozenset({"river", "canal"})
OSM_LICENCE = "© OpenStreetMap contributors, ODbL 1.0"

_Row = tuple[str, str, str | None, int, bytes]


def _has(tags: object, wanted: dict[str, frozenset[str]]) -> str | None:
    """The matching value of the first key of ``wanted`` present in ``tags``."""
    for key, values in wanted.items():
        value = tags.get(key)  # type: ignore[attr-defined]
        if value in values:
            return str(value)
    return None


def _area_kind(tags: object) -> tuple[str, str] | None:
    """``(kind, cls)`` of an area's tags, or ``None`` when it is no background area.

    >>> _area_kind({"natural": "water"}), _area_kind({"landuse": "retail"}), _area_kind({"building": "yes"})
    (('water', 'water'), ('builtup', 'retail'), None)
    """
    water = _has(tags, WATER_TAGS)
    if water:
        return "water", water
    forest = _has(tags, FOREST_TAGS)
    if forest:
        return "forest", forest
    landuse = tags.get("landuse")  # type: ignore[attr-defined]
    if landuse in BUILTUP_LANDUSE:
        return "builtup", str(landuse)
    if tags.get("leisure") == "park":  # type: ignore[attr-defined]
        return "park", "park"
    return None


def _way_kind(tags: object) -> tuple[str, str, int] | None:
    """``(kind, cls, rank)`` of a line way, or ``None``.

    >>> _way_kind({"highway": "primary_link"}), _way_kind({"waterway": "canal"}), _way_kind({"highway": "service"})
    (('road', 'primary', 2), ('waterway', 'canal', 0), None)
    """
    highway = tags.get("highway")  # type: ignore[attr-defined]
    if highway:
        base = str(highway).removesuffix("_link")
        if base in ROAD_CLASSES and tags.get("area") != "yes":  # type: ignore[attr-defined]
            return "road", base, ROAD_CLASSES.index(base)
        return None
    waterway = tags.get("waterway")  # type: ignore[attr-defined]
    if waterway in WATERWAY_LINES:
        return "waterway", str(waterway), 0
    return None


def _read_rows(path: Path) -> tuple[list[_Row], list[_Row]]:
    """Scan the extract once: background areas/lines/places as WKB (EPSG:4326), and place areas."""
    import osmium

    wkb = osmium.geom.WKBFactory()
    rows: list[_Row] = []
    place_areas: list[_Row] = []
    processor = (
        osmium.FileProcessor(str(path))
        .with_locations()
        .with_areas(osmium.filter.KeyFilter("landuse", "natural", "waterway", "leisure", "place"))
        .with_filter(osmium.filter.KeyFilter("landuse", "natural", "waterway", "leisure", "highway", "place"))
    )
    for obj in processor:
        if isinstance(obj, osmium.osm.Changeset):
            continue
        tags = obj.tags
        try:
            if isinstance(obj, osmium.osm.Area):
                place = tags.get("place")
                if place in PLACE_RANKS and tags.get("name"):
                    geom = bytes.fromhex(wkb.create_multipolygon(obj))
                    place_areas.append(("place", str(place), tags.get("name"), PLACE_RANKS[str(place)], geom))
                    continue
                area = _area_kind(tags)
                if area is not None:
                    rows.append((area[0], area[1], None, 0, bytes.fromhex(wkb.create_multipolygon(obj))))
            elif isinstance(obj, osmium.osm.Way):
                line = _way_kind(tags)
                if line is not None and len(obj.nodes) >= 2:
                    geom = bytes.fromhex(wkb.create_linestring(obj))
                    rows.append((line[0], line[1], tags.get("name"), line[2], geom))
            elif isinstance(obj, osmium.osm.Node):
                place = tags.get("place")
                if place in PLACE_RANKS and tags.get("name"):
                    geom = bytes.fromhex(wkb.create_point(obj))
                    rows.append(("place", str(place), tags.get("name"), PLACE_RANKS[str(place)], geom))
        except RuntimeError:  # broken ring or missing node location at the extract's border: skip
            continue
    return rows, place_areas


def background_from_file(
    path: Path,
    tolerance_m: float = DISPLAY_TOLERANCE_M,
    min_area_m2: float = MIN_AREA_M2,
    *,
    limits: ReadLimits | None = None,
) -> gpd.GeoDataFrame:
    """Read the background features of an OSM extract.

    Parameters
    ----------
    path
        ``.osm.pbf`` (e.g. a Geofabrik Kreis or Regierungsbezirk file), ``.osm`` or ``.osm.bz2``.
    tolerance_m
        Simplification tolerance in metres.
    min_area_m2
        Areas (water, forest, park, built-up) smaller than this are dropped.
    limits
        Size limits checked before reading (:func:`geo.io.bounded.check_osm_extract`).

    Returns
    -------
    geopandas.GeoDataFrame
        Columns :data:`BACKGROUND_COLUMNS` and geometries in EPSG:25832:
        ``kind`` (see the module docstring), ``cls`` (the OSM value, e.g.
        ``residential``, ``primary``, ``village``), ``name`` (places, roads
        and rivers where tagged), ``rank`` (roads: 0 motorway … 4 tertiary;
        places: :data:`PLACE_RANKS`; else 0). Rows are sorted by
        :data:`KINDS` (drawing order). Empty (with these columns) when the
        extract holds none of the features.

    Raises
    ------
    SourceUnavailableError
        If the file does not exist.
    DataError
        If the file is no readable OSM file, or unpacks to more than the limit.

    Notes
    -----
    Reads EPSG:4326 from the file, projects to EPSG:25832 and simplifies in
    metres there (topology preserving, so rings stay valid). Place names that
    are mapped as areas become their representative point, unless a place
    node of the same name exists. Memory: pyosmium's location cache holds
    every node of the file (about 16 bytes each) while reading.
    """
    path = Path(path)
    if not path.is_file():
        raise SourceUnavailableError(
            f"OSM-Datei {path} nicht gefunden. Bitte den Pfad prüfen "
            "(erwartet wird eine .osm.pbf-, .osm- oder .osm.bz2-Datei)."
        )
    check_osm_extract(path, path.name, limits or ReadLimits())
    try:
        rows, place_areas = _read_rows(path)
    except OSM_READ_ERRORS as exc:
        raise unreadable_osm(path, path.name, exc) from exc
    node_names = {r[2] for r in rows if r[0] == "place"}
    rows += [r for r in place_areas if r[2] not in node_names]
    if not rows:
        logger.info("%s: keine Hintergrundobjekte gefunden", path.name)
        return empty_background()
    frame = pd.DataFrame(rows, columns=[*BACKGROUND_COLUMNS, "wkb"])
    geoms = gpd.GeoSeries(shapely.from_wkb(frame["wkb"].to_numpy()), crs=DISPLAY_CRS).to_crs(PROJECTED_CRS)
    out = gpd.GeoDataFrame(frame.drop(columns=["wkb"]), geometry=geoms.to_numpy(), crs=PROJECTED_CRS)
    return _display_ready(out, tolerance_m, min_area_m2)


def empty_background() -> gpd.GeoDataFrame:
    """An empty background frame with the right columns, in EPSG:25832."""
    frame = pd.DataFrame({c: pd.Series(dtype="int64" if c == "rank" else object) for c in BACKGROUND_COLUMNS})
    return gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries([], crs=PROJECTED_CRS), crs=PROJECTED_CRS)


def _display_ready(gdf: gpd.GeoDataFrame, tolerance_m: float, min_area_m2: float) -> gpd.GeoDataFrame:
    """Simplify, drop tiny areas and empty geometries, put place areas on a point, sort by drawing order."""
    geoms = gdf.geometry.to_numpy()
    is_place = (gdf["kind"] == "place").to_numpy()
    polygonal = shapely.get_type_id(geoms) >= 3  # Polygon (3), MultiPolygon (6)
    geoms = np.where(is_place & polygonal, shapely.point_on_surface(geoms), geoms)
    lines_or_areas = ~is_place
    geoms[lines_or_areas] = shapely.simplify(geoms[lines_or_areas], tolerance_m, preserve_topology=True)
    keep = ~shapely.is_empty(geoms)
    area_rows = shapely.get_type_id(geoms) >= 3
    area_rows &= ~is_place
    keep &= ~area_rows | (shapely.area(geoms) >= min_area_m2)
    out = gpd.GeoDataFrame(gdf.drop(columns=gdf.geometry.name), geometry=geoms, crs=PROJECTED_CRS).loc[keep]
    out["rank"] = out["rank"].astype("int64")
    order = out["kind"].map({k: i for i, k in enumerate(KINDS)}).to_numpy()
    out = out.iloc[np.lexsort((out["rank"].to_numpy(), order))].reset_index(drop=True)
    logger.info("Hintergrund: %s", out["kind"].value_counts().to_dict())
    return out


def cached_background(path: Path, settings: Settings) -> gpd.GeoDataFrame:
    """The background features of an OSM extract, read once per file content and cached on disk.

    The cache (GeoParquet under ``settings.cache_dir / "osm_background"``) is
    keyed by the SHA-256 of the file's content, like the street-network and
    building caches, so re-opening the same extract (also under another name)
    never parses it again. A broken cache entry is rebuilt.

    Notes
    -----
    Geometries in EPSG:25832 (metres), as :func:`background_from_file`.
    """
    if is_line_network(path):
        raise DataError(f"Datei {Path(path).name} ist ein Straßennetz aus Linien, kein OSM-Auszug: kein Hintergrund.")
    limits = ReadLimits.from_settings(settings)
    return cached_frame(
        _cache_file(path, settings), lambda: background_from_file(Path(path), limits=limits), "Hintergrund"
    )


def background_is_cached(path: Path, settings: Settings) -> bool:
    """Whether :func:`cached_background` of ``path`` would read its cache instead of parsing the extract."""
    return _cache_file(path, settings).is_file()


#: An extract larger than this is not read just to draw a background nobody asked for (a Land-wide PBF
#: would keep a page or report waiting for minutes); it is drawn once its background has been cached.
AUTO_BACKGROUND_MAX_BYTES = 150_000_000


def quick_to_draw(path: Path, settings: Settings) -> bool:
    """Whether an extract may be drawn without being asked for: small, or its background already cached."""
    try:
        if Path(path).stat().st_size <= AUTO_BACKGROUND_MAX_BYTES:
            return True
    except OSError:
        return False
    return background_is_cached(path, settings)


def _cache_file(path: Path, settings: Settings) -> Path:
    from geo.sources.streets import content_hash

    return settings.cache_dir / "osm_background" / f"{content_hash(Path(path))[:16]}-v{CACHE_FORMAT}.parquet"
