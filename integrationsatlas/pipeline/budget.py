"""Step: what new sites cost and who pays, euros per newly reached person, and the budget frontier.

The costs of a siting request (:class:`~integrationsatlas.request.SitingSpec`)
come, per candidate, from its columns (``cost_column`` for the yearly cost,
``one_off_column``), else from the council's figures for its site type
(``cost_by_type``, keyed by the candidates' ``source``), else from the uniform
defaults (``default_site_cost``, ``default_one_off``). Nothing is built in: the
figures are the council's. A funding programme
(:data:`planning.costs.PROGRAMMES`, its figures editable with
``programme_figures``) splits the yearly cost into the Land's and the municipal
share. The budget and the frontier count the cost on the request's basis
(yearly, one-off, or yearly with the one-off spread over years).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
from numpy.typing import NDArray

from geo.formatting import de_eur, de_int, de_number
from integrationsatlas.request import SitingSpec
from planning.costs import (
    PROGRAMMES,
    CostBasis,
    CostDefault,
    CostSummary,
    FundingProgramme,
    SiteCosts,
    cost_basis,
    cost_summary,
    site_costs,
)
from planning.frontier import BudgetFrontier, budget_frontier

logger = logging.getLogger(__name__)

#: Type column of the candidates the costs per site type are keyed by.
SITE_TYPE_COLUMN = "source"


@dataclass(frozen=True, eq=False)
class SiteBudget:
    """The costs of the candidates of a plan, the basis a budget counts and the programme that pays a part.

    Parameters
    ----------
    costs
        One-off and yearly costs per candidate (in candidate order; existing
        sites cost nothing new).
    basis
        What the budget and the frontier count.
    programme
        The funding programme with the council's figures (``None``: the
        municipality pays all).
    """

    costs: SiteCosts
    basis: CostBasis
    programme: FundingProgramme | None

    @property
    def site_cost(self) -> NDArray[np.float64]:
        """Cost of each candidate on :attr:`basis` (the budget's unit)."""
        return self.basis.of(self.costs)


def programme_of(spec: SitingSpec) -> FundingProgramme | None:
    """The request's funding programme with the council's figures (``None`` without one).

    >>> from integrationsatlas.request import SitingSpec
    >>> programme_of(SitingSpec(programme="kim", programme_figures=(("cap_per_post", 60000.0),))).cap_per_post
    60000.0
    """
    if spec.programme is None:
        return None
    return PROGRAMMES[spec.programme].with_figures(dict(spec.programme_figures))


def candidate_costs(
    candidates: gpd.GeoDataFrame, spec: SitingSpec
) -> tuple[gpd.GeoDataFrame, SiteBudget | None, list[str]]:
    """The costs of every candidate; new candidates without a yearly cost are left out.

    Parameters
    ----------
    candidates
        The candidates (``site_cost`` and ``site_one_off`` from their
        columns, ``source``, ``fixed``), fixed first.
    spec
        The siting part of the request.

    Returns
    -------
    tuple
        The candidates kept (``site_cost``: yearly, ``site_one_off``:
        one-off, ``cost_origin``: where the figure comes from), their
        :class:`SiteBudget` (``None`` when the request gives no costs) and
        German notes.
    """
    if not spec.has_costs:
        return candidates, None, []
    defaults: dict[str, CostDefault] = {
        str(kind): CostDefault(one_off, yearly) for kind, yearly, one_off in spec.cost_by_type
    }
    types = candidates[SITE_TYPE_COLUMN].astype("string").fillna("").to_numpy(dtype=object)
    if spec.default_site_cost is not None:  # the uniform default covers every other site type
        uniform = CostDefault(spec.default_one_off or 0.0, spec.default_site_cost)
        defaults |= {str(kind): uniform for kind in set(types) if kind not in defaults}
    fixed = candidates["fixed"].to_numpy(dtype=bool)
    yearly = candidates["site_cost"].to_numpy(dtype=float).copy()
    one_off = candidates["site_one_off"].to_numpy(dtype=float).copy()
    yearly[fixed] = 0.0  # existing sites: no new cost, whatever a column says (their cost is no decision)
    one_off[fixed] = 0.0
    known = np.isfinite(yearly) | np.array([kind in defaults for kind in types], dtype=bool)
    notes = []
    if (~known).any():
        kinds = ", ".join(sorted({str(k) for k in types[~known]}))
        notes.append(
            f"{int((~known).sum())} Kandidat(en) ohne jährliche Kosten ({kinds}) bleiben unberücksichtigt: "
            f"Kosten in der Spalte »{spec.cost_column}« oder eine Vorgabe für ihren Standorttyp angeben."
        )
    if spec.default_one_off is None and spec.one_off_column is None and not spec.cost_by_type:
        notes.append("Ohne Angabe einmaliger Kosten werden sie mit 0 € gerechnet.")
    kept = candidates.assign(site_cost=yearly, site_one_off=one_off)[known].reset_index(drop=True)
    costs = site_costs(
        kept, yearly_col="site_cost", one_off_col="site_one_off", type_col=SITE_TYPE_COLUMN, defaults=defaults
    )
    origin = np.where(kept["fixed"].to_numpy(dtype=bool), "bestehend", np.asarray(costs.origin, dtype=object))
    kept = kept.assign(site_cost=costs.yearly, site_one_off=costs.one_off, cost_origin=origin)
    budget = SiteBudget(costs, cost_basis(spec.cost_basis, spec.annualise_years), programme_of(spec))
    return kept, budget, notes


def plan_costs(
    budget: SiteBudget,
    order: NDArray[np.int_],
    coverage: Any,
    population: NDArray[np.float64],
    target: NDArray[np.float64] | None,
    fixed: NDArray[np.int_],
) -> CostSummary:
    """Costs, shares and euros per newly reached person (and target-group person) of the plan's new sites.

    ``order`` are the new sites in their explanation order; ``coverage`` the
    boolean demand × candidate reach at the threshold; ``population`` the
    people and ``target`` the target-group people per demand row (``None``
    when the target group is everyone).
    """
    return cost_summary(
        order, budget.costs, coverage, population, fixed=fixed, target_weights=target, programme=budget.programme
    )


def plan_frontier(
    budget: SiteBudget,
    cost: Any,
    weights: NDArray[np.float64],
    radius: float,
    fixed: NDArray[np.int_],
    spec: SitingSpec,
    progress: Callable[[float, str], None] | None = None,
    plan_cost: float | None = None,
) -> BudgetFrontier:
    """People reached against budget on the request's cost basis, each point an exact budget MCLP.

    The frontier has no minimum per Gemeinde (it asks only what money buys);
    its time limit is the request's, for all points together. With
    ``plan_cost`` (what the plan's new sites cost) that budget is one of its
    points, so a plan never lies above the frontier.
    """
    return budget_frontier(
        cost,
        weights,
        radius,
        budget.site_cost,
        n_points=spec.frontier_points,
        fixed=fixed,
        cost_label=budget.basis.label,
        time_limit=spec.time_limit,
        progress=progress,
        also=None if plan_cost is None or plan_cost <= 0 else [plan_cost],
    )


def cost_lines(summary: CostSummary, target_label: str | None = None) -> list[tuple[str, str]]:
    """The cost figures of a plan in plain German, as ``(label, value)`` lines (CLI, page, report).

    >>> import pandas as pd
    >>> s = CostSummary((3,), 10_000.0, 50_000.0, 45_000.0, 5_000.0, 250.0, None, 200.0, None, 20.0, "kim",
    ...                 pd.DataFrame())
    >>> cost_lines(s)[2]
    ('Euro je neu erreichter Person und Jahr', '200 €')
    """
    programme = PROGRAMMES.get(summary.programme) if summary.programme else None
    lines = [
        ("Jährliche Kosten der neuen Standorte", de_eur(summary.yearly_total)),
        ("Einmalige Kosten der neuen Standorte", de_eur(summary.one_off_total)),
        ("Euro je neu erreichter Person und Jahr", eur_text(summary.eur_per_newly_reached)),
        ("Neu erreichte Personen", de_int(summary.newly_reached)),
    ]
    if summary.eur_per_newly_reached_target is not None:
        who = target_label or "Zielgruppe"
        lines.append(
            (f"Euro je neu erreichter Person der Zielgruppe ({who})", eur_text(summary.eur_per_newly_reached_target))
        )
    if programme is not None:
        lines += [
            (f"Landesanteil im Jahr ({programme.label})", de_eur(summary.land_yearly)),
            ("Kommunaler Anteil im Jahr", de_eur(summary.municipal_yearly)),
            ("Kommunale Euro je neu erreichter Person und Jahr", eur_text(summary.municipal_eur_per_newly_reached)),
        ]
    else:
        lines.append(("Kommunaler Anteil im Jahr (ohne Förderprogramm)", de_eur(summary.municipal_yearly)))
    return lines


def eur_text(value: float | None) -> str:
    """Euros per person: whole euros from 100 €, else with cents; ``–`` when undefined.

    >>> eur_text(12.2984), eur_text(1234.5), eur_text(float("nan"))
    ('12,30 €', '1.234 €', '–')
    """
    if value is None or not np.isfinite(value):
        return "–"
    return de_eur(value) if value >= 100 else f"{de_number(value, 2)} €"
