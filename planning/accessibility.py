"""Supply/demand ratios: the two-step floating catchment area (2SFCA / E2SFCA).

The definition is that of PySAL ``access`` (``access.Access(...).two_stage_fca``,
module ``access.fca``), so results can be compared value by value:

1. For every supply location *j*, sum the (weighted) demand in its catchment,
   ``W_j = Σ_{i: c_ij ≤ d0} D_i · w(c_ij)``, and form the supply-to-demand ratio
   ``R_j = S_j / W_j``.
2. For every demand location *i*, sum the (weighted) ratios of the supply in its
   catchment, ``A_i = Σ_{j: c_ij ≤ d0} R_j · w(c_ij)``.

``w`` is 1 for the classic step catchment (Luo & Wang 2003), a Gaussian for the
Gaussian 2SFCA (Dai 2010) or a user-given step decay for the enhanced 2SFCA
(E2SFCA, Luo & Qi 2009). The whole computation is two weighted ``bincount``
passes over the in-reach pairs of a sparse cost matrix; there is no Python loop
over demand or supply.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

import numpy as np
import scipy.sparse as sp
from numpy.typing import ArrayLike, NDArray

from geo.errors import DataError, Problem, raise_if_problems

logger = logging.getLogger(__name__)

#: A distance-decay function: cost array in, weight array (same shape) out.
WeightFn = Callable[[np.ndarray], np.ndarray]

__all__ = ["WeightFn", "gaussian_weight", "step_weights", "two_step_fca"]


def two_step_fca(
    demand: ArrayLike,
    supply: ArrayLike,
    cost: np.ndarray | sp.sparray | sp.spmatrix,
    max_cost: float,
    weight_fn: WeightFn | None = None,
) -> NDArray[np.float64]:
    """Two-step floating catchment area access ratio per demand location.

    Parameters
    ----------
    demand
        Demand per demand location (e.g. children 0–6), length ``n_demand``,
        finite and non-negative.
    supply
        Supply per supply location (e.g. Kita places, or 1 per facility),
        length ``n_supply``, finite and non-negative.
    cost
        Travel cost from each demand to each supply location, shape
        ``(n_demand, n_supply)``, in the same unit as ``max_cost``. A dense
        array lists every pair (``NaN`` or ``inf`` means "no connection"). A
        scipy sparse matrix lists only its **stored** entries: a pair that is
        not stored is out of reach, and an explicitly stored 0 is a pair with
        zero cost (e.g. a Kita in the same grid cell), not a missing pair.
        Duplicate stored entries count as separate pairs, as duplicate rows of
        an ``access`` cost table do.
    max_cost
        Catchment size ``d0``: a pair is in reach when ``cost <= max_cost``
        (inclusive, as in ``access``).
    weight_fn
        Optional distance decay ``w(cost)``, vectorised over a cost array, for
        example :func:`gaussian_weight` or :func:`step_weights`. It multiplies
        the demand in step 1 and the ratio ``R_j`` in step 2; it is applied
        *together with* the ``max_cost`` cut-off. ``None`` means weight 1.

    Returns
    -------
    numpy.ndarray
        Access ratio ``A_i`` (supply per unit of demand) for each demand
        location, length ``n_demand``. ``NaN`` where no supply location is in
        reach. As in ``access``, a supply location whose catchment holds only
        zero (weighted) demand has ``R_j = inf`` (or an undefined ``0/0`` that
        contributes nothing when its supply is 0 too), so demand that shares
        such a catchment gets ``inf``.

    Raises
    ------
    DataError
        If the shapes do not match or demand/supply are negative or not finite.

    Notes
    -----
    Costs are in any unit (metres in EPSG:25832, seconds of travel time…); the
    function never looks at coordinates. With the step catchment,
    ``Σ_i A_i · D_i`` equals the total supply of the supply locations that have
    some positive demand in reach: every such unit of supply is shared out once.

    Examples
    --------
    Two Kitas with 10 and 20 places, three demand cells, a catchment of 1000 m:

    >>> import numpy as np
    >>> cost = np.array([[200.0, 1500.0], [800.0, 900.0], [3000.0, 400.0]])
    >>> two_step_fca([10, 20, 30], [10, 20], cost, max_cost=1000.0).round(4)
    array([0.3333, 0.7333, 0.4   ])
    """
    demand_arr = _as_values(demand, "Nachfrage (demand)")
    supply_arr = _as_values(supply, "Angebot (supply)")
    rows, cols, costs = _pairs(cost, demand_arr.size, supply_arr.size)

    in_reach = costs <= max_cost
    if not in_reach.all():
        rows, cols, costs = rows[in_reach], cols[in_reach], costs[in_reach]
    weights = None if weight_fn is None else np.asarray(weight_fn(costs), dtype=np.float64)

    # Step 1: weighted demand in each supply catchment, ratio R_j = S_j / W_j.
    pair_demand = demand_arr[rows] if weights is None else demand_arr[rows] * weights
    catchment_demand = np.bincount(cols, weights=pair_demand, minlength=supply_arr.size)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = supply_arr / catchment_demand
        # Step 2: weighted ratios in each demand catchment. A NaN contribution
        # (0/0 ratio, or inf·0) is skipped, as pandas' groupby-sum skips NaN in access.
        contribution = ratio[cols] if weights is None else ratio[cols] * weights
    contribution[np.isnan(contribution)] = 0.0
    # (bincount returns integers when there are no pairs at all, hence the cast)
    access = np.bincount(rows, weights=contribution, minlength=demand_arr.size).astype(np.float64)
    access[np.bincount(rows, minlength=demand_arr.size) == 0] = np.nan
    logger.debug(
        "2SFCA: %d Nachfrageorte, %d Angebotsorte, %d Paare in Reichweite (d0=%s)",
        demand_arr.size,
        supply_arr.size,
        rows.size,
        max_cost,
    )
    return access


def gaussian_weight(max_cost: float, *, normalise: bool = True) -> WeightFn:
    """Gaussian distance decay for the Gaussian 2SFCA.

    Parameters
    ----------
    max_cost
        Catchment size ``d0`` in the unit of the costs.
    normalise
        ``True`` (default): the Gaussian-based 2SFCA of Dai (2010),
        ``w(d) = (exp(-½ (d/d0)²) − exp(-½)) / (1 − exp(-½))``, which is 1 at
        ``d = 0`` and falls to 0 at the catchment edge ``d = d0`` (so the
        catchment has no sharp step). ``False``: the plain Gaussian kernel
        ``w(d) = exp(-½ (d/d0)²)``, identical to ``access.weights.gaussian``
        with ``sigma = d0``.

    Returns
    -------
    callable
        Vectorised weight function for :func:`two_step_fca`.

    Raises
    ------
    DataError
        If ``max_cost`` is not positive.

    Notes
    -----
    Unit-free: the weight depends on ``d / d0`` only.

    Examples
    --------
    >>> w = gaussian_weight(1000.0)
    >>> w(np.array([0.0, 500.0, 1000.0])).round(4)
    array([1.    , 0.7014, 0.    ])
    """
    if not (np.isfinite(max_cost) and max_cost > 0):
        raise DataError(
            f"Einzugsbereich (max_cost) muss eine positive Zahl sein, nicht {max_cost!r}. "
            "Bitte z. B. 1500 (Meter) oder 900 (Sekunden) angeben."
        )
    edge = np.exp(-0.5)

    def weight(cost: np.ndarray) -> np.ndarray:
        kernel = np.exp(-0.5 * (np.asarray(cost, dtype=np.float64) / max_cost) ** 2)
        return (kernel - edge) / (1.0 - edge) if normalise else kernel

    return weight


def step_weights(steps: Sequence[tuple[float, float]]) -> WeightFn:
    """Stepwise distance decay for the enhanced 2SFCA (E2SFCA).

    Parameters
    ----------
    steps
        ``(upper_cost, weight)`` pairs with strictly increasing upper costs, for
        example ``[(10, 1.0), (20, 0.68), (30, 0.22)]`` (minutes; the weights of
        Luo & Qi 2009). A cost gets the weight of the first step with
        ``cost <= upper_cost``; costs beyond the last step get 0.

    Returns
    -------
    callable
        Vectorised weight function for :func:`two_step_fca`; equal to
        ``access.weights.step_fn(dict(steps))`` element by element.

    Raises
    ------
    ValidationError
        If there are no steps, the upper costs do not increase strictly or a
        weight is negative or not finite (all problems are reported at once).

    Notes
    -----
    Unit-free: the step bounds are in the unit of the costs.

    Examples
    --------
    >>> w = step_weights([(10, 1.0), (20, 0.68), (30, 0.22)])
    >>> w(np.array([0.0, 10.0, 15.0, 30.0, 31.0]))
    array([1.  , 1.  , 0.68, 0.22, 0.  ])
    """
    problems: list[Problem] = []
    table = np.asarray(list(steps), dtype=np.float64)
    if table.ndim != 2 or table.shape[0] == 0 or table.shape[1] != 2:
        raise DataError(
            "Stufen der Distanzgewichtung fehlen oder sind falsch geformt. "
            "Bitte Paare (Obergrenze, Gewicht) angeben, z. B. [(10, 1.0), (20, 0.68), (30, 0.22)]."
        )
    bounds, values = table[:, 0], table[:, 1]
    for k in np.flatnonzero(~np.isfinite(bounds)):
        problems.append(
            Problem(
                f"Stufe {k + 1}: Obergrenze {bounds[k]} ist keine endliche Zahl.",
                "Bitte eine Zahl in der Einheit der Kosten angeben.",
            )
        )
    for k in np.flatnonzero(np.diff(bounds) <= 0):
        problems.append(
            Problem(
                f"Stufe {k + 2}: Obergrenze {bounds[k + 1]} ist nicht größer als die vorige ({bounds[k]}).",
                "Bitte die Stufen aufsteigend sortieren.",
            )
        )
    for k in np.flatnonzero(~(np.isfinite(values) & (values >= 0))):
        problems.append(
            Problem(
                f"Stufe {k + 1}: Gewicht {values[k]} ist ungültig.",
                "Gewichte müssen endliche Zahlen ≥ 0 sein.",
            )
        )
    raise_if_problems(problems, "Die Stufen der Distanzgewichtung sind ungültig")
    lookup = np.append(values, 0.0)

    def weight(cost: np.ndarray) -> np.ndarray:
        return lookup[np.searchsorted(bounds, np.asarray(cost, dtype=np.float64), side="left")]

    return weight


def _as_values(values: ArrayLike, what: str) -> NDArray[np.float64]:
    """Return ``values`` as a finite, non-negative 1-D float array or raise."""
    arr = np.asarray(values, dtype=np.float64)
    if arr.ndim != 1:
        raise DataError(f"{what}: erwartet wird eine Liste von Zahlen (1-D), nicht die Form {arr.shape}.")
    bad = np.flatnonzero(~(np.isfinite(arr) & (arr >= 0)))
    if bad.size:
        shown = ", ".join(str(int(i)) for i in bad[:10])
        raise DataError(
            f"{what}: {bad.size} Wert(e) sind negativ oder keine Zahl (Positionen {shown}"
            f"{' …' if bad.size > 10 else ''}). Bitte fehlende Werte mit 0 füllen oder die Zeilen entfernen."
        )
    return arr


def _pairs(
    cost: np.ndarray | sp.sparray | sp.spmatrix, n_demand: int, n_supply: int
) -> tuple[NDArray[np.intp], NDArray[np.intp], NDArray[np.float64]]:
    """Return (demand row, supply column, cost) of every listed pair of ``cost``."""
    if sp.issparse(cost):
        coo = sp.coo_array(cost)
        shape = coo.shape
        rows, cols, costs = coo.row, coo.col, np.asarray(coo.data, dtype=np.float64)
    else:
        dense = np.asarray(cost, dtype=np.float64)
        shape = dense.shape
        if dense.ndim != 2:
            raise DataError(f"Kostenmatrix muss zweidimensional sein (Nachfrage × Angebot), nicht {shape}.")
        rows, cols = np.nonzero(~np.isnan(dense))
        costs = dense[rows, cols]
    if shape != (n_demand, n_supply):
        raise DataError(
            f"Kostenmatrix hat die Form {shape}, erwartet wird ({n_demand}, {n_supply}) "
            "(Zeilen = Nachfrageorte, Spalten = Angebotsorte)."
        )
    return np.asarray(rows, dtype=np.intp), np.asarray(cols, dtype=np.intp), costs
