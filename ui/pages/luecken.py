"""Versorgungslücken: covered share per unit, ranking, curve and isochrones."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, cast

import altair as alt
import streamlit as st

from geo.formatting import de_int, de_share
from geo.layers.registry import REGISTRY
from geo.levels import analysis_level
from geo.modes import MODES
from geo.settings import Settings
from integrationsatlas.request import AnalysisRequest, AreaRef, Unit
from ui import cached, decisions, maps, views
from ui.components import attribution_footer, chart, render_map, table, user_errors
from ui.i18n import current_language, labels, layer_title, mode_title, t, t_plain
from ui.markdown import md
from ui.uploads import WINDOWS, osm_extract, timetable

if TYPE_CHECKING:
    from integrationsatlas.coverage import CoverageReport

#: Target groups (labels: ``luecken.target.<id>`` in :mod:`ui.texts`).
_TARGET_GROUPS = ("total", "foreign", "u3", "kita_ue3", "grundschule", "u18")
#: Measures (labels: ``luecken.unit.<id>``).
_UNITS = ("km", "min")


def render() -> None:
    """Render the Versorgungslücken page."""
    st.title(t("nav.luecken"))
    cfg = cached.settings()
    with user_errors(t("nav.luecken")):
        version = cached.store_version(cfg)
        params = _controls(cfg, version)
        if params is None:
            return
        report = cached.coverage(cfg, version, params)
        # map and figures first, so that they fit above the fold on a 1366×768 screen
        map_col, table_col = st.columns([1.3, 1])
        with map_col:
            _gap_map(cfg, version, params, rough=not report.resolution.ok)
        with table_col:
            # the caveats stand beside the map, right above the figures they qualify (not above the map,
            # where they pushed it below the fold at 1366×768)
            if not report.resolution.ok:  # a share from too coarse demand is not a result: say so first
                st.warning(t("common.bold", text=report.resolution.message) + " " + t("luecken.fix_below"))
            if report.extent is not None and report.extent.partial:  # never the bare area beside a partial figure
                st.warning(t("luecken.extent", caption=report.extent.caption))
            m1, m2, m3 = st.columns(3)
            m1.metric(
                t("luecken.covered_total") if report.resolution.ok else t("luecken.covered_rough"),
                de_share(report.share_covered, 1),
                help=t("luecken.covered_people", people=de_int(report.covered_weight)),
            )
            m2.metric(t("luecken.demand_points"), de_int(report.n_demand))
            m3.metric(
                t("luecken.facilities"),
                de_int(report.n_facilities_in_area),
                help=t("luecken.facilities_help", n=de_int(report.n_facilities)),
            )
            decisions.show_coverage(report)
            rough = "" if report.resolution.ok else f" ({t_plain('luecken.rough')})"
            st.markdown(t("common.bold", text=t("luecken.ranking")) + md(rough))
            key_title = analysis_level(params.by, cfg).key_title
            table(views.ranking_table(report, current_language(), key_title), max_height=300, key="luecken_table")
            if report.gaps.score_note:
                st.caption(md(report.gaps.score_note))
        st.caption(
            t("luecken.covered_line", people=de_int(report.covered_weight), share=de_share(report.share_covered, 1))
        )
        st.info(t("luecken.demand", label=report.demand_level_label))
        if not report.resolution.ok:
            st.warning(t("luecken.fix", fix=report.resolution.fix))
        st.caption(md(" · ".join([report.inputs.citation(), *report.inputs.notes])))
        st.subheader(t("luecken.curve"))
        _curve(report, params)
    attribution_footer()


def _controls(cfg: Settings, version: str) -> AnalysisRequest | None:
    layers = cached.available_layers(cfg, version, "facility")
    if not layers:
        st.warning(t("common.no_facilities"))
        return None
    kreise = cached.kreis_names(cfg, version)
    levels = cached.boundary_levels(cfg, version)
    c1, c2, c3, c4 = st.columns(4)
    layer = c1.selectbox(t("luecken.layer"), layers, format_func=labels(layers, layer_title), key="luecken_layer")
    target = c2.selectbox(
        t("luecken.target"),
        _TARGET_GROUPS,
        format_func=labels(_TARGET_GROUPS, lambda g: t(f"luecken.target.{g}")),
        key="luecken_target",
    )
    area = c3.selectbox(
        t("luecken.area"),
        ["", *kreise],
        format_func=labels(
            ["", *kreise], lambda a: t_plain("common.area_option", name=kreise[a], ags=a) if a else t("common.all_nrw")
        ),
        key="luecken_area",
    )
    sets = cached.area_set_titles(cfg, version)  # area sets are levels too; their names and titles are data
    by_options = ["kreis", *(["gemeinde"] if "gemeinde" in levels else []), *sets]
    by = c4.selectbox(
        t("luecken.by"),
        by_options,
        format_func=labels(by_options, lambda lvl: _level_label(lvl, sets)),
        key="luecken_by",
    )
    c5, c6, c7 = st.columns([1.6, 1, 1.6])
    unit = c5.radio(
        t("luecken.measure"),
        _UNITS,
        format_func=labels(_UNITS, lambda u: t(f"luecken.unit.{u}")),
        key="luecken_unit",
        horizontal=True,
    )
    osm_file = mode = gtfs_file = day = None
    window = next(iter(WINDOWS))
    if unit == "km":
        threshold = c7.slider(t("luecken.threshold_km"), 1, 50, 10, 1, key="luecken_km")
    else:
        mode = c6.selectbox(t("common.mode"), list(MODES), format_func=labels(MODES, mode_title), key="luecken_mode")
        threshold = c7.slider(t("luecken.threshold_min"), 5, 60, 15, 5, key="luecken_min")
        osm_file = osm_extract(cfg, key="luecken_osm")
        if osm_file is None:
            st.info(t("luecken.need_osm"))
            return None
        if MODES[mode].needs_timetable:
            chosen = timetable(cfg, key="luecken")
            if chosen is None:
                return None
            gtfs_file, day, window = chosen.gtfs_file, chosen.day, chosen.window
    place_share = decisions.place_share_control(layer, "luecken_place_share")
    return AnalysisRequest(
        layer=layer,
        threshold=float(threshold),
        unit=cast(Unit, unit),
        mode=mode,
        area=AreaRef(area) if area else AreaRef("", set=by) if by in sets else AreaRef("05"),
        by=by,
        target_group=target,
        osm_file=osm_file,
        gtfs_file=gtfs_file,
        day=day.isoformat() if day else None,
        window=window,
        place_share=place_share,
    )


def _level_label(level: str, sets: dict[str, str]) -> str:
    """The menu label of a level: Kreise, Gemeinden, or an area set's title and name (as plain text)."""
    if level in sets:
        return t_plain("luecken.by_set", title=sets[level], name=level)
    return t({"kreis": "level.kreise", "gemeinde": "level.gemeinden"}[level])


def _by_title(level: str, sets: dict[str, str]) -> str:
    """The plural title of a level for map layers (area sets: their title, as text)."""
    return sets[level] if level in sets else layer_title(level)


def _gap_map(cfg: Settings, version: str, params: AnalysisRequest, *, rough: bool) -> None:
    """The units coloured by their share; ``rough`` marks the legend when the demand is too coarse."""
    data, classification = cached.gap_map(cfg, version, params)
    if current_language() == "en":  # the legend titles come German from ui.views
        unit = t("luecken.legend_km") if params.unit == "km" else f"min ({mode_title(str(params.mode))})"
        title = t_plain("luecken.legend", threshold=params.threshold, unit=unit)
        mark = f" – {t_plain('luecken.rough')}" if rough else ""
        classification = replace(classification, title=title + mark)
    spec = REGISTRY.get(params.layer)
    sets = cached.area_set_titles(cfg, version)
    unit_spec = params.by if params.by in sets else REGISTRY.get(params.by)
    by_title = _by_title(params.by, sets)
    outlines = [(REGISTRY.get(level), cached.outline_geojson(cfg, version, level)) for level in views.OUTLINE_LEVELS]
    grid = cached.cell_grid(cfg, version, params)
    points = maps.feature_group(
        layer_title(params.layer), maps.points_layer(spec, cached.points_geojson(cfg, version, params.layer))
    )
    area = params.area.code
    view: tuple[tuple[float, float] | None, int | None] = (None, None)
    if params.area.set is not None:
        view = cached.area_set_view(cfg, version, params.area.set, area)
    elif len(area) == 5:
        view = cached.area_view(cfg, version, "kreis", area)
    if grid is None:
        groups = [
            maps.feature_group(
                t_plain("luecken.coverage_layer", units=by_title),
                maps.choropleth_layer(unit_spec, data, by_title),
                maps.Legend(
                    maps.legend_rows(
                        classification,
                        [(spec.style.color, layer_title(params.layer))],
                        symbols_title=t("common.legend_facilities"),
                    )
                ),
            ),
            points,
        ]
    else:  # the demand is fine: show where inside the area people are beyond the threshold, cell by cell
        cells, values, cell_cls = grid
        if current_language() == "en":
            unit = "km" if params.unit == "km" else "min"
            cell_cls = replace(cell_cls, title=t_plain("luecken.cell_legend", unit=unit))
        groups = [
            maps.feature_group(
                cell_cls.title,
                maps.grid_overlay(cells, values, cell_cls, opacity=0.85),
                maps.Legend(
                    maps.legend_rows(
                        cell_cls,
                        [(spec.style.color, layer_title(params.layer))],
                        symbols_title=t("common.legend_facilities"),
                    )
                ),
            ),
            points,
        ]
        view = maps.bounds_of(cells, width_px=700)
    if params.unit == "min" and params.osm_file:
        choices = cached.facility_choices(cfg, version, params.layer, None if area == "05" else area)
        picked = st.multiselect(
            t("luecken.isochrones_for"),
            list(choices),
            format_func=choices.__getitem__,
            key="luecken_iso",
            max_selections=10,
            placeholder=t("luecken.isochrones_placeholder"),
            select_all=False,  # Streamlit's bulk action is English only (»Select all«)
        )
        if picked:
            iso = cached.isochrones(cfg, version, params, tuple(picked))
            groups.append(
                maps.feature_group(
                    t_plain("luecken.isochrones_layer", minutes=params.threshold),
                    maps.area_layer(iso, t("luecken.isochrones"), maps.isochrone_color(params.threshold)),
                )
            )
    render_map(
        maps.base_map(outlines, osm_file=params.osm_file),
        groups,
        key="luecken_map",
        center=view[0],
        zoom=view[1],
        height=440,
        returned=(),
        collapsed=True,
    )


def _curve(report: CoverageReport, params: AnalysisRequest) -> None:
    curve = views.curve_table(report)
    unit = "km" if params.unit == "km" else t("unit.minutes")
    covered = t("col.covered_pct")
    line = (
        alt.Chart(curve)
        .mark_line(color="#1f4e79")
        .encode(
            x=alt.X("threshold:Q", title=t_plain("luecken.threshold_axis", unit=unit)),
            y=alt.Y("Versorgt (%):Q", title=covered, scale=alt.Scale(domain=[0, 100])),
            tooltip=[
                alt.Tooltip("threshold:Q", title=t_plain("luecken.threshold_axis", unit=unit)),
                alt.Tooltip("Versorgt (%):Q", title=covered, format=".1f"),
            ],
        )
    )
    band = decisions.curve_band(report, t_plain("luecken.threshold_axis", unit=unit))
    rule = (
        alt.Chart(alt.Data(values=[{"x": params.threshold}]))
        .mark_rule(color="#D55E00", strokeDash=[4, 3])
        .encode(x="x:Q")
    )
    chart(line + rule if band is None else band + line + rule, 260)
    st.caption(t("luecken.dashed", threshold=params.threshold, unit=unit))


if __name__ == "__main__":
    render()
