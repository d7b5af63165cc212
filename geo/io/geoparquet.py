"""GeoParquet files that carry their own description: a frame plus a JSON document in the file's metadata.

Results of the atlas (a batch task, a Land-wide 100 m result) are written as
GeoParquet (the ``geo`` metadata of the GeoParquet specification, WKB
geometries, CRS as PROJJSON) with one more metadata entry,
:data:`METADATA_KEY`, holding the request that made them and a summary, so a
file explains itself and a rerun can tell what it holds without reading the
rows. Writes are atomic and never overwrite: a file is written under a unique
temporary name in the same folder and linked to its final name only if no
file of that name exists, so readers never see half a file and two writers of
the same result never both succeed.
"""

from __future__ import annotations

import json
import os
import uuid
from pathlib import Path
from typing import Any

import geopandas as gpd
import pyarrow.parquet as pq
from geopandas.io.arrow import _geopandas_to_arrow

from geo.errors import DataError

#: Key of the atlas' own entry in the Parquet file metadata.
METADATA_KEY = b"integrationsatlas"


def write_geoparquet(frame: gpd.GeoDataFrame, path: Path, metadata: dict[str, Any], *, overwrite: bool = False) -> bool:
    """Write ``frame`` as GeoParquet with ``metadata`` (JSON), atomically.

    Parameters
    ----------
    frame
        The rows (any CRS; stored as PROJJSON in the ``geo`` metadata).
    path
        Target file.
    metadata
        JSON-serialisable description stored under :data:`METADATA_KEY`.
    overwrite
        Replace an existing file (atomic rename) instead of keeping it.

    Returns
    -------
    bool
        ``True`` when this call wrote the file; ``False`` when it existed
        already and ``overwrite`` is false (the existing file is kept).
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists() and not overwrite:
        return False
    table = _geopandas_to_arrow(frame, index=False)
    text = json.dumps(metadata, ensure_ascii=False, default=_plain).encode("utf-8")
    table = table.replace_schema_metadata({**(table.schema.metadata or {}), METADATA_KEY: text})
    partial = path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.partial")
    try:
        pq.write_table(table, partial, compression="zstd")
        if overwrite:
            partial.replace(path)
            return True
        try:
            os.link(partial, path)  # fails when the name exists: the first writer wins, nothing is written twice
        except FileExistsError:
            return False
        return True
    finally:
        partial.unlink(missing_ok=True)


def read_metadata(path: Path) -> dict[str, Any]:
    """The atlas metadata of a GeoParquet file (without reading its rows).

    Raises
    ------
    DataError
        If the file is unreadable or carries no atlas metadata.
    """
    try:
        meta = pq.read_schema(path).metadata or {}
    except (OSError, ValueError) as exc:
        raise DataError(f"Ergebnisdatei {path.name} ist unlesbar ({exc}).") from exc
    if METADATA_KEY not in meta:
        raise DataError(f"Ergebnisdatei {path.name} enthält keine Beschreibung des Integrationsatlas.")
    data = json.loads(meta[METADATA_KEY].decode("utf-8"))
    if not isinstance(data, dict):
        raise DataError(f"Ergebnisdatei {path.name}: die Beschreibung ist kein JSON-Objekt.")
    return data


def read_geoparquet(path: Path, columns: list[str] | None = None) -> tuple[gpd.GeoDataFrame, dict[str, Any]]:
    """The rows and the atlas metadata of a file written by :func:`write_geoparquet`."""
    try:
        frame = gpd.read_parquet(path, columns=columns)
    except (OSError, ValueError) as exc:
        raise DataError(f"Ergebnisdatei {path.name} ist unlesbar ({exc}).") from exc
    return frame, read_metadata(path)


def _plain(value: Any) -> Any:
    """numpy scalars and other simple objects as JSON values."""
    if hasattr(value, "item"):
        return value.item()
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    return str(value)
