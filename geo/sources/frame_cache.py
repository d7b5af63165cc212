"""One disk cache for GeoDataFrames derived from a file: GeoParquet, written atomically, rebuilt when broken.

Buildings, the OSM background and the 100 m demand estimate are each read
from an OSM extract once per file content; the cache entry's name carries the
content hash (and whatever else the result depends on), so the same extract
under another name is not parsed again.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from pathlib import Path

import geopandas as gpd

logger = logging.getLogger(__name__)


def cached_frame(target: Path, build: Callable[[], gpd.GeoDataFrame], what: str) -> gpd.GeoDataFrame:
    """The GeoDataFrame cached at ``target`` (GeoParquet), built by ``build()`` and stored when missing.

    Parameters
    ----------
    target
        Cache file; its name must change whenever the result would.
    build
        Computes the frame when the cache has no (readable) entry.
    what
        German name of the content for the log (e.g. ``"Gebäude"``).

    Notes
    -----
    A broken entry is logged and rebuilt. The file is written under a
    process-specific temporary name and then renamed, so a concurrent
    reader never sees half a file. Geometries keep their CRS (EPSG:25832 in
    this project).
    """
    if target.is_file():
        try:
            return gpd.read_parquet(target)
        except (OSError, ValueError) as exc:
            logger.warning("%s-Cache %s unlesbar (%s); wird neu erzeugt", what, target, exc)
    frame = build()
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.stem}.{os.getpid()}.partial.parquet")
    frame.to_parquet(partial)
    partial.replace(target)
    return frame
