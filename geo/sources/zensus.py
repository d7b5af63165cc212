"""Importer for the Destatis Zensus 2022 grid family (100 m, 1 km, 10 km; several themes).

Destatis publishes the population per grid cell as ``;``-separated CSVs inside
ZIPs, one per theme and resolution, e.g.
``Zensus2022_Bevoelkerungszahl_100m-Gitter.csv``::

    GITTER_ID_100m;x_mp_100m;y_mp_100m;Einwohner
    CRS3035RES100mN2689100E4337000;4337050;2689150;4

The file layout and the streaming reader live in
:mod:`geo.sources.zensus_files`. This module joins the themes of one
resolution by cell id into one table (population, foreign share, age groups,
mean age), keeps the cells whose centre lies in an NRW Kreis (recording that
Kreis), reprojects the centres to EPSG:25832 and stores the finest resolution
as table ``zensus`` and each coarser one as ``zensus_<res>m`` (the coarser
tables let the demand model estimate cells kept secret from the enclosing
cell, see :func:`planning.demand.zensus_target_groups`).

Licence: © Statistisches Bundesamt (Destatis), Zensus 2022, dl-de/by-2-0.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer

from geo.errors import DataError
from geo.io.limits import ReadLimits
from geo.projection import ensure_projected
from geo.settings import PROJECTED_CRS, Settings
from geo.sources.zensus_files import (
    NRW_BBOX_3035,
    SUPPRESSED,
    THEMES,
    ThemeTable,
    cell_ids,
    cell_key,
    csv_members,
    read_theme_file,
)
from geo.units import unit_of

if TYPE_CHECKING:
    from geo.store import Store

logger = logging.getLogger(__name__)

__all__ = [
    "GRID_COLUMNS",
    "NRW_BBOX_3035",
    "SUPPRESSED",
    "THEMES",
    "ZENSUS_AS_OF",
    "ZENSUS_CRS",
    "ZENSUS_LAYER",
    "ZensusImport",
    "ZensusTable",
    "grid_in_nrw",
    "import_zensus",
    "load_zensus",
    "load_zensus_parent",
    "read_zensus",
    "read_zensus_csv",
]

#: Table name of the finest grid in the data store (not a registered map layer).
ZENSUS_LAYER = "zensus"
#: CRS of the coordinates in the Destatis grid files (ETRS89-LAEA Europe).
ZENSUS_CRS = "EPSG:3035"
#: Reference date of the Zensus 2022.
ZENSUS_AS_OF = "2022-05-15"
ZENSUS_SOURCE = "Destatis Zensus 2022"
ZENSUS_LICENCE = "dl-de/by-2-0"
#: Columns of every stored grid (besides ``geometry`` and the theme columns).
GRID_COLUMNS = ("gitter_id", "population", "resolution_m", "kreis_ags")


@dataclass(frozen=True)
class ZensusImport:
    """Summary of one Zensus grid import.

    Parameters
    ----------
    source_file
        Name(s) of the imported files, comma-separated.
    resolution_m
        Cell width in metres of the finest grid stored (100, 1000 or 10000).
    rows_in
        Data rows read from the files of that resolution (all themes).
    cells_nrw
        Cells whose centre lies in NRW (stored).
    population_nrw
        Sum of the known cell populations in NRW.
    suppressed_nrw
        NRW cells whose population is kept secret (stored as ``NA``).
    batch_id
        Batch id in the data store, or ``None`` if not stored.
    themes
        Themes in the stored table (e.g. ``("bevoelkerung", "auslaender")``),
        also those of earlier imports it was joined with.
    coarser
        Other resolutions stored besides (metres).
    notes
        German notes for the user (e.g. that the population is still missing).
    """

    source_file: str
    resolution_m: int
    rows_in: int
    cells_nrw: int
    population_nrw: int
    suppressed_nrw: int
    batch_id: str | None = None
    themes: tuple[str, ...] = ()
    coarser: tuple[int, ...] = ()
    notes: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, object]:
        """The summary as a JSON-serialisable dict."""
        out = dict(self.__dict__)
        out["themes"], out["coarser"], out["notes"] = list(self.themes), list(self.coarser), list(self.notes)
        return out


@dataclass(frozen=True)
class ZensusTable:
    """All themes of one resolution joined by cell id.

    Parameters
    ----------
    resolution_m
        Cell width in metres.
    cells
        One row per cell: ``gitter_id`` (string), ``x``/``y`` (``int32``
        centre, EPSG:3035), the theme columns (``float32``, NaN = kept secret
        or theme without this cell) and ``unsicher_<theme>`` flags.
    themes
        Theme ids joined.
    files
        Files read.
    rows_in
        Data rows read (all themes).
    """

    resolution_m: int
    cells: pd.DataFrame
    themes: tuple[str, ...] = ()
    files: tuple[str, ...] = ()
    rows_in: int = 0
    suppressed: dict[str, int] = field(default_factory=dict)


def read_zensus(
    paths: Path | Sequence[Path],
    *,
    bbox: tuple[float, float, float, float] | None = NRW_BBOX_3035,
    limits: ReadLimits | None = None,
) -> dict[int, ZensusTable]:
    """Read Zensus grid files (CSVs or the published ZIPs) and join them per resolution.

    Parameters
    ----------
    paths
        One or several CSV/ZIP files of any themes and resolutions.
    bbox
        Keep only cells whose centre lies in this box (EPSG:3035); defaults
        to NRW. ``None`` keeps all cells.
    limits
        Size limits (``max_feed_bytes``), checked before and while reading.

    Returns
    -------
    dict of int to ZensusTable
        One joined table per resolution (metres), cells sorted by id.

    Raises
    ------
    SchemaError, ValidationError, DataError
        If a file is not a Zensus grid file, or two files hold the same
        theme at the same resolution.

    Notes
    -----
    The themes are outer-joined on the cell (a cell present in one theme
    only gets NaN in the others). Memory stays proportional to the kept
    cells: each file is streamed in chunks and cut to ``bbox`` first.
    """
    path_list = [Path(paths)] if isinstance(paths, (str, Path)) else [Path(p) for p in paths]
    tables: dict[int, list[ThemeTable]] = {}
    for path in path_list:
        for member in csv_members(path, limits):
            table = read_theme_file(path, member, bbox=bbox, limits=limits)
            same = [t for t in tables.get(table.resolution_m, []) if t.theme.id == table.theme.id]
            if same:
                raise DataError(
                    f"Thema »{table.theme.label}« ({table.resolution_m} m) kommt doppelt vor: "
                    f"{same[0].source_file} und {table.source_file}. Bitte jede Datei nur einmal angeben."
                )
            tables.setdefault(table.resolution_m, []).append(table)
    return {res: _join(res, parts) for res, parts in sorted(tables.items())}


def _join(resolution: int, parts: list[ThemeTable]) -> ZensusTable:
    keyed = []
    for part in parts:
        frame = part.cells.copy()
        frame.index = pd.Index(cell_key(frame["x"].to_numpy(), frame["y"].to_numpy(), resolution), name="key")
        keyed.append(frame)
    xy = pd.concat([k[["x", "y"]] for k in keyed])
    xy = xy[~xy.index.duplicated()]
    joined = xy.join([k.drop(columns=["x", "y"]) for k in keyed], how="left").sort_index()
    for col in joined.columns:
        if col.startswith("unsicher_"):
            joined[col] = joined[col].fillna(False).astype(bool)
    joined.insert(0, "gitter_id", cell_ids(joined["x"].to_numpy(), joined["y"].to_numpy(), resolution).to_numpy())
    suppressed: dict[str, int] = {}
    for part in parts:
        suppressed.update(part.suppressed)
    return ZensusTable(
        resolution,
        joined.reset_index(drop=True),
        tuple(p.theme.id for p in parts),
        tuple(p.source_file for p in parts),
        sum(p.rows_in for p in parts),
        suppressed,
    )


def read_zensus_csv(path: Path) -> pd.DataFrame:
    """Read one Destatis Zensus 2022 population grid CSV (theme ``Einwohner``), all cells.

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
    table = read_theme_file(path, csv_members(path)[0], bbox=None)
    if "population" not in table.cells.columns:
        from geo.errors import SchemaError

        raise SchemaError(
            f"Datei {path.name}: Spalte Einwohner fehlt – das ist die Datei »{table.theme.label}«, "
            "nicht »Zensus2022_Bevoelkerungszahl_…-Gitter.csv«."
        )
    cells = table.cells
    return pd.DataFrame(
        {
            "gitter_id": cell_ids(cells["x"].to_numpy(), cells["y"].to_numpy(), table.resolution_m).to_numpy(),
            "x": cells["x"].to_numpy(dtype=np.float64),
            "y": cells["y"].to_numpy(dtype=np.float64),
            "population": cells["population"].round().astype("Int64"),
            "resolution_m": table.resolution_m,
        }
    ).astype({"gitter_id": "string"})


def grid_in_nrw(cells: pd.DataFrame, kreise: gpd.GeoDataFrame, resolution_m: int | None = None) -> gpd.GeoDataFrame:
    """Keep the grid cells whose centre lies in an NRW Kreis, in EPSG:25832.

    Parameters
    ----------
    cells
        Output of :func:`read_zensus_csv` or ``ZensusTable.cells`` (centres
        ``x``/``y`` in EPSG:3035).
    kreise
        Kreis polygons with ``ags`` in EPSG:25832.
    resolution_m
        Cell width, when ``cells`` has no ``resolution_m`` column.

    Returns
    -------
    geopandas.GeoDataFrame
        Columns :data:`GRID_COLUMNS`, the other columns of ``cells``, the
        EPSG:3035 centre as ``x3035``/``y3035`` (``int32``) and point
        geometries (cell centres) in EPSG:25832, one row per NRW cell, in
        input order.

    Notes
    -----
    The centres are reprojected from EPSG:3035 to EPSG:25832 with pyproj on
    arrays, pre-filtered by the Kreis bounding box, then matched to Kreise
    with :func:`geo.units.unit_of` (a centre on a Kreis border goes to
    the first Kreis that touches it).
    """
    ensure_projected(kreise, "Kreise")
    transformer = Transformer.from_crs(ZENSUS_CRS, PROJECTED_CRS, always_xy=True)
    x, y = transformer.transform(cells["x"].to_numpy(dtype=np.float64), cells["y"].to_numpy(dtype=np.float64))
    minx, miny, maxx, maxy = kreise.total_bounds
    box = np.flatnonzero((x >= minx) & (x <= maxx) & (y >= miny) & (y <= maxy))
    points = gpd.GeoSeries(shapely.points(x[box], y[box]), crs=PROJECTED_CRS)
    ags = unit_of(points, kreise)
    inside = ags.notna().to_numpy()
    kept = cells.iloc[box[inside]].reset_index(drop=True)
    res = (
        kept["resolution_m"].to_numpy(dtype=np.int64)
        if "resolution_m" in kept
        else np.full(len(kept), int(resolution_m or 0), dtype=np.int64)
    )
    pop = kept["population"] if "population" in kept else pd.Series(np.nan, index=kept.index)
    gitter = (
        kept["gitter_id"]
        if "gitter_id" in kept
        else cell_ids(kept["x"].to_numpy(), kept["y"].to_numpy(), int(resolution_m or 0))
    )
    extra = kept.drop(columns=[c for c in ("gitter_id", "population", "resolution_m", "x", "y") if c in kept])
    frame = pd.DataFrame(
        {
            "gitter_id": pd.array(gitter.to_numpy(), dtype="string"),
            "population": pd.array(pd.to_numeric(pop).round().to_numpy(dtype=np.float64), dtype="Int64"),
            "resolution_m": res,
            "kreis_ags": pd.array(ags[inside].to_numpy(), dtype="string"),
            "x3035": kept["x"].to_numpy(dtype=np.float64).astype(np.int32),
            "y3035": kept["y"].to_numpy(dtype=np.float64).astype(np.int32),
        }
    )
    for col in extra.columns:
        frame[col] = extra[col].to_numpy()
    return gpd.GeoDataFrame(frame, geometry=points[inside].to_numpy(), crs=PROJECTED_CRS)


def _layer_name(resolution_m: int, finest: int | None) -> str:
    return ZENSUS_LAYER if resolution_m == finest else f"{ZENSUS_LAYER}_{resolution_m}m"


def import_zensus(
    path: Path | Sequence[Path], settings: Settings, *, kreise: gpd.GeoDataFrame | None = None
) -> ZensusImport:
    """Import Zensus 2022 grid files into the local data store, joining the themes already stored.

    Parameters
    ----------
    path
        One or several Destatis grid CSVs or ZIPs (Germany or any part of
        it; any themes of :data:`geo.sources.zensus_files.THEMES`). Themes of
        one resolution are joined by cell id, with each other and with the
        grid of that resolution already in the store.
    settings
        Where the store is (``settings.store_path``), the embedded Kreise and
        the size limits (``max_feed_bytes``).
    kreise
        Kreis polygons; defaults to the embedded NRW Kreise.

    Returns
    -------
    ZensusImport
        Counts and the batch id of the stored table ``zensus`` (the finest
        resolution with a population); coarser resolutions are stored as
        ``zensus_<res>m``.

    Raises
    ------
    SchemaError, ValidationError
        If a file is not a valid Zensus grid file.
    DataError
        If no cell of the files lies in NRW, or a file is damaged or too large.

    Notes
    -----
    The themes can come in any order and in separate calls (Destatis
    publishes each theme as its own download): a theme imported later joins
    the grid already stored (outer join on the cell, its columns replacing
    those of the same theme), which gives the same table as one call with
    all files. A grid without a population yet (e.g. the foreign share
    imported first) is kept as ``zensus_<res>m`` and becomes ``zensus`` once
    the population of that resolution arrives; until then the demand model
    does not use it. Stored in EPSG:25832 (cell centres); the earlier grids
    stay restorable in the store's history.
    """
    from geo.store import open_store
    from geo.units import load_boundaries

    paths = [Path(path)] if isinstance(path, (str, Path)) else [Path(p) for p in path]
    names = ", ".join(p.name for p in paths)
    tables = read_zensus(paths, limits=ReadLimits.from_settings(settings))
    if not tables:
        raise DataError(f"Datei {names}: keine Gitterzellen gefunden.")
    if kreise is None:
        kreise = load_boundaries("kreis", settings)
    store = open_store(settings)
    stored = _stored_grids(store)
    grids = {res: grid for res, (grid, _, _) in stored.items()}
    for res, table in tables.items():
        new = grid_in_nrw(table.cells, kreise, res)
        if new.empty:  # nothing of this file in NRW: never joined (it would blank the stored theme)
            if res == min(tables):
                raise DataError(
                    f"Datei {names}: keine der {table.rows_in} Gitterzellen liegt in NRW. "
                    "Bitte die Deutschland-Datei oder einen NRW-Ausschnitt verwenden."
                )
            continue
        grids[res] = merge_grids(grids.get(res), new, table.themes)
    populated = [res for res in sorted(grids) if _has_population(grids[res])]
    finest = populated[0] if populated else None
    batches: dict[int, str] = {}
    for res in sorted(grids, reverse=True):
        layer = _layer_name(res, finest)
        old_layer = stored[res][1] if res in stored else None
        if res not in tables and old_layer == layer:
            continue  # neither new data nor a new name
        read = tables.get(res)
        files = ", ".join(read.files) if read else ""
        earlier = stored[res][2] if res in stored else ""
        grid = _with_population(grids[res])
        info = store.write_layer(
            layer,
            grid,
            mode="replace",
            source_file="; ".join(f for f in (earlier, files) if f),
            source=ZENSUS_SOURCE,
            licence=ZENSUS_LICENCE,
            rows_in=read.rows_in if read else len(grid),
            rows_rejected=max(read.rows_in - len(grid), 0) if read else 0,
        )
        batches[res] = info.batch_id
    for res, (_, old_layer, _) in stored.items():  # a grid that moved to another name leaves its old one
        if old_layer != _layer_name(res, finest) and old_layer not in {_layer_name(r, finest) for r in grids}:
            meta = store.layer_meta(old_layer)
            if meta is not None:
                store.deactivate(meta.batch_id)
    shown = finest if finest is not None else min(tables)
    grid = _with_population(grids[shown])
    notes: tuple[str, ...] = ()
    if finest is not None and (unpublished := [res for res in sorted(grids) if res < finest]):
        notes = (
            f"Das {_size(unpublished[0])}-Gitter enthält keine veröffentlichte Einwohnerzahl (alle Werte "
            f"geheim oder leer); die Nachfrage nutzt das feinste Gitter mit Einwohnern, {_size(finest)}.",
        )
    if finest is None:
        notes = (
            f"Für das {_size(shown)}-Gitter fehlt noch die Einwohnerzahl: die Themen sind gespeichert und "
            f"werden mit »Zensus2022_Bevoelkerungszahl_{_size(shown)}-Gitter« verbunden, sobald diese "
            "importiert wird. Bis dahin nutzt die Nachfrage dieses Gitter nicht.",
        )
    summary = ZensusImport(
        source_file=names,
        resolution_m=shown,
        rows_in=tables[shown].rows_in if shown in tables else 0,
        cells_nrw=len(grid),
        population_nrw=int(grid["population"].sum()),
        suppressed_nrw=int(grid["population"].isna().sum()),
        batch_id=batches.get(shown) or (stored[shown][0]["batch_id"].iloc[0] if shown in stored else None),
        themes=themes_in(grid),
        coarser=tuple(r for r in sorted(grids) if r != shown),
        notes=notes,
    )
    logger.info("Zensus-Gitter importiert: %s", summary)
    return summary


#: Stored grid tables: ``zensus`` (the finest with a population) and ``zensus_<res>m``.
_GRID_LAYER = re.compile(rf"^{ZENSUS_LAYER}(?:_(\d+)m)?$")
#: Columns every grid has besides the theme columns.
_BASE_COLUMNS = ("gitter_id", "resolution_m", "kreis_ags", "x3035", "y3035")


def _stored_grids(store: Store) -> dict[int, tuple[gpd.GeoDataFrame, str, str]]:
    """The grids in the store by resolution: ``(grid without batch_id, layer name, source files)``."""
    out: dict[int, tuple[gpd.GeoDataFrame, str, str]] = {}
    for layer in store.layer_ids():
        if not _GRID_LAYER.match(layer):
            continue
        grid = store.read_layer(layer)
        if grid is None or grid.empty or "resolution_m" not in grid:
            continue
        meta = store.layer_meta(layer)
        res = int(grid["resolution_m"].iloc[0])
        if res in out and out[res][1] == ZENSUS_LAYER:
            continue  # ``zensus`` wins over a stale ``zensus_<res>m`` of the same resolution
        out[res] = (grid.drop(columns=["batch_id"]), layer, meta.source_file if meta else "")
    return out


def merge_grids(old: gpd.GeoDataFrame | None, new: gpd.GeoDataFrame, themes: Sequence[str]) -> gpd.GeoDataFrame:
    """Join a newly read grid onto a stored one of the same resolution (outer join on the cell).

    Parameters
    ----------
    old
        The stored grid (as :func:`grid_in_nrw` makes it), or ``None``.
    new
        The new cells, as :func:`grid_in_nrw` makes them.
    themes
        Theme ids of ``new``: their columns replace those of ``old``; the
        other columns of ``old`` are kept (missing for cells only in ``new``).

    Returns
    -------
    geopandas.GeoDataFrame
        One row per cell of either grid, sorted by cell (as one import of all
        the files would give), in EPSG:25832.

    Examples
    --------
    >>> import shapely
    >>> def grid(xs, **cols):
    ...     base = {"gitter_id": [f"c{x}" for x in xs], "resolution_m": 100, "kreis_ags": "05111"}
    ...     points = shapely.points([(x, 0) for x in xs])
    ...     return gpd.GeoDataFrame({**base, "x3035": xs, "y3035": 3_000_050, **cols}, geometry=points)
    >>> old = grid([4_000_050, 4_000_150], population=pd.array([10, 20], dtype="Int64"))
    >>> no_one = pd.array([pd.NA] * 2, dtype="Int64")
    >>> new = grid([4_000_150, 4_000_250], population=no_one, anteil_auslaender=[5.0, 7.0])
    >>> merged = merge_grids(old, new, ["auslaender"])
    >>> merged["population"].tolist(), merged["anteil_auslaender"].tolist()
    ([10, 20, <NA>], [nan, 5.0, 7.0])
    """
    if old is None or old.empty:
        return new
    res = int(old["resolution_m"].iloc[0])
    theme_cols = {c for t in THEMES if t.id in themes for c in (*t.columns.values(), f"unsicher_{t.id}")}
    if "bevoelkerung" in themes:
        theme_cols.add("population")
    old_i = old.set_index(pd.Index(cell_key(old["x3035"].to_numpy(), old["y3035"].to_numpy(), res)))
    new_i = new.set_index(pd.Index(cell_key(new["x3035"].to_numpy(), new["y3035"].to_numpy(), res)))
    keys = old_i.index.union(new_i.index).sort_values()
    geometry = old_i.geometry.reindex(keys)
    only_new = geometry.isna().to_numpy()
    geometry[only_new] = new_i.geometry.reindex(keys)[only_new]
    frame: dict[str, object] = {}
    for col in (*_BASE_COLUMNS[:1], "population", *_BASE_COLUMNS[1:]):
        source = new_i if col in theme_cols else old_i
        values = source[col].reindex(keys)
        if col not in theme_cols:
            values = values.where(~only_new, new_i[col].reindex(keys))
        frame[col] = values.astype(old[col].dtype).array
    for col in old.columns:
        if col not in frame and col != old.geometry.name and col not in theme_cols:
            frame[col] = old_i[col].reindex(keys).array
    for col in new.columns:
        if col not in frame and col != new.geometry.name and col in theme_cols:
            frame[col] = new_i[col].reindex(keys).array
    out = gpd.GeoDataFrame(frame, geometry=geometry.to_numpy(), crs=PROJECTED_CRS)
    for col in out.columns:
        if col.startswith("unsicher_"):
            out[col] = out[col].fillna(False).astype(bool)
    return out


def _has_population(grid: pd.DataFrame) -> bool:
    return bool(grid["population"].notna().any()) or (
        "population_alter" in grid and bool(grid["population_alter"].notna().any())
    )


def _with_population(grid: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The grid, its population taken from the age table's total when the population theme is missing."""
    if grid["population"].notna().any() or "population_alter" not in grid:
        return grid
    total = pd.to_numeric(grid["population_alter"]).round().to_numpy(dtype=np.float64)
    return grid.assign(population=pd.array(total, dtype="Int64"))


def _size(resolution_m: int) -> str:
    return f"{resolution_m // 1000}km" if resolution_m >= 1000 else f"{resolution_m}m"


def load_zensus(settings: Settings) -> gpd.GeoDataFrame | None:
    """The finest Zensus grid in the data store, or ``None`` if none was imported.

    Returns
    -------
    geopandas.GeoDataFrame or None
        Columns :data:`GRID_COLUMNS`, ``x3035``/``y3035``, the theme columns
        and ``batch_id``; cell centres in EPSG:25832.
    """
    return _read(settings, ZENSUS_LAYER)


def load_zensus_parent(settings: Settings, resolution_m: int) -> gpd.GeoDataFrame | None:
    """A coarser Zensus grid stored with the finest one (e.g. 1000 m), or ``None``."""
    return _read(settings, f"{ZENSUS_LAYER}_{resolution_m}m")


def _read(settings: Settings, layer: str) -> gpd.GeoDataFrame | None:
    from geo.store import open_store, store_exists

    if not store_exists(settings):
        return None
    grid = open_store(settings).read_layer(layer)
    if grid is None or grid.empty:
        return None
    return grid


def themes_in(grid: pd.DataFrame) -> tuple[str, ...]:
    """Ids of the themes whose columns are present in ``grid``.

    >>> themes_in(pd.DataFrame(columns=["population", "unter3", "a3bis5"]))
    ('bevoelkerung', 'alter_infra')
    """
    cols = set(grid.columns)
    return tuple(t.id for t in THEMES if cols & set(t.columns.values()))
