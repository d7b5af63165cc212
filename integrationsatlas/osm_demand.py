"""Demand estimated from OSM buildings when no Zensus grid is loaded (workflow).

Loads the Gemeinden with their Destatis population from the local store and
the buildings of an OSM extract, runs :func:`planning.dasymetric.dasymetric_grid`
and returns the cells through the same demand code as a Zensus grid
(:func:`planning.demand.demand_from_grid` with ``level="osm"``).
"""

from __future__ import annotations

import hashlib
import logging
from collections import OrderedDict
from pathlib import Path

import geopandas as gpd
import pandas as pd

from geo.areasets import load_area_set
from geo.areasets.population import AreaPopulation
from geo.errors import DataError
from geo.layers.loading import load_layer
from geo.settings import Settings
from geo.sources.buildings import OSM_LICENCE, cached_buildings, extract_coverage
from geo.sources.destatis import gemeinden_with_population, load_gemeinde_population
from geo.sources.frame_cache import cached_frame
from geo.sources.streets import content_hash
from geo.sources.zensus import load_zensus
from geo.statistics import kreis_indicators
from planning.dasymetric import (
    SOURCE_LABEL,
    DasymetricResult,
    dasymetric_grid,
    estimate_target_groups,
    target_groups_from_zensus,
)
from planning.demand import LEVEL_LABELS, DemandResult, TargetGroup, apply_target_group, demand_from_grid
from planning.target_groups import zensus_target_groups

logger = logging.getLogger(__name__)

#: Version of the on-disk cell cache layout.
CELLS_FORMAT = 1
_CELLS: OrderedDict[str, gpd.GeoDataFrame] = OrderedDict()


def osm_estimate(settings: Settings, osm_file: Path) -> DasymetricResult:
    """The dasymetric 100 m estimate for the Gemeinden an OSM extract covers.

    Raises
    ------
    NotLoadedError
        If no Gemeinden are loaded.
    DataError
        If the Gemeinden have no population, or the extract has no
        residential building.
    """
    gemeinden = gemeinden_with_population(settings)
    if "population" not in gemeinden.columns or gemeinden["population"].isna().all():
        raise DataError(
            "Gemeinden ohne Einwohnerzahl: bitte zuerst die Destatis-Bevölkerung laden "
            "(»integrationsatlas fetch destatis-gv« oder eine Gemeindetabelle importieren)."
        )
    buildings = cached_buildings(Path(osm_file), settings)
    coverage = extract_coverage(Path(osm_file), buildings)
    return dasymetric_grid(buildings, gemeinden, coverage=coverage, places=load_layer("orte", settings))


def osm_cells(settings: Settings, osm_file: Path) -> gpd.GeoDataFrame:
    """The estimated population cells of an extract, computed once per extract and population table.

    Cached in memory and on disk (GeoParquet under ``settings.cache_dir /
    "osm_demand"``), keyed by the extract's content hash and a digest of the
    Gemeinde population, so a second analysis on the same extract reads the
    cells instead of estimating them again.

    Notes
    -----
    Cells in EPSG:25832, as :func:`osm_estimate`.
    """
    table = load_gemeinde_population(settings)
    population = "" if table is None else pd.util.hash_pandas_object(table["population"]).to_numpy().tobytes().hex()
    digest = hashlib.sha256(population.encode("ascii")).hexdigest()[:12]
    key = f"{content_hash(Path(osm_file))[:16]}-{digest}-v{CELLS_FORMAT}"
    if key in _CELLS:
        return _CELLS[key]
    target = settings.cache_dir / "osm_demand" / f"{key}.parquet"
    cells = cached_frame(target, lambda: osm_estimate(settings, osm_file).cells, "Nachfrage")
    _CELLS[key] = cells
    while len(_CELLS) > 4:
        _CELLS.popitem(last=False)
    return cells


def osm_demand(settings: Settings, osm_file: Path, target_group: str = "total") -> DemandResult:
    """Demand points from OSM buildings (100 m cells, plus coarse points where the extract ends).

    Parameters
    ----------
    settings
        Paths of the embedded data and of the local store.
    osm_file
        ``.osm.pbf``, ``.osm`` or ``.osm.bz2`` of the area.
    target_group
        ``"total"``, or a Zensus group (``"foreign"``, ``"u3"``, …): taken
        as the share of the enclosing cell of a loaded Zensus grid (any
        resolution) when there is one, else – for ``"foreign"`` only – the
        Kreis share (Regionalatlas); the source is labelled on every cell
        (``weight_quelle``). Age groups without a Zensus grid are refused.

    Returns
    -------
    DemandResult
        Level ``"osm"``; points in EPSG:25832 with ``resolution`` per point.
    """
    cells = osm_cells(settings, osm_file)
    group = TargetGroup.of(target_group)
    zensus = load_zensus(settings)
    if group.id != "total" and zensus is not None:
        zensus = zensus.join(zensus_target_groups(zensus))
        if f"zg_{group.id}" in zensus.columns:
            cells = cells.join(target_groups_from_zensus(cells, zensus))
            group = TargetGroup(group.id, f"{group.label} (Anteil der Zensus-Zelle) auf Gebäudeschätzung")
    if group.id == "foreign" and "zg_foreign" not in cells.columns:
        share = (kreis_indicators(settings)["foreign_share_pct"] / 100.0).rename("foreign").to_frame()
        share.index = share.index.astype(str).rename("kreis_ags")
        cells = cells.join(estimate_target_groups(cells, share, "Ausländeranteil des Kreises (Regionalatlas)"))
        group = TargetGroup("foreign", "Ausländische Bevölkerung (Anteil je Kreis, Regionalatlas) auf Gebäudeschätzung")
    points = apply_target_group(demand_from_grid(cells, level="osm"), group.id)
    return DemandResult(
        points=points,
        level="osm",
        level_label=LEVEL_LABELS["osm"],
        as_of="Gemeindebevölkerung laut Import; Gebäude laut OSM-Datei",
        target_group=group,
        source=f"{SOURCE_LABEL}: {Path(osm_file).name} ({OSM_LICENCE}); Destatis (dl-de/by-2-0)",
    )


#: German label of residents per area spread over the residential buildings of an extract.
AREA_BUILDINGS_LABEL = "Einwohner je Gebiet auf Wohngebäude (OSM) verteilt, 100-m-Zellen"


def area_cells(settings: Settings, osm_file: Path, counted: AreaPopulation) -> gpd.GeoDataFrame:
    """The residents of each area of a set shared over its residential buildings, summed into 100 m cells.

    The same estimate as :func:`osm_estimate` with the areas in place of the
    Gemeinden: each area's residents go to its buildings by floor area (an
    area partly outside the extract keeps the rest in coarse points), so the
    cells of an area sum to its residents exactly. Target groups are the
    area's shares on every cell (``zg_<group>``). ``unit_id`` names the area,
    ``gemeinde_ags`` and ``kreis_ags`` those of the area. Cached like
    :func:`osm_cells`, keyed by the extract, the set and the residents.

    Raises
    ------
    DataError
        If the extract has no residential building in any area.
    """
    residents = counted.table.set_index("unit_id")
    digest = hashlib.sha256(pd.util.hash_pandas_object(residents, index=True).to_numpy().tobytes()).hexdigest()[:12]
    key = f"{content_hash(Path(osm_file))[:16]}-{counted.set_name}-{digest}-v{CELLS_FORMAT}"
    if key in _CELLS:
        return _CELLS[key]

    def build() -> gpd.GeoDataFrame:
        areas = load_area_set(settings, counted.set_name)
        keys = areas["unit_id"].astype(str)
        units = gpd.GeoDataFrame(
            {"ags": keys.to_numpy(), "population": residents["population"].reindex(keys).to_numpy()},
            geometry=areas.geometry.to_numpy(),
            crs=areas.crs,
        )
        buildings = cached_buildings(Path(osm_file), settings)
        coverage = extract_coverage(Path(osm_file), buildings)
        cells = dasymetric_grid(buildings, units, coverage=coverage, places=load_layer("orte", settings)).cells
        unit = cells["gemeinde_ags"].astype(str)
        gemeinde = areas.set_index(keys)["gemeinde_ags"].astype("string").reindex(unit).to_numpy()
        cells = cells.assign(unit_id=unit.to_numpy(), gemeinde_ags=gemeinde)
        cells["kreis_ags"] = cells["gemeinde_ags"].str.slice(0, 5)
        if counted.groups:
            shares = residents[list(counted.groups)].div(
                residents["population"].where(residents["population"] > 0), axis=0
            )
            shares.index.name = "unit_id"
            cells = cells.join(estimate_target_groups(cells, shares, f"Anteil des Gebiets ({counted.source_file})"))
        return cells

    cells = cached_frame(settings.cache_dir / "osm_demand" / f"{key}.parquet", build, "Nachfrage")
    _CELLS[key] = cells
    while len(_CELLS) > 4:
        _CELLS.popitem(last=False)
    return cells


def area_osm_demand(settings: Settings, osm_file: Path, counted: AreaPopulation, group: TargetGroup) -> DemandResult:
    """Demand points of an area set's residents on the buildings of an OSM extract (:func:`area_cells`).

    Returns
    -------
    DemandResult
        Level ``"gebiet"`` (the residents nest in the areas); points in
        EPSG:25832, ``osm_100m`` cells and, where the extract ends, ``osm_grob``
        points.
    """
    points = demand_from_grid(area_cells(settings, osm_file, counted), level="gebiet")
    return DemandResult(
        points=apply_target_group(points, group.id),
        level="gebiet",
        level_label=f"{AREA_BUILDINGS_LABEL} ({counted.set_name})",
        as_of=counted.as_of,
        target_group=group,
        source=f"{counted.source}; Gebäude: {Path(osm_file).name} ({OSM_LICENCE})",
        area_set=counted.set_name,
        licence=f"{counted.licence or 'unbekannt'}; Gebäude {OSM_LICENCE}",
    )
