"""Checks of an area set before it is stored: columns, geometry, NRW, Gemeinden, overlaps and gaps.

Every problem of a file is collected before anything is refused (as for the
other imports): rows without a usable polygon, without id or name, with a
duplicate id or lying mostly outside NRW are problems of their row; overlaps
between the areas and gaps between them are reported with figures, because a
planning area set may be meant that way (Schulbezirke overlap, a Sozialraum
set may leave out forests) and the one point-in-area rule of
:mod:`geo.units` still gives every point exactly one area.

All areas and lengths are computed in EPSG:25832 (square metres, reported in
km² and ha).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.errors import IntegrationsatlasError, Problem
from geo.formatting import de_int, de_number, de_pct
from geo.io.text import norm_header, text_values
from geo.projection import to_projected
from geo.settings import PROJECTED_CRS, Settings
from geo.units import load_boundaries

logger = logging.getLogger(__name__)

#: Header words that name an area's key (compared with the header's ``_``-separated words).
ID_WORDS: tuple[str, ...] = ("id", "nr", "nummer", "no", "code", "schluessel", "key", "kennung", "kennziffer")
#: Header words that name an area's name.
NAME_WORDS: tuple[str, ...] = ("name", "bezeichnung", "titel", "gen", "label")
#: An area with less than this share of its surface in NRW is refused.
MIN_SHARE_IN_NRW = 0.5
#: An area is said to straddle Gemeinden when its largest part in one Gemeinde is below this share.
SPLIT_SHARE = 0.95
#: Overlaps and gap parts smaller than this (m²) are digitising noise and only summed, not listed.
SLIVER_M2 = 10_000.0
#: Columns of a checked area set, in this order (plus ``geometry``).
UNIT_COLUMNS: tuple[str, ...] = ("unit_id", "name", "gemeinde_ags", "gemeinde_share", "nrw_share", "area_km2")


@dataclass(frozen=True)
class AreaSetCheck:
    """What the checks of an area set found.

    Parameters
    ----------
    n_rows, n_units
        Rows read; areas kept.
    id_column, name_column
        The columns used for the key and the name.
    problems
        Problems of rows and of the file (every one found).
    n_repaired
        Invalid geometries repaired with ``make_valid`` (kept).
    gemeinden
        ``(AGS, name, number of areas)`` of the Gemeinden the areas belong to
        (by the largest part of their surface), most areas first.
    straddling
        ``(id, name, share in its Gemeinde)`` of areas split over Gemeinden.
    partly_outside
        ``(id, name, share in NRW)`` of areas partly outside NRW (kept).
    overlap_km2, overlap_pairs
        Total surface covered by more than one area, and the pairs of areas
        overlapping by at least :data:`SLIVER_M2` (``(id a, id b, km²)``,
        largest first).
    gap_km2, gap_share, gap_parts
        Surface of the Gemeinden the set belongs to that lies in no area, its
        share of those Gemeinden, and the number of gap parts of at least
        :data:`SLIVER_M2` (smaller ones are boundary noise).
    area_km2
        Total surface of the areas.
    """

    n_rows: int
    n_units: int
    id_column: str
    name_column: str
    problems: tuple[Problem, ...] = ()
    n_repaired: int = 0
    gemeinden: tuple[tuple[str, str, int], ...] = ()
    straddling: tuple[tuple[str, str, float], ...] = ()
    partly_outside: tuple[tuple[str, str, float], ...] = ()
    overlap_km2: float = 0.0
    overlap_pairs: tuple[tuple[str, str, float], ...] = ()
    gap_km2: float = 0.0
    gap_share: float = 0.0
    gap_parts: int = 0
    area_km2: float = 0.0
    notes: tuple[str, ...] = field(default=())

    def findings(self) -> tuple[str, ...]:
        """The findings as German sentences with their figures (for the CLI, the Daten page and the log)."""
        out = [
            f"{self.n_units} von {self.n_rows} Gebieten übernommen, zusammen {de_number(self.area_km2, 1)} km² "
            f"(Schlüssel: Spalte »{self.id_column}«, Name: Spalte »{self.name_column}«)."
        ]
        if self.gemeinden:
            shown = ", ".join(f"{name} ({ags}): {n}" for ags, name, n in self.gemeinden[:5])
            more = f" und {len(self.gemeinden) - 5} weitere" if len(self.gemeinden) > 5 else ""
            out.append(f"Gemeinden (nach dem größten Flächenanteil): {shown}{more}.")
        if self.n_repaired:
            out.append(f"{self.n_repaired} ungültige Geometrie(n) repariert (make_valid).")
        if self.straddling:
            shown = ", ".join(f"{n} ({de_pct(s, 0, fraction=True)})" for _, n, s in self.straddling[:5])
            out.append(f"{len(self.straddling)} Gebiet(e) liegen in mehreren Gemeinden: {shown}.")
        if self.partly_outside:
            shown = ", ".join(f"{n} ({de_pct(s, 0, fraction=True)} in NRW)" for _, n, s in self.partly_outside[:5])
            out.append(f"{len(self.partly_outside)} Gebiet(e) liegen teilweise außerhalb von NRW: {shown}.")
        if self.overlap_km2 > 0:
            pairs = "; ".join(f"{a} und {b}: {de_number(km2 * 100, 1)} ha" for a, b, km2 in self.overlap_pairs[:5])
            out.append(
                f"Überschneidungen: {de_number(self.overlap_km2 * 100, 1)} ha liegen in mehr als einem Gebiet"
                + (f"; {len(self.overlap_pairs)} Paar(e) ab 1 ha ({pairs})." if self.overlap_pairs else " (nur Säume).")
                + " Ein Punkt zählt dort für das Gebiet mit dem kleinsten Schlüssel."
            )
        else:
            out.append("Keine Überschneidungen.")
        if self.gemeinden:
            out.append(
                f"Lücken: {de_number(self.gap_km2, 2)} km² ({de_pct(self.gap_share, 1, fraction=True)}) dieser "
                f"Gemeinden liegen in keinem Gebiet"
                + (f", davon {self.gap_parts} Teilfläche(n) ab 1 ha." if self.gap_parts else " (nur Säume unter 1 ha).")
                + " Nachfrage dort zählt für kein Gebiet des Satzes."
            )
        return (*out, *self.notes)

    def as_dict(self) -> dict[str, object]:
        """JSON-serialisable form (figures and findings)."""
        return {
            "n_rows": self.n_rows,
            "n_units": self.n_units,
            "id_column": self.id_column,
            "name_column": self.name_column,
            "area_km2": self.area_km2,
            "n_repaired": self.n_repaired,
            "gemeinden": [{"ags": a, "name": n, "units": k} for a, n, k in self.gemeinden],
            "straddling": [{"id": i, "name": n, "share": s} for i, n, s in self.straddling],
            "partly_outside": [{"id": i, "name": n, "share_in_nrw": s} for i, n, s in self.partly_outside],
            "overlap_km2": self.overlap_km2,
            "overlap_pairs": [{"a": a, "b": b, "km2": k} for a, b, k in self.overlap_pairs],
            "gap_km2": self.gap_km2,
            "gap_share": self.gap_share,
            "gap_parts": self.gap_parts,
            "problems": [p.as_dict() for p in self.problems],
            "findings": list(self.findings()),
        }


def detect_columns(
    frame: pd.DataFrame, *, file: str, id_column: str | None = None, name_column: str | None = None
) -> tuple[str | None, str | None, list[Problem]]:
    """The key and the name column of an area file: as given, or detected from the headers.

    A key column has a header word such as ``nr``, ``id``, ``nummer`` or
    ``schluessel`` (``STT_NR``, ``sozialraum_id``); a name column one such as
    ``name`` or ``bezeichnung`` (``STT_NAME``). Among several candidates the
    one whose values are all different wins, then the leftmost.

    Returns
    -------
    tuple
        Key column, name column (``None`` when not found) and the problems
        (a given column that does not exist, or none detected), naming the
        columns of the file.

    Examples
    --------
    >>> frame = pd.DataFrame({"STT_NR": ["101", "102"], "STT_NAME": ["Altstadt", "Neustadt"], "area_km2": [1, 2]})
    >>> detect_columns(frame, file="x.geojson")[:2]
    ('STT_NR', 'STT_NAME')
    """
    columns = [c for c in frame.columns if c != getattr(frame, "_geometry_column_name", "geometry")]
    listed = ", ".join(f"»{c}«" for c in columns) or "keine"
    problems: list[Problem] = []

    def given(value: str | None, what: str) -> str | None:
        if value is None:
            return None
        if value not in columns:
            problems.append(
                Problem(f"Die {what}-Spalte »{value}« gibt es nicht.", f"Eine der Spalten {listed} angeben.", file=file)
            )
        return value

    id_col = given(id_column, "Schlüssel")
    name_col = given(name_column, "Namens")
    if id_column is None:
        id_col = _best(frame, columns, ID_WORDS, exclude=name_col)
        if id_col is None:
            problems.append(
                Problem(
                    "Keine Schlüsselspalte erkannt (z. B. »nr«, »id«, »schluessel«).",
                    f"Die Spalte mit der Nummer jedes Gebiets angeben (»--id-column«); Spalten: {listed}.",
                    file=file,
                )
            )
    if name_column is None:
        name_col = _best(frame, columns, NAME_WORDS, exclude=id_col)
        if name_col is None:
            problems.append(
                Problem(
                    "Keine Namensspalte erkannt (z. B. »name«, »bezeichnung«).",
                    f"Die Spalte mit dem Namen jedes Gebiets angeben (»--name-column«); Spalten: {listed}.",
                    file=file,
                )
            )
    return id_col, name_col, problems


def _best(frame: pd.DataFrame, columns: Sequence[object], words: tuple[str, ...], exclude: object) -> str | None:
    candidates = [
        c for c in columns if c != exclude and set(re.split(r"_+", norm_header(c))) & set(words)
    ]  # "STT_NR" → {"stt", "nr"}
    if not candidates:
        return None
    unique = [c for c in candidates if text_values(frame[c]).dropna().is_unique]
    return str((unique or candidates)[0])


def check_area_set(
    frame: pd.DataFrame,
    settings: Settings,
    *,
    file: str,
    id_column: str | None = None,
    name_column: str | None = None,
) -> tuple[gpd.GeoDataFrame, AreaSetCheck]:
    """Check a polygon file as an area set and return its valid areas with their Gemeinde.

    Parameters
    ----------
    frame
        The file as read by :func:`geo.io.formats.read_table` (a
        GeoDataFrame in its own CRS; ``attrs["row_offset"]`` gives the row
        numbers the user sees).
    settings
        Where the Gemeinde boundaries come from.
    file
        The file's name for the messages.
    id_column, name_column
        The key and the name column; detected when ``None``
        (:func:`detect_columns`).

    Returns
    -------
    tuple
        The valid areas (columns :data:`UNIT_COLUMNS`, polygons in
        EPSG:25832, file order) and the :class:`AreaSetCheck` with every
        problem and the figures.

    Notes
    -----
    Areas, overlaps and gaps in EPSG:25832 (m², reported in km² and ha). An
    area's Gemeinde is the one holding the largest part of its surface; its
    share in NRW is the part covered by the Gemeinden. Gaps are measured
    inside the Gemeinden the areas belong to.
    """
    id_col, name_col, problems = detect_columns(frame, file=file, id_column=id_column, name_column=name_column)
    n_rows = len(frame)
    empty = _empty_units()
    if not isinstance(frame, gpd.GeoDataFrame) or frame.geometry.isna().all():
        problems.append(
            Problem(
                "Die Datei enthält keine Flächen.",
                "Eine Geodatei (GeoJSON, GeoPackage, Shapefile-ZIP) mit den Gebietsgrenzen importieren.",
                file=file,
            )
        )
    if problems or id_col is None or name_col is None or not isinstance(frame, gpd.GeoDataFrame):
        return empty, AreaSetCheck(n_rows, 0, str(id_col or ""), str(name_col or ""), tuple(problems))
    rows = np.arange(n_rows) + int(frame.attrs.get("row_offset", 1))
    gdf = to_projected(frame, file).reset_index(drop=True)
    ids, names = _key_text(gdf[id_col]), text_values(gdf[name_col].reset_index(drop=True))
    geoms, repaired, bad_geometry = _polygons(gdf.geometry.to_numpy())
    keep = ~bad_geometry
    for pos in np.flatnonzero(bad_geometry):
        problems.append(
            Problem(
                "Keine gültige Fläche (Geometrie fehlt, ist ein Punkt oder eine Linie oder lässt sich nicht "
                "reparieren).",
                "Nur (Multi-)Polygone importieren; die Geometrie im GIS prüfen.",
                file=file,
                row=int(rows[pos]),
                column="geometry",
            )
        )
    for values, column, what in ((ids, id_col, "Schlüssel"), (names, name_col, "Name")):
        for pos in np.flatnonzero(values.isna().to_numpy()):
            problems.append(
                Problem(f"{what} fehlt.", f"Spalte »{column}« ausfüllen.", file=file, row=int(rows[pos]), column=column)
            )
        keep &= values.notna().to_numpy()
    duplicate = ids.duplicated(keep=False).to_numpy() & ids.notna().to_numpy()
    for pos in np.flatnonzero(duplicate):
        problems.append(
            Problem(
                f"Schlüssel »{ids.iloc[pos]}« kommt mehrfach vor.",
                "Jedem Gebiet einen eigenen Schlüssel geben (Teilflächen als ein MultiPolygon).",
                file=file,
                row=int(rows[pos]),
                column=id_col,
            )
        )
    keep &= ~duplicate
    units = gpd.GeoDataFrame(
        {"unit_id": ids.astype("string"), "name": names.astype("string")}, geometry=geoms, crs=PROJECTED_CRS
    )
    placed = _place(units, keep, settings)
    outside = keep & (placed["nrw_share"].to_numpy() < MIN_SHARE_IN_NRW)
    for pos in np.flatnonzero(outside):
        share = de_pct(placed["nrw_share"].iloc[pos], 0, fraction=True)
        problems.append(
            Problem(
                f"Das Gebiet liegt nicht in NRW (nur {share} seiner Fläche liegen in einer NRW-Gemeinde).",
                "Koordinatensystem und Lage prüfen; nur Gebiete in NRW importieren.",
                file=file,
                row=int(rows[pos]),
                column="geometry",
            )
        )
    keep &= ~outside
    units = gpd.GeoDataFrame(
        pd.concat([units.drop(columns="geometry"), placed], axis=1), geometry=units.geometry, crs=PROJECTED_CRS
    ).loc[keep, [*UNIT_COLUMNS, "geometry"]]
    units = units.reset_index(drop=True)
    check = _figures(units, settings, n_rows, str(id_col), str(name_col), problems, int((repaired & keep).sum()))
    return units, check


def _empty_units() -> gpd.GeoDataFrame:
    data = {
        c: pd.Series(dtype="string" if c in ("unit_id", "name", "gemeinde_ags") else "float64") for c in UNIT_COLUMNS
    }
    return gpd.GeoDataFrame(data, geometry=gpd.GeoSeries([], crs=PROJECTED_CRS), crs=PROJECTED_CRS)


def _key_text(values: pd.Series) -> pd.Series:
    """Keys as text; a whole number read as float (``101.0``) is written without decimals."""
    raw = values.reset_index(drop=True)
    if pd.api.types.is_float_dtype(raw):
        whole = raw.notna() & (raw % 1 == 0)
        raw = raw.astype(object).where(~whole, raw[whole].astype("int64").astype(str))
    return text_values(raw)


def _polygons(geoms: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The areal part of each geometry (repaired when invalid), which were repaired, which have none."""
    missing = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    present = np.flatnonzero(~missing)
    invalid = np.zeros(len(geoms), dtype=bool)
    invalid[present] = ~shapely.is_valid(geoms[present])
    fixed = geoms.copy()
    if invalid.any():
        fixed[invalid] = shapely.make_valid(geoms[invalid])
    areal = np.array([_areal_part(g) for g in fixed], dtype=object)
    bad = shapely.is_missing(areal) | shapely.is_empty(areal) | ~(shapely.area(areal) > 0)
    return areal, invalid, bad


def _areal_part(geom: shapely.Geometry | None) -> shapely.Geometry | None:
    """The (Multi-)Polygon part of a geometry; ``None`` when it has no surface."""
    if geom is None or shapely.is_empty(geom):
        return None
    kind = shapely.get_type_id(geom)
    if kind in (shapely.GeometryType.POLYGON, shapely.GeometryType.MULTIPOLYGON):
        return geom
    if kind == shapely.GeometryType.GEOMETRYCOLLECTION:  # make_valid may add lines or points to a polygon
        areal = (shapely.GeometryType.POLYGON, shapely.GeometryType.MULTIPOLYGON)
        polygons = [q for p in shapely.get_parts(geom) if shapely.get_type_id(p) in areal for q in shapely.get_parts(p)]
        return shapely.multipolygons(polygons) if polygons else None
    return None


def _place(units: gpd.GeoDataFrame, keep: np.ndarray, settings: Settings) -> pd.DataFrame:
    """Gemeinde (largest part), its share and the share in NRW of each area; area in km²."""
    area = shapely.area(units.geometry.to_numpy())
    out = pd.DataFrame(
        {
            "gemeinde_ags": pd.Series(pd.NA, index=units.index, dtype="string"),
            "gemeinde_share": np.nan,
            "nrw_share": 1.0,
            "area_km2": area / 1e6,
        },
        index=units.index,
    )
    try:
        gemeinden = load_boundaries("gemeinde", settings)
    except IntegrationsatlasError as exc:  # without Gemeinden: no assignment, NRW by the Kreise
        logger.warning("Gemeinden not available for the area set check: %s", exc)
        gemeinden = None
    reference = gemeinden if gemeinden is not None else load_boundaries("kreis", settings)
    positions = np.flatnonzero(keep)
    geoms = units.geometry.to_numpy()[positions]
    unit_pos, ref_pos = reference.sindex.query(geoms, predicate="intersects")
    shared = shapely.area(shapely.intersection(geoms[unit_pos], reference.geometry.to_numpy()[ref_pos]))
    inside = np.bincount(unit_pos, weights=shared, minlength=len(positions))
    with np.errstate(invalid="ignore", divide="ignore"):
        out.loc[positions, "nrw_share"] = np.minimum(inside / area[positions], 1.0)
    if gemeinden is not None and len(unit_pos):
        table = pd.DataFrame({"unit": unit_pos, "ref": ref_pos, "area": shared})
        best = table.sort_values(["unit", "area"], ascending=[True, False]).drop_duplicates("unit")
        rows = positions[best["unit"].to_numpy()]
        out.loc[rows, "gemeinde_ags"] = gemeinden["ags"].astype(str).to_numpy()[best["ref"].to_numpy()]
        out.loc[rows, "gemeinde_share"] = best["area"].to_numpy() / area[rows]
    return out


def _figures(
    units: gpd.GeoDataFrame,
    settings: Settings,
    n_rows: int,
    id_column: str,
    name_column: str,
    problems: list[Problem],
    n_repaired: int,
) -> AreaSetCheck:
    geoms = units.geometry.to_numpy()
    overlap_km2, pairs = _overlaps(units)
    gemeinden, gap_km2, gap_share, gap_parts = _gemeinden_and_gaps(units, settings)
    return AreaSetCheck(
        n_rows=n_rows,
        n_units=len(units),
        id_column=id_column,
        name_column=name_column,
        problems=tuple(problems),
        n_repaired=n_repaired,
        gemeinden=gemeinden,
        straddling=tuple(
            (str(i), str(n), float(s))
            for i, n, s in units.loc[units["gemeinde_share"] < SPLIT_SHARE, ["unit_id", "name", "gemeinde_share"]]
            .sort_values("gemeinde_share")
            .itertuples(index=False)
        ),
        partly_outside=tuple(
            (str(i), str(n), float(s))
            for i, n, s in units.loc[units["nrw_share"] < 0.99, ["unit_id", "name", "nrw_share"]]
            .sort_values("nrw_share")
            .itertuples(index=False)
        ),
        overlap_km2=overlap_km2,
        overlap_pairs=pairs,
        gap_km2=gap_km2,
        gap_share=gap_share,
        gap_parts=gap_parts,
        area_km2=float(shapely.area(geoms).sum() / 1e6) if len(geoms) else 0.0,
    )


def _overlaps(units: gpd.GeoDataFrame) -> tuple[float, tuple[tuple[str, str, float], ...]]:
    """Surface in more than one area (km²) and the pairs overlapping by at least :data:`SLIVER_M2`."""
    if len(units) < 2:
        return 0.0, ()
    geoms = units.geometry.to_numpy()
    a, b = units.sindex.query(geoms, predicate="intersects")
    first = a < b
    a, b = a[first], b[first]
    shared = shapely.intersection(geoms[a], geoms[b])
    area = shapely.area(shared)
    if not (area > 0).any():
        return 0.0, ()
    total = float(shapely.area(shapely.union_all(shared[area > 0])) / 1e6)
    big = np.flatnonzero(area >= SLIVER_M2)
    big = big[np.argsort(-area[big], kind="stable")]
    names = units["name"].astype(str).to_numpy()
    return total, tuple((names[a[k]], names[b[k]], float(area[k] / 1e6)) for k in big)


def _gemeinden_and_gaps(
    units: gpd.GeoDataFrame, settings: Settings
) -> tuple[tuple[tuple[str, str, int], ...], float, float, int]:
    """The Gemeinden of the areas (most areas first) and the gaps of the set inside them."""
    ags = units["gemeinde_ags"].dropna().astype(str)
    if ags.empty:
        return (), 0.0, 0.0, 0
    gemeinden = load_boundaries("gemeinde", settings)
    counts = ags.value_counts()
    mine = gemeinden[gemeinden["ags"].astype(str).isin(counts.index)]
    names = dict(zip(mine["ags"].astype(str), mine["name"].astype(str), strict=True))
    listed = tuple((a, names.get(a, a), int(n)) for a, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))
    territory = shapely.union_all(mine.geometry.to_numpy())
    gaps = shapely.difference(territory, shapely.union_all(units.geometry.to_numpy()))
    parts = shapely.area(shapely.get_parts(gaps)) if not shapely.is_empty(gaps) else np.zeros(0)
    gap_m2 = float(parts.sum())
    return listed, gap_m2 / 1e6, gap_m2 / max(float(shapely.area(territory)), 1.0), int((parts >= SLIVER_M2).sum())


def summary_line(check: AreaSetCheck) -> str:
    """One German line for logs: areas, Gemeinden, overlaps and gaps.

    >>> summary_line(AreaSetCheck(3, 3, "nr", "name", gemeinden=(("05315000", "Köln", 3),), gap_km2=0.5))
    '3 Gebiete in 1 Gemeinde(n); Überschneidungen 0,0 ha, Lücken 0,50 km²'
    """
    return (
        f"{de_int(check.n_units)} Gebiete in {len(check.gemeinden)} Gemeinde(n); Überschneidungen "
        f"{de_number(check.overlap_km2 * 100, 1)} ha, Lücken {de_number(check.gap_km2, 2)} km²"
    )
