"""Step 2: the demand of the area and the facilities of the layer.

The demand comes from the request's source (``auto``: an imported Zensus
grid; for a question about an area set with imported residents, those
residents; else the 100 m estimate from the buildings of the OSM extract, else
the Gemeinden with their Destatis population, else the GeoNames places with
the Kreis population). Whether a Zensus grid is loaded is asked of the store
(:func:`geo.store.has_layer`), on either backend.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from geo.areasets import area_sets, load_area_set
from geo.areasets.population import AreaPopulation, load_area_population
from geo.errors import DataError, IntegrationsatlasError, NotLoadedError
from geo.formatting import de_as_of
from geo.io.limits import ReadLimits
from geo.layers.loading import load_layer
from geo.layers.registry import REGISTRY
from geo.levels import analysis_level
from geo.settings import Settings
from geo.sources.destatis import POPULATION_TABLE, gemeinden_with_population, load_gemeinde_population
from geo.sources.line_network import is_line_network, read_lines
from geo.sources.zensus import (
    ZENSUS_AS_OF,
    ZENSUS_LAYER,
    ZENSUS_LICENCE,
    ZENSUS_SOURCE,
    load_zensus,
    load_zensus_parent,
)
from geo.statistics import kreis_indicators
from geo.store import has_layer, open_store, store_exists
from geo.units import load_boundaries
from integrationsatlas.pipeline.area import StudyArea
from integrationsatlas.request import AnalysisRequest
from planning.demand import (
    AREA_STREETS_LABEL,
    LEVEL_LABELS,
    ZENSUS_GROUPS,
    DemandResult,
    TargetGroup,
    apply_target_group,
    assign_units,
    demand_from_areas,
    demand_from_gemeinden,
    demand_from_grid,
    demand_from_places,
)
from planning.target_groups import zensus_target_groups

logger = logging.getLogger(__name__)


def best_demand(
    settings: Settings, target_group: str = "total", column: str | None = None, source: str = "auto"
) -> DemandResult:
    """Demand points from the best population data available (or from ``source`` on purpose).

    Levels, best first: an imported Zensus 2022 grid (store table
    ``zensus``); Gemeinden with Destatis population (when the ``gemeinde``
    layer is loaded and has ``population`` for every Gemeinde); the embedded
    GeoNames places with the Kreis population shared out over them.

    Parameters
    ----------
    settings
        Paths of the embedded data and of the local store.
    target_group
        ``"total"``, ``"foreign"`` (Kreis foreign share, Regionalatlas), a
        Zensus group or ``"column"``.
    column
        For ``target_group="column"``: the demand column holding the weight.
    source
        ``auto`` (best first), ``zensus``, ``gemeinde`` or ``orte``.

    Returns
    -------
    DemandResult
        Points in EPSG:25832 with ``weight`` set for the target group, the
        German ``level_label`` and the population's reference date.

    Raises
    ------
    IntegrationsatlasError
        If the data of the chosen level is missing or invalid, or a
        target-group input is missing.
    """
    group = TargetGroup.of(target_group, column)
    grid = load_zensus(settings) if source in ("auto", "zensus") else None
    if source == "zensus" and grid is None:
        raise NotLoadedError(
            "Kein Zensus-Gitter geladen. Bitte zuerst importieren: Seite »Daten«, Reiter »Bevölkerung« "
            "(oder »integrationsatlas zensus DATEI.zip«)."
        )
    result: DemandResult
    if grid is not None:
        result, group = _zensus_demand(settings, grid, group)
    else:
        gemeinden = _gemeinden_or_none(settings) if source in ("auto", "gemeinde") else None
        if gemeinden is not None and "population" in gemeinden and gemeinden["population"].notna().all():
            result = DemandResult(
                points=demand_from_gemeinden(gemeinden, load_layer("orte", settings)),
                level="gemeinde",
                level_label=LEVEL_LABELS["gemeinde"],
                as_of=population_as_of(settings),
                target_group=group,
                source="Destatis Gemeindeverzeichnis (dl-de/by-2-0)",
            )
        elif source == "gemeinde":
            raise NotLoadedError(
                "Keine Gemeinden mit Einwohnerzahl geladen. Bitte die Gemeindegrenzen und die "
                "Destatis-Bevölkerung laden (»integrationsatlas population DATEI«)."
            )
        else:
            indicators = kreis_indicators(settings)
            years = sorted({int(y) for y in indicators["year"].dropna()})
            result = DemandResult(
                points=demand_from_places(
                    load_layer("orte", settings), indicators["population"], load_boundaries("kreis", settings)
                ),
                level="orte",
                level_label=LEVEL_LABELS["orte"],
                as_of="/".join(map(str, years)) or "unbekannt",
                target_group=group,
                source="Destatis 12411-05-01-4 (dl-de/by-2-0); Orte: GeoNames (CC BY 4.0)",
            )
    if group.id == "total":
        return result
    share = (
        kreis_indicators(settings)["foreign_share_pct"]
        if group.id == "foreign" and "zg_foreign" not in result.points.columns
        else None
    )
    points = apply_target_group(result.points, group.id, foreign_share=share, column=group.column)
    return replace(result, points=points)


def _zensus_demand(settings: Settings, grid: pd.DataFrame, group: TargetGroup) -> tuple[DemandResult, TargetGroup]:
    resolution = int(grid["resolution_m"].iloc[0])
    size = f"{resolution // 1000} km" if resolution >= 1000 else f"{resolution} m"
    kreise = None if grid["kreis_ags"].notna().all() else load_boundaries("kreis", settings)
    parent = load_zensus_parent(settings, 1000) if resolution < 1000 else None
    groups = zensus_target_groups(grid, parent)
    grid = grid.join(groups)
    if f"zg_{group.id}" in groups.columns:
        group = TargetGroup.of(group.id, group.column, per_cell=True)
    result = DemandResult(
        points=demand_from_grid(grid, "zg_total" if "zg_total" in grid else "population", kreise=kreise),
        level="zensus",
        level_label=f"Zensus-2022-Gitter {size} (Destatis) – Einwohner je Gitterzelle",
        as_of=ZENSUS_AS_OF,
        target_group=group,
        source=f"{ZENSUS_SOURCE} ({ZENSUS_LICENCE})",
    )
    return result, group


def request_demand(settings: Settings, request: AnalysisRequest) -> tuple[DemandResult, str]:
    """The demand a request asks for, with a German note when a fallback was taken (else empty).

    ``auto`` uses the Zensus grid when the store has one, else the 100 m
    estimate from the buildings of the request's OSM extract, else
    :func:`best_demand`.
    """
    source, osm = request.demand, request.osm_file
    named = residents_set(settings, request)
    counted = load_area_population(settings, named) if named else None
    if source == "gebiet" or (
        source == "auto" and counted is not None and request.target_column is None
        and not has_layer(settings, ZENSUS_LAYER)
    ):  # fmt: skip
        return area_set_demand(settings, named, counted, request.target_group, osm)
    wants_osm = source == "osm" or (
        source == "auto" and osm is not None and request.target_column is None and not has_layer(settings, ZENSUS_LAYER)
    )
    if not wants_osm:
        return best_demand(settings, request.target_group, request.target_column, source), ""
    if osm is None:
        raise DataError("Für die Nachfrage aus OSM-Gebäuden bitte eine OSM-Datei angeben (--osm DATEI.osm.pbf).")
    try:
        from integrationsatlas.osm_demand import osm_demand

        result = osm_demand(settings, Path(osm), request.target_group)
        return replace(result, as_of=f"Gemeindebevölkerung {population_as_of(settings)}; Gebäude laut OSM-Datei"), ""
    except IntegrationsatlasError as exc:
        if source == "osm":
            raise
        demand = best_demand(settings, request.target_group, request.target_column)
        first = str(exc).splitlines()[0]
        return demand, f"Keine 100-m-Schätzung aus Gebäuden möglich ({first}); Nachfrage: {demand.level_label}."


def residents_set(settings: Settings, request: AnalysisRequest) -> str | None:
    """The area set whose imported residents may answer ``request``, or ``None``.

    A question about a set's areas (``--area SET``) asks its own set. A question about a Kreis or Gemeinde asks
    the set it is answered by (``--by SET``) or sites by (at least one per area of ``SET``) when that set has
    residents and its areas belong to every Gemeinde of the area: the city's own figures per Stadtteil then answer
    a question about the city. A larger area (a Regierungsbezirk around the city) is left to the Gemeinde figures.
    """
    if request.area.set:
        return request.area.set
    named = {request.by, request.siting.min_per_level if request.siting is not None else request.by}
    stored = {a.name for a in area_sets(settings)}
    for name in sorted(named & stored):
        if load_area_population(settings, name) is None:
            continue
        own = set(load_area_set(settings, name)["gemeinde_ags"].dropna().astype(str))
        codes = load_boundaries("gemeinde", settings)["ags"].astype(str)
        inside = set(codes[codes.str.startswith(request.area.code)])
        if inside and inside <= own:
            return name
    return None


def area_set_demand(
    settings: Settings,
    set_name: str | None,
    counted: AreaPopulation | None,
    target_group: str,
    osm: str | Path | None = None,
) -> tuple[DemandResult, str]:
    """The residents imported for area set ``set_name``: on the buildings of an OSM extract ``osm``, along the
    streets of a line network ``osm`` (:func:`planning.demand.demand_from_areas`), else evenly over each area.

    Returns
    -------
    tuple
        The demand and a German note when the buildings could not be used
        (else empty).

    Raises
    ------
    NotLoadedError
        If the question is not about an area set, or none of its residents were imported.
    """
    if set_name is None or counted is None:
        where = f"den Gebietssatz »{set_name}«" if set_name else "einen Gebietssatz (--area NAME)"
        raise NotLoadedError(
            f"Für die Nachfrage »Einwohner je Gebiet« bitte Einwohner für {where} importieren: "
            "»integrationsatlas areas population DATEI --set NAME« oder Seite »Daten«, Reiter »Bevölkerung«."
        )
    group = TargetGroup.of(target_group)
    if group.id not in ("total", *counted.groups):
        raise DataError(
            f"Zielgruppe »{group.label}«: die Einwohnertabelle von »{set_name}« ({counted.source_file}) zählt sie "
            f"nicht (vorhanden: {', '.join(ZENSUS_GROUPS[g][0] for g in counted.groups) or 'keine Zielgruppe'})."
        )
    if group.id != "total":
        group = replace(group, label=f"{ZENSUS_GROUPS[group.id][0]} (Einwohnertabelle je Gebiet)")
    note, streets = "", None
    if osm is not None and is_line_network(osm):  # the city's street network: residents along its streets
        try:
            streets = read_lines(osm, limits=ReadLimits.from_settings(settings))
        except IntegrationsatlasError as exc:
            note = f"Keine Verteilung entlang der Straßen möglich ({str(exc).splitlines()[0]}); Einwohner gleichmäßig."
    elif osm is not None:
        from integrationsatlas.osm_demand import area_osm_demand

        try:
            return area_osm_demand(settings, Path(osm), counted, group), ""
        except IntegrationsatlasError as exc:
            note = (
                f"Keine Verteilung auf Gebäude möglich ({str(exc).splitlines()[0]}); Einwohner je Gebiet gleichmäßig."
            )
    points = demand_from_areas(load_area_set(settings, set_name), counted.table, streets=streets)
    along = streets is not None
    result = DemandResult(
        points=points,
        level="gebiet",
        level_label=f"{AREA_STREETS_LABEL if along else LEVEL_LABELS['gebiet']} ({set_name})",
        as_of=de_as_of(counted.as_of),
        target_group=group,
        source=f"{counted.source}; Straßen: {Path(str(osm)).name}" if along else counted.source,
        area_set=set_name,
        licence=counted.licence or "unbekannt",
    )
    return (result if group.id == "total" else replace(result, points=apply_target_group(points, group.id))), note


def area_demand(
    settings: Settings, request: AnalysisRequest, area: StudyArea
) -> tuple[DemandResult, gpd.GeoDataFrame, str]:
    """The request's demand, and its points inside ``area`` with the unit column of ``request.by``.

    Returns
    -------
    tuple
        The whole demand, the points of the area (index kept) and a German
        note (empty when nothing needs saying).

    Raises
    ------
    DataError
        If the area holds no demand.
    """
    demand, note = request_demand(settings, request)
    own = demand.area_set if demand.level == "gebiet" else None
    points = with_units(settings, demand.points, request.by, own_set=own)
    points = points_in_area(settings, points, area, own_set=own)
    if points.empty:
        raise DataError(f"Im Gebiet {area.label} gibt es keine Nachfragepunkte. Bitte den AGS prüfen.")
    return demand, points, note


def area_population(
    settings: Settings, area: StudyArea, demand: DemandResult, points: gpd.GeoDataFrame
) -> float | None:
    """Residents of the whole area when the demand does not hold all of them, else ``None``.

    The estimate from an OSM extract's buildings holds only the Gemeinden the
    extract touches; then the area's residents come from the Gemeinde table,
    so that an extent's share is a share of the whole area. Every other
    demand source covers the whole area.
    """
    if demand.level != "osm":
        return None
    own = float(points["population"].sum())
    table = load_gemeinde_population(settings)
    if table is None or not area.administrative:  # an area of an area set: only its own estimate is known
        return own
    inside = table.index.astype(str).str.startswith(area.ags)
    return max(own, float(pd.to_numeric(table.loc[inside, "population"], errors="coerce").sum()))


def with_units(
    settings: Settings, points: gpd.GeoDataFrame, by: str, *, own_set: str | None = None
) -> gpd.GeoDataFrame:
    """``points`` with the unit column of level ``by`` filled (:class:`geo.levels.AnalysisLevel`).

    Kreis and Gemeinde come with the demand (Gemeinden assigned by location,
    to the nearest one just outside a simplified border, when unknown); the
    Land and the Regierungsbezirk follow from the Kreis; the areas of an area
    set are located by the point-in-area rule, and points outside every area
    of the set get none. Points spreading the residents of area set
    ``own_set`` keep the area they were counted for (``unit_id``): a 100 m
    cell of an area's buildings may have its centre just across the border.

    Raises
    ------
    NotLoadedError
        If ``by`` names neither an administrative level nor a stored area set.
    """
    level = analysis_level(by, settings)
    if not level.administrative and by == own_set and level.column in points.columns:
        return points
    if not level.administrative:
        return points.assign(**{level.column: level.keys_of(points.geometry, settings)})
    if by == "land":
        return points.assign(land_ags=pd.Series("05", index=points.index, dtype="string"))
    if by == "regbez":
        return points.assign(regbez_ags=points["kreis_ags"].astype("string").str[:3])
    if by == "gemeinde" and points["gemeinde_ags"].isna().any():
        gemeinden = load_boundaries("gemeinde", settings)
        return points.assign(gemeinde_ags=assign_units(points, gemeinden, "ags", what="Nachfragepunkte"))
    return points


def points_in_area(
    settings: Settings, points: gpd.GeoDataFrame, area: StudyArea, *, own_set: str | None = None
) -> gpd.GeoDataFrame:
    """The demand points of ``area``: by their Kreis or Gemeinde key, or by the area set's areas they lie in.

    Every test is the point-in-area rule of :mod:`geo.units`, except for
    points spreading the residents of the area's own set (``own_set``),
    which keep the area they were counted for.
    """
    if not area.administrative:
        level = analysis_level(area.level, settings)
        own = area.level == own_set and level.column in points.columns
        keys = points[level.column] if own else level.keys_of(points.geometry, settings)
        return points[keys.astype("string").isin(area.members).fillna(False).to_numpy(dtype=bool)]
    if area.level == "land":
        return points
    if area.level == "gemeinde":
        key = points["gemeinde_ags"]
        if key.isna().any():
            key = assign_units(points, load_boundaries("gemeinde", settings), "ags", what="Nachfragepunkte")
    else:
        key = points["kreis_ags"]
    return points[key.astype("string").fillna("").str.startswith(area.ags).to_numpy(dtype=bool)]


def layer_facilities(settings: Settings, layer: str) -> gpd.GeoDataFrame:
    """The facilities of ``layer`` (never filtered by area: those just outside serve it too).

    Raises
    ------
    NotLoadedError
        If the layer has no facility.
    """
    spec = REGISTRY.get(layer)
    facilities = load_layer(layer, settings)
    if facilities.empty:
        raise NotLoadedError(
            f"Die Ebene »{spec.title}« enthält keine Einrichtungen. Bitte zuerst Daten importieren "
            f"(»integrationsatlas import DATEI --layer {layer}«) oder abrufen."
        )
    return facilities


def supply(facilities: gpd.GeoDataFrame, layer: str) -> tuple[np.ndarray, str]:
    """Capacity per facility (declared capacity column) or 1 each, with a German note."""
    column = REGISTRY.get(layer).capacity_column
    if column and column in facilities.columns:
        cap = pd.to_numeric(facilities[column], errors="coerce")
        if cap.notna().all() and (cap >= 0).all():
            return cap.to_numpy(dtype=np.float64), f"Angebot: Spalte »{column}«"
        logger.info("Kapazität »%s« unvollständig: 2SFCA mit 1 je Einrichtung", column)
    return np.ones(len(facilities)), "Angebot: 1 je Einrichtung"


def facility_as_of(facilities: gpd.GeoDataFrame, settings: Settings, layer: str) -> str:
    """The newest ``as_of`` of the facilities, else the data's recorded date, in German (:func:`de_as_of`).

    >>> import geopandas as gpd
    >>> facility_as_of(gpd.GeoDataFrame({"as_of": ["2026-11", "2025-03", None]}), Settings(), "ki")
    '11/2026'
    """
    values = facilities["as_of"].dropna().astype(str) if "as_of" in facilities.columns else pd.Series([], dtype=str)
    values = values[values != ""]
    return de_as_of(str(values.max())) if len(values) else store_date(settings, layer)


def population_as_of(settings: Settings) -> str:
    """The reference date (Stichtag) of the imported Gemeinde population, e.g. ``"31.12.2019"``."""
    return store_date(settings, POPULATION_TABLE)


def store_date(settings: Settings, layer_id: str) -> str:
    """The data's own date recorded with its newest batch (Stichtag), else »unbekannt (Import TT.MM.JJJJ)«."""
    if not store_exists(settings):
        return "unbekannt"
    meta = open_store(settings).layer_meta(layer_id)
    if meta is None:
        return "unbekannt"
    return de_as_of(meta.as_of, meta.imported_at)


def _gemeinden_or_none(settings: Settings) -> gpd.GeoDataFrame | None:
    try:
        return gemeinden_with_population(settings)
    except NotLoadedError:
        return None
