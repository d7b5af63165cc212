"""Bericht: the council report (PDF/HTML) for an area and scenario, and exports of any layer or result."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

import streamlit as st

from geo.formatting import de_number
from geo.io.export import (
    FORMAT_TITLES,
    FORMATS,
    MIME_TYPES,
    ExportCRS,
    ExportFormat,
    default_crs,
    export_filename,
    export_frame,
)
from geo.layers.registry import REGISTRY
from geo.layers.sources import ATTRIBUTIONS
from geo.modes import MODES
from geo.settings import Settings
from integrationsatlas import report as council
from integrationsatlas.request import AnalysisRequest, AreaRef, Unit
from ui import actions, auth, cached, state
from ui.components import attribution_footer, user_errors
from ui.i18n import current_language, labels, layer_title, mode_title, t, t_plain
from ui.uploads import default_background, osm_extract, timetable

#: Report formats (labels: ``bericht.format.<id>`` in :mod:`ui.texts`).
_REPORT_FORMATS = ("pdf", "html")
#: Measures of the report (labels: ``bericht.unit.<id>``).
_UNITS = ("km", "min")
#: Travel modes a report can use (those without a timetable: the report page loads no GTFS feed).
#: Export coordinate systems (labels: ``bericht.crs.<id>``).
_CRS = ("EPSG:25832", "EPSG:4326")
_GAPS = "result:gaps"
_PLAN = "result:plan"
#: Session key: parameters of the report built in this session.
_READY = "bericht_ready"


@dataclass(frozen=True)
class ReportParams:
    """What the report is about (its request, scenario and format); hashable, so it keys the cache."""

    request: AnalysisRequest
    scenario: str | None
    fmt: str

    @property
    def ready_key(self) -> tuple[str, str | None, str]:
        """A plain key of the built report, kept in the session (the page's classes are re-created each run)."""
        return (self.request.key, self.scenario, self.fmt)


@dataclass(frozen=True)
class ExportParams:
    """What to export, as which format and CRS."""

    source: str
    fmt: str
    crs: str


# --- page ----------------------------------------------------------------------------------------


def render() -> None:
    """Render the Bericht page."""
    st.title(t("nav.bericht"))
    st.caption(t("bericht.intro"))
    cfg = cached.settings()
    with user_errors(t("nav.bericht")):
        version = cached.store_version(cfg)
        params = _report_controls(cfg, version)
        if params is not None:
            _report_download(cfg, version, params)
            st.divider()
            _export_section(cfg, version, params)
    attribution_footer()


def _report_controls(cfg: Settings, version: str) -> ReportParams | None:
    layers = cached.available_layers(cfg, version, "facility")
    if not layers:
        st.warning(t("common.no_facilities"))
        return None
    areas = cached.report_areas(cfg, version)
    st.subheader(t("bericht.council"))
    c1, c2, c3 = st.columns([2, 2, 1.4])
    area = c1.selectbox(t("bericht.area"), list(areas), format_func=areas.__getitem__, key="bericht_area")
    layer = c2.selectbox(t("bericht.layer"), layers, format_func=labels(layers, layer_title), key="bericht_layer")
    unit = c3.radio(
        t("bericht.measure"),
        _UNITS,
        format_func=labels(_UNITS, lambda u: t(f"bericht.unit.{u}")),
        key="bericht_unit",
        horizontal=True,
    )
    c4, c5, c6 = st.columns([2, 2, 1.4])
    names = cached.report_scenarios(cfg, version, area)
    scenario = c4.selectbox(
        t("bericht.scenario"),
        ["", *names],
        format_func=labels(["", *names], lambda n: n or t("bericht.no_scenario" if names else "bericht.no_matching")),
        key="bericht_scenario",
    )
    fmt = c5.radio(
        t("bericht.format"),
        _REPORT_FORMATS,
        format_func=labels(_REPORT_FORMATS, lambda f: t(f"bericht.format.{f}")),
        horizontal=True,
        key="bericht_format",
    )
    if scenario:  # one measure throughout: the scenario's threshold, mode and data, for the chosen layer
        planned = cached.scenario_request(cfg, version, scenario)
        request = planned.coverage_part().with_(area=AreaRef(area), layer=layer)
        st.caption(t("bericht.scenario_request", request=request.threshold_label))
        return ReportParams(request=request, scenario=scenario, fmt=fmt)
    osm_file = mode = transit = None
    if unit == "km":
        threshold = c6.slider(t("bericht.threshold"), 1, 50, 15, 1, key="bericht_km")
    else:
        threshold = c6.slider(t("bericht.threshold_min"), 5, 60, 15, 5, key="bericht_min")
        mode = st.selectbox(t("common.mode"), list(MODES), format_func=labels(MODES, mode_title), key="bericht_mode")
        osm_file = osm_extract(cfg, key="bericht_osm")
        if osm_file is None:
            st.info(t("luecken.need_osm"))
            return None
        if MODES[mode].needs_timetable:  # walk + ride + walk, as on the gap page
            transit = timetable(cfg, key="bericht")
            if transit is None:
                return None
    request = AnalysisRequest(
        layer=layer, threshold=float(threshold), unit=cast(Unit, unit), mode=mode, area=AreaRef(area), osm_file=osm_file
    )
    if transit is not None:
        request = request.with_(gtfs_file=transit.gtfs_file, day=transit.day.isoformat(), window=transit.window)
    return ReportParams(request=request, scenario=None, fmt=fmt)


def _report_download(cfg: Settings, version: str, params: ReportParams) -> None:
    if st.button(t("bericht.build"), type="primary", key="bericht_build"):
        with st.spinner(t("bericht.building")):
            _report_file(cfg, version, params)
        state.put(_READY, params.ready_key)
    if state.get(_READY) != params.ready_key:
        st.info(t("bericht.choose"))
        return
    data, name = _report_file(cfg, version, params)
    st.download_button(
        t("bericht.download", fmt=params.fmt.upper(), mb=de_number(len(data) / 1e6, 1)),
        data=data,
        file_name=name,
        mime=council.MIME_TYPES[params.fmt],
        icon=":material/download:",
        key="bericht_download",
        on_click=auth.on_download(cfg, "Bericht", name, params.request.layer),  # type: ignore[arg-type]
    )
    st.success(t("bericht.ready", name=name))


def _export_section(cfg: Settings, version: str, report: ReportParams) -> None:
    st.subheader(t("bericht.export"))
    sources: dict[str, str] = {
        f"layer:{spec.id}": t_plain("bericht.source.layer", layer=layer_title(spec.id))
        for spec in REGISTRY
        if spec.id in _available(cfg, version)
    }
    request = report.request
    sources[_GAPS] = t_plain(
        "bericht.source.gaps",
        layer=layer_title(request.layer),
        km=f"{request.threshold:g} {request.unit}",
        area=request.area.code,
    )
    sources |= {f"scenario:{n}": t_plain("bericht.source.scenario", name=n) for n in actions.scenario_names(cfg)}
    plan = state.get(state.SITING_RESULT)
    if plan is not None:
        sources[_PLAN] = t("bericht.source.plan")
    c1, c2, c3 = st.columns([3, 1.6, 2])
    source = c1.selectbox(t("bericht.content"), list(sources), format_func=sources.__getitem__, key="export_source")
    fmt = c2.selectbox(
        t("bericht.format"), list(FORMATS), format_func=labels(FORMATS, _format_title), key="export_format"
    )
    crs_options = ["EPSG:4326"] if fmt == "geojson" else list(_CRS)
    crs = c3.radio(
        t("bericht.crs"),
        crs_options,
        format_func=labels(crs_options, lambda c: t(f"bericht.crs.{c}")),
        key=f"export_crs_{fmt}",
    )
    if fmt == "geojson":
        c3.caption(t("bericht.geojson_crs"))
    params = ExportParams(source=source, fmt=fmt, crs=crs or default_crs(fmt))
    if source == _PLAN:
        data, name = _plan_export(plan, params)
    else:
        with st.spinner(t("bericht.exporting")):
            data, name = cached.export_file(cfg, version, params.source, params.fmt, params.crs, report.request)
    st.download_button(
        t("bericht.download_file", name=name),
        data=data,
        file_name=name,
        mime=MIME_TYPES[fmt],
        icon=":material/download:",
        key="export_download",
        on_click=auth.on_download(cfg, "Export", name, source.partition(":")[2] or None),  # type: ignore[arg-type]
    )
    st.caption(t("bericht.attribution"))


def _format_title(fmt: str) -> str:
    """The title of an export format (German from :data:`geo.io.export.FORMAT_TITLES`, or English)."""
    return FORMAT_TITLES[fmt] if current_language() == "de" else t(f"export.{fmt}")


def _report_file(cfg: Settings, version: str, params: ReportParams) -> tuple[bytes, str]:
    background = default_background(cfg)  # this session's OSM extract, if the request names none
    return cached.report_file(cfg, version, params.request, params.scenario, params.fmt, background)


def _available(cfg: Settings, version: str) -> set[str]:
    return {
        lid
        for group in ("boundary", "facility", "poi", "demand")
        for lid in cached.available_layers(cfg, version, group)
    }


def _plan_export(plan: Any, params: ExportParams) -> tuple[bytes, str]:
    """The session's unsaved siting plan (not cacheable: it lives in this session only)."""
    name = "Standortplanung_aktuell"
    data = export_frame(
        plan.sites,
        cast(ExportFormat, params.fmt),
        cast(ExportCRS, params.crs),
        layer_name=name,
        attribution=ATTRIBUTIONS,
    )
    return data, export_filename(name, params.fmt, params.crs)


if __name__ == "__main__":
    render()
