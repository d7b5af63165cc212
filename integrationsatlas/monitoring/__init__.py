"""Monitoring: indicators per area of any level, over time, exported for KomMonitor and the Integrationsmonitoring.

* :mod:`~integrationsatlas.monitoring.catalogue` – reaches, indicator series and the indicator kinds (declared once);
* :mod:`~integrationsatlas.monitoring.indicators` – the indicator table of a level, computed with the pipeline;
* :mod:`~integrationsatlas.monitoring.history` – snapshots stored with their date, two dates compared, recomputed
  after an import;
* :mod:`~integrationsatlas.monitoring.kommonitor` – KomMonitor's spatial-unit and indicator documents;
* :mod:`~integrationsatlas.monitoring.export` – CSV/XLSX for the Integrationsmonitoring (TIntG NRW § 19).
"""

from integrationsatlas.monitoring.catalogue import KINDS, IndicatorKind, IndicatorSeries, Reach
from integrationsatlas.monitoring.history import (
    change_map,
    compare_snapshots,
    history,
    load_snapshot,
    recompute_after_import,
    snapshots,
    store_indicators,
)
from integrationsatlas.monitoring.indicators import IndicatorTable, compute_indicators

__all__ = [
    "KINDS",
    "IndicatorKind",
    "IndicatorSeries",
    "IndicatorTable",
    "Reach",
    "change_map",
    "compare_snapshots",
    "compute_indicators",
    "history",
    "load_snapshot",
    "recompute_after_import",
    "snapshots",
    "store_indicators",
]
