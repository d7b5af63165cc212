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
    "strassen_100m": "Einwohner je Gebiet entlang der Straßen verteilt (Näherung), 100-m-Zellen",
    "zensus_1km": "Zensus 2022, 1-km-Gitter",
    "osm_grob": "geschätzt aus Orten (Gebiet ohne OSM-Gebäude), grob",
    "gebiet": "Einwohner je Gebiet, gleichmäßig über seine Fläche verteilt",
    "gemeinde": "Gemeinde (auf Orte verteilt)",
    "zensus_10km": "Zensus 2022, 10-km-Gitter",
    "orte": "Orte (GeoNames) mit Kreisbevölkerung",
}
#: Levels whose units hold every demand unit of a kind whole: the Gemeinde population shared over places adds up
#: exactly per Gemeinde, Kreis, Regierungsbezirk and Land; the Kreis population over places per Kreis; the residents
#: of an area set per area of that set, spread evenly or along its streets (``gebiet``: the level of the set the
#: residents were imported for).
NESTED_IN: dict[str, tuple[str, ...]] = {
    "gemeinde": ("gemeinde", "kreis", "regbez", "land"),
    "orte": ("kreis", "regbez", "land"),
    "gebiet": ("gebiet",),
    "strassen_100m": ("gebiet",),
}
#: A unit's own total needs its width to span at least this many demand units (when they are not nested in it).
MIN_UNITS_ACROSS = 2.0
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


def unit_resolution(
    demand: pd.DataFrame,
    keys: pd.Series,
    unit_width_m: pd.Series,
    threshold_m: float | None = None,
    *,
    level: str | None = None,
) -> pd.DataFrame:
    """Per unit of a table: whether its demand is fine enough for the unit's own figures.

    A unit's population is a result when its demand units are nested in it
    (:data:`NESTED_IN`: a Gemeinde population adds up exactly per Gemeinde and
    Kreis) or when the unit spans at least :data:`MIN_UNITS_ACROSS` demand
    units (its width taken as √area): a Gemeinde population shared over a few
    places says nothing about one Stadtteil. A unit's covered share
    additionally needs every resident within half the threshold of her
    demand point (the displacement rule of :func:`check_resolution`).

    Parameters
    ----------
    demand
        Demand points with ``population``, ``resolution`` and ``unit_size_m``.
    keys
        The unit of each demand point (aligned on ``demand``); ``NA`` outside every unit.
    unit_width_m
        Width of each unit in metres (√ of its area), indexed by unit key.
    threshold_m
        The distance a covered share turns on; ``None``: no share is checked.
    level
        The administrative level of the units (``gemeinde`` …), for the
        nesting rule; ``gebiet`` for the area set whose residents the demand
        spreads; ``None`` for any other area set.

    Returns
    -------
    pandas.DataFrame
        Indexed like ``unit_width_m``: ``units`` (populated demand points),
        ``size_m`` (widest demand unit), ``resolution`` (its kind, a key of
        :data:`RESOLUTIONS`), ``total_ok`` and ``share_ok`` (``False`` for
        units without demand).

    Examples
    --------
    >>> d = pd.DataFrame({"population": [5.0, 7.0, 9.0], "resolution": ["gemeinde", "gemeinde", "zensus_100m"],
    ...                   "unit_size_m": [3700.0, 3700.0, 100.0]})
    >>> widths = pd.Series({"101": 1500.0, "102": 5000.0, "103": 1500.0})
    >>> r = unit_resolution(d, pd.Series(["101", "102", "103"]), widths, threshold_m=500)
    >>> r["total_ok"].tolist(), r["share_ok"].tolist()
    ([False, False, True], [False, False, True])
    >>> unit_resolution(d, pd.Series(["101", "102", "103"]), widths, level="gemeinde")["total_ok"].tolist()
    [True, True, True]
    """
    missing = [c for c in ("population", "resolution", "unit_size_m") if c not in demand.columns]
    if missing:
        raise SchemaError(f"Nachfragepunkte: Spalte(n) {', '.join(missing)} fehlen.")
    populated = pd.to_numeric(demand["population"], errors="coerce").fillna(0).to_numpy() > 0
    frame = pd.DataFrame(
        {
            "key": pd.Series(keys).astype("string").to_numpy(),
            "size": pd.to_numeric(demand["unit_size_m"], errors="coerce").to_numpy(dtype=np.float64),
            "kind": demand["resolution"].astype(str).to_numpy(),
        }
    )[populated]
    frame = frame[frame["key"].notna()]
    widest = frame.sort_values("size", ascending=False).drop_duplicates("key").set_index("key")
    index = pd.Index(unit_width_m.index.astype(str))
    out = pd.DataFrame(index=index)
    out["units"] = frame.groupby("key").size().reindex(index, fill_value=0).to_numpy(dtype=np.int64)
    out["size_m"] = widest["size"].reindex(index).to_numpy(dtype=np.float64)
    out["resolution"] = widest["kind"].reindex(index).fillna("").to_numpy(dtype=object)
    inside = frame.assign(inside=[level in NESTED_IN.get(k, ()) for k in frame["kind"]]).groupby("key")["inside"].all()
    nested = inside.reindex(index, fill_value=False).to_numpy(dtype=bool)
    width = pd.to_numeric(unit_width_m, errors="coerce").to_numpy(dtype=np.float64)
    size = out["size_m"].to_numpy()
    with np.errstate(invalid="ignore"):
        out["total_ok"] = (out["units"].to_numpy() > 0) & (nested | (size * MIN_UNITS_ACROSS <= width))
        displaced = size * np.sqrt(2) / 2
        fine = True if threshold_m is None else displaced <= MAX_DISPLACEMENT_SHARE * threshold_m
    out["share_ok"] = out["total_ok"].to_numpy() & fine
    return out
