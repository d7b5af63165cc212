"""Gap tables: which Kreise or Gemeinden are most underserved by a service.

:func:`gap_table` aggregates per-demand-point costs (distance or travel time to
the nearest facility) and, optionally, 2SFCA access ratios to administrative
units, combines them into one documented :data:`gap score <GAP_SCORE_WEIGHTS>`
and ranks the units. Every table carries its :class:`GapInputs` so a report
can cite layer, threshold, mode, demand level, target group and dates.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

import geopandas as gpd
import numpy as np
import pandas as pd
from numpy.typing import NDArray

from geo.errors import DataError, SchemaError
from geo.modes import MODES
from geo.projection import ensure_projected

logger = logging.getLogger(__name__)

CostUnit = Literal["km", "min"]

#: Weights of the gap-score components (see :func:`gap_table`).
GAP_SCORE_WEIGHTS: dict[str, float] = {
    "weight_beyond": 1.0,
    "uncovered_share": 1.0,
    "cost_p90": 1.0,
    "inverse_access": 1.0,
}

#: German labels of the columns of :attr:`GapTable.table`.
COLUMN_LABELS: dict[str, str] = {
    "name": "Name",
    "n_points": "Nachfragepunkte",
    "population": "Bevölkerung",
    "weight": "Zielgruppe",
    "population_beyond": "Bevölkerung jenseits der Schwelle",
    "weight_beyond": "Zielgruppe jenseits der Schwelle",
    "share_covered": "Versorgungsanteil",
    "cost_mean": "Mittlere Entfernung/Zeit",
    "cost_p90": "90.-Perzentil Entfernung/Zeit",
    "weight_unreachable": "Zielgruppe nicht erreichbar",
    "access_ratio": "2SFCA-Versorgungsquote",
    "no_demand": "Keine Nachfrage",
    "too_coarse": "Nachfrage zu grob",
    "gap_score": "Lückenwert",
    "rank": "Rang",
}

#: Figures of a unit that need its demand resolved (``total_ok`` of :func:`planning.resolution.unit_resolution`).
UNRESOLVED_COLUMNS: tuple[str, ...] = (
    "population",
    "weight",
    "population_beyond",
    "weight_beyond",
    "share_covered",
    "cost_mean",
    "cost_p90",
    "weight_unreachable",
    "access_ratio",
)


@dataclass(frozen=True)
class GapInputs:
    """The inputs every number of a gap table depends on, for citation.

    Parameters
    ----------
    layer
        Facility layer id, e.g. ``"ki"``.
    threshold
        Coverage threshold in ``unit``.
    unit
        ``"km"`` (straight-line distance) or ``"min"`` (travel time).
    mode
        ``"luftlinie"`` for distances, else a travel mode of :data:`geo.modes.MODES`.
    demand_level
        Demand level (``"zensus"``, ``"gemeinde"``, ``"orte"``).
    demand_level_label
        German description of the demand level.
    target_group
        German label of the target group.
    as_of
        Reference dates, e.g. ``(("Bevölkerung", "2019"), ("Einrichtungen", "2026-11"))``.
    layer_title
        German title of the facility layer.
    area
        AGS prefix the analysis was restricted to, if any.
    notes
        Further German remarks (e.g. the extent of a street network).
    demand_source, demand_licence
        Where the demand's population comes from, and its licence.
    """

    layer: str
    threshold: float
    unit: CostUnit
    mode: str
    demand_level: str
    demand_level_label: str
    target_group: str
    as_of: tuple[tuple[str, str], ...] = ()
    layer_title: str = ""
    area: str | None = None
    notes: tuple[str, ...] = field(default=())
    demand_source: str = ""
    demand_licence: str = "dl-de/by-2-0"

    @property
    def mode_label(self) -> str:
        """German name of the cost mode."""
        if self.mode == "luftlinie":
            return "Luftlinie"
        return MODES[self.mode].title if self.mode in MODES else self.mode

    def citation(self) -> str:
        """One German sentence naming every input.

        >>> GapInputs("ki", 15.0, "km", "luftlinie", "orte", "Orte", "Gesamtbevölkerung",
        ...           (("Bevölkerung", "2019"),)).citation()
        'Ebene ki, Schwelle 15 km (Luftlinie), Nachfrage: Orte, Zielgruppe: Gesamtbevölkerung, Stand: Bevölkerung 2019'
        """
        title = self.layer_title or self.layer
        parts = [
            f"Ebene {title}",
            f"Schwelle {self.threshold:g} {self.unit} ({self.mode_label})",
            f"Nachfrage: {self.demand_level_label}",
            f"Zielgruppe: {self.target_group}",
        ]
        if self.area:
            parts.append(f"Gebiet: AGS {self.area}…")
        if self.as_of:
            parts.append("Stand: " + ", ".join(f"{k} {v}" for k, v in self.as_of))
        return ", ".join(parts)

    def as_dict(self) -> dict[str, object]:
        """JSON-serialisable form, with the citation."""
        return {
            "layer": self.layer,
            "layer_title": self.layer_title,
            "threshold": self.threshold,
            "unit": self.unit,
            "mode": self.mode,
            "demand_level": self.demand_level,
            "demand_level_label": self.demand_level_label,
            "target_group": self.target_group,
            "as_of": dict(self.as_of),
            "area": self.area,
            "notes": list(self.notes),
            "citation": self.citation(),
        }


@dataclass(frozen=True)
class GapTable:
    """Per-unit coverage metrics, gap score and rank, with their inputs.

    Parameters
    ----------
    table
        One row per unit, indexed by the unit key (see :func:`gap_table`).
    inputs
        What the numbers depend on.
    score_weights
        The component weights used for ``gap_score``.
    """

    table: pd.DataFrame
    inputs: GapInputs
    score_weights: tuple[tuple[str, float], ...] = ()

    @property
    def score_note(self) -> str:
        """Why a lone unit has no gap score (empty when the units have theirs)."""
        scored = ~(self.table["no_demand"] | self.table["too_coarse"])
        if scored.sum() != 1:
            return ""
        return (
            "Lückenwert: vergleicht die Gebiete untereinander und ist bei nur einem Gebiet nicht bestimmt; "
            "für einen Vergleich feinere Einheiten (Gemeinden, ein Gebietssatz wie Stadtteile) oder ein größeres "
            "Gebiet wählen."
        )

    def ranking(self, n: int | None = None) -> pd.DataFrame:
        """Units with demand, most underserved first (``rank`` 1 first)."""
        ranked = self.table[self.table["rank"].notna()].sort_values(["rank", "gap_score"], ascending=[True, False])
        return ranked if n is None else ranked.head(n)


def weighted_quantile_by_group(
    codes: NDArray[np.intp], cost: NDArray[np.float64], weight: NDArray[np.float64], q: float, n_groups: int
) -> NDArray[np.float64]:
    """Demand-weighted quantile of ``cost`` per group, vectorised.

    The quantile of a group is the smallest cost ``c`` such that the weight
    of its points with cost ``<= c`` is at least ``q`` times the group's
    weight (the "inverted CDF" definition, no interpolation). Points with
    zero weight are ignored; a group without weight gets NaN.

    Examples
    --------
    >>> weighted_quantile_by_group(np.array([0, 0, 0, 1]), np.array([1.0, 2.0, 9.0, 4.0]),
    ...                            np.array([5.0, 4.0, 1.0, 0.0]), 0.9, 2).tolist()
    [2.0, nan]
    """
    out = np.full(n_groups, np.nan)
    keep = weight > 0
    codes, cost, weight = codes[keep], cost[keep], weight[keep]
    if len(codes) == 0:
        return out
    order = np.lexsort((cost, codes))
    g, c, w = codes[order], cost[order], weight[order]
    starts = np.flatnonzero(np.r_[True, g[1:] != g[:-1]])
    group_ids = g[starts]
    sizes = np.diff(np.r_[starts, len(g)])
    # cumulative weight within each group (a grouped cumsum: no cancellation across groups)
    within = pd.Series(w).groupby(g).cumsum().to_numpy()
    total = within[np.r_[starts[1:], len(g)] - 1]
    target = np.repeat(q * total, sizes)
    # first position in each group where the within-group cumulative weight reaches the target
    reached = within >= target * (1 - 1e-12)
    first = pd.Series(reached).groupby(g).idxmax().to_numpy()
    out[group_ids] = c[first]
    return out


def _minmax(values: NDArray[np.float64]) -> NDArray[np.float64]:
    """Scale to [0, 1] over the finite values; +inf → 1; NaN stays NaN; constant → 0."""
    finite = np.isfinite(values)
    out = np.full(len(values), np.nan)
    out[np.isposinf(values)] = 1.0
    if finite.any():
        lo, hi = values[finite].min(), values[finite].max()
        out[finite] = (values[finite] - lo) / (hi - lo) if hi > lo else 0.0
    return out


def gap_table(
    demand: gpd.GeoDataFrame,
    cost: pd.Series,
    threshold: float,
    *,
    unit_col: str,
    inputs: GapInputs,
    access_ratio: pd.Series | None = None,
    units: pd.DataFrame | None = None,
    score_weights: Mapping[str, float] | None = None,
    resolution: pd.DataFrame | None = None,
) -> GapTable:
    """Coverage metrics, composite gap score and ranking per administrative unit.

    Parameters
    ----------
    demand
        Demand frame in EPSG:25832 with ``weight`` (target group),
        ``population`` and the unit key column ``unit_col``.
    cost
        Cost to the nearest facility per demand point, aligned on
        ``demand.index``: kilometres or minutes (``inputs.unit``); ``inf``
        where no facility is reachable.
    threshold
        Coverage threshold in the unit of ``cost``.
    unit_col
        Column of ``demand`` with the unit key (``kreis_ags``,
        ``gemeinde_ags``...).
    inputs
        The inputs to cite; stored on the result.
    access_ratio
        Optional 2SFCA access ratio per demand point (aligned on
        ``demand.index``).
    units
        All units, indexed by key, optionally with a ``name`` column. Units
        without demand then appear with ``no_demand=True``; demand points of
        keys not in ``units`` are ignored.
    score_weights
        Weights of the score components; defaults to
        :data:`GAP_SCORE_WEIGHTS`.
    resolution
        Per unit key, whether its demand is fine enough for figures of its
        own (``total_ok`` of :func:`planning.resolution.unit_resolution`: the
        demand units nest in it or it spans enough of them). A unit without
        gets no figures, score or rank (``too_coarse=True``): a Gemeinde
        population shared over a few places says nothing about one Stadtteil.
        Whether the threshold is too fine for the demand is the report's
        overall verdict. ``None``: every unit is resolved.

    Returns
    -------
    GapTable
        ``table`` indexed by unit key with columns ``name`` (when ``units``
        has it), ``n_points``, ``population``, ``weight``,
        ``population_beyond``, ``weight_beyond``, ``share_covered``,
        ``cost_mean``, ``cost_p90``, ``weight_unreachable``,
        ``access_ratio`` (when given), ``no_demand``, ``too_coarse``,
        ``gap_score`` and ``rank``.

    Raises
    ------
    CRSError
        If ``demand`` is not in EPSG:25832.
    SchemaError
        If a needed column is missing.
    DataError
        If ``cost`` or ``access_ratio`` does not cover every demand point,
        or the threshold is negative.

    Notes
    -----
    Metrics per unit *u* with demand points *i* (weight *wᵢ*, population
    *pᵢ*, cost *cᵢ*):

    - ``weight_beyond`` = Σ wᵢ over *cᵢ > threshold*; ``population_beyond``
      likewise with *pᵢ*.
    - ``share_covered`` = Σ wᵢ[cᵢ ≤ threshold] / Σ wᵢ.
    - ``cost_mean`` = demand-weighted mean cost over the points with finite
      cost; ``weight_unreachable`` = Σ wᵢ with infinite cost.
    - ``cost_p90`` = demand-weighted 90th percentile (smallest cost that
      covers 90 % of the weight; ``inf`` when more than 10 % cannot reach
      any facility).
    - ``access_ratio`` = demand-weighted mean 2SFCA ratio.

    **Gap score** (higher = more underserved), for units with demand
    weight > 0: the weighted mean of four components, each min–max scaled
    to [0, 1] across these units (a constant component scales to 0):

    1. ``weight_beyond`` — target-group people beyond the threshold (weight 1);
    2. ``uncovered_share`` = 1 − ``share_covered`` (weight 1);
    3. ``cost_p90`` — ``inf`` scales to 1 (weight 1);
    4. ``inverse_access`` = 1 / ``access_ratio`` — a ratio of 0 gives
       ``inf`` and scales to 1 (weight 1; only when ``access_ratio`` is
       given, otherwise left out of the mean).

    Component weights come from :data:`GAP_SCORE_WEIGHTS` or
    ``score_weights``. Units without demand weight get ``gap_score`` NaN
    and ``rank`` NA. The score compares units: a table with only one unit
    with demand gives it no score (NaN, not a »0« that reads as »no gap«)
    and rank 1. ``rank`` 1 is the highest score; equal scores share
    the lower rank ("min" method). Costs are in the unit of ``cost`` (km or
    minutes); CRS EPSG:25832.
    """
    ensure_projected(demand, "Nachfragepunkte")
    missing = [c for c in ("weight", "population", unit_col) if c not in demand.columns]
    if missing:
        raise SchemaError(f"Nachfragepunkte: Spalte(n) {', '.join(missing)} fehlen.")
    if not np.isfinite(threshold) or threshold < 0:
        raise DataError(f"Schwellenwert muss eine Zahl ≥ 0 sein, erhalten: {threshold}.")
    c = _aligned(cost, demand.index, "Kosten")
    ratio = None if access_ratio is None else _aligned(access_ratio, demand.index, "2SFCA-Quote")
    w = pd.to_numeric(demand["weight"], errors="coerce").to_numpy(dtype=np.float64)
    p = pd.to_numeric(demand["population"], errors="coerce").to_numpy(dtype=np.float64)
    if not (np.isfinite(w).all() and np.isfinite(p).all()) or (w < 0).any() or (p < 0).any():
        raise DataError("Nachfragepunkte: »weight« und »population« müssen Zahlen ≥ 0 sein (ohne Lücken).")

    keys = demand[unit_col]
    labels = pd.Index(units.index if units is not None else pd.unique(keys.dropna())).sort_values()
    codes = labels.get_indexer(pd.Index(keys))
    if (codes < 0).any():
        logger.info("%d Nachfragepunkt(e) ohne bekanntes Gebiet (%s) ignoriert", int((codes < 0).sum()), unit_col)
    sel = codes >= 0
    g, c, w, p = codes[sel], c[sel], w[sel], p[sel]
    n = len(labels)

    def total(values: NDArray[np.float64]) -> NDArray[np.float64]:
        return np.bincount(g, weights=values, minlength=n).astype(np.float64, copy=False)

    inside = c <= threshold
    finite = np.isfinite(c)
    weight_total = total(w)
    reach_w = total(np.where(finite, w, 0.0))
    no_demand = weight_total <= 0
    with np.errstate(invalid="ignore", divide="ignore"):
        table = pd.DataFrame(
            {
                "n_points": np.bincount(g, minlength=n),
                "population": total(p),
                "weight": weight_total,
                "population_beyond": total(np.where(inside, 0.0, p)),
                "weight_beyond": total(np.where(inside, 0.0, w)),
                "share_covered": np.where(no_demand, np.nan, total(np.where(inside, w, 0.0)) / weight_total),
                "cost_mean": np.where(
                    reach_w > 0, total(np.where(finite, w * np.where(finite, c, 0.0), 0.0)) / reach_w, np.nan
                ),
                "cost_p90": weighted_quantile_by_group(g, c, w, 0.9, n),
                "weight_unreachable": total(np.where(finite, 0.0, w)),
            },
            index=labels,
        )
        if ratio is not None:
            r = ratio[sel]
            table["access_ratio"] = np.where(no_demand, np.nan, total(w * r) / weight_total)
    table.loc[no_demand, "cost_p90"] = np.nan
    table["no_demand"] = no_demand
    table["too_coarse"] = False
    if resolution is not None:  # a unit spanning only a few coarse demand units has no figures of its own
        resolved = resolution["total_ok"].reindex(labels.astype(str)).fillna(False).to_numpy(dtype=bool)
        coarse = ~resolved & ~no_demand
        table["too_coarse"] = coarse
        table.loc[coarse, [c for c in UNRESOLVED_COLUMNS if c in table.columns]] = np.nan
    table.index.name = unit_col
    if units is not None and "name" in units.columns:
        table.insert(0, "name", units["name"].reindex(labels).astype("string"))

    weights = dict(GAP_SCORE_WEIGHTS if score_weights is None else score_weights)
    unknown = set(weights) - set(GAP_SCORE_WEIGHTS)
    if unknown or any(v < 0 for v in weights.values()):
        raise DataError(
            f"Gewichte des Lückenwerts: erlaubt sind {', '.join(GAP_SCORE_WEIGHTS)} mit Werten ≥ 0 "
            f"(erhalten: {weights})."
        )
    table["gap_score"] = _score(table, weights)
    table["rank"] = table["gap_score"].rank(ascending=False, method="min").astype("Int64")
    scored = ~(table["no_demand"] | table["too_coarse"])
    if scored.sum() == 1:  # a lone unit is first of one, without a score
        table.loc[scored, "rank"] = 1
    used = tuple((k, float(v)) for k, v in weights.items() if k != "inverse_access" or ratio is not None)
    return GapTable(table=table, inputs=inputs, score_weights=used)


def _aligned(values: pd.Series, index: pd.Index, what: str) -> NDArray[np.float64]:
    if not isinstance(values, pd.Series):
        arr = np.asarray(values, dtype=np.float64)
        if arr.shape != (len(index),):
            raise DataError(f"{what}: {arr.shape} Werte für {len(index)} Nachfragepunkte.")
        return arr
    aligned = values.reindex(index)
    if aligned.isna().any() and not values.index.equals(index):
        raise DataError(
            f"{what}: für {int(aligned.isna().sum())} Nachfragepunkt(e) fehlt ein Wert "
            "(Index passt nicht zu den Nachfragepunkten)."
        )
    return aligned.to_numpy(dtype=np.float64)


def _score(table: pd.DataFrame, weights: Mapping[str, float]) -> NDArray[np.float64]:
    has = ~(table["no_demand"].to_numpy(dtype=bool) | table["too_coarse"].to_numpy(dtype=bool))
    comps: dict[str, NDArray[np.float64]] = {
        "weight_beyond": table["weight_beyond"].to_numpy(dtype=np.float64),
        "uncovered_share": 1.0 - table["share_covered"].to_numpy(dtype=np.float64),
        "cost_p90": table["cost_p90"].to_numpy(dtype=np.float64),
    }
    if "access_ratio" in table.columns:
        ar = table["access_ratio"].to_numpy(dtype=np.float64)
        with np.errstate(divide="ignore"):
            comps["inverse_access"] = np.where(ar > 0, 1.0 / np.where(ar > 0, ar, 1.0), np.inf)
        comps["inverse_access"][np.isnan(ar)] = np.nan
    score = np.full(len(table), np.nan)
    if has.sum() < 2:  # the score ranks units against each other: one unit alone has nothing to be scaled against
        return score
    num = np.zeros(int(has.sum()))
    den = 0.0
    for name, values in comps.items():
        wk = float(weights.get(name, 0.0))
        if wk == 0:
            continue
        scaled = _minmax(values[has])
        num += wk * np.nan_to_num(scaled, nan=0.0)
        den += wk
    score[has] = num / den if den > 0 else np.nan
    return score
