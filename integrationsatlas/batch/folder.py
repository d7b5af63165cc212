"""The output folder of a batch: one GeoParquet per finished task and a summary table.

Layout of ``-o ORDNER``::

    ORDNER/ergebnisse/<key>.parquet   one per finished task (request + summary in its metadata)
    ORDNER/zusammenfassung.csv        one row per finished task (and per failed one), rebuilt after each run
    ORDNER/zusammenfassung.parquet    the same table as Parquet
    ORDNER/daten/                     the batch's own data store, when the plan imports data

A task is finished when its file exists: the name is the request's key, the
file is linked into place only when complete (:func:`geo.io.geoparquet.write_geoparquet`),
so a rerun skips exactly the finished tasks and nothing is written twice.
"""

from __future__ import annotations

import logging
import os
from dataclasses import replace
from pathlib import Path
from typing import Any

import pandas as pd

from geo.errors import DataError
from geo.io.export import csv_text
from geo.settings import Settings
from integrationsatlas.results import read_summary

logger = logging.getLogger(__name__)

RESULTS = "ergebnisse"
SUMMARY = "zusammenfassung"
OWN_STORE = "daten"
#: Columns of the summary table, in this order (further ones follow).
SUMMARY_COLUMNS: tuple[str, ...] = (
    "key",
    "scenario",
    "status",
    "kind",
    "area",
    "area_name",
    "layer",
    "mode",
    "unit",
    "threshold",
    "target_group",
    "demand",
    "n_demand",
    "n_facilities",
    "share_covered",
    "weight_beyond",
    "population_beyond",
    "share_before",
    "share_after",
    "n_new",
    "extent_share",
    "resolution_ok",
    "seconds",
    "worker",
    "message",
)


class BatchFolder:
    """The output folder of a batch (created when missing)."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.results = self.root / RESULTS
        self.results.mkdir(parents=True, exist_ok=True)

    def result_path(self, key: str) -> Path:
        """Where the result of the task with ``key`` is (or will be) stored."""
        return self.results / f"{key}.parquet"

    def done_keys(self) -> set[str]:
        """Keys of the finished tasks (complete result files; partial ones never count)."""
        return {p.stem for p in self.results.glob("*.parquet")}

    def sweep_partials(self) -> int:
        """Remove the partial result files of finished tasks; the number removed.

        A worker killed while writing (SIGKILL, out of memory) cannot remove its own partial file. Once the
        task's complete file exists, a partial one is garbage, whoever wrote it. Call it when no task runs.
        """
        done = self.done_keys()
        stale = [p for p in self.results.glob(".*.partial") if p.name[1:].split(".parquet.")[0] in done]
        for path in stale:
            path.unlink(missing_ok=True)
        return len(stale)

    def settings_for(self, settings: Settings, own_store: bool) -> Settings:
        """``settings`` with the store in :data:`OWN_STORE` when the plan imports its own data."""
        if not own_store:
            return settings
        home = self.root / OWN_STORE
        return replace(settings, store_path=home / "store.gpkg")

    def write_summary(self, failures: dict[str, dict[str, Any]] | None = None) -> pd.DataFrame:
        """Rebuild the summary table from every result file (plus the failed tasks of this run).

        Written under temporary names and renamed. Text cells that a
        spreadsheet would run as a formula get a leading apostrophe in the CSV.
        """
        rows = []
        for path in sorted(self.results.glob("*.parquet")):
            try:
                rows.append({"status": "fertig", **read_summary(path)})
            except DataError as exc:
                logger.warning("%s", exc)
        rows += [{"status": "fehler", **row} for row in (failures or {}).values()]
        table = pd.DataFrame(rows)
        order = [c for c in SUMMARY_COLUMNS if c in table.columns] + [
            c for c in table.columns if c not in SUMMARY_COLUMNS
        ]
        table = table[order] if len(table.columns) else pd.DataFrame(columns=list(SUMMARY_COLUMNS))
        if "key" in table.columns:
            table = table.sort_values(["status", "key"], kind="stable").reset_index(drop=True)
        self._replace(self.root / f"{SUMMARY}.parquet", lambda p: table.to_parquet(p, index=False))
        shown = table.copy()
        for column in shown.columns:
            if shown[column].dtype == object:
                shown[column] = shown[column].map(lambda v: csv_text(v) if isinstance(v, str) else v)
        self._replace(self.root / f"{SUMMARY}.csv", lambda p: shown.to_csv(p, index=False, encoding="utf-8"))
        return table

    @staticmethod
    def _replace(path: Path, write: Any) -> None:
        partial = path.with_name(f".{path.name}.{os.getpid()}.partial")
        write(partial)
        partial.replace(path)
