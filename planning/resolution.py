"""How fine the demand is, and whether that is fine enough for a question.

Every demand point stands for an area: a 100 m Zensus cell, a 1 km cell, a
100 m cell estimated from OSM buildings, the part of a Gemeinde around one of
its places, a Kreis. A coverage share computed from a handful of such points,
or with points that stand for areas wider than the distance asked about, is
not a result. :func:`check_resolution` says so, in German, with the fix.

The demand frames of :mod:`planning.demand` carry two columns for this:
``resolution`` (a key of :data:`RESOLUTIONS`) and ``unit_size_m`` (the
width of the area the point stands for, metres).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.errors import SchemaError
from geo.projection import ensure_projected

logger = logging.getLogger(__name__)

#: Resolution kind → German label. Ordered from finest to coarsest.
RESOLUTIONS: dict[str, str] = {
    "zensus_100m": "Zensus 2022, 100-m-Gitter",
    "osm_100m": "geschätzt aus Gebäuden (OSM), 100-m-Zellen",
    "zensus_1km": "Zensus 2022, 1-km-Gitter",
    "osm_grob": "geschätzt aus Orten (Gebiet ohne OSM-Gebäude), grob",
    "gemeinde": "Gemeinde (auf Orte verteilt)",
    "zensus_10km": "Zensus 2022, 10-km-Gitter",
    "orte": "Orte (GeoNames) mit Kreisbevölkerung",
}
#: Fewer demand units than this in an area: too coarse.
MIN_UNITS = 30
#: A person may sit up to half a cell diagonal (0.71 × width) from the point;
#: that displacement may be at most this share of the distance threshold.
MAX_DISPLACEMENT_SHARE = 0.5
TOO_COARSE = "Auflösung zu grob für diese Frage"


def resolution_of_grid(resolution_m: int) -> str:
    """The resolution kind of a Zensus grid of cell width ``resolution_m``.

    >>> resolution_of_grid(100), resolution_of_grid(1000)
    ('zensus_100m', 'zensus_1km')
    """
    return {100: "zensus_100m", 1000: "zensus_1km", 10_000: "zensus_10km"}.get(int(resolution_m), "zensus_1km")


@dataclass(frozen=True)
class ResolutionVerdict:
    """Whether the demand in an area is fine enough for a distance threshold.

    Parameters
    ----------
    ok
        ``True`` when the demand is fine enough.
    units
        Demand units (points with population) in the area.
    unit_size_m
        Width of the coarsest unit in the area, metres.
    resolution
        Coarsest resolution kind in the area (a key of :data:`RESOLUTIONS`).
    message
        German verdict; starts with »Auflösung zu grob für diese Frage« when
        not ``ok``.
    fix
        German advice how to get finer demand (empty when ``ok``).
    """

    ok: bool
    units: int
    unit_size_m: float
    resolution: str
    message: str
    fix: str = ""

    @property
    def label(self) -> str:
        """German label of :attr:`resolution`."""
        return RESOLUTIONS.get(self.resolution, self.resolution)


def check_resolution(
    demand: gpd.GeoDataFrame,
    area: shapely.Geometry | None,
    threshold_m: float,
    *,
    min_units: int = MIN_UNITS,
    max_displacement_share: float = MAX_DISPLACEMENT_SHARE,
) -> ResolutionVerdict:
    """Say whether the demand inside ``area`` is fine enough for a threshold.

    Parameters
    ----------
    demand
        A demand frame with ``population``, ``resolution`` and
        ``unit_size_m`` (EPSG:25832).
    area
        The area asked about (EPSG:25832); ``None`` means all of ``demand``.
    threshold_m
        The distance the question turns on (e.g. 1000 m walking distance;
        for a travel time use time × speed).
    min_units
        Fewer populated demand units than this is too coarse.
    max_displacement_share
        A unit is too large when half its diagonal (the farthest a resident
        can sit from the point) exceeds this share of ``threshold_m``.

    Returns
    -------
    ResolutionVerdict
        ``ok`` and a German message; when too coarse, the fix.

    Raises
    ------
    CRSError
        If ``demand`` is not in EPSG:25832.
    SchemaError
        If ``unit_size_m`` or ``resolution`` is missing.

    Notes
    -----
    CRS EPSG:25832, distances in metres.

    Examples
    --------
    >>> from shapely.geometry import Point, box
    >>> d = gpd.GeoDataFrame({"population": [10.0] * 40, "resolution": ["zensus_1km"] * 40,
    ...                       "unit_size_m": [1000.0] * 40},
    ...                      geometry=[Point(400_000 + 1000 * i, 5_700_000) for i in range(40)], crs="EPSG:25832")
    >>> check_resolution(d, None, 5000).ok
    True
    >>> v = check_resolution(d, None, 500)
    >>> v.ok, v.message.startswith("Auflösung zu grob für diese Frage")
    (False, True)
    """
    ensure_projected(demand, "Nachfragepunkte")
    missing = [c for c in ("population", "resolution", "unit_size_m") if c not in demand.columns]
    if missing:
        raise SchemaError(
            f"Nachfragepunkte: Spalte(n) {', '.join(missing)} fehlen; bitte die Nachfrage mit planning.demand erzeugen."
        )
    pop = pd.to_numeric(demand["population"], errors="coerce").fillna(0).to_numpy()
    inside = pop > 0
    if area is not None:
        inside &= shapely.intersects(area, demand.geometry.to_numpy())
    n = int(inside.sum())
    sizes = demand["unit_size_m"].to_numpy(dtype=np.float64)[inside]
    kinds = demand["resolution"].astype(str).to_numpy()[inside]
    if n == 0:
        return ResolutionVerdict(
            False, 0, float("nan"), "", f"{TOO_COARSE}: im Gebiet liegt keine Nachfrage.", _fix("")
        )
    worst = int(np.nanargmax(sizes))
    size, kind = float(sizes[worst]), str(kinds[worst])
    displacement = size * np.sqrt(2) / 2
    reasons = []
    if n < min_units:
        reasons.append(f"nur {n} Nachfrageeinheiten im Gebiet (mindestens {min_units} nötig)")
    if displacement > max_displacement_share * threshold_m:
        reasons.append(
            f"eine Einheit ({RESOLUTIONS.get(kind, kind)}) ist etwa {_m(size)} breit; ihre Bewohner sitzen bis zu "
            f"{_m(displacement)} vom Nachfragepunkt entfernt, bei einer Schwelle von {_m(threshold_m)}"
        )
    if not reasons:
        return ResolutionVerdict(
            True, n, size, kind, f"Auflösung ausreichend: {n} Nachfrageeinheiten, {RESOLUTIONS.get(kind, kind)}."
        )
    return ResolutionVerdict(False, n, size, kind, f"{TOO_COARSE}: " + "; ".join(reasons) + ".", _fix(kind))


def _m(metres: float) -> str:
    return f"{metres / 1000:.1f} km".replace(".", ",") if metres >= 1000 else f"{metres:.0f} m"


def _fix(kind: str) -> str:
    if kind in ("zensus_100m", "osm_100m"):
        return "Ein größeres Gebiet oder eine größere Schwelle wählen; feiner als 100 m sind die Daten nicht."
    return (
        "Das Zensus-2022-Gitter mit 100 m importieren (Seite »Daten«, Reiter »Bevölkerung«: "
        "»Zensus2022_Bevoelkerungszahl_100m-Gitter.zip«) oder die Nachfrage aus OSM-Gebäuden schätzen lassen "
        "(OSM-Datei der Gemeinde laden); sonst ein größeres Gebiet oder eine größere Schwelle wählen."
    )
