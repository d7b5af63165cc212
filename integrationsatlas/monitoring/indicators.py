"""The indicator table of a level: one row per area and indicator, each figure with its source, date and resolution.

:func:`compute_indicators` answers an :class:`~integrationsatlas.monitoring.catalogue.IndicatorSeries`
for any level – Land, Regierungsbezirk, Kreis, Gemeinde or an area set – with
the pipeline's own steps: the demand of the area (population and target
group per unit), the facilities located by the one point-in-area rule
(counts and per 10,000), and one coverage report per layer and reach
(covered share, 2SFCA, gap index), plus the share of each unit's surface in
reach. A unit whose demand is too coarse for its own figure (a Gemeinde
population shared over a few places says nothing about one Stadtteil) gets no
value but a note, never a number that looks like a result.
"""

from __future__ import annotations

import logging
import math
import re
from dataclasses import dataclass
from datetime import date
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from geo.formatting import de_number
from geo.layers.registry import REGISTRY
from geo.levels import AnalysisLevel, analysis_level
from geo.settings import Settings
from geo.store import open_store, store_exists
from geo.units import count_in_units, unit_of
from integrationsatlas.coverage import coverage_report
from integrationsatlas.monitoring.catalogue import KINDS, IndicatorSeries, Reach
from integrationsatlas.pipeline.area import study_area
from integrationsatlas.pipeline.costs import measure_for, within
from integrationsatlas.pipeline.demand import area_demand, facility_as_of, layer_facilities
from integrationsatlas.request import AnalysisRequest
from planning.candidates import grid_points
from planning.resolution import RESOLUTIONS, unit_resolution

logger = logging.getLogger(__name__)

#: Columns of :attr:`IndicatorTable.values`.
VALUE_COLUMNS: tuple[str, ...] = (
    "key",
    "name",
    "indicator",
    "kind",
    "title",
    "layer",
    "reach",
    "value",
    "unit",
    "source",
    "as_of",
    "resolution",
    "extent",
    "note",
)
#: Most grid cells for the surface shares of one table (the cell grows beyond it).
MAX_AREA_CELLS = 45_000
#: Finest cell of the surface shares, metres.
AREA_CELL_M = 100.0


@dataclass(frozen=True)
class IndicatorTable:
    """Indicators per unit of one level at one date.

    Parameters
    ----------
    level, level_title, key_title
        The level's id, title and key header (``AGS`` or ``Nr.``).
    date
        The snapshot's date (ISO ``JJJJ-MM-TT``): the reference date of its inputs.
    series
        The question answered.
    values
        Long table, one row per unit and indicator (:data:`VALUE_COLUMNS`):
        ``value`` is ``NaN`` where the data do not allow a figure, and
        ``note`` says why.
    """

    level: str
    level_title: str
    key_title: str
    date: str
    series: IndicatorSeries
    values: pd.DataFrame

    def indicators(self) -> pd.DataFrame:
        """One row per indicator: id, title, kind, unit, definition, interpretation, source, date, resolution."""
        first = self.values.drop_duplicates("indicator").set_index("indicator")
        kinds = first["kind"].map(KINDS)
        return pd.DataFrame(
            {
                "title": first["title"],
                "kind": first["kind"],
                "unit": first["unit"],
                "definition": kinds.map(lambda k: k.definition),
                "interpretation": kinds.map(lambda k: k.interpretation),
                "source": first["source"],
                "as_of": first["as_of"],
                "resolution": first["resolution"],
                "extent": first["extent"],
            }
        )

    def wide(self) -> pd.DataFrame:
        """Units as rows, indicators as columns (ids), in the order computed."""
        order = list(dict.fromkeys(self.values["indicator"]))
        names = self.values.drop_duplicates("key").set_index("key")["name"]
        table = self.values.pivot(index="key", columns="indicator", values="value").reindex(columns=order)
        table.insert(0, "name", names.reindex(table.index))
        return table.reindex(list(names.index))

    def as_dict(self) -> dict[str, Any]:
        """JSON form: level, date, series, indicators (with metadata) and one record per unit."""
        meta = self.indicators().reset_index().to_dict(orient="records")
        return {
            "level": {"id": self.level, "title": self.level_title, "key_title": self.key_title},
            "date": self.date,
            "series": self.series.as_dict(),
            "indicators": meta,
            "values": self.values.to_dict(orient="records"),
        }


def compute_indicators(settings: Settings, series: IndicatorSeries, *, on: str | None = None) -> IndicatorTable:
    """The indicator table of ``series`` on the data loaded now.

    Parameters
    ----------
    settings
        Paths of the embedded data, the store and the network cache.
    series
        Level, area, layers and reaches.
    on
        The snapshot's date (ISO); default: the newest reference date of its
        inputs (population and facilities, :func:`input_date`).

    Returns
    -------
    IndicatorTable

    Raises
    ------
    IntegrationsatlasError
        Unknown level or layer, data not loaded, bad reach; the message says what to do.

    Notes
    -----
    Every spatial step works in EPSG:25832. Coverage figures are those of
    :func:`integrationsatlas.coverage.coverage_report` for the same request;
    on a travel-time reach only units in the street network's extent get a
    value, and each figure names the extent.
    """
    series.check()
    requests = series.requests()
    level = analysis_level(series.by, settings)
    area = study_area(settings, requests[0].area)
    units = level.units(settings)
    units = units[area.keeps(level, units.set_index(units[level.key].astype(str)))].reset_index(drop=True)
    keys = units[level.key].astype(str)
    demand, points, _ = area_demand(settings, requests[0], area)
    point_keys = points[level.column].astype("string")
    widths = pd.Series(np.sqrt(units.geometry.area.to_numpy()), index=pd.Index(keys))
    nesting = demand.nesting(level.id, level.administrative)
    totals = unit_resolution(points, point_keys, widths, level=nesting)
    rows: list[dict[str, Any]] = []
    population = points.groupby(point_keys)["population"].sum().reindex(keys)
    base = {"source": demand.source, "as_of": demand.as_of, "resolution": demand.level_label, "extent": ""}
    masked = population.where(totals["total_ok"].to_numpy())
    rows += _rows(units, level, "population", None, None, population, totals["total_ok"], base, totals)
    if series.target_group != "total":
        weight = points.groupby(point_keys)["weight"].sum().reindex(keys)
        group = demand.target_group.label
        rows += _rows(units, level, "target_group", None, None, weight, totals["total_ok"], base, totals, group)
    dates = [demand.as_of]
    for layer in series.layers:
        facilities = layer_facilities(settings, layer)
        as_of = facility_as_of(facilities, settings, layer)
        dates.append(as_of)
        counted = count_in_units(units, {layer: facilities}, masked, key=level.key).set_index(level.key)
        source = {"source": _layer_source(settings, layer), "as_of": as_of, "resolution": "Punkte", "extent": ""}
        everywhere = pd.Series(True, index=keys)
        rows += _rows(units, level, "facilities", layer, None, counted[layer], everywhere, source, totals)
        per = {**base, "source": f"{source['source']}; Einwohner: {demand.source}", "as_of": f"{as_of}; {demand.as_of}"}
        rows += _rows(units, level, "facilities_per_10k", layer, None, counted[f"{layer}_je_10000"],
                      totals["total_ok"], per, totals)  # fmt: skip
        for request in (r for r in requests if r.layer == layer):
            reach = Reach(request.unit, request.threshold, request.mode)
            rows += _coverage_rows(settings, request, reach, units, level, points, point_keys, widths, nesting)
    values = pd.DataFrame(rows, columns=list(VALUE_COLUMNS))
    return IndicatorTable(
        level=level.id,
        level_title=level.title,
        key_title=level.key_title,
        date=on or input_date(dates),
        series=series,
        values=values,
    )


def _rows(
    units: gpd.GeoDataFrame,
    level: AnalysisLevel,
    kind_id: str,
    layer: str | None,
    reach: Reach | None,
    values: pd.Series,
    ok: pd.Series,
    meta: dict[str, str],
    resolution: pd.DataFrame,
    group: str = "",
) -> list[dict[str, Any]]:
    """One row per unit for one indicator; units failing their resolution rule get ``NaN`` and a note."""
    kind = KINDS[kind_id]
    keys = units[level.key].astype(str).tolist()
    vals = pd.to_numeric(pd.Series(values).reindex(keys), errors="coerce").to_numpy(dtype=np.float64)
    good = pd.Series(ok).reindex(keys).fillna(False).to_numpy(dtype=bool)
    out = []
    for i, key in enumerate(keys):
        value, note = float(vals[i]), ""
        if not good[i]:
            value, note = math.nan, _why(resolution, key, kind.needs)
        elif not math.isfinite(value):
            note = "keine Angabe"
        out.append(
            {
                "key": key,
                "name": str(units["name"].iloc[i]),
                "indicator": kind.indicator_id(layer, reach),
                "kind": kind.id,
                "title": kind.indicator_title(layer, reach, group),
                "layer": layer or "",
                "reach": reach.slug if reach else "",
                "value": value,
                "unit": kind.unit,
                **meta,
                "note": note,
            }
        )
    return out


def _why(resolution: pd.DataFrame, key: str, needs: str) -> str:
    """Why a unit has no value: no demand, or demand too coarse for the unit (or the threshold)."""
    if needs == "none":
        return "keine Angabe"
    row = {str(k): v for k, v in resolution.loc[key].items()} if key in resolution.index else {}
    if not row or int(str(row["units"])) == 0:
        return "keine Nachfrage im Gebiet"
    size = float(str(row["size_m"]))
    kind = str(row["resolution"])
    label = RESOLUTIONS.get(kind, kind)
    if needs == "share" and bool(row["total_ok"]):
        return f"Nachfrage zu grob für die Schwelle ({label}, Einheiten bis {de_number(size / 1000, 1)} km breit)"
    return f"Nachfrage zu grob für dieses Gebiet ({label}, Einheiten bis {de_number(size / 1000, 1)} km breit)"


def _coverage_rows(
    settings: Settings,
    request: AnalysisRequest,
    reach: Reach,
    units: gpd.GeoDataFrame,
    level: AnalysisLevel,
    points: gpd.GeoDataFrame,
    point_keys: pd.Series,
    widths: pd.Series,
    nesting: str | None,
) -> list[dict[str, Any]]:
    """Covered share, surface in reach, 2SFCA and gap index of one layer and reach, per unit.

    ``nesting`` is the level name of the nesting rule (:meth:`planning.demand.DemandResult.nesting`).
    """
    report = coverage_report(settings, request)
    table = report.gaps.table.copy()
    table.index = table.index.astype(str)
    shares = unit_resolution(points, point_keys, widths, threshold_m=request.threshold_m, level=nesting)
    extent = report.extent.caption if report.extent is not None and report.extent.partial else ""
    present = pd.Series(shares["share_ok"] & ~table["no_demand"].reindex(widths.index).fillna(True).astype(bool))
    meta = {
        "source": report.inputs.citation(),
        "as_of": "; ".join(f"{k} {v}" for k, v in report.inputs.as_of),
        "resolution": report.resolution.label or report.demand_level_label,
        "extent": extent,
    }
    rows = []
    scaled = {"share_covered": 100.0, "access_ratio": 10_000.0, "gap_score": 1.0}
    for kind_id, factor in scaled.items():
        if kind_id not in table.columns:
            continue
        values = pd.to_numeric(table[kind_id], errors="coerce") * factor
        rows += _rows(units, level, kind_id, request.layer, reach, values, present, meta, shares)
    surface, cell_m = area_in_reach(settings, request, units, level)
    area_meta = {**meta, "resolution": f"Raster {de_number(cell_m, 0)} m (Fläche, ohne Bevölkerung)"}
    rows += _rows(units, level, "area_covered", request.layer, reach, surface * 100.0, surface.notna(), area_meta,
                  shares)  # fmt: skip
    if extent:  # units without demand in the network's extent: their figures are not known
        for row in rows:
            if row["key"] not in table.index and row["kind"] != "area_covered":
                row["value"], row["note"] = math.nan, "außerhalb des Ausschnitts"
    return rows


def area_in_reach(
    settings: Settings,
    request: AnalysisRequest,
    units: gpd.GeoDataFrame,
    level: AnalysisLevel,
) -> tuple[pd.Series, float]:
    """Share of each unit's surface from which the nearest facility is within the request's threshold.

    The surface is sampled by the centres of a regular grid (100 m, coarser
    for large tables, see :data:`MAX_AREA_CELLS`); on a travel-time request
    only cells in the network's extent count.

    Returns
    -------
    tuple
        Share in [0, 1] per unit key (``NaN`` for a unit without a cell in
        the extent) and the cell width in metres.

    Notes
    -----
    Grid and costs in EPSG:25832 with the same measure as the coverage figures.
    """
    region = units.geometry.union_all()
    cell = max(AREA_CELL_M, math.ceil(math.sqrt(region.area / MAX_AREA_CELLS) / 100.0) * 100.0)
    cells = gpd.GeoDataFrame(geometry=grid_points(region, cell), crs=units.crs)
    measure = measure_for(settings, request)
    cells = cells[within(cells, measure.hull)]
    facilities = layer_facilities(settings, request.layer)
    facilities = facilities[within(facilities, measure.hull)]
    keys = unit_of(cells.geometry, units, level.key)
    cost = pd.Series(measure.nearest(cells, facilities), index=cells.index)
    reached = (cost <= request.threshold).groupby(keys).mean()
    return reached.reindex(units[level.key].astype(str)).astype("float64"), cell


def _layer_source(settings: Settings, layer: str) -> str:
    """Where a layer's data come from: the newest stored batch, else the declared sources."""
    spec = REGISTRY.get(layer)
    meta = open_store(settings).layer_meta(layer) if store_exists(settings) else None
    if meta is not None:
        who = meta.publisher or meta.source
        return f"{spec.title}: {who} ({meta.source_file}, {meta.licence})"
    return f"{spec.title}: " + ", ".join(f"{s.title} ({s.licence})" for s in spec.sources[:2])


def iso_date(text: str | None) -> str | None:
    """A reference date as ISO ``JJJJ-MM-TT``: ``31.12.2019``, ``2019-12-31``, ``Import 2025-03-01``; a bare year
    ``2019`` is the 31 December of that year (the Stichtag of the population statistics). ``None`` when none is found.

    >>> iso_date("31.12.2019"), iso_date("2019"), iso_date("Import 2025-03-01"), iso_date("unbekannt")
    ('2019-12-31', '2019-12-31', '2025-03-01', None)
    """
    value = str(text or "")
    if m := re.search(r"(\d{4})-(\d{2})-(\d{2})", value):
        return f"{m.group(1)}-{m.group(2)}-{m.group(3)}"
    if m := re.search(r"(\d{1,2})\.(\d{1,2})\.(\d{4})", value):
        return f"{m.group(3)}-{int(m.group(2)):02d}-{int(m.group(1)):02d}"
    if m := re.search(r"(?<!\d)(\d{4})(?!\d)", value):
        return f"{m.group(1)}-12-31"
    return None


def input_date(dates: list[str]) -> str:
    """The date of a snapshot: the newest reference date among its inputs, else today.

    >>> input_date(["31.12.2019", "2014"])
    '2019-12-31'
    """
    found = [d for d in (iso_date(x) for x in dates) if d]
    return max(found) if found else date.today().isoformat()
