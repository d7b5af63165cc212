"""Intervals for coverage shares and siting gains, by resampling the documented noise of the demand.

Every share printed as one exact number rests on demand that is itself
uncertain: Zensus counts are overlaid by the cell-key method, secret cells
are estimated, the OSM building estimate is an estimate. Each demand row has
a *noise kind* (:data:`DEMAND_NOISES`, declared once; :func:`noise_kinds`
reads it off a demand frame), and :func:`resample_demand` draws ``n``
versions of all weights at once. Every figure that is a sum of weights over a
fixed set of rows (people covered, newly reached by a site) or a ratio of two
such sums (a coverage share, overall or per Gemeinde) is then one sparse
product per resample (:func:`sum_intervals`, :func:`ratio_intervals`). The
interval is the central ``level`` range (default 90 %) of the resampled
values; it is widened to contain the point estimate (the figure computed
from the published demand) if it does not, and says so (``extended``).

The resampling is *parametric*: the published values stand in for the
unknown originals and the documented noise is drawn around them again, so
the spread of the resamples is the spread of the published figure around the
true one (a parametric bootstrap).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
import pandas as pd
import scipy.sparse as sp
from numpy.typing import ArrayLike, NDArray

from geo.errors import DataError
from geo.formatting import de_share_interval
from planning.dasymetric import COARSE_LABEL, SOURCE_LABEL
from planning.demand import SOURCE_ESTIMATED, SOURCE_SECRET
from planning.noise import ASSUMED_OSM_ERROR, CENSUS_2022_CKM, RemainderSplit
from planning.siting.result import _frozen_array

logger = logging.getLogger(__name__)

FloatArray = NDArray[np.float64]

#: Default number of resamples.
DEFAULT_RESAMPLES = 200
#: Default level of the intervals.
DEFAULT_LEVEL = 0.9
#: Default seed (the Zensus reference date): the same inputs give the same intervals.
DEFAULT_SEED = 20220515


class NoiseModel(Protocol):
    """Draws ``n`` versions of the values of the rows it covers (``units``: their grouping, if any)."""

    @property
    def label(self) -> str:
        """German name for reports."""
        ...

    @property
    def assumed(self) -> bool:
        """Whether the model's parameters are an assumption rather than published or measured."""
        ...

    def draw(self, values: ArrayLike, units: ArrayLike | None, rng: np.random.Generator, n: int) -> FloatArray: ...


@dataclass(frozen=True)
class DemandNoise:
    """The noise kind of a demand row: its label and its model (``None``: not varied).

    Parameters
    ----------
    id
        Identifier (stored per row by :func:`noise_kinds`).
    label
        German description for reports.
    model
        The :class:`NoiseModel`; ``None`` for values without documented noise
        (official totals, own counts) or unknown values (secret cells counted as 0).
    """

    id: str
    label: str
    model: NoiseModel | None


ZENSUS_CELL = DemandNoise("zensus_cell", CENSUS_2022_CKM.label, CENSUS_2022_CKM)
ZENSUS_REMAINDER = DemandNoise("zensus_remainder", RemainderSplit().label, RemainderSplit())
ZENSUS_SECRET = DemandNoise(
    "zensus_secret", "geheime Zensus-Zelle, nicht schätzbar: als 0 gezählt, nicht variiert", None
)
OSM_ESTIMATE = DemandNoise("osm_estimate", ASSUMED_OSM_ERROR.label, ASSUMED_OSM_ERROR)
EXACT = DemandNoise("exact", "ohne dokumentiertes Rauschen (amtliche Summe oder eigene Zahl)", None)
#: The noise kinds by id (replace one with :func:`dataclasses.replace`, e.g. a measured OSM error).
DEMAND_NOISES: dict[str, DemandNoise] = {
    n.id: n for n in (ZENSUS_CELL, ZENSUS_REMAINDER, ZENSUS_SECRET, OSM_ESTIMATE, EXACT)
}


def noise_kinds(demand: pd.DataFrame) -> NDArray[np.object_]:
    """The noise kind of each row of a demand frame (see :mod:`planning.demand`).

    Zensus rows: ``weight_quelle`` says whether the value is the cell's own
    (overlaid), estimated from the parent's remainder, or secret. OSM rows:
    the 100 m estimate (``quelle`` from :mod:`planning.dasymetric`); its coarse
    remainder points and Gemeinde or place demand are official totals (their
    uncertainty is their resolution, not noise).

    Examples
    --------
    >>> d = pd.DataFrame({"level": ["zensus", "zensus", "osm", "gemeinde"],
    ...                   "weight_quelle": [None, "geschätzt: Rest der übergeordneten Einheit nach Einwohnern "
    ...                   "verteilt", None, None],
    ...                   "quelle": [None, None, "geschätzt aus Gebäuden (OSM)", None]})
    >>> noise_kinds(d).tolist()
    ['zensus_cell', 'zensus_remainder', 'osm_estimate', 'exact']
    """
    n = len(demand)
    level = demand["level"].astype("string").fillna("") if "level" in demand.columns else pd.Series([""] * n)
    wq = (
        demand["weight_quelle"].astype("string").fillna("")
        if "weight_quelle" in demand.columns
        else pd.Series([""] * n, index=demand.index)
    )
    quelle = demand["quelle"].astype("string").fillna("") if "quelle" in demand.columns else pd.Series([""] * n)
    res = demand["resolution"].astype("string").fillna("") if "resolution" in demand.columns else pd.Series([""] * n)
    lv, w, q, r = (s.to_numpy(dtype=object) for s in (level, wq, quelle, res))
    out = np.full(n, EXACT.id, dtype=object)
    zensus = lv == "zensus"
    out[zensus] = ZENSUS_CELL.id
    out[zensus & (w == SOURCE_ESTIMATED)] = ZENSUS_REMAINDER.id
    out[zensus & (w == SOURCE_SECRET)] = ZENSUS_SECRET.id
    osm = (lv == "osm") & np.array(
        [str(x).startswith(SOURCE_LABEL) or s == "osm_100m" for x, s in zip(q, r, strict=True)]
    )
    osm &= np.array([str(x) != COARSE_LABEL for x in q]) & (r != "osm_grob")
    out[osm] = OSM_ESTIMATE.id
    return out


@dataclass(frozen=True)
class DemandDraws:
    """Resampled demand: ``n_resamples × n_rows`` weights, with the published weights (read-only).

    Attributes
    ----------
    point
        The published (or estimated) weight per row.
    draws
        One resampled weight vector per row of this matrix (float32).
    kinds
        Noise kind id per demand row.
    models
        German label of each noise kind present, by id.
    seed
        The random seed.
    seconds
        Time to draw.
    notes
        German notes (rows not varied …).
    """

    point: FloatArray
    draws: NDArray[np.float32]
    kinds: NDArray[np.object_]
    models: Mapping[str, str]
    seed: int
    seconds: float
    notes: tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:
        object.__setattr__(self, "point", _frozen_array(self.point, np.float64))
        object.__setattr__(self, "draws", _frozen_array(self.draws, np.float32))

    @property
    def n_resamples(self) -> int:
        """Number of resamples."""
        return int(self.draws.shape[0])

    def variant(self, q: float) -> FloatArray:
        """The resample whose total is at quantile ``q`` of all totals (a demand variant for robust plans)."""
        totals = self.draws.sum(axis=1, dtype=np.float64)
        k = int(np.argsort(totals)[min(int(q * totals.size), totals.size - 1)])
        return np.asarray(self.draws[k], dtype=np.float64)


def resample_demand(
    weights: ArrayLike,
    kinds: ArrayLike,
    units: ArrayLike | None = None,
    *,
    noises: Mapping[str, DemandNoise] | None = None,
    n_resamples: int = DEFAULT_RESAMPLES,
    seed: int = DEFAULT_SEED,
) -> DemandDraws:
    """Draw ``n_resamples`` versions of the demand from the noise of each row's source.

    Parameters
    ----------
    weights
        Published or estimated weight per demand row (persons).
    kinds
        Noise kind id per row (:func:`noise_kinds`).
    units
        Grouping key per row: the Gemeinde for OSM estimates (their totals are
        kept), the parent cell for secret Zensus cells (their remainder is
        shared within it). Without it each kind is one group.
    noises
        Noise kinds by id (default :data:`DEMAND_NOISES`).
    n_resamples
        Number of versions (≥ 1).
    seed
        Random seed.

    Returns
    -------
    DemandDraws

    Raises
    ------
    DataError
        For unknown kinds, mismatched lengths or ``n_resamples < 1`` (German).
    """
    t0 = time.perf_counter()
    w = np.asarray(weights, dtype=float).ravel()
    k = np.asarray(kinds, dtype=object).ravel()
    table = dict(DEMAND_NOISES if noises is None else noises)
    n_units = w.size if units is None else int(np.size(units))
    if k.size != w.size or n_units != w.size:
        raise DataError(f"{w.size} Gewichte, aber {k.size} Rauscharten und {n_units} Einheiten.")
    present = sorted({str(x) for x in pd.unique(k)})  # the few kinds, without a Python loop over the rows
    unknown = sorted(set(present) - set(table))
    if unknown:
        raise DataError(f"Unbekannte Rauschart(en) {', '.join(unknown)}; bekannt sind {', '.join(sorted(table))}.")
    if n_resamples < 1:
        raise DataError(f"Mindestens eine Stichprobe ist nötig, nicht {n_resamples}.")
    rng = np.random.default_rng(seed)
    draws = np.repeat(w[None, :].astype(np.float32), n_resamples, axis=0)
    u = None if units is None else np.asarray(units, dtype=object).ravel()
    models: dict[str, str] = {}
    notes: list[str] = []
    for kind_id in present:
        rows = np.flatnonzero(k == kind_id)
        noise = table[kind_id]
        models[kind_id] = noise.label
        if noise.model is None:
            if kind_id == ZENSUS_SECRET.id and rows.size:
                notes.append(f"{rows.size} geheime Zensus-Zelle(n) nicht schätzbar: als 0 gezählt, nicht variiert.")
            continue
        sub_units = None if u is None else u[rows]
        draws[:, rows] = noise.model.draw(w[rows], sub_units, rng, n_resamples).astype(np.float32)
    return DemandDraws(w, draws, k, models, seed, time.perf_counter() - t0, tuple(notes))


# --------------------------------------------------------------------------- intervals


@dataclass(frozen=True)
class Interval:
    """A figure and its interval from the resampled demand.

    Attributes
    ----------
    point
        The figure from the published demand.
    low, high
        Bounds of the central ``level`` range of the resampled figures
        (widened to contain ``point``).
    level
        Coverage of the interval (0.9 = 90 %).
    n_resamples
        Resamples it rests on.
    extended
        Whether the range was widened to contain ``point`` (a skewed resampling).
    """

    point: float
    low: float
    high: float
    level: float
    n_resamples: int
    extended: bool = False

    def text(self, what: str = "versorgt", decimals: int | None = None) -> str:
        """The share in German with its interval, e.g. »97 % versorgt (90 %-Intervall 95–98 %)«.

        Without ``decimals`` the percentages get as many decimals (0 to 2) as
        it takes for the interval not to collapse into one printed number.

        >>> Interval(0.9712, 0.951, 0.9801, 0.9, 200).text()
        '97 % versorgt (90 %-Intervall 95–98 %)'
        >>> Interval(0.4231, 0.4221, 0.4241, 0.9, 200).text()
        '42,3 % versorgt (90 %-Intervall 42,2–42,4 %)'
        """
        if decimals is None:
            decimals = 2
            for d in (0, 1):
                if np.isfinite(self.low) and round(self.low * 100, d) != round(self.high * 100, d):
                    decimals = d
                    break
        return de_share_interval(self.point, self.low, self.high, self.level, what=what, decimals=decimals)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready dict (NaN as ``None``)."""

        def num(x: float) -> float | None:
            return float(x) if np.isfinite(x) else None

        return {
            "point": num(self.point),
            "low": num(self.low),
            "high": num(self.high),
            "level": self.level,
            "n_resamples": self.n_resamples,
            "extended": self.extended,
        }


def interval_of(point: float, samples: ArrayLike, level: float = DEFAULT_LEVEL) -> Interval:
    """The interval of a figure from its resampled values (the central ``level`` range, widened to hold ``point``).

    >>> iv = interval_of(0.5, [0.4, 0.45, 0.5, 0.55, 0.6], 0.5)
    >>> iv.low, iv.high
    (0.45, 0.55)
    """
    return _interval(float(point), np.asarray(samples, dtype=np.float64).ravel(), level)


def _interval(point: float, values: FloatArray, level: float) -> Interval:
    ok = values[np.isfinite(values)]
    if not np.isfinite(point) or ok.size == 0:
        return Interval(point, float("nan"), float("nan"), level, int(values.size))
    lo, hi = (float(v) for v in np.quantile(ok, [(1 - level) / 2, (1 + level) / 2]))
    extended = point < lo or point > hi
    return Interval(point, min(lo, point), max(hi, point), level, int(values.size), extended)


def _matrix(a: Any, n: int) -> sp.csc_array:
    m = sp.csc_array(a if sp.issparse(a) else np.asarray(a, dtype=float).reshape(n, -1), dtype=np.float64)
    if m.shape[0] != n:
        raise DataError(f"Die Indikatormatrix hat {m.shape[0]} Zeilen, die Nachfrage {n}.")
    return m


def sum_intervals(draws: DemandDraws, indicator: Any, *, level: float = DEFAULT_LEVEL) -> list[Interval]:
    """Intervals of sums of weights over fixed rows: people covered, people a site newly reaches.

    Parameters
    ----------
    draws
        The resampled demand.
    indicator
        ``n_rows × K`` (dense or sparse, 0/1 or fractional): column ``k``
        selects the rows (and shares) whose weight figure ``k`` sums.
    level
        Interval level.

    Returns
    -------
    list of Interval
        One per column.
    """
    m = _matrix(indicator, draws.point.size)
    point = m.T @ draws.point
    sampled = np.asarray((sp.csr_array(m.T, dtype=np.float32) @ draws.draws.T).T, dtype=np.float64)  # (R, K)
    return [_interval(float(point[j]), sampled[:, j], level) for j in range(m.shape[1])]


def ratio_intervals(
    draws: DemandDraws, numerator: Any, denominator: Any, *, level: float = DEFAULT_LEVEL
) -> list[Interval]:
    """Intervals of ratios of two weight sums, e.g. the covered share of each Gemeinde.

    Parameters
    ----------
    draws
        The resampled demand.
    numerator, denominator
        ``n_rows × K`` indicators (see :func:`sum_intervals`): figure ``k`` is
        ``Σ numerator[:, k]·w / Σ denominator[:, k]·w``.
    level
        Interval level.

    Returns
    -------
    list of Interval
        One per column (NaN where the denominator is 0).
    """
    n = draws.point.size
    a, b = _matrix(numerator, n), _matrix(denominator, n)
    if a.shape != b.shape:
        raise DataError(f"Zähler {a.shape} und Nenner {b.shape} passen nicht zusammen.")
    both = sp.hstack([a, b], format="csr")
    k = a.shape[1]
    point = both.T @ draws.point
    sampled = np.asarray((sp.csr_array(both.T, dtype=np.float32) @ draws.draws.T).T, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        p_ratio = np.where(point[k:] > 0, point[:k] / point[k:], np.nan)
        s_ratio = np.where(sampled[:, k:] > 0, sampled[:, :k] / sampled[:, k:], np.nan)
    return [_interval(float(p_ratio[j]), s_ratio[:, j], level) for j in range(k)]


def share_interval(draws: DemandDraws, covered: ArrayLike, *, level: float = DEFAULT_LEVEL) -> Interval:
    """Interval of the covered share of all demand (``covered``: boolean or share per row).

    Examples
    --------
    >>> d = resample_demand([100.0, 50.0, 20.0], ["zensus_cell"] * 3, n_resamples=300)
    >>> iv = share_interval(d, [True, True, False])
    >>> round(iv.point, 4), iv.low <= iv.point <= iv.high
    (0.8824, True)
    """
    c = np.asarray(covered, dtype=float).reshape(-1, 1)
    return ratio_intervals(draws, c, np.ones_like(c), level=level)[0]


def unit_share_intervals(
    draws: DemandDraws, covered: ArrayLike, units: Sequence[Any] | ArrayLike, *, level: float = DEFAULT_LEVEL
) -> pd.DataFrame:
    """Covered share per unit (e.g. Gemeinde) with its interval.

    Returns
    -------
    pandas.DataFrame
        ``unit``, ``share``, ``low``, ``high``, ``extended``, sorted by unit.
    """
    codes, labels = pd.factorize(pd.Series(np.asarray(units, dtype=object)).astype("string").fillna("unbekannt"))
    n = draws.point.size
    member = sp.csc_array((np.ones(n), (np.arange(n), codes)), shape=(n, labels.size))
    cov = sp.csc_array(sp.diags_array(np.asarray(covered, dtype=float)) @ member)
    ivs = ratio_intervals(draws, cov, member, level=level)
    table = pd.DataFrame(
        {
            "unit": np.asarray(labels, dtype=object),
            "share": [iv.point for iv in ivs],
            "low": [iv.low for iv in ivs],
            "high": [iv.high for iv in ivs],
            "extended": [iv.extended for iv in ivs],
        }
    )
    return table.sort_values("unit", kind="stable").reset_index(drop=True)
