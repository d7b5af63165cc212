"""Land-wide 100 m results: stored as GeoParquet with their request, drawn on the Karte as an image pyramid.

A result file (:func:`integrationsatlas.results.save_answer` or
:func:`save_grid_result`) holds one row per 100 m cell with its ``cost``
and the request that made it. :func:`stored_results` lists the files of the
results folder (``ergebnisse/`` next to the cache, or any folder given);
:func:`result_pyramid` renders a file once into XYZ tiles
(:mod:`integrationsatlas.pyramid`) under the cache, keyed by the file's
content stamp, so the Karte serves images and never a million features.

:func:`grid_cells` and :func:`straight_line_grid` make a Land-wide 100 m grid
from the embedded Gemeinde boundaries with straight-line distances to a
layer's facilities – what this machine can compute for all of NRW without a
Zensus grid or an NRW street network.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.errors import DataError
from geo.io.geoparquet import read_geoparquet, read_metadata, write_geoparquet
from geo.settings import Settings
from integrationsatlas.pyramid import DEFAULT_ZOOMS, Pyramid, render_pyramid
from integrationsatlas.request import AnalysisRequest
from integrationsatlas.results import RESULT_FORMAT
from planning.coverage import nearest_distance

logger = logging.getLogger(__name__)

#: Folder of stored results under the home (next to ``cache/``).
RESULTS_FOLDER = "ergebnisse"
#: Folder of rendered pyramids under the cache.
PYRAMID_FOLDER = "pyramiden"


@dataclass(frozen=True)
class StoredResult:
    """A coverage result file that can be drawn as a pyramid.

    Attributes
    ----------
    path
        The GeoParquet file.
    request
        The request that made it.
    description
        The request in one German sentence (as stored).
    n_cells
        Rows (cells) in the file.
    """

    path: Path
    request: AnalysisRequest
    description: str
    n_cells: int


def results_folder(settings: Settings) -> Path:
    """The folder whose result files the Karte offers (``<home>/ergebnisse``)."""
    return settings.cache_dir.parent / RESULTS_FOLDER


def stored_results(folder: Path) -> tuple[list[StoredResult], list[str]]:
    """The coverage result files in ``folder`` (sorted by name) and a German note per file that is none.

    Only the metadata is read (no rows). A siting result, a file without a
    request or an unreadable file is reported, never raised, so one bad file
    does not hide the others.
    """
    found: list[StoredResult] = []
    problems: list[str] = []
    if not folder.is_dir():
        return found, problems
    for path in sorted(folder.glob("*.parquet")):
        try:
            meta = read_metadata(path)
            request = AnalysisRequest.from_dict(meta["request"])
            summary = meta.get("summary") or {}
        except (DataError, KeyError, TypeError, ValueError) as exc:
            problems.append(f"{path.name}: kein lesbares Ergebnis ({exc}).")
            continue
        if request.siting is not None:
            problems.append(f"{path.name}: ein Standortplan, keine Versorgung je Zelle.")
            continue
        description = str(meta.get("description") or request.describe())
        found.append(StoredResult(path, request, description, int(summary.get("n_demand") or 0)))
    return found, problems


def result_pyramid(path: Path, cache_dir: Path, zooms: tuple[int, ...] = DEFAULT_ZOOMS) -> Pyramid:
    """The image pyramid of a stored coverage result, rendered once per file content into the cache.

    Parameters
    ----------
    path
        A result file with ``cost`` per cell and the request in its metadata.
    cache_dir
        The cache; pyramids go to ``cache_dir / "pyramiden" / <stamp>``.
    zooms
        Zoom levels to render.

    Returns
    -------
    Pyramid

    Raises
    ------
    DataError
        If the file is no coverage result (no request, no ``cost`` column).

    Notes
    -----
    The stamp is the SHA-256 of the file's path, size, modification time and
    the zooms; a new version of the file gets a new pyramid. Rendering goes
    into a temporary folder that is renamed when complete, so two processes
    never see half a pyramid.
    """
    stat = path.stat()
    stamp = hashlib.sha256(f"{path.resolve()}|{stat.st_size}|{stat.st_mtime_ns}|{zooms}".encode()).hexdigest()[:20]
    folder = cache_dir / PYRAMID_FOLDER / stamp
    if (folder / "pyramid.json").is_file():
        return Pyramid.read(folder)
    meta = read_metadata(path)
    if "request" not in meta:
        raise DataError(f"Ergebnisdatei {path.name}: ohne Anfrage (keine Ergebnisdatei des Integrationsatlas).")
    request = AnalysisRequest.from_dict(meta["request"])
    frame, _ = read_geoparquet(path)
    if "cost" not in frame.columns:
        raise DataError(f"Ergebnisdatei {path.name}: keine Spalte »cost« (kein Versorgungsergebnis je Zelle).")
    weight = None
    for column in ("weight", "population"):
        if column in frame.columns:
            weight = frame[column].to_numpy(dtype=np.float64)
            break
    folder.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=".render-", dir=folder.parent))
    try:
        render_pyramid(
            frame,
            frame["cost"].to_numpy(dtype=np.float64),
            request.threshold,
            request.unit,
            work / "p",
            weight=weight,
            zooms=zooms,
            title=str(meta.get("title") or request.layer),
            description=str(meta.get("description") or request.describe()),
        )
        try:
            os.replace(work / "p", folder)
        except OSError:  # another process finished first
            if not (folder / "pyramid.json").is_file():
                raise
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return Pyramid.read(folder)


def grid_cells(units: gpd.GeoDataFrame, population: pd.Series, cell_m: float = 100.0) -> gpd.GeoDataFrame:
    """Centres of the ``cell_m`` grid cells inside ``units``, with the unit's people spread evenly over its cells.

    Parameters
    ----------
    units
        Polygons in EPSG:25832 with ``ags``.
    population
        People per ``ags``; units without a value get none.
    cell_m
        Grid spacing; cells are aligned to multiples of it.

    Returns
    -------
    geopandas.GeoDataFrame
        ``ags``, ``population`` (float) and point geometry in EPSG:25832.
    """
    parts = []
    for ags, geom in zip(units["ags"], units.geometry, strict=True):
        x0, y0, x1, y1 = geom.bounds
        xs = np.arange(np.floor(x0 / cell_m), np.ceil(x1 / cell_m)) * cell_m + cell_m / 2
        ys = np.arange(np.floor(y0 / cell_m), np.ceil(y1 / cell_m)) * cell_m + cell_m / 2
        mesh_x, mesh_y = np.meshgrid(xs, ys)
        gx, gy = mesh_x.ravel(), mesh_y.ravel()
        shapely.prepare(geom)
        inside = shapely.contains_xy(geom, gx, gy)
        if not inside.any():
            continue
        people = float(population.get(ags, 0.0) or 0.0)
        n = int(inside.sum())
        parts.append(pd.DataFrame({"ags": ags, "x": gx[inside], "y": gy[inside], "population": people / n}))
    table = pd.concat(parts, ignore_index=True).drop_duplicates(["x", "y"])  # a centre on a shared border once
    return gpd.GeoDataFrame(
        table[["ags", "population"]], geometry=gpd.points_from_xy(table["x"], table["y"]), crs="EPSG:25832"
    )


def straight_line_grid(cells: gpd.GeoDataFrame, facilities: gpd.GeoDataFrame, threshold_km: float) -> gpd.GeoDataFrame:
    """``cells`` with ``cost`` (km straight line to the nearest facility) and ``covered``."""
    km = nearest_distance(cells, facilities).to_numpy() / 1000.0
    return cells.assign(cost=km, covered=km <= threshold_km)


def save_grid_result(
    cells: gpd.GeoDataFrame, request: AnalysisRequest, path: Path, title: str, note: str, *, overwrite: bool = False
) -> bool:
    """Write a Land-wide grid result with its request (the result file layout of :func:`save_answer`).

    ``note`` says where the cells and their people come from; it is stored
    in the description, so whoever draws the file reads it.
    """
    weight = cells["population"].to_numpy(dtype=np.float64)
    covered = float(weight[cells["covered"].to_numpy()].sum())
    total = float(weight.sum())
    summary = {
        "key": request.key,
        "kind": "versorgung",
        "area": request.area.code,
        "layer": request.layer,
        "mode": request.mode or "luftlinie",
        "unit": request.unit,
        "threshold": request.threshold,
        "n_demand": len(cells),
        "share_covered": covered / total if total > 0 else None,
        "population_beyond": total - covered,
    }
    meta = {
        "format": RESULT_FORMAT,
        "request": request.as_dict(),
        "key": request.key,
        "summary": summary,
        "title": title,
        "description": f"{request.describe()} {note}",
    }
    return write_geoparquet(cells, path, meta, overwrite=overwrite)
