"""The siting models, declared once: label, objective, whether they need p, budget support.

Callers (the planner, the CLI, the pages, the report) ask a
:class:`SitingModel` instead of comparing model names, and build the model
through it (:meth:`SitingModel.build`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal, TypeAlias

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray

from geo.errors import DataError
from planning.siting.coverage import LSCP, MCLP
from planning.siting.pmedian import PMedian

#: What a model optimises: covered demand, number of sites, or weighted distance/time.
Objective = Literal["coverage", "count", "distance"]
Cost: TypeAlias = sp.sparray | NDArray[np.float64]


@dataclass(frozen=True)
class SitingModel:
    """One location model.

    Parameters
    ----------
    id
        Stable identifier (``mclp``, ``lscp``, ``pmedian``).
    label
        Short German label.
    title
        One German sentence for reports: what the model does.
    objective
        ``coverage`` (maximise covered demand), ``count`` (fewest sites that
        cover everything reachable) or ``distance`` (least weighted cost).
    needs_p
        Whether the number of new sites is given (else the model chooses it).
    supports_budget
        Whether a budget constraint makes sense.
    dense_cost
        Whether it needs the full cost matrix (every pair), not only the
        pairs within the threshold.
    supports_places
        Whether it plans with places (a capacity per site: demand is served
        only up to a site's free places).
    factory
        ``factory(cost, weights, radius, p_total, fixed, time_limit, constraints)``
        → a model with ``solve()``.
    """

    id: str
    label: str
    title: str
    objective: Objective
    needs_p: bool
    supports_budget: bool
    dense_cost: bool
    factory: Callable[..., Any]
    supports_places: bool = False

    def build(
        self,
        cost: Cost,
        weights: NDArray[np.float64],
        radius: float,
        p_total: int,
        fixed: NDArray[np.int_],
        time_limit: float,
        constraints: dict[str, Any],
    ) -> Any:
        """The model on a cost matrix, ready to ``solve()``."""
        return self.factory(cost, weights, radius, p_total, fixed, time_limit, constraints)


def _mclp(cost: Cost, w: NDArray[np.float64], r: float, p: int, fixed: Any, tl: float, kw: dict[str, Any]) -> Any:
    return MCLP.from_cost_matrix(cost, w, r, p, fixed=fixed, time_limit=tl, **kw)


def _lscp(cost: Cost, w: NDArray[np.float64], r: float, p: int, fixed: Any, tl: float, kw: dict[str, Any]) -> Any:
    return LSCP.from_cost_matrix(cost, r, fixed=fixed, time_limit=tl, **kw)


def _pmedian(cost: Cost, w: NDArray[np.float64], r: float, p: int, fixed: Any, tl: float, kw: dict[str, Any]) -> Any:
    return PMedian.from_cost_matrix(cost, w, p, fixed=fixed, time_limit=tl, **kw)


SITING_MODELS: dict[str, SitingModel] = {
    m.id: m
    for m in (
        SitingModel(
            "mclp",
            "Maximale Abdeckung (MCLP)",
            "Maximal-Coverage-Modell (MCLP): möglichst viel Nachfrage mit p Standorten abdecken",
            "coverage",
            needs_p=True,
            supports_budget=True,
            dense_cost=False,
            factory=_mclp,
            supports_places=True,
        ),
        SitingModel(
            "lscp",
            "Minimale Standortzahl für volle Abdeckung (LSCP)",
            "Set-Covering-Modell (LSCP): möglichst wenige Standorte, die alle erreichbare Nachfrage abdecken",
            "count",
            needs_p=False,
            supports_budget=False,
            dense_cost=False,
            factory=_lscp,
        ),
        SitingModel(
            "pmedian",
            "Minimale mittlere Entfernung (p-Median)",
            "p-Median-Modell: die nachfragegewichtete mittlere Entfernung mit p Standorten minimieren",
            "distance",
            needs_p=True,
            supports_budget=True,
            dense_cost=True,
            factory=_pmedian,
        ),
    )
}


def siting_model(model_id: str) -> SitingModel:
    """The declaration of ``model_id``.

    Raises
    ------
    DataError
        For an unknown model, listing the known ones.

    >>> siting_model("lscp").needs_p
    False
    """
    try:
        return SITING_MODELS[model_id]
    except KeyError:
        raise DataError(f"Modell »{model_id}« unbekannt: erlaubt sind {', '.join(SITING_MODELS)}.") from None
