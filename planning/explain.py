"""Why here? Explanations, before/after coverage and sensitivity of a siting plan.

An exact solver returns a *set* of sites. To explain it to a council, this
module orders the new sites greedily: starting from the coverage of the
fixed (existing) sites, the next site is always the selected one that adds
the most demand. For each step it reports

- the marginal gain (demand newly covered, or for p-median the reduction of
  the demand-weighted cost);
- which Gemeinden benefit, with the newly covered weight;
- the runner-ups: the best candidates *not* in the plan, with the gain they
  would have brought if added at that step instead.

For the whole plan it reports coverage before (fixed sites only) and after,
overall and per Kreis and Gemeinde, and :func:`sensitivity` re-solves a model
across ``p`` and radius for the coverage-vs-p curve.

Everything takes plain arrays and frames; nothing here knows the solver.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final, Protocol

import numpy as np
import pandas as pd
import scipy.sparse as sp
from numpy.typing import ArrayLike, NDArray

from geo.errors import DataError, InfeasibleError
from geo.formatting import de_int, de_number, de_share

logger = logging.getLogger(__name__)

#: Label for demand without a known Gemeinde/Kreis.
UNKNOWN_UNIT: Final = "unbekannt"


class HasSelected(Protocol):
    """Anything with the sorted candidate indices of a solution (a ``SitingResult``)."""

    @property
    def selected(self) -> NDArray[np.int_]: ...


class SolvableModel(Protocol):
    """A siting model in the shape of spopt: ``solve()`` returns a result."""

    def solve(self) -> Any: ...


@dataclass(frozen=True, eq=False)
class SiteExplanation:
    """Why one selected site was chosen.

    Parameters
    ----------
    rank
        1-based position in the greedy selection order.
    candidate_index
        Row of the site in the candidate frame / cost matrix column.
    candidate_id, name, source, gemeinde_ags
        Identification of the site.
    gain
        Demand weight newly covered by this site at its step.
    gain_share
        ``gain`` as a share of the total demand weight.
    share_after
        Covered share of the total demand after this step (cumulative).
    cost_reduction
        Reduction of the demand-weighted cost at this step (p-median only,
        otherwise ``None``).
    benefiting
        Newly covered weight per Gemeinde: columns ``gemeinde_ags``,
        ``weight``, descending.
    runner_ups
        Best candidates not in the plan at this step: columns
        ``candidate_index``, ``candidate_id``, ``name``, ``source``, ``gain``
        (and ``cost_reduction`` for p-median).
    reason
        A German sentence for reports.
    gemeinde
        Name of the site's Gemeinde (the AGS when no name is known).
    """

    rank: int
    candidate_index: int
    candidate_id: str
    name: str
    source: str
    gemeinde_ags: str | None
    gain: float
    gain_share: float
    share_after: float
    cost_reduction: float | None
    benefiting: pd.DataFrame
    runner_ups: pd.DataFrame
    reason: str
    gemeinde: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """A JSON-friendly dict (tables as lists of records)."""
        return {
            "rank": self.rank,
            "candidate_index": self.candidate_index,
            "candidate_id": self.candidate_id,
            "name": self.name,
            "source": self.source,
            "gemeinde_ags": self.gemeinde_ags,
            "gemeinde": self.gemeinde,
            "gain": self.gain,
            "gain_share": self.gain_share,
            "share_after": self.share_after,
            "cost_reduction": self.cost_reduction,
            "benefiting": self.benefiting.to_dict(orient="records"),
            "runner_ups": self.runner_ups.to_dict(orient="records"),
            "reason": self.reason,
        }


@dataclass(frozen=True, eq=False)
class SolutionExplanation:
    """Explanation of a whole plan: the sites in order and coverage before/after.

    Parameters
    ----------
    sites
        One :class:`SiteExplanation` per new site, in selection order.
    fixed
        Candidate indices of the fixed (existing) sites.
    total_weight
        Total demand weight.
    covered_before, covered_after
        Covered demand weight with the fixed sites only, and with the plan.
    share_before, share_after
        The same as shares of ``total_weight`` (NaN without demand).
    by_kreis, by_gemeinde
        Coverage tables per unit (see :func:`coverage_table`).
    cost_before, cost_after
        Demand-weighted cost before/after (p-median only, else ``None``).
    """

    sites: tuple[SiteExplanation, ...]
    fixed: tuple[int, ...]
    total_weight: float
    covered_before: float
    covered_after: float
    share_before: float
    share_after: float
    by_kreis: pd.DataFrame
    by_gemeinde: pd.DataFrame
    cost_before: float | None = None
    cost_after: float | None = None

    @property
    def order(self) -> NDArray[np.int_]:
        """Candidate indices of the new sites in selection order."""
        return np.array([s.candidate_index for s in self.sites], dtype=int)

    def sites_table(self) -> pd.DataFrame:
        """One row per new site: rank, ids, gain, shares and the reason."""
        cols = [
            "rank",
            "candidate_index",
            "candidate_id",
            "name",
            "source",
            "gemeinde_ags",
            "gemeinde",
            "gain",
            "gain_share",
            "share_after",
            "cost_reduction",
            "reason",
        ]
        return pd.DataFrame([{c: getattr(s, c) for c in cols} for s in self.sites], columns=cols)


def within_radius(cost: ArrayLike | sp.sparray | sp.spmatrix, radius: float) -> sp.csc_array:
    """Boolean coverage matrix: demand ``i`` is covered by candidate ``j`` if ``cost[i, j] <= radius``.

    Parameters
    ----------
    cost
        ``n_demand × n_candidates`` costs, dense (NaN/inf = unreachable) or
        sparse. In a sparse matrix only *stored* entries count as reachable,
        including explicit zeros (a demand point on top of a candidate).
    radius
        Service radius in the unit of ``cost``.

    Returns
    -------
    scipy.sparse.csc_array
        Boolean, same shape as ``cost``.

    Examples
    --------
    >>> import numpy as np
    >>> within_radius(np.array([[0.0, 5.0], [np.inf, 1.0]]), 2.0).toarray()
    array([[ True, False],
           [False,  True]])
    """
    if sp.issparse(cost):
        coo = sp.coo_array(cost)
        keep = np.isfinite(coo.data) & (coo.data <= radius)
        return sp.csc_array((np.ones(int(keep.sum()), dtype=bool), (coo.row[keep], coo.col[keep])), shape=coo.shape)
    dense = np.asarray(cost, dtype=float)
    with np.errstate(invalid="ignore"):
        return sp.csc_array(np.isfinite(dense) & (dense <= radius))


def _units(demand: pd.DataFrame, column: str) -> pd.Series:
    """Unit codes of the demand points, ``unbekannt`` where unknown."""
    if column not in demand.columns:
        return pd.Series(UNKNOWN_UNIT, index=demand.index, dtype="string")
    return demand[column].astype("string").fillna(UNKNOWN_UNIT)


def coverage_table(
    units: pd.Series,
    weights: ArrayLike,
    covered_before: ArrayLike,
    covered_after: ArrayLike,
    *,
    name: str = "ags",
) -> pd.DataFrame:
    """Covered demand per unit, before and after.

    Parameters
    ----------
    units
        Unit code (AGS) per demand point.
    weights
        Demand weight per point.
    covered_before, covered_after
        Boolean coverage per point with the fixed sites only and with the plan.
    name
        Name of the unit column in the result.

    Returns
    -------
    pandas.DataFrame
        Columns ``name``, ``demand``, ``covered_before``, ``covered_after``,
        ``share_before``, ``share_after``, ``change`` (percentage points as
        a share difference) and ``no_demand``. Units without demand get NaN
        shares and ``no_demand=True`` – neither 0 % nor 100 %.

    Examples
    --------
    >>> import pandas as pd
    >>> t = coverage_table(pd.Series(["a", "a", "b"]), [1.0, 3.0, 0.0],
    ...                    [True, False, False], [True, True, False])
    >>> t[["ags", "share_before", "share_after"]].to_string(index=False)
    'ags  share_before  share_after\\n  a          0.25          1.0\\n  b           NaN          NaN'
    """
    w = np.asarray(weights, dtype=float)
    before = np.asarray(covered_before, dtype=bool)
    after = np.asarray(covered_after, dtype=bool)
    frame = pd.DataFrame(
        {
            name: np.asarray(units.astype("string").fillna(UNKNOWN_UNIT), dtype=object),
            "demand": w,
            "covered_before": w * before,
            "covered_after": w * after,
        }
    )
    table = frame.groupby(name, sort=True).sum().reset_index()
    no_demand = table["demand"].to_numpy() <= 0
    with np.errstate(invalid="ignore", divide="ignore"):
        table["share_before"] = np.where(no_demand, np.nan, table["covered_before"] / table["demand"])
        table["share_after"] = np.where(no_demand, np.nan, table["covered_after"] / table["demand"])
    table["change"] = table["share_after"] - table["share_before"]
    table["no_demand"] = no_demand
    return table


def explain_solution(
    result: HasSelected | Sequence[int],
    coverage: ArrayLike | sp.sparray | sp.spmatrix,
    weights: ArrayLike,
    demand: pd.DataFrame,
    candidates: pd.DataFrame,
    *,
    fixed: Sequence[int] | NDArray[np.int_] | None = None,
    cost: ArrayLike | None = None,
    top_k: int = 3,
    gemeinde_names: Mapping[str, str] | None = None,
    cost_unit: tuple[str, float] = ("", 1.0),
) -> SolutionExplanation:
    """Explain a siting solution step by step and as a whole.

    Parameters
    ----------
    result
        The solution: a ``SitingResult`` (its ``selected``) or the candidate
        indices directly.
    coverage
        Boolean ``n_demand × n_candidates`` coverage matrix (see
        :func:`within_radius`), dense or sparse.
    weights
        Demand weight per row of ``coverage``.
    demand
        Demand points in the row order of ``coverage``; ``gemeinde_ags`` and
        ``kreis_ags`` are used when present.
    candidates
        Candidates in the column order of ``coverage``; ``candidate_id``,
        ``name``, ``source``, ``gemeinde_ags`` and ``fixed`` are used when
        present.
    fixed
        Candidate indices of fixed sites; default: where ``candidates.fixed``.
    cost
        Dense ``n_demand × n_candidates`` cost (p-median). When given, the
        selection order and the runner-ups follow the reduction of the
        demand-weighted cost instead of the covered weight.
    top_k
        Number of runner-ups per step.
    gemeinde_names
        AGS → name, for the German ``reason`` sentences.
    cost_unit
        Unit label and divisor for costs in the ``reason`` sentences, e.g.
        ``("km", 1000.0)`` for a cost in metres.

    Returns
    -------
    SolutionExplanation

    Raises
    ------
    DataError
        If the shapes of the inputs do not match.

    Notes
    -----
    The order is greedy over the *chosen* sites; it does not change the
    (optimal) set. The loop runs once per new site, each step vectorised over
    all demand points and candidates.
    """
    selected = np.unique(np.asarray(getattr(result, "selected", result), dtype=int))
    A = sp.csc_array(coverage if sp.issparse(coverage) else np.asarray(coverage, dtype=bool), dtype=float)
    n_demand, n_cand = A.shape
    w = np.asarray(weights, dtype=float)
    _check_shapes(A.shape, w, demand, candidates, cost)
    if fixed is None:
        fixed_mask = (
            candidates["fixed"].to_numpy(dtype=bool) if "fixed" in candidates.columns else np.zeros(n_cand, dtype=bool)
        )
    else:
        fixed_mask = np.zeros(n_cand, dtype=bool)
        fixed_mask[np.asarray(fixed, dtype=int)] = True
    fixed_idx = np.flatnonzero(fixed_mask)
    in_plan = np.zeros(n_cand, dtype=bool)
    in_plan[selected] = True
    in_plan |= fixed_mask
    new = [int(j) for j in selected if not fixed_mask[j]]

    total = float(w.sum())
    covered = (A[:, fixed_idx] @ np.ones(len(fixed_idx))) > 0 if len(fixed_idx) else np.zeros(n_demand, bool)
    covered_before = covered.copy()
    C = None if cost is None else np.asarray(cost, dtype=float)
    best = _current_cost(C, fixed_idx)
    cost_before = None if C is None else _weighted(best, w)
    gemeinde = _units(demand, "gemeinde_ags")
    names = dict(gemeinde_names or {})

    sites: list[SiteExplanation] = []
    remaining = list(new)
    for rank in range(1, len(new) + 1):
        uncovered_w = w * ~covered
        gains = A.T @ uncovered_w
        from_nothing = C is not None and bool(np.isinf(best).all())
        reductions = None if C is None else _reductions(C, best, w)
        score = gains if reductions is None else reductions
        pick = max(remaining, key=lambda j: (score[j], -j))
        remaining.remove(pick)
        newly = (A[:, [pick]].toarray().ravel() > 0) & ~covered
        benefiting = (
            pd.DataFrame({"gemeinde_ags": np.asarray(gemeinde, dtype=object)[newly], "weight": w[newly]})
            .groupby("gemeinde_ags", sort=False)["weight"]
            .sum()
            .sort_values(ascending=False, kind="stable")
            .reset_index()
        )
        benefiting.insert(1, "gemeinde", [names.get(str(a), str(a)) for a in benefiting["gemeinde_ags"]])
        runner = _runner_ups(score, gains, None if from_nothing else reductions, in_plan, candidates, top_k)
        if from_nothing:  # no site open yet: a "reduction" is not defined
            runner["cost_reduction"] = np.nan
        covered = covered | newly
        gain = float(gains[pick])
        reduction = None if reductions is None or from_nothing else float(reductions[pick])
        if C is not None:
            best = np.minimum(best, C[:, pick])
        site = _candidate_fields(candidates, pick)
        share_after = float(w[covered].sum() / total) if total > 0 else float("nan")
        sites.append(
            SiteExplanation(
                rank=rank,
                candidate_index=pick,
                **site,
                gain=gain,
                gain_share=gain / total if total > 0 else float("nan"),
                share_after=share_after,
                cost_reduction=reduction,
                benefiting=benefiting,
                runner_ups=runner,
                reason=_reason(rank, site["name"], gain, total, benefiting, runner, names, reduction, cost_unit),
                gemeinde=None
                if site["gemeinde_ags"] is None
                else names.get(site["gemeinde_ags"], site["gemeinde_ags"]),
            )
        )

    by_kreis = coverage_table(_units(demand, "kreis_ags"), w, covered_before, covered, name="kreis_ags")
    by_gemeinde = coverage_table(gemeinde, w, covered_before, covered, name="gemeinde_ags")
    by_gemeinde = _add_site_counts(by_gemeinde, candidates, fixed_idx, np.asarray(new, dtype=int))
    return SolutionExplanation(
        sites=tuple(sites),
        fixed=tuple(int(j) for j in fixed_idx),
        total_weight=total,
        covered_before=float(w[covered_before].sum()),
        covered_after=float(w[covered].sum()),
        share_before=float(w[covered_before].sum() / total) if total > 0 else float("nan"),
        share_after=float(w[covered].sum() / total) if total > 0 else float("nan"),
        by_kreis=by_kreis,
        by_gemeinde=by_gemeinde,
        cost_before=cost_before,
        cost_after=None if C is None else _weighted(best, w),
    )


def _check_shapes(
    shape: tuple[int, int],
    w: NDArray[np.float64],
    demand: pd.DataFrame,
    candidates: pd.DataFrame,
    cost: ArrayLike | None,
) -> None:
    problems = []
    if len(w) != shape[0] or len(demand) != shape[0]:
        problems.append(f"{shape[0]} Matrixzeilen, aber {len(w)} Gewichte und {len(demand)} Nachfragepunkte")
    if len(candidates) != shape[1]:
        problems.append(f"{shape[1]} Matrixspalten, aber {len(candidates)} Kandidaten")
    if cost is not None and np.shape(cost) != shape:
        problems.append(f"Kostenmatrix {np.shape(cost)} passt nicht zur Abdeckungsmatrix {shape}")
    if problems:
        raise DataError("Erklärung nicht möglich: " + "; ".join(problems) + ".")


def _current_cost(C: NDArray[np.float64] | None, fixed_idx: NDArray[np.int_]) -> NDArray[np.float64]:
    """Cost of each demand point to its nearest open site (inf without sites)."""
    if C is None:
        return np.empty(0)
    if len(fixed_idx) == 0:
        return np.full(C.shape[0], np.inf)
    return C[:, fixed_idx].min(axis=1)


def _weighted(best: NDArray[np.float64], w: NDArray[np.float64]) -> float | None:
    """Demand-weighted cost, ``None`` while some demand has no site at all."""
    if not np.isfinite(best).all():
        return None
    return float(w @ best)


def _reductions(C: NDArray[np.float64], best: NDArray[np.float64], w: NDArray[np.float64]) -> NDArray[np.float64]:
    """Reduction of the weighted cost if each candidate were added now.

    Without any open site the "reduction" is the negative weighted cost of the
    candidate alone, so that the cheapest single site ranks first.
    """
    if np.isinf(best).all():
        return -(w @ C)
    improvement = np.maximum(best[:, None] - C, 0.0)
    improvement[~np.isfinite(improvement)] = 0.0
    return w @ improvement


def _runner_ups(
    score: NDArray[np.float64],
    gains: NDArray[np.float64],
    reductions: NDArray[np.float64] | None,
    in_plan: NDArray[np.bool_],
    candidates: pd.DataFrame,
    top_k: int,
) -> pd.DataFrame:
    """The ``top_k`` candidates outside the plan with the best score at this step."""
    outside = np.flatnonzero(~in_plan)
    order = outside[np.lexsort((outside, -score[outside]))][:top_k]
    table = pd.DataFrame({"candidate_index": order})
    for col in ("candidate_id", "name", "source"):
        table[col] = (
            candidates[col].to_numpy(dtype=object)[order] if col in candidates.columns else [str(j) for j in order]
        )
    table["gain"] = gains[order]
    if reductions is not None:
        table["cost_reduction"] = reductions[order]
    return table


def _candidate_fields(candidates: pd.DataFrame, j: int) -> dict[str, Any]:
    def get(col: str, default: Any) -> Any:
        if col not in candidates.columns:
            return default
        value = candidates[col].iloc[j]
        return default if pd.isna(value) else str(value)

    return {
        "candidate_id": get("candidate_id", str(j)),
        "name": get("name", f"Kandidat {j}"),
        "source": get("source", ""),
        "gemeinde_ags": get("gemeinde_ags", None),
    }


def _per_person(value: float, total: float, unit: tuple[str, float]) -> str:
    """A weighted cost as a mean per person in German notation, e.g. '1,3 km'."""
    label, divisor = unit
    mean = value / total / divisor if total > 0 else float("nan")
    return de_number(mean, 1) + (f" {label}" if label else "")


def _reason(
    rank: int,
    name: str,
    gain: float,
    total: float,
    benefiting: pd.DataFrame,
    runner: pd.DataFrame,
    names: Mapping[str, str],
    reduction: float | None,
    unit: tuple[str, float] = ("", 1.0),
) -> str:
    """One German sentence: what this site adds and how it compares to the next best."""
    share = f" ({de_share(gain / total, 1)})" if total > 0 else ""
    text = f"{rank}. {name}: erreicht zusätzlich {de_int(gain)} Personen{share}"
    top = [names.get(a, a) for a in benefiting["gemeinde_ags"].head(2) if a != UNKNOWN_UNIT]
    if top:
        text += ", vor allem in " + " und ".join(top)
    if reduction is not None and np.isfinite(reduction) and reduction > 0:
        text += f"; senkt den mittleren Weg je Person um {_per_person(reduction, total, unit)}"
    if len(runner) and reduction is not None:
        best = runner.iloc[0]
        alt = float(best["cost_reduction"])
        text += (
            f". Beste Alternative als {rank}. Standort der Reihenfolge: {best['name']} mit "
            f"{_per_person(alt, total, unit)} weniger Weg je Person"
        )
    elif len(runner) and "cost_reduction" not in runner.columns:
        best = runner.iloc[0]
        alt = float(best["gain"])
        if alt > gain:
            # the plan is chosen as a whole: a candidate may reach more on its own
            # but overlap more with the other sites of the plan
            text += (
                f". {best['name']} erreichte als {rank}. Standort für sich mehr ({de_int(alt)} Personen),"
                " zusammen mit den übrigen Standorten ist der gewählte Plan aber besser"
            )
        else:
            text += (
                f". Beste Alternative als {rank}. Standort der Reihenfolge: {best['name']} mit {de_int(alt)} Personen"
                f" ({de_int(gain - alt)} weniger)"
            )
    return text + "."


def _add_site_counts(
    table: pd.DataFrame, candidates: pd.DataFrame, fixed_idx: NDArray[np.int_], new_idx: NDArray[np.int_]
) -> pd.DataFrame:
    """Add ``sites_fixed`` and ``sites_new`` per Gemeinde (units with sites but no demand included)."""
    ags = _units(candidates, "gemeinde_ags").to_numpy(dtype=object)
    counts = pd.DataFrame(
        {
            "gemeinde_ags": np.concatenate([ags[fixed_idx], ags[new_idx]]),
            "kind": ["sites_fixed"] * len(fixed_idx) + ["sites_new"] * len(new_idx),
        }
    )
    pivot = pd.crosstab(counts["gemeinde_ags"], counts["kind"]).reindex(
        columns=["sites_fixed", "sites_new"], fill_value=0
    )
    pivot.columns.name = None
    merged = table.merge(pivot, how="outer", left_on="gemeinde_ags", right_index=True)
    merged[["sites_fixed", "sites_new"]] = merged[["sites_fixed", "sites_new"]].fillna(0).astype(int)
    for col in ("demand", "covered_before", "covered_after"):
        merged[col] = merged[col].fillna(0.0)
    merged["no_demand"] = merged["demand"] <= 0
    return merged.sort_values("gemeinde_ags", kind="stable").reset_index(drop=True)


def sensitivity(
    model_factory: Callable[[int, float], SolvableModel],
    ps: Sequence[int],
    radii: Sequence[float],
    *,
    coverage: Callable[[NDArray[np.int_], float], float] | None = None,
) -> pd.DataFrame:
    """Re-solve a model across ``p`` and radius: the coverage-vs-p curve.

    Parameters
    ----------
    model_factory
        ``(p, radius) -> model``; the model's ``solve()`` returns a result with
        ``selected``, ``objective``, ``gap`` and ``status``.
    ps
        Values of ``p`` (as the factory understands them).
    radii
        Service radii or travel times, in the unit of the model's cost.
    coverage
        Optional ``(selected, radius) -> covered share``; fills
        ``covered_share`` (e.g. for p-median, whose objective is a cost).

    Returns
    -------
    pandas.DataFrame
        One row per (radius, p): ``radius``, ``p``, ``objective``, ``gap``,
        ``status``, ``seconds``, ``n_selected``, ``covered_share`` and
        ``marginal`` (change of ``covered_share`` against the previous ``p``
        at the same radius – the return of each extra site). Infeasible
        combinations get status ``unzulässig`` and NaN values.
    """
    rows = []
    for radius in radii:
        for p in sorted({int(v) for v in ps}):
            try:
                res = model_factory(p, float(radius)).solve()
            except InfeasibleError as exc:
                logger.info("Sensitivität p=%s, Radius=%s unzulässig: %s", p, radius, exc)
                rows.append(
                    {
                        "radius": float(radius),
                        "p": p,
                        "objective": np.nan,
                        "gap": np.nan,
                        "status": "unzulässig",
                        "seconds": np.nan,
                        "n_selected": 0,
                        "covered_share": np.nan,
                    }
                )
                continue
            selected = np.asarray(res.selected, dtype=int)
            rows.append(
                {
                    "radius": float(radius),
                    "p": p,
                    "objective": float(res.objective),
                    "gap": float(getattr(res, "gap", np.nan)),
                    "status": str(getattr(res, "status", "")),
                    "seconds": float(getattr(res, "seconds", np.nan)),
                    "n_selected": len(selected),
                    "covered_share": float(coverage(selected, float(radius))) if coverage else np.nan,
                }
            )
    table = pd.DataFrame(
        rows, columns=["radius", "p", "objective", "gap", "status", "seconds", "n_selected", "covered_share"]
    )
    table["marginal"] = table.groupby("radius")["covered_share"].diff()
    return table


def compare_plans(a: pd.DataFrame, b: pd.DataFrame, *, labels: tuple[str, str] = ("a", "b")) -> pd.DataFrame:
    """Difference of two plans per Gemeinde.

    Parameters
    ----------
    a, b
        Per-Gemeinde tables of two plans, as :attr:`SolutionExplanation.by_gemeinde`
        (``gemeinde_ags``, ``demand``, ``share_before``, ``share_after``,
        ``sites_new``, ``sites_fixed``).
    labels
        Suffixes of the two plans' columns.

    Returns
    -------
    pandas.DataFrame
        Per Gemeinde: ``demand``, ``share_before``, ``share_after_<a>``,
        ``share_after_<b>``, ``difference`` (``b`` minus ``a``, as a share),
        ``sites_new_<a>``, ``sites_new_<b>``, ``sites_fixed``; sorted by the
        absolute difference, largest first.

    Examples
    --------
    >>> import pandas as pd
    >>> a = pd.DataFrame({"gemeinde_ags": ["x"], "demand": [10.0], "share_before": [0.1],
    ...                   "share_after": [0.5], "sites_new": [1], "sites_fixed": [0]})
    >>> b = a.assign(share_after=[0.8], sites_new=[2])
    >>> round(float(compare_plans(a, b)["difference"].iloc[0]), 3)
    0.3
    """
    la, lb = labels
    keep = ["gemeinde_ags", "demand", "share_before", "share_after", "sites_new", "sites_fixed"]

    def prepared(t: pd.DataFrame) -> pd.DataFrame:
        missing = [c for c in keep if c not in t.columns]
        if missing:
            raise DataError(f"Vergleich nicht möglich: Spalten {', '.join(missing)} fehlen in der Gemeindetabelle.")
        return t[keep].astype({"gemeinde_ags": "string"})

    merged = prepared(a).merge(prepared(b), on="gemeinde_ags", how="outer", suffixes=(f"_{la}", f"_{lb}"))
    out = pd.DataFrame({"gemeinde_ags": merged["gemeinde_ags"]})
    out["demand"] = merged[f"demand_{la}"].fillna(merged[f"demand_{lb}"])
    out["share_before"] = merged[f"share_before_{la}"].fillna(merged[f"share_before_{lb}"])
    out[f"share_after_{la}"] = merged[f"share_after_{la}"]
    out[f"share_after_{lb}"] = merged[f"share_after_{lb}"]
    out["difference"] = out[f"share_after_{lb}"] - out[f"share_after_{la}"]
    out[f"sites_new_{la}"] = merged[f"sites_new_{la}"].fillna(0).astype(int)
    out[f"sites_new_{lb}"] = merged[f"sites_new_{lb}"].fillna(0).astype(int)
    out["sites_fixed"] = merged[f"sites_fixed_{la}"].fillna(merged[f"sites_fixed_{lb}"]).fillna(0).astype(int)
    rank = out["difference"].abs().fillna(-1.0)
    return (
        out.assign(_rank=rank)
        .sort_values(["_rank", "gemeinde_ags"], ascending=[False, True])
        .drop(columns="_rank")
        .reset_index(drop=True)
    )
