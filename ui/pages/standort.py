"""Standortplanung: suggest new sites for one Kreis or Gemeinde, explain, save and compare."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import altair as alt
import pandas as pd
import streamlit as st

from geo.formatting import de_number, de_share
from geo.layers.registry import REGISTRY
from geo.modes import MODES
from geo.settings import Settings
from geo.units import level_of
from integrationsatlas import areas
from ui import actions, cached, maps, state, views
from ui.components import attribution_footer, render_map, table, user_errors
from ui.i18n import t
from ui.uploads import gtfs_feed, osm_extract

if TYPE_CHECKING:
    from integrationsatlas.siting import SitingParams, SitingPlan

_MODEL_HELP = {
    "mclp": "Maximale Abdeckung (MCLP): wählt p neue Standorte so, dass möglichst viele Menschen einen "
    "Standort innerhalb des Radius bzw. der Fahrzeit erreichen.",
    "lscp": "Minimale Standortzahl (LSCP): wie viele Standorte braucht es mindestens, damit alle erreichbaren "
    "Menschen versorgt sind?",
    "pmedian": "p-Median: wählt p neue Standorte so, dass der durchschnittliche Weg (gewichtet nach Einwohnern) "
    "am kürzesten ist.",
}
_MODES = {m: mode.title for m, mode in MODES.items()}
_DEFAULT_AREA = "05334"  # Städteregion Aachen


def _osm(params: SitingParams) -> str | None:
    """The OSM extract of a run, drawn as the map's offline background (else the latest upload)."""
    return str(params.osm_file) if params.osm_file else None


def _points(summary: dict[str, Any]) -> float:
    """Change of the covered share in percentage points."""
    return (summary["share_after"] - summary["share_before"]) * 100


def render() -> None:
    """Render the Standortplanung page."""
    st.title(t("nav.standort"))
    cfg = cached.settings()
    with user_errors("Standortplanung"):
        version = cached.store_version(cfg)
        params = _controls(cfg, version)
        # the button before the (optional) candidate map, so that it is on the first screen
        if st.button(t("standort.run"), type="primary", key="standort_run"):
            _run(cfg, version, params)
        _candidate_map(cfg, version, params)
    plan = state.get(state.SITING_RESULT)
    if plan is not None:
        with user_errors("Ergebnis"):
            _show_plan(cfg, plan)
    st.divider()
    st.subheader(t("standort.scenarios"))
    with user_errors("Szenarienvergleich"):
        _compare(cfg)
    attribution_footer()


def _controls(cfg: Settings, version: str) -> SitingParams:
    from integrationsatlas.siting import DEFAULT_PLACE_LAYERS, MODELS, SitingParams

    areas_ = cached.planning_areas(cfg, version)
    facilities = cached.available_layers(cfg, version, "facility")
    places = (*facilities, *cached.available_layers(cfg, version, "poi"))
    c1, c2, c3 = st.columns([1.4, 1.6, 1])
    default = list(areas_).index(_DEFAULT_AREA) if _DEFAULT_AREA in areas_ else 0
    area = c1.selectbox(
        "Planungsgebiet (Kreis oder Gemeinde)",
        list(areas_),
        index=default,
        format_func=areas_.__getitem__,
        key="standort_area",
    )
    model = c2.radio(
        "Modell",
        MODELS,
        format_func=lambda m: _MODEL_HELP[m].split(":")[0],
        key="standort_model",
        horizontal=True,
        help="\n\n".join(_MODEL_HELP[m] for m in MODELS),
    )
    p = 0 if model == "lscp" else int(c3.number_input("Neue Standorte (p)", 1, 20, 3, key="standort_p"))
    c4, c5, c6 = st.columns([1.4, 1.6, 1])
    use_time = c4.toggle("Fahrzeit statt Entfernung", key="standort_use_time")
    radius_km = minutes = osm_file = gtfs_file = None
    mode = "walk"
    if use_time:
        mode = c5.selectbox("Verkehrsmittel", list(_MODES), format_func=_MODES.__getitem__, key="standort_mode")
        minutes = float(c6.slider("Minuten", 5, 60, 15, 5, key="standort_minutes"))
        osm_file = osm_extract(cfg, key="standort_osm")
        if osm_file is None:
            st.info("Für Fahrzeiten bitte einen OSM-Auszug des Gebiets hochladen (.osm.pbf von Geofabrik).")
        if mode == "oepnv":
            gtfs_file = gtfs_feed(cfg, key="standort_gtfs")
            if gtfs_file is None:
                st.info(
                    "Für Bus und Bahn bitte einen GTFS-Fahrplan hochladen (Verkehrstag: nächster Dienstag, "
                    "Abfahrt 07:00–09:00, Median über jede Minute)."
                )
    else:
        radius_km = float(
            c5.select_slider(
                "Radius (km Luftlinie)",
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
        "Bestehende Standorte (bleiben offen)",
        fixed_options,
        index=fixed_default,
        format_func=lambda lid: REGISTRY.get(lid).title if lid else "keine",
        key="standort_fixed",
    )
    place_layers = c8.multiselect(
        "Kandidaten aus Ebenen",
        list(places),
        default=[lid for lid in places if lid in DEFAULT_PLACE_LAYERS],
        format_func=lambda lid: REGISTRY.get(lid).title,
        key="standort_places",
        placeholder="keine",
    )
    n_clusters = int(c9.number_input("Kandidaten aus Nachfrage-Schwerpunkten", 0, 100, 20, key="standort_clusters"))
    with st.expander("Weitere Kandidaten und Bedingungen"):
        e1, e2, e3 = st.columns(3)
        grid_km = e1.number_input(
            "Raster-Kandidaten, Abstand in km (0 = automatisch)", 0.0, 20.0, 0.0, 0.5, key="standort_grid"
        )
        min_dist = e2.number_input(
            "Mindestabstand zu bestehenden Standorten (m)", 0, 20_000, 0, 250, key="standort_min_dist"
        )
        min_per_gemeinde = int(
            e3.number_input("Mindestens je Gemeinde (braucht geladene Gemeinden)", 0, 5, 0, key="standort_min_gemeinde")
        )
    with st.expander("Budget (statt fester Anzahl)"):
        use_budget = st.checkbox("Budget verwenden", key="standort_use_budget", disabled=model == "lscp")
        budget = st.number_input("Budget (EUR)", 0.0, 1e9, 150_000.0, 10_000.0, key="standort_budget")
        site_cost = st.number_input("Kosten je Standort (EUR)", 0.0, 1e8, 50_000.0, 5_000.0, key="standort_cost")
    return SitingParams(
        area=area,
        model=model,
        p=p,
        radius_km=radius_km,
        minutes=minutes,
        mode=mode,
        osm_file=Path(osm_file) if osm_file else None,
        gtfs_file=Path(gtfs_file) if gtfs_file else None,
        fixed_layer=fixed or None,
        budget=float(budget) if use_budget and model != "lscp" else None,
        default_site_cost=float(site_cost) if use_budget and model != "lscp" else None,
        place_layers=tuple(place_layers),
        n_clusters=n_clusters,
        grid_spacing_m=float(grid_km) * 1000.0 if grid_km > 0 else None,
        min_distance_to_existing_m=float(min_dist),
        min_per_gemeinde=min_per_gemeinde,
        user_points=areas.clicked_points_25832(state.candidates()),
    )


def _candidate_map(cfg: Settings, version: str, params: SitingParams) -> None:
    """The planning area; clicks add own candidate points (kept in this session only)."""
    st.markdown(f"**{t('standort.candidates')}**")
    outline = cached.area_outline(cfg, version, params.area)
    groups = [maps.feature_group("Planungsgebiet", maps.outline_layer(REGISTRY.get("kreis"), outline))]
    if params.fixed_layer:
        spec = REGISTRY.get(params.fixed_layer)
        groups.append(
            maps.feature_group(
                f"Bestehend: {spec.title}",
                maps.points_layer(spec, cached.points_geojson(cfg, version, params.fixed_layer)),
            )
        )
    clicked = state.candidates()
    if clicked:
        records = [
            {"lat": lat, "lon": lon, "html": '<div class="atlas-candidate"></div>', "tooltip": f"Eigener Punkt {i}"}
            for i, (lat, lon) in enumerate(clicked, start=1)
        ]
        groups.append(maps.feature_group("Eigene Kandidaten", maps.NumberedSites(records, size=14)))
    centre, zoom = cached.area_view(cfg, version, level_of(params.area), params.area)
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
        st.caption("Klicken Sie in die Karte, um eigene Kandidaten hinzuzufügen.")
        if clicked:
            table(views.clicked_table(clicked), width="stretch", key="standort_clicked")
            if st.button("Eigene Kandidaten löschen", key="standort_clear"):
                state.clear_candidates()
                st.rerun()


def _run(cfg: Settings, version: str, params: SitingParams) -> None:
    with st.status("Standorte werden berechnet …", expanded=True) as status:
        bar = st.progress(0.0)

        def progress(fraction: float, message: str) -> None:
            bar.progress(min(max(fraction, 0.0), 1.0), text=message)

        try:
            plan = cached.siting_plan(cfg, version, params, _progress=progress)
        except Exception:
            # never leave the box spinning: close it as failed; the error itself is shown by user_errors
            status.update(label="Berechnung abgebrochen", state="error", expanded=False)
            raise
        bar.progress(1.0, text="Fertig")
        status.update(label="Berechnung abgeschlossen", state="complete", expanded=False)
    state.put(state.SITING_RESULT, plan)


def _show_plan(cfg: Settings, plan: SitingPlan) -> None:
    summary = plan.summary()
    st.subheader(f"Vorschlag für {plan.area_name}: {summary['model_label']}")
    m1, m2, m3, m4 = st.columns(4)
    m1.metric("Versorgt vorher", de_share(summary["share_before"]))
    m2.metric(
        "Versorgt nachher",
        de_share(summary["share_after"]),
        delta=f"{de_number(_points(summary), 1, signed=True)} Prozentpunkte",
    )
    m3.metric("Neue Standorte", summary["n_new"])
    m4.metric("Bestehende Standorte", summary["n_fixed"])
    if plan.shortfall:
        st.warning(plan.shortfall)
    st.caption(
        f"Schwelle: {summary['threshold']} · Status des Lösers: {summary['status']} · "
        f"{summary['n_candidates']} Kandidaten" + "".join(f" · {n}" for n in plan.notes if n != plan.shortfall)
    )
    layers = cached.plan_layers(plan)
    outline = cached.area_outline(cfg, cached.store_version(cfg), plan.area_ags)
    centre, zoom = cached.area_view(cfg, cached.store_version(cfg), level_of(plan.area_ags), plan.area_ags)
    col_map, col_table = st.columns([1.2, 1])
    with col_map:
        groups = [
            maps.feature_group("Planungsgebiet", maps.outline_layer(REGISTRY.get("kreis"), outline)),
            maps.feature_group(
                "Weitere Kandidaten", maps.area_points(layers["candidates"], "Kandidaten", "#999999"), show=False
            ),
            maps.feature_group("Vorgeschlagene Standorte", maps.NumberedSites(layers["sites"])),
        ]
        render_map(
            maps.base_map(fit_nrw=False, center=centre, zoom=zoom, osm_file=_osm(plan.params)),
            groups,
            key="standort_result",
            center=centre,
            zoom=zoom,
            height=460,
            returned=(),
            collapsed=True,
        )
        st.caption("Zahlen = Reihenfolge der Auswahl; »B« = bestehender Standort.")
    with col_table:
        st.markdown("**Warum diese Standorte?**")
        table(views.sites_table(plan), hide_index=True, width="stretch", key="standort_sites")
        for site in plan.explanation.sites:
            with st.expander(f"{site.rank}. {site.name}: Alternativen"):
                st.write(site.reason)
                if len(site.runner_ups):
                    table(site.runner_ups, hide_index=True, width="stretch")
    st.markdown("**Versorgung vorher und nachher** (blau = erreicht, orange = nicht erreicht)")
    before, after = st.columns(2)
    for col, when, title in ((before, "before", "Vorher"), (after, "after", "Nachher")):
        with col:
            st.caption(title)
            groups = [
                maps.feature_group("Planungsgebiet", maps.outline_layer(REGISTRY.get("kreis"), outline)),
                maps.feature_group(f"Nachfrage {title.lower()}", maps.area_points(layers[when], title)),
                maps.feature_group(
                    "Standorte",
                    maps.NumberedSites(
                        [s for s in layers["sites"] if when == "after" or "atlas-site-fixed" in s["html"]]
                    ),
                ),
            ]
            render_map(
                maps.base_map(fit_nrw=False, center=centre, zoom=zoom, osm_file=_osm(plan.params)),
                groups,
                key=f"standort_{when}",
                center=centre,
                zoom=zoom,
                height=340,
                returned=(),
                collapsed=True,
            )
    _equity(plan)
    if len(plan.sensitivity):
        _curve(plan.sensitivity)
    _save(cfg, plan)


def _curve(sens: pd.DataFrame) -> None:
    st.markdown("**Versorgung je Anzahl neuer Standorte**")
    data = curve_data(sens)
    if data.empty:
        st.caption("Keine Kurve: für keine Standortzahl liegt ein Ergebnis vor.")
        return
    chart = (
        alt.Chart(data)
        .mark_line(point=True)
        .encode(
            x=alt.X("neue_standorte:O", title="Anzahl neuer Standorte", axis=alt.Axis(labelAngle=0)),
            y=alt.Y("versorgt_pct:Q", title="Versorgt (%)", scale=alt.Scale(domain=[0, 100])),
            color=alt.Color("schwelle:N", title="Schwelle"),
            tooltip=[
                alt.Tooltip("neue_standorte:O", title="Neue Standorte"),
                alt.Tooltip("schwelle:N", title="Schwelle"),
                alt.Tooltip("versorgt_pct:Q", title="Versorgt (%)", format=".1f"),
            ],
        )
    )
    st.altair_chart(chart.properties(height=240), width="stretch")


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
    unit = "min" if plan.params.uses_time else "km"
    st.markdown(
        f"**Wer bleibt weit weg?** (Anteil über {plan.params.threshold_label}, 90 % erreichen "
        f"den nächsten Standort in höchstens …)"
    )
    eq = plan.equity
    shown = pd.DataFrame(
        {
            "Gemeinde": eq["gemeinde"],
            "Nachfrage": eq["demand"].round(0),
            "über der Schwelle vorher (%)": (eq["beyond_before"] * 100).round(1),
            "über der Schwelle nachher (%)": (eq["beyond_after"] * 100).round(1),
            f"90-%-Wert vorher ({unit})": eq["p90_before"].round(1),
            f"90-%-Wert nachher ({unit})": eq["p90_after"].round(1),
        }
    )
    table(shown, key="standort_equity")


def _save(cfg: Settings, plan: SitingPlan) -> None:
    with st.form("standort_save"):
        c1, c2, c3 = st.columns([2, 1, 1])
        name = c1.text_input("Als Szenario speichern unter", placeholder="z. B. Aachen 3 Treffpunkte 5 km")
        overwrite = c2.checkbox("Überschreiben")
        if c3.form_submit_button("Speichern") and name.strip():
            actions.save_scenario(cfg, plan, name.strip(), overwrite)
            st.success(f"Szenario »{name.strip()}« gespeichert.")


def _compare(cfg: Settings) -> None:
    names = actions.scenario_names(cfg)
    if len(names) < 2:
        st.info("Speichern Sie mindestens zwei Szenarien, um sie hier nebeneinander zu vergleichen.")
        return
    c1, c2 = st.columns(2)
    a = c1.selectbox("Szenario A", names, index=1, key="standort_cmp_a")
    b = c2.selectbox("Szenario B", names, index=0, key="standort_cmp_b")
    if a == b:
        st.warning("Bitte zwei verschiedene Szenarien wählen.")
        return
    diff, layers = cached.compare(cfg, cached.store_version(cfg), a, b)
    version = cached.store_version(cfg)
    outline = cached.area_outline(cfg, version, layers["area_ags"])
    centre, zoom = cached.area_view(cfg, version, level_of(layers["area_ags"]), layers["area_ags"])
    left, right = st.columns(2)
    for col, key, name in ((left, "a", a), (right, "b", b)):
        with col:
            st.caption(f"Szenario {key.upper()}: {name}")
            groups = [
                maps.feature_group("Planungsgebiet", maps.outline_layer(REGISTRY.get("kreis"), outline)),
                maps.feature_group("Standorte", maps.NumberedSites(layers[key])),
            ]
            render_map(
                maps.base_map(fit_nrw=False, center=centre, zoom=zoom),
                groups,
                key=f"standort_cmp_{key}",
                center=centre,
                zoom=zoom,
                height=340,
                returned=(),
                collapsed=True,
            )
    if "difference" in layers:
        st.markdown("**Differenzkarte je Gemeinde**")
        groups = [
            maps.feature_group(
                "Unterschied",
                maps.choropleth_layer(REGISTRY.get("gemeinde"), layers["difference"], "Gemeinden"),
                maps.Legend(maps.legend_html(layers["classification"])),
            )
        ]
        render_map(
            maps.base_map(fit_nrw=False, center=centre, zoom=zoom),
            groups,
            key="standort_cmp_diff",
            center=centre,
            zoom=zoom,
            height=380,
            returned=(),
            collapsed=True,
        )
    elif "change_points" in layers:
        st.markdown(f"**Differenzkarte: Nachfragepunkte nach Versorgung in A (»{a}«) und B (»{b}«)**")
        legend = maps.legend_html(
            symbols=layers["change_legend"],
            symbols_title="Nachfragepunkte",
            notes=["Je Gemeinde, sobald Gemeindegrenzen geladen sind (Seite »Daten«)."],
        )
        groups = [
            maps.feature_group("Planungsgebiet", maps.outline_layer(REGISTRY.get("kreis"), outline)),
            maps.feature_group(
                "Unterschied", maps.area_points(layers["change_points"], "Nachfrage", radius=6), maps.Legend(legend)
            ),
        ]
        render_map(
            maps.base_map(fit_nrw=False, center=centre, zoom=zoom),
            groups,
            key="standort_cmp_diff",
            center=centre,
            zoom=zoom,
            height=380,
            returned=(),
            collapsed=True,
        )
    else:
        st.caption(
            "Eine Differenzkarte erscheint für Pläne nach Luftlinie oder je Gemeinde, sobald "
            "Gemeindegrenzen geladen sind (Seite »Daten«)."
        )
    table(views.diff_table(diff), hide_index=True, width="stretch")


if __name__ == "__main__":
    render()
