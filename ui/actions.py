"""Actions that change the data store: imports, fetches, deleting/restoring batches, saving scenarios.

Never cached; the pages call them on a button press and then rerun, and the
changed store version invalidates every cached view.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal, TypeVar, cast

from geo.areasets.importing import AreaSetImport
from geo.areasets.population import AreaPopulation
from geo.importing import ImportResult, import_file
from geo.layers.sources import reference_date
from geo.settings import Settings
from geo.sources.destatis import GemeindePopulation, import_gemeinde_population
from geo.sources.fetching import FetchResult, fetch_source
from geo.sources.zensus import ZensusImport, import_zensus
from geo.store import BatchInfo, open_store, store_exists
from geo.store.scenarios import list_scenarios
from geo.store.scenarios import save_scenario as _save_scenario

T = TypeVar("T")
ImportMode = Literal["append", "replace"]
OnInvalid = Literal["keep_valid", "reject"]


def with_temp_file(name: str, content: bytes, func: Callable[[Path], T]) -> T:
    """Write an upload to a temporary file (keeping its suffix) and call ``func(path)``."""
    suffix = Path(name).suffix.lower()
    with tempfile.TemporaryDirectory(prefix="atlas-upload-") as tmp:
        path = Path(tmp) / f"upload{suffix}"
        path.write_bytes(content)
        return func(path)


def import_preview(cfg: Settings, layer_id: str, name: str, content: bytes, on_invalid: str) -> ImportResult:
    """Dry run of an import: validated rows, every problem, notes (nothing is stored)."""
    invalid = cast(OnInvalid, on_invalid)
    return with_temp_file(
        name, content, lambda p: import_file(p, layer_id, cfg, on_invalid=invalid, dry_run=True, display_name=name)
    )


def run_import(
    cfg: Settings,
    layer_id: str,
    name: str,
    content: bytes,
    mode: str,
    on_invalid: str,
    provenance: tuple[str, str, str] = ("", "", ""),
) -> ImportResult:
    """Import an upload into the data store, with its publisher, licence and reference date (empty: unknown)."""
    how, invalid = cast(ImportMode, mode), cast(OnInvalid, on_invalid)
    publisher, licence, as_of = (v.strip() or None for v in provenance)
    as_of = reference_date(as_of)
    return with_temp_file(
        name,
        content,
        lambda p: import_file(
            p,
            layer_id,
            cfg,
            mode=how,
            on_invalid=invalid,
            display_name=name,
            publisher=publisher,
            licence=licence,
            as_of=as_of,
        ),
    )


def import_population(cfg: Settings, name: str, content: bytes) -> GemeindePopulation:
    """Import an uploaded Gemeinde population table (Destatis GV-ISys or AGS + population).

    The same importer and limits as ``integrationsatlas population`` (checked before reading).
    """
    with tempfile.TemporaryDirectory(prefix="atlas-upload-") as tmp:
        path = Path(tmp) / _safe_name(name)
        path.write_bytes(content)
        return import_gemeinde_population(path, cfg)


def import_area_set_file(
    cfg: Settings,
    file_name: str,
    content: bytes,
    set_name: str,
    *,
    title: str | None = None,
    provenance: tuple[str, str, str] = ("", "", ""),
    dry_run: bool = False,
) -> AreaSetImport:
    """Check (``dry_run``) or import an uploaded polygon file as an area set, as ``integrationsatlas areas import``.

    ``provenance`` is (publisher, licence, reference date as typed); empty parts are left open.
    """
    from geo.areasets import import_area_set

    publisher, licence, as_of = provenance
    with tempfile.TemporaryDirectory(prefix="atlas-upload-") as tmp:
        path = Path(tmp) / _safe_name(file_name)
        path.write_bytes(content)
        return import_area_set(
            path,
            set_name.strip(),
            cfg,
            title=title or None,
            publisher=publisher or None,
            licence=licence or None,
            as_of=reference_date(as_of) if as_of else None,
            dry_run=dry_run,
        )


def import_area_population_file(
    cfg: Settings, file_name: str, content: bytes, set_name: str, provenance: tuple[str, str, str]
) -> tuple[AreaPopulation, list[str]]:
    """Import an uploaded residents table for an area set, as ``integrationsatlas areas population``.

    ``provenance`` is (publisher, licence, year or date as typed). The stored
    indicator series are recomputed for the table's date.

    Returns
    -------
    tuple
        What was stored, and the dates of the recomputed indicator tables
        (plus a German line for each series that could not be recomputed).
    """
    from geo.areasets.population import import_area_population, population_layer_id
    from integrationsatlas.monitoring import recompute_after_import

    publisher, licence, as_of = provenance
    with tempfile.TemporaryDirectory(prefix="atlas-upload-") as tmp:
        path = Path(tmp) / _safe_name(file_name)
        path.write_bytes(content)
        counted = import_area_population(
            path, set_name, cfg, as_of=as_of.strip() or None, licence=licence, publisher=publisher,
            shown=_safe_name(file_name),
        )  # fmt: skip
    tables, failed = recompute_after_import(cfg, population_layer_id(set_name), counted.as_of)
    return counted, [f"{t.level} {t.date}" for t in tables] + failed


def import_zensus_files(cfg: Settings, files: list[tuple[str, bytes]]) -> ZensusImport:
    """Import uploaded Zensus grid files (ZIP/CSV, any themes) as ``integrationsatlas zensus`` does."""
    with tempfile.TemporaryDirectory(prefix="atlas-upload-") as tmp:
        paths = []
        for k, (name, content) in enumerate(files):
            path = Path(tmp) / str(k) / _safe_name(name)  # one folder each: two uploads may share a name
            path.parent.mkdir()
            path.write_bytes(content)
            paths.append(path)
        return import_zensus(paths, cfg)


def _safe_name(name: str) -> str:
    """The upload's own file name without folders (messages name it, never the server path)."""
    return Path(name.replace("\\", "/")).name or "datei"


def batches(cfg: Settings) -> list[BatchInfo]:
    """All import/fetch batches of the data store, newest first."""
    if not store_exists(cfg):
        return []
    return open_store(cfg).batches()


def fetch(cfg: Settings, source_id: str, kreis: str | None, progress: Any) -> FetchResult:
    """Fetch an official or OSM source into the data store."""
    return fetch_source(source_id, cfg, kreis=kreis, progress=progress)


def set_batch_active(cfg: Settings, batch_id: str, active: bool) -> None:
    """Delete (deactivate) or restore one batch."""
    store = open_store(cfg)
    (store.restore if active else store.deactivate)(batch_id)


def scenario_names(cfg: Settings) -> list[str]:
    """Names of the saved scenarios, newest first."""
    return list_scenarios(cfg)["name"].astype(str).tolist()


def scenario_areas(cfg: Settings) -> dict[str, str]:
    """Name → AGS of the planned area of each saved scenario, newest first."""
    table = list_scenarios(cfg)
    return dict(zip(table["name"].astype(str), table["area_ags"].astype(str), strict=True))


def scenario_labels(cfg: Settings) -> dict[str, str]:
    """Name → the name with its measure (»Borken 5 km (5 km Luftlinie)«), for choosing what to compare."""
    table = list_scenarios(cfg)
    return {
        str(name): f"{name} ({threshold})" if threshold else str(name)
        for name, threshold in zip(table["name"], table["threshold"], strict=True)
    }


def save_scenario(cfg: Settings, plan: Any, name: str, overwrite: bool) -> None:
    """Save a plan as scenario ``name``."""
    _save_scenario(cfg, plan.to_scenario(name), overwrite=overwrite)
