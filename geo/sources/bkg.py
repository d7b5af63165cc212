"""BKG VG250 (Verwaltungsgebiete 1:250 000): Gemeinden and Kreise of NRW.

Two ways in, one normalisation:

* the WFS ``wfs_vg250`` (layers ``vg250_gem`` and ``vg250_krs``), asked for
  GeoJSON in EPSG:25832 with an OGC filter on the AGS, page by page
  (``count``/``startIndex``);
* the VG250 zip download (GeoPackage ``DE_VG250.gpkg`` or Shapefiles
  ``VG250_GEM.shp``/``VG250_KRS.shp``).

:func:`vg250_to_layer` turns the VG250 attributes (``AGS``, ``GEN``, ``BEZ``,
``GF``, ``WSK``, ``EWZ`` in any letter case) into the ``gemeinde`` and
``kreis`` layer schemas.
"""

from __future__ import annotations

import json
import logging
import zipfile
from pathlib import Path
from typing import Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely

from geo.errors import DataError, Problem, SchemaError, SourceUnavailableError
from geo.projection import to_projected
from geo.settings import PROJECTED_CRS, Settings
from geo.sources.config import SourceConfig
from geo.sources.download import ProgressCallback, cache_name, download, download_dir

logger = logging.getLogger(__name__)

Vg250Level = Literal["gemeinde", "kreis"]

#: WFS feature types of the two levels.
WFS_TYPE_NAMES: dict[Vg250Level, str] = {"gemeinde": "vg250:vg250_gem", "kreis": "vg250:vg250_krs"}
#: Layer / file names of the two levels inside the VG250 download.
ZIP_LAYER_NAMES: dict[Vg250Level, str] = {"gemeinde": "vg250_gem", "kreis": "vg250_krs"}
#: Property the WFS filter compares (``AGS LIKE '05*'``).
WFS_AGS_PROPERTY = "ags"
#: Largest number of WFS pages requested before giving up (guards against servers ignoring ``startIndex``).
MAX_PAGES = 200
_AGS_LENGTH: dict[Vg250Level, int] = {"gemeinde": 8, "kreis": 5}
_FIX = "Bitte eine VG250-Datei des BKG (Ebenen vg250_gem / vg250_krs) verwenden."


def ags_filter(prefix: str = "05") -> str:
    """An OGC Filter Encoding 2.0 filter ``AGS LIKE '<prefix>*'``.

    >>> "<fes:Literal>05334*</fes:Literal>" in ags_filter("05334")
    True
    """
    if not prefix.isdigit():
        raise DataError(f"AGS »{prefix}« ist ungültig: nur Ziffern erlaubt (z. B. 05334).")
    return (
        '<fes:Filter xmlns:fes="http://www.opengis.net/fes/2.0">'
        '<fes:PropertyIsLike wildCard="*" singleChar="." escapeChar="!">'
        f"<fes:ValueReference>{WFS_AGS_PROPERTY}</fes:ValueReference>"
        f"<fes:Literal>{prefix}*</fes:Literal>"
        "</fes:PropertyIsLike></fes:Filter>"
    )


def wfs_params(level: Vg250Level, *, prefix: str = "05", count: int = 1000, start: int = 0) -> dict[str, str]:
    """Query parameters of one WFS 2.0 ``GetFeature`` page for ``level``."""
    return {
        "service": "WFS",
        "version": "2.0.0",
        "request": "GetFeature",
        "typeNames": WFS_TYPE_NAMES[level],
        "outputFormat": "application/json",
        "srsName": PROJECTED_CRS,
        "filter": ags_filter(prefix),
        "count": str(count),
        "startIndex": str(start),
    }


def fetch_wfs_level(
    level: Vg250Level,
    *,
    settings: Settings,
    config: SourceConfig,
    prefix: str = "05",
    progress: ProgressCallback | None = None,
    max_age_s: float | None = 24 * 3600.0,
) -> gpd.GeoDataFrame:
    """Download all features of one VG250 level from the WFS, page by page.

    Parameters
    ----------
    level
        ``gemeinde`` (``vg250_gem``) or ``kreis`` (``vg250_krs``).
    settings, config
        Cache/online switch and the WFS address.
    prefix
        AGS prefix of the filter: ``05`` for NRW or a Kreis AGS.
    progress
        Download progress callback (bytes over all pages).
    max_age_s
        Reuse cached pages younger than this (see :func:`geo.sources.download.download`).

    Returns
    -------
    geopandas.GeoDataFrame
        The raw VG250 features in EPSG:25832.

    Raises
    ------
    SourceUnavailableError
        If the WFS cannot be reached or answers with an error.
    DataError
        If a page is no GeoJSON (e.g. an OGC exception report).
    """
    pages: list[gpd.GeoDataFrame] = []
    done_before = 0
    start = 0
    page_size = max(1, int(config.wfs_page_size))
    for _ in range(MAX_PAGES):
        params = wfs_params(level, prefix=prefix, count=page_size, start=start)

        def page_progress(done: int, total: int | None, offset: int = done_before) -> None:
            if progress is not None:
                progress(offset + done, None if total is None else offset + total)

        path = download(
            config.bkg_wfs,
            cache_name(config.bkg_wfs, params, suffix="json"),
            settings=settings,
            params=params,
            progress=page_progress,
            timeout=config.timeout,
            max_age_s=max_age_s,
        )
        done_before += path.stat().st_size
        page = read_geojson(path, what=f"WFS {config.bkg_wfs} ({WFS_TYPE_NAMES[level]})")
        pages.append(page)
        start += len(page)
        matched = _number_matched(path)
        if len(page) < page_size or (matched is not None and start >= matched):
            break
    else:
        raise SourceUnavailableError(
            f"WFS {config.bkg_wfs}: nach {MAX_PAGES} Seiten noch kein Ende – der Dienst beachtet »startIndex« "
            "offenbar nicht. Bitte stattdessen »integrationsatlas fetch bkg-vg250 --zip« verwenden."
        )
    frame = pd.concat(pages, ignore_index=True) if len(pages) > 1 else pages[0]
    logger.info("WFS %s: %d features in %d page(s)", WFS_TYPE_NAMES[level], len(frame), len(pages))
    return gpd.GeoDataFrame(frame, geometry="geometry", crs=pages[0].crs)


def read_geojson(path: Path, *, what: str) -> gpd.GeoDataFrame:
    """Read a GeoJSON file from a WFS, in EPSG:25832.

    A FeatureCollection without a ``crs`` member but with metre coordinates is
    taken as EPSG:25832 (the ``srsName`` that was requested); otherwise the
    declared CRS (default CRS84) is reprojected.

    Raises
    ------
    DataError
        If the file is not GeoJSON; the cached copy is removed so that the
        next attempt downloads again.
    """
    head = path.read_bytes()[:2000].lstrip()
    if not head.startswith(b"{"):
        path.unlink(missing_ok=True)
        snippet = head[:300].decode("utf-8", errors="replace")
        raise DataError(f"{what}: Antwort ist kein GeoJSON, sondern: {snippet!r}. {_FIX}")
    try:
        gdf = gpd.read_file(path, engine="pyogrio")
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError, ValueError) as exc:
        path.unlink(missing_ok=True)
        raise DataError(f"{what}: GeoJSON nicht lesbar ({exc}).") from exc
    if len(gdf) == 0:
        return gpd.GeoDataFrame(gdf, geometry="geometry", crs=PROJECTED_CRS)
    declares_crs = b'"crs"' in path.read_bytes()[:4096]
    minx, miny, maxx, maxy = gdf.total_bounds
    if not declares_crs and max(abs(minx), abs(maxx), abs(miny), abs(maxy)) > 360:
        gdf = gdf.set_crs(PROJECTED_CRS, allow_override=True)
    return to_projected(gdf, what)


def read_vg250_zip(path: Path, *, settings: Settings) -> dict[Vg250Level, gpd.GeoDataFrame]:
    """Read ``vg250_gem`` and ``vg250_krs`` from a VG250 zip download.

    Parameters
    ----------
    path
        Zip with ``DE_VG250.gpkg`` (layers ``vg250_gem``, ``vg250_krs``) or the
        Shapefiles ``VG250_GEM.shp`` and ``VG250_KRS.shp`` (any folder).
    settings
        The members are extracted below ``Settings.cache_dir``.

    Returns
    -------
    dict
        Raw VG250 features per level, in EPSG:25832.

    Raises
    ------
    DataError
        If the zip is broken or holds neither of the expected datasets.
    """
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise DataError(f"Datei {path.name}: kein gültiges ZIP-Archiv ({exc}). {_FIX}") from exc
    target = download_dir(settings) / (path.stem + "_extracted")
    with archive:
        names = archive.namelist()
        gpkgs = [n for n in names if n.lower().endswith(".gpkg")]
        shapes = {Path(n).stem.lower(): n for n in names if n.lower().endswith(".shp")}
        result: dict[Vg250Level, gpd.GeoDataFrame] = {}
        if gpkgs:
            member = max(gpkgs, key=lambda n: archive.getinfo(n).file_size)
            gpkg = Path(archive.extract(member, target))
            available = {name.lower(): name for name in pyogrio.list_layers(gpkg)[:, 0]}
            for level, layer in ZIP_LAYER_NAMES.items():
                if layer in available:
                    result[level] = gpd.read_file(gpkg, layer=available[layer], engine="pyogrio")
        else:
            for level, layer in ZIP_LAYER_NAMES.items():
                shp = shapes.get(layer)
                if shp is None:
                    continue
                stem = shp[: -len(".shp")]
                for member in names:
                    if member.startswith(stem) and member[len(stem) :].lower() in (
                        ".shp",
                        ".shx",
                        ".dbf",
                        ".prj",
                        ".cpg",
                    ):
                        archive.extract(member, target)
                result[level] = gpd.read_file(target / shp, engine="pyogrio", encoding="utf-8")
    if not result:
        raise DataError(
            f"Datei {path.name}: weder DE_VG250.gpkg (Ebenen vg250_gem/vg250_krs) noch VG250_GEM.shp/"
            f"VG250_KRS.shp gefunden. {_FIX}"
        )
    return {level: to_projected(gdf, f"{path.name}/{ZIP_LAYER_NAMES[level]}") for level, gdf in result.items()}


def vg250_to_layer(
    raw: gpd.GeoDataFrame, level: Vg250Level, *, prefix: str = "05", file: str = "VG250"
) -> gpd.GeoDataFrame:
    """Normalise raw VG250 features to the ``gemeinde`` or ``kreis`` layer schema.

    Parameters
    ----------
    raw
        VG250 features with at least ``AGS`` and ``GEN`` (any letter case).
    level
        Target layer: ``gemeinde`` (8-digit AGS) or ``kreis`` (5-digit AGS).
    prefix
        Keep only AGS starting with this (``05`` = NRW, or a Kreis AGS).
    file
        Name for error messages.

    Returns
    -------
    geopandas.GeoDataFrame
        ``gemeinde``: ``ags, name, bez, kreis_ags, population``;
        ``kreis``: ``ags, name, bez, regbez, wsk``; one valid (Multi)Polygon
        per AGS, sorted by AGS, in EPSG:25832.

    Raises
    ------
    SchemaError
        If ``AGS`` or ``GEN`` is missing (all missing columns are named).

    Notes
    -----
    Only land areas with structure are kept (``GF == 4``) when ``GF`` is
    present; several parts of one AGS are dissolved. Geometries are repaired
    with ``make_valid`` in EPSG:25832 (metres).

    Examples
    --------
    >>> from shapely.geometry import box
    >>> raw = gpd.GeoDataFrame({"AGS": ["05334002", "06411000"], "GEN": ["Aachen", "Darmstadt"],
    ...                         "BEZ": ["Stadt", "Stadt"], "GF": [4, 4]},
    ...                        geometry=[box(290e3, 5620e3, 300e3, 5630e3), box(0, 0, 1, 1)], crs=PROJECTED_CRS)
    >>> vg250_to_layer(raw, "gemeinde")[["ags", "name", "kreis_ags"]].to_dict("records")
    [{'ags': '05334002', 'name': 'Aachen', 'kreis_ags': '05334'}]
    """
    upper = {str(c).upper(): c for c in raw.columns if c != raw.geometry.name}
    missing = [c for c in ("AGS", "GEN") if c not in upper]
    if missing:
        problems = [Problem("Pflichtspalte der VG250 fehlt.", _FIX, file=file, column=c) for c in missing]
        raise SchemaError("\n".join(str(p) for p in problems))
    frame = to_projected(raw, file)
    if "GF" in upper:
        gf = pd.to_numeric(frame[upper["GF"]], errors="coerce")
        if (gf == 4).any():
            frame = frame[(gf == 4).to_numpy()]
    length = _AGS_LENGTH[level]
    ags = frame[upper["AGS"]].astype("string").str.strip().str.zfill(length).str[:length]
    keep = ags.str.startswith(prefix[:length], na=False).to_numpy()
    frame = frame[keep].assign(_ags=ags[keep])
    columns = {
        "ags": frame["_ags"],
        "name": frame[upper["GEN"]].astype("string").str.strip(),
        "bez": frame[upper["BEZ"]].astype("string").str.strip() if "BEZ" in upper else pd.NA,
    }
    if level == "gemeinde":
        columns["kreis_ags"] = frame["_ags"].str[:5]
        columns["population"] = (
            pd.to_numeric(frame[upper["EWZ"]], errors="coerce").astype("Int64")
            if "EWZ" in upper
            else pd.Series(pd.NA, index=frame.index, dtype="Int64")
        )
    else:
        columns["bez"] = (
            columns["bez"].replace({"Städteregion": "Kreis", "StädteRegion": "Kreis"}) if "BEZ" in upper else pd.NA
        )
        columns["regbez"] = frame["_ags"].str[:3]
        columns["wsk"] = _iso_date(frame[upper["WSK"]]) if "WSK" in upper else pd.NA
    out = gpd.GeoDataFrame(columns, geometry=frame.geometry.to_numpy(), crs=frame.crs)
    if out["ags"].duplicated().any():
        out = out.dissolve(by="ags", aggfunc="first", as_index=False)
    out["geometry"] = _polygonal(out.geometry)
    out = out[~(out.geometry.isna() | out.geometry.is_empty).to_numpy()]
    return out.sort_values("ags").reset_index(drop=True)


def fetch_vg250(
    *,
    settings: Settings,
    config: SourceConfig,
    levels: tuple[Vg250Level, ...] = ("gemeinde", "kreis"),
    prefix: str = "05",
    use_zip: bool = False,
    progress: ProgressCallback | None = None,
    max_age_s: float | None = 24 * 3600.0,
) -> tuple[dict[Vg250Level, gpd.GeoDataFrame], str]:
    """Fetch VG250 Gemeinden and/or Kreise of NRW (or one Kreis) and normalise them.

    Returns
    -------
    tuple
        The layers by level (see :func:`vg250_to_layer`) and the URL used.
    """
    if use_zip:
        path = download(
            config.bkg_zip, settings=settings, progress=progress, timeout=config.timeout, max_age_s=max_age_s
        )
        raw = read_vg250_zip(path, settings=settings)
        url = config.bkg_zip
    else:
        raw = {
            level: fetch_wfs_level(
                level, settings=settings, config=config, prefix=prefix, progress=progress, max_age_s=max_age_s
            )
            for level in levels
        }
        url = config.bkg_wfs
    layers = {
        level: vg250_to_layer(raw[level], level, prefix=prefix, file=Path(url).name) for level in levels if level in raw
    }
    if not layers:
        raise DataError(f"{url}: keine VG250-Ebene {', '.join(levels)} gefunden. {_FIX}")
    for level, gdf in layers.items():
        if len(gdf) == 0:
            raise DataError(f"{url}: keine {level}-Flächen mit AGS {prefix}… gefunden. {_FIX}")
    return layers, url


def _iso_date(values: pd.Series) -> pd.Series:
    text = values.astype("string").str.strip().str.replace("/", "-", regex=False)
    parsed = pd.to_datetime(text.str[:10], errors="coerce", format="%Y-%m-%d")
    return parsed.dt.strftime("%Y-%m-%d").astype("string")


def _polygonal(geoms: gpd.GeoSeries) -> np.ndarray:
    """Valid polygonal geometries (``make_valid`` may add lines or points)."""
    fixed = shapely.make_valid(geoms.to_numpy())
    mixed = shapely.get_type_id(fixed) == 7  # GeometryCollection
    if mixed.any():
        fixed[mixed] = [
            shapely.union_all([g for g in shapely.get_parts(col) if g.geom_type in ("Polygon", "MultiPolygon")])
            for col in fixed[mixed]
        ]
    return fixed


def _number_matched(path: Path) -> int | None:
    """``numberMatched`` (WFS 2.0) or ``totalFeatures`` (GeoServer) of a GeoJSON page, if sent."""
    try:
        doc = json.loads(path.read_bytes())
    except (ValueError, OSError):
        return None
    value = doc.get("numberMatched", doc.get("totalFeatures")) if isinstance(doc, dict) else None
    return int(value) if isinstance(value, int) or (isinstance(value, str) and value.isdigit()) else None
