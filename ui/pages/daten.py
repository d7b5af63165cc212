"""Daten: upload files, fetch official/OSM data, the layer inventory, manage imports."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import streamlit as st

from geo.access import DELETE, IMPORT
from geo.formatting import de_int
from geo.layers.registry import REGISTRY
from geo.layers.sources import IMPORT_PRESETS
from geo.settings import Settings
from ui import actions, auth, cached, views
from ui.components import attribution_footer, problem_table, table, user_errors
from ui.i18n import current_language, labels, layer_title, t, t_plain
from ui.markdown import Markdown, md
from ui.uploads import osm_extract

#: Layer groups that accept uploads (plus Gemeinde boundaries).
_IMPORT_GROUPS = ("facility", "poi")
#: Import modes (labels: ``daten.mode.<id>`` in :mod:`ui.texts`).
_MODES = ("append", "replace")
#: What to do with invalid rows (labels: ``daten.invalid.<id>``).
_ON_INVALID = ("keep_valid", "reject")


@dataclass(frozen=True)
class UploadParams:
    """One upload as the user configured it."""

    layer_id: str
    name: str
    content: bytes
    mode: str
    on_invalid: str


def render() -> None:
    """Render the Daten page."""
    st.title(t("nav.daten"))
    cfg = cached.settings()
    if auth.allows(IMPORT):  # a role without imports sees no import controls at all
        upload_tab, osm_tab, population_tab, fetch_tab, inventory_tab, batches_tab = _tabs(
            [
                t("daten.upload"),
                t("daten.osm_tab"),
                t("daten.population"),
                t("daten.fetch"),
                t("daten.inventory"),
                t("daten.batches"),
            ]
        )
        with upload_tab, user_errors(t("daten.err.import")):
            if upload_tab.open is not False:
                _upload(cfg)
        with upload_tab, user_errors(t("daten.sets")):
            if upload_tab.open is not False:
                st.divider()
                _area_set(cfg)
        with osm_tab, user_errors(t("daten.osm_tab")):
            if osm_tab.open is not False:
                _osm(cfg)
        with population_tab, user_errors(t("daten.population")):
            if population_tab.open is not False:
                _population(cfg)
        with fetch_tab, user_errors(t("daten.err.fetch")):
            if fetch_tab.open is not False:
                _fetch(cfg)
    else:
        inventory_tab, batches_tab = _tabs([t("daten.inventory"), t("daten.batches")])
    with inventory_tab, user_errors(t("daten.err.inventory")):
        if inventory_tab.open is not False:
            frame = views.localize_inventory(cached.inventory(cfg, cached.store_version(cfg)), current_language())
            table(frame, hide_index=True, width="stretch")
    with batches_tab, user_errors(t("daten.err.batches")):
        if batches_tab.open is not False:
            _batches(cfg)
    attribution_footer()


def _tabs(labels: list[Markdown]) -> Sequence[Any]:
    """The page's tabs; on a server with login only the open one runs (``.open`` is then true or false).

    There every import anywhere changes the store version, so every tab would be computed afresh on every
    run; without login all tabs run as before (``.open`` is ``None``).
    """
    if auth.current() is None:
        return st.tabs(labels)
    return st.tabs(labels, key="daten_tabs", on_change="rerun")


def _importable() -> list[str]:
    ids = [s.id for g in _IMPORT_GROUPS for s in REGISTRY.by_group(g)]  # type: ignore[arg-type]
    return [*ids, "gemeinde"]


def _upload(cfg: Settings) -> None:
    st.markdown(t("daten.formats", mb=cfg.max_upload_bytes // (1024 * 1024)))
    c1, c2 = st.columns(2)
    # no default: a Kita list must never land in the KI layer because it was preselected
    layer_id = c1.selectbox(
        t("daten.layer"),
        _importable(),
        index=None,
        placeholder=t("daten.layer_choose"),
        format_func=labels(_importable(), layer_title),
        key="daten_layer",
    )
    if layer_id is None:
        st.info(t("daten.layer_first"))
        return
    spec = REGISTRY.get(layer_id)
    c2.caption(md(spec.description or ""))
    required = t("daten.required")
    if current_language() == "de":
        columns = [f"{c.title} ({c.name}{', ' + required if c.required else ''})" for c in spec.columns]
    else:  # the column titles are German names of the data: English shows the column names only
        columns = [f"{c.name} ({required})" if c.required else c.name for c in spec.columns]
    c2.caption(t("daten.columns", columns=", ".join(columns)))
    uploaded = st.file_uploader(
        t("daten.file"), type=["csv", "txt", "xlsx", "geojson", "json", "gpkg", "zip"], key="daten_file"
    )
    c3, c4 = st.columns(2)
    mode = c3.radio(
        t("daten.existing"),
        _MODES,
        index=None,  # replace or append is the user's explicit choice
        format_func=labels(_MODES, lambda m: t(f"daten.mode.{m}")),
        key="daten_mode",
    )
    on_invalid = c4.radio(
        t("daten.on_invalid"),
        _ON_INVALID,
        format_func=labels(_ON_INVALID, lambda o: t(f"daten.invalid.{o}")),
        key="daten_on_invalid",
    )
    if uploaded is None:
        return
    if mode is None:
        st.info(t("daten.mode_first"))
        return
    params = UploadParams(layer_id, uploaded.name, uploaded.getvalue(), mode, on_invalid)
    version = cached.store_version(cfg)
    preview = cached.import_preview(cfg, version, params.layer_id, params.name, params.content, params.on_invalid)
    m1, m2, m3 = st.columns(3)
    m1.metric(t("daten.rows_in"), de_int(preview.rows_in))
    m2.metric(t("daten.rows_kept"), de_int(preview.rows_kept))
    m3.metric(t("daten.problems"), de_int(len(preview.problems)))
    for note in preview.notes:
        st.info(md(note))
    if preview.problems:
        st.warning(t("daten.report", n=len(preview.problems), file=params.name))
        problem_table(preview.problems)
    else:
        st.success(t("daten.no_problems", file=params.name))
    if len(preview.data):
        st.markdown(t("daten.preview", n=20))
        table(views.preview_table(preview, 20), hide_index=True, width="stretch")
    provenance = _provenance()
    if st.button(t("daten.import"), type="primary", key="daten_import"):
        result = actions.run_import(
            cfg, params.layer_id, params.name, params.content, params.mode, params.on_invalid, provenance
        )
        batch = result.batch.batch_id if result.batch else "–"
        st.success(t("daten.imported", rows=result.rows_kept, layer=layer_title(layer_id), batch=batch))


def _area_set(cfg: Settings) -> None:
    """Import a polygon file (Stadtteile, Sozialräume …) as an area set: checked first, stored on request."""
    st.subheader(t("daten.sets"))
    st.caption(t("daten.sets.help"))
    upload = st.file_uploader(t("daten.file"), type=["geojson", "json", "gpkg", "zip"], key="daten_set_file")
    c1, c2 = st.columns(2)
    name = c1.text_input(t("daten.sets.name"), key="daten_set_name", placeholder="koeln-stadtteile")
    title = c2.text_input(t("daten.sets.title"), key="daten_set_title", placeholder=t_plain("daten.sets.title_example"))
    if upload is None or not name.strip():
        return
    provenance = _provenance(key="daten_set")
    checked = actions.import_area_set_file(cfg, upload.name, upload.getvalue(), name, title=title, dry_run=True)
    for line in checked.check.findings():
        st.info(md(line))
    if checked.check.problems:
        problem_table(checked.check.problems)
        return
    if st.button(t("daten.sets.import"), type="primary", key="daten_set_import"):
        result = actions.import_area_set_file(
            cfg, upload.name, upload.getvalue(), name, title=title, provenance=provenance
        )
        stored = result.area_set
        if stored is not None:
            st.success(t("daten.sets.done", name=md(stored.name), n=de_int(stored.n_units)))


def _osm(cfg: Settings) -> None:
    """The OSM extract of this session, for every page (travel times, background map, report)."""
    st.markdown(t("daten.osm_help"))
    path = osm_extract(cfg, key="daten_osm")
    if path is not None:
        st.success(t("daten.osm_ready", file=Path(path).name))


def _provenance(key: str = "daten") -> tuple[str, str, str]:
    """Publisher, licence and reference date of an upload; a known source fills in the first two."""
    presets = ["", *IMPORT_PRESETS]
    p1, p2, p3, p4 = st.columns([1.2, 2, 1.4, 1.2])
    known = p1.selectbox(
        t("daten.known_source"),
        presets,
        format_func=labels(presets, lambda k: IMPORT_PRESETS[k].title if k else t("daten.own_source")),
        key=f"{key}_source",
    )
    preset = IMPORT_PRESETS.get(known)
    publisher = p2.text_input(
        t("daten.publisher"), value=preset.publisher if preset else "", key=f"{key}_publisher_{known}"
    )
    licence = p3.text_input(
        t("daten.licence_input"), value=preset.licence if preset else "", key=f"{key}_licence_{known}"
    )
    as_of = p4.text_input(t("daten.as_of"), value="", key=f"{key}_as_of")
    return publisher, licence, as_of


def _population(cfg: Settings) -> None:
    _gemeinde_population(cfg)
    st.divider()
    _zensus(cfg)
    st.divider()
    _area_population(cfg)


def _area_population(cfg: Settings) -> None:
    """Residents (and target groups) per area of a stored area set, e.g. the city's figures per Stadtteil."""
    st.caption(t("daten.set_population_help"))
    sets = views.area_set_titles(cfg)
    if not sets:
        st.info(t("daten.set_population_no_set"))
        return
    name = st.selectbox(t("daten.sets.level"), list(sets), format_func=lambda n: f"{sets[n]} ({n})",
                        key="daten_setpop_set")  # fmt: skip
    upload = st.file_uploader(t("daten.set_population_file"), type=["csv", "xlsx"], key="daten_setpop_file")
    if upload is None:
        return
    provenance = _provenance(key="daten_setpop")
    if st.button(t("daten.set_population_import"), type="primary", key="daten_setpop_import"):
        counted, recomputed = actions.import_area_population_file(cfg, upload.name, upload.getvalue(), name, provenance)
        st.success(
            t(
                "daten.set_population_done",
                n=de_int(len(counted.table)),
                name=md(name),
                population=de_int(counted.table["population"].sum()),
                date=md(counted.as_of),
            )
        )
        for line in recomputed:
            st.info(md(t_plain("daten.set_population_recomputed", what=line)))


def _zensus(cfg: Settings) -> None:
    st.caption(t("daten.zensus_help"))
    files = st.file_uploader(
        t("daten.zensus_file"), type=["zip", "csv"], accept_multiple_files=True, key="daten_zensus"
    )
    if files and st.button(t("daten.zensus_import"), type="primary", key="daten_zensus_import"):
        result = actions.import_zensus_files(cfg, [(f.name, f.getvalue()) for f in files])
        st.success(
            t(
                "daten.zensus_done",
                cells=de_int(result.cells_nrw),
                resolution=result.resolution_m,
                population=de_int(result.population_nrw),
                themes=", ".join(result.themes),
            )
        )
        for note in result.notes:
            st.info(md(note))


def _gemeinde_population(cfg: Settings) -> None:
    st.caption(t("daten.population_help"))
    upload = st.file_uploader(t("daten.population_file"), type=["xlsx", "csv", "txt"], key="daten_population")
    if upload is not None and st.button(t("daten.population_import"), type="primary", key="daten_population_import"):
        result = actions.import_population(cfg, upload.name, upload.getvalue())
        st.success(
            t(
                "daten.population_done",
                n=len(result.table),
                population=de_int(result.table["population"].sum()),
                date=result.stichtag or t("daten.unknown"),
                source=result.stichtag_source,
            )
        )


def _fetch(cfg: Settings) -> None:
    from geo.sources.fetching import SOURCES

    st.markdown(t("daten.fetch_help"))
    if not cfg.online:
        st.warning(t("daten.offline"))
    version = cached.store_version(cfg)
    kreise = cached.kreis_names(cfg, version)
    c1, c2 = st.columns(2)
    source = c1.selectbox(
        t("daten.source"), list(SOURCES), format_func=lambda s: f"{SOURCES[s].title} ({s})", key="daten_fetch_source"
    )
    kreis = c2.selectbox(
        t("daten.kreis"),
        ["", *kreise],
        format_func=labels(
            ["", *kreise], lambda a: t_plain("common.area_option", name=kreise[a], ags=a) if a else t("common.all_nrw")
        ),
        key="daten_fetch_kreis",
    )
    st.caption(t("daten.licence", licence=SOURCES[source].licence, attribution=SOURCES[source].attribution))
    if st.button(t("daten.fetch_run"), key="daten_fetch_run"):
        bar = st.progress(0.0, text=t("daten.connecting"))

        def progress(done: int, total: int | None) -> None:
            if total:
                bar.progress(min(done / total, 1.0), text=t("daten.download_of", done=done / 1e6, total=total / 1e6))
            else:
                bar.progress(0.5, text=t("daten.download", done=done / 1e6))

        try:
            result = actions.fetch(cfg, source, kreis or None, progress)
        finally:
            bar.empty()  # never a bar left standing at »Verbinde …« above the error
        for layer in result.layers:
            title = layer_title(layer.layer_id) if layer.layer_id in REGISTRY else layer.layer_id
            st.success(t("daten.fetched", layer=title, kept=layer.rows_kept, total=layer.rows_in))
        for note in result.notes:
            st.info(md(note))
        problem_table(result.problems)


def _batches(cfg: Settings) -> None:
    rows = actions.batches(cfg)
    if not rows:
        st.info(t("daten.nothing"))
        return
    table(views.batches_table(rows, current_language()), hide_index=True, width="stretch")
    labels = {
        b.batch_id: t_plain(
            "daten.batch_label",
            batch=b.batch_id,
            file=b.source_file,
            status=t("daten.active") if b.active else t("daten.inactive"),
        )
        for b in rows
    }
    if not auth.allows(DELETE):
        return
    chosen = st.selectbox(t("daten.batch"), list(labels), format_func=labels.__getitem__, key="daten_batch")
    active = next(b.active for b in rows if b.batch_id == chosen)
    if active and st.button(t("daten.delete"), key="daten_batch_delete"):
        actions.set_batch_active(cfg, chosen, False)
        st.rerun()
    if not active and st.button(t("daten.restore"), key="daten_batch_restore"):
        actions.set_batch_active(cfg, chosen, True)
        st.rerun()


if __name__ == "__main__":
    render()
