"""Where candidate sites come from, and what makes them plausible: the inputs of :func:`plan_sites`.

- :func:`public_places`: candidate places from the loaded layers, with the
  embedded stops layer ``haltestelle`` cut to a sensible number (every rail
  and tram/U-Bahn stop, bus stops thinned to one per cell);
- :func:`settled_points`: points of settled land – residential buildings of
  an OSM extract (cached by content hash), else GeoNames places and the
  populated demand points – that candidates must be near;
- :func:`place_names` and :func:`street_points`: what a site is called
  (nearest GeoNames place; nearest named street of the OSM extract);
- :func:`auto_grid_spacing`: the default grid spacing for a threshold.

Nothing here imports Streamlit.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray
from shapely.geometry.base import BaseGeometry

from geo.errors import IntegrationsatlasError, NotLoadedError
from geo.io.limits import ReadLimits
from geo.layers.loading import is_available, load_layer
from geo.layers.registry import REGISTRY
from geo.privacy import refuse_as_sites
from geo.settings import PROJECTED_CRS, Settings
from geo.sources.line_network import is_line_network, street_name_points
from planning.candidates import thin_points

logger = logging.getLogger(__name__)

#: Stops of these ``modus`` classes are all candidates; bus stops are thinned.
MAJOR_STOP_MODES = ("bahn", "tram_ubahn")
#: At most this many stop candidates per planning area (the bus-stop cell grows until it fits).
MAX_STOP_CANDIDATES = 600
#: Candidates must lie this close to a residential building (OSM extract), in metres.
SETTLED_MAX_M_BUILDINGS = 150.0
#: Without an extract: this close to a GeoNames place or a populated demand point, in metres.
SETTLED_MAX_M_PLACES = 1000.0
#: Bounds of the automatic grid spacing (metres) and the largest automatic grid.
GRID_MIN_M, GRID_MAX_M, GRID_MAX_POINTS = 250.0, 3000.0, 2500


def _in_area(frame: gpd.GeoDataFrame, area: BaseGeometry) -> gpd.GeoDataFrame:
    if frame.empty:
        return frame
    xy = shapely.get_coordinates(frame.geometry.centroid.to_numpy())
    return frame[shapely.intersects_xy(area, xy[:, 0], xy[:, 1])]


def layer_as_of(layer_id: str, frame: gpd.GeoDataFrame) -> str:
    """Newest ``as_of`` of a layer's records, else the declared source date."""
    if "as_of" in frame.columns:
        dates = frame["as_of"].dropna().astype(str)
        dates = dates[dates.str.strip() != ""]
        if len(dates):
            return str(dates.max())
    spec = REGISTRY.get(layer_id)
    declared = [s.as_of for s in spec.sources if s.as_of]
    return declared[0] if declared else "unbekannt"


def thin_stops(stops: gpd.GeoDataFrame, max_points: int = MAX_STOP_CANDIDATES) -> gpd.GeoDataFrame:
    """Rail and tram/U-Bahn stops all, bus stops one per cell, at most ``max_points`` in all.

    The bus-stop cell starts at 500 m and doubles until the total fits.

    Notes
    -----
    CRS is EPSG:25832; cells in metres.
    """
    if len(stops) <= max_points:
        return stops
    if "modus" in stops.columns:
        major_mask = stops["modus"].astype("string").fillna("").isin(MAJOR_STOP_MODES).to_numpy()
    else:
        major_mask = np.zeros(len(stops), dtype=bool)
    major, rest = stops[major_mask], stops[~major_mask]
    major = thin_points(major, 100.0)  # platforms of one station
    cell = 500.0
    thinned = thin_points(rest, cell)
    while len(major) + len(thinned) > max_points and cell < 20_000:
        cell *= 2
        thinned = thin_points(rest, cell)
    out = gpd.GeoDataFrame(pd.concat([major, thinned]), geometry=stops.geometry.name, crs=PROJECTED_CRS)
    return out.head(max_points)


def public_places(
    settings: Settings, layers: Sequence[str], area: BaseGeometry
) -> tuple[dict[str, gpd.GeoDataFrame], dict[str, str]]:
    """Candidate places of the given layers inside ``area`` and their as-of dates.

    Layers that are not loaded are skipped; ``haltestelle`` is thinned with
    :func:`thin_stops`.

    Notes
    -----
    ``area`` in EPSG:25832.
    """
    places: dict[str, gpd.GeoDataFrame] = {}
    dates: dict[str, str] = {}
    for layer_id in layers:
        refuse_as_sites(REGISTRY.get(layer_id))  # unknown ids raise with the known layers; sensitive ones too
        if not is_available(layer_id, settings):
            continue
        try:
            frame = _in_area(load_layer(layer_id, settings), area)
        except NotLoadedError:
            continue
        if layer_id == "haltestelle":
            frame = thin_stops(frame)
        if len(frame):
            places[layer_id] = distinct_names(frame)
            dates[layer_id] = layer_as_of(layer_id, frame)
    return places, dates


def distinct_names(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The places of one layer with names that tell them apart: a repeated name gets its Ort, then its street.

    Kreis Borken has three »Josefschule«, NRW 204 »Städt. Gem. Grundschule«; a committee sentence »der beste
    Ersatz wäre Josefschule« names none of them. A name that stays repeated (no Ort, no street) is kept.

    >>> frame = gpd.GeoDataFrame({"name": ["Josefschule", "Josefschule", "Marienschule", "GGS", "GGS"],
    ...     "ort": ["Bocholt", "Ahaus", "Velen", "Köln", "Köln"], "strasse": [None, None, None, "Weg 1", "Weg 2"]})
    >>> distinct_names(frame)["name"].tolist()
    ['Josefschule (Bocholt)', 'Josefschule (Ahaus)', 'Marienschule', 'GGS (Köln, Weg 1)', 'GGS (Köln, Weg 2)']
    """
    if "name" not in frame.columns or "ort" not in frame.columns:
        return frame
    name = frame["name"].astype("string")
    place = frame["ort"].astype("string").str.strip().replace("", pd.NA)
    with_place = name.mask(name.duplicated(keep=False) & place.notna(), name + " (" + place + ")")
    if "strasse" in frame.columns:
        street = frame["strasse"].astype("string").str.strip().replace("", pd.NA)
        again = with_place.duplicated(keep=False) & place.notna() & street.notna()
        with_place = with_place.mask(again, name + " (" + place + ", " + street + ")")
    return frame.assign(name=with_place.astype(object).where(name.notna(), frame["name"]))


def place_names(settings: Settings, area: BaseGeometry, buffer_m: float = 5000.0) -> gpd.GeoDataFrame | None:
    """GeoNames places (``orte``) in and around the area, for naming sites; ``None`` when not available."""
    try:
        orte = load_layer("orte", settings)
    except (NotLoadedError, IntegrationsatlasError) as exc:
        logger.info("Keine Ortsnamen für Standorte: %s", exc)
        return None
    return _in_area(orte, area.buffer(buffer_m))[["name", orte.geometry.name]]


def settled_points(
    settings: Settings, osm_file: Path | None, demand: gpd.GeoDataFrame, places: gpd.GeoDataFrame | None
) -> tuple[NDArray[np.float64], float, str]:
    """Points of settled land and the largest distance a candidate may keep from them.

    With an OSM extract: representative points of its residential buildings
    (cached by content hash, :func:`geo.sources.buildings.cached_buildings`)
    and :data:`SETTLED_MAX_M_BUILDINGS`. Otherwise GeoNames places and the
    populated demand points with :data:`SETTLED_MAX_M_PLACES`.

    Returns
    -------
    tuple
        ``(xy, max_m, note)``; ``note`` is German, empty when nothing needs saying.

    Notes
    -----
    Coordinates in EPSG:25832; distances in metres.
    """
    if osm_file is not None and not is_line_network(osm_file):  # a street network of lines has no buildings
        from geo.sources.buildings import cached_buildings

        try:
            buildings = cached_buildings(Path(osm_file), settings)
        except IntegrationsatlasError as exc:
            first = str(exc).splitlines()[0]
            note = f"Keine Gebäude aus {Path(osm_file).name} ({first}); Kandidaten nur nahe Orten geprüft."
        else:
            homes = buildings[buildings["residential"].to_numpy(dtype=bool)]
            if len(homes):
                xy = shapely.get_coordinates(shapely.point_on_surface(homes.geometry.to_numpy()))
                return xy, SETTLED_MAX_M_BUILDINGS, ""
            note = f"{Path(osm_file).name} enthält keine Wohngebäude; Kandidaten nur nahe Orten geprüft."
    else:
        note = ""
    parts = [shapely.get_coordinates(demand.geometry.centroid.to_numpy()[demand["weight"].to_numpy() > 0])]
    if places is not None and len(places):
        parts.append(shapely.get_coordinates(places.geometry.centroid.to_numpy()))
    return np.vstack(parts), SETTLED_MAX_M_PLACES, note


def street_points(settings: Settings, osm_file: Path) -> gpd.GeoDataFrame | None:
    """Nodes of named streets (``highway=*`` with ``name``) of an OSM extract, cached by content hash; the
    vertices of the named lines of a street network of lines (:func:`geo.sources.line_network.street_name_points`).

    Returns
    -------
    geopandas.GeoDataFrame or None
        Column ``name``, points in EPSG:25832 (every node of every named
        street way); ``None`` when the file cannot be read.

    Notes
    -----
    Read with pyosmium (node locations); output CRS EPSG:25832.
    """
    import osmium

    from geo.sources.streets import content_hash

    if is_line_network(osm_file):  # a city's street network: the names of its lines
        try:
            return street_name_points(osm_file, limits=ReadLimits.from_settings(settings))
        except IntegrationsatlasError as exc:
            logger.warning("Straßennamen aus %s nicht lesbar: %s", Path(osm_file).name, exc)
            return None
    target = settings.cache_dir / "streetnames" / f"{content_hash(Path(osm_file))[:16]}-v1.parquet"
    if target.is_file():
        try:
            return gpd.read_parquet(target)
        except (OSError, ValueError) as exc:
            logger.warning("Straßennamen-Cache %s unlesbar (%s); wird neu erzeugt", target, exc)
    names: list[str] = []
    lons: list[float] = []
    lats: list[float] = []

    class _Streets(osmium.SimpleHandler):
        def way(self, w: osmium.osm.Way) -> None:
            name = w.tags.get("name")
            if name is None or "highway" not in w.tags:
                return
            for n in w.nodes:
                if n.location.valid():
                    names.append(name)
                    lons.append(n.location.lon)
                    lats.append(n.location.lat)

    try:
        _Streets().apply_file(str(osm_file), locations=True)
    except RuntimeError as exc:
        logger.warning("Straßennamen aus %s nicht lesbar: %s", osm_file, exc)
        return None
    frame = gpd.GeoDataFrame({"name": names}, geometry=gpd.points_from_xy(lons, lats), crs="EPSG:4326")
    frame = frame.to_crs(PROJECTED_CRS)
    target.parent.mkdir(parents=True, exist_ok=True)
    frame.to_parquet(target)
    return frame


def auto_grid_spacing(area: BaseGeometry, threshold_m: float) -> float:
    """Default grid spacing: half the service distance, clamped so the grid stays small.

    ``threshold_m`` is the radius in metres (for travel times: the distance
    covered in the time). The spacing lies in [:data:`GRID_MIN_M`,
    :data:`GRID_MAX_M`] and gives at most about :data:`GRID_MAX_POINTS` points.

    Notes
    -----
    CRS is EPSG:25832; metres.

    Examples
    --------
    >>> from shapely.geometry import box
    >>> auto_grid_spacing(box(0, 0, 10_000, 10_000), 1200.0)
    600.0
    """
    spacing = float(np.clip(threshold_m / 2.0, GRID_MIN_M, GRID_MAX_M))
    floor = float(np.sqrt(area.area / GRID_MAX_POINTS)) if area.area > 0 else spacing
    return max(spacing, floor)
