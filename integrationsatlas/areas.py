"""Areas: facilities per Kreis/Gemeinde, indicators, search, click lookup and profiles.

Pure functions (no Streamlit) on GeoDataFrames in EPSG:25832, shared by the
app (:mod:`ui.cached` wraps them), the CLI (``integrationsatlas summary``) and
the council report, so that every screen counts the same way: facilities are
located with the one point-in-area rule of :func:`geo.units.unit_of`.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.errors import DataError, IntegrationsatlasError, NotLoadedError
from geo.formatting import de_int, de_pct
from geo.layers.loading import is_available, load_layer
from geo.layers.registry import REGISTRY, LayerRegistry
from geo.settings import DISPLAY_CRS, PROJECTED_CRS, Settings
from geo.statistics import kreis_indicators
from geo.units import PER_10000_SUFFIX, UnitLevel, count_in_units, load_boundaries, unit_of
from integrationsatlas.classes import SHARE_BREAKS

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Indicator:
    """A choropleth indicator of the Karte page.

    Attributes
    ----------
    id
        Stable key.
    title
        German legend title with unit.
    decimals
        Decimals in legend and tooltip.
    per_layer
        Whether the indicator is computed for one chosen facility layer.
    breaks
        Fixed upper class limits, or ``None`` for classes from the values (quantiles). The covered share
        takes the share classes of every other coverage map and the report, so the maps compare.
    """

    id: str
    title: str
    decimals: int = 1
    per_layer: bool = False
    breaks: tuple[float, ...] | None = None


INDICATORS: tuple[Indicator, ...] = (
    Indicator("population", "Einwohner", 0),
    Indicator("foreign_share_pct", "Ausländeranteil (%)", 1),
    Indicator("density_per_km2", "Einwohner je km²", 0),
    Indicator("facilities_per_10k", "Einrichtungen je 10.000 Einw.", 2, per_layer=True),
    Indicator("share_covered", "Versorgungsgrad (%) bis 10 km Luftlinie", 0, per_layer=True, breaks=SHARE_BREAKS),
    Indicator("access_ratio", "2SFCA: Angebot je 10.000 Einw. (10 km)", 2, per_layer=True),
    Indicator("gap_score", "Lückenwert (0–1, höher = schlechter versorgt)", 2, per_layer=True),
)
#: Indicators taken from the coverage analysis (gap table columns) and their scale factor.
COVERAGE_INDICATORS: dict[str, float] = {"share_covered": 100.0, "access_ratio": 10_000.0, "gap_score": 1.0}
#: Straight-line threshold of the coverage indicators on the Karte page, in km.
KARTE_THRESHOLD_KM = 10.0


def indicator(indicator_id: str) -> Indicator:
    """Look up an indicator by id.

    Raises
    ------
    DataError
        For an unknown id, listing the known ones.
    """
    for ind in INDICATORS:
        if ind.id == indicator_id:
            return ind
    raise DataError(f"Unbekannte Kennzahl »{indicator_id}«. Möglich: {', '.join(i.id for i in INDICATORS)}.")


def kreis_table(settings: Settings, facility_layers: tuple[str, ...] = ()) -> gpd.GeoDataFrame:
    """The 53 Kreise with statistics and facility counts.

    Parameters
    ----------
    settings
        Application settings.
    facility_layers
        Facility layer ids to count per Kreis (columns ``n_<id>``).

    Returns
    -------
    geopandas.GeoDataFrame
        Kreis polygons in EPSG:25832 with ``population``, ``foreign_share_pct``,
        ``density_per_km2``, ``stat_year`` and one ``n_<layer>`` per layer.

    Notes
    -----
    Facilities are located by :func:`geo.units.unit_of` (EPSG:25832; a point
    on a shared border counts for the Kreis with the smaller AGS), not by
    their ``kreis_ags`` attribute, so imported records without an AGS count too.
    """
    kreise = load_boundaries("kreis", settings)
    stats = kreis_indicators(settings)
    out = kreise.merge(
        stats[["population", "foreign_share_pct", "density_per_km2", "year"]].rename(columns={"year": "stat_year"}),
        left_on="ags",
        right_index=True,
        how="left",
    )
    if facility_layers:
        counts = count_in_units(out, {lid: load_layer(lid, settings) for lid in facility_layers})
        for layer_id in facility_layers:
            out[f"n_{layer_id}"] = counts[layer_id].to_numpy()
    return gpd.GeoDataFrame(out, geometry="geometry", crs=PROJECTED_CRS)


def gemeinde_table(settings: Settings, facility_layers: tuple[str, ...] = ()) -> gpd.GeoDataFrame:
    """The Gemeinden with population, density and facility counts, like :func:`kreis_table`.

    The population is the imported Gemeindeverzeichnis (or the boundary
    layer's own column); the foreign share is not published per Gemeinde
    here and stays empty (``NaN``).

    Raises
    ------
    NotLoadedError
        If no Gemeinde boundaries are available.

    Notes
    -----
    Areas and counts in EPSG:25832; a facility on a shared border counts for
    the Gemeinde with the smaller AGS (:func:`geo.units.unit_of`).
    """
    from geo.sources.destatis import gemeinden_with_population

    out = gemeinden_with_population(settings).copy()
    population = pd.to_numeric(out.get("population"), errors="coerce").astype("float64")
    out["population"] = population
    out["density_per_km2"] = (population / (out.geometry.area / 1e6)).round(0)
    out["foreign_share_pct"] = np.nan
    if facility_layers:
        counts = count_in_units(out, {lid: load_layer(lid, settings) for lid in facility_layers})
        for layer_id in facility_layers:
            out[f"n_{layer_id}"] = counts[layer_id].to_numpy()
    return gpd.GeoDataFrame(out, geometry="geometry", crs=PROJECTED_CRS)


def indicator_values(
    table: gpd.GeoDataFrame, indicator_id: str, layer_id: str | None = None, gaps: pd.DataFrame | None = None
) -> pd.Series:
    """Values of one indicator per unit of ``table`` (from :func:`kreis_table` or :func:`gemeinde_table`).

    Parameters
    ----------
    table
        Kreise with statistics and counts.
    indicator_id
        One of :data:`INDICATORS`.
    layer_id
        Facility layer for the per-layer indicators.
    gaps
        Gap table of the coverage analysis indexed by AGS (for
        :data:`COVERAGE_INDICATORS`).
    """
    ind = indicator(indicator_id)
    if ind.id in COVERAGE_INDICATORS:
        if gaps is None or ind.id not in gaps.columns:
            raise DataError(f"Die Kennzahl »{ind.title}« braucht eine Versorgungsanalyse der gewählten Ebene.")
        values = pd.to_numeric(gaps[ind.id], errors="coerce").astype("float64") * COVERAGE_INDICATORS[ind.id]
        return pd.Series(values.reindex(table["ags"].astype(str)).to_numpy(), index=table.index)
    if ind.per_layer:
        column = f"n_{layer_id}"
        if column not in table.columns:
            raise DataError(f"Für die Ebene »{layer_id}« wurden keine Einrichtungen gezählt.")
        population = pd.to_numeric(table["population"], errors="coerce").astype("float64")
        return (table[column] / population * 10_000).where(population > 0)
    return pd.to_numeric(table[indicator_id], errors="coerce").astype("float64")


@dataclass(frozen=True)
class AreaHit:
    """One search result: a Kreis or Gemeinde."""

    level: str
    ags: str
    name: str

    @property
    def label(self) -> str:
        """Text for a select box, e.g. »Kreis Wesel (05170)«."""
        return f"{self.name} ({self.ags})"


def search_areas(units: dict[str, gpd.GeoDataFrame], query: str, limit: int = 20) -> list[AreaHit]:
    """Find Kreise/Gemeinden whose name contains ``query`` or whose AGS starts with it.

    Parameters
    ----------
    units
        Boundary layers by level (``kreis``, optionally ``gemeinde``).
    query
        Name fragment (case-insensitive) or leading AGS digits.
    """
    q = query.strip().casefold()
    if not q:
        return []
    hits: list[AreaHit] = []
    for level, gdf in units.items():
        names = gdf["name"].astype("string").str.casefold()
        mask = names.str.contains(q, regex=False, na=False) | gdf["ags"].astype("string").str.startswith(q)
        found = gdf.loc[mask.to_numpy(), ["ags", "name"]]
        exact = found["name"].str.casefold().eq(q) | found["ags"].eq(q)
        found = found.assign(_exact=~exact).sort_values(["_exact", "name"])
        hits += [AreaHit(level, a, n) for a, n in zip(found["ags"], found["name"], strict=True)]
    return hits[:limit]


def area_at(units: gpd.GeoDataFrame, lat: float, lon: float) -> str | None:
    """AGS of the unit containing the point ``(lat, lon)`` given in EPSG:4326, or ``None``.

    Notes
    -----
    The click position is projected to EPSG:25832 before the point-in-polygon test.
    """
    point = gpd.GeoSeries([shapely.Point(lon, lat)], crs=DISPLAY_CRS).to_crs(PROJECTED_CRS)
    found = unit_of(point, units).iloc[0]
    return None if pd.isna(found) else str(found)


@dataclass(frozen=True)
class Figure:
    """One key figure of an area profile: what it is, its formatted value and, where it has one, its date.

    The profile carries no labels: the UI words each term in its language (``karte.fig.<term>``).

    Attributes
    ----------
    term
        ``ags``, ``kind`` (the unit's Bezeichnung), ``area``, ``population`` (a Gemeinde's, dated by the
        Gemeindeverzeichnis' Stichtag), ``population_mean`` (Destatis' annual mean of a Kreis: Kreis Höxter
        2019 had 140,459 on average and 140,251 on 31.12.), ``foreign`` (share of foreign nationals) or
        ``layer`` (facilities inside the unit).
    value
        The figure as shown (German number format).
    date
        The population's year or Stichtag (``"2019"``, ``"31.12.2019"``); empty when it has none.
    layer
        For ``term == "layer"``: the layer's id in :data:`geo.layers.registry.REGISTRY`.
    """

    term: str
    value: str
    date: str = ""
    layer: str = ""

    @property
    def key(self) -> str:
        """The term, or the layer's id for a count of facilities."""
        return self.layer or self.term


@dataclass(frozen=True)
class AreaProfile:
    """Key figures and facilities of one unit, for the profile panel.

    Attributes
    ----------
    ags, name, level
        The unit.
    figures
        Its key figures, in the order shown.
    facilities
        One row per facility inside the unit: Art, Name, Träger, Ort, Lagegenauigkeit, Quelle.
    """

    ags: str
    name: str
    level: str
    figures: tuple[Figure, ...]
    facilities: pd.DataFrame


def area_profile(settings: Settings, level: str, ags: str, facility_layers: tuple[str, ...]) -> AreaProfile:
    """Build the profile of the unit ``ags`` at ``level`` (``kreis`` or ``gemeinde``).

    Raises
    ------
    NotLoadedError
        If the level has no data (Gemeinden before they were loaded).
    DataError
        If no unit has this AGS.
    """
    units = load_boundaries(level, settings)  # type: ignore[arg-type]
    row = units[units["ags"] == ags]
    if row.empty:
        raise DataError(f"Kein Gebiet mit AGS »{ags}« auf der Ebene {level}.")
    polygon = row.geometry.iloc[0]
    figures = [Figure("ags", ags)]
    if "bez" in row.columns and pd.notna(row["bez"].iloc[0]):
        figures.append(Figure("kind", str(row["bez"].iloc[0])))
    figures.append(Figure("area", f"{de_int(polygon.area / 1e6)} km²"))
    if level == "kreis":
        stats = kreis_indicators(settings)
        if ags in stats.index:
            s = {str(k): v for k, v in stats.loc[str(ags)].to_dict().items()}
            if pd.notna(s["population"]):
                figures.append(Figure("population_mean", de_int(s["population"]), date=str(int(s["year"]))))
            if pd.notna(s["foreign_share_pct"]):
                figures.append(Figure("foreign", de_pct(s["foreign_share_pct"], 1)))
    else:
        population = gemeinde_population(settings, ags, row)
        figures += [population] if population is not None else []
    tables = []
    for layer_id in facility_layers:
        spec = REGISTRY.get(layer_id)
        points = load_layer(layer_id, settings)
        inside = points[(unit_of(points.geometry, units) == ags).fillna(False).to_numpy()]
        figures.append(Figure("layer", de_int(len(inside)), layer=layer_id))
        if len(inside):
            cols = [c for c in ("name", "traeger", "ort", "location_precision", "source") if c in inside.columns]
            tables.append(pd.DataFrame(inside[cols]).assign(art=spec.title))
    facilities = (
        pd.concat(tables, ignore_index=True)
        if tables
        else pd.DataFrame(columns=["art", "name", "traeger", "ort", "location_precision", "source"])
    )
    facilities = facilities.rename(
        columns={
            "art": "Art",
            "name": "Name",
            "traeger": "Träger",
            "ort": "Ort",
            "location_precision": "Lagegenauigkeit",
            "source": "Quelle",
        }
    )
    ordered = [c for c in ("Art", "Name", "Träger", "Ort", "Lagegenauigkeit", "Quelle") if c in facilities.columns]
    return AreaProfile(ags, str(row["name"].iloc[0]), level, tuple(figures), facilities[ordered])


def gemeinde_population(settings: Settings, ags: str, row: gpd.GeoDataFrame) -> Figure | None:
    """The population of the Gemeinde ``ags`` (its boundary ``row``), for its profile and the council report.

    From the imported Gemeindeverzeichnis, dated by its Stichtag; else from the boundary layer's own
    column, without a date; ``None`` if neither has it.
    """
    from geo.sources.destatis import load_gemeinde_population
    from integrationsatlas.pipeline.demand import population_as_of

    table = load_gemeinde_population(settings)
    value = table["population"].get(ags) if table is not None else None
    if value is not None and not pd.isna(value):
        as_of = population_as_of(settings)
        return Figure("population", de_int(float(value)), date=as_of if as_of[-4:].isdigit() else "")
    if "population" in row.columns and len(row) and pd.notna(row["population"].iloc[0]):
        return Figure("population", de_int(row["population"].iloc[0]))
    return None


def loaded_levels(settings: Settings) -> dict[str, gpd.GeoDataFrame]:
    """Kreise, plus Gemeinden when they have been loaded."""
    out = {"kreis": load_boundaries("kreis", settings)}
    try:
        out["gemeinde"] = load_boundaries("gemeinde", settings)
    except NotLoadedError:
        logger.debug("Gemeinden not loaded")
    return out


def clicked_points_25832(
    points: list[tuple[float, float]], prefix: str = "Eigener Punkt"
) -> tuple[tuple[float, float, str], ...]:
    """Clicked map points (lat, lon in EPSG:4326) as ``(x, y, name)`` in EPSG:25832.

    >>> pts = clicked_points_25832([(50.7753, 6.0839)])
    >>> round(pts[0][0], -2), round(pts[0][1], -2), pts[0][2]
    (294400.0, 5628900.0, 'Eigener Punkt 1')
    """
    if not points:
        return ()
    lat, lon = np.asarray(points, dtype="float64").T
    projected = gpd.GeoSeries(gpd.points_from_xy(lon, lat), crs=DISPLAY_CRS).to_crs(PROJECTED_CRS)
    return tuple(
        (round(float(x), 1), round(float(y), 1), f"{prefix} {i}")
        for i, (x, y) in enumerate(zip(projected.x, projected.y, strict=True), start=1)
    )


def count_per_unit(
    level: UnitLevel,
    settings: Settings,
    layers: Sequence[str] | None = None,
    registry: LayerRegistry = REGISTRY,
) -> pd.DataFrame:
    """Facilities per Kreis or Gemeinde, with counts per 10,000 inhabitants.

    Parameters
    ----------
    level
        ``kreis`` (53 units) or ``gemeinde`` (396, once loaded).
    settings
        Where the embedded data and the local store live.
    layers
        Facility layer ids; ``None`` takes every layer of group ``facility`` that has data.
    registry
        The layer registry.

    Returns
    -------
    pandas.DataFrame
        See :func:`count_in_units`. Population: Kreise from the Destatis
        statistics (:func:`geo.statistics.kreis_indicators`, latest year),
        Gemeinden from the fetched Gemeindeverzeichnis or the ``population``
        column of the Gemeinde layer. A named layer without any data counts
        ``NA`` in every unit, not 0: nothing loaded says nothing about what
        is there.

    Raises
    ------
    NotLoadedError
        If ``level`` is ``gemeinde`` and no Gemeinden are loaded.
    IntegrationsatlasError
        For an unknown level or layer id.

    Notes
    -----
    Spatial joins in EPSG:25832 (metres).
    """
    if level not in ("kreis", "gemeinde"):
        raise IntegrationsatlasError(f"Unbekannte Ebene »{level}«: erlaubt sind »kreis« und »gemeinde«.")
    if layers is None:
        ids = [s.id for s in registry.facilities() if is_available(s.id, settings, registry)]
    else:
        ids = list(dict.fromkeys(layers))
    specs = [registry.get(i) for i in ids]
    not_points = [s.id for s in specs if s.kind != "point"]
    if not_points:
        raise IntegrationsatlasError(f"Nur Punktebenen können gezählt werden, nicht: {', '.join(not_points)}.")
    units = load_boundaries(level, settings)
    frames = {s.id: load_layer(s.id, settings, registry) for s in specs}
    table = count_in_units(units, frames, _population(level, units, settings))
    for layer_id in (i for i, frame in frames.items() if frame.empty):
        table[layer_id] = pd.array([pd.NA] * len(table), dtype="Int64")
        table[layer_id + PER_10000_SUFFIX] = np.nan
    return table


def _population(level: UnitLevel, units: gpd.GeoDataFrame, settings: Settings) -> pd.Series | None:
    if level == "kreis":
        from geo.statistics import kreis_indicators

        try:
            return kreis_indicators(settings)["population"]
        except IntegrationsatlasError as exc:
            logger.warning("Kreis population not available: %s", exc)
            return None
    from geo.sources.destatis import load_gemeinde_population

    table = load_gemeinde_population(settings)
    if table is not None:
        return table["population"]
    if "population" in units.columns:
        pop = pd.to_numeric(units["population"], errors="coerce")
        if pop.notna().any():
            return pd.Series(pop.to_numpy(), index=units["ags"].astype(str))
    return None
