"""How a sensitive layer is published to those who may not see exact positions.

A layer declared ``sensitive=True`` (:class:`~geo.layers.spec.LayerSpec`,
e.g. refugee accommodation) is published to roles without exact access only as
counts: per grid cell of at least :attr:`PrivacyRule.cell_m` metres (EPSG:25832
grid, origin 0/0) when the cell holds at least :attr:`PrivacyRule.k` points,
and the remaining points counted per Gemeinde, drawn at a fixed label point of
the Gemeinde (never at a position derived from the points).

The counting runs in the database (``atlas_sensitive_aggregate``, see
:mod:`geo.store.server_schema`), so that exact positions never leave it for
such a role; :func:`aggregate_frame` turns its rows into a frame of the
layer's declared columns, which then flows through map, tooltips, tables,
exports, reports and analyses like any layer: nothing downstream can reveal
more than the aggregate.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import geopandas as gpd
import pandas as pd
import shapely

from geo.errors import DataError
from geo.layers.spec import LayerSpec
from geo.settings import PROJECTED_CRS

#: Column of an aggregated record with the number of points it stands for.
COUNT_COLUMN = "anzahl"
#: ``location_precision`` of an aggregated record, by level.
PRECISION_CELL = "Raster (zusammengefasst)"
PRECISION_GEMEINDE = "Gemeinde (zusammengefasst)"


@dataclass(frozen=True)
class PrivacyRule:
    """Cell size and minimum count of the aggregation; never below 500 m and 3.

    >>> PrivacyRule().describe()
    'Anzahl je 500-m-Rasterzelle mit mindestens 3 Punkten, übrige je Gemeinde'
    >>> PrivacyRule(cell_m=100)
    Traceback (most recent call last):
    ...
    geo.errors.DataError: Zellgröße 100 m ist zu fein: mindestens 500 m.
    """

    MIN_CELL_M: ClassVar[float] = 500.0
    MIN_K: ClassVar[int] = 3

    cell_m: float = 500.0
    k: int = 3

    def __post_init__(self) -> None:
        if not self.cell_m >= self.MIN_CELL_M:
            raise DataError(f"Zellgröße {self.cell_m:g} m ist zu fein: mindestens {self.MIN_CELL_M:g} m.")
        if self.k < self.MIN_K:
            raise DataError(f"Mindestanzahl k = {self.k} ist zu klein: mindestens {self.MIN_K}.")

    def describe(self) -> str:
        """German one-liner for captions, reports and the data-protection documents."""
        return f"Anzahl je {self.cell_m:g}-m-Rasterzelle mit mindestens {self.k} Punkten, übrige je Gemeinde"


def record_weights(frame: pd.DataFrame) -> pd.Series:
    """How many points each record stands for: :data:`COUNT_COLUMN` of an aggregate, else 1.

    Counting a layer (inventory, facilities per unit) sums these, so an
    aggregated layer counts its points, not its cells.

    >>> record_weights(pd.DataFrame({"anzahl": [3, 4]})).tolist(), record_weights(pd.DataFrame({"x": [1]})).tolist()
    ([3, 4], [1])
    """
    if COUNT_COLUMN in frame.columns:
        return pd.to_numeric(frame[COUNT_COLUMN], errors="coerce").fillna(1).astype("int64")
    return pd.Series(1, index=frame.index, dtype="int64")


def refuse_as_sites(spec: LayerSpec) -> None:
    """Refuse a sensitive layer as the source of sites (planned or existing) of a siting plan.

    A site is published with its exact position in scenarios, reports and
    exports, so a site taken from a sensitive layer would publish that layer.

    Raises
    ------
    DataError
        If ``spec`` is sensitive.
    """
    if spec.sensitive:
        raise DataError(
            f"Die Ebene »{spec.title}« ist geschützt: als Standorte übernommen, stünde ihre genaue Lage in "
            "Szenarien, Berichten und Exporten. Bitte eine andere Ebene für Standorte wählen."
        )


#: Columns of the database function's rows (see ``atlas_sensitive_aggregate``).
AGGREGATE_COLUMNS: tuple[str, ...] = ("level", "key", "n", "capacity", "gemeinde_ags", "gemeinde", "wkb")


def aggregate_frame(
    rows: Sequence[Sequence[Any]], columns: Sequence[str], capacity_column: str | None, title: str
) -> gpd.GeoDataFrame:
    """The aggregated layer as a frame of the layer's declared columns.

    Parameters
    ----------
    rows
        Rows ``(level, key, n, capacity, gemeinde_ags, gemeinde, wkb)`` of
        ``atlas_sensitive_aggregate``; ``level`` is ``zelle`` or ``gemeinde``.
    columns
        The layer's declared column names (missing ones are left empty).
    capacity_column
        The layer's capacity column, which gets the summed capacity.
    title
        German title of the layer, for the record names.

    Returns
    -------
    geopandas.GeoDataFrame
        One point per published cell or Gemeinde, with ``anzahl`` (the count),
        ``name`` (e.g. ``"4 × Wohnprojekte und Unterkünfte (Rasterzelle)"``),
        ``location_precision`` and ``source`` saying that it is aggregated; in
        EPSG:25832. Rows without a position (a Gemeinde without a label point)
        are dropped.

    >>> import shapely
    >>> wkb = shapely.to_wkb(shapely.Point(294250.0, 5628250.0))
    >>> row = ("zelle", "588_11256", 3, 120, None, None, wkb)
    >>> out = aggregate_frame([row], ("id", "name", "plaetze"), "plaetze", "Unterkünfte")
    >>> out[["id", "name", "anzahl", "plaetze"]].to_dict("records")
    [{'id': 'zelle-588_11256', 'name': '3 × Unterkünfte (Rasterzelle)', 'anzahl': 3, 'plaetze': 120}]
    """
    frame = pd.DataFrame(list(rows), columns=list(AGGREGATE_COLUMNS))
    frame = frame[frame["wkb"].notna()].reset_index(drop=True)
    is_cell = frame["level"] == "zelle"
    where = pd.Series(
        ["Rasterzelle" if c else f"Gemeinde {g}" for c, g in zip(is_cell, frame["gemeinde"], strict=True)],
        dtype="object",
    )
    out = pd.DataFrame({c: pd.Series([pd.NA] * len(frame), dtype="object") for c in columns})
    out["id"] = (frame["level"] + "-" + frame["key"].astype(str)).to_numpy()
    out["name"] = [f"{int(n)} × {title} ({w})" for n, w in zip(frame["n"], where, strict=True)]
    out[COUNT_COLUMN] = frame["n"].astype("int64").to_numpy()
    if capacity_column:
        out[capacity_column] = pd.array(frame["capacity"].to_numpy(), dtype="Int64")
    if "gemeinde_ags" in columns:
        out["gemeinde_ags"] = frame["gemeinde_ags"].to_numpy()
    if "kreis_ags" in columns:
        out["kreis_ags"] = frame["gemeinde_ags"].str[:5].to_numpy()
    if "location_precision" in columns:
        out["location_precision"] = [PRECISION_CELL if c else PRECISION_GEMEINDE for c in is_cell]
    if "source" in columns:
        out["source"] = "zusammengefasst (Datenschutz)"
    geoms = shapely.from_wkb([bytes(b) for b in frame["wkb"]]) if len(frame) else []
    return gpd.GeoDataFrame(out, geometry=gpd.GeoSeries(geoms, crs=PROJECTED_CRS), crs=PROJECTED_CRS)
