"""Demand points: where the people live whom a service is meant for.

A demand frame is a point GeoDataFrame in EPSG:25832 with the columns of
:data:`DEMAND_COLUMNS`:

``weight``
    Target-group weight (people of the target group at this point).
``population``
    Total population at this point.
``kreis_ags``
    5-digit AGS of the Kreis the point lies in.
``gemeinde_ags``
    8-digit AGS of the Gemeinde, or ``NA`` when unknown.
``level``
    Source level: ``"zensus"``, ``"osm"`` (estimate from OSM buildings),
    ``"gemeinde"`` or ``"orte"``.

and, after them, ``resolution`` (the :class:`DemandResolution` kind of the
point, e.g. ``"zensus_100m"``) and ``unit_size_m`` (the width of the area the
point stands for, metres), so every result can say how fine its demand was
(:func:`check_resolution`).

Three builders make such a frame from the best data available, from best to
fallback: a Zensus grid or the 100 m estimate from OSM buildings
(:func:`demand_from_grid`, see :mod:`planning.dasymetric`), Gemeinde
polygons with Destatis population shared out over population-weighted points
inside them (:func:`demand_from_gemeinden`) and the embedded GeoNames places
with the Kreis population shared out over them (:func:`demand_from_places`).
Per-cell target groups (children by age, foreign residents) come from the
Zensus themes (:mod:`planning.target_groups`); :func:`apply_target_group`
turns the population into target-group weights. Everything here is pure: it
takes frames and never reads files (see :mod:`integrationsatlas.coverage`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray

from geo.errors import DataError, Problem, SchemaError, raise_if_problems
from geo.projection import ensure_projected
from geo.settings import PROJECTED_CRS
from geo.units import representative_points, unit_of
from planning.resolution import RESOLUTIONS, resolution_of_grid

logger = logging.getLogger(__name__)

DemandLevel = Literal["zensus", "osm", "gebiet", "gemeinde", "orte"]
TargetGroupId = Literal["total", "foreign", "u3", "kita_ue3", "grundschule", "u18", "column"]

#: Columns of every demand frame, besides ``geometry``.
DEMAND_COLUMNS: tuple[str, ...] = ("weight", "population", "kreis_ags", "gemeinde_ags", "level")

#: German labels of the demand levels, as the UI states them.
LEVEL_LABELS: dict[str, str] = {
    "zensus": "Zensus-2022-Gitter (Destatis) – Einwohner je Gitterzelle",
    "osm": "geschätzt aus Gebäuden (OSM) – Gemeindebevölkerung auf Wohngebäude verteilt, 100-m-Zellen",
    "gebiet": "Einwohner je Gebiet (gleichmäßig über die Fläche des Gebiets verteilt) – Näherung",
    "gemeinde": "Gemeinden mit Destatis-Bevölkerung (auf Orte der Gemeinde verteilt)",
    "orte": "Orte (GeoNames) mit Kreisbevölkerung – Näherung",
}
#: German label of the level ``gebiet`` when the residents are spread along the streets (:func:`demand_from_areas`).
AREA_STREETS_LABEL = "Einwohner je Gebiet (entlang der Straßen verteilt, 100-m-Zellen) – Näherung"


#: Target groups computable per Zensus cell: id → (German label, source columns).
#: ``foreign`` is population × ``anteil_auslaender`` / 100; the others are counts.
ZENSUS_GROUPS: dict[str, tuple[str, tuple[str, ...]]] = {
    "total": ("Gesamtbevölkerung", ("population",)),
    "foreign": ("Ausländerinnen und Ausländer", ("population", "anteil_auslaender")),
    "u3": ("Kinder unter 3 (Kita U3)", ("unter3",)),
    "kita_ue3": ("Kinder 3–5 (Kita Ü3)", ("a3bis5",)),
    "grundschule": ("Kinder 6–9 (Grundschule/OGS)", ("a6bis9",)),
    "u18": ("unter 18", ("unter18",)),
}
#: Zensus file to import for each target group (for messages).
ZENSUS_GROUP_FILES: dict[str, str] = {
    "total": "Zensus2022_Bevoelkerungszahl",
    "foreign": "Zensus2022_Auslaenderanteil_in_Gitterzellen",
    "u3": "Zensus2022_Alter_in_infrastrukturellen_Altersgruppen",
    "kita_ue3": "Zensus2022_Alter_in_infrastrukturellen_Altersgruppen",
    "grundschule": "Zensus2022_Alter_in_infrastrukturellen_Altersgruppen",
    "u18": "Zensus2022_Alter_in_5_Altersklassen",
}
#: Source labels of a per-cell target-group value.
SOURCE_CELL = "Zensus 2022, Wert der Zelle"
SOURCE_ESTIMATED = "geschätzt: Rest der übergeordneten Einheit nach Einwohnern verteilt"
SOURCE_SECRET = "geheim gehalten – nicht schätzbar (als 0 gezählt)"


@dataclass(frozen=True)
class TargetGroup:
    """A target group: which people the demand weight counts.

    Parameters
    ----------
    id
        ``"total"``, ``"foreign"``, ``"u3"``, ``"kita_ue3"``,
        ``"grundschule"``, ``"u18"`` (see :data:`ZENSUS_GROUPS`) or
        ``"column"``.
    label
        German label for the UI and reports.
    column
        For ``id="column"``: the demand column that holds the weight.
    """

    id: TargetGroupId
    label: str
    column: str | None = None

    @classmethod
    def of(cls, group: str, column: str | None = None, *, per_cell: bool = False) -> TargetGroup:
        """Return the target group ``group`` (``column`` only for ``"column"``).

        ``per_cell`` says that the demand carries the group per cell (Zensus
        themes); for ``"foreign"`` the label then names the cell values
        instead of the Kreis share.

        >>> TargetGroup.of("foreign").label
        'Ausländische Bevölkerung (Anteil je Kreis, Regionalatlas)'
        >>> TargetGroup.of("foreign", per_cell=True).label
        'Ausländerinnen und Ausländer (Zensus 2022 je Gitterzelle)'
        >>> TargetGroup.of("column", "kinder_0_6").label
        'Eigene Spalte »kinder_0_6«'
        """
        if group == "total":
            return cls("total", "Gesamtbevölkerung")
        if group == "foreign":
            label = (
                "Ausländerinnen und Ausländer (Zensus 2022 je Gitterzelle)"
                if per_cell
                else "Ausländische Bevölkerung (Anteil je Kreis, Regionalatlas)"
            )
            return cls("foreign", label)
        if group in ZENSUS_GROUPS:
            return cls(group, ZENSUS_GROUPS[group][0])  # type: ignore[arg-type]
        if group == "column":
            if not column:
                raise DataError("Für die Zielgruppe »Eigene Spalte« bitte den Spaltennamen angeben.")
            return cls("column", f"Eigene Spalte »{column}«", column)
        raise DataError(
            f"Unbekannte Zielgruppe »{group}«. Erlaubt sind »total« (Gesamtbevölkerung), "
            "»foreign« (ausländische Bevölkerung), »u3«, »kita_ue3«, »grundschule«, »u18« "
            "oder ein Spaltenname der Nachfragedaten."
        )


@dataclass(frozen=True)
class DemandResult:
    """Demand points with the facts a report must cite about them.

    Parameters
    ----------
    points
        Demand frame (see the module docstring), EPSG:25832.
    level
        ``"zensus"``, ``"osm"``, ``"gebiet"``, ``"gemeinde"`` or ``"orte"``.
    level_label
        German description of the level, shown in the UI.
    as_of
        Reference date or year of the population numbers, e.g. ``"2019"``.
    target_group
        The target group the weights count.
    source
        Where the population numbers come from (German, with licence).
    area_set
        For level ``"gebiet"``: the area set whose residents the points spread.
    licence
        Licence of the population numbers (the official statistics: dl-de/by-2-0).
    """

    points: gpd.GeoDataFrame
    level: DemandLevel
    level_label: str
    as_of: str
    target_group: TargetGroup
    source: str = ""
    area_set: str | None = None
    licence: str = "dl-de/by-2-0"

    def nesting(self, level: str, administrative: bool) -> str | None:
        """The level name for the nesting rule of :func:`planning.resolution.unit_resolution` on units of ``level``.

        >>> r = DemandResult(gpd.GeoDataFrame(), "gebiet", "", "2012", TargetGroup.of("total"), area_set="x")
        >>> r.nesting("gemeinde", True), r.nesting("x", False), r.nesting("y", False)
        ('gemeinde', 'gebiet', None)
        """
        if administrative:
            return level
        return "gebiet" if self.level == "gebiet" and self.area_set == level else None

    @property
    def total_population(self) -> float:
        """Sum of ``population`` over all points."""
        return float(self.points["population"].sum())

    @property
    def total_weight(self) -> float:
        """Sum of the target-group weights over all points."""
        return float(self.points["weight"].sum())

    @property
    def resolutions(self) -> dict[str, float]:
        """Population per resolution kind (``"zensus_100m"``, ``"osm_grob"``, …), finest first.

        A result computed from this demand should cite it; see
        :func:`planning.resolution.check_resolution`.
        """
        if "resolution" not in self.points.columns:
            return {}
        per = self.points.groupby(self.points["resolution"].astype(str))["population"].sum()
        order = [k for k in RESOLUTIONS if k in per.index] + [k for k in per.index if k not in RESOLUTIONS]
        return {k: float(per[k]) for k in order}


# --- helpers ----------------------------------------------------------------


def _require_columns(frame: pd.DataFrame, columns: tuple[str, ...], what: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise SchemaError(
            f"{what}: Spalte(n) {', '.join(missing)} fehlen. Vorhanden sind: {', '.join(map(str, frame.columns))}."
        )


def _frame(
    geometry: gpd.GeoSeries,
    population: np.ndarray | pd.Series,
    kreis_ags: pd.Series,
    gemeinde_ags: pd.Series,
    level: DemandLevel,
    source: pd.DataFrame | None = None,
    *,
    resolution: str | np.ndarray | pd.Series,
    unit_size_m: float | np.ndarray | pd.Series,
) -> gpd.GeoDataFrame:
    """Assemble a demand frame; other columns of ``source`` (e.g. age groups) are carried along."""
    pop = np.asarray(population, dtype=np.float64)
    extra: dict[str, object] = {}
    if source is not None:
        skip = {
            *DEMAND_COLUMNS,
            "resolution",
            "unit_size_m",
            source.geometry.name if isinstance(source, gpd.GeoDataFrame) else "geometry",
        }
        extra = {str(c): source[c].to_numpy() for c in source.columns if c not in skip}
    n = len(geometry)
    return gpd.GeoDataFrame(
        {
            "weight": pop.copy(),
            "population": pop,
            "kreis_ags": pd.Series(kreis_ags, index=geometry.index, dtype="string"),
            "gemeinde_ags": pd.Series(gemeinde_ags, index=geometry.index, dtype="string"),
            "level": pd.Series(level, index=geometry.index, dtype="string"),
            "resolution": pd.Series(
                np.broadcast_to(np.asarray(resolution, dtype=object), (n,)), index=geometry.index, dtype="string"
            ),
            "unit_size_m": np.broadcast_to(np.asarray(unit_size_m, dtype=np.float64), (n,)).copy(),
            **extra,
        },
        geometry=representative_points(geometry),
        crs=PROJECTED_CRS,
    )


def assign_units(
    points: gpd.GeoDataFrame, units: gpd.GeoDataFrame, key: str = "ags", *, what: str = "Punkte"
) -> pd.Series:
    """The key of the unit polygon each point lies in.

    Points that fall in no polygon (e.g. just outside a simplified border)
    get the key of the nearest polygon.

    Parameters
    ----------
    points
        Points in EPSG:25832.
    units
        Unit polygons in EPSG:25832 with the column ``key``.
    key
        Column of ``units`` to return.
    what
        Name of ``points`` for error messages.

    Returns
    -------
    pandas.Series
        String dtype, indexed like ``points``; ``NA`` only when ``units``
        is empty.

    Notes
    -----
    CRS EPSG:25832. A thin validating wrapper of :func:`geo.units.unit_of`
    (STRtree queries, no loop); a point on a shared border goes to the first
    unit in ``units`` order.
    """
    ensure_projected(points, what)
    ensure_projected(units, "Gebiete")
    _require_columns(units, (key,), "Gebiete")
    return unit_of(points.geometry, units, key, nearest=True).rename(key)


# --- builders ---------------------------------------------------------------


def demand_from_grid(
    grid: gpd.GeoDataFrame,
    population_col: str = "population",
    *,
    kreise: gpd.GeoDataFrame | None = None,
    gemeinden: gpd.GeoDataFrame | None = None,
    level: DemandLevel = "zensus",
) -> gpd.GeoDataFrame:
    """Demand points from a population grid (Zensus 2022 1 km or 100 m, or the OSM estimate).

    Parameters
    ----------
    grid
        One row per grid cell: cell centre points (or cell polygons) in
        EPSG:25832 with a population column. A ``kreis_ags`` column is
        used when present.
    population_col
        Column with the population of the cell. Missing values (cells
        suppressed for secrecy) count as 0.
    kreise
        Kreis polygons (``ags``); needed when ``grid`` has no ``kreis_ags``.
    gemeinden
        Gemeinde polygons (``ags``); when given, fills ``gemeinde_ags``
        (a ``gemeinde_ags`` column of ``grid`` is used otherwise).
    level
        ``"zensus"`` or ``"osm"`` (cells estimated from OSM buildings by
        :func:`planning.dasymetric.dasymetric_grid`; same cell ids).

    Returns
    -------
    geopandas.GeoDataFrame
        A demand frame indexed like ``grid``; cells without people are
        dropped. ``resolution`` comes from a ``resolution`` column of
        ``grid`` when present, else from ``resolution_m`` (Zensus).

    Raises
    ------
    CRSError
        If an input is not in EPSG:25832.
    SchemaError
        If the population column is missing, or neither ``kreis_ags`` nor
        ``kreise`` is available.
    DataError
        If a population value is negative or not a number.

    Notes
    -----
    CRS EPSG:25832; a cell's demand sits at its centre (at most 0.7 cell
    widths from any resident).
    """
    ensure_projected(grid, "Zensus-Gitter")
    _require_columns(grid, (population_col,), "Zensus-Gitter")
    pop = pd.to_numeric(grid[population_col], errors="coerce")
    bad = (pop.isna() & grid[population_col].notna()) | (pop < 0)
    if bad.any():
        raise DataError(
            f"Zensus-Gitter: {int(bad.sum())} Zelle(n) mit ungültiger Einwohnerzahl in Spalte "
            f"»{population_col}« (z. B. Index {grid.index[bad.to_numpy()][:5].tolist()}). "
            "Erlaubt sind Zahlen ≥ 0 oder leer (geheim gehalten)."
        )
    n_missing = int(pop.isna().sum())
    if n_missing:
        logger.info("%d geheim gehaltene Gitterzellen als 0 Einwohner gezählt", n_missing)
    keep = (pop.fillna(0) > 0).to_numpy()
    cells = grid.loc[keep]
    pop = pop.fillna(0).loc[keep]
    if "kreis_ags" in cells.columns and cells["kreis_ags"].notna().all():
        kreis = cells["kreis_ags"].astype("string")
    elif kreise is not None:
        kreis = assign_units(cells, kreise, "ags", what="Gitterzellen")
    else:
        raise SchemaError(
            "Zensus-Gitter: Spalte »kreis_ags« fehlt und keine Kreisgrenzen übergeben; bitte kreise=… angeben."
        )
    if gemeinden is not None:
        gemeinde = assign_units(cells, gemeinden, "ags", what="Gitterzellen")
    elif "gemeinde_ags" in cells.columns:
        gemeinde = cells["gemeinde_ags"].astype("string")
    else:
        gemeinde = pd.Series(pd.NA, index=cells.index, dtype="string")
    width = (
        pd.to_numeric(cells["resolution_m"], errors="coerce").fillna(1000).to_numpy(dtype=np.float64)
        if "resolution_m" in cells.columns
        else np.full(len(cells), 1000.0)
    )
    if "resolution" in cells.columns:
        kind: np.ndarray = cells["resolution"].astype(str).to_numpy()
    else:
        kind = (
            np.array([resolution_of_grid(int(w)) for w in np.unique(width)], dtype=object)[
                np.searchsorted(np.unique(width), width)
            ]
            if len(width)
            else np.array([], dtype=object)
        )
    if "unit_size_m" in cells.columns:
        width = cells["unit_size_m"].to_numpy(dtype=np.float64)
    source = cells.drop(columns=[population_col])
    return _frame(cells.geometry, pop.to_numpy(), kreis, gemeinde, level, source, resolution=kind, unit_size_m=width)


def demand_from_gemeinden(
    gemeinden: gpd.GeoDataFrame, points: gpd.GeoDataFrame | None = None, weight_col: str = "population"
) -> gpd.GeoDataFrame:
    """Gemeinde population shared out over population-weighted points inside each Gemeinde.

    Parameters
    ----------
    gemeinden
        Gemeinde polygons in EPSG:25832 with ``ags`` (8 digits) and
        ``population`` (Destatis); ``kreis_ags`` is taken from the first five
        AGS digits when absent.
    points
        Points that say where in a Gemeinde people live, in EPSG:25832:
        GeoNames places (``population``) or buildings (e.g. floor area),
        weighted by ``weight_col``. Each point is assigned to the Gemeinde it
        lies in.
    weight_col
        Column of ``points`` with the weight.

    Returns
    -------
    geopandas.GeoDataFrame
        A demand frame (level ``"gemeinde"``). Rows from ``points`` keep the
        index of ``points``; a Gemeinde without any point (or all points
        without ``points``) keeps its own index label and gets one point at
        the representative point of its polygon. Each Gemeinde's points sum
        to its population exactly (largest remainder, :func:`apportion`).
        ``unit_size_m`` is √(Gemeinde area / its points).

    Raises
    ------
    CRSError
        If an input is not in EPSG:25832.
    ValidationError
        Listing every Gemeinde without a valid population.

    Notes
    -----
    CRS EPSG:25832. The polygon centroid is never used: it can lie outside a
    crescent-shaped Gemeinde and far from where people live. The
    representative-point fallback is as coarse as the Gemeinde and its
    ``unit_size_m`` says so.
    """
    ensure_projected(gemeinden, "Gemeinden")
    _require_columns(gemeinden, ("ags", "population"), "Gemeinden")
    pop = pd.to_numeric(gemeinden["population"], errors="coerce")
    problems = [
        Problem(
            "Einwohnerzahl fehlt oder ist ungültig.",
            "Gemeinden mit Destatis-Bevölkerung laden.",
            row=int(pos) + 1,
            column="population",
        )
        for pos in np.flatnonzero(((pop.isna()) | (pop < 0)).to_numpy())
    ]
    raise_if_problems(problems, "Gemeinden ohne gültige Einwohnerzahl")
    ags = gemeinden["ags"].astype("string")
    kreis = (
        gemeinden["kreis_ags"].astype("string")
        if "kreis_ags" in gemeinden.columns and gemeinden["kreis_ags"].notna().all()
        else ags.str.slice(0, 5)
    )
    area = gemeinden.geometry.area.to_numpy(dtype=np.float64)
    source = gemeinden.drop(columns=["ags", "population"])
    if points is None or points.empty:
        return _frame(
            gemeinden.geometry,
            pop.to_numpy(),
            kreis,
            ags,
            "gemeinde",
            source,
            resolution="gemeinde",
            unit_size_m=np.sqrt(area),
        )
    ensure_projected(points, "Punkte der Gemeinden")
    _require_columns(points, (weight_col,), "Punkte der Gemeinden")
    owner = unit_of(points.geometry, gemeinden.assign(ags=ags), "ags")
    has = owner.notna().to_numpy()
    pts, owner = points.loc[has], owner[has].astype(str)
    total = pd.Series(pop.round().to_numpy(dtype=np.int64), index=ags.astype(str).to_numpy())
    total = total[~total.index.duplicated()]
    weights = pd.to_numeric(pts[weight_col], errors="coerce").fillna(0).clip(lower=0)
    people = apportion(total, weights, owner.reset_index(drop=True).set_axis(pts.index))
    n_per = owner.value_counts()
    by_ags = pd.Series(area, index=ags.astype(str).to_numpy())
    by_ags = by_ags[~by_ags.index.duplicated()]
    size = np.sqrt(by_ags.reindex(owner.to_numpy()).to_numpy() / n_per.reindex(owner.to_numpy()).to_numpy())
    kreis_of = pd.Series(kreis.to_numpy(), index=ags.astype(str).to_numpy())
    kreis_of = kreis_of[~kreis_of.index.duplicated()]
    frame = _frame(
        pts.geometry,
        people.to_numpy(),
        pd.Series(kreis_of.reindex(owner.to_numpy()).to_numpy(), index=pts.index),
        pd.Series(owner.to_numpy(), index=pts.index),
        "gemeinde",
        pts.drop(columns=[c for c in (weight_col, "kreis_ags", "gemeinde_ags") if c in pts]),
        resolution="gemeinde",
        unit_size_m=size,
    )
    empty = ~ags.astype(str).isin(set(owner)).to_numpy()
    if not empty.any():
        return frame
    rest = gemeinden.loc[empty]
    extra = _frame(
        rest.geometry,
        pop[empty].to_numpy(),
        kreis[empty],
        ags[empty],
        "gemeinde",
        source.loc[empty],
        resolution="gemeinde",
        unit_size_m=np.sqrt(area[empty]),
    )
    logger.info("%d Gemeinde(n) ohne Punkte: Bevölkerung an einem Punkt in der Gemeindefläche", int(empty.sum()))
    return gpd.GeoDataFrame(pd.concat([frame, extra]), geometry="geometry", crs=PROJECTED_CRS)


def apportion(total: pd.Series, shares: pd.Series, groups: pd.Series) -> pd.Series:
    """Share integer totals out over members in proportion, summing exactly.

    Largest-remainder (Hamilton) method: each member gets the floor of its
    quota, and the people left over go one each to the members with the
    largest remainders (ties by position).

    Parameters
    ----------
    total
        Integer total per group, indexed by group key.
    shares
        Non-negative share per member (e.g. GeoNames population); a group
        whose shares are all 0 is split evenly.
    groups
        Group key per member, aligned with ``shares``.

    Returns
    -------
    pandas.Series
        ``int64`` per member, indexed like ``shares``; the sum over each
        group equals ``total`` of that group exactly.

    Examples
    --------
    >>> apportion(pd.Series({"A": 10}), pd.Series([1.0, 1.0, 1.0]), pd.Series(["A", "A", "A"])).tolist()
    [4, 3, 3]
    """
    s = np.asarray(shares, dtype=np.float64)
    key = pd.Index(groups)
    tot = total.reindex(key).to_numpy(dtype=np.float64)
    group_sum = pd.Series(s).groupby(key.to_numpy()).transform("sum").to_numpy()
    group_n = pd.Series(s).groupby(key.to_numpy()).transform("size").to_numpy()
    frac = np.where(group_sum > 0, s / np.where(group_sum > 0, group_sum, 1.0), 1.0 / group_n)
    quota = tot * frac
    base = np.floor(quota)
    remainder = quota - base
    left = tot - pd.Series(base).groupby(key.to_numpy()).transform("sum").to_numpy()
    # rank of each member's remainder within its group: 0 = largest
    order = pd.DataFrame({"g": key.to_numpy(), "r": -remainder, "pos": np.arange(len(s))})
    rank = order.sort_values(["g", "r", "pos"]).groupby("g").cumcount().reindex(order.index).to_numpy()
    extra = (rank < np.rint(left)).astype(np.float64)
    return pd.Series((base + extra).astype(np.int64), index=shares.index)


#: Most cells of :func:`demand_from_areas`; larger sets get coarser cells.
MAX_AREA_CELLS = 2_000_000


def demand_from_areas(
    areas: gpd.GeoDataFrame,
    counts: pd.DataFrame,
    cell_m: float = 100.0,
    *,
    streets: NDArray[np.object_] | None = None,
) -> gpd.GeoDataFrame:
    """The residents of each area of a set spread over the grid cells of its surface: evenly, or along its streets.

    Parameters
    ----------
    areas
        The set's areas in EPSG:25832 with ``unit_id`` and ``gemeinde_ags``
        (:func:`geo.areasets.load_area_set`).
    counts
        One row per area: ``unit_id``, ``population`` and any target-group
        counts of :data:`ZENSUS_GROUPS` (``u3``, ``foreign`` …; integers).
    cell_m
        Width of the cells (coarser when the set would need more than
        :data:`MAX_AREA_CELLS`).
    streets
        Street lines in EPSG:25832 (:func:`geo.sources.line_network.read_lines`).
        Given, each area's residents go to its cells in proportion to the
        street length in them (street-weighted interpolation, Reibel &
        Bufalino 2005, Environment and Planning A 37: 127–139): nobody lives
        in a cell without a street, a park or a river. An area without any
        street is spread evenly.

    Returns
    -------
    geopandas.GeoDataFrame
        A demand frame (level ``"gebiet"``) of the populated cell centres
        (on a grid aligned to multiples of ``cell_m`` in EPSG:25832) with
        ``unit_id`` and ``zg_<group>`` per group. Each area's cells sum to its
        counts exactly (largest remainder, :func:`apportion`); an area
        without a cell centre gets its representative point.
        Spread evenly, ``resolution`` is ``"gebiet"`` and ``unit_size_m``
        the area's width (√ area): the figures say nothing finer than the
        area, so :func:`planning.resolution.check_resolution` judges them by
        it. Along streets, ``resolution`` is ``"strassen_100m"`` and
        ``unit_size_m`` the cell width (an approximation, and labelled so).

    Examples
    --------
    >>> from shapely.geometry import box
    >>> areas = gpd.GeoDataFrame({"unit_id": ["1", "2"], "gemeinde_ags": ["05315000"] * 2},
    ...                          geometry=[box(0, 0, 300, 300), box(300, 0, 400, 100)], crs="EPSG:25832")
    >>> d = demand_from_areas(areas, pd.DataFrame({"unit_id": ["1", "2"], "population": [10, 4], "u3": [1, 0]}))
    >>> d.groupby("unit_id")["population"].sum().to_dict(), int(d["zg_u3"].sum()), len(d)
    ({'1': 10.0, '2': 4.0}, 1, 10)

    Along a street of 300 m through area 1 (both lower cells of x ≥ 100: 100 m each, the first 100 m in cell
    (0, 0)) the 10 residents of area 1 go to its three lower cells, 4 and 3 and 3; area 2 has no street:

    >>> from shapely import LineString
    >>> road = np.array([LineString([(0, 50), (300, 50)])])
    >>> d = demand_from_areas(areas, pd.DataFrame({"unit_id": ["1", "2"], "population": [10, 4]}), streets=road)
    >>> [(p.x, p.y, n) for p, n in zip(d.geometry, d["population"])]
    [(50.0, 50.0, 4.0), (150.0, 50.0, 3.0), (250.0, 50.0, 3.0), (350.0, 50.0, 4.0)]
    >>> d["resolution"].tolist()
    ['strassen_100m', 'strassen_100m', 'strassen_100m', 'gebiet']
    """
    ensure_projected(areas, "Gebiete")
    _require_columns(areas, ("unit_id", "gemeinde_ags"), "Gebiete")
    _require_columns(counts, ("unit_id", "population"), "Einwohner je Gebiet")
    areas = areas.assign(unit_id=areas["unit_id"].astype(str)).reset_index(drop=True)
    minx, miny, maxx, maxy = areas.total_bounds
    cell_m = max(cell_m, float(np.ceil(np.sqrt((maxx - minx) * (maxy - miny) / MAX_AREA_CELLS) / cell_m)) * cell_m)
    xs = np.arange(np.floor(minx / cell_m), np.ceil(maxx / cell_m)) * cell_m + cell_m / 2
    ys = np.arange(np.floor(miny / cell_m), np.ceil(maxy / cell_m)) * cell_m + cell_m / 2
    gx, gy = np.meshgrid(xs, ys)
    centres = gpd.GeoSeries(gpd.points_from_xy(gx.ravel(), gy.ravel()), crs=areas.crs)
    keys = unit_of(centres, areas, "unit_id")
    inside = keys.notna().to_numpy()
    cells = gpd.GeoDataFrame(
        {"unit_id": keys[inside].astype(str).to_numpy()}, geometry=centres[inside].to_numpy(), crs=areas.crs
    )
    empty = areas[~areas["unit_id"].isin(set(cells["unit_id"]))]
    cells = pd.concat(
        [cells, gpd.GeoDataFrame({"unit_id": empty["unit_id"]}, geometry=representative_points(empty.geometry))],
        ignore_index=True,
    )
    table = counts.assign(unit_id=counts["unit_id"].astype(str)).set_index("unit_id")
    weight = np.ones(len(cells)) if streets is None else _street_length(cells, streets, cell_m)
    along = pd.Series(weight).groupby(cells["unit_id"].to_numpy()).transform("sum").to_numpy() > 0
    along &= streets is not None
    spread = {
        column: apportion(table[column].astype("int64"), pd.Series(weight), cells["unit_id"])
        for column in ("population", *(g for g in ZENSUS_GROUPS if g != "total" and g in table.columns))
    }
    by_area = areas.set_index("unit_id")
    gemeinde = by_area["gemeinde_ags"].astype("string").reindex(cells["unit_id"]).to_numpy()
    width = np.sqrt(by_area.geometry.area).reindex(cells["unit_id"]).to_numpy(dtype=np.float64)
    width = np.where(along, cell_m, width)
    groups = {f"zg_{g}": v.to_numpy(dtype=np.float64) for g, v in spread.items() if g != "population"}
    extra = pd.DataFrame({"unit_id": cells["unit_id"].to_numpy(), **groups})
    populated = spread["population"].to_numpy() > 0
    frame = _frame(
        cells.geometry,
        spread["population"].to_numpy(dtype=np.float64),
        pd.Series(gemeinde, index=cells.index, dtype="string").str.slice(0, 5),
        pd.Series(gemeinde, index=cells.index, dtype="string"),
        "gebiet",
        extra,
        resolution=np.where(along, "strassen_100m", "gebiet").astype(object),
        unit_size_m=width,
    )
    return frame[populated].reset_index(drop=True)


def _street_length(cells: gpd.GeoDataFrame, streets: NDArray[np.object_], cell_m: float) -> NDArray[np.float64]:
    """Street length (m) inside the grid cell of each of ``cells`` (centres on the ``cell_m`` grid), clipped exactly.

    A point that is no cell centre (the representative point of an area too small for one) gets 0.
    """
    centre = shapely.get_coordinates(cells.geometry.to_numpy())
    half = cell_m / 2
    boxes = shapely.box(centre[:, 0] - half, centre[:, 1] - half, centre[:, 0] + half, centre[:, 1] + half)
    cell, line = shapely.STRtree(streets).query(boxes, predicate="intersects")
    inside = shapely.length(shapely.intersection(streets[line], boxes[cell]))
    length = np.bincount(cell, weights=inside, minlength=len(cells))
    on_grid = np.isclose(centre % cell_m, half).all(axis=1)
    return np.where(on_grid, length, 0.0)


def demand_from_places(
    places: gpd.GeoDataFrame,
    kreis_population: pd.Series,
    kreise: gpd.GeoDataFrame,
) -> gpd.GeoDataFrame:
    """Kreis population shared out over the places of each Kreis (embedded fallback).

    Parameters
    ----------
    places
        Place points in EPSG:25832 with ``population`` (GeoNames) and
        ``kreis_ags``.
    kreis_population
        Official population per Kreis, indexed by 5-digit AGS (e.g.
        ``kreis_indicators(settings)["population"]``).
    kreise
        Kreis polygons (``ags``) in EPSG:25832: a Kreis without any place
        gets one demand point at the representative point of its polygon.

    Returns
    -------
    geopandas.GeoDataFrame
        A demand frame (level ``"orte"``). Rows of ``places`` keep their
        index; the points for Kreise without a place are appended, labelled
        on from the largest integer label (or ``"kreis:<AGS>"`` when the
        index is not integer). ``gemeinde_ags`` is ``NA``.

    Raises
    ------
    CRSError
        If an input is not in EPSG:25832.
    ValidationError
        Listing every Kreis without population, places of unknown Kreise
        and Kreise without polygon.

    Notes
    -----
    CRS EPSG:25832. Each place gets the Kreis population times its share of
    the GeoNames population of its Kreis, rounded to whole people by the
    largest-remainder method (:func:`apportion`), so the sum per Kreis
    equals the Kreis population exactly. This is an approximation: it puts
    each Kreis's rural population into its named places.
    """
    ensure_projected(places, "Orte")
    ensure_projected(kreise, "Kreise")
    _require_columns(places, ("population", "kreis_ags"), "Orte")
    _require_columns(kreise, ("ags",), "Kreise")
    kpop = pd.to_numeric(kreis_population, errors="coerce")
    kpop.index = kpop.index.astype(str)
    place_kreis = places["kreis_ags"].astype("string")
    problems: list[Problem] = []
    for ags in sorted(set(kpop.index[kpop.isna() | (kpop < 0)])):
        problems.append(
            Problem(
                f"Kreis {ags}: keine gültige Einwohnerzahl.",
                "Kreisstatistik prüfen (geo.statistics).",
                column="population",
            )
        )
    unknown = sorted(set(place_kreis.dropna()) - set(kpop.index))
    for ags in unknown:
        problems.append(
            Problem(
                f"Orte im Kreis {ags}, für den keine Einwohnerzahl vorliegt.",
                "Kreisstatistik und Orte-Datei abgleichen.",
                column="kreis_ags",
            )
        )
    for pos in np.flatnonzero(place_kreis.isna().to_numpy()):
        problems.append(Problem("Ort ohne Kreis-AGS.", "kreis_ags ergänzen.", row=int(pos) + 1, column="kreis_ags"))
    empty = sorted(set(kpop.index) - set(place_kreis.dropna()))
    kreis_keys = kreise["ags"].astype(str)
    for ags in sorted(set(empty) - set(kreis_keys)):
        problems.append(Problem(f"Kreis {ags} hat weder Orte noch eine Fläche.", "Kreisgrenzen laden.", column="ags"))
    shares = pd.to_numeric(places["population"], errors="coerce")
    for pos in np.flatnonzero((shares.isna() | (shares < 0)).to_numpy()):
        problems.append(
            Problem(
                "Einwohnerzahl des Ortes fehlt oder ist negativ.",
                "Zahl ≥ 0 eintragen.",
                row=int(pos) + 1,
                column="population",
            )
        )
    raise_if_problems(problems, "Nachfrage aus Orten nicht berechenbar")

    kpop = kpop.round().astype(np.int64)
    people = apportion(kpop, shares, place_kreis)
    kreis_area = pd.Series(kreise.geometry.area.to_numpy(dtype=np.float64), index=kreis_keys.to_numpy())
    kreis_area = kreis_area[~kreis_area.index.duplicated()]
    n_places = place_kreis.value_counts()
    size = np.sqrt(
        kreis_area.reindex(place_kreis.to_numpy()).to_numpy() / n_places.reindex(place_kreis.to_numpy()).to_numpy()
    )
    frame = _frame(
        places.geometry,
        people.to_numpy(),
        place_kreis,
        pd.Series(pd.NA, index=places.index, dtype="string"),
        "orte",
        places.drop(columns=["population"]),
        resolution="orte",
        unit_size_m=size,
    )
    if not empty:
        return frame
    fill = kreise.loc[kreis_keys.isin(empty).to_numpy()].drop_duplicates("ags")
    if pd.api.types.is_integer_dtype(places.index) and len(places):
        start = int(places.index.max()) + 1
        labels: pd.Index = pd.RangeIndex(start, start + len(fill))
    else:
        labels = pd.Index([f"kreis:{a}" for a in fill["ags"]])
    geometry = gpd.GeoSeries(fill.geometry.representative_point().array, index=labels, crs=PROJECTED_CRS)
    extra = _frame(
        geometry,
        kpop.reindex(fill["ags"].astype(str)).to_numpy(),
        pd.Series(fill["ags"].astype(str).to_numpy(), index=labels),
        pd.Series(pd.NA, index=labels, dtype="string"),
        "orte",
        resolution="orte",
        unit_size_m=np.sqrt(fill.geometry.area.to_numpy(dtype=np.float64)),
    )
    logger.info("%d Kreis(e) ohne Ort: Bevölkerung an einem Punkt in der Kreisfläche", len(fill))
    return gpd.GeoDataFrame(pd.concat([frame, extra]), geometry="geometry", crs=PROJECTED_CRS)


# --- target groups ----------------------------------------------------------


def apply_target_group(
    demand: gpd.GeoDataFrame,
    group: TargetGroupId,
    *,
    foreign_share: pd.Series | None = None,
    column: str | None = None,
) -> gpd.GeoDataFrame:
    """Set the demand ``weight`` to the people of a target group.

    Parameters
    ----------
    demand
        A demand frame.
    group
        ``"total"``: weight = population. ``"foreign"``: weight = the
        cell's foreign residents (column ``zg_foreign`` of Zensus demand,
        see :func:`planning.target_groups.zensus_target_groups`) when
        present, else population × foreign share of the point's Kreis / 100
        (only when ``foreign_share`` is passed; the label of
        :meth:`TargetGroup.of` says which). ``"u3"``, ``"kita_ue3"``,
        ``"grundschule"``, ``"u18"``: the column ``zg_<id>`` (Zensus age
        themes); never a Kreis share. ``"column"``: weight = the values of
        ``column``.
    foreign_share
        For ``"foreign"``: share of foreign residents in percent, indexed by
        5-digit Kreis AGS (Regionalatlas, ``foreign_share_pct``).
    column
        For ``"column"``: a numeric column of ``demand``, e.g. children
        aged 0–6 per grid cell.

    Returns
    -------
    geopandas.GeoDataFrame
        A copy of ``demand`` with the new ``weight`` and, for Zensus groups,
        ``weight_quelle`` (the source of each value: cell, estimated, secret);
        same index.

    Raises
    ------
    DataError
        Unknown group, or ``foreign_share``/``column``/the Zensus theme
        missing.
    ValidationError
        Listing every Kreis without a valid foreign share, or every row
        whose column value is not a number ≥ 0.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import Point
    >>> d = gpd.GeoDataFrame({"weight": [100.0, 50.0], "population": [100.0, 50.0],
    ...                       "kreis_ags": ["05111", "05112"]},
    ...                      geometry=[Point(340_000, 5_680_000), Point(345_000, 5_700_000)], crs="EPSG:25832")
    >>> apply_target_group(d, "foreign", foreign_share=pd.Series({"05111": 20.0, "05112": 10.0}))["weight"].tolist()
    [20.0, 5.0]
    """
    ensure_projected(demand, "Nachfragepunkte")
    _require_columns(demand, ("population", "kreis_ags"), "Nachfragepunkte")
    tg = TargetGroup.of(group, column)
    out = demand.copy()
    pop = pd.to_numeric(out["population"], errors="coerce").to_numpy(dtype=np.float64)
    if tg.id == "total":
        out["weight"] = pop
        return out
    if f"zg_{tg.id}" in out.columns:
        out["weight"] = pd.to_numeric(out[f"zg_{tg.id}"], errors="coerce").fillna(0).to_numpy(dtype=np.float64)
        if f"zg_{tg.id}_quelle" in out.columns:
            out["weight_quelle"] = out[f"zg_{tg.id}_quelle"].astype("string")
        return out
    if tg.id in ZENSUS_GROUPS and tg.id != "foreign":
        raise DataError(
            f"Zielgruppe »{tg.label}«: die Nachfrage hat keine Werte dafür. Bitte die Zensus-Datei "
            f"»{ZENSUS_GROUP_FILES[tg.id]}_100m-Gitter« (ZIP von destatis.de) mit importieren; "
            "ein Kreisdurchschnitt wird nicht ersatzweise verwendet."
        )
    if tg.id == "foreign":
        if foreign_share is None:
            raise DataError(
                "Zielgruppe »Ausländische Bevölkerung«: Ausländeranteil je Kreis fehlt (oder die "
                "Zensus-Datei »Zensus2022_Auslaenderanteil_in_Gitterzellen« importieren)."
            )
        share = pd.to_numeric(foreign_share, errors="coerce")
        share.index = share.index.astype(str)
        kreis = out["kreis_ags"].astype(str)
        looked_up = share.reindex(pd.Index(kreis)).to_numpy(dtype=np.float64)
        bad = ~np.isfinite(looked_up) | (looked_up < 0) | (looked_up > 100)
        problems = [
            Problem(
                f"Kreis {ags}: kein gültiger Ausländeranteil (0–100 %).",
                "Regionalatlas-Werte prüfen oder Zielgruppe »Gesamtbevölkerung« wählen.",
                column="foreign_share_pct",
            )
            for ags in sorted(set(kreis[bad]))
        ]
        raise_if_problems(problems, "Ausländeranteil unvollständig")
        out["weight"] = pop * looked_up / 100.0
        return out
    if tg.column is None or tg.column not in out.columns:
        raise SchemaError(
            f"Zielgruppe: Spalte »{tg.column}« gibt es in den Nachfragedaten nicht. Vorhanden sind: "
            f"{', '.join(c for c in out.columns if c != 'geometry')}."
        )
    values = pd.to_numeric(out[tg.column], errors="coerce")
    problems = [
        Problem("Wert ist keine Zahl ≥ 0.", "Zahl eintragen oder Zeile entfernen.", row=int(pos) + 1, column=tg.column)
        for pos in np.flatnonzero((values.isna() | (values < 0)).to_numpy())
    ]
    raise_if_problems(problems, f"Zielgruppen-Spalte »{tg.column}« ungültig")
    out["weight"] = values.to_numpy(dtype=np.float64)
    return out
