"""Population per 100 m cell estimated from OSM buildings (dasymetric disaggregation).

When no Zensus grid is loaded, the official population of each Gemeinde is
shared out over its residential buildings in proportion to their floor area
(footprint × levels), as GOAT (Plan4Better) does, and summed into INSPIRE
100 m cells with the **same cell ids as the Zensus grid**
(``CRS3035RES100mN…E…``). The result has the columns of a stored Zensus grid
and feeds the same demand code (:func:`planning.demand.demand_from_grid`
with ``level="osm"``). Every cell is labelled
:data:`SOURCE_LABEL` (»geschätzt aus Gebäuden (OSM)«).

Method
------
1. Residential buildings (:mod:`geo.sources.buildings`); floor area =
   footprint × ``building:levels`` (+ roof levels), or × the type's
   :data:`geo.sources.buildings.DEFAULT_LEVELS` when untagged.
2. Each building belongs to the Gemeinde and the 100 m cell that contain its
   representative point (a building spanning two cells counts in one).
3. Each Gemeinde's population goes to its (Gemeinde, cell) pairs in
   proportion to their floor area, rounded to whole people by the largest
   remainder, so **the cells of a Gemeinde sum to its official population
   exactly** (a cell cut by a Gemeinde border appears once per Gemeinde).

Partly covered Gemeinden
------------------------
An extract clipped to a box (the Aachen test extract covers central Aachen,
29 % of the city's area) holds no buildings for the rest of the Gemeinde.
Putting the whole population into the covered buildings would overstate the
centre several-fold. Instead the covered part gets

    P_covered = min(P, floor area in the extract / :data:`FLOOR_AREA_PER_PERSON_M2`)

(built-up evidence: the buildings that are there, at the German average of
gross floor area per resident), and the remainder ``P − P_covered`` goes to
coarse points in the uncovered part – the GeoNames places lying there,
weighted by their population, else the representative point of the
uncovered part – labelled ``resolution="osm_grob"`` with ``unit_size_m`` =
√(uncovered area / points), so :func:`planning.resolution.check_resolution`
calls any question that depends on them too coarse. Cells plus coarse
points sum to the Gemeinde population exactly.

Limits
------
* Untagged levels (most OSM buildings) are guessed by type; a tower block
  drawn as ``building=yes`` counts like a two-storey house.
* Mixed-use and non-residential buildings inside residential zones, vacant
  dwellings and differences in living space per person are invisible.
* OSM completeness varies; a Gemeinde with no mapped residential building
  gets one coarse point.
* The Gemeinde population has its own reference date (e.g. 31.12.2019),
  the buildings theirs (the extract's date).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer

from geo.errors import DataError, Problem, raise_if_problems
from geo.projection import ensure_projected
from geo.settings import PROJECTED_CRS
from geo.sources.buildings import DEFAULT_LEVELS
from geo.units import unit_of
from planning.demand import apportion

logger = logging.getLogger(__name__)

SOURCE_LABEL = "geschätzt aus Gebäuden (OSM)"
COARSE_LABEL = "grob: Teil der Gemeinde ohne OSM-Gebäude im Ausschnitt (Orte/Fläche)"
#: Gross floor area per resident, m²: Destatis living space per resident 2019 (47.0 m²) / 0.75
#: (living space as a share of gross floor area of residential buildings).
FLOOR_AREA_PER_PERSON_M2 = 47.0 / 0.75
#: A Gemeinde counts as fully covered when at most this share of its area lies outside the extract.
FULL_COVERAGE_SLACK = 0.01
CELL_M = 100
_ZENSUS_CRS = "EPSG:3035"


@dataclass(frozen=True)
class DasymetricResult:
    """Estimated population cells, with what the estimate rests on.

    Parameters
    ----------
    cells
        The estimate in the columns of a stored Zensus grid (see
        :func:`dasymetric_grid`), EPSG:25832 points.
    covered_population
        Per Gemeinde (AGS index): people put into 100 m cells.
    coarse_population
        Per Gemeinde: people put into coarse points (uncovered part).
    covered_share_area
        Per Gemeinde: share of its area inside the extract.
    buildings_used
        Residential buildings that carry population.
    """

    cells: gpd.GeoDataFrame
    covered_population: pd.Series
    coarse_population: pd.Series
    covered_share_area: pd.Series
    buildings_used: int

    @property
    def fine_cells(self) -> gpd.GeoDataFrame:
        """Only the 100 m cells (``resolution == "osm_100m"``)."""
        return self.cells[self.cells["resolution"] == "osm_100m"]


def floor_area(buildings: pd.DataFrame) -> np.ndarray:
    """Floor area (m²) = footprint × levels, with :data:`DEFAULT_LEVELS` where levels are untagged.

    >>> floor_area(pd.DataFrame({"footprint_m2": [100.0, 100.0], "levels": [3.0, np.nan],
    ...                          "building": ["yes", "house"]})).tolist()
    [300.0, 200.0]
    """
    default = buildings["building"].astype(str).map(DEFAULT_LEVELS).fillna(DEFAULT_LEVELS["yes"])
    levels = np.where(
        np.isfinite(buildings["levels"].to_numpy(dtype=np.float64)),
        buildings["levels"].to_numpy(dtype=np.float64),
        default.to_numpy(dtype=np.float64),
    )
    return buildings["footprint_m2"].to_numpy(dtype=np.float64) * levels


def dasymetric_grid(
    buildings: gpd.GeoDataFrame,
    gemeinden: gpd.GeoDataFrame,
    *,
    coverage: shapely.Geometry | None = None,
    places: gpd.GeoDataFrame | None = None,
    floor_area_per_person_m2: float = FLOOR_AREA_PER_PERSON_M2,
) -> DasymetricResult:
    """Share each Gemeinde's population over its residential buildings, summed into 100 m cells.

    Parameters
    ----------
    buildings
        Output of :mod:`geo.sources.buildings` (``residential``,
        ``footprint_m2``, ``levels``, ``building``), EPSG:25832.
    gemeinden
        Gemeinde polygons with ``ags`` and ``population`` (official, whole
        people), EPSG:25832. Only Gemeinden that intersect ``coverage`` (or
        hold a residential building, when ``coverage`` is ``None``) are
        estimated.
    coverage
        Area the buildings were read from (EPSG:25832), e.g.
        :func:`geo.sources.buildings.extract_coverage`. ``None``: the
        buildings cover every Gemeinde that has any.
    places
        GeoNames places (``population``) for the coarse points of the
        uncovered parts.
    floor_area_per_person_m2
        Gross floor area per resident used to bound the covered part.

    Returns
    -------
    DasymetricResult
        ``cells`` has ``gitter_id``, ``population`` (``Int64``),
        ``resolution_m`` (100), ``resolution`` (``"osm_100m"`` or
        ``"osm_grob"``), ``unit_size_m``, ``kreis_ags``, ``gemeinde_ags``,
        ``quelle``, ``floor_area_m2``, ``buildings``, ``x3035``/``y3035``.

    Raises
    ------
    CRSError
        If an input is not in EPSG:25832.
    ValidationError
        Listing Gemeinden without a valid population.
    DataError
        If no residential building lies in any Gemeinde.

    Notes
    -----
    CRS EPSG:25832 for inputs and output points; cells are INSPIRE cells of
    EPSG:3035 (100 m). See the module docstring for method and limits.
    """
    ensure_projected(buildings, "Gebäude")
    ensure_projected(gemeinden, "Gemeinden")
    res = buildings[buildings["residential"].to_numpy(dtype=bool)]
    if res.empty:
        raise DataError("Keine Wohngebäude in den OSM-Daten: Nachfrage nicht aus Gebäuden schätzbar.")
    reps = gpd.GeoSeries(shapely.point_on_surface(res.geometry.to_numpy()), crs=PROJECTED_CRS)
    owner_s = unit_of(reps, gemeinden, "ags")
    keep = owner_s.notna().to_numpy()
    res, reps = res[keep], reps[keep]
    owner: np.ndarray = owner_s[keep].astype(str).to_numpy()
    if len(res) == 0:
        raise DataError("Kein Wohngebäude liegt in einer der Gemeinden: Ausschnitt und Gemeinden passen nicht.")
    ags_all = gemeinden["ags"].astype(str).to_numpy()
    pop_all = pd.to_numeric(gemeinden["population"], errors="coerce").to_numpy(dtype=np.float64)
    involved = np.isin(ags_all, np.unique(owner))
    if coverage is not None:
        involved |= shapely.intersects(gemeinden.geometry.to_numpy(), coverage)
    bad = involved & (~np.isfinite(pop_all) | (pop_all < 0))
    raise_if_problems(
        [
            Problem(f"Gemeinde {a}: keine gültige Einwohnerzahl.", "Destatis-Bevölkerung laden.", column="population")
            for a in ags_all[bad]
        ],
        "Gebäudeschätzung nicht möglich",
    )
    gem = gemeinden.loc[involved]
    ags = ags_all[involved]
    total = pd.Series(np.rint(pop_all[involved]).astype(np.int64), index=ags)
    area = gem.geometry.area.to_numpy(dtype=np.float64)
    inside_area = (
        shapely.area(shapely.intersection(gem.geometry.to_numpy(), coverage)) if coverage is not None else area
    )
    share_area = pd.Series(np.clip(np.asarray(inside_area) / area, 0, 1), index=ags)
    fa = floor_area(res)
    fa_by_gem = pd.Series(fa).groupby(owner).sum().reindex(ags, fill_value=0.0)
    partial = (share_area < 1 - FULL_COVERAGE_SLACK).to_numpy()
    cap = np.rint(fa_by_gem.to_numpy() / floor_area_per_person_m2).astype(np.int64)
    covered = np.where(partial, np.minimum(total.to_numpy(), cap), total.to_numpy())
    covered = np.where(fa_by_gem.to_numpy() > 0, covered, 0)
    covered_s = pd.Series(covered, index=ags)
    coarse_s = total - covered_s

    fine = _cells(res, reps, owner, fa, covered_s)
    coarse = _coarse_points(gem, ags, coarse_s, coverage, places)
    cells = gpd.GeoDataFrame(pd.concat([fine, coarse], ignore_index=True), geometry="geometry", crs=PROJECTED_CRS)
    logger.info(
        "Gebäudeschätzung: %d Zellen, %d Personen in Zellen, %d grob",
        len(fine),
        int(covered_s.sum()),
        int(coarse_s.sum()),
    )
    return DasymetricResult(cells, covered_s, coarse_s, share_area, len(res))


def _cells(
    res: gpd.GeoDataFrame, reps: gpd.GeoSeries, owner: np.ndarray, fa: np.ndarray, covered: pd.Series
) -> gpd.GeoDataFrame:
    to3035 = Transformer.from_crs(PROJECTED_CRS, _ZENSUS_CRS, always_xy=True)
    x, y = to3035.transform(reps.x.to_numpy(), reps.y.to_numpy())
    col = np.floor(np.asarray(x) / CELL_M).astype(np.int64)
    row = np.floor(np.asarray(y) / CELL_M).astype(np.int64)
    pairs = pd.DataFrame({"ags": owner, "row": row, "col": col, "fa": fa, "n": 1})
    grouped = pairs.groupby(["ags", "row", "col"], sort=True).agg(fa=("fa", "sum"), n=("n", "sum")).reset_index()
    people = apportion(covered, grouped["fa"], grouped["ags"])
    grouped["population"] = people.to_numpy()
    grouped = grouped[grouped["population"] > 0].reset_index(drop=True)
    cx = grouped["col"].to_numpy() * CELL_M + CELL_M // 2
    cy = grouped["row"].to_numpy() * CELL_M + CELL_M // 2
    back = Transformer.from_crs(_ZENSUS_CRS, PROJECTED_CRS, always_xy=True)
    px, py = back.transform(cx.astype(np.float64), cy.astype(np.float64))
    ids = (
        "CRS3035RES100mN"
        + pd.Series(grouped["row"] * CELL_M).astype(str)
        + "E"
        + pd.Series(grouped["col"] * CELL_M).astype(str)
    )
    return gpd.GeoDataFrame(
        {
            "gitter_id": pd.array(ids.to_numpy(), dtype="string"),
            "population": pd.array(grouped["population"].to_numpy(), dtype="Int64"),
            "resolution_m": CELL_M,
            "resolution": pd.array(["osm_100m"] * len(grouped), dtype="string"),
            "unit_size_m": float(CELL_M),
            "kreis_ags": pd.array(grouped["ags"].str[:5].to_numpy(), dtype="string"),
            "gemeinde_ags": pd.array(grouped["ags"].to_numpy(), dtype="string"),
            "quelle": pd.array([SOURCE_LABEL] * len(grouped), dtype="string"),
            "floor_area_m2": grouped["fa"].to_numpy(),
            "buildings": grouped["n"].to_numpy(dtype=np.int64),
            "x3035": cx.astype(np.int32),
            "y3035": cy.astype(np.int32),
        },
        geometry=shapely.points(px, py),
        crs=PROJECTED_CRS,
    )


def _coarse_points(
    gem: gpd.GeoDataFrame,
    ags: np.ndarray,
    coarse: pd.Series,
    coverage: shapely.Geometry | None,
    places: gpd.GeoDataFrame | None,
) -> gpd.GeoDataFrame:
    need = coarse.to_numpy() > 0
    if not need.any():
        return gpd.GeoDataFrame(geometry=[], crs=PROJECTED_CRS)
    polys = gem.geometry.to_numpy()[need]
    rest = shapely.difference(polys, coverage) if coverage is not None else polys
    rest = np.where(shapely.is_empty(rest), polys, rest)
    keys = ags[need]
    rest_area = shapely.area(rest)
    pts, owner, weight = [], [], []
    if places is not None and len(places):
        ensure_projected(places, "Orte")
        hit_rest, hit_place = shapely.STRtree(places.geometry.to_numpy()).query(rest, predicate="contains")
        pts = list(places.geometry.to_numpy()[hit_place])
        owner = list(keys[hit_rest])
        weight = list(pd.to_numeric(places["population"], errors="coerce").fillna(0).to_numpy()[hit_place])
    without = np.setdiff1d(keys, np.asarray(owner, dtype=object)) if owner else keys
    for key in without:  # one point per uncovered part without a place (a handful of Gemeinden)
        i = int(np.flatnonzero(keys == key)[0])
        pts.append(shapely.point_on_surface(rest[i]))
        owner.append(key)
        weight.append(1.0)
    owner_a = np.asarray(owner, dtype=object)
    people = apportion(coarse[need], pd.Series(weight, dtype=np.float64), pd.Series(owner_a))
    n_per = pd.Series(owner_a).value_counts()
    size = np.sqrt(pd.Series(rest_area, index=keys).reindex(owner_a).to_numpy() / n_per.reindex(owner_a).to_numpy())
    to3035 = Transformer.from_crs(PROJECTED_CRS, _ZENSUS_CRS, always_xy=True)
    geoms = np.asarray(pts, dtype=object)
    x, y = to3035.transform(shapely.get_x(geoms), shapely.get_y(geoms))
    return gpd.GeoDataFrame(
        {
            "gitter_id": pd.array([pd.NA] * len(owner_a), dtype="string"),
            "population": pd.array(people.to_numpy(), dtype="Int64"),
            "resolution_m": CELL_M,
            "resolution": pd.array(["osm_grob"] * len(owner_a), dtype="string"),
            "unit_size_m": size,
            "kreis_ags": pd.array([str(a)[:5] for a in owner_a], dtype="string"),
            "gemeinde_ags": pd.array(owner_a.astype(str), dtype="string"),
            "quelle": pd.array([COARSE_LABEL] * len(owner_a), dtype="string"),
            "floor_area_m2": 0.0,
            "buildings": 0,
            "x3035": np.asarray(x).astype(np.int32),
            "y3035": np.asarray(y).astype(np.int32),
        },
        geometry=geoms,
        crs=PROJECTED_CRS,
    )


def estimate_target_groups(cells: pd.DataFrame, shares: pd.DataFrame, source: str) -> pd.DataFrame:
    """Target groups on estimated cells from shares of a coarser unit, labelled.

    Parameters
    ----------
    cells
        Estimated cells (:func:`dasymetric_grid`) with ``population`` and
        the key column of ``shares`` (``gemeinde_ags`` or ``kreis_ags``).
    shares
        Fraction (0–1) of the population per target group (columns = group
        ids, e.g. ``u3``), indexed by the unit key; its index name is the
        key column of ``cells``. From a Zensus themed grid aggregated to the
        unit, or from Gemeinde/Kreis statistics.
    source
        German label of where the shares come from, e.g. »Anteil der
        Gemeinde (Zensus 2022)«; stored in ``zg_<id>_quelle``.

    Returns
    -------
    pandas.DataFrame
        ``zg_<id>`` (people) and ``zg_<id>_quelle`` per group, indexed like
        ``cells``. Cells whose unit has no share get 0 and the label
        »kein Anteil bekannt«.

    Examples
    --------
    >>> c = pd.DataFrame({"population": [100, 50], "kreis_ags": ["05334", "05111"]})
    >>> s = pd.DataFrame({"u3": [0.03]}, index=pd.Index(["05334"], name="kreis_ags"))
    >>> estimate_target_groups(c, s, "Anteil des Kreises")["zg_u3"].tolist()
    [3.0, 0.0]
    """
    key = shares.index.name or "kreis_ags"
    if key not in cells.columns:
        raise DataError(f"Geschätzte Zellen: Spalte »{key}« fehlt für die Zielgruppen-Anteile.")
    pop = pd.to_numeric(cells["population"], errors="coerce").fillna(0).to_numpy(dtype=np.float64)
    out = pd.DataFrame(index=cells.index)
    for group in shares.columns:
        frac = shares[group].reindex(cells[key].astype(str).to_numpy()).to_numpy(dtype=np.float64)
        known = np.isfinite(frac)
        out[f"zg_{group}"] = np.where(known, pop * np.nan_to_num(frac), 0.0)
        out[f"zg_{group}_quelle"] = pd.array(
            np.where(known, f"{SOURCE_LABEL}; Zielgruppe: {source}", "kein Anteil bekannt"), dtype="string"
        )
    return out


def target_groups_from_zensus(cells: pd.DataFrame, zensus: pd.DataFrame) -> pd.DataFrame:
    """Target groups on estimated cells from the shares of the Zensus cell that holds each of them.

    Parameters
    ----------
    cells
        Estimated cells (:func:`dasymetric_grid`) with ``population`` and
        ``x3035``/``y3035``.
    zensus
        A Zensus grid (any resolution ≥ 100 m) with ``resolution_m``,
        ``x3035``/``y3035``, ``population`` and the ``zg_<id>`` columns of
        :func:`planning.target_groups.zensus_target_groups`.

    Returns
    -------
    pandas.DataFrame
        ``zg_<id>`` (people = cell population × the Zensus cell's share) and
        ``zg_<id>_quelle`` per group, indexed like ``cells``; a cell whose
        Zensus cell is missing or empty gets 0 and »kein Anteil bekannt«.

    Notes
    -----
    The enclosing Zensus cell is found by its INSPIRE key (EPSG:3035 centre
    divided by the Zensus cell width); no spatial join is needed.

    Examples
    --------
    >>> c = pd.DataFrame({"population": [50, 10], "x3035": [4100050, 4109050], "y3035": [3122050, 3122050]})
    >>> z = pd.DataFrame({"resolution_m": [1000], "x3035": [4100500], "y3035": [3122500], "population": [400.0],
    ...                   "zg_u3": [12.0]})
    >>> target_groups_from_zensus(c, z)["zg_u3"].tolist()
    [1.5, 0.0]
    """
    res = int(zensus["resolution_m"].iloc[0])
    own = _key3035(zensus, res)
    pop = pd.to_numeric(zensus["population"], errors="coerce").to_numpy(dtype=np.float64)
    at = pd.Index(own).get_indexer(_key3035(cells, res))
    found = at >= 0
    size = f"{res // 1000} km" if res >= 1000 else f"{res} m"
    label = f"{SOURCE_LABEL}; Zielgruppe: Anteil der Zensus-2022-Zelle ({size})"
    cell_pop = pd.to_numeric(cells["population"], errors="coerce").fillna(0).to_numpy(dtype=np.float64)
    out = pd.DataFrame(index=cells.index)
    groups = [c[3:] for c in zensus.columns if c.startswith("zg_") and not c.endswith("_quelle")]
    for group in groups:
        value = pd.to_numeric(zensus[f"zg_{group}"], errors="coerce").to_numpy(dtype=np.float64)
        share = np.full(len(cells), np.nan)
        with np.errstate(invalid="ignore", divide="ignore"):
            share[found] = value[at[found]] / pop[at[found]]
        known = np.isfinite(share)
        out[f"zg_{group}"] = np.where(known, cell_pop * np.nan_to_num(share), 0.0)
        out[f"zg_{group}_quelle"] = pd.array(np.where(known, label, "kein Anteil bekannt"), dtype="string")
    return out


def _key3035(frame: pd.DataFrame, resolution_m: int) -> np.ndarray:
    col = np.floor(frame["x3035"].to_numpy(dtype=np.float64) / resolution_m).astype(np.int64)
    row = np.floor(frame["y3035"].to_numpy(dtype=np.float64) / resolution_m).astype(np.int64)
    return row * 100_000 + col
