"""Importer for the Destatis Zensus 2022 population grid (1 km, 100 m or 10 km).

Destatis publishes the population per grid cell as a ``;``-separated CSV, e.g.
``Zensus2022_Bevoelkerungszahl_1km-Gitter.csv``::

    GITTER_ID_1km;x_mp_1km;y_mp_1km;Einwohner
    CRS3035RES1000mN2689000E4337000;4337500;2689500;4

``x_mp``/``y_mp`` are the cell centres in EPSG:3035 (ETRS89-LAEA); the
``GITTER_ID`` encodes the lower-left corner. Cells kept secret show ``–`` or
``-`` instead of a number. The importer parses the file, keeps the cells whose
centre lies in an NRW Kreis (and records that Kreis), reprojects the centres
to EPSG:25832 and stores them in the local data store as table ``zensus``.

Licence: © Statistisches Bundesamt (Destatis), Zensus 2022, dl-de/by-2-0.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer

from geo.enrich import unit_of
from geo.errors import DataError, Problem, SchemaError, raise_if_problems
from geo.projection import ensure_projected
from geo.settings import PROJECTED_CRS, Settings

logger = logging.getLogger(__name__)

#: Table name of the grid in the data store (not a registered map layer).
ZENSUS_LAYER = "zensus"
#: CRS of the coordinates in the Destatis grid files (ETRS89-LAEA Europe).
ZENSUS_CRS = "EPSG:3035"
#: Reference date of the Zensus 2022.
ZENSUS_AS_OF = "2022-05-15"
ZENSUS_SOURCE = "Destatis Zensus 2022"
ZENSUS_LICENCE = "dl-de/by-2-0"
#: Values that mark a cell kept secret (or without a value).
SUPPRESSED = frozenset({"–", "-", "—", ".", "x", "X", "/", ""})
#: Columns of the stored grid (besides ``geometry``).
GRID_COLUMNS = ("gitter_id", "population", "resolution_m", "kreis_ags")

_ID_COLUMN = re.compile(r"^GITTER_ID_(\d+)(k?m)$", re.IGNORECASE)
_CELL_ID = re.compile(r"^CRS3035RES(\d+)mN(\d+)E(\d+)$")
_MAX_PROBLEMS = 100


@dataclass(frozen=True)
class ZensusImport:
    """Summary of one Zensus grid import.

    Parameters
    ----------
    source_file
        Name of the imported CSV.
    resolution_m
        Cell width in metres (100, 1000 or 10000).
    rows_in
        Data rows in the file.
    cells_nrw
        Cells whose centre lies in NRW (stored).
    population_nrw
        Sum of the known cell populations in NRW.
    suppressed_nrw
        NRW cells whose population is kept secret (stored as ``NA``).
    batch_id
        Batch id in the data store, or ``None`` if not stored.
    """

    source_file: str
    resolution_m: int
    rows_in: int
    cells_nrw: int
    population_nrw: int
    suppressed_nrw: int
    batch_id: str | None = None

    def as_dict(self) -> dict[str, object]:
        """The summary as a JSON-serialisable dict."""
        return dict(self.__dict__)


def _resolution_m(token: str, unit: str) -> int:
    return int(token) * (1000 if unit.lower() == "km" else 1)


def _read_text_table(path: Path) -> pd.DataFrame:
    last: Exception | None = None
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return pd.read_csv(path, sep=";", dtype=str, keep_default_na=False, encoding=encoding)
        except UnicodeDecodeError as exc:
            last = exc
        except (OSError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
            raise DataError(f"Datei {path.name}: nicht lesbar ({exc}). Bitte die Original-CSV von Destatis "
                            "verwenden (Semikolon-getrennt).") from exc
    raise DataError(f"Datei {path.name}: Zeichenkodierung unbekannt ({last}). Bitte als UTF-8 speichern.")


def read_zensus_csv(path: Path) -> pd.DataFrame:
    """Read a Destatis Zensus 2022 grid CSV.

    Parameters
    ----------
    path
        The CSV (``;``-separated, UTF-8 or Windows-1252) with a column
        ``GITTER_ID_<res>``, optionally ``x_mp_<res>``/``y_mp_<res>``, and
        ``Einwohner``.

    Returns
    -------
    pandas.DataFrame
        Columns ``gitter_id`` (str), ``x`` and ``y`` (cell centre in
        EPSG:3035, metres), ``population`` (``Int64``, ``NA`` where kept
        secret) and ``resolution_m`` (int), one row per data row.

    Raises
    ------
    SchemaError
        If ``GITTER_ID_…`` or ``Einwohner`` is missing.
    ValidationError
        Listing (up to 100) rows with an unreadable cell id or coordinate, or
        a population that is neither a number ≥ 0 nor a secrecy mark.

    Notes
    -----
    Coordinates stay in EPSG:3035 here; when ``x_mp``/``y_mp`` are absent the
    centre is derived from the cell id (lower-left corner + half a cell).
    """
    path = Path(path)
    raw = _read_text_table(path)
    raw.columns = [str(c).strip() for c in raw.columns]
    id_cols = [c for c in raw.columns if _ID_COLUMN.match(c)]
    pop_col = next((c for c in raw.columns if c.lower() == "einwohner"), None)
    missing = [] if id_cols else ["GITTER_ID_1km (oder _100m/_10km)"]
    if pop_col is None:
        missing.append("Einwohner")
    if missing:
        raise SchemaError(
            f"Datei {path.name}: Spalte(n) {', '.join(missing)} fehlen – das ist keine Zensus-2022-Gitterdatei "
            f"(gefunden: {', '.join(raw.columns[:8])}). Bitte z. B. »Zensus2022_Bevoelkerungszahl_1km-Gitter.csv« "
            "von destatis.de verwenden."
        )
    id_col = id_cols[0]
    m = _ID_COLUMN.match(id_col)
    if m is None or pop_col is None:  # both checked above; narrows the types
        raise SchemaError(f"Datei {path.name}: Kopfzeile unlesbar.")
    suffix = id_col[len("GITTER_ID_"):]
    resolution = _resolution_m(m.group(1), m.group(2))
    ids = raw[id_col].str.strip()
    parts = ids.str.extract(_CELL_ID)
    cell_res = pd.to_numeric(parts[0], errors="coerce")
    x_col = next((c for c in raw.columns if c.lower() == f"x_mp_{suffix}".lower()), None)
    y_col = next((c for c in raw.columns if c.lower() == f"y_mp_{suffix}".lower()), None)
    if x_col and y_col:
        x = pd.to_numeric(raw[x_col].str.strip().str.replace(",", ".", regex=False), errors="coerce")
        y = pd.to_numeric(raw[y_col].str.strip().str.replace(",", ".", regex=False), errors="coerce")
        where_xy = f"{x_col}/{y_col}"
    else:
        half = resolution / 2
        x = pd.to_numeric(parts[2], errors="coerce") + half
        y = pd.to_numeric(parts[1], errors="coerce") + half
        where_xy = id_col
    text = raw[pop_col].str.strip().str.replace(".", "", regex=False).str.replace(" ", "", regex=False)
    suppressed = raw[pop_col].str.strip().isin(SUPPRESSED)
    pop = pd.to_numeric(text.where(~suppressed), errors="coerce")

    problems: list[Problem] = []

    def note(mask: pd.Series, message: str, column: str, fix: str) -> None:
        for pos in np.flatnonzero(mask.to_numpy())[: _MAX_PROBLEMS - len(problems)]:
            problems.append(Problem(message, fix, file=path.name, row=int(pos) + 2, column=column))

    note(parts[0].isna() | (cell_res != resolution), "Gitter-ID unlesbar oder falsche Zellgröße.", id_col,
         f"Format CRS3035RES{resolution}mN…E… erwartet.")
    note(x.isna() | y.isna(), "Koordinate fehlt oder ist keine Zahl.", where_xy, "Original-Datei verwenden.")
    not_count = (pop.isna() & ~suppressed) | (pop < 0) | (pop.notna() & (pop % 1 != 0))
    note(not_count, "Einwohnerzahl ist keine ganze Zahl ≥ 0.", pop_col, "Zahl oder »–« (geheim gehalten) eintragen.")
    raise_if_problems(problems, f"Zensus-Gitterdatei {path.name} ist ungültig")
    return pd.DataFrame({
        "gitter_id": ids.astype("string"),
        "x": x.to_numpy(dtype=np.float64),
        "y": y.to_numpy(dtype=np.float64),
        "population": pop.astype("Int64"),
        "resolution_m": resolution,
    })


def grid_in_nrw(cells: pd.DataFrame, kreise: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Keep the grid cells whose centre lies in an NRW Kreis, in EPSG:25832.

    Parameters
    ----------
    cells
        Output of :func:`read_zensus_csv` (centres in EPSG:3035).
    kreise
        Kreis polygons with ``ags`` in EPSG:25832.

    Returns
    -------
    geopandas.GeoDataFrame
        Columns :data:`GRID_COLUMNS` and point geometries (cell centres) in
        EPSG:25832, one row per NRW cell, in file order.

    Notes
    -----
    The centres are reprojected from EPSG:3035 to EPSG:25832 with pyproj on
    arrays, pre-filtered by the Kreis bounding box, then matched to Kreise
    with :func:`geo.enrich.unit_of` (a centre on a Kreis border goes to
    the first Kreis that touches it).
    """
    ensure_projected(kreise, "Kreise")
    transformer = Transformer.from_crs(ZENSUS_CRS, PROJECTED_CRS, always_xy=True)
    x, y = transformer.transform(cells["x"].to_numpy(), cells["y"].to_numpy())
    minx, miny, maxx, maxy = kreise.total_bounds
    box = np.flatnonzero((x >= minx) & (x <= maxx) & (y >= miny) & (y <= maxy))
    points = gpd.GeoSeries(shapely.points(x[box], y[box]), crs=PROJECTED_CRS)
    ags = unit_of(points, kreise)
    inside = ags.notna().to_numpy()
    kreis_ags = ags[inside].to_numpy()
    kept = cells.iloc[box[inside]]
    return gpd.GeoDataFrame(
        {
            "gitter_id": kept["gitter_id"].to_numpy(),
            "population": kept["population"].to_numpy(),
            "resolution_m": kept["resolution_m"].to_numpy(dtype=np.int64),
            "kreis_ags": pd.array(kreis_ags, dtype="string"),
        },
        geometry=points[inside].to_numpy(),
        crs=PROJECTED_CRS,
    ).astype({"gitter_id": "string", "population": "Int64"})


def import_zensus(path: Path, settings: Settings, *, kreise: gpd.GeoDataFrame | None = None) -> ZensusImport:
    """Import a Zensus 2022 grid CSV into the local data store (replacing an earlier one).

    Parameters
    ----------
    path
        The Destatis grid CSV (Germany or any part of it).
    settings
        Where the store is (``settings.store_path``) and the embedded Kreise.
    kreise
        Kreis polygons; defaults to the embedded NRW Kreise.

    Returns
    -------
    ZensusImport
        Counts and the batch id of the stored table ``zensus``.

    Raises
    ------
    SchemaError, ValidationError
        If the file is not a valid Zensus grid CSV.
    DataError
        If no cell of the file lies in NRW.

    Notes
    -----
    Stored in EPSG:25832 (cell centres); the earlier grid stays restorable
    in the store's history.
    """
    from geo.boundaries import load_boundaries
    from geo.store import DataStore

    path = Path(path)
    cells = read_zensus_csv(path)
    if kreise is None:
        kreise = load_boundaries("kreis", settings)
    grid = grid_in_nrw(cells, kreise)
    if grid.empty:
        raise DataError(
            f"Datei {path.name}: keine der {len(cells)} Gitterzellen liegt in NRW. "
            "Bitte die Deutschland-Datei oder einen NRW-Ausschnitt verwenden."
        )
    info = DataStore(settings.store_path).write_layer(
        ZENSUS_LAYER, grid, mode="replace", source_file=path.name, source=ZENSUS_SOURCE,
        licence=ZENSUS_LICENCE, rows_in=len(cells), rows_rejected=len(cells) - len(grid),
    )
    summary = ZensusImport(
        source_file=path.name,
        resolution_m=int(grid["resolution_m"].iloc[0]),
        rows_in=len(cells),
        cells_nrw=len(grid),
        population_nrw=int(grid["population"].sum()),
        suppressed_nrw=int(grid["population"].isna().sum()),
        batch_id=info.batch_id,
    )
    logger.info("Zensus-Gitter importiert: %s", summary)
    return summary


def load_zensus(settings: Settings) -> gpd.GeoDataFrame | None:
    """The Zensus grid in the data store, or ``None`` if none was imported.

    Returns
    -------
    geopandas.GeoDataFrame or None
        Columns :data:`GRID_COLUMNS` plus ``batch_id``, cell centres in
        EPSG:25832.
    """
    if not Path(settings.store_path).exists():
        return None
    from geo.store import DataStore

    grid = DataStore(settings.store_path).read_layer(ZENSUS_LAYER)
    if grid is None or grid.empty:
        return None
    return grid
