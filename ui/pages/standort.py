"""Standortplanung: suggest new sites for one Kreis or Gemeinde, explain, save and compare."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

import altair as alt
import pandas as pd
import streamlit as st

from geo.access import PLAN
from geo.formatting import de_int, de_number, de_share, de_signed_points, points_between, shown_percent
from geo.layers.registry import REGISTRY
from geo.modes import MODES
from geo.settings import Settings
from geo.units import level_of
from integrationsatlas import areas
from ui import actions, auth, cached, decisions, maps, state, views
from ui.components import attribution_footer, chart, render_map, table, user_errors
from ui.i18n import current_language, labels, layer_title, mode_title, t, t_plain
from ui.markdown import md
from ui.uploads import gtfs_feed, osm_extract

if TYPE_CHECKING:
    from integrationsatlas.request import AnalysisRequest
    from integrationsatlas.siting import SitingPlan

_DEFAULT_AREA = "05334"  # Städteregion Aachen
#: Height (px) of the maps shown side by side (before/after, scenario A/B, their difference); their view is
#: fitted to it, the smaller side of a half-width map (Kreis Borken, 65 km north to south, was cut at 340 px).
_PAIR_HEIGHT = 400


def _osm(request: AnalysisRequest) -> str | None:
    """The OSM extract of a run, drawn as the map's offline background (else this session's latest upload)."""
    return request.osm_file


def render() -> None:
    """Render the Standortplanung page."""
    st.title(t("nav.standort"))
    cfg = cached.settings()
    with user_errors(t("nav.standort")):
        version = cached.store_version(cfg)
        if auth.allows(PLAN):  # planning runs and saving; other roles compare the saved scenarios
            params = _controls(cfg, version)
            # the button before the (optional) candidate map, so that it is on the first screen
            if st.button(t("standort.run"), type="primary", key="standort_run"):
                _run(cfg, version, params)
            _candidate_map(cfg, version, params)
    plan = state.get(state.SITING_RESULT)
    if plan is not None:
        with user_errors(t("standort.result")):
            _show_plan(cfg, plan)
    st.divider()
    st.subheader(t("standort.scenarios"))
    with user_errors(t("standort.comparison")):
        _compare(cfg)
    attribution_footer()


def _controls(cfg: Settings, version: str) -> AnalysisRequest:
    from integrationsatlas.request import DEFAULT_PLACE_LAYERS, AnalysisRequest, AreaRef, SitingSpec
    from integrationsatlas.siting import MODELS
    from planning.siting.models import siting_model

    areas_ = cached.planning_areas(cfg, version)
    facilities = cached.available_layers(cfg, version, "facility")
    # sensitive layers are never sources of sites (geo.privacy.refuse_as_sites)
    facilities = tuple(lid for lid in facilities if not REGISTRY.get(lid).sensitive)
    places = (*facilities, *cached.available_layers(cfg, version, "poi"))
    c1, c2, c3 = st.columns([1.4, 1.6, 1])
    default = list(areas_).index(_DEFAULT_AREA) if _DEFAULT_AREA in areas_ else 0
    area = c1.selectbox(
        t("standort.area"),
        list(areas_),
        index=default,
        format_func=areas_.__getitem__,
        key="standort_area",
    )
    model = c2.radio(
        t("standort.model"),
        MODELS,
        format_func=labels(MODELS, lambda m: t(f"standort.model.{m}").split(":")[0]),
        key="standort_model",
        horizontal=True,
        help="\n\n".join(t(f"standort.model.{m}") for m in MODELS),
    )
    declared = siting_model(model)
    p = int(c3.number_input(t("standort.p"), 1, 20, 3, key="standort_p")) if declared.needs_p else 0
    c4, c5, c6 = st.columns([1.4, 1.6, 1])
    use_time = c4.toggle(t("standort.use_time"), key="standort_use_time")
    radius_km = minutes = osm_file = gtfs_file = None
    mode = "walk"
    needs_timetable = False
    if use_time:
        mode = c5.selectbox(t("common.mode"), list(MODES), format_func=labels(MODES, mode_title), key="standort_mode")
        minutes = float(c6.slider(t("standort.minutes"), 5, 60, 15, 5, key="standort_minutes"))
        osm_file = osm_extract(cfg, key="standort_osm")
        if osm_file is None:
            st.info(t("standort.need_osm"))
        needs_timetable = MODES[mode].needs_timetable
        if needs_timetable:
            gtfs_file = gtfs_feed(cfg, key="standort_gtfs")
            if gtfs_file is None:
                st.info(t("standort.need_gtfs"))
    else:
        radius_km = float(
            c5.select_slider(
                t("standort.radius"),
                options=[x / 2 for x in range(2, 61)],
                value=5.0,
                format_func=lambda km: f"{de_number(km, 1)} km",
                key="standort_radius",
            )
        )
    c7, c8, c9 = st.columns([1.4, 1.6, 1])
    fixed_options = ["", *facilities]
    fixed_default = fixed_options.index("ankommenstreffpunkt") if "ankommenstreffpunkt" in fixed_options else 0
    fixed = c7.selectbox(
        t("standort.fixed"),
        fixed_options,
        index=fixed_default,
        format_func=labels(fixed_options, lambda lid: layer_title(lid) if lid else t("common.none")),
        key="standort_fixed",
    )
    place_layers = c8.multiselect(
        t("standort.places"),
        list(places),
        default=[lid for lid in places if lid in DEFAULT_PLACE_LAYERS],
        format_func=labels(places, layer_title),
        key="standort_places",
        placeholder=t("common.none"),
        select_all=False,  # Streamlit's bulk action is English only (»Select all«)
    )
    n_clusters = int(c9.number_input(t("standort.clusters"), 0, 100, 20, key="standort_clusters"))
    with st.expander(t("standort.more")):
        e1, e2, e3 = st.columns(3)
        grid_km = e1.number_input(t("standort.grid"), 0.0, 20.0, 0.0, 0.5, key="standort_grid")
        min_dist = e2.number_input(t("standort.min_dist"), 0, 20_000, 0, 250, key="standort_min_dist")
        min_per_gemeinde = int(e3.number_input(t("standort.min_gemeinde"), 0, 5, 0, key="standort_min_gemeinde"))
    costs = decisions.cost_controls(declared, place_layers)
    new_site_places, place_share = decisions.places_controls(fixed or "ankommenstreffpunkt")
    variants = decisions.variant_controls(needs_timetable)
    spec = SitingSpec(
        model=model,
        p=p,
        **costs,
        new_site_places=new_site_places,
        variants=variants,
        keep_existing=bool(fixed),
        place_layers=tuple(place_layers),
        n_clusters=n_clusters,
        grid_spacing_m=float(grid_km) * 1000.0 if grid_km > 0 else None,
        min_distance_to_existing_m=float(min_dist),
        min_per_gemeinde=min_per_gemeinde,
        user_points=areas.clicked_points_25832(state.candidates()),
    )
    return AnalysisRequest(
        layer=fixed or "ankommenstreffpunkt",
        threshold=float(minutes if minutes is not None else radius_km),  # type: ignore[arg-type]
        unit="min" if minutes is not None else "km",
        mode=mode,
        area=AreaRef(area),
        osm_file=str(osm_file) if osm_file else None,
        gtfs_file=str(gtfs_file) if gtfs_file else None,
        siting=spec,
        place_share=place_share,
    )


def _candidate_map(cfg: Settings, version: str, params: AnalysisRequest) -> None:
    """The planning area; clicks add own candidate points (kept in this session only)."""
    st.markdown(t("common.bold", text=t("standort.candidates")))
    ags = params.area.code
    outline = cached.area_outline(cfg, version, ags)
    groups = [maps.feature_group(t("common.planning_area"), maps.outline_layer(REGISTRY.get("kreis"), outline))]
    if params.siting is not None and params.siting.keep_existing:
        spec = REGISTRY.get(params.layer)
        groups.append(
            maps.feature_group(
                t_plain("standort.existing", layer=layer_title(params.layer)),
                maps.points_layer(spec, cached.points_geojson(cfg, version, params.layer)),
            )
        )
    clicked = state.candidates()
    if clicked:
        records = [
            {
                "lat": lat,
                "lon": lon,
                "label": "",
                "css": maps.CANDIDATE_CSS,
                "tooltip": [[t_plain("standort.own_point", i=i)]],
            }
            for i, (lat, lon) in enumerate(clicked, start=1)
        ]
        groups.append(maps.feature_group(t("standort.own_candidates"), maps.NumberedSites(records, size=14)))
    centre, zoom = cached.area_view(cfg, version, level_of(ags), ags)
    col_map, col_list = st.columns([3, 1])
    with col_map:
        event = render_map(
            maps.base_map(fit_nrw=False, center=centre, zoom=zoom, osm_file=_osm(params)),
            groups,
            key="standort_pick",
            center=centre,
            zoom=zoom,
            height=420,
            returned=("last_clicked",),
            collapsed=True,
        )
    click = event.get("last_clicked")
    if click and state.add_candidate(click["lat"], click["lng"]):
        st.rerun()
    with col_list:
        st.caption(t("standort.click_hint"))
        if clicked:
            table(views.clicked_table(clicked, current_language()), key="standort_clicked")
            if st.button(t("standort.clear"), key="standort_clear"):
                state.clear_candidates()
                st.rerun()


def _run(cfg: Settings, version: str, params: AnalysisRequest) -> None:
    with st.status(t("standort.running"), expanded=True) as status:
        bar = st.progress(0.0)

        def progress(fraction: float, message: str) -> None:
            bar.progress(min(max(fraction, 0.0), 1.0), text=md(message))

        try:
            plan = cached.siting_plan(cfg, version, params, progress)
        except Exception:
            # never leave the box spinning: close it as failed; the error itself is shown by user_errors
            status.update(label=t("standort.aborted"), state="error", expanded=False)
            raise
        bar.progress(1.0, text=t("common.done"))
        status.update(label=t("standort.finished"), state="complete", expanded=False)
    state.put(state.SITING_RESULT, plan)


def _show_plan(cfg: Settings, plan: SitingPlan) -> None:
    summary = plan.summary()
    german = current_language() == "de"
    model_label = summary["model_label"] if german else t(f"standort.model_label.{plan.spec.model}")
    st.subheader(t("standort.proposal", area=plan.area_name, model=model_label))
    m1, m2, m3, m4 = st.columns(4)
    m1.metric(t("standort.covered_before"), de_share(summary["share_before"]))
    points = points_between(summary["share_before"], summary["share_after"])
    m2.metric(
        t("standort.covered_after"),
        de_share(summary["share_after"]),
        delta=t_plain("standort.points", points=de_signed_points(points)),
        delta_color="normal" if points else "off",
    )
    m3.metric(t("standort.new_sites"), de_int(summary["n_new"]))
    m4.metric(t("standort.existing_sites"), de_int(summary["n_fixed"]))
    if plan.extent is not None and plan.extent.partial:
        st.warning(t("standort.extent", caption=plan.extent.caption))
    if plan.resolution is not None and not plan.resolution.ok:
        st.warning(t("standort.resolution", message=plan.resolution.message, fix=plan.resolution.fix))
    if plan.shortfall:
        st.warning(md(plan.shortfall))
    threshold = summary["threshold"] if german else _threshold_en(plan.request)
    st.caption(
        t("standort.plan_caption", threshold=threshold, status=summary["status"], n=summary["n_candidates"])
        + md("".join(f" · {n}" for n in plan.notes if n != plan.shortfall))
    )
    layers = cached.plan_layers(plan)
    outline = cached.area_outline(cfg, cached.store_version(cfg), plan.area_ags)
    centre, zoom = views.plan_view(plan) or cached.area_view(
        cfg, cached.store_version(cfg), level_of(plan.area_ags), plan.area_ags
    )
    col_map, col_table = st.columns([1.2, 1])
    with col_map:
        groups = [
            maps.feature_group(t("common.planning_area"), maps.outline_layer(REGISTRY.get("kreis"), outline)),
            maps.feature_group(
                t("standort.other_candidates"),
                maps.area_points(layers["candidates"], t("standort.candidates_short"), "#999999"),
                show=False,
            ),
            maps.feature_group(t("standort.proposed"), maps.NumberedSites(layers["sites"])),
        ]
        render_map(
            maps.base_map(fit_nrw=False, center=centre, zoom=zoom, osm_file=_osm(plan.request)),
            groups,
            key="standort_result",
            center=centre,
            zoom=zoom,
            height=460,
            returned=(),
            collapsed=True,
        )
        st.caption(t("standort.numbers"))
    with col_table:
        st.markdown(t("standort.why"))
        table(views.sites_table(plan, current_language()), key="standort_sites")
        for site in plan.explanation.sites:
            with st.expander(t("standort.alternatives", rank=site.rank, name=site.name)):
                st.markdown(md(site.reason))
                if len(site.runner_ups):
                    table(_runner_ups(site.runner_ups))
    decisions.show_plan(plan)
    st.markdown(t("standort.before_after"))
    centre, zoom = views.plan_view(plan, _PAIR_HEIGHT) or cached.area_view(
        cfg, cached.store_version(cfg), level_of(plan.area_ags), plan.area_ags, _PAIR_HEIGHT
    )
    before, after = st.columns(2)
    for col, when in ((before, "before"), (after, "after")):
        title = t(f"standort.{when}")
        with col:
            st.caption(t(f"standort.{when}"))
            groups = [
                maps.feature_group(t("common.planning_area"), maps.outline_layer(REGISTRY.get("kreis"), outline)),
                maps.feature_group(t(f"standort.demand_{when}"), maps.area_points(layers[when], title)),
                maps.feature_group(
                    t("common.sites"),
                    maps.NumberedSites([s for s in layers["sites"] if when == "after" or s["fixed"]]),
                ),
            ]
            render_map(
                maps.base_map(fit_nrw=False, center=centre, zoom=zoom, osm_file=_osm(plan.request)),
                groups,
                key=f"standort_{when}",
                center=centre,
                zoom=zoom,
                height=_PAIR_HEIGHT,
                returned=(),
                collapsed=True,
            )
    _equity(plan)
    if len(plan.sensitivity):
        _curve(plan.sensitivity)
    _save(cfg, plan)


def _curve(sens: pd.DataFrame) -> None:
    st.markdown(t("standort.curve"))
    data = curve_data(sens)
    if data.empty:
        st.caption(t("standort.no_curve"))
        return
    covered, threshold = t("col.covered_pct"), t("standort.threshold")
    curve = (
        alt.Chart(data)
        .mark_line(point=True)
        .encode(
            x=alt.X("neue_standorte:O", title=t("standort.n_new_axis"), axis=alt.Axis(labelAngle=0)),
            y=alt.Y("versorgt_pct:Q", title=covered, scale=alt.Scale(domain=[0, 100])),
            color=alt.Color("schwelle:N", title=threshold),
            tooltip=[
                alt.Tooltip("neue_standorte:O", title=t("standort.new_sites")),
                alt.Tooltip("schwelle:N", title=threshold),
                alt.Tooltip("versorgt_pct:Q", title=covered, format=".1f"),
            ],
        )
    )
    chart(curve, 240)


def curve_data(sens: pd.DataFrame) -> pd.DataFrame:
    """The coverage-vs-p table as chart fields: ``neue_standorte``, ``versorgt_pct``, ``schwelle``.

    The sensitivity table names the count of new sites ``p_new`` (older plans: ``p``); rows without a
    covered share (infeasible) are left out.
    """
    data = views.sensitivity_table(sens)
    p_col = "p_new" if "p_new" in data.columns else "p"
    out = pd.DataFrame(
        {
            "neue_standorte": data[p_col].astype(int),
            "versorgt_pct": data["pct"].astype(float),
            "schwelle": (data["radius"].map(lambda r: f"{r:g}") if "radius" in data.columns else "—"),
        }
    )
    return out.reset_index(drop=True)


def _equity(plan: SitingPlan) -> None:
    if plan.equity.empty:
        return
    unit = "min" if plan.request.uses_time else "km"
    threshold = plan.request.threshold_label if current_language() == "de" else _threshold_en(plan.request)
    rough = plan.resolution is not None and not plan.resolution.ok  # each Gemeinde as rough as the total
    st.markdown(t("standort.equity", threshold=threshold) + md(f" ({t_plain('luecken.rough')})" if rough else ""))
    eq = plan.equity
    one_decimal = {
        t("col.beyond_before"): eq["beyond_before"].map(shown_percent),
        t("col.beyond_after"): eq["beyond_after"].map(shown_percent),
        t("col.p90_before", unit=unit): eq["p90_before"].round(1),
        t("col.p90_after", unit=unit): eq["p90_after"].round(1),
    }
    shown = pd.DataFrame({t("col.gemeinde"): eq["gemeinde"], t("col.demand"): eq["demand"].round(0), **one_decimal})
    table(shown, key="standort_equity", decimals=dict.fromkeys(one_decimal, 1))


def _save(cfg: Settings, plan: SitingPlan) -> None:
    if not auth.allows(PLAN):
        return
    with st.form("standort_save"):
        c1, c2, c3 = st.columns([2, 1, 1])
        name = c1.text_input(t("standort.save_as"), placeholder=t("standort.save_placeholder"))
        overwrite = c2.checkbox(t("standort.overwrite"))
        if c3.form_submit_button(t("standort.save")) and name.strip():
            actions.save_scenario(cfg, plan, name.strip(), overwrite)
            st.success(t("standort.saved", name=name.strip()))


def _compare(cfg: Settings) -> None:
    areas = actions.scenario_areas(cfg)
    # only scenarios of the same area can be compared: A offers those with a partner, B the partners of A
    comparable = [n for n in areas if any(m != n and areas[m] == areas[n] for m in areas)]
    if not comparable:
        st.info(t("standort.need_two"))
        return
    c1, c2 = st.columns(2)
    shown = actions.scenario_labels(cfg)  # each with its measure: plans of different thresholds are told apart
    a = c1.selectbox(t("standort.scenario_a"), comparable, index=0, format_func=shown.__getitem__, key="standort_cmp_a")
    partners = [n for n in comparable if n != a and areas[n] == areas[a]]
    if st.session_state.get("standort_cmp_b") not in partners:  # A changed: B starts at its newest partner
        st.session_state.pop("standort_cmp_b", None)
    b = c2.selectbox(t("standort.scenario_b"), partners, index=0, format_func=shown.__getitem__, key="standort_cmp_b")
    diff, layers = cached.compare(cfg, cached.store_version(cfg), a, b)
    version = cached.store_version(cfg)
    outline = cached.area_outline(cfg, version, layers["area_ags"])
    centre, zoom = cached.area_view(cfg, version, level_of(layers["area_ags"]), layers["area_ags"], _PAIR_HEIGHT)
    left, right = st.columns(2)
    for col, key, name in ((left, "a", a), (right, "b", b)):
        with col:
            st.caption(t("standort.scenario_caption", key=key.upper(), name=name))
            groups = [
                maps.feature_group(t("common.planning_area"), maps.outline_layer(REGISTRY.get("kreis"), outline)),
                maps.feature_group(t("common.sites"), maps.NumberedSites(layers[key])),
            ]
            render_map(
                maps.base_map(fit_nrw=False, center=centre, zoom=zoom),
                groups,
                key=f"standort_cmp_{key}",
                center=centre,
                zoom=zoom,
                height=_PAIR_HEIGHT,
                returned=(),
                collapsed=True,
            )
    if "difference" in layers:
        st.markdown(t("standort.diff_gemeinde"))
        groups = [
            maps.feature_group(
                t("standort.difference"),
                maps.choropleth_layer(REGISTRY.get("gemeinde"), layers["difference"], t("level.gemeinden")),
                maps.Legend(maps.legend_rows(_diff_classes(layers["classification"], a, b))),
            )
        ]
    elif "change_points" in layers:
        st.markdown(t("standort.diff_points", a=a, b=b))
        legend = maps.legend_rows(
            symbols=_change_legend(layers["change_legend"]),
            symbols_title=t("standort.demand_points"),
            notes=[t("standort.per_gemeinde_note")],
        )
        groups = [
            maps.feature_group(t("common.planning_area"), maps.outline_layer(REGISTRY.get("kreis"), outline)),
            maps.feature_group(
                t("standort.difference"),
                maps.area_points(layers["change_points"], t("standort.demand"), radius=6),
                maps.Legend(legend),
            ),
        ]
    else:
        st.caption(t("standort.no_diff_map"))
        groups = []
    if groups:
        render_map(
            maps.base_map(fit_nrw=False, center=centre, zoom=zoom),
            groups,
            key="standort_cmp_diff",
            center=centre,
            zoom=zoom,
            height=_PAIR_HEIGHT,
            returned=(),
            collapsed=True,
        )
    if layers["question_differences"]:
        st.warning(t("standort.cmp_question", differences="; ".join(layers["question_differences"])))
    for name, message in layers["rough"].items():
        st.warning(t("standort.cmp_rough", name=name, message=message))
    shares = ("col.before", "col.after_a", "col.after_b", "col.b_minus_a")  # one decimal each, side by side
    table(views.diff_table(diff, current_language()), decimals={t_plain(key): 1 for key in shares})


#: Headers of a site's runner-ups (columns of :attr:`planning.explain.SiteExplanation.runner_ups`).
_RUNNER_UP_HEADERS = {
    "candidate_id": "col.id",
    "name": "col.name",
    "source": "col.origin",
    "gain": "col.gain_people",
    "cost_reduction": "col.cost_reduction",
}


def _runner_ups(frame: pd.DataFrame) -> pd.DataFrame:
    """A site's runner-ups with headers in the current language."""
    shown = frame.drop(columns=["candidate_index"], errors="ignore")  # an internal row number
    return shown.rename(columns={column: t(key) for column, key in _RUNNER_UP_HEADERS.items()})


def _diff_classes(classification: maps.Classification, a: str, b: str) -> maps.Classification:
    """The difference map's classes; in English with an English legend title."""
    if current_language() == "de":
        return classification
    return replace(classification, title=t_plain("standort.diff_legend", a=a, b=b))


def _threshold_en(request: AnalysisRequest) -> str:
    """The service threshold in English (the German one is ``request.threshold_label``)."""
    if request.uses_time:
        mode = mode_title(str(request.mode)) if request.mode in MODES else str(request.mode)
        return t("standort.threshold_minutes", minutes=request.threshold, mode=mode)
    return t("standort.threshold_km", km=request.threshold)


def _change_legend(legend: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """The legend of the coverage-change classes; in English, the classes in English."""
    if current_language() == "de":
        return legend
    from integrationsatlas.scenarios import CHANGE_CLASSES

    index = {label: i for i, label in enumerate(CHANGE_CLASSES)}
    return [(color, t(f"standort.change.{index[label]}") if label in index else label) for color, label in legend]


if __name__ == "__main__":
    render()
