"""Daten: upload files, fetch official/OSM data, the layer inventory, manage imports."""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from geo.formatting import de_int
from geo.layers.registry import REGISTRY
from geo.settings import Settings
from ui import actions, cached, views
from ui.components import attribution_footer, problem_table, table, user_errors
from ui.i18n import t

#: Layer groups that accept uploads (plus Gemeinde boundaries).
_IMPORT_GROUPS = ("facility", "poi")
_MODES = {
    "append": "Anhängen (zu den vorhandenen Daten)",
    "replace": "Ersetzen (frühere Importe bleiben wiederherstellbar)",
}
_ON_INVALID = {
    "keep_valid": "Gültige Zeilen übernehmen, fehlerhafte auslassen",
    "reject": "Ganze Datei ablehnen, wenn ein Fehler vorkommt",
}


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
    upload_tab, population_tab, fetch_tab, inventory_tab, batches_tab = st.tabs(
        [t("daten.upload"), t("daten.population"), t("daten.fetch"), t("daten.inventory"), t("daten.batches")]
    )
    with upload_tab, user_errors("Import"):
        _upload(cfg)
    with population_tab, user_errors("Einwohner je Gemeinde"):
        _population(cfg)
    with fetch_tab, user_errors("Abruf"):
        _fetch(cfg)
    with inventory_tab, user_errors("Bestand"):
        table(cached.inventory(cfg, cached.store_version(cfg)), hide_index=True, width="stretch")
    with batches_tab, user_errors("Importe"):
        _batches(cfg)
    attribution_footer()


def _importable() -> list[str]:
    ids = [s.id for g in _IMPORT_GROUPS for s in REGISTRY.by_group(g)]  # type: ignore[arg-type]
    return [*ids, "gemeinde"]


def _upload(cfg: Settings) -> None:
    st.markdown(
        "CSV (Trennzeichen ; oder ,), Excel (XLSX), GeoJSON, GeoPackage oder gezipptes Shapefile. "
        "Pflichtspalten: **id**, **name** und eine Lage (Längen-/Breitengrad, UTM-32-Koordinaten, "
        f"Geometrie oder PLZ). Höchstens {cfg.max_upload_bytes // (1024 * 1024)} MB."
    )
    c1, c2 = st.columns(2)
    layer_id = c1.selectbox("Ebene", _importable(), format_func=lambda lid: REGISTRY.get(lid).title, key="daten_layer")
    spec = REGISTRY.get(layer_id)
    c2.caption(spec.description or "")
    c2.caption(
        "Spalten: " + ", ".join(f"{c.title} ({c.name}{', Pflicht' if c.required else ''})" for c in spec.columns)
    )
    uploaded = st.file_uploader(
        "Datei", type=["csv", "txt", "xlsx", "geojson", "json", "gpkg", "zip"], key="daten_file"
    )
    c3, c4 = st.columns(2)
    mode = c3.radio("Vorhandene Daten", list(_MODES), format_func=_MODES.__getitem__, key="daten_mode")
    on_invalid = c4.radio(
        "Bei fehlerhaften Zeilen", list(_ON_INVALID), format_func=_ON_INVALID.__getitem__, key="daten_on_invalid"
    )
    if uploaded is None:
        return
    params = UploadParams(layer_id, uploaded.name, uploaded.getvalue(), mode, on_invalid)
    version = cached.store_version(cfg)
    preview = cached.import_preview(cfg, version, params.layer_id, params.name, params.content, params.on_invalid)
    m1, m2, m3 = st.columns(3)
    m1.metric("Zeilen in der Datei", preview.rows_in)
    m2.metric("Gültige Zeilen", preview.rows_kept)
    m3.metric("Probleme", len(preview.problems))
    for note in preview.notes:
        st.info(note)
    if preview.problems:
        st.warning(
            f"Prüfbericht: {len(preview.problems)} Problem(e) in {params.name}. "
            "Jede Zeile nennt Datei, Zeile, Spalte und was zu tun ist."
        )
        problem_table(preview.problems)
    else:
        st.success(f"{params.name}: keine Probleme gefunden.")
    if len(preview.data):
        st.markdown("**Vorschau** (die ersten 20 gültigen Zeilen, wie sie gespeichert werden)")
        table(views.preview_table(preview, 20), hide_index=True, width="stretch")
    if st.button("Importieren", type="primary", key="daten_import"):
        result = actions.run_import(cfg, params.layer_id, params.name, params.content, params.mode, params.on_invalid)
        batch = result.batch.batch_id if result.batch else "–"
        st.success(
            f"{result.rows_kept} Zeile(n) in »{spec.title}« gespeichert (Stapel {batch}). "
            "Karte und Analysen verwenden die neuen Daten sofort."
        )


def _population(cfg: Settings) -> None:
    st.caption(
        "Einwohner je Gemeinde für die Nachfrage (Gemeindeebene und 100-m-Schätzung aus OSM-Gebäuden): das "
        "»Gemeindeverzeichnis – Auszug« von Destatis (XLSX oder CSV, wie veröffentlicht) oder eine Tabelle mit "
        "einer AGS- und einer Einwohnerspalte."
    )
    upload = st.file_uploader("Gemeindetabelle (.xlsx, .csv)", type=["xlsx", "csv", "txt"], key="daten_population")
    if upload is not None and st.button("Einwohner übernehmen", type="primary", key="daten_population_import"):
        result = actions.import_population(cfg, upload.name, upload.getvalue())
        st.success(
            f"{len(result.table)} Gemeinden mit {de_int(result.table['population'].sum())} Einwohnern übernommen "
            f"(Stichtag {result.stichtag or 'unbekannt'}: {result.stichtag_source})."
        )


def _fetch(cfg: Settings) -> None:
    from geo.sources.fetching import SOURCES

    st.markdown(
        "Amtliche Gemeindegrenzen (BKG VG250), Einwohner (Destatis), Schulen (MSB NRW) oder Einrichtungen aus "
        "OpenStreetMap für einen Kreis abrufen und mit Quelle, Abrufzeit und Lizenz speichern. "
        "Dafür ist eine Internetverbindung nötig."
    )
    if not cfg.online:
        st.warning(
            "Online-Abrufe sind ausgeschaltet (INTEGRATIONSATLAS_OFFLINE=1): ohne Internet bitte Dateien "
            "über »Datei hochladen« importieren."
        )
    version = cached.store_version(cfg)
    kreise = cached.kreis_names(cfg, version)
    c1, c2 = st.columns(2)
    source = c1.selectbox(
        "Quelle", list(SOURCES), format_func=lambda s: f"{SOURCES[s].title} ({s})", key="daten_fetch_source"
    )
    kreis = c2.selectbox(
        "Kreis", ["", *kreise], format_func=lambda a: f"{kreise[a]} ({a})" if a else "Ganz NRW", key="daten_fetch_kreis"
    )
    st.caption(f"Lizenz: {SOURCES[source].licence} – {SOURCES[source].attribution}")
    if st.button("Abrufen", key="daten_fetch_run"):
        bar = st.progress(0.0, text="Verbindung wird aufgebaut …")

        def progress(done: int, total: int | None) -> None:
            if total:
                bar.progress(min(done / total, 1.0), text=f"Download: {done / 1e6:.1f} von {total / 1e6:.1f} MB")
            else:
                bar.progress(0.5, text=f"Download: {done / 1e6:.1f} MB")

        result = actions.fetch(cfg, source, kreis or None, progress)
        bar.progress(1.0, text="Fertig")
        for layer in result.layers:
            title = REGISTRY.get(layer.layer_id).title if layer.layer_id in REGISTRY else layer.layer_id
            st.success(f"{title}: {layer.rows_kept} von {layer.rows_in} Zeilen gespeichert.")
        for note in result.notes:
            st.info(note)
        problem_table(result.problems)


def _batches(cfg: Settings) -> None:
    rows = actions.batches(cfg)
    if not rows:
        st.info("Noch nichts importiert oder abgerufen. Die eingebetteten Daten (Kreise, KI, Orte) sind immer da.")
        return
    table(views.batches_table(rows), hide_index=True, width="stretch")
    labels = {
        b.batch_id: f"{b.batch_id} – {b.source_file} ({'aktiv' if b.active else 'gelöscht/ersetzt'})" for b in rows
    }
    chosen = st.selectbox("Stapel", list(labels), format_func=labels.__getitem__, key="daten_batch")
    active = next(b.active for b in rows if b.batch_id == chosen)
    if active and st.button("Löschen (wiederherstellbar)", key="daten_batch_delete"):
        actions.set_batch_active(cfg, chosen, False)
        st.rerun()
    if not active and st.button("Wiederherstellen", key="daten_batch_restore"):
        actions.set_batch_active(cfg, chosen, True)
        st.rerun()


if __name__ == "__main__":
    render()
