"""Building footprints from OpenStreetMap, classified as residential or not.

Two sources, one output (:data:`BUILDING_COLUMNS`, polygons in EPSG:25832):

* a local extract (``.osm.pbf``, ``.osm`` or ``.osm.bz2``) read with pyosmium
  (:func:`buildings_from_file`); ways and multipolygon relations become
  areas through pyosmium's area assembler;
* the Overpass API through osmnx ``features_from_polygon``
  (:func:`buildings_from_polygon`), for when no extract is at hand.

A building counts as **residential** when ``building`` is one of
:data:`RESIDENTIAL_TYPES`, or when it is ``building=yes`` and its
representative point lies inside a ``landuse=residential`` area and it has
no tag that clearly marks another use (:data:`NON_RESIDENTIAL_KEYS`:
``amenity``, ``office``, ``industrial``, …). Ground-floor shops
(``shop=*``) do not exclude a building: in NRW town centres they usually
have flats above. Footprints under :data:`MIN_FOOTPRINT_M2` (garden sheds,
garages drawn as ``building=yes``) are never residential.

``levels`` is ``building:levels`` (+ ``roof:levels``) when tagged, else
NaN; :func:`planning.dasymetric.floor_area` fills the gaps with
:data:`DEFAULT_LEVELS`.

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
from geo.settings import PROJECTED_CRS, Settings
from geo.sources.frame_cache import cached_frame
from geo.sources.line_network import is_line_network
from geo.sources.osm_pbf import OSM_READ_ERRORS, unreadable_osm

logger = logging.getLogger(__name__)

#: Version of the on-disk building cache layout.
CACHE_FORMAT = 1

#: ``building`` values that are residential by themselves.
RESIDENTIAL_TYPES = frozenset(
    {
        "residential",
        "house",
        "apartments",
        "detached",
        "terraced",
        "semidetached_house",
        "bungalow",
        "dormitory",
        "farm",
        "terrace",
    }
)
#: Tags that mark a ``building=yes`` as clearly not (only) residential.
NON_RESIDENTIAL_KEYS = (
    "amenity",
    "office",
    "industrial",
    "craft",
    "man_made",
    "leisure",
    "tourism",
    "public_transport",
    "railway",
    "aeroway",
    "military",
    "power",
)
#: Footprints smaller than this (m²) are not counted as dwellings.
MIN_FOOTPRINT_M2 = 30.0
#: Levels assumed when ``building:levels`` is missing, by ``building`` value.
DEFAULT_LEVELS: dict[str, float] = {
    "house": 2.0,
    "detached": 2.0,
    "semidetached_house": 2.0,
    "terraced": 2.0,
    "terrace": 2.0,
    "bungalow": 1.0,
    "farm": 2.0,
    "residential": 3.0,
    "apartments": 4.0,
    "dormitory": 4.0,
    "yes": 2.0,
}
#: Output columns besides ``geometry``.
BUILDING_COLUMNS = ("osm_id", "building", "levels", "footprint_m2", "residential", "reason")
OSM_LICENCE = "© OpenStreetMap contributors, ODbL 1.0"


def buildings_from_file(path: Path, *, limits: ReadLimits | None = None) -> gpd.GeoDataFrame:
    """Read all building footprints of an OSM extract and classify them.

    Parameters
    ----------
    path
        ``.osm.pbf``, ``.osm`` or ``.osm.bz2``.
    limits
        Size limits checked before reading (:func:`geo.io.bounded.check_osm_extract`).

    Returns
    -------
    geopandas.GeoDataFrame
        Columns :data:`BUILDING_COLUMNS` and polygon geometries in
        EPSG:25832. ``osm_id`` is pyosmium's area id (way id × 2, relation
        id × 2 + 1).

    Raises
    ------
    DataError
        If the file cannot be read or holds no building.

    Notes
    -----
    Output CRS EPSG:25832; ``footprint_m2`` is the planar area in m².
    """
    import osmium

    path = Path(path)
    if is_line_network(path):
        raise DataError(
            f"Datei {path.name} ist ein Straßennetz aus Linien und enthält keine Gebäude. Für die Verteilung der "
            "Einwohner auf Gebäude bitte einen OSM-Auszug (.osm.pbf) laden."
        )
    wkb = osmium.geom.WKBFactory()
    rows: list[tuple[int, str, str | None, str | None, bool, bytes]] = []
    landuse: list[bytes] = []

    class _Areas(osmium.SimpleHandler):
        def area(self, a: osmium.osm.Area) -> None:
            tags = a.tags
            if "building" not in tags and tags.get("landuse") != "residential":
                return
            try:
                geom = wkb.create_multipolygon(a)
            except RuntimeError:  # broken ring in the extract: skip the area
                return
            if "building" in tags:
                other = any(k in tags for k in NON_RESIDENTIAL_KEYS)
                rows.append(
                    (
                        a.id,
                        tags["building"],
                        tags.get("building:levels"),
                        tags.get("roof:levels"),
                        other,
                        bytes.fromhex(geom),
                    )
                )
            else:
                landuse.append(bytes.fromhex(geom))

    if not path.exists():
        raise DataError(f"OSM-Datei {path.name} nicht gefunden. Bitte den Pfad prüfen.")
    check_osm_extract(path, path.name, limits or ReadLimits())
    try:
        _Areas().apply_file(str(path), locations=True)
    except OSM_READ_ERRORS as exc:
        raise unreadable_osm(path, path.name, exc) from exc
    if not rows:
        raise DataError(f"OSM-Datei {path.name}: keine Gebäude (building=*) gefunden.")
    frame = pd.DataFrame(rows, columns=["osm_id", "building", "levels_tag", "roof_levels_tag", "other_use", "wkb"])
    geoms = gpd.GeoSeries(shapely.from_wkb(frame["wkb"].to_numpy()), crs="EPSG:4326").to_crs(PROJECTED_CRS)
    zones = (
        gpd.GeoSeries(shapely.from_wkb(np.array(landuse, dtype=object)), crs="EPSG:4326").to_crs(PROJECTED_CRS)
        if landuse
        else gpd.GeoSeries([], crs=PROJECTED_CRS)
    )
    logger.info("%s: %d Gebäude, %d Wohngebiete (landuse=residential)", path.name, len(frame), len(zones))
    return classify_buildings(frame.drop(columns=["wkb"]), geoms, zones)


def cached_buildings(path: Path, settings: Settings) -> gpd.GeoDataFrame:
    """The classified buildings of an OSM extract, read once per file content and cached on disk.

    The cache (GeoParquet under ``settings.cache_dir / "buildings"``) is keyed by
    the SHA-256 of the file's content, like the street-network cache, so a
    second analysis on the same extract never parses it again.

    Notes
    -----
    Footprints in EPSG:25832 (metres), as :func:`buildings_from_file`.
    """
    from geo.sources.streets import content_hash

    target = settings.cache_dir / "buildings" / f"{content_hash(Path(path))[:16]}-v{CACHE_FORMAT}.parquet"
    limits = ReadLimits.from_settings(settings)
    return cached_frame(target, lambda: buildings_from_file(Path(path), limits=limits), "Gebäude")


def extract_coverage(path: Path, buildings: gpd.GeoDataFrame | None = None) -> shapely.Geometry | None:
    """The area an OSM extract covers, in EPSG:25832.

    The bounding box in the file header (``bbox`` of extract services such
    as bbbike or Geofabrik) when present; otherwise the convex hull of
    ``buildings`` buffered by 100 m; ``None`` when neither is known.

    Notes
    -----
    Output CRS EPSG:25832. A clipped extract says only which area it covers,
    not where people outside it live; :mod:`planning.dasymetric` treats the
    rest of a Gemeinde separately.
    """
    import osmium

    try:
        box = osmium.io.Reader(str(path), osmium.osm.osm_entity_bits.NOTHING).header().box()
        if box.valid():
            bl, tr = box.bottom_left, box.top_right
            area = gpd.GeoSeries([shapely.box(bl.lon, bl.lat, tr.lon, tr.lat)], crs="EPSG:4326")
            return area.to_crs(PROJECTED_CRS).iloc[0]
    except OSM_READ_ERRORS:
        pass
    if buildings is not None and len(buildings):
        return shapely.convex_hull(shapely.union_all(buildings.geometry.centroid.to_numpy())).buffer(100.0)
    return None


def buildings_from_polygon(polygon: shapely.Geometry) -> gpd.GeoDataFrame:
    """Download building footprints inside ``polygon`` from Overpass via osmnx.

    Parameters
    ----------
    polygon
        Area in EPSG:4326 (lon/lat), e.g. a Gemeinde boundary reprojected.

    Returns
    -------
    geopandas.GeoDataFrame
        As :func:`buildings_from_file` (``osm_id`` is the way/relation id).

    Raises
    ------
    SourceUnavailableError
        If Overpass cannot be reached.
    DataError
        If the area holds no building.

    Notes
    -----
    Output CRS EPSG:25832. osmnx's own settings (``ox.settings.overpass_url``,
    cache) apply.
    """
    import osmnx as ox

    try:
        feats = ox.features_from_polygon(polygon, tags={"building": True, "landuse": "residential"})
    except ox._errors.InsufficientResponseError as exc:
        raise DataError("Im Gebiet gibt es laut OpenStreetMap keine Gebäude.") from exc
    except Exception as exc:  # requests/HTTP errors of any kind: the source is unavailable
        raise SourceUnavailableError(
            f"Overpass-API nicht erreichbar ({exc}). Bitte später erneut versuchen oder "
            "eine OSM-Datei (.osm.pbf) laden."
        ) from exc
    feats = feats[feats.geometry.geom_type.isin(["Polygon", "MultiPolygon"])]
    is_building = feats["building"].notna() if "building" in feats else pd.Series(False, index=feats.index)
    b = feats[is_building.to_numpy()]
    if b.empty:
        raise DataError("Im Gebiet gibt es laut OpenStreetMap keine Gebäude.")
    ids = np.array([int(i[1]) if isinstance(i, tuple) else int(i) for i in b.index], dtype=np.int64)
    other = np.zeros(len(b), dtype=bool)
    for key in NON_RESIDENTIAL_KEYS:
        if key in b.columns:
            other |= b[key].notna().to_numpy()
    frame = pd.DataFrame(
        {
            "osm_id": ids,
            "building": b["building"].astype(str).to_numpy(),
            "levels_tag": b["building:levels"].to_numpy() if "building:levels" in b else None,
            "roof_levels_tag": b["roof:levels"].to_numpy() if "roof:levels" in b else None,
            "other_use": other,
        }
    )
    zones = feats[(~is_building).to_numpy()].geometry
    return classify_buildings(
        frame,
        gpd.GeoSeries(b.geometry.to_numpy(), crs=feats.crs).to_crs(PROJECTED_CRS),
        gpd.GeoSeries(zones.to_numpy(), crs=feats.crs).to_crs(PROJECTED_CRS),
    )


def classify_buildings(frame: pd.DataFrame, geoms: gpd.GeoSeries, zones: gpd.GeoSeries) -> gpd.GeoDataFrame:
    """Classify buildings as residential (see the module docstring).

    Parameters
    ----------
    frame
        ``osm_id``, ``building``, ``levels_tag``, ``roof_levels_tag`` (text
        or None) and ``other_use`` (bool), one row per building.
    geoms
        Footprints in EPSG:25832, aligned with ``frame``.
    zones
        ``landuse=residential`` polygons in EPSG:25832.

    Returns
    -------
    geopandas.GeoDataFrame
        Columns :data:`BUILDING_COLUMNS`; ``reason`` says why a building
        is (not) residential, in German.

    Notes
    -----
    CRS EPSG:25832 (metres, m²).

    Examples
    --------
    >>> from shapely.geometry import box
    >>> f = pd.DataFrame({"osm_id": [1, 2, 3, 4], "building": ["house", "yes", "yes", "school"],
    ...                   "levels_tag": ["2", None, "3", None], "roof_levels_tag": [None, "1", None, None],
    ...                   "other_use": [False, False, False, False]})
    >>> g = gpd.GeoSeries([box(0, 0, 10, 10), box(20, 0, 30, 10), box(500, 0, 510, 10), box(40, 0, 60, 20)],
    ...                   crs="EPSG:25832")
    >>> out = classify_buildings(f, g, gpd.GeoSeries([box(0, -50, 100, 50)], crs="EPSG:25832"))
    >>> out["residential"].tolist(), out["levels"].tolist()
    ([True, True, False, False], [2.0, nan, 3.0, nan])
    """
    footprint = geoms.area.to_numpy(dtype=np.float64)
    building = frame["building"].astype(str).str.strip().str.lower().to_numpy()
    levels = _levels(frame["levels_tag"]) + np.nan_to_num(_levels(frame["roof_levels_tag"]), nan=0.0)
    reps = shapely.point_on_surface(geoms.to_numpy())
    in_zone = np.zeros(len(frame), dtype=bool)
    if len(zones):
        hit = shapely.STRtree(zones.to_numpy()).query(reps, predicate="intersects")
        in_zone[np.unique(hit[0])] = True
    other = frame["other_use"].to_numpy(dtype=bool)
    typed = np.isin(building, list(RESIDENTIAL_TYPES))
    yes_in_zone = (building == "yes") & in_zone & ~other
    small = footprint < MIN_FOOTPRINT_M2
    residential = (typed | yes_in_zone) & ~small
    reason = np.select(
        [small, typed, yes_in_zone, other, building == "yes"],
        [
            f"Grundfläche unter {MIN_FOOTPRINT_M2:.0f} m²",
            "building=Wohngebäude-Typ",
            "building=yes in landuse=residential",
            "andere Nutzung (Tag)",
            "building=yes außerhalb von Wohngebieten",
        ],
        default="building=Nichtwohngebäude-Typ",
    )
    return gpd.GeoDataFrame(
        {
            "osm_id": frame["osm_id"].to_numpy(dtype=np.int64),
            "building": pd.array(building, dtype="string"),
            "levels": levels,
            "footprint_m2": footprint,
            "residential": residential,
            "reason": pd.array(reason, dtype="string"),
        },
        geometry=geoms.to_numpy(),
        crs=PROJECTED_CRS,
    )


def _levels(values: pd.Series) -> np.ndarray:
    """``building:levels`` as float: ``"3"``, ``"2,5"``, ``"3;4"`` (first); else NaN; capped at 60."""
    text = pd.Series(values, dtype="object").astype("string").str.split(";").str[0].str.replace(",", ".")
    out = pd.to_numeric(text, errors="coerce").to_numpy(dtype=np.float64)
    return np.where((out > 0) & (out <= 60), out, np.nan)
