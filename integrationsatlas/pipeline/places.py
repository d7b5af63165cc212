"""Step: coverage that respects places, where the layer declares a capacity column (Kita, accommodation …).

A person counts as served only where a free place within the threshold is
left for them (:func:`planning.capacity.capacitated_coverage`, an exact maximum
flow). The demand of a place type is its matching Zensus age groups where
those are loaded (:data:`planning.capacity.PLACE_DEMAND`: Kita under 3 and
3–5, OGS 6–9), else the request's target group, and the figure without places
(everyone within reach of any site) is always given beside it, on the same
demand. Sites without a place count are counted without a limit, and the
notes say how many.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import scipy.sparse as sp
from numpy.typing import NDArray

from geo.errors import IntegrationsatlasError, NotLoadedError
from geo.formatting import de_int, de_pct
from geo.layers.loading import load_layer
from geo.layers.registry import REGISTRY
from geo.settings import Settings
from integrationsatlas.pipeline.intervals import DemandUncertainty, interval_record, share_text
from integrationsatlas.request import AnalysisRequest
from planning.capacity import PLACE_DEMAND, CapacityResult, capacitated_coverage, capacitated_covered_draws
from planning.siting.models import siting_model
from planning.uncertainty import Interval, interval_of

logger = logging.getLogger(__name__)


@dataclass(frozen=True, eq=False)
class PlacesFigures:
    """Coverage with and without places on the same demand.

    Parameters
    ----------
    result
        The capacitated coverage (served per row, load per site).
    column
        The layer's capacity column.
    demand_label
        Whose demand (German): the Zensus age groups of the place type, or the
        request's target group.
    interval, interval_uncapacitated
        Intervals of the shares with and without places (``None`` without resampling).
    notes
        German notes (sites without a place count …).
    by_unit
        Per unit (index) ``served``, ``total`` and ``share_with_places``, where computed.
    """

    result: CapacityResult
    column: str
    demand_label: str
    interval: Interval | None = None
    interval_uncapacitated: Interval | None = None
    notes: tuple[str, ...] = ()
    by_unit: pd.DataFrame | None = None

    @property
    def share(self) -> float:
        """Share served with a free place."""
        return self.result.share

    @property
    def share_uncapacitated(self) -> float:
        """Share within reach of any site (places ignored), same demand."""
        return self.result.share_uncapacitated

    def text(self) -> str:
        """One German sentence: served with places, within reach, the difference."""
        r = self.result
        return (
            f"Mit freien Plätzen ({self.demand_label}): "
            f"{share_text(self.interval, r.share, 'mit Platz')}; ohne Platzgrenze "
            f"{share_text(self.interval_uncapacitated, r.share_uncapacitated, 'in Reichweite')}; "
            f"{de_int(r.difference)} Personen in Reichweite ohne freien Platz."
        )

    def as_dict(self) -> dict[str, Any]:
        """JSON form (the capacity result, the demand, the intervals, the notes)."""
        return {
            **self.result.as_dict(),
            "column": self.column,
            "demand_label": self.demand_label,
            "share_interval": interval_record(self.interval),
            "share_uncapacitated_interval": interval_record(self.interval_uncapacitated),
            "text": self.text(),
            "notes": [*self.result.notes, *self.notes],
        }


def place_counts(frame: pd.DataFrame, layer: str) -> tuple[NDArray[np.float64] | None, str]:
    """Places per site from the layer's declared capacity column (``NaN``: unknown), with its name.

    ``None`` when the layer declares no capacity column, the frame lacks it,
    or no site has a count (then there is nothing to respect).
    """
    column = REGISTRY.get(layer).capacity_column
    if not column or column not in frame.columns:
        return None, column or ""
    counts = pd.to_numeric(frame[column], errors="coerce").to_numpy(dtype=np.float64)
    counts = np.where(counts >= 0, counts, np.nan)
    if not np.isfinite(counts).any():
        return None, column
    return counts, column


def candidate_places(
    settings: Settings, request: AnalysisRequest, candidates: gpd.GeoDataFrame
) -> tuple[NDArray[np.float64], str] | None:
    """Places of the existing sites among the candidates (``NaN`` for the rest) and the capacity column.

    ``None`` when the layer declares no capacity column or none of its sites
    has a count.
    """
    try:
        frame = load_layer(request.layer, settings)
    except (NotLoadedError, IntegrationsatlasError):
        return None
    counts, column = place_counts(frame, request.layer)
    if counts is None:
        return None
    by_id = dict(zip(("bestand:" + frame["id"].astype(str)).tolist(), counts.tolist(), strict=True))
    places = np.array([by_id.get(str(c), np.nan) for c in candidates["candidate_id"]], dtype=float)
    if not np.isfinite(places).any():
        return None
    return places, column


@dataclass(frozen=True, eq=False)
class SitingPlaces:
    """Places of a siting plan: the capacity per candidate and the demand the model serves with them.

    Parameters
    ----------
    capacity
        Places per candidate (existing sites: the layer's column; new ones:
        the request's places per new site, else no limit).
    weights
        The place type's demand per demand row (the model's weights).
    label
        Whose demand (German).
    notes
        German notes for the plan.
    """

    capacity: NDArray[np.float64]
    weights: NDArray[np.float64]
    label: str
    notes: tuple[str, ...]


def siting_places(
    settings: Settings,
    request: AnalysisRequest,
    points: gpd.GeoDataFrame,
    candidates: gpd.GeoDataFrame,
    target_label: str,
) -> SitingPlaces | None:
    """The places a siting model plans with, or ``None`` (model without places, layer without counts, no demand).

    New candidates get the request's places per new site; without it they
    count without a limit (the total demand), and the notes say so.
    """
    spec = request.siting
    if spec is None or not request.places or not siting_model(spec.model).supports_places:
        return None
    found = candidate_places(settings, request, candidates)
    if found is None:
        return None
    places, _column = found
    weights, label, note = place_demand(points, request.layer, request.target_group, target_label, request.place_share)
    if weights is None:
        return None
    new = ~candidates["fixed"].to_numpy(dtype=bool)
    notes = [f"Geplant mit Plätzen: es zählt, wer einen freien Platz in Reichweite hat ({label})."]
    if spec.new_site_places is not None:
        places[new] = float(spec.new_site_places)
    else:
        places[new] = np.nan
        notes.append("Neue Standorte ohne Angabe ihrer Plätze: ohne Platzgrenze geplant.")
    unknown = np.isnan(places)
    if (unknown & ~new).any():
        notes.append(f"{int((unknown & ~new).sum())} bestehende(r) Standort(e) ohne Platzzahl: ohne Platzgrenze.")
    capacity = np.where(unknown, max(float(weights.sum()), 1.0), places)  # no limit: all demand fits
    return SitingPlaces(capacity, weights, label, tuple(n for n in (*notes, note) if n))


def place_demand(
    points: gpd.GeoDataFrame, layer: str, target_group: str, target_label: str, share: float | None = None
) -> tuple[NDArray[np.float64] | None, str, str]:
    """The demand of the layer's places, with its German label and a note.

    In this order: the Zensus age groups of the place type where loaded
    (:data:`planning.capacity.PLACE_DEMAND`); the request's own target group
    when it is a group of its own (children, a column) or the layer declares
    no place demand; the population times the council's ``share`` (e.g. the
    share of children under 6 from its own statistics). Otherwise ``None``:
    comparing places with the whole population would say nothing, and the
    note says what to load or enter.
    """
    declared = PLACE_DEMAND.get(layer)
    weights = pd.to_numeric(points["weight"], errors="coerce").fillna(0.0).to_numpy(dtype=np.float64)
    if declared is None:
        return weights, target_label, ""
    if all(f"zg_{g}" in points.columns for g in declared.groups):
        return declared.weights(points), declared.label, ""
    if target_group not in ("total", "foreign"):
        return weights, target_label, ""
    if share is not None:
        people = pd.to_numeric(points["population"], errors="coerce").fillna(0.0).to_numpy(dtype=np.float64)
        label = f"{declared.label}: {de_pct(share * 100, 1)} der Einwohner (eingegebener Anteil)"
        return people * share, label, f"Plätze: Nachfrage = Einwohner × {de_pct(share * 100, 1)} (eingegebener Anteil)."
    return (
        None,
        declared.label,
        f"Plätze nicht gerechnet: für »{REGISTRY.get(layer).title}« zählen {declared.label}, deren Zensus-"
        "Altersgruppen nicht geladen sind. Zensus-Altersgruppen importieren, eine Kinder-Zielgruppe wählen oder "
        "den Anteil der Kinder an den Einwohnern eingeben.",
    )


def places_coverage(
    matrix: Any,
    weights: NDArray[np.float64],
    counts: NDArray[np.float64],
    radius: float,
    column: str,
    label: str,
    *,
    open_sites: NDArray[np.int_] | None = None,
    uncertainty: DemandUncertainty | None = None,
    rows: NDArray[np.int_] | None = None,
    notes: tuple[str, ...] = (),
    units: pd.Series | None = None,
) -> PlacesFigures:
    """Capacitated and plain coverage of ``weights`` by the open sites, with intervals from the resampled demand.

    Parameters
    ----------
    matrix
        Demand × site costs within ``radius`` (sparse; metres or seconds).
    weights
        Demand per row (persons of the place type).
    counts
        Places per site (``NaN``: unknown, counted without limit).
    radius
        Threshold in the unit of ``matrix``.
    column, label
        The capacity column and whose demand (German).
    open_sites
        The open sites (default: all).
    uncertainty, rows
        The request's resampled demand and the positions of ``matrix``'s rows
        in it: each resample is one more maximum flow (persons rounded).
    notes
        Further German notes.
    units
        The unit (e.g. Gemeinde AGS) of each row: then ``by_unit`` holds each
        unit's share with places, with its interval where resampled.
    """
    result = capacitated_coverage(matrix, weights, counts, radius, open_sites=open_sites)
    figures = PlacesFigures(result, column, label, notes=tuple(n for n in notes if n))
    codes, keys = (None, pd.Index([])) if units is None else pd.factorize(units.astype("string").fillna(""), sort=True)
    if units is not None:
        figures = replace(figures, by_unit=unit_places(units, figures, weights))
    if uncertainty is not None and not uncertainty.varied:  # official totals: each interval is the figure
        return _without_noise(figures, uncertainty.level)
    if uncertainty is None or rows is None or result.total <= 0:
        return figures
    resampled = uncertainty.with_weights(rows, weights)  # the place type's demand on the rows of the figure
    in_reach = _in_reach(matrix, radius, open_sites)
    served, total, reach, by_unit, unit_total = [], [], [], [], []
    for draws in resampled.draw_chunks(rows):
        per = capacitated_covered_draws(matrix, draws, counts, radius, open_sites=open_sites, groups=codes)
        served.append(per if codes is None else per.sum(axis=1))
        total.append(draws.sum(axis=1))
        reach.append(draws[:, in_reach].sum(axis=1))
        if codes is not None:
            by_unit.append(per)
            unit_total.append(np.stack([np.bincount(codes, weights=d, minlength=len(keys)) for d in draws]))
    s, t, c = np.concatenate(served), np.concatenate(total), np.concatenate(reach)
    with np.errstate(divide="ignore", invalid="ignore"):
        shares, plain = np.where(t > 0, s / t, np.nan), np.where(t > 0, c / t, np.nan)
    figures = replace(
        figures,
        interval=interval_of(result.share, shares, uncertainty.level),
        interval_uncapacitated=interval_of(result.share_uncapacitated, plain, uncertainty.level),
    )
    if codes is None or figures.by_unit is None:
        return figures
    su, tu = np.concatenate(by_unit), np.concatenate(unit_total)
    with np.errstate(divide="ignore", invalid="ignore"):
        unit_shares = np.where(tu > 0, su / tu, np.nan)
    table = figures.by_unit.copy()
    point = table["share_with_places"].reindex(keys).to_numpy(dtype=float)
    bounds = [interval_of(point[g], unit_shares[:, g], uncertainty.level) for g in range(len(keys))]
    table["share_with_places_low"] = pd.Series([b.low for b in bounds], index=keys).reindex(table.index)
    table["share_with_places_high"] = pd.Series([b.high for b in bounds], index=keys).reindex(table.index)
    return replace(figures, by_unit=table)


def _without_noise(figures: PlacesFigures, level: float) -> PlacesFigures:
    """The figures of a demand without documented noise: every interval is the figure itself."""
    r = figures.result
    table = figures.by_unit
    if table is not None:
        share = table["share_with_places"]
        table = table.assign(share_with_places_low=share, share_with_places_high=share)
    return replace(
        figures,
        interval=Interval(r.share, r.share, r.share, level, 0),
        interval_uncapacitated=Interval(r.share_uncapacitated, r.share_uncapacitated, r.share_uncapacitated, level, 0),
        by_unit=table,
    )


def unit_places(units: pd.Series, figures: PlacesFigures, weights: NDArray[np.float64]) -> pd.DataFrame:
    """Per unit the people served with places, within reach, and both shares (index: unit)."""
    r = figures.result
    frame = pd.DataFrame({"unit": units.astype("string").fillna("").to_numpy(), "served": r.served, "total": weights})
    table = frame.groupby("unit", sort=True)[["served", "total"]].sum()
    with np.errstate(divide="ignore", invalid="ignore"):
        table["share_with_places"] = np.where(table["total"] > 0, table["served"] / table["total"], np.nan)
    table.index = table.index.astype(str)
    return table


def _in_reach(matrix: Any, radius: float, open_sites: NDArray[np.int_] | None) -> NDArray[np.bool_]:
    """Rows within ``radius`` of an open site."""
    from planning.explain import within_radius

    a = sp.csc_array(within_radius(matrix, radius))
    if open_sites is not None:
        a = a[:, np.asarray(open_sites, dtype=np.int64)]
    return np.asarray(a.sum(axis=1)).ravel() > 0


__all__ = [
    "PlacesFigures",
    "SitingPlaces",
    "candidate_places",
    "place_counts",
    "place_demand",
    "places_coverage",
    "siting_places",
    "unit_places",
]
