"""The documented noise of each demand source, declared once: how a published or estimated value may differ.

Zensus 2022 (cell-key method)
    Destatis protects the Zensus 2022 results by a stochastic overlay, the
    *Cell-Key-Methode* (CKM): »einige Fallzahlen werden gegenüber ihrem
    Originalwert leicht verändert ausgewiesen«; the maximal absolute deviation
    is small; an original value of exactly zero is always published
    unchanged; only the population of *administrative* units is published
    without overlay (zensus2022.de, »Erläuterungen zur Methodik des Zensus
    2022« and »Die Geheimhaltung mit der Cell-Key-Methode«). Grid cells are
    not administrative units, so their counts are treated as overlaid. The
    overlay adds to an original count ``i`` a noise ``v`` drawn from a
    *perturbation table* (p-table) with mean 0, a maximal deviation ``D`` and
    a variance ``V``; perturbed values ``1 … js`` are never published. The
    p-table used here is the maximum-entropy distribution under exactly these
    constraints, the construction of Destatis' ``ptable`` R package (Giessing
    2016). The parameters Destatis used for the Zensus 2022 are not given on
    the pages cited; the defaults are those of the Destatis case study on
    population grids with the CKM (Möhler 2024, variant I: ``D = 4``,
    ``V = 1.8``, ``js = 1``) and are labelled as such. Values kept secret
    (»–«) are not overlaid but missing; see :mod:`planning.target_groups`.
OSM building estimate (dasymetric)
    The 100 m cells estimated from OSM buildings sum to the official
    Gemeinde population exactly; only their spread over the cells is
    uncertain. The error model is a multiplicative log-normal error per cell
    (``σ`` on the log scale), renormalised so each Gemeinde keeps its total.
    :func:`measure_estimate_error` fits ``σ`` against Zensus cells where both
    exist; without a Zensus grid (none is available offline) the default
    :data:`ASSUMED_OSM_ERROR` is an assumption, labelled as such.

Each declaration draws resamples of the values it covers
(``draw(values, units, rng, n)``); :mod:`planning.uncertainty` combines them.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from geo.errors import DataError
from planning.citations import Citation

logger = logging.getLogger(__name__)

FloatArray = NDArray[np.float64]

_ZENSUS_METHODS = Citation(
    "Erläuterungen zur Methodik des Zensus 2022; Die Geheimhaltung mit der Cell-Key-Methode",
    "Statistische Ämter des Bundes und der Länder (zensus2022.de)",
    "https://www.zensus2022.de/DE/Methodik-des-Zensus/Erlaeuterungen_zur_Methodik_des_Zensus_2022.html",
    "2024",
    "Stochastische Überlagerung nach der Cell-Key-Methode für Auswertungen demografischer Daten; einige "
    "Fallzahlen leicht verändert; geringe maximale absolute Abweichung; ein Originalwert 0 bleibt 0; nur die "
    "Bevölkerungszahl administrativer Gebietseinheiten bleibt unverändert.",
)
_CASE_STUDY = Citation(
    "Population grids with the Cell Key Method (case study, Guidelines for SDC Methods Applied on "
    "Geo-Referenced Data, ch. 6), R code 02ckm_protect_and_analyse.R",
    "Martin Möhler, Statistisches Bundesamt (github.com/mamoeh/CaseStudy_CKM_GeoGuidelines)",
    "https://github.com/mamoeh/CaseStudy_CKM_GeoGuidelines",
    "2024-08-12",
    "p-Tabellen mit ptable::create_cnt_ptable(D = 4, V = 1.8, js = 1) (»weaker protection«) und "
    "(D = 6, V = 2.5, js = 2) (»medium-level protection«) für 100-m-Bevölkerungsgitter.",
)


@dataclass(frozen=True)
class CellKeyNoise:
    """The cell-key overlay of Zensus counts: a mean-zero integer noise from a maximum-entropy p-table.

    Parameters
    ----------
    max_deviation
        ``D``: the largest absolute change of a count.
    variance
        ``V``: the variance of the noise (where the support allows it).
    small_block
        ``js``: perturbed counts ``1 … js`` are never published.
    label
        German name for reports.
    assumed
        Whether the parameters are an assumption (not the published production values).
    sources
        Citations of the method and the parameters.

    Examples
    --------
    >>> t = CENSUS_2022_CKM.table()
    >>> v = np.arange(-4, 5)
    >>> bool(np.allclose(t.sum(axis=1), 1)), bool(np.allclose(t @ v, 0))
    (True, True)
    >>> round(float(t[-1] @ v**2), 6), t[0].tolist()[4]
    (1.8, 1.0)
    """

    max_deviation: int = 4
    variance: float = 1.8
    small_block: int = 1
    label: str = "Zensus 2022: Cell-Key-Überlagerung"
    assumed: bool = True
    sources: tuple[Citation, ...] = field(default=(_ZENSUS_METHODS, _CASE_STUDY))

    @property
    def noise_values(self) -> NDArray[np.int64]:
        """The possible noise values ``-D … D``."""
        return np.arange(-self.max_deviation, self.max_deviation + 1)

    @cached_property
    def _table(self) -> FloatArray:
        d, js = self.max_deviation, self.small_block
        v = self.noise_values.astype(float)
        rows = []
        for i in range(d + js + 2):  # from here on every row is the same
            if i == 0:
                rows.append((v == 0).astype(float))
                continue
            target = i + v
            support = (target >= 0) & ((target == 0) | (target > js))
            rows.append(_max_entropy(v, support, self.variance))
        table = np.vstack(rows)
        table.setflags(write=False)
        return table

    def table(self) -> FloatArray:
        """Probabilities: row ``i`` (original count, the last row for all larger counts) × noise ``-D … D``."""
        return self._table

    def draw(self, values: ArrayLike, units: ArrayLike | None, rng: np.random.Generator, n: int) -> FloatArray:
        """``n`` overlaid versions of the counts: ``values + v`` with ``v`` from each count's row.

        The published counts stand in for the originals (a parametric
        resample: the overlay is drawn again around what was published).
        Non-integral values are rounded to choose the row; the noise is added
        to the value itself.
        """
        x = np.asarray(values, dtype=float)
        row = np.clip(np.round(x), 0, self._table.shape[0] - 1).astype(np.int64)
        cum = np.cumsum(self._table, axis=1)[row]  # (k, 2D+1)
        cum[:, -1] = 1.0
        out = np.empty((n, x.size), dtype=np.float64)
        chunk = max(1, int(2e7 // max(x.size * cum.shape[1], 1)))
        for s in range(0, n, chunk):
            u = rng.random((min(chunk, n - s), x.size, 1))
            k = (u > cum[None, :, :]).sum(axis=2)
            out[s : s + u.shape[0]] = x[None, :] + (k - self.max_deviation)
        return np.maximum(out, 0.0)

    def as_dict(self) -> dict[str, Any]:
        """Parameters and sources as a JSON-ready dict."""
        return {
            "label": self.label,
            "max_deviation": self.max_deviation,
            "variance": self.variance,
            "small_block": self.small_block,
            "assumed": self.assumed,
            "sources": [c.as_dict() for c in self.sources],
        }


def _max_entropy(v: FloatArray, support: NDArray[np.bool_], variance: float) -> FloatArray:
    """Maximum-entropy distribution on ``support`` with mean 0 and the given variance (or the closest reachable).

    The solution has the form ``p(v) ∝ exp(a v + b v²)``; ``(a, b)`` minimise
    the convex dual ``log Σ exp(a v + b (v² − V))``. When the support cannot
    reach ``V`` (tiny supports) the variance is moved to the nearest
    reachable value.
    """
    vs = v[support]
    if vs.size == 1:
        p = np.zeros(v.size)
        p[support] = 1.0
        return p
    lo_var = _min_variance(vs)
    hi_var = _max_variance(vs)
    target = float(np.clip(variance, lo_var + 1e-6, hi_var - 1e-6))

    feats = np.column_stack([vs, vs**2 - target])

    def dual(z: FloatArray) -> tuple[float, FloatArray, FloatArray]:
        e = feats @ z
        mx = e.max()
        q = np.exp(e - mx)
        p = q / q.sum()
        return float(mx + np.log(q.sum())), p @ feats, p

    z = np.zeros(2)
    for _ in range(100):  # Newton's method with backtracking on the convex dual
        val, grad, p = dual(z)
        if np.abs(grad).max() < 1e-13:
            break
        hess = (feats * p[:, None]).T @ feats - np.outer(grad, grad)
        step = np.linalg.solve(hess + 1e-14 * np.eye(2), grad)
        t = 1.0
        while dual(z - t * step)[0] > val - 0.25 * t * float(grad @ step) and t > 1e-10:
            t *= 0.5
        z = z - t * step
    p_full = np.zeros(v.size)
    p_full[support] = dual(z)[2]
    return p_full


def _min_variance(vs: FloatArray) -> float:
    """Smallest variance of a mean-zero distribution on the points ``vs`` (two neighbours of 0)."""
    if (vs == 0).any():
        return 0.0
    neg, pos = vs[vs < 0].max(), vs[vs > 0].min()
    return float(-neg * pos)


def _max_variance(vs: FloatArray) -> float:
    """Largest variance of a mean-zero distribution on the points ``vs`` (the two extremes)."""
    return float(-vs.min() * vs.max())


#: The default cell-key overlay (parameters of the Destatis case study, labelled as assumed).
CENSUS_2022_CKM = CellKeyNoise()


@dataclass(frozen=True)
class RemainderSplit:
    """Cells kept secret and estimated from their enclosing unit's remainder: where do those people live?

    :func:`planning.target_groups.fill_suppressed` gives the secret cells of a
    unit the unit's remainder (its total minus the known cells), shared by
    population. Here the remainder itself gets the cell-key overlay of the
    unit's total (one draw per unit), and its people are placed in the unit's
    secret cells at random with those shares (a multinomial draw): the sum
    per unit varies only by the overlay, its spread over the cells freely.

    Parameters
    ----------
    overlay
        The overlay of the unit totals.
    label
        German name for reports.
    """

    overlay: CellKeyNoise = CENSUS_2022_CKM
    label: str = "geheime Zensus-Zelle: Rest der übergeordneten Zelle, zufällig auf die geheimen Zellen verteilt"

    @property
    def assumed(self) -> bool:
        """Whether the overlay's parameters are an assumption."""
        return self.overlay.assumed

    def draw(self, values: ArrayLike, units: ArrayLike | None, rng: np.random.Generator, n: int) -> FloatArray:
        """``n`` versions of the secret cells' values (see the class docstring)."""
        x = np.asarray(values, dtype=float)
        if x.size == 0:
            return np.zeros((n, 0))
        codes = (
            np.zeros(x.size, dtype=np.int64) if units is None else np.unique(np.asarray(units), return_inverse=True)[1]
        )
        k = int(codes.max()) + 1
        totals = np.bincount(codes, weights=x, minlength=k)
        drawn_totals = np.round(self.overlay.draw(totals, None, rng, n)).astype(np.int64)  # (n, k)
        order = np.argsort(codes, kind="stable")
        count = np.bincount(codes, minlength=k)
        with np.errstate(divide="ignore", invalid="ignore"):
            share = np.where(totals[codes] > 0, x / totals[codes], 1.0 / count[codes])
        sorted_codes = codes[order]
        start = np.concatenate([[0.0], np.cumsum(np.bincount(codes, weights=share, minlength=k))[:-1]])
        key = sorted_codes + (np.cumsum(share[order]) - start[sorted_codes])  # unit + cumulative share in (0, 1]
        last = np.r_[sorted_codes[1:] != sorted_codes[:-1], True]
        key[last] = sorted_codes[last] + 1.0
        out = np.zeros((n, x.size))
        for r in range(n):  # one multinomial placement per resample (vectorised over people)
            people = np.repeat(np.arange(k), np.maximum(drawn_totals[r], 0))
            pos = np.searchsorted(key, people + rng.random(people.size), side="right")
            out[r, order] = np.bincount(np.minimum(pos, x.size - 1), minlength=x.size)
        return out


@dataclass(frozen=True)
class EstimateError:
    """Error of cells estimated by sharing a unit's total out over its cells (e.g. OSM buildings → 100 m).

    Parameters
    ----------
    sigma
        Standard deviation of the log error of a cell.
    measured
        ``True`` when ``sigma`` was measured against reference cells
        (:func:`measure_estimate_error`), ``False`` for an assumption.
    n_pairs
        Cells the measurement rests on (0 for an assumption).
    label
        German name for reports, saying whether it is measured or assumed.
    """

    sigma: float
    measured: bool
    n_pairs: int = 0
    label: str = ""

    @property
    def assumed(self) -> bool:
        """Whether ``sigma`` is an assumption (not measured)."""
        return not self.measured

    def draw(self, values: ArrayLike, units: ArrayLike | None, rng: np.random.Generator, n: int) -> FloatArray:
        """``n`` versions: each cell times ``exp(σ Z − σ²/2)``, rescaled so every unit keeps its total."""
        x = np.asarray(values, dtype=float)
        factor = np.exp(self.sigma * rng.standard_normal((n, x.size)) - 0.5 * self.sigma**2)
        out = x[None, :] * factor
        codes = (
            np.zeros(x.size, dtype=np.int64) if units is None else np.unique(np.asarray(units), return_inverse=True)[1]
        )
        k = int(codes.max()) + 1 if codes.size else 0
        totals = np.bincount(codes, weights=x, minlength=k)
        offs = (np.arange(n)[:, None] * k + codes[None, :]).ravel()
        drawn = np.bincount(offs, weights=out.ravel(), minlength=n * k).reshape(n, k)
        with np.errstate(divide="ignore", invalid="ignore"):
            scale = np.where(drawn > 0, totals[None, :] / drawn, 0.0)
        return np.asarray(out * scale[:, codes])

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return {"sigma": self.sigma, "measured": self.measured, "n_pairs": self.n_pairs, "label": self.label}


#: Assumed error of the OSM building estimate while no Zensus grid is loaded to measure it.
ASSUMED_OSM_ERROR = EstimateError(
    sigma=0.5,
    measured=False,
    label=(
        "OSM-Gebäudeschätzung: Fehlermodell angenommen, nicht gemessen (log-normal, σ = 0,5 je Zelle, "
        "Gemeindesummen fest); mit einem geladenen Zensus-Gitter messen"
    ),
)


def measure_estimate_error(estimate: ArrayLike, reference: ArrayLike, units: ArrayLike | None = None) -> EstimateError:
    """Fit the log-normal error of estimated cells against reference cells (e.g. OSM estimate vs Zensus 100 m).

    Parameters
    ----------
    estimate, reference
        Values of the same cells (people), aligned; cells where either is
        missing (NaN) are left out.
    units
        Unit per cell (e.g. Gemeinde): the estimate is scaled to each unit's
        reference total first, as the dasymetric estimate is to the official
        population.

    Returns
    -------
    EstimateError
        ``sigma`` = standard deviation of ``log((ref + ½) / (est + ½))`` over
        the cells where either is positive, ``measured=True``.

    Raises
    ------
    DataError
        With fewer than 30 usable cells (German).
    """
    est = np.asarray(estimate, dtype=float).ravel()
    ref = np.asarray(reference, dtype=float).ravel()
    if est.size != ref.size:
        raise DataError(f"Schätzung ({est.size} Zellen) und Referenz ({ref.size} Zellen) passen nicht zusammen.")
    ok = np.isfinite(est) & np.isfinite(ref) & ((est > 0) | (ref > 0))
    if ok.sum() < 30:
        raise DataError(
            f"Nur {int(ok.sum())} Zellen mit Schätzung und Referenz: zu wenige, um den Fehler zu messen "
            "(mindestens 30)."
        )
    est, ref = est[ok], ref[ok]
    codes = (
        np.zeros(est.size, dtype=np.int64)
        if units is None
        else np.unique(np.asarray(units)[ok], return_inverse=True)[1]
    )
    k = int(codes.max()) + 1
    t_est = np.bincount(codes, weights=est, minlength=k)
    t_ref = np.bincount(codes, weights=ref, minlength=k)
    with np.errstate(divide="ignore", invalid="ignore"):
        est = est * np.where(t_est > 0, t_ref / t_est, 1.0)[codes]
    sigma = float(np.std(np.log((ref + 0.5) / (est + 0.5))))
    return EstimateError(
        sigma=sigma,
        measured=True,
        n_pairs=int(ok.sum()),
        label=f"OSM-Gebäudeschätzung: Fehler gegen den Zensus gemessen (σ = {sigma:.2f}, {int(ok.sum())} Zellen)",
    )
