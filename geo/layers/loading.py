"""Load any registered layer: embedded data plus what the user imported or fetched.

Records in the local data store override embedded records with the same id, so
that a KI imported with its exact address replaces the town-level point. A layer
declared with ``extra={"stored": "replaces_embedded"}`` (the Gemeinden) instead
has its embedded set replaced as a whole by stored records, so that a newer
VG250 never mixes with the embedded vintage.
"""

from __future__ import annotations

import functools
import logging
from pathlib import Path

import geopandas as gpd
import pandas as pd

from geo.errors import NotLoadedError, Problem, SourceUnavailableError, raise_if_problems
from geo.layers.registry import REGISTRY, LayerRegistry
from geo.layers.spec import LayerSpec
from geo.projection import NRW_BOUNDS_25832, to_projected
from geo.settings import PROJECTED_CRS, Settings

logger = logging.getLogger(__name__)


def read_embedded(spec: LayerSpec, settings: Settings) -> gpd.GeoDataFrame:
    """Read the embedded GeoPackage layer of ``spec`` and validate it.

    Raises
    ------
    SourceUnavailableError
        If the embedded file is missing (rebuild with ``python -m scripts.databuild``).
    """
    if spec.embedded is None:
        raise NotLoadedError(f"Die Ebene »{spec.title}« hat keine eingebetteten Daten.")
    path = settings.data_dir / spec.embedded
    if not path.exists():
        raise SourceUnavailableError(
            f"Eingebettete Datei {path} fehlt. Bitte mit »python -m scripts.databuild« neu erzeugen."
        )
    stat = path.stat()
    return _read_embedded_file(spec, path, stat.st_mtime_ns, stat.st_size).copy()


@functools.lru_cache(maxsize=32)
def _read_embedded_file(spec: LayerSpec, path: Path, _mtime_ns: int, _size: int) -> gpd.GeoDataFrame:
    """Read and validate an embedded file once per process and file version (shipped data never changes
    while a process runs; every import and map would otherwise read and check it again)."""
    gdf = gpd.read_file(path, layer=spec.id, engine="pyogrio")
    return validate_layer_frame(gdf, spec, path.name)


def validate_layer_frame(gdf: gpd.GeoDataFrame, spec: LayerSpec, file: str) -> gpd.GeoDataFrame:
    """Check CRS, required columns, unique ids, valid geometries and NRW AGS.

    All problems are collected and raised together as one
    :class:`~geo.errors.ValidationError`.

    Parameters
    ----------
    gdf
        The layer data.
    spec
        The layer declaration to check against.
    file
        File name for the messages.

    Returns
    -------
    geopandas.GeoDataFrame
        ``gdf`` in EPSG:25832.

    Notes
    -----
    Geometries must lie within the NRW extent in EPSG:25832 (metres).
    """
    problems: list[Problem] = []
    if gdf.crs is None:
        problems.append(
            Problem(
                "Kein Koordinatenbezugssystem gesetzt.", f"Datei mit CRS speichern (z. B. {PROJECTED_CRS}).", file=file
            )
        )
    missing = [c for c in spec.required_columns if c not in gdf.columns]
    for col in missing:
        problems.append(Problem("Pflichtspalte fehlt.", "Spalte ergänzen.", file=file, column=col))
    if problems:
        raise_if_problems(problems, f"Ebene »{spec.title}« ungültig")
    gdf = to_projected(gdf, file)
    key = spec.id_column
    if key in gdf.columns:
        dup = gdf[key].astype(str).duplicated(keep=False)
        for idx in gdf.index[dup.to_numpy()]:
            problems.append(
                Problem(
                    f"ID »{gdf.at[idx, key]}« ist doppelt.",
                    "IDs eindeutig machen.",
                    file=file,
                    row=_row(gdf, idx),
                    column=key,
                )
            )
    for ags_col in ("ags", "kreis_ags"):
        if ags_col in gdf.columns and ags_col in spec.column_names:
            vals = gdf[ags_col].astype("string")
            bad = vals.notna() & (vals != "") & ~vals.str.startswith("05", na=False)
            for idx in gdf.index[bad.to_numpy()]:
                problems.append(
                    Problem(
                        f"AGS »{gdf.at[idx, ags_col]}« liegt nicht in NRW (muss mit 05 beginnen).",
                        "Nur NRW-Daten laden.",
                        file=file,
                        row=_row(gdf, idx),
                        column=ags_col,
                    )
                )
    geoms = gdf.geometry
    for idx in gdf.index[(geoms.isna() | geoms.is_empty).to_numpy()]:
        problems.append(Problem("Geometrie fehlt.", "Koordinaten ergänzen.", file=file, row=_row(gdf, idx)))
    invalid = ~geoms.is_valid & geoms.notna()
    for idx in gdf.index[invalid.to_numpy()]:
        problems.append(
            Problem(
                "Geometrie ist ungültig.", "Geometrie reparieren (z. B. make_valid).", file=file, row=_row(gdf, idx)
            )
        )
    if len(gdf) and geoms.notna().any():
        minx, miny, maxx, maxy = NRW_BOUNDS_25832
        b = geoms.bounds
        outside = (b.minx < minx) | (b.maxx > maxx) | (b.miny < miny) | (b.maxy > maxy)
        for idx in gdf.index[outside.fillna(False).to_numpy()]:
            problems.append(
                Problem(
                    "Geometrie liegt außerhalb von NRW.", "Koordinaten und CRS prüfen.", file=file, row=_row(gdf, idx)
                )
            )
    raise_if_problems(problems, f"Ebene »{spec.title}« ungültig")
    return gdf


def _row(gdf: pd.DataFrame, idx: object) -> int:
    """1-based position of index label ``idx`` in ``gdf`` (as a spreadsheet row)."""
    return int(gdf.index.get_loc(idx)) + 1  # type: ignore[arg-type]


def read_stored(layer_id: str, settings: Settings) -> gpd.GeoDataFrame | None:
    """Return what the local data store holds for ``layer_id``, or ``None``."""
    from geo.store import open_store, store_exists  # local import: the store is optional at start-up

    if not store_exists(settings):
        return None
    return open_store(settings).read_layer(layer_id)


def load_layer(layer_id: str, settings: Settings, registry: LayerRegistry = REGISTRY) -> gpd.GeoDataFrame:
    """Load layer ``layer_id``: embedded data, overridden/extended by the data store.

    Stored records override embedded records with the same id and add new
    ones; for a layer declared with ``extra={"stored": "replaces_embedded"}``
    stored records, if any, replace the embedded records entirely (one vintage),
    and a missing embedded file counts as "not loaded".

    Parameters
    ----------
    layer_id
        A registered layer id, e.g. ``"kreis"`` or ``"ki"``.
    settings
        Paths of the embedded data and of the local store.
    registry
        The layer registry (tests may pass their own).

    Returns
    -------
    geopandas.GeoDataFrame
        In EPSG:25832, with all declared columns present (missing optional
        ones filled with ``NA``).

    Raises
    ------
    NotLoadedError
        If the layer has neither embedded nor stored data (e.g. Gemeinden
        before they were fetched); the message says how to get the data.
    """
    spec = registry.get(layer_id)
    parts: list[gpd.GeoDataFrame] = []
    stored = read_stored(layer_id, settings)
    has_stored = stored is not None and len(stored) > 0
    # e.g. a fetched/imported newer VG250 replaces the embedded Gemeinden: never mix two vintages;
    # such an embedded file is optional (missing = not loaded yet).
    replaceable = spec.extra.get("stored") == "replaces_embedded"
    embedded_missing = spec.embedded is not None and not (settings.data_dir / spec.embedded).exists()
    if spec.embedded is not None and not (replaceable and (has_stored or embedded_missing)):
        parts.append(read_embedded(spec, settings))
    elif replaceable and has_stored and spec.embedded is not None:
        logger.info("Ebene %s: gespeicherte Daten ersetzen die eingebetteten vollständig", layer_id)
    if stored is not None and has_stored:
        parts.append(to_projected(stored, f"Datenspeicher/{layer_id}"))
    if not parts:
        if spec.group == "boundary":
            missing = (
                f" (die eingebettete Datei {spec.embedded} fehlt; neu erzeugen mit »python -m scripts.databuild«)"
                if embedded_missing
                else ""
            )
            raise NotLoadedError(
                f"Die Ebene »{spec.title}« ist noch nicht geladen{missing}. Amtliche Daten holen mit "
                f"»integrationsatlas fetch bkg-vg250« (online) oder eine VG250-Datei importen mit "
                f"»integrationsatlas import DATEI --layer {layer_id}« (Seite »Daten« in der App)."
            )
        return empty_layer(spec)
    gdf = pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]
    gdf = gpd.GeoDataFrame(gdf, geometry="geometry", crs=PROJECTED_CRS)
    if spec.id_column in gdf.columns and len(parts) > 1:
        gdf = gdf.drop_duplicates(subset=spec.id_column, keep="last").reset_index(drop=True)
    for col in spec.column_names:
        if col not in gdf.columns:
            gdf[col] = pd.NA
    return gdf


def empty_layer(spec: LayerSpec) -> gpd.GeoDataFrame:
    """An empty GeoDataFrame with the declared columns, in EPSG:25832."""
    return gpd.GeoDataFrame(
        {c: pd.Series(dtype="object") for c in spec.column_names},
        geometry=gpd.GeoSeries([], crs=PROJECTED_CRS),
        crs=PROJECTED_CRS,
    )


def is_available(layer_id: str, settings: Settings, registry: LayerRegistry = REGISTRY) -> bool:
    """Whether ``layer_id`` has any data (embedded or stored)."""
    spec = registry.get(layer_id)
    if spec.embedded is not None and (settings.data_dir / spec.embedded).exists():
        return True
    stored = read_stored(layer_id, settings)
    return stored is not None and len(stored) > 0
