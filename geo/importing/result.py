"""The outcome of one import: counts, problems and the stored batch."""

from __future__ import annotations

from dataclasses import dataclass, field

import geopandas as gpd

from geo.errors import (
    Problem,
)
from geo.store import BatchInfo

#: Licence recorded for a user's own file unless one is given.
USER_LICENCE = "wie vom Datengeber angegeben"
#: Points this far outside the NRW outline are still accepted, in metres: the


# --- result ---------------------------------------------------------------------


@dataclass(frozen=True)
class ImportResult:
    """Outcome of one import.

    Parameters
    ----------
    layer_id
        Target layer.
    file
        File name as the user knows it.
    format
        ``csv``, ``xlsx``, ``geojson``, ``gpkg``, ``shapefile`` (plus
        ``+schuldaten`` when the MSB format was recognised).
    location_kind
        How the location was given: ``lonlat``, ``utm32``, ``geometry`` or
        ``plz`` (postcode centroid).
    rows_in
        Data rows read from the file.
    data
        The rows kept, in the layer schema, EPSG:25832.
    problems
        Every problem found (also those of rows that were dropped).
    batch
        The stored batch; ``None`` for a dry run or a rejected file.
    notes
        Information that is not a problem (generated ids, ignored columns,
        rows filtered by the format).
    """

    layer_id: str
    file: str
    format: str
    location_kind: str
    rows_in: int
    data: gpd.GeoDataFrame
    problems: tuple[Problem, ...]
    batch: BatchInfo | None
    notes: tuple[str, ...] = field(default=())

    @property
    def rows_kept(self) -> int:
        """Number of rows kept."""
        return len(self.data)

    def as_dict(self) -> dict[str, object]:
        """Summary as a JSON-serialisable dict (without the data)."""
        return {
            "ok": self.batch is not None or (not self.problems and self.rows_kept > 0),
            "layer": self.layer_id,
            "file": self.file,
            "format": self.format,
            "location_kind": self.location_kind,
            "rows_in": self.rows_in,
            "rows_kept": self.rows_kept,
            "problems": [p.as_dict() for p in self.problems],
            "notes": list(self.notes),
            "batch": self.batch.as_dict() if self.batch else None,
        }
