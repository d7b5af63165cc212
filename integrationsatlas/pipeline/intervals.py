"""Step: intervals for every share and gain, from the documented noise of the demand's source.

The demand of a request is resampled once per question (:mod:`planning.uncertainty`:
the Zensus cell-key overlay, the secret cells' remainder, the error of the OSM
building estimate; official totals are not varied). Every figure that is a sum
of weights over fixed rows (people covered, people a new site newly reaches)
or a ratio of two such sums (a covered share, overall, per unit, along the
curve) gets the central ``request.interval_level`` range of its resampled
values. The draws are made over all demand rows of the area (so an estimate
keeps its Gemeinde totals) and used for the rows a result covers (its extent),
in chunks, so that memory stays bounded for the Land at 100 m.

Where an error model is an assumption (the parameters of the overlay, the OSM
estimate's ``σ`` while no Zensus grid measures it), :attr:`DemandUncertainty.assumed`
says so and every text carries it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import scipy.sparse as sp
from numpy.typing import NDArray

from geo.formatting import NO_NOISE, de_count_interval, de_int, de_number
from planning.uncertainty import (
    DEMAND_NOISES,
    OSM_ESTIMATE,
    ZENSUS_REMAINDER,
    Interval,
    interval_of,
    noise_kinds,
    resample_demand,
)

logger = logging.getLogger(__name__)

#: Float32 entries of the draws held at once (about 80 MB).
MAX_DRAW_ENTRIES = 20_000_000


@dataclass(frozen=True, eq=False)
class DemandUncertainty:
    """The documented noise of a request's demand, ready to give intervals for figures over its rows.

    Parameters
    ----------
    weights
        Published (or estimated) weight of every demand row of the area.
    kinds
        Noise kind per row (:func:`planning.uncertainty.noise_kinds`).
    units
        Group per row: the Gemeinde of an OSM estimate (its total is kept), the
        1 km parent cell of a secret Zensus cell (its remainder is shared).
    n_resamples, level, seed
        Resamples, interval level and random seed.
    """

    weights: NDArray[np.float64]
    kinds: NDArray[np.object_]
    units: NDArray[np.object_]
    n_resamples: int
    level: float
    seed: int

    @property
    def kinds_present(self) -> tuple[str, ...]:
        """The noise kinds of the rows, sorted."""
        return tuple(sorted({str(k) for k in self.kinds}))

    @property
    def varied(self) -> bool:
        """Whether any row has a documented noise (else every interval is the figure itself)."""
        return any(DEMAND_NOISES[k].model is not None for k in self.kinds_present)

    @property
    def assumed(self) -> bool:
        """Whether an error model used is an assumption (not published, not measured)."""
        return any(bool(getattr(DEMAND_NOISES[k].model, "assumed", False)) for k in self.kinds_present)

    @property
    def label(self) -> str:
        """German description of the error models, e.g. for a caption."""
        parts = [DEMAND_NOISES[k].label for k in self.kinds_present if DEMAND_NOISES[k].model is not None]
        if not parts:
            return (
                "Die Nachfrage beruht auf amtlichen Summen ohne dokumentiertes Rauschen; ihre Unsicherheit ist "
                "ihre Auflösung, kein Intervall"
            )
        head = f"{de_number(self.level * 100, 0)}-%-Intervalle aus {de_int(self.n_resamples)} Stichproben"
        return f"{head} des dokumentierten Rauschens der Nachfrage: {'; '.join(parts)}"

    def as_dict(self) -> dict[str, Any]:
        """JSON form: level, resamples, seed, whether assumed, the error models."""
        return {
            "level": self.level,
            "n_resamples": self.n_resamples,
            "seed": self.seed,
            "varied": self.varied,
            "assumed": self.assumed,
            "models": {k: DEMAND_NOISES[k].label for k in self.kinds_present},
            "label": self.label,
        }

    def sample(self, rows: NDArray[np.int_], blocks: Mapping[str, Any]) -> dict[str, tuple[Any, Any]]:
        """Point values and resampled values of weighted sums over ``rows``.

        Parameters
        ----------
        rows
            Positions (into :attr:`weights`) of the rows the figures are about.
        blocks
            Name → ``len(rows) × K`` indicator (dense or sparse, 0/1 or
            shares): figure ``k`` of a block is ``Σ indicator[:, k] · weight``.

        Returns
        -------
        dict
            Name → ``(point (K,), samples (n_resamples, K))``.
        """
        names = list(blocks)
        mats = [sp.csc_array(_as_2d(blocks[n], rows.size), dtype=np.float64) for n in names]
        widths = np.cumsum([0, *(m.shape[1] for m in mats)])
        stacked = sp.hstack(mats, format="csr") if mats else sp.csr_array((rows.size, 0))
        point = stacked.T @ self.weights[rows]
        t_stacked = sp.csr_array(stacked.T)
        parts = [np.asarray((t_stacked @ draws.T).T) for draws in self.draw_chunks(rows)]
        samples = np.vstack(parts) if parts else np.empty((0, stacked.shape[1]))
        return {
            n: (point[widths[i] : widths[i + 1]], samples[:, widths[i] : widths[i + 1]]) for i, n in enumerate(names)
        }

    def with_weights(self, rows: NDArray[np.int_], values: NDArray[np.float64]) -> DemandUncertainty:
        """The same resampling with other weights on ``rows`` (e.g. the demand of a place type); the rest kept."""
        own = self.weights.copy()
        own[rows] = values
        return replace(self, weights=own)

    def draw_chunks(self, rows: NDArray[np.int_]) -> Iterator[NDArray[np.float64]]:
        """The resampled weights of ``rows``, a chunk of resamples at a time (``chunk × len(rows)``).

        The same resamples as :meth:`sample` draws (same seeds, same chunks).
        """
        for k, start in enumerate(range(0, self.n_resamples, self._chunk)):
            n = min(self._chunk, self.n_resamples - start)
            draws = resample_demand(self.weights, self.kinds, self.units, n_resamples=n, seed=self.seed + k)
            yield np.asarray(draws.draws[:, rows], dtype=np.float64)

    @property
    def _chunk(self) -> int:
        return max(1, min(self.n_resamples, MAX_DRAW_ENTRIES // max(self.weights.size, 1)))

    def sums(self, sampled: tuple[Any, Any]) -> list[Interval]:
        """Intervals of sums (see :meth:`sample`)."""
        point, samples = sampled
        return [interval_of(point[k], samples[:, k], self.level) for k in range(point.size)]

    def ratios(self, numerator: tuple[Any, Any], denominator: tuple[Any, Any]) -> list[Interval]:
        """Intervals of ratios of sums; a denominator of one column serves every numerator column."""
        (pn, sn), (pd_, sd) = numerator, denominator
        with np.errstate(divide="ignore", invalid="ignore"):
            point = np.where(pd_ > 0, pn / pd_, np.nan)
            samples = np.where(sd > 0, sn / sd, np.nan)
        return [interval_of(point[k], samples[:, k], self.level) for k in range(pn.size)]


@dataclass(frozen=True, eq=False)
class CoverageIntervals:
    """Intervals of a coverage report's shares: overall, per unit and along the curve.

    Parameters
    ----------
    uncertainty
        The resampling (error models, level, resamples, whether assumed).
    overall
        The covered share of all demand at the threshold.
    units
        Index: unit key; columns ``low``, ``high`` of each unit's covered share.
    curve
        ``threshold``, ``low``, ``high`` of the covered share at each step of the curve.
    extent
        The extent's share of the area's residents (``None``: the whole area).
    """

    uncertainty: DemandUncertainty
    overall: Interval
    units: pd.DataFrame
    curve: pd.DataFrame
    extent: Interval | None = None

    def as_dict(self) -> dict[str, Any]:
        """JSON form: the resampling and the overall interval (units and curve go with their records)."""
        return {**self.uncertainty.as_dict(), "overall": interval_record(self.overall)}


def coverage_intervals(
    uncertainty: DemandUncertainty,
    rows: NDArray[np.int_],
    cost: NDArray[np.float64],
    threshold: float,
    units: pd.Series,
    steps: NDArray[np.float64],
    residents_of_area: float | None = None,
) -> CoverageIntervals:
    """Intervals of the covered share overall, per unit and at every step of the curve.

    Parameters
    ----------
    uncertainty
        The resampled demand of the area.
    rows
        Positions of the figure's demand rows in it.
    cost
        Cost to the nearest facility per row (km or minutes; ``inf``: none).
    threshold
        The threshold (same unit).
    units
        Unit key per row (the gap table's units).
    steps
        Thresholds of the curve, ascending.
    residents_of_area
        The area's residents when ``rows`` are the demand inside a partial
        extent and the weights are the residents (the whole population as the
        target group): the extent's share of them varies with the same
        resamples, so its interval is taken from them instead of drawing
        again (:func:`extent_interval` gives the same interval).

    Notes
    -----
    Every indicator has at most one entry per row (a unit, a curve bin), so
    the Land at 100 m costs one sparse product per chunk of resamples.
    """
    n = rows.size
    covered = (cost <= threshold).astype(float).reshape(-1, 1)
    codes, labels = pd.factorize(units.astype("string").fillna(""))
    member = sp.csc_array((np.ones(n), (np.arange(n), codes)), shape=(n, labels.size))
    bins = np.searchsorted(steps, cost, side="left")  # row counts from the first step >= its cost
    binned = sp.csc_array((np.ones(n), (np.arange(n), bins)), shape=(n, steps.size + 1))
    sampled = uncertainty.sample(
        rows,
        {
            "covered": covered,
            "all": np.ones((n, 1)),
            "units": sp.csc_array(sp.diags_array(covered.ravel()) @ member),
            "members": member,
            "bins": binned,
        },
    )
    overall = uncertainty.ratios(sampled["covered"], sampled["all"])[0]
    per_unit = uncertainty.ratios(sampled["units"], sampled["members"])
    unit_table = pd.DataFrame(
        {"low": [iv.low for iv in per_unit], "high": [iv.high for iv in per_unit]},
        index=pd.Index(np.asarray(labels, dtype=object), name="unit"),
    )
    point, samples = sampled["bins"]
    at_step = (np.cumsum(point)[: steps.size], np.cumsum(samples, axis=1)[:, : steps.size])
    curve = uncertainty.ratios(at_step, sampled["all"])
    curve_table = pd.DataFrame({"threshold": steps, "low": [iv.low for iv in curve], "high": [iv.high for iv in curve]})
    extent = None
    if residents_of_area is not None:
        point, samples = sampled["all"]
        total = max(float(residents_of_area), 1e-12)
        extent = interval_of(float(point[0]) / total, samples[:, 0] / total, uncertainty.level)
    return CoverageIntervals(uncertainty, overall, unit_table, curve_table, extent)


def extent_interval(
    uncertainty: DemandUncertainty, population: NDArray[np.float64], inside: NDArray[np.bool_], of_area: float
) -> Interval:
    """Interval of an extent's share of the area's residents (the residents inside vary with the estimate).

    ``population`` and ``inside`` are per demand row of the area; the area's
    residents ``of_area`` are an official total (not varied).
    """
    people = replace(uncertainty, weights=np.asarray(population, dtype=np.float64))
    rows = np.arange(people.weights.size)
    point, samples = people.sample(rows, {"inside": inside.astype(float).reshape(-1, 1)})["inside"]
    total = max(float(of_area), 1e-12)
    return interval_of(float(point[0]) / total, samples[:, 0] / total, uncertainty.level)


def _as_2d(block: Any, n: int) -> Any:
    if sp.issparse(block):
        return block
    arr = np.asarray(block, dtype=np.float64)
    return arr.reshape(n, -1)


def demand_uncertainty(points: gpd.GeoDataFrame, n_resamples: int, level: float, seed: int) -> DemandUncertainty | None:
    """The resampling of the demand ``points`` of an area (``None`` when ``n_resamples`` is 0).

    The weights are the points' ``weight`` (the target group); the groups
    kept together are the Gemeinde of an OSM estimate and the 1 km cell
    (EPSG:3035, as the Zensus publishes it) of an estimated secret Zensus cell.
    """
    if n_resamples <= 0 or points.empty:
        return None
    kinds = noise_kinds(points)
    gemeinde = (
        points["gemeinde_ags"].astype("string").fillna("").to_numpy(dtype=object)
        if "gemeinde_ags" in points.columns
        else np.full(len(points), "", dtype=object)
    )
    units = np.array([f"r{i}" for i in range(len(points))], dtype=object)
    osm = kinds == OSM_ESTIMATE.id
    units[osm] = np.array([f"g{g}" for g in gemeinde[osm]], dtype=object)
    secret = kinds == ZENSUS_REMAINDER.id
    if secret.any():
        xy = points.geometry[secret].to_crs(3035)
        units[secret] = np.array(
            [f"c{int(x // 1000)}_{int(y // 1000)}" for x, y in zip(xy.x, xy.y, strict=True)], dtype=object
        )
    weights = pd.to_numeric(points["weight"], errors="coerce").fillna(0.0).to_numpy(dtype=np.float64)
    return DemandUncertainty(weights, kinds, units, int(n_resamples), float(level), int(seed))


def interval_record(iv: Interval | None, what: str = "versorgt", *, people: bool = False) -> dict[str, Any] | None:
    """An interval as JSON, with its German text (``None`` stays ``None``).

    ``people``: the figure is a count (»7.318 Personen (90 %-Intervall 6.653–7.990)«), else a share.
    """
    if iv is None:
        return None
    text = people_text(iv, what) if people else share_text(iv, iv.point, what)
    return {**iv.as_dict(), "text": text}


def people_text(iv: Interval | None, what: str = "Personen", value: float | None = None) -> str:
    """»7.318 Personen (90 %-Intervall 6.653–7.990)«, or the bare count without an interval."""
    if iv is None:
        return f"{de_int(value or 0.0)} {what}".strip()
    return de_count_interval(iv.point, iv.low, iv.high, iv.level, what=what)


def share_text(iv: Interval | None, share: float, what: str = "versorgt", *, decimals: int | None = None) -> str:
    """»97 % versorgt (90 %-Intervall 95–98 %)«, or the bare share in German without an interval."""
    from geo.formatting import de_share

    if iv is None:
        return f"{de_share(share)} {what}".strip()
    if iv.low == iv.high == iv.point:
        return f"{de_share(share)} {what} ({NO_NOISE})".replace("  ", " ").strip()
    return iv.text(what, decimals)


__all__ = [
    "CoverageIntervals",
    "DemandUncertainty",
    "coverage_intervals",
    "demand_uncertainty",
    "extent_interval",
    "interval_record",
    "people_text",
    "share_text",
]
