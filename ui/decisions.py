"""The decision figures on the pages: controls for costs, funding, places and variants, and their results.

The Standortplanung page builds the siting part of its request with
:func:`cost_controls`, :func:`places_controls` and :func:`variant_controls`
(the fields of :class:`~integrationsatlas.request.SitingSpec`, the same the
CLI's options give) and shows a plan's figures with :func:`show_plan`; the
Versorgungslücken page shows the intervals and places of a coverage report with
:func:`show_coverage`. Everything comes from the one pipeline; nothing here
computes.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import altair as alt
import pandas as pd
import streamlit as st

from geo.formatting import de_eur, de_int, de_number, de_share
from geo.layers.registry import REGISTRY
from integrationsatlas.pipeline.budget import cost_lines, eur_text
from integrationsatlas.pipeline.intervals import share_text
from planning.candidates import SOURCE_LABELS
from planning.capacity import PLACE_DEMAND
from planning.costs import COST_BASES, EDITABLE_FIGURES, PROGRAMMES
from planning.siting.robust import ROBUST_OBJECTIVES
from ui import decision_views
from ui.components import chart, key_values, table
from ui.i18n import current_language, labels, t, t_plain
from ui.markdown import md

if TYPE_CHECKING:
    from integrationsatlas.coverage import CoverageReport
    from integrationsatlas.request import VariantSpec
    from integrationsatlas.siting import SitingPlan
    from planning.siting.models import SitingModel

#: Departure windows offered as further variants of a public-transport question.
WINDOWS: dict[tuple[int, int], str] = {
    (6 * 3600, 8 * 3600): "06:00–08:00",
    (9 * 3600, 12 * 3600): "09:00–12:00",
    (12 * 3600, 15 * 3600): "12:00–15:00",
    (15 * 3600, 18 * 3600): "15:00–18:00",
    (18 * 3600, 21 * 3600): "18:00–21:00",
}
#: Source types of candidates that are not a layer.
_GENERATED_TYPES = ("cluster", "grid", "user")


# --- controls ---------------------------------------------------------------------------------------


#: Display format of the planner's own euro figures: whole euros (»150000«, not »150000.00«); the programmes'
#: published figures keep their cents.
EUROS = "%.0f"


def cost_controls(declared: SitingModel, place_layers: Sequence[str]) -> dict[str, Any]:
    """Costs of the sites, funding programme, budget and frontier: the :class:`SitingSpec` fields they set.

    Without »Kosten rechnen« ticked the plan has no costs (an empty dict).
    """
    with st.expander(t("decisions.costs_box")):
        if not st.checkbox(t("decisions.use_costs"), key="standort_use_costs"):
            st.caption(t("decisions.costs_off"))
            return {}
        c1, c2 = st.columns(2)
        yearly = c1.number_input(
            t("decisions.yearly"),
            0.0,
            1e8,
            30_000.0,
            1_000.0,
            EUROS,
            key="standort_cost",
            help=t("decisions.yearly_help"),
        )
        one_off = c2.number_input(t("decisions.one_off"), 0.0, 1e8, 10_000.0, 1_000.0, EUROS, key="standort_one_off")
        by_type = _costs_by_type(place_layers, float(yearly), float(one_off))
        programme, figures = _programme_controls()
        use_budget = st.checkbox(
            t("standort.use_budget"), key="standort_use_budget", disabled=not declared.supports_budget
        )
        b1, b2, b3 = st.columns([1.2, 1.4, 1])
        budget = b1.number_input(t("standort.budget"), 0.0, 1e9, 150_000.0, 10_000.0, EUROS, key="standort_budget")
        basis = b2.radio(
            t("decisions.basis"),
            COST_BASES,
            format_func=labels(COST_BASES, lambda b: t_plain(f"decisions.basis.{b}")),
            key="standort_basis",
        )
        years = b3.number_input(t("decisions.years"), 1, 50, 10, key="standort_years", disabled=basis != "annualised")
        frontier = 0
        if declared.objective == "coverage":
            frontier = int(
                st.number_input(
                    t("decisions.frontier_points"), 0, 20, 8, key="standort_frontier", help=t("decisions.frontier_help")
                )
            )
    return {
        "default_site_cost": float(yearly),
        "default_one_off": float(one_off),
        "cost_by_type": by_type,
        "programme": programme,
        "programme_figures": figures,
        "budget": float(budget) if use_budget and declared.supports_budget else None,
        "cost_basis": basis,
        "annualise_years": float(years),
        "frontier_points": frontier,
    }


def _costs_by_type(place_layers: Sequence[str], yearly: float, one_off: float) -> tuple[tuple[str, float, float], ...]:
    """Costs per site type, pre-filled with the uniform figures; only the changed ones are returned."""
    layer_kinds = [SOURCE_LABELS.get(lid, lid) for lid in place_layers]
    kinds = list(dict.fromkeys([*layer_kinds, *(SOURCE_LABELS[k] for k in _GENERATED_TYPES)]))
    out = []
    with st.popover(t("decisions.by_type")):
        st.caption(t("decisions.by_type_help"))
        for i, kind in enumerate(kinds):
            c1, c2 = st.columns(2)
            y = c1.number_input(
                t("decisions.type_yearly", kind=kind), 0.0, 1e8, yearly, 1_000.0, EUROS, key=f"standort_type_y_{i}"
            )
            o = c2.number_input(
                t("decisions.type_one_off", kind=kind), 0.0, 1e8, one_off, 1_000.0, EUROS, key=f"standort_type_o_{i}"
            )
            if (y, o) != (yearly, one_off):
                out.append((kind, float(y), float(o)))
    return tuple(out)


def _programme_controls() -> tuple[str | None, tuple[tuple[str, float], ...]]:
    """A funding programme and its figures, pre-filled with the preset and editable; the changed figures."""
    options = ["", *PROGRAMMES]
    english = current_language() == "en"
    chosen = st.selectbox(
        t("decisions.programme"),
        options,
        format_func=labels(
            options,
            lambda p: (PROGRAMMES[p].label_en if english else PROGRAMMES[p].label) if p else t_plain("common.none"),
        ),
        key="standort_programme",
    )
    if not chosen:
        return None, ()
    preset = PROGRAMMES[chosen]
    changed = []
    cols = st.columns(3)
    for i, name in enumerate(EDITABLE_FIGURES):
        value = getattr(preset, name)
        entered = cols[i % 3].number_input(
            t(f"decisions.figure.{name}"),
            min_value=0.0,
            max_value=1.0 if name == "land_rate" else 1e9,
            value=None if value is None else float(value),
            step=0.05 if name == "land_rate" else 1_000.0,
            key=f"standort_fig_{chosen}_{name}",
            placeholder=t_plain("decisions.figure_none"),
        )
        if entered is not None and (value is None or float(entered) != float(value)):
            changed.append((name, float(entered)))
    st.caption(md(" · ".join(decision_views.programme_sources(preset))))
    return chosen, tuple(changed)


def places_controls(layer: str) -> tuple[float | None, float | None]:
    """Places per new site and the council's share of the place type's people (when the layer has places)."""
    spec = REGISTRY.get(layer)
    if not spec.capacity_column:
        return None, None
    with st.expander(t("decisions.places_box")):
        c1, c2 = st.columns(2)
        per_site = c1.number_input(
            t("decisions.places_per_site"), min_value=0, max_value=2_000, value=None, step=5,
            key="standort_places_per_site", placeholder=t_plain("decisions.unknown"),
        )  # fmt: skip
        share = None
        if layer in PLACE_DEMAND:
            share = c2.number_input(
                t("decisions.place_share", label=_place_label(layer)), min_value=0.0, max_value=100.0,
                value=None, step=0.5, key="standort_place_share", placeholder=t_plain("decisions.unknown"),
                help=t("decisions.place_share_help"),
            )  # fmt: skip
    return (None if per_site is None else float(per_site)), (None if share is None else float(share) / 100)


def place_share_control(layer: str, key: str) -> float | None:
    """The council's share of the place type's people among the residents (Versorgungslücken)."""
    if not REGISTRY.get(layer).capacity_column or layer not in PLACE_DEMAND:
        return None
    share = st.number_input(
        t("decisions.place_share", label=_place_label(layer)), min_value=0.0, max_value=100.0, value=None,
        step=0.5, key=key, placeholder=t_plain("decisions.unknown"), help=t("decisions.place_share_help"),
    )  # fmt: skip
    return None if share is None else float(share) / 100


def _place_label(layer: str) -> str:
    """Whose demand the places of ``layer`` serve, in the page's language."""
    declared = PLACE_DEMAND[layer]
    return declared.label_en if current_language() == "en" else declared.label


def variant_controls(needs_timetable: bool) -> VariantSpec | None:
    """Variants of the plan (demand, closures, windows) and whether to plan robustly over them."""
    from integrationsatlas.request import VariantSpec

    with st.expander(t("decisions.variants_box")):
        c1, c2 = st.columns(2)
        demand = int(c1.number_input(t("decisions.demand_variants"), 0, 10, 0, key="standort_var_demand"))
        closures = int(c2.number_input(t("decisions.closure_variants"), 0, 10, 0, key="standort_var_closures"))
        windows: list[tuple[int, int]] = []
        if needs_timetable:
            windows = st.multiselect(
                t("decisions.window_variants"), list(WINDOWS), format_func=WINDOWS.__getitem__,
                key="standort_var_windows", placeholder=t_plain("common.none"),
            )  # fmt: skip
        options = ["", *ROBUST_OBJECTIVES]
        english = current_language() == "en"
        objective = st.radio(
            t("decisions.robust"),
            options,
            format_func=labels(
                options,
                lambda o: (
                    (ROBUST_OBJECTIVES[o].label_en if english else ROBUST_OBJECTIVES[o].label)
                    if o
                    else t_plain("decisions.robust_off")
                ),
            ),
            key="standort_robust",
            horizontal=True,
        )
    spec = VariantSpec(demand=demand, closures=closures, windows=tuple(windows), objective=objective or None)
    return spec if spec.count or spec.objective else None


# --- results ----------------------------------------------------------------------------------------


def show_coverage(report: CoverageReport) -> None:
    """The intervals of a coverage report's share and its figure with places, under the headline figures."""
    if report.intervals is not None:
        unc = report.intervals.uncertainty
        line = share_text(report.intervals.overall, report.share_covered)
        st.markdown(t("common.bold", text=line))
        st.caption(md(unc.label + "."), help=t("decisions.assumed_help") if unc.assumed else None)
        if unc.assumed:
            st.caption(t("decisions.assumed"))
    if report.places is not None:
        p = report.places
        m1, m2 = st.columns(2)
        label = "decisions.with_places" if report.resolution.ok else "decisions.with_places_rough"
        m1.metric(t(label), de_share(p.share, 1), help=t("decisions.with_places_help"))
        m2.metric(
            t("decisions.without_places"),
            de_share(p.share_uncapacitated, 1),
            delta=t_plain("decisions.no_place", people=de_int(p.result.difference)),
            delta_color="off",
        )
        st.caption(md(p.text()))
        for note in (*p.result.notes, *p.notes):
            st.caption(md(note))


def show_plan(plan: SitingPlan) -> None:
    """A plan's intervals, places, costs, budget frontier, committee margins and variants."""
    d = plan.decisions
    if d is None:
        return
    summary = plan.summary()
    for line in d.lines(summary["share_before"], summary["share_after"]):
        st.markdown(md(line))
    if d.intervals is not None and d.intervals.uncertainty.assumed:
        st.caption(md(d.intervals.uncertainty.label + ".") + " " + t("decisions.assumed"))
    if d.costs is not None:
        _costs(plan)
    if d.frontier is not None:
        _frontier(plan)
    lang = current_language()
    sites = decision_views.decision_sites_table(plan, lang)
    if len(sites.columns) > 2:
        st.markdown(t("decisions.committee"))
        table(sites, key="standort_decisions")
        for margin in d.margins:
            st.caption(md(margin.reason))
    if d.variants is not None:
        st.markdown(t("decisions.variants_title"))
        st.caption(md(d.variants.text()))
        table(decision_views.variants_table(plan, lang), key="standort_variants")


def _costs(plan: SitingPlan) -> None:
    d = plan.decisions
    assert d is not None and d.costs is not None
    c = d.costs
    st.markdown(t("decisions.costs_title"))
    m1, m2, m3, m4 = st.columns(4)
    m1.metric(t("decisions.metric.yearly"), de_eur(c.yearly_total))
    m2.metric(t("decisions.metric.per_person"), eur_text(c.eur_per_newly_reached))
    m3.metric(t("decisions.metric.land"), de_eur(c.land_yearly))
    m4.metric(t("decisions.metric.municipal"), de_eur(c.municipal_yearly))
    key_values(cost_lines(c, plan.inputs.get("target_group")))
    for note in c.notes:
        st.caption(md(note))


def _frontier(plan: SitingPlan) -> None:
    d = plan.decisions
    assert d is not None and d.frontier is not None
    data = decision_views.frontier_data(plan, current_language())
    st.markdown(t("decisions.frontier_title", basis=d.frontier.cost_label))
    budget, reached = t_plain("decisions.axis.budget"), t_plain("decisions.axis.reached")
    line = (
        alt.Chart(data)
        .mark_line(point=True, interpolate="step-after", color="#1f4e79")
        .encode(
            x=alt.X("budget:Q", title=budget, axis=alt.Axis(format=",.0f")),
            y=alt.Y("reached_pct:Q", title=reached, scale=alt.Scale(zero=False)),
            tooltip=[
                alt.Tooltip("budget:Q", title=budget, format=",.0f"),
                alt.Tooltip("reached_pct:Q", title=reached, format=".1f"),
                alt.Tooltip("n_sites:Q", title=t_plain("decisions.axis.sites")),
                alt.Tooltip("eur_per_person:Q", title=t_plain("decisions.axis.per_person"), format=",.2f"),
                alt.Tooltip("proven:N", title=t_plain("decisions.axis.proven")),
            ],
        )
    )
    layers = [line]
    point = decision_views.plan_point(plan)
    if point is not None:
        layers.append(
            alt.Chart(pd.DataFrame([point]))
            .mark_point(shape="diamond", size=160, color="#D55E00", filled=True)
            .encode(
                x="cost:Q",
                y="reached_pct:Q",
                tooltip=[
                    alt.Tooltip("cost:Q", title=t_plain("decisions.axis.plan_cost"), format=",.0f"),
                    alt.Tooltip("reached_pct:Q", title=reached, format=".1f"),
                ],
            )
        )
    chart(alt.layer(*layers), 260)
    proven = "decisions.frontier_proven" if d.frontier.all_optimal else "decisions.frontier_gap"
    st.caption(t(proven, seconds=de_number(d.frontier.seconds, 1)))


def curve_band(report: CoverageReport, x_title: str) -> alt.Chart | None:
    """The interval of the covered share along the curve, as a shaded band (``None`` without intervals)."""
    band = decision_views.curve_band(report)
    if band.empty:
        return None
    low, high = t_plain("decisions.axis.low"), t_plain("decisions.axis.high")
    return (
        alt.Chart(band)
        .mark_area(opacity=0.25, color="#1f4e79")
        .encode(
            x=alt.X("threshold:Q", title=x_title),
            y=alt.Y("low_pct:Q", title=t_plain("col.covered_pct")),
            y2="high_pct:Q",
            tooltip=[
                alt.Tooltip("low_pct:Q", title=low, format=".1f"),
                alt.Tooltip("high_pct:Q", title=high, format=".1f"),
            ],
        )
    )
