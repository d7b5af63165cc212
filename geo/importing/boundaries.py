"""Import of boundary layers (VG250 Gemeinden and Kreise) from users' files."""

from __future__ import annotations

import json
from collections.abc import Callable

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.errors import (
    DataError,
    Problem,
)
from geo.importing.locate import find_column, nrw_area, outside_degrees
from geo.io.limits import MAX_INT
from geo.io.text import has_control, norm_header, parse_number, text_values
from geo.layers.spec import LayerSpec
from geo.settings import PROJECTED_CRS, Settings
from geo.sources.destatis import MAX_GEMEINDE_POPULATION

# --- boundaries --------------------------------------------------------------------------


_BOUNDARY_ALIASES = {
    "AGS": ("ags", "ags_0", "gemeindeschluessel", "kreisschluessel", "schluessel"),
    "GEN": ("gen", "name", "gemeindename", "kreisname"),
    "BEZ": ("bez", "art", "typ"),
    "EWZ": ("ewz", "population", "einwohner", "bevoelkerung"),
}


def prepare_boundary(
    df: pd.DataFrame, spec: LayerSpec, *, file: str, settings: Settings
) -> tuple[gpd.GeoDataFrame, list[Problem]]:
    """VG250-style polygons (``AGS``, ``GEN``, ``BEZ``) → ``gemeinde``/``kreis`` layer."""
    from geo.sources.bkg import vg250_to_layer

    problems: list[Problem] = []
    if spec.level not in ("gemeinde", "kreis"):
        raise DataError(f"In die Ebene »{spec.title}« kann nicht importiert werden; möglich sind Gemeinden und Kreise.")
    if not isinstance(df, gpd.GeoDataFrame) or not (
        df.geometry.notna().any() or np.any(df.attrs.get("geometry_given", False))
    ):
        problems.append(
            Problem(
                "Die Datei enthält keine Flächen.",
                "Eine Geodatei (GeoJSON, GeoPackage, Shapefile) mit den Grenzen der Gemeinden bzw. Kreise importieren.",
                file=file,
            )
        )
        return _empty_layer(spec), problems
    if df.crs is None:
        problems.append(
            Problem(
                "Die Geodaten haben kein Koordinatensystem (CRS).",
                f"Datei mit CRS speichern, z. B. {PROJECTED_CRS}.",
                file=file,
            )
        )
        return _empty_layer(spec), problems
    norm_cols = {norm_header(c): c for c in df.columns if c != df.geometry.name}
    renamed = {}
    for target, names in _BOUNDARY_ALIASES.items():
        found = find_column(norm_cols, names)
        if found is not None:
            renamed[found] = target
    frame = df.rename(columns=renamed)
    for target in ("AGS", "GEN"):
        if target not in frame.columns:
            what = "Schlüssel" if target == "AGS" else "Name"
            problems.append(
                Problem(
                    "Pflichtspalte fehlt.",
                    f"Spalte {target} ({what}) ergänzen, wie in den VG250-Daten des BKG.",
                    file=file,
                    column=target,
                )
            )
    if problems:
        return _empty_layer(spec), problems
    rows = np.arange(len(frame)) + int(df.attrs.get("row_offset", 1))
    kinds = df.attrs.get("property_kinds") or {}
    for source, target in [(c, renamed.get(c, c)) for c in df.columns]:
        wrong = np.isin(kinds.get(str(source), np.array([], dtype=object)), ("list", "object", "bool"))
        if target not in ("AGS", "GEN", "BEZ", "EWZ") or not wrong.any():
            continue
        for pos in np.flatnonzero(wrong):
            problems.append(
                Problem(
                    "Der Wert ist eine Liste, ein Objekt oder true/false, kein einzelner Wert.",
                    f"In »{source}« den Wert selbst eintragen (Text bzw. Zahl).",
                    file=file,
                    row=int(rows[pos]),
                    column=target,
                )
            )
        frame = frame.assign(**{target: frame[target].where(~wrong)})
    if "EWZ" not in frame.columns and "destatis" in frame.columns:
        frame["EWZ"] = frame["destatis"].map(_destatis_population)
    polys = frame.geometry.geom_type.isin(["Polygon", "MultiPolygon"]).to_numpy()
    for pos in np.flatnonzero(~polys):
        problems.append(
            Problem("Das Objekt ist keine Fläche.", "Nur (Multi-)Polygone importieren.", file=file, row=int(rows[pos]))
        )
    length = 8 if spec.level == "gemeinde" else 5
    ags = frame["AGS"].astype("string").str.strip()
    bad = ~ags.str.fullmatch(rf"\d{{{length - 1},{length}}}", na=False).to_numpy()
    for pos in np.flatnonzero(bad & polys):
        problems.append(
            Problem(
                f"AGS »{ags.iloc[pos]}« hat nicht {length} Stellen.",
                f"{length}-stelligen Amtlichen Gemeindeschlüssel eintragen.",
                file=file,
                row=int(rows[pos]),
                column="AGS",
            )
        )
    foreign = ~bad & ~ags.str.zfill(length).str.startswith("05", na=False).to_numpy()
    for pos in np.flatnonzero(foreign & polys):
        problems.append(
            Problem(
                f"AGS »{ags.iloc[pos]}« liegt nicht in NRW (muss mit 05 beginnen).",
                "Nur NRW-Daten importieren.",
                file=file,
                row=int(rows[pos]),
                column="AGS",
            )
        )
    coords, index = shapely.get_coordinates(frame.geometry.to_numpy(), return_index=True)
    infinite = np.zeros(len(frame), dtype=bool)
    np.logical_or.at(infinite, index, ~np.isfinite(coords).all(axis=1))
    given = np.asarray(df.attrs.get("geometry_given", np.zeros(len(frame), dtype=bool)), dtype=bool)
    unreadable = (
        given if len(given) == len(frame) else np.zeros(len(frame), dtype=bool)
    ) & frame.geometry.isna().to_numpy()
    for pos in np.flatnonzero(infinite | unreadable):
        problems.append(
            Problem(
                "Die Geometrie ist ungültig (nicht lesbar oder Koordinaten keine endlichen Zahlen).",
                "Geometrie im GIS prüfen und neu exportieren.",
                file=file,
                row=int(rows[pos]),
                column="geometry",
            )
        )
    polys = polys & ~infinite & ~unreadable

    def note(mask: np.ndarray, message: Callable[[int], str], fix: str, column: str) -> None:
        problems.extend(
            Problem(message(int(pos)), fix, file=file, row=int(rows[pos]), column=column)
            for pos in np.flatnonzero(mask)
        )

    beyond = outside_degrees(frame.geometry.to_numpy(), polys, df.crs)
    note(
        beyond,
        lambda pos: (
            "Die Koordinaten liegen außerhalb von −180…180 / −90…90 Grad, die Datei gibt aber Länge/Breite "
            "als Koordinatensystem an (GeoJSON ohne Angabe gilt als Länge/Breite)."
        ),
        f"Die Datei mit ihrem Koordinatensystem speichern (z. B. {PROJECTED_CRS} für UTM-Werte in Metern).",
        "geometry",
    )
    polys &= ~beyond
    share = _share_in_nrw(frame.geometry, polys, settings)
    away = polys & (share < MIN_SHARE_IN_NRW)
    note(
        away,
        lambda pos: f"Die Fläche liegt nicht in NRW (nur {share[pos]:.0%} liegen innerhalb).".replace(".", ","),
        "Koordinatensystem und Lage prüfen (verschoben oder falsch projiziert?); nur NRW-Grenzen importieren.",
        "geometry",
    )
    control = has_control(frame["GEN"].astype("string")) & polys
    note(
        control,
        lambda pos: "Der Name enthält Steuerzeichen.",
        "Steuerzeichen (unsichtbare Zeichen) aus dem Namen entfernen.",
        "GEN",
    )
    polys &= ~away & ~control
    valid = polys & ~bad & ~foreign
    if "EWZ" in frame.columns:  # population: a whole number 0 … 2^31−1, else a problem of the row
        cells = text_values(frame["EWZ"].reset_index(drop=True))
        ewz = parse_number(cells).to_numpy()
        given = cells.notna().to_numpy()
        top = min(MAX_INT, MAX_GEMEINDE_POPULATION)
        wrong = given & ~(np.isfinite(ewz) & (ewz >= 0) & (ewz <= top) & (np.nan_to_num(ewz) % 1 == 0))
        for pos in np.flatnonzero(wrong & valid):
            problems.append(
                Problem(
                    f"Einwohnerzahl »{cells.iloc[pos]}« ist keine ganze Zahl zwischen 0 und {top}.",
                    "Einwohnerzahl prüfen oder leer lassen.",
                    file=file,
                    row=int(rows[pos]),
                    column="EWZ",
                )
            )
        valid &= ~wrong
        frame = frame.assign(EWZ=np.where(given & ~wrong, ewz, np.nan))
    named = pd.DataFrame({"ags": ags.str.zfill(length), "name": frame["GEN"].astype("string").str.strip()})
    clash = named[valid].groupby("ags")["name"].transform("nunique").reindex(named.index).fillna(1).to_numpy() > 1
    note(
        clash,
        lambda pos: f"AGS »{ags.iloc[pos]}« kommt mit verschiedenen Namen vor (»{named['name'].iloc[pos]}«).",
        "Jede Gemeinde bzw. jeden Kreis mit einem eindeutigen AGS eintragen; Teilflächen tragen denselben Namen.",
        "AGS",
    )
    valid &= ~clash
    out = vg250_to_layer(frame.loc[valid], spec.level, file=file)
    dup = out["ags"].duplicated(keep="first").to_numpy() if len(out) else np.zeros(0, dtype=bool)
    for ags_value in out["ags"][dup]:
        problems.append(
            Problem(f"AGS »{ags_value}« kommt mehrfach vor.", "AGS eindeutig machen.", file=file, column="AGS")
        )
    out = out.loc[~dup]
    for col in spec.column_names:
        if col not in out.columns:
            out[col] = pd.NA
    out = out[[*spec.column_names, "geometry"]]
    out.attrs["notes"] = []
    out.attrs["location_kind"] = "geometry"
    return out, problems


#: Least share of a boundary polygon's area that must lie in NRW (the outline of the embedded Gemeinden
#: with a 1 km tolerance): simplified boundaries differ from it by a few hundred metres at most.
MIN_SHARE_IN_NRW = 0.5


def _share_in_nrw(geometry: gpd.GeoSeries, mask: np.ndarray, settings: Settings) -> np.ndarray:
    """Share of each polygon's area (of ``mask``) inside NRW with a 1 km tolerance; 1 elsewhere."""
    share = np.ones(len(geometry), dtype=float)
    if not mask.any() or geometry.crs is None:
        return share
    # coordinates PROJ cannot transform become infinite: no area in NRW
    projected = gpd.GeoSeries(geometry.to_numpy()[mask], crs=geometry.crs).to_crs(PROJECTED_CRS).to_numpy()
    valid = shapely.make_valid(projected)
    area = shapely.area(valid)
    inside = shapely.area(shapely.intersection(valid, nrw_area(settings, 1_000.0)))
    with np.errstate(invalid="ignore", divide="ignore"):
        share[mask] = np.where(area > 0, inside / area, 0.0)
    return np.nan_to_num(share, nan=0.0)


def _destatis_population(value: object) -> object:
    """Population from the nested ``destatis`` object of OpenDataLab's VG250 GeoJSON."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError:
            return None
    if isinstance(value, dict):
        return value.get("population")
    return None


def _empty_layer(spec: LayerSpec) -> gpd.GeoDataFrame:
    from geo.layers.loading import empty_layer

    return empty_layer(spec)
