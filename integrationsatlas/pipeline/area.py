"""Step 1: the study area of a request (name, level and polygon in EPSG:25832).

The area is an administrative unit (an AGS) or part of an area set: one of its
areas (``AreaRef("101", set="koeln-stadtteile")``) or all of them
(``AreaRef("", set="koeln-stadtteile")``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry.base import BaseGeometry

from geo.errors import DataError
from geo.levels import AnalysisLevel, analysis_level
from geo.settings import Settings
from geo.units import LEVEL_TITLES, level_of, load_boundaries, unit_of
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
    members
        For an area of an area set: the keys of the set's areas it consists of
        (one, or all of them); empty for an administrative area.
    gemeinden
        For an area of an area set: the AGS of the Gemeinden its areas belong to.
    """

    ags: str
    name: str
    level: str
    geometry: BaseGeometry
    members: tuple[str, ...] = field(default=())
    gemeinden: tuple[str, ...] = field(default=())

    @property
    def administrative(self) -> bool:
        """Whether the area is an administrative unit (its key an AGS)."""
        return not self.members

    @property
    def label(self) -> str:
        """E.g. »Städteregion Aachen (AGS 05334)« or »Altstadt-Nord (Nr. 101, Gebietssatz koeln-stadtteile)«."""
        if not self.administrative:
            key = f"Nr. {self.ags}, " if self.ags != self.level else ""
            return f"{self.name} ({key}Gebietssatz {self.level})"
        return f"{self.name} (AGS {self.ags})"

    @property
    def title(self) -> str:
        """Name and level for readers, e.g. »Städteregion Aachen (Kreis)«, »Köln (Regierungsbezirk)«."""
        return f"{self.name} ({self.level_title})"

    @property
    def level_title(self) -> str:
        """German name of the level."""
        if not self.administrative:
            return f"Gebietssatz »{self.level}«"
        return LEVEL_TITLES.get(self.level, self.level)  # type: ignore[call-overload]

    def contains_code(self, code: str) -> bool:
        """Whether the unit ``code`` (an AGS) lies in this area (by key).

        >>> StudyArea("05334", "Aachen", "kreis", shapely.Point(0, 0)).contains_code("05334002")
        True
        """
        return str(code).startswith(self.ags)

    def count_inside(self, points: gpd.GeoSeries) -> int:
        """How many of ``points`` (EPSG:25832) lie in the area, by the project's one point-in-unit join.

        >>> pts = gpd.GeoSeries([shapely.Point(1, 1), shapely.Point(5, 5)], crs=25832)
        >>> StudyArea("05334", "Aachen", "kreis", shapely.box(0, 0, 2, 2)).count_inside(pts)
        1
        """
        if points.empty:
            return 0
        unit = gpd.GeoDataFrame({"ags": [self.ags]}, geometry=[self.geometry], crs=points.crs)
        return int((unit_of(points, unit) == self.ags).fillna(False).sum())

    def keeps(self, level: AnalysisLevel, units: pd.DataFrame) -> np.ndarray:
        """Which units of ``level`` (indexed by key; area sets with ``gemeinde_ags``) a table of this area shows.

        An administrative area keeps the units inside it and those containing
        it (by AGS prefix), and the areas of a set that belong to its
        Gemeinden; an area of a set keeps its own areas of that set, the
        administrative units holding its Gemeinden and the areas of another set
        in the same Gemeinden.

        >>> from geo.levels import admin_level
        >>> units = pd.DataFrame(index=pd.Index(["05334", "05315"]))
        >>> StudyArea("05334002", "Aachen", "gemeinde", shapely.Point(0, 0)).keeps(admin_level("kreis"), units)
        array([ True, False])
        """
        keys = units.index.astype(str)
        if level.administrative:
            heads = (self.ags,) if self.administrative else self.gemeinden
            return np.array([any(h.startswith(k) or k.startswith(h) for h in heads) for k in keys], dtype=bool)
        if not self.administrative and level.id == self.level:
            return keys.isin(self.members)
        gemeinde = units["gemeinde_ags"].astype("string").fillna("")
        if self.administrative:
            return gemeinde.str.startswith(self.ags).to_numpy(dtype=bool)
        return gemeinde.isin(self.gemeinden).to_numpy(dtype=bool)


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
        return _set_area(settings, ref)
    ags = ref.code.strip()
    level = level_of(ags)
    units = load_boundaries(level, settings)
    row = units[units["ags"].astype(str) == ags]
    if row.empty:
        examples = ", ".join(f"{a} ({n})" for a, n in units[["ags", "name"]].head(3).itertuples(index=False))
        raise DataError(f"Kein {LEVEL_TITLES[level]} mit AGS »{ags}« gefunden. Beispiele: {examples}.")
    geometry = shapely.make_valid(row.geometry.union_all())
    return StudyArea(ags=ags, name=str(row["name"].iloc[0]), level=level, geometry=geometry)


def _set_area(settings: Settings, ref: AreaRef) -> StudyArea:
    """One area of an area set, or (empty code) the whole set."""
    level = analysis_level(str(ref.set), settings)
    units = level.units(settings)
    code = ref.code.strip()
    if code:
        units = units[units[level.key].astype(str) == code]
        if units.empty:
            examples = level.units(settings)[[level.key, "name"]].head(3).itertuples(index=False)
            raise DataError(
                f"Kein Gebiet »{code}« im Gebietssatz »{level.id}«. Beispiele: "
                + ", ".join(f"{k} ({n})" for k, n in examples)
                + "."
            )
    name = str(units["name"].iloc[0]) if code else level.title
    return StudyArea(
        ags=code or level.id,
        name=name,
        level=level.id,
        geometry=shapely.make_valid(units.geometry.union_all()),
        members=tuple(units[level.key].astype(str)),
        gemeinden=tuple(sorted(units["gemeinde_ags"].dropna().astype(str).unique())),
    )
