"""Karte: NRW's Kreise as a choropleth, all facility layers, search and area profile."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import folium
import pandas as pd
import streamlit as st

from geo.layers.registry import REGISTRY
from geo.settings import Settings
from integrationsatlas import landwide
from integrationsatlas.areas import INDICATORS, Figure
from integrationsatlas.landwide import StoredResult
from ui import cached, maps, state, views
from ui.components import attribution_footer, key_values, render_map, table, user_errors
from ui.i18n import current_language, labels, layer_title, t, t_plain
from ui.map_density import aggregation_note
from ui.map_results import result_layer
from ui.markdown import md
from ui.texts import TEXTS, text

#: The Karte's map (its events are in ``st.session_state[MAP_KEY]``, see :func:`_take_click`).
MAP_KEY = "karte_map"


@dataclass(frozen=True)
class KarteParams:
    """What the Karte page shows."""

    indicator: str
    rate_layer: str | None
    facility_layers: tuple[str, ...]


def render() -> None:
    """Render the Karte page."""
    st.title(t("app.title"))
    st.caption(t("app.subtitle"))
    cfg = cached.settings()
    with user_errors(t("nav.karte")):
        version = cached.store_version(cfg)
        facilities = cached.available_layers(cfg, version, "facility")
        pois = cached.available_layers(cfg, version, "poi")

        c1, c2, c3 = st.columns([2, 2, 3])
        titles = {i.id: i.title if current_language() == "de" else t(f"indicator.{i.id}") for i in INDICATORS}
        indicator = c1.selectbox(
            t("karte.indicator"), list(titles), format_func=titles.__getitem__, key="karte_indicator"
        )
        rate_layer = None
        if next(i for i in INDICATORS if i.id == indicator).per_layer:
            rate_layer = c2.selectbox(
                t("karte.layer_for_rate"),
                facilities,
                format_func=labels(facilities, layer_title),
                key="karte_rate_layer",
            )
        query = c3.text_input(t("karte.search"), key="karte_search", placeholder=t("karte.search_placeholder"))
        params = KarteParams(indicator, rate_layer, facilities)
        filtered = {lid: _filter_choice(lid) for lid in pois if REGISTRY.get(lid).extra.get("filter_column")}
        result = _result_choice(cfg)

        map_col, side_col = st.columns([3, 1.25])
        view = _search(cfg, version, query, side_col)  # hits beside the map: never pushing it below the fold
        with map_col:
            # the level chosen in the profile panel colours the map too (Gemeinden once they are loaded)
            levels = cached.boundary_levels(cfg, version)
            level = st.session_state.get("karte_level", "kreis") if "gemeinde" in levels else "kreis"
            _take_click(cfg, version, level)  # before drawing, so that the map marks what the profile shows
            data, classification = cached.unit_choropleth(
                cfg, version, params.indicator, params.rate_layer, params.facility_layers, level, current_language()
            )
            outlines = [
                (REGISTRY.get(lvl), cached.outline_geojson(cfg, version, lvl))
                for lvl in views.OUTLINE_LEVELS
                if lvl in levels
            ]
            base = maps.base_map(outlines)
            unit = REGISTRY.get(level)
            points = {
                lid: cached.points_geojson(cfg, version, lid, filtered.get(lid))
                for lid in (*facilities, *pois)
                if not (lid in filtered and not filtered[lid])  # large filterable layers (the stops) on request
            }
            symbols = [
                (REGISTRY.get(lid).style.color, _symbol_label(lid, points.get(lid))) for lid in (*facilities, *pois)
            ]
            shown = classification if result is None else None  # a chosen result has its own legend
            legend = maps.Legend(maps.legend_rows(shown, symbols, symbols_title=t("common.legend_facilities")))
            choropleth = t_plain("karte.choropleth", layer=layer_title(level), indicator=titles[params.indicator])
            groups = [
                maps.feature_group(choropleth, maps.choropleth_layer(unit, data, layer_title(level)), legend)
                if result is None  # a chosen result is drawn instead of the choropleth
                else maps.feature_group(t_plain("common.legend_facilities"), legend)
            ]
            gemeinden = cached.gemeinde_outlines(cfg, version) if level == "kreis" else None
            if gemeinden is not None:
                groups.append(
                    maps.feature_group(layer_title("gemeinde"), maps.outline_layer(REGISTRY.get("gemeinde"), gemeinden))
                )
            for lid, data in points.items():
                spec = REGISTRY.get(lid)
                groups.append(
                    maps.feature_group(
                        _symbol_label(lid, data),
                        maps.points_layer(spec, data),
                        show=spec.group == "facility" or bool(filtered.get(lid)),
                    )
                )
            drawn = _result_group(cfg, result) if result is not None else None
            if drawn is not None:
                groups.append(drawn)
            selected = state.get(state.SELECTED_AREA)
            if selected and selected[0] in levels:  # (Gemeinden deleted meanwhile: nothing to outline)
                name = t_plain("karte.selected", layer=layer_title(selected[0]))
                outline = cached.area_outline(cfg, version, selected[1])
                groups.append(maps.feature_group(name, maps.selected_layer(outline, selected[1], name)))
            center, zoom = view if view else (None, None)
            render_map(base, groups, key=MAP_KEY, center=center, zoom=zoom, height=540, collapsed=True)
            if level == "gemeinde" and params.indicator == "foreign_share_pct":
                st.caption(t("karte.foreign_only_kreis"))
        with side_col:
            _profile(cfg, version, params)
        _area_set_indicators(cfg, version)
    attribution_footer()


def _area_set_indicators(cfg: Settings, version: str) -> None:
    """Stored indicators of an area set (Stadtteile, Sozialräume …) as a choropleth, or their change between dates."""
    sets = cached.area_set_titles(cfg, version)
    stored = {name: title for name, title in sets.items() if cached.indicator_dates(cfg, version, name)[0]}
    if not stored:
        return
    st.subheader(t("karte.sets"))
    c1, c2, c3, c4 = st.columns([2, 3, 1.3, 1.3])
    names = list(stored)
    level = c1.selectbox(
        t("karte.sets.level"),
        names,
        format_func=labels(names, lambda n: t_plain("luecken.by_set", title=stored[n], name=n)),
        key="karte_set",
    )
    dates, titles = cached.indicator_dates(cfg, version, level)
    ids = list(titles)
    indicator = c2.selectbox(
        t("karte.sets.indicator"), ids, format_func=labels(ids, titles.__getitem__), key="karte_set_indicator"
    )
    on = c3.selectbox(t("karte.sets.date"), list(dates), key="karte_set_date")
    earlier = [d for d in dates if d < on]
    before = c4.selectbox(
        t("karte.sets.before"),
        ["", *earlier],
        format_func=labels(["", *earlier], lambda d: d or t("karte.sets.no_change")),
        key="karte_set_before",
    )
    data, classification, sources = cached.indicator_map(cfg, version, level, indicator, on, before or None)
    group = maps.feature_group(
        classification.title,
        maps.choropleth_layer(level, data, stored[level]),
        maps.Legend(maps.legend_rows(classification)),
    )
    center, zoom = cached.area_set_view(cfg, version, level)
    render_map(maps.base_map([]), [group], key="karte_set_map", center=center, zoom=zoom, height=440, collapsed=True)
    st.caption(t("karte.sets.caption"))
    if sources:
        st.caption(md(t_plain("karte.sets.sources", sources=sources)))


def _filter_choice(layer_id: str) -> tuple[str, ...]:
    """The values of a layer's filter column to draw (none by default), chosen in the sidebar."""
    spec = REGISTRY.get(layer_id)
    column = spec.column(spec.extra["filter_column"])
    labels = dict(zip(column.choices or (), column.choice_titles or column.choices or (), strict=True))
    if current_language() == "en":
        labels = {value: t(f"stops.{value}") if f"stops.{value}" in TEXTS else value for value in labels}
    column_title = column.title if current_language() == "de" else t("karte.filter_column")
    chosen = st.sidebar.multiselect(
        t("karte.filter", layer=layer_title(layer_id), column=column_title),
        list(labels),
        format_func=labels.__getitem__,
        key=f"karte_filter_{layer_id}",
        placeholder=t("common.none"),
        select_all=False,  # Streamlit's bulk action is English only (»Select all«)
    )
    return tuple(chosen)


def _result_choice(cfg: Settings) -> StoredResult | None:
    """The stored Land-wide result to draw (none by default), chosen in the sidebar."""
    results, problems = cached.stored_results(cfg)
    for problem in problems:
        st.sidebar.caption(md(problem))
    if not results:
        return None
    by_path = {str(r.path): r for r in results}
    chosen = st.sidebar.selectbox(
        t("karte.result"),
        ["", *by_path],
        format_func=lambda p: t_plain("common.none") if not p else result_label(by_path[p]),
        key="karte_result",
        help=t("karte.result_help", folder=f"{landwide.RESULTS_FOLDER}/"),
    )
    return by_path.get(chosen) if chosen else None


def _result_group(cfg: Settings, result: StoredResult) -> folium.FeatureGroup | None:
    """The result's image tiles and legend (tiles rendered once, then served from ``static/``); ``None`` if gone."""
    try:
        mtime_ns = result.path.stat().st_mtime_ns
    except OSError:  # removed since the folder was listed
        return None
    with st.spinner(t("karte.result_rendering")):
        tiles, pyramid = cached.result_tiles(cfg, str(result.path), mtime_ns)
    return result_layer(tiles, pyramid, t_plain("karte.result_layer", name=result_label(result)))


def result_label(result: StoredResult) -> str:
    """A stored result as planners name it: layer, threshold and area, then the file (a batch names it by key)."""
    request = result.request
    return f"{layer_title(request.layer)}, {request.threshold_label}, AGS {request.area.code} ({result.path.stem})"


def _symbol_label(layer_id: str, data: dict | None = None) -> str:
    """The layer's name in legend and layer control; says so when its points are drawn as counted cells."""
    label = t_plain("karte.ki_symbol", layer=layer_title(layer_id)) if layer_id == "ki" else layer_title(layer_id)
    note = aggregation_note(data) if data is not None else None
    return t_plain("map.aggregated", layer=label, **note) if note else label


def _search(cfg: Settings, version: str, query: str, where: Any) -> tuple[tuple[float, float], int] | None:
    """Resolve the search box to a map view and select the unit found (messages and hits go into ``where``)."""
    if not query.strip():
        return None
    hits = cached.search_areas(cfg, version, query)
    if not hits:
        where.warning(t("karte.no_hit", query=query))
        return None
    if len(hits) > 1:
        chosen = where.selectbox(t("karte.hits"), hits, format_func=lambda h: h.label, key="karte_search_hit")
    else:
        chosen = hits[0]
    state.put(state.SELECTED_AREA, (chosen.level, chosen.ags))
    return cached.area_view(cfg, version, chosen.level, chosen.ags)


def _take_click(cfg: Settings, version: str, level: str) -> None:
    """Select the unit of ``level`` under the map's last click, if that click is new.

    streamlit-folium stores the map's events under its key before the rerun they
    trigger, so the click is taken before the map is drawn and the map marks the
    area that the profile beside it shows.
    """
    clicked = (st.session_state.get(MAP_KEY) or {}).get("last_object_clicked")
    if not clicked or "lat" not in clicked or (clicked["lat"], clicked["lng"]) == state.get(state.LAST_CLICK):
        return
    state.put(state.LAST_CLICK, (clicked["lat"], clicked["lng"]))
    ags = cached.area_at(cfg, version, level, clicked["lat"], clicked["lng"])
    if ags:
        state.put(state.SELECTED_AREA, (level, ags))


def _profile(cfg: Settings, version: str, params: KarteParams) -> None:
    """The profile of the clicked or searched unit (outlined on the map)."""
    st.subheader(t("karte.profile"))
    if "gemeinde" in cached.boundary_levels(cfg, version):
        st.radio(
            t("karte.level"),
            ["kreis", "gemeinde"],
            horizontal=True,
            key="karte_level",
            format_func=labels(["kreis", "gemeinde"], lambda lvl: t(f"level.{lvl}")),
            persist_state="session",  # still chosen when the planner comes back from another page
        )
    selected = state.get(state.SELECTED_AREA)
    if not selected:
        st.info(t("karte.click_hint"))
        return
    level, ags = selected
    profile = cached.area_profile(cfg, version, level, ags, params.facility_layers)
    st.markdown(t("common.bold", text=profile.name))
    key_values([(_figure_label(f), f.value) for f in profile.figures])
    st.markdown(t("common.bold", text=t("karte.facilities")) + md(f" ({len(profile.facilities)})"))
    table(_facility_headers(profile.facilities), max_height=260)


#: Headers of the facility table of an area profile (German as :func:`integrationsatlas.areas.area_profile` names them).
_FACILITY_HEADERS = ("col.kind", "col.name", "col.operator", "col.place", "col.precision", "col.source")
_ENGLISH_LAYER_TITLES = {spec.title: spec.title_en for spec in REGISTRY}


def _facility_headers(frame: pd.DataFrame) -> pd.DataFrame:
    """The facility table with its headers (and the layer titles in its first column) in the current language."""
    if current_language() == "de":
        return frame
    kind = text("col.kind", "de")
    if kind in frame.columns:
        frame = frame.assign(**{kind: frame[kind].map(lambda title: _ENGLISH_LAYER_TITLES.get(title, title))})
    return frame.rename(columns={text(key, "de"): t(key) for key in _FACILITY_HEADERS})


def _figure_label(figure: Figure) -> str:
    """The label of an area's key figure in the current language, with its date where it has one."""
    if figure.term == "layer":
        return layer_title(figure.layer)
    dated = "_dated" if figure.date else ""
    return t_plain(f"karte.fig.{figure.term}{dated}", date=figure.date)


if __name__ == "__main__":
    render()
