"""Display data of the decision figures: tables and chart data with headers in the page's language.

Pure functions (no Streamlit) over a :class:`~integrationsatlas.siting.SitingPlan`
or a :class:`~integrationsatlas.coverage.CoverageReport`: the budget frontier
as chart data, the new sites with their costs, intervals, committee margins and
variants, the variants of a plan, the sources of a funding programme. The
pages in :mod:`ui.decisions` render what they return.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from geo.formatting import de_count_interval
from integrationsatlas.coverage import CoverageReport
from integrationsatlas.siting import SitingPlan
from planning.costs import FundingProgramme
from ui.texts import text


def frontier_data(plan: SitingPlan, lang: str = "de") -> pd.DataFrame:
    """The budget frontier as chart rows: budget, reached share (%), new sites, € per newly reached, status.

    Empty when the plan has no frontier. Column names are fixed (chart
    fields); the chart titles come from :mod:`ui.texts`.
    """
    d = plan.decisions
    if d is None or d.frontier is None:
        return pd.DataFrame(columns=["budget", "reached_pct", "n_sites", "eur_per_person", "proven"])
    table = d.frontier.table()
    return pd.DataFrame(
        {
            "budget": table["budget"].to_numpy(dtype=float),
            "cost": table["cost"].to_numpy(dtype=float),
            "reached_pct": table["share"].to_numpy(dtype=float) * 100,
            "newly_reached": table["newly_reached"].to_numpy(dtype=float),
            "n_sites": table["n_sites"].to_numpy(dtype=int),
            "eur_per_person": table["eur_per_newly_reached"].to_numpy(dtype=float),
            "proven": [text(f"decisions.status.{s}", lang) for s in table["status"]],
        }
    )


def plan_point(plan: SitingPlan) -> dict[str, float] | None:
    """The plan itself on the frontier's axes: its new sites' cost on the budget's basis, its covered share in %."""
    d = plan.decisions
    if d is None or d.frontier is None or d.basis_cost is None:
        return None
    return {"cost": float(d.basis_cost), "reached_pct": float(plan.explanation.share_after) * 100}


def decision_sites_table(plan: SitingPlan, lang: str = "de") -> pd.DataFrame:
    """The new sites with their costs, € per newly reached person, gain interval, substitute and variants."""
    d = plan.decisions
    names = plan.candidates["name"].astype("string").fillna("")
    rows = []
    for s in plan.explanation.sites:
        row: dict[str, Any] = {text("col.no", lang): s.rank, text("col.site", lang): s.name}
        j = s.candidate_index
        if d is not None and d.costs is not None:
            per = d.costs.per_site
            at = np.flatnonzero(per["candidate_index"].to_numpy() == j)
            if at.size:
                yearly, eur = per[["yearly", "eur_per_gain"]].to_numpy(dtype=float)[at[0]]
                row[text("decisions.col.yearly", lang)] = round(float(yearly))
                row[text("decisions.col.eur_per_person", lang)] = round(float(eur), 2) if np.isfinite(eur) else None
        if d is not None and d.intervals is not None and j in d.intervals.gains:
            iv = d.intervals.gains[j]
            if d.intervals.uncertainty.varied:
                row[text("decisions.col.gain_interval", lang)] = de_count_interval(iv.point, iv.low, iv.high, iv.level)
            else:  # official totals: no interval column, as in the report (»90.412–90.412« is none)
                row[text("decisions.col.gain", lang)] = round(float(iv.point))  # a number: right-aligned, German
        margin = None if d is None else d.margin_of(j)
        if margin is not None:
            row[text("decisions.col.substitute", lang)] = (
                "–" if margin.substitute is None else str(names.iloc[margin.substitute])
            )
            row[text("decisions.col.loss", lang)] = round(float(margin.loss))
            flip = margin.flip_share
            row[text("decisions.col.flip", lang)] = round(flip * 100) if np.isfinite(flip) else None
        if d is not None and d.variants is not None:
            row[text("decisions.col.variants", lang)] = f"{d.variants.chosen_in(j)} / {len(d.variants.names)}"
        rows.append(row)
    return pd.DataFrame(rows)


def variants_table(plan: SitingPlan, lang: str = "de") -> pd.DataFrame:
    """One row per variant: its name and kind, the plan's covered share and the best share possible there (%)."""
    d = plan.decisions
    if d is None or d.variants is None:
        return pd.DataFrame()
    table = d.variants.table()
    return pd.DataFrame(
        {
            text("decisions.col.variant", lang): table["variant"],
            text("decisions.col.kind", lang): table["kind"],
            text("decisions.col.plan_share", lang): (table["share"] * 100).round(1),
            text("decisions.col.own_share", lang): (table["own_share"] * 100).round(1),
        }
    )


def curve_band(report: CoverageReport) -> pd.DataFrame:
    """The coverage curve's interval per threshold in per cent (empty without intervals)."""
    if report.intervals is None:
        return pd.DataFrame(columns=["threshold", "low_pct", "high_pct"])
    band = report.intervals.curve
    return pd.DataFrame(
        {
            "threshold": band["threshold"].to_numpy(dtype=float),
            "low_pct": band["low"].to_numpy(dtype=float) * 100,
            "high_pct": band["high"].to_numpy(dtype=float) * 100,
        }
    )


def programme_sources(programme: FundingProgramme) -> list[str]:
    """The sources of a programme's figures as lines »Titel (Herausgeber, Stand): Aussage – Adresse«."""
    lines = []
    for c in programme.sources:
        when = f", {c.as_of}" if c.as_of else ""
        where = f" – {c.url}" if c.url else ""
        lines.append(f"{c.title} ({c.publisher}{when}): {c.states}{where}")
    return lines + list(programme.notes)
