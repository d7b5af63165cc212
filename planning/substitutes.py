"""Answers for the committee: for each new site the best substitute and how much must change before it flips.

For a plan ``S`` (a coverage model: a person counts once if any open site
reaches them), each new site ``j`` and each candidate ``k`` outside the plan:

- ``L_j``: demand only ``j`` reaches in the plan (lost if ``j`` closes and
  nothing replaces it);
- swapping ``j`` for ``k`` changes the plan's coverage by
  ``G_jk − L_j``, where ``G_jk`` is what ``k`` reaches that ``S − j`` does not;
  the **best substitute** is the ``k`` with the largest ``G_jk`` among the
  swaps the budget allows, and ``Δ_jk = L_j − G_jk`` what it would cost in
  people;
- **demand flip**: if the demand only ``j`` reaches fell by a share ``δ``,
  the swap with ``k`` would change coverage by ``G_jk(δ) − L_j(1 − δ)``, which
  reaches 0 at ``δ_jk = Δ_jk / (L_j − B_jk)`` (``B_jk``: the part of ``L_j``
  that ``k`` also reaches). The smallest ``δ_jk`` over all ``k`` is how far
  ``j``'s own demand may fall before *some* single swap is at least as good —
  exact for the comparison of ``S`` with every plan that differs in one site;
- **cost flip** (plans with a budget): coverage does not depend on cost, so
  ``j``'s yearly cost may rise by the budget's slack before the plan no
  longer fits; a candidate that would reach more but does not fit the budget
  must become cheaper by the amount it is over.

Everything is vectorised over sites and candidates; nothing here is spatial.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp
from numpy.typing import ArrayLike

from geo.errors import Problem, raise_if_problems
from geo.formatting import de_eur, de_int, de_pct

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class SiteMargin:
    """Why one new site stays in the plan, and what would change that.

    Attributes
    ----------
    site
        Candidate index of the site.
    exclusive
        ``L_j``: people only this site reaches in the plan.
    substitute
        Best candidate to replace it (``None``: no candidate outside the plan fits).
    substitute_reaches
        ``G_jk``: people the substitute would reach that the rest of the plan does not.
    loss
        ``Δ_jk = L_j − G_jk``: people the plan loses by the swap (negative: the swap gains).
    flip_share, flip_people
        How far the demand only this site reaches may fall (share of
        ``exclusive``, and people) before a single swap is at least as good;
        ``inf`` when no fall flips it.
    flip_to
        The candidate that ties first when that demand falls.
    cost_slack
        Euros the site's yearly cost may rise before the plan exceeds its budget
        (``None`` without a budget: cost does not decide).
    costly_better, costly_gain, costly_over
        A candidate that would reach more than this site (``costly_gain`` people
        more) but is ``costly_over`` euros too expensive for the budget; ``None`` if none.
    reason
        A German sentence for the committee.
    """

    site: int
    exclusive: float
    substitute: int | None
    substitute_reaches: float
    loss: float
    flip_share: float
    flip_people: float
    flip_to: int | None
    cost_slack: float | None
    costly_better: int | None
    costly_gain: float | None
    costly_over: float | None
    reason: str

    @property
    def is_tie(self) -> bool:
        """Whether the best substitute reaches as many people (to one person): coverage does not decide."""
        return self.substitute is not None and 0.0 <= self.loss < 0.5

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready dict (infinite values as ``None``), with ``tie`` (:attr:`is_tie`)."""
        out = dict(self.__dict__, tie=self.is_tie)
        for key in ("flip_share", "flip_people"):
            if not np.isfinite(out[key]):
                out[key] = None
        return out


def _name(names: Any, j: int | None) -> str:
    if j is None:
        return "–"
    return str(names[j]) if names is not None else f"Kandidat {j}"


def site_margins(
    selected: ArrayLike,
    coverage: Any,
    weights: ArrayLike,
    *,
    fixed: ArrayLike | None = None,
    site_cost: ArrayLike | None = None,
    budget: float | None = None,
    names: Any = None,
) -> tuple[SiteMargin, ...]:
    """Best substitute and flip margins of each new site of a coverage plan.

    Parameters
    ----------
    selected
        Candidate indices of the plan (fixed sites included or not).
    coverage
        Boolean ``n_demand × n_candidates`` reach (dense or sparse; see
        :func:`planning.explain.within_radius`).
    weights
        Demand (persons) per row.
    fixed
        Existing sites: always open, never analysed or substituted.
    site_cost, budget
        Cost per candidate and the plan's budget (both or neither): swaps
        must fit the budget, and the cost margins are reported.
    names
        Name per candidate (for the sentences), e.g. ``candidates["name"]``.

    Returns
    -------
    tuple of SiteMargin
        One per new site, in the order of ``selected``.

    Examples
    --------
    Site 0 alone reaches 10 people (7 of them also within reach of
    candidate 1, which reaches 2 others): swapping loses 10 − 9 = 1 person.
    If the 10 people only site 0 reaches became fewer by a third, both would
    reach 6⅔ – the decision flips at 33 %.

    >>> import numpy as np
    >>> cov = np.array([[1, 1], [1, 0], [0, 1]], dtype=bool)
    >>> m = site_margins([0], cov, [7, 3, 2])[0]
    >>> m.substitute, m.loss, round(m.flip_share, 4), round(m.flip_people, 2)
    (1, 1.0, 0.3333, 3.33)
    """
    a = sp.csc_array(coverage if sp.issparse(coverage) else np.asarray(coverage, dtype=bool), dtype=float)
    n, m = a.shape
    w = np.asarray(weights, dtype=float).ravel()
    problems = []
    if w.size != n:
        problems.append(Problem(f"{n} Matrixzeilen, aber {w.size} Gewichte."))
    if (budget is None) != (site_cost is None):
        problems.append(Problem("Budget und Kosten je Kandidat nur zusammen angeben."))
    cost = None if site_cost is None else np.asarray(site_cost, dtype=float).ravel()
    if cost is not None and cost.size != m:
        problems.append(Problem(f"{m} Kandidaten, aber {cost.size} Kosten."))
    raise_if_problems(problems, "Ersatzstandorte nicht berechenbar")
    fixed_idx = np.unique(np.asarray([] if fixed is None else fixed, dtype=np.int64))
    plan = np.unique(np.concatenate([np.asarray(selected, dtype=np.int64).ravel(), fixed_idx]))
    new = [int(j) for j in dict.fromkeys(np.asarray(selected, dtype=np.int64).ravel().tolist()) if j not in fixed_idx]
    in_plan = np.zeros(m, dtype=bool)
    in_plan[plan] = True
    cnt = a[:, plan] @ np.ones(plan.size)
    g0 = a.T @ (w * (cnt == 0))  # what each candidate adds to the full plan
    single = w * (cnt == 1)
    slack = None if budget is None or cost is None else float(budget - cost[plan].sum())
    out = []
    if not new:
        return ()
    newi = np.array(new, dtype=np.int64)
    excl = a[:, newi].T @ single  # L_j
    both = (sp.csr_array(a[:, newi].T) @ sp.diags_array(single) @ a).toarray()  # B_jk
    gain = g0[None, :] + both  # G_jk
    outside = ~in_plan
    fits = np.broadcast_to(outside, gain.shape).copy()
    if slack is not None and cost is not None:
        fits &= cost[None, :] <= cost[newi][:, None] + slack + 1e-9
    for r, j in enumerate(new):
        row_gain = np.where(fits[r], gain[r], -np.inf)
        k = int(np.argmax(row_gain)) if np.isfinite(row_gain).any() else None
        loss = float(excl[r] - gain[r, k]) if k is not None else float(excl[r])
        flip_share, flip_to = np.inf, None
        denom = excl[r] - both[r]
        delta = excl[r] - gain[r]
        ok = fits[r] & (denom > 1e-12)
        # k also reaches everyone only j reaches and adds nobody (B_jk = L_j, Δ_jk = 0): tied at any demand
        tied = fits[r] & ~ok & (delta <= 1e-9)
        if ok.any() or tied.any():
            shares = np.where(ok, np.maximum(delta, 0.0) / np.where(ok, denom, 1.0), np.inf)
            shares[tied] = 0.0
            flip_to = int(np.argmin(shares))
            flip_share = float(shares[flip_to])
            if flip_share > 1.0 + 1e-12:  # even losing all of j's own demand would not flip it
                flip_share, flip_to = np.inf, None
        costly = None
        if cost is not None and slack is not None:
            better = outside & (gain[r] > excl[r] + 1e-9) & ~fits[r]
            if better.any():
                c = int(np.argmax(np.where(better, gain[r], -np.inf)))
                costly = (c, float(gain[r, c] - excl[r]), float(cost[c] - cost[j] - slack))
        margin = SiteMargin(
            site=j,
            exclusive=float(excl[r]),
            substitute=k,
            substitute_reaches=float(gain[r, k]) if k is not None else 0.0,
            loss=loss,
            flip_share=flip_share,
            flip_people=flip_share * float(excl[r]) if np.isfinite(flip_share) else np.inf,
            flip_to=flip_to,
            cost_slack=slack,
            costly_better=None if costly is None else costly[0],
            costly_gain=None if costly is None else costly[1],
            costly_over=None if costly is None else costly[2],
            reason="",
        )
        out.append(_with_reason(margin, names))
    return tuple(out)


def _with_reason(mg: SiteMargin, names: Any) -> SiteMargin:
    """The German sentence for the committee."""
    site = _name(names, mg.site)
    parts = [f"{site} erreicht {de_int(mg.exclusive)} Personen, die kein anderer Standort des Plans erreicht"]
    if mg.substitute is None:
        parts.append("kein Kandidat außerhalb des Plans kommt als Ersatz in Frage (Budget)")
    elif mg.is_tie:
        parts.append(
            f"der beste Ersatz, {_name(names, mg.substitute)}, erreicht gleich viele Personen (auf eine Person "
            "genau): für die Versorgung sind beide gleichwertig, die Wahl zwischen ihnen entscheiden andere Gründe"
        )
    elif mg.loss >= 0:
        parts.append(f"der beste Ersatz wäre {_name(names, mg.substitute)} mit {de_int(mg.loss)} Personen weniger")
    else:  # nothing to flip: the plan is not optimal for this demand alone (robust over variants, or cut off)
        parts.append(
            f"{_name(names, mg.substitute)} würde in dieser Nachfrage {de_int(-mg.loss)} Personen mehr erreichen; "
            "der Plan ist nicht für sie allein optimiert (robust über Varianten geplant oder im Zeitlimit gelöst)"
        )
    swap_better = mg.substitute is not None and mg.loss < 0
    if mg.is_tie:
        pass  # nothing left to flip
    elif not swap_better and np.isfinite(mg.flip_share) and mg.flip_to is not None:
        parts.append(
            f"die Entscheidung kippt erst, wenn diese Nachfrage um {de_pct(mg.flip_share, 0, fraction=True)} "
            f"({de_int(mg.flip_people)} Personen) sinkt – dann ist {_name(names, mg.flip_to)} gleichwertig"
        )
    elif not swap_better:
        parts.append("selbst ohne diese Nachfrage bliebe kein einzelner Tausch besser")
    text = "; ".join(parts)
    if mg.cost_slack is not None:
        if mg.cost_slack >= 0.5:
            text += f". Die jährlichen Kosten dürfen um bis zu {de_eur(mg.cost_slack)} steigen, bevor das Budget reißt"
        else:
            text += ". Das Budget ist ausgeschöpft: jede Kostensteigerung erzwingt einen anderen Plan"
        if mg.costly_better is not None and mg.costly_gain is not None and mg.costly_over is not None:
            text += (
                f"; {_name(names, mg.costly_better)} erreichte {de_int(mg.costly_gain)} Personen mehr, "
                f"müsste dafür aber {de_eur(mg.costly_over)} günstiger sein"
            )
    return SiteMargin(**{**mg.__dict__, "reason": text + "."})


def margins_table(margins: tuple[SiteMargin, ...]) -> pd.DataFrame:
    """One row per site (the :class:`SiteMargin` fields), for tables and exports."""
    return pd.DataFrame([mg.__dict__ for mg in margins])
