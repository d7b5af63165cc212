"""The 54 Kommunale Integrationszentren: hand-written register matched to GeoNames seats."""

from __future__ import annotations

import logging
from pathlib import Path

import geopandas as gpd
import pandas as pd
import shapely

from geo.errors import DataError, Problem, raise_if_problems
from geo.layers.catalog import KI
from scripts.databuild.config import KI_GPKG, KI_PRECISION, KI_REGISTER_CSV, KI_SOURCE

logger = logging.getLogger(__name__)


# --- KI register ----------------------------------------------------------


def read_ki_register(path: Path) -> pd.DataFrame:
    """Read the hand-written KI register CSV (all columns as str).

    Raises
    ------
    DataError
        If a column is missing or ``traeger_ags`` repeats.
    """
    register = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")
    needed = ["traeger_ags", "kreis_ags", "name", "traeger", "sitz", "as_of"]
    missing = [c for c in needed if c not in register.columns]
    if missing:
        raise DataError(f"Datei {path.name}: Spalten fehlen: {', '.join(missing)}.")
    if register["traeger_ags"].duplicated().any():
        raise DataError(f"Datei {path.name}: traeger_ags doppelt.")
    return register


def match_seats(
    register: pd.DataFrame,
    places: gpd.GeoDataFrame,
    kreise: gpd.GeoDataFrame,
) -> gpd.GeoDataFrame:
    """Locate each register row's ``sitz`` at a GeoNames place inside its Kreis.

    A place matches when its ``name`` or one of its ``alternatenames`` equals
    ``sitz`` and it lies inside the polygon of ``kreis_ags``. Among matches,
    an exact ``name`` beats an alternate name, then the larger population wins,
    then the smaller GeoNames id (deterministic).

    Parameters
    ----------
    register
        Columns ``kreis_ags`` and ``sitz`` (plus any others, kept).
    places
        GeoNames points in EPSG:25832 with ``id``, ``name``, ``population``
        and optionally ``alternatenames`` (iterables of str).
    kreise
        Kreis polygons in EPSG:25832 with ``ags``.

    Returns
    -------
    geopandas.GeoDataFrame
        ``register`` (same index and order) with ``geonames_id`` and point
        geometry, CRS EPSG:25832.

    Raises
    ------
    DataError
        Listing every seat without a match inside its Kreis.

    Notes
    -----
    CRS EPSG:25832. Vectorised: names are exploded into a lookup table, joined
    on ``sitz`` and tested with :func:`shapely.covers` pairwise.

    Examples
    --------
    >>> from shapely import box, Point
    >>> k = gpd.GeoDataFrame({"ags": ["05958", "05966"]}, geometry=[box(0, 0, 10, 10), box(10, 0, 20, 10)],
    ...                      crs="EPSG:25832")
    >>> p = gpd.GeoDataFrame({"id": ["1", "2", "3"], "name": ["Olpe", "Olpe", "Meschede"],
    ...                       "population": [500, 25000, 30000]},
    ...                      geometry=[Point(2, 2), Point(15, 5), Point(5, 5)], crs="EPSG:25832")
    >>> r = pd.DataFrame({"kreis_ags": ["05966", "05958"], "sitz": ["Olpe", "Meschede"]})
    >>> match_seats(r, p, k)[["sitz", "geonames_id"]].to_numpy().tolist()
    [['Olpe', '2'], ['Meschede', '3']]
    """
    alt = places["alternatenames"] if "alternatenames" in places else pd.Series([()] * len(places), places.index)
    lookup = pd.concat(
        [
            pd.DataFrame({"key": places["name"], "exact": True, "place": places.index}),
            pd.DataFrame({"key": alt.apply(list), "exact": False, "place": places.index}).explode("key").dropna(),
        ]
    )
    lookup = lookup.drop_duplicates(["key", "place"], keep="first")
    reg = register.reset_index(names="row_pos")
    cand = reg[["row_pos", "kreis_ags", "sitz"]].merge(lookup, left_on="sitz", right_on="key", how="inner")
    polygons = kreise.set_index("ags").geometry
    cand = cand[cand["kreis_ags"].isin(polygons.index)]
    inside = shapely.covers(polygons.loc[cand["kreis_ags"]].to_numpy(), places.geometry.loc[cand["place"]].to_numpy())
    cand = cand[inside].assign(
        population=places["population"].loc[cand["place"][inside]].to_numpy(),
        id_num=pd.to_numeric(places["id"].loc[cand["place"][inside]], errors="coerce").to_numpy(),
    )
    best = (
        cand.sort_values(["row_pos", "exact", "population", "id_num"], ascending=[True, False, False, True])
        .drop_duplicates("row_pos")
        .set_index("row_pos")["place"]
    )
    unmatched = reg[~reg["row_pos"].isin(best.index)]
    raise_if_problems(
        [
            Problem(
                f"Sitz »{r.sitz}« nicht in GeoNames innerhalb von Kreis {r.kreis_ags} gefunden",
                "Schreibweise in ki_register.csv prüfen",
                file=KI_REGISTER_CSV.name,
                row=int(pos) + 2,
            )
            for pos, r in zip(unmatched["row_pos"].tolist(), unmatched.itertuples(), strict=True)
        ],
        "KI-Sitze nicht zuzuordnen",
    )
    chosen = best.reindex(reg["row_pos"]).to_numpy()
    out = register.copy()
    out["geonames_id"] = places["id"].loc[chosen].to_numpy()
    return gpd.GeoDataFrame(out, geometry=places.geometry.loc[chosen].to_numpy(), crs=places.crs)


def build_ki(register: pd.DataFrame, places: gpd.GeoDataFrame, kreise: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Build the ``ki`` facility layer from the register and GeoNames seats.

    Returns
    -------
    geopandas.GeoDataFrame
        The columns of the ``ki`` layer declaration (``FACILITY_COLUMNS`` +
        ``sitz``) and geometry, sorted by ``id``; street, PLZ and Gemeinde-AGS
        stay empty (never invented).

    Raises
    ------
    DataError
        If a point is not inside its own Kreis polygon or an id repeats.

    Notes
    -----
    CRS EPSG:25832; ``location_precision`` is ``Ort`` (town-level point).
    """
    located = match_seats(register, places, kreise)
    ki = gpd.GeoDataFrame(
        {
            "id": "KI-" + located["traeger_ags"],
            "name": located["name"],
            "traeger": located["traeger"],
            "strasse": None,
            "plz": None,
            "ort": located["sitz"],
            "kreis_ags": located["kreis_ags"],
            "gemeinde_ags": None,
            "location_precision": KI_PRECISION,
            "source": KI_SOURCE + "; Koordinaten: GeoNames (ID " + located["geonames_id"] + ", CC BY 4.0)",
            "as_of": located["as_of"],
            "sitz": located["sitz"],
        },
        geometry=located.geometry,
        crs=located.crs,
    )
    ki = ki[[*KI.column_names, "geometry"]].sort_values("id").reset_index(drop=True)
    polygons = kreise.set_index("ags").geometry.loc[ki["kreis_ags"]].to_numpy()
    outside = ~shapely.covers(polygons, ki.geometry.to_numpy())
    problems = [Problem(f"{i} liegt nicht im eigenen Kreis", file=str(KI_GPKG)) for i in ki.loc[outside, "id"]]
    if ki["id"].duplicated().any():
        problems.append(Problem("KI-ID doppelt", file=str(KI_GPKG), column="id"))
    raise_if_problems(problems, "KI-Register unplausibel")
    return ki
