"""The analysis levels: the administrative levels of :mod:`geo.units` and the stored area sets, one declaration each.

A gap table, a choropleth, an indicator table, a siting rule or an export is
made "per level". The level is named by a string – ``land``, ``regbez``,
``kreis``, ``gemeinde`` or the name of an area set such as
``koeln-stadtteile`` – and :func:`analysis_level` turns it into an
:class:`AnalysisLevel` that says everything a caller needs: the units'
polygons and key column, the column of demand points and facilities holding
their unit, and how to locate points in the units (always the one
point-in-area rule, :func:`geo.units.unit_of`). Callers ask the declaration;
they never compare the level's name.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import geopandas as gpd
import pandas as pd

from geo.areasets.storage import AreaSet, area_sets, load_area_set
from geo.errors import DataError, NotLoadedError
from geo.settings import Settings
from geo.units import LEVEL_TITLES, LEVELS, Level, available_levels, load_boundaries, unit_of

#: Column of a demand or facility frame holding the unit of an area set.
SET_COLUMN = "unit_id"
#: Plural German titles of the administrative levels (for "Ergebnis je …" and menus).
LEVEL_PLURALS: dict[str, str] = {
    "land": "Land",
    "regbez": "Regierungsbezirke",
    "kreis": "Kreise und kreisfreie Städte",
    "gemeinde": "Gemeinden",
}


@dataclass(frozen=True)
class AnalysisLevel:
    """One level at which results are tabulated, mapped and exported.

    Parameters
    ----------
    id
        ``land``, ``regbez``, ``kreis``, ``gemeinde`` or an area set's name.
    title
        German title of the units in the plural (``Gemeinden``, ``Stadtteile Köln``).
    unit_title
        German title of one unit (``Gemeinde``, ``Gebiet``).
    column
        Column of demand points and facilities holding the unit's key
        (``kreis_ags`` …; ``unit_id`` for an area set).
    key
        Key column of :meth:`units` (``ags``, or ``unit_id`` for an area set).
    key_title
        German header of the key (``AGS``, or ``Nr.``).
    area_set
        The stored set behind the level; ``None`` for an administrative level.
    """

    id: str
    title: str
    unit_title: str
    column: str
    key: str
    key_title: str
    area_set: AreaSet | None = None

    @property
    def administrative(self) -> bool:
        """Whether the level is one of the administrative levels (AGS keys)."""
        return self.area_set is None

    def units(self, settings: Settings) -> gpd.GeoDataFrame:
        """The units: ``key``, ``name`` (area sets also ``gemeinde_ags``), polygons in EPSG:25832, by key.

        Raises
        ------
        NotLoadedError
            When the level's boundaries are not loaded.
        """
        if self.area_set is not None:
            return load_area_set(settings, self.id)
        return load_boundaries(self.id, settings)  # type: ignore[arg-type]

    def names(self, settings: Settings) -> pd.Series:
        """Name of each unit, indexed by its key (as text)."""
        units = self.units(settings)
        return pd.Series(units["name"].astype("string").to_numpy(), index=pd.Index(units[self.key].astype(str)))

    def keys_of(self, geometry: gpd.GeoSeries, settings: Settings) -> pd.Series:
        """The unit each geometry lies in, by the one point-in-area rule (:func:`geo.units.unit_of`).

        Notes
        -----
        ``geometry`` must be in EPSG:25832; geometries outside every unit get ``NA``.
        """
        return unit_of(geometry, self.units(settings), self.key)

    def contains(self, key: str, area: str) -> bool:
        """Whether the unit ``key`` lies in the administrative area ``area`` (an AGS prefix), by its key.

        Area sets answer from the Gemeinde each of their areas belongs to.

        >>> admin_level("gemeinde").contains("05334002", "05334")
        True
        """
        if self.area_set is None:
            return str(key).startswith(area) or str(area).startswith(str(key))
        return any(g.startswith(area) for g in self.area_set.gemeinden)

    def describe(self) -> str:
        """One German phrase for "Ergebnis je …", e.g. ``Gebiet des Gebietssatzes »koeln-stadtteile«``."""
        if self.area_set is None:
            return LEVEL_TITLES[self.id]  # type: ignore[index]
        return f"Gebiet des Gebietssatzes »{self.id}« ({self.title})"


def admin_level(level: str) -> AnalysisLevel:
    """The declaration of an administrative level.

    Raises
    ------
    DataError
        If ``level`` is not ``land``, ``regbez``, ``kreis`` or ``gemeinde``.
    """
    if level not in LEVELS:
        raise DataError(f"Unbekannte Verwaltungsebene »{level}«: erlaubt sind {', '.join(LEVELS)}.")
    return AnalysisLevel(
        id=level,
        title=LEVEL_PLURALS[level],
        unit_title=LEVEL_TITLES[level],
        column=f"{level}_ags",
        key="ags",
        key_title="AGS",
    )


def set_level(found: AreaSet) -> AnalysisLevel:
    """The declaration of a stored area set as a level."""
    return AnalysisLevel(
        id=found.name,
        title=found.title,
        unit_title="Gebiet",
        column=SET_COLUMN,
        key=SET_COLUMN,
        key_title="Nr.",
        area_set=found,
    )


def analysis_level(level: str, settings: Settings) -> AnalysisLevel:
    """The level named ``level``: an administrative level or a stored area set.

    Raises
    ------
    NotLoadedError
        If ``level`` names no administrative level and no stored area set; the
        message lists the levels and the sets there are.
    """
    if level in LEVELS:
        return admin_level(level)
    for found in area_sets(settings):
        if found.name == level:
            return set_level(found)
    names = ", ".join(f"»{s.name}«" for s in area_sets(settings)) or "keiner"
    raise NotLoadedError(
        f"Unbekannte Gebietsebene »{level}«: erlaubt sind {', '.join(LEVELS)} oder ein geladener Gebietssatz "
        f"(geladen: {names}). Gebietssätze importieren mit »integrationsatlas areas import DATEI --name NAME« "
        "oder auf der Seite »Daten«."
    )


def analysis_levels(settings: Settings, *, administrative: tuple[str, ...] = LEVELS) -> tuple[AnalysisLevel, ...]:
    """The levels with data: the loaded administrative levels (of ``administrative``), then the area sets."""
    admin = tuple(admin_level(lvl) for lvl in available_levels(settings) if lvl in administrative)
    return admin + tuple(set_level(s) for s in area_sets(settings))


def unit_keys(level: AnalysisLevel, points: gpd.GeoDataFrame, settings: Settings) -> pd.Series:
    """The key of each point's unit at ``level``: from the point's own columns where they say it, else by location.

    Demand points and facilities carry ``kreis_ags`` and ``gemeinde_ags``;
    the Land and the Regierungsbezirk follow from the Kreis; area sets and
    missing Gemeinden are located with :func:`geo.units.unit_of`.

    Notes
    -----
    ``points`` must be in EPSG:25832.
    """
    derived: dict[str, Callable[[pd.DataFrame], pd.Series]] = {
        "land": lambda p: pd.Series("05", index=p.index, dtype="string"),
        "regbez": lambda p: p["kreis_ags"].astype("string").str[:3],
        "kreis": lambda p: p["kreis_ags"].astype("string"),
        "gemeinde": lambda p: p["gemeinde_ags"].astype("string"),
    }
    source = "kreis_ags" if level.id in ("regbez", "kreis") else level.column
    known = level.id in derived and (level.id == "land" or source in points.columns)
    if known:
        keys = derived[level.id](points)
        if keys.notna().all():
            return keys
        missing = keys.isna().to_numpy()
        located = level.keys_of(points.geometry[missing], settings)
        return keys.where(~missing, located.reindex(keys.index))
    return level.keys_of(points.geometry, settings)


__all__ = [
    "SET_COLUMN",
    "AnalysisLevel",
    "Level",
    "admin_level",
    "analysis_level",
    "analysis_levels",
    "set_level",
    "unit_keys",
]
