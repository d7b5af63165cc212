"""Answers as files: a request's result as GeoParquet that carries the request that made it.

:func:`answer` runs the one pipeline for a request (coverage, or siting when
the request has a siting part); :func:`save_answer` writes the fine result –
the demand points with their cost, or the chosen sites – as GeoParquet whose
metadata holds the request (:meth:`AnalysisRequest.as_dict`, its key) and a
flat :func:`summary` row. Batch runs (:mod:`integrationsatlas.batch`) and
Land-wide results (:mod:`integrationsatlas.landwide`) write this one format,
so every file can be read back, summarised and re-run the same way.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np

from geo.io.geoparquet import read_metadata, write_geoparquet
from geo.settings import Settings
from integrationsatlas.coverage import CoverageReport, coverage_report
from integrationsatlas.request import AnalysisRequest
from integrationsatlas.siting import SitingPlan, plan_sites

#: Version of the metadata layout of a result file.
RESULT_FORMAT = 1
Answer = CoverageReport | SitingPlan


def answer(settings: Settings, request: AnalysisRequest) -> Answer:
    """The pipeline's answer to ``request``: a siting plan when it has a siting part, else a coverage report."""
    if request.siting is not None:
        return plan_sites(settings, request)
    return coverage_report(settings, request)


def summary(result: Answer) -> dict[str, Any]:
    """One flat row describing an answer (for a batch's summary table).

    Keys: ``key``, ``kind``, ``area``, ``area_name``, ``layer``, ``mode``,
    ``unit``, ``threshold``, ``target_group``, ``demand``, ``n_demand``,
    the extent's share, whether the resolution suffices, and the headline
    figures (coverage: covered share and people beyond the threshold;
    siting: shares before and after, new sites, status).
    """
    request = result.request
    assert request is not None
    extent = result.extent
    resolution = result.resolution
    row: dict[str, Any] = {
        "key": request.key,
        "kind": "standorte" if isinstance(result, SitingPlan) else "versorgung",
        "area": request.area.code,
        "area_name": "" if result.area is None else result.area.name,
        "layer": request.layer,
        "mode": request.mode or "luftlinie",
        "unit": request.unit,
        "threshold": request.threshold,
        "target_group": request.target_group,
        "extent_share": 1.0 if extent is None else extent.share,
        "resolution_ok": None if resolution is None else bool(resolution.ok),
    }
    if isinstance(result, SitingPlan):
        s = result.summary()
        row |= {
            "n_demand": len(result.demand),
            "share_before": s["share_before"],
            "share_after": s["share_after"],
            "n_new": s["n_new"],
            "status": s["status"],
        }
    else:
        overall = result.overall.iloc[0]
        row |= {
            "demand": result.demand_level_label,
            "n_demand": result.n_demand,
            "n_facilities": result.n_facilities,
            "share_covered": result.share_covered,
            "weight_beyond": float(overall["weight_beyond"]),
            "population_beyond": float(overall["population_beyond"]),
        }
    return row


def result_frame(result: Answer) -> gpd.GeoDataFrame:
    """The fine result: demand points with ``cost`` and ``covered`` (coverage), or the sites (siting)."""
    if isinstance(result, SitingPlan):
        sites = result.sites
        keep = [c for c in ("name", "source", "fixed", "order", "marginal_gain") if c in sites.columns]
        return gpd.GeoDataFrame(sites[keep], geometry=sites.geometry, crs=sites.crs).reset_index(drop=True)
    return result.cells.reset_index(drop=True)


def save_answer(result: Answer, path: Path, extra: dict[str, Any] | None = None, *, overwrite: bool = False) -> bool:
    """Write an answer as GeoParquet with its request and summary (atomically; never twice).

    Parameters
    ----------
    result
        A coverage report or siting plan (with its request).
    path
        Target ``.parquet`` file.
    extra
        Further summary fields (e.g. the batch scenario, seconds, worker).
    overwrite
        Replace an existing file; by default an existing file is kept.

    Returns
    -------
    bool
        Whether this call wrote the file.
    """
    request = result.request
    assert request is not None
    row = summary(result) | (extra or {})
    meta = {
        "format": RESULT_FORMAT,
        "request": request.as_dict(),
        "key": request.key,
        "summary": row,
        "description": request.describe(row.get("area_name") or None),
    }
    if isinstance(result, CoverageReport):
        meta["report"] = {k: v for k, v in result.as_dict().items() if k not in ("request", "curve")}
    frame = result_frame(result)
    for column in frame.columns:
        if frame[column].dtype == object and column != frame.geometry.name:
            frame[column] = frame[column].astype("string")
    return write_geoparquet(frame, path, meta, overwrite=overwrite)


def read_summary(path: Path) -> dict[str, Any]:
    """The summary row stored in a result file (its rows are not read)."""
    row = dict(read_metadata(path).get("summary") or {})
    return {k: (np.nan if v is None and k.startswith("share") else v) for k, v in row.items()}


def stored_request(path: Path) -> AnalysisRequest:
    """The request that made a result file."""
    return AnalysisRequest.from_dict(read_metadata(path)["request"])
