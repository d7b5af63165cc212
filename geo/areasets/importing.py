"""Import a polygon file as an area set: read, check, store."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import geopandas as gpd

from geo.areasets.checks import AreaSetCheck, check_area_set, summary_line
from geo.areasets.storage import AreaSet, check_name, store_area_set
from geo.errors import Problem, ValidationError
from geo.importing.result import USER_LICENCE
from geo.io.formats import read_table
from geo.io.limits import ReadLimits
from geo.settings import Settings

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class AreaSetImport:
    """Outcome of an area-set import (or of its dry run).

    Parameters
    ----------
    name
        The set's name.
    file
        The file's name as the user knows it.
    units
        The areas that passed the checks (EPSG:25832).
    check
        Every problem and the figures (overlaps, gaps, Gemeinden).
    area_set
        The stored set; ``None`` for a dry run.
    """

    name: str
    file: str
    units: gpd.GeoDataFrame
    check: AreaSetCheck
    area_set: AreaSet | None

    def as_dict(self) -> dict[str, object]:
        """JSON-serialisable form (without the polygons)."""
        return {
            "name": self.name,
            "file": self.file,
            "stored": self.area_set is not None,
            "area_set": None if self.area_set is None else self.area_set.as_dict(),
            "check": self.check.as_dict(),
        }


def import_area_set(
    path: Path | str,
    name: str,
    settings: Settings,
    *,
    id_column: str | None = None,
    name_column: str | None = None,
    title: str | None = None,
    licence: str | None = None,
    publisher: str | None = None,
    as_of: str | None = None,
    on_invalid: Literal["keep_valid", "reject"] = "reject",
    dry_run: bool = False,
    display_name: str | None = None,
) -> AreaSetImport:
    """Import the polygons of a file as area set ``name`` (Stadtteile, Sozialräume, Schulbezirke …).

    Parameters
    ----------
    path
        GeoJSON, GeoPackage or zipped Shapefile (read with the limits of
        ``settings``; :func:`geo.io.formats.read_table`).
    name
        Name of the set (:func:`geo.areasets.storage.check_name`); a set of the
        same name is replaced (restorable).
    settings
        Store, limits and the Gemeinde boundaries the areas are checked against.
    id_column, name_column
        Key and name column; detected from the headers when ``None``.
    title
        Title for maps and tables (default: the name).
    licence, publisher, as_of
        Provenance recorded with the batch (``as_of``: the boundaries' own
        date, ``JJJJ-MM-TT`` or ``JJJJ``).
    on_invalid
        ``reject``: any problem refuses the file; ``keep_valid``: the valid
        areas are stored and the problems returned.
    dry_run
        Check only; nothing is stored.
    display_name
        The file's name for messages (uploads are written to a temporary file).

    Returns
    -------
    AreaSetImport

    Raises
    ------
    DataError
        Invalid name, or the file cannot be read.
    ValidationError
        Problems found and ``on_invalid="reject"``, or no valid area (never on a dry run).

    Notes
    -----
    The areas are stored in EPSG:25832; a refused or failed import changes nothing.
    """
    name = check_name(name)
    path = Path(path)
    shown = display_name or path.name
    frame = read_table(path, max_bytes=settings.max_upload_bytes, name=shown, limits=ReadLimits.from_settings(settings))
    units, check = check_area_set(frame, settings, file=shown, id_column=id_column, name_column=name_column)
    result = AreaSetImport(name, shown, units, check, None)
    if dry_run:
        return result
    if check.problems and on_invalid == "reject":
        raise ValidationError(check.problems, f"Gebietssatz {name} aus {shown} abgelehnt, nichts wurde gespeichert")
    if units.empty:
        raise ValidationError(
            check.problems or [Problem("Kein gültiges Gebiet gefunden.", "Datei prüfen.", file=shown)],
            f"Gebietssatz {name} aus {shown}: kein gültiges Gebiet, nichts wurde gespeichert",
        )
    stored = store_area_set(
        settings,
        name,
        units,
        title=(title or "").strip() or name,
        source_file=shown,
        licence=licence or USER_LICENCE,
        publisher=publisher or "",
        as_of=as_of,
        id_column=check.id_column,
        name_column=check.name_column,
        rows_in=check.n_rows,
        rows_rejected=check.n_rows - check.n_units,
    )
    logger.info("Gebietssatz %s gespeichert: %s", name, summary_line(check))
    return AreaSetImport(name, shown, units, check, stored)
