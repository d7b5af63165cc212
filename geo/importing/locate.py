"""Where each row of an import lies: coordinates (lon/lat, UTM 32), geometries or postcodes; units by location."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import partial
from typing import Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.errors import (
    IntegrationsatlasError,
    NotLoadedError,
    Problem,
)
from geo.importing.geocoding import Geocoder, geocode_addresses, plz_points
from geo.io.text import norm_header, parse_number, text_values
from geo.layers.spec import LayerSpec
from geo.projection import NRW_BOUNDS_4326, NRW_BOUNDS_25832
from geo.settings import PROJECTED_CRS, Settings
from geo.units import unit_of

logger = logging.getLogger(__name__)

LocationKind = Literal["lonlat", "utm32", "geometry", "plz"]


#: Points this far outside the NRW outline are still accepted, in metres. The outline is the union of the
#: embedded Gemeinden (BKG VG250 at full resolution, so a school on the border of Lotte lies inside);
#: a facility across the border (Vaals, 0.4 km outside) is refused.
NRW_TOLERANCE_M = 300.0


# normalised header names of coordinate columns
LON_HEADERS = ("lon", "lng", "long", "longitude", "laenge", "laengengrad", "geo_laenge", "wgs84_lon", "lon_wgs84")
LAT_HEADERS = ("lat", "latitude", "breite", "breitengrad", "geo_breite", "wgs84_lat", "lat_wgs84")
EAST_HEADERS = ("rechtswert", "utmrechtswert", "utm_rechtswert", "easting", "ostwert", "utm_x", "utm_east", "x_utm")
NORTH_HEADERS = ("hochwert", "utmhochwert", "utm_hochwert", "northing", "nordwert", "utm_y", "utm_north", "y_utm")
X_HEADERS, Y_HEADERS = ("x", "x_koordinate", "koordinate_x"), ("y", "y_koordinate", "koordinate_y")
#: Every header name that holds a coordinate.
COORDINATE_HEADERS = LON_HEADERS + LAT_HEADERS + EAST_HEADERS + NORTH_HEADERS + X_HEADERS + Y_HEADERS


# --- location ------------------------------------------------------------------------


def _not_a_number(cells: pd.Series, pos: int) -> str:
    return f"»{cells.iloc[pos]}« ist keine Zahl."


def find_column(norm_cols: Mapping[str, object], names: tuple[str, ...]) -> object | None:
    return next((norm_cols[n] for n in names if n in norm_cols), None)


@dataclass
class RowChecker:
    """Collects problems and the rows they invalidate."""

    file: str
    rows: np.ndarray  # 1-based row number the user sees, per position
    problems: list[Problem] = field(default_factory=list)
    invalid: np.ndarray = field(init=False)
    fatal: bool = False

    def __post_init__(self) -> None:
        self.invalid = np.zeros(len(self.rows), dtype=bool)

    def row(self, mask: np.ndarray, message: Callable[[int], str], fix: str, column: object | None) -> None:
        """Add one problem per ``True`` position of ``mask`` (loop only over bad rows)."""
        mask = np.asarray(mask, dtype=bool)
        self.invalid |= mask
        for pos in np.flatnonzero(mask):
            self.problems.append(
                Problem(
                    message(int(pos)),
                    fix,
                    file=self.file,
                    row=int(self.rows[pos]),
                    column=None if column is None else str(column),
                )
            )

    def file_level(self, message: str, fix: str, column: object | None = None) -> None:
        self.fatal = True
        self.problems.append(Problem(message, fix, file=self.file, column=None if column is None else str(column)))


@functools.lru_cache(maxsize=4)
def _nrw_outline(path: str, mtime_ns: int, tolerance_m: float) -> shapely.Geometry:
    """The union of the embedded Gemeinden (EPSG:25832) buffered by ``tolerance_m``, once per file version."""
    import pyogrio

    gemeinden = pyogrio.read_dataframe(path, layer="gemeinde", columns=[])
    # the Gemeinden tile NRW without overlaps: the coverage union is exact and 10 times faster than union_all
    outline = shapely.coverage_union_all(gemeinden.geometry.to_numpy()).buffer(tolerance_m)
    shapely.prepare(outline)
    return outline


def nrw_area(settings: Settings, tolerance_m: float = NRW_TOLERANCE_M) -> shapely.Geometry:
    """NRW in EPSG:25832 with a tolerance: the embedded Gemeinden, else the Land boundary, else the NRW box.

    Used to refuse locations outside NRW (a wrong CRS, another Land, across the border).
    """
    from geo.layers.registry import REGISTRY

    embedded = REGISTRY.boundary("gemeinde").embedded
    path = settings.data_dir / embedded if embedded else None
    try:
        if path is not None and path.is_file():
            return _nrw_outline(str(path), path.stat().st_mtime_ns, float(tolerance_m))
        else:
            from geo.units import load_boundaries

            land = load_boundaries("land", settings)
            outline = shapely.union_all(land.geometry.to_numpy()).buffer(max(tolerance_m, 2_500.0))
    except (IntegrationsatlasError, OSError) as exc:
        logger.warning("NRW outline not available (%s); using the NRW bounding box", exc)
        outline = shapely.box(*NRW_BOUNDS_25832)
    shapely.prepare(outline)
    return outline


def locate_rows(
    df: pd.DataFrame,
    spec: LayerSpec,
    chk: RowChecker,
    settings: Settings,
    mapping: dict[str, object],
    geocoder: Geocoder | None,
) -> tuple[np.ndarray, np.ndarray, str]:
    """Find each row's point; return geometries (EPSG:25832), precisions and the location kind."""
    n = len(df)
    geoms = np.full(n, None, dtype=object)
    precision = np.full(n, None, dtype=object)
    kind = ""
    norm_cols = {norm_header(c): c for c in df.columns if c != "geometry"}

    given_attr = df.attrs.get("geometry_given") if isinstance(df, gpd.GeoDataFrame) else None
    given_geom = (
        np.asarray(given_attr, dtype=bool)
        if given_attr is not None and len(given_attr) == n
        else (df.geometry.notna().to_numpy() if isinstance(df, gpd.GeoDataFrame) else np.zeros(n, bool))
    )
    if isinstance(df, gpd.GeoDataFrame) and (given_geom.any() or df.geometry.notna().any()):
        kind = "geometry"
        if df.crs is None:
            chk.file_level(
                "Die Geodaten haben kein Koordinatensystem (CRS).", f"Datei mit CRS speichern, z. B. {PROJECTED_CRS}."
            )
            return geoms, precision, kind
        errors = df.attrs.get("geometry_error")
        pts = _geometry_points(
            df.geometry, given_geom, chk, list(errors) if errors is not None and len(errors) == n else [""] * n
        )
        geoms[:] = pts
        precision[np.array([p is not None for p in pts], dtype=bool)] = "Koordinate"
    else:
        xcol = find_column(norm_cols, EAST_HEADERS) or None
        ycol = find_column(norm_cols, NORTH_HEADERS) or None
        pair_kind = "utm32" if xcol is not None and ycol is not None else ""
        if not pair_kind:
            xcol, ycol = find_column(norm_cols, LON_HEADERS), find_column(norm_cols, LAT_HEADERS)
            if xcol is None or ycol is None:
                xcol, ycol = find_column(norm_cols, X_HEADERS), find_column(norm_cols, Y_HEADERS)
            pair_kind = "lonlat" if xcol is not None and ycol is not None else ""
        if pair_kind:
            x, y = parse_number(df[xcol]), parse_number(df[ycol])
            for col, val in ((xcol, x), (ycol, y)):
                cells = text_values(df[col])
                bad = (cells.notna() & val.isna()).to_numpy()
                chk.row(
                    bad,
                    partial(_not_a_number, cells),
                    "Koordinate als Zahl eintragen (Dezimaltrennzeichen Komma oder Punkt).",
                    col,
                )
            xv, yv = x.to_numpy(), y.to_numpy()
            infinite = (x.notna() & y.notna()).to_numpy() & ~(np.isfinite(xv) & np.isfinite(yv))
            chk.row(
                infinite,
                lambda p: f"Die Koordinate ({xv[p]}, {yv[p]}) ist keine endliche Zahl.",
                "Koordinate als Zahl eintragen (Dezimaltrennzeichen Komma oder Punkt).",
                xcol,
            )
            ok = (x.notna() & y.notna()).to_numpy() & ~infinite
            if ok.any():
                in_degrees = (np.abs(xv) <= 180) & (np.abs(yv) <= 90)
                pair_kind = "lonlat" if in_degrees[ok].mean() >= 0.5 else "utm32"
            kind = pair_kind
            if kind == "lonlat":
                lo0, la0, lo1, la1 = NRW_BOUNDS_4326
                swapped = ok & (yv >= lo0) & (yv <= lo1) & (xv >= la0) & (xv <= la1)
                chk.row(
                    swapped,
                    lambda p: f"Länge {xv[p]} und Breite {yv[p]} sind offenbar vertauscht.",
                    f"Werte der Spalten »{xcol}« (Länge, ca. 6–9) und »{ycol}« (Breite, ca. 50–52) tauschen.",
                    xcol,
                )
                use = ok & ~swapped & (np.abs(xv) <= 180) & (np.abs(yv) <= 90)
                chk.row(
                    ok & ~swapped & ~use,
                    lambda p: f"Länge {xv[p]} / Breite {yv[p]} liegt außerhalb von −180…180 / −90…90 Grad.",
                    f"Koordinaten prüfen: Länge in »{xcol}« (ca. 6–9), Breite in "
                    f"»{ycol}« (ca. 50–52); UTM32-Werte in Spalten »rechtswert«/»hochwert«.",
                    xcol,
                )
                pts = gpd.GeoSeries(
                    gpd.points_from_xy(np.where(use, xv, 0.0), np.where(use, yv, 0.0)), crs="EPSG:4326"
                ).to_crs(PROJECTED_CRS)
            else:
                xv = np.where(xv >= 32_000_000, xv - 32_000_000, xv)  # "32" zone prefix
                x0, y0, x1, y1 = NRW_BOUNDS_25832
                swapped = ok & (yv >= x0) & (yv <= x1) & (xv >= y0) & (xv <= y1)
                chk.row(
                    swapped,
                    lambda p: f"Rechtswert {xv[p]:.0f} und Hochwert {yv[p]:.0f} sind offenbar vertauscht.",
                    f"Werte der Spalten »{xcol}« (Rechtswert, ca. 280 000–500 000) und »{ycol}« "
                    "(Hochwert, ca. 5 570 000–5 820 000) tauschen.",
                    xcol,
                )
                gk = ok & ~swapped & (xv >= 2_000_000) & (xv < 5_000_000)
                chk.row(
                    gk,
                    lambda p: f"Rechtswert {xv[p]:.0f} ist kein UTM32-Wert (Gauß-Krüger?).",
                    f"Koordinaten nach {PROJECTED_CRS} (ETRS89/UTM 32N) umrechnen.",
                    xcol,
                )
                pts = gpd.GeoSeries(gpd.points_from_xy(xv, yv), crs=PROJECTED_CRS)
                use = ok & ~swapped & ~gk
            geoms[use] = pts.to_numpy()[use]
            precision[use] = "Koordinate"
            cx, cy = text_values(df[xcol]).notna().to_numpy(), text_values(df[ycol]).notna().to_numpy()
            for have, lacking in ((cx & ~cy, ycol), (cy & ~cx, xcol)):
                chk.row(
                    have & ~chk.invalid,
                    lambda p: "Nur eine der beiden Koordinaten ist angegeben.",
                    f"Beide Spalten »{xcol}« und »{ycol}« ausfüllen oder beide leer lassen (dann gilt die PLZ).",
                    lacking,
                )

    missing = np.array([g is None for g in geoms], dtype=bool) & ~chk.invalid
    if geocoder is not None and missing.any():
        addr = _address(df, mapping)
        if addr is not None:
            found = geocode_addresses(addr[missing], geocoder).to_numpy()
            idx = np.flatnonzero(missing)
            hit = np.array([g is not None for g in found], dtype=bool)
            geoms[idx[hit]] = found[hit]
            precision[idx[hit]] = "Adresse"
            kind = kind or "address"
            missing = np.array([g is None for g in geoms], dtype=bool) & ~chk.invalid
    if missing.any() and "plz" in mapping:
        plz_col = mapping["plz"]
        plz = text_values(df[plz_col])
        pts = plz_points(plz).to_numpy()
        has_plz = plz.notna().to_numpy()
        known = np.array([p is not None for p in pts], dtype=bool)
        fill = missing & known
        geoms[fill] = pts[fill]
        precision[fill] = "PLZ"
        kind = kind or "plz"
        chk.row(
            missing & has_plz & ~known,
            lambda p: f"PLZ »{plz.iloc[p]}« ist unbekannt.",
            "PLZ prüfen (fünfstellig) oder Koordinaten angeben.",
            plz_col,
        )
        missing = missing & ~known & ~has_plz
    if not kind:
        chk.file_level(
            "Keine Lageangabe gefunden.",
            "Spalten lon/lat (Längen-/Breitengrad), rechtswert/hochwert (UTM32, EPSG:25832) oder plz ergänzen, "
            "oder eine Geodatei (GeoJSON, GeoPackage, Shapefile) importieren.",
        )
        return geoms, precision, kind
    chk.row(missing, lambda p: "Keine Lage: Koordinaten und PLZ fehlen.", "Koordinaten oder eine PLZ eintragen.", None)

    located = np.array([g is not None for g in geoms], dtype=bool)
    if located.any():
        area = nrw_area(settings)
        inside = np.ones(n, dtype=bool)
        inside[located] = shapely.intersects(area, geoms[located].astype(object))
        outside = located & ~inside
        by_plz = outside & (precision == "PLZ")
        col = mapping.get("plz")
        chk.row(by_plz, lambda p: "Die PLZ liegt nicht in NRW.", "PLZ prüfen: nur Einrichtungen in NRW.", col)
        chk.row(
            outside & ~by_plz,
            lambda p: f"Die Koordinate (UTM32 {geoms[p].x:.0f}, {geoms[p].y:.0f}) liegt außerhalb von NRW.",
            "Koordinaten und Koordinatensystem prüfen (Länge/Breite in Grad oder UTM32 in Metern).",
            None,
        )
    return geoms, precision, kind


#: Geometry types a point layer accepts (areas and lines give a point on them).
POINT_SOURCE_TYPES = ("Point", "MultiPoint", "Polygon", "MultiPolygon", "LineString", "MultiLineString")


def outside_degrees(geoms: np.ndarray, mask: np.ndarray, crs: object) -> np.ndarray:
    """Which geometries (of ``mask``) have a coordinate beyond ±180/±90 although ``crs`` is geographic.

    PROJ would wrap a longitude of 366° round to 6° and put the row into
    NRW; metres in a file without a CRS (GeoJSON then means WGS84) would be
    read as degrees. Both are refused. Non-geographic CRS give no hit.
    """
    import pyproj

    out = np.zeros(len(geoms), dtype=bool)
    if crs is None or not mask.any() or not pyproj.CRS.from_user_input(crs).is_geographic:
        return out
    coords, index = shapely.get_coordinates(geoms[mask], return_index=True)
    bad = (np.abs(coords[:, 0]) > 180) | (np.abs(coords[:, 1]) > 90)
    hit = np.zeros(int(mask.sum()), dtype=bool)
    np.logical_or.at(hit, index, bad)
    out[np.flatnonzero(mask)] = hit
    return out


def _geometry_points(geometry: gpd.GeoSeries, given: np.ndarray, chk: RowChecker, errors: list[str]) -> np.ndarray:
    """One point per feature (EPSG:25832); every unreadable, empty, non-finite, invalid or unsupported
    geometry that the file gave is a problem of its row (never replaced by a postcode centre)."""
    raw = geometry.to_numpy()
    n = len(raw)
    present = np.array([g is not None for g in raw], dtype=bool)
    chk.row(
        given & ~present,
        lambda p: errors[p] or "Die Geometrie ist ungültig und konnte nicht gelesen werden.",
        "Geometrie im GIS prüfen (z. B. »Geometrie reparieren«) oder »geometry« auf null setzen und "
        "Koordinaten/PLZ als Eigenschaften angeben.",
        "geometry",
    )
    types = np.array([g.geom_type if g is not None else "" for g in raw], dtype=object)
    empty = present & shapely.is_empty(raw)
    chk.row(
        empty,
        lambda p: f"Die Geometrie ({types[p]}) ist leer.",
        "Koordinaten der Geometrie eintragen oder »geometry« auf null setzen.",
        "geometry",
    )
    unsupported = present & ~empty & ~np.isin(types, POINT_SOURCE_TYPES)
    chk.row(
        unsupported,
        lambda p: f"Der Geometrietyp {types[p]} wird in einer Punktebene nicht unterstützt.",
        "Als Punkt, Linie oder Fläche speichern (keine GeometryCollection).",
        "geometry",
    )
    coords, index = shapely.get_coordinates(raw, return_index=True)
    infinite = np.zeros(n, dtype=bool)
    np.logical_or.at(infinite, index, ~np.isfinite(coords).all(axis=1))
    infinite &= present & ~empty & ~unsupported
    chk.row(
        infinite,
        lambda p: "Die Geometrie hat Koordinaten, die keine endlichen Zahlen sind.",
        "Koordinaten der Geometrie prüfen.",
        "geometry",
    )
    usable = present & ~empty & ~unsupported & ~infinite
    invalid = np.zeros(n, dtype=bool)
    invalid[usable] = ~shapely.is_valid(raw[usable])
    chk.row(
        invalid,
        lambda p: f"Die Geometrie ist ungültig ({shapely.is_valid_reason(raw[p])}).",
        "Geometrie im GIS reparieren (z. B. QGIS »Geometrien reparieren«).",
        "geometry",
    )
    usable &= ~invalid
    beyond = outside_degrees(raw, usable, geometry.crs)
    chk.row(
        beyond,
        lambda p: (
            "Die Koordinaten liegen außerhalb von −180…180 / −90…90 Grad, die Datei gibt aber Länge/Breite "
            f"({geometry.crs.to_string() if geometry.crs else 'EPSG:4326'}) als Koordinatensystem an."
        ),
        "Koordinatensystem der Datei prüfen: UTM-Werte (Meter) brauchen die Angabe des Koordinatensystems, "
        f"z. B. {PROJECTED_CRS}; GeoJSON ohne Angabe gilt als Länge/Breite.",
        "geometry",
    )
    usable &= ~beyond
    pts = np.full(n, None, dtype=object)
    if not usable.any():
        return pts
    g = gpd.GeoSeries(raw[usable], crs=geometry.crs).to_crs(PROJECTED_CRS).to_numpy()
    kinds = shapely.get_type_id(g)
    areal = np.isin(kinds, (1, 2, 3, 5, 6))  # lines and polygons
    multi = kinds == 4
    g = g.copy()
    if areal.any():
        g[areal] = shapely.point_on_surface(g[areal])
    if multi.any():
        g[multi] = shapely.get_geometry(g[multi], 0)
    coords, index = shapely.get_coordinates(g, return_index=True)
    bad = np.zeros(len(g), dtype=bool)
    np.logical_or.at(bad, index, ~np.isfinite(coords).all(axis=1))
    bad |= shapely.is_empty(g)
    idx = np.flatnonzero(usable)
    chk.row(
        np.isin(np.arange(n), idx[bad]),
        lambda p: (
            "Die Geometrie lässt sich nicht nach "
            f"{PROJECTED_CRS} umrechnen (Koordinaten außerhalb des Koordinatensystems)."
        ),
        "Koordinaten und Koordinatensystem der Datei prüfen.",
        "geometry",
    )
    g[bad] = None
    pts[idx] = g
    return pts


def _address(df: pd.DataFrame, mapping: dict[str, object]) -> pd.Series | None:
    """One-line addresses ``"Straße, PLZ Ort"`` for online geocoding."""
    if "strasse" not in mapping or not ({"plz", "ort"} & set(mapping)):
        return None
    parts = [text_values(df[mapping["strasse"]]).fillna("")]
    city = [text_values(df[mapping[c]]).fillna("") for c in ("plz", "ort") if c in mapping]
    place = city[0] if len(city) == 1 else (city[0] + " " + city[1]).str.strip()
    addr = (parts[0] + ", " + place).str.strip(", ")
    return addr.mask(addr == "")


def fill_ags(gdf: gpd.GeoDataFrame, settings: Settings) -> None:
    """Fill missing ``kreis_ags``/``gemeinde_ags`` by a spatial join (in place).

    Kreise are always embedded; Gemeinden only when they have been loaded.
    Provided codes are kept.
    """
    from geo.units import load_boundaries

    for col, level in (("gemeinde_ags", "gemeinde"), ("kreis_ags", "kreis")):
        if col not in gdf.columns or not len(gdf):
            continue
        todo = gdf[col].isna().to_numpy() & gdf.geometry.notna().to_numpy()
        if not todo.any():
            continue
        try:
            units = load_boundaries(level, settings)[["ags", "geometry"]]  # type: ignore[arg-type]
        except NotLoadedError:
            continue
        except IntegrationsatlasError as exc:
            logger.warning("%s boundaries not available for the spatial join: %s", level, exc)
            continue
        found = unit_of(gdf.geometry[todo], units)
        gdf.loc[gdf.index[todo], col] = found.astype(object).where(found.notna(), None).to_numpy()
    if "kreis_ags" in gdf.columns and "gemeinde_ags" in gdf.columns:
        gdf["kreis_ags"] = gdf["kreis_ags"].fillna(gdf["gemeinde_ags"].str[:5])
