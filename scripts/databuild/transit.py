"""Public-transport stops in NRW from the npm package db-hafas-stations (``full.ndjson``)."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.errors import Problem, raise_if_problems
from geo.settings import PROJECTED_CRS
from scripts.databuild.config import STOPS_RANGE

logger = logging.getLogger(__name__)

#: Stored mode flags and the ``products`` keys of the source that set each (any of them).
MODE_FLAGS: dict[str, tuple[str, ...]] = {
    "bus": ("bus",),
    "tram": ("tram",),
    "subway": ("subway",),
    "suburban": ("suburban",),
    "regional": ("regional", "regionalExpress"),
    "national": ("national", "nationalExpress"),
}
#: Mode classes by priority (the first whose flags are set wins) and the flags behind each.
MODE_CLASSES: dict[str, tuple[str, ...]] = {
    "bahn": ("suburban", "regional", "national"),
    "tram_ubahn": ("tram", "subway"),
    "bus": ("bus",),
}
#: Class of stops with none of the flags (only taxi/ferry, or no product at all).
OTHER_CLASS = "sonstige"
#: German names of the flags for the ``verkehrsmittel`` text.
FLAG_TITLES: dict[str, str] = {
    "bus": "Bus",
    "tram": "Straßenbahn",
    "subway": "U-Bahn",
    "suburban": "S-Bahn",
    "regional": "Regionalverkehr",
    "national": "Fernverkehr",
}
#: Output columns of the layer ``haltestelle`` (before the geometry).
STOP_COLUMNS = ("id", "name", "typ", "modus", "verkehrsmittel", *MODE_FLAGS)


def mode_class(flags: pd.DataFrame) -> np.ndarray:
    """Derive the mode class of every stop from its boolean mode flags.

    ``bahn`` (S-Bahn, Regional- or Fernverkehr) before ``tram_ubahn``
    (Straßenbahn or U-Bahn) before ``bus``; :data:`OTHER_CLASS` otherwise.

    >>> f = pd.DataFrame({"bus": [True, True, False, False], "tram": [False, True, False, False],
    ...                   "subway": [False] * 4, "suburban": [False, False, True, False],
    ...                   "regional": [False] * 4, "national": [False] * 4})
    >>> mode_class(f).tolist()
    ['bus', 'tram_ubahn', 'bahn', 'sonstige']
    """
    conditions = [flags[list(cols)].to_numpy(dtype=bool).any(axis=1) for cols in MODE_CLASSES.values()]
    return np.select(conditions, list(MODE_CLASSES), default=OTHER_CLASS).astype(object)


def mode_text(flags: pd.DataFrame) -> np.ndarray:
    """German list of the set flags, e.g. ``"Bus, Straßenbahn"`` (empty if none).

    >>> mode_text(pd.DataFrame({"bus": [True, False], "tram": [True, False]})).tolist()
    ['Bus, Straßenbahn', '']
    """
    cols = [c for c in FLAG_TITLES if c in flags.columns]
    values = flags[cols].to_numpy(dtype=bool)
    titles = [FLAG_TITLES[c] for c in cols]
    return np.array([", ".join(t for t, on in zip(titles, row, strict=True) if on) for row in values], dtype=object)


def read_stops(path: Path) -> pd.DataFrame:
    """Read every record of ``full.ndjson`` (one JSON object per line).

    Parameters
    ----------
    path
        The extracted ``package/full.ndjson``.

    Returns
    -------
    pandas.DataFrame
        Columns ``id``, ``name``, ``typ`` (``station``/``stop``), ``lon``,
        ``lat`` (WGS84 degrees) and the boolean :data:`MODE_FLAGS`.

    Raises
    ------
    ValidationError
        Naming every line that is not JSON or lacks id, name or location.
    """
    records: list[tuple[object, ...]] = []
    problems: list[Problem] = []
    with path.open(encoding="utf-8") as fh:
        for number, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                r = json.loads(line)
                loc, products = r["location"], r.get("products") or {}
                records.append(
                    (
                        str(r["id"]),
                        str(r["name"]),
                        str(r.get("type") or ""),
                        float(loc["longitude"]),
                        float(loc["latitude"]),
                        *(any(bool(products.get(k)) for k in keys) for keys in MODE_FLAGS.values()),
                    )
                )
            except (ValueError, KeyError, TypeError) as exc:
                problems.append(
                    Problem(
                        f"Datensatz unlesbar ({exc.__class__.__name__}: {exc})",
                        "Paketversion prüfen.",
                        file=path.name,
                        row=number,
                    )
                )
    raise_if_problems(problems[:50], f"{path.name}: {len(problems)} Datensätze unlesbar")
    return pd.DataFrame.from_records(records, columns=["id", "name", "typ", "lon", "lat", *MODE_FLAGS])


def stops_in(stops: pd.DataFrame, land: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Keep the stops inside the Land polygon and derive ``modus`` and ``verkehrsmittel``.

    Parameters
    ----------
    stops
        Output of :func:`read_stops` (WGS84 ``lon``/``lat``).
    land
        The embedded Land outline (one polygon, EPSG:25832).

    Returns
    -------
    geopandas.GeoDataFrame
        Columns :data:`STOP_COLUMNS`, point geometry; sorted by ``id``.

    Notes
    -----
    Points are projected to EPSG:25832 (metres) and tested with
    :func:`shapely.contains_xy` (points on the outline count as inside).
    """
    points = gpd.GeoSeries(gpd.points_from_xy(stops["lon"], stops["lat"]), crs="EPSG:4326").to_crs(PROJECTED_CRS)
    outline = land.geometry.union_all()
    shapely.prepare(outline)
    xy = points.get_coordinates().to_numpy()
    inside = shapely.contains_xy(outline, xy[:, 0], xy[:, 1]) | shapely.intersects_xy(
        outline.boundary, xy[:, 0], xy[:, 1]
    )
    kept = stops.loc[inside].reset_index(drop=True)
    flags = kept[list(MODE_FLAGS)]
    frame = gpd.GeoDataFrame(
        {
            "id": kept["id"],
            "name": kept["name"],
            "typ": kept["typ"],
            "modus": mode_class(flags),
            "verkehrsmittel": mode_text(flags),
            **{c: flags[c].astype(bool) for c in MODE_FLAGS},
        },
        geometry=points[inside].to_numpy(),
        crs=PROJECTED_CRS,
    )
    logger.info("Haltestellen: %d gelesen, %d in NRW", len(stops), len(frame))
    return frame.sort_values("id", key=lambda s: s.str.zfill(12)).reset_index(drop=True)


def check_stops(stops: gpd.GeoDataFrame, file: str) -> dict[str, int]:
    """Check the NRW stops and count them per mode class.

    Checks: count within :data:`STOPS_RANGE`, unique ids, non-empty names,
    every class of :data:`MODE_CLASSES` present.

    Returns
    -------
    dict
        Number of stops per ``modus`` (including :data:`OTHER_CLASS`), in the
        order of :data:`MODE_CLASSES`.

    Raises
    ------
    ValidationError
        With every problem found.
    """
    problems: list[Problem] = []
    low, high = STOPS_RANGE
    if not low <= len(stops) <= high:
        problems.append(Problem(f"{len(stops)} Haltestellen in NRW, erwartet {low}–{high}", file=file))
    problems += [
        Problem(f"ID »{i}« doppelt", file=file, column="id") for i in stops.loc[stops["id"].duplicated(), "id"]
    ]
    problems += [
        Problem(f"Haltestelle {i} ohne Namen", file=file, column="name")
        for i in stops.loc[stops["name"].str.strip() == "", "id"]
    ]
    counts = stops["modus"].value_counts()
    problems += [
        Problem(f"keine Haltestelle der Klasse »{c}«", file=file, column="modus")
        for c in MODE_CLASSES
        if counts.get(c, 0) == 0
    ]
    raise_if_problems(problems, "Haltestellen unplausibel")
    result = {c: int(counts.get(c, 0)) for c in (*MODE_CLASSES, OTHER_CLASS)}
    logger.info("Haltestellen je Klasse: %s", ", ".join(f"{k} {v}" for k, v in result.items()))
    return result
