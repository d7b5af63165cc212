"""Step 1: the study area of a request (name, level and polygon in EPSG:25832)."""

from __future__ import annotations

from dataclasses import dataclass

import shapely
from shapely.geometry.base import BaseGeometry

from geo.errors import DataError
from geo.settings import Settings
from geo.units import LEVEL_TITLES, level_of, load_boundaries
from integrationsatlas.request import AreaRef


@dataclass(frozen=True, eq=False)
class StudyArea:
    """The area a question is about.

    Parameters
    ----------
    ags
        Its key: an AGS (``05`` Land, 3 digits Regierungsbezirk, 5 Kreis, 8
        Gemeinde) or the unit id of an area set.
    name
        Official name.
    level
        ``land``, ``regbez``, ``kreis`` or ``gemeinde`` (or the area set's name).
    geometry
        Polygon in EPSG:25832.
    """

    ags: str
    name: str
    level: str
    geometry: BaseGeometry

    @property
    def label(self) -> str:
        """E.g. »Städteregion Aachen (AGS 05334)«."""
        return f"{self.name} (AGS {self.ags})"

    @property
    def title(self) -> str:
        """Name and level for readers, e.g. »Städteregion Aachen (Kreis)«, »Köln (Regierungsbezirk)«."""
        return f"{self.name} ({self.level_title})"

    @property
    def level_title(self) -> str:
        """German name of the level."""
        return LEVEL_TITLES.get(self.level, self.level)  # type: ignore[call-overload]

    def contains_code(self, code: str) -> bool:
        """Whether the unit ``code`` (an AGS) lies in this area (by key).

        >>> StudyArea("05334", "Aachen", "kreis", shapely.Point(0, 0)).contains_code("05334002")
        True
        """
        return str(code).startswith(self.ags)


def study_area(settings: Settings, ref: AreaRef) -> StudyArea:
    """Look up the area of a request.

    Raises
    ------
    DataError
        Unknown AGS (the message lists a few valid ones), or an area set that
        is not loaded.
    NotLoadedError
        A Gemeinde AGS while the Gemeinden are not loaded.

    Notes
    -----
    The geometry is in EPSG:25832.
    """
    if not ref.is_administrative:
        raise DataError(
            f"Gebietssatz »{ref.set}« ist nicht geladen. Bitte ein Gebiet mit AGS (Land, Kreis, Gemeinde) wählen."
        )
    ags = ref.code.strip()
    level = level_of(ags)
    units = load_boundaries(level, settings)
    row = units[units["ags"].astype(str) == ags]
    if row.empty:
        examples = ", ".join(f"{a} ({n})" for a, n in units[["ags", "name"]].head(3).itertuples(index=False))
        raise DataError(f"Kein {LEVEL_TITLES[level]} mit AGS »{ags}« gefunden. Beispiele: {examples}.")
    geometry = shapely.make_valid(row.geometry.union_all())
    return StudyArea(ags=ags, name=str(row["name"].iloc[0]), level=level, geometry=geometry)
