"""Candidate sites for new facilities (e.g. Ankommens-Treffpunkte).

Candidates come from several sources and are combined into one
GeoDataFrame:

- existing public places from loaded layers (schools, KI,
  Integrationsagenturen, community centres, rail stations);
- demand-weighted cluster centres (scikit-learn ``KMeans`` with
  ``sample_weight``, ``MiniBatchKMeans`` for large inputs; always seeded);
- a regular grid inside the planning area;
- points the user adds by hand.

Existing Treffpunkte are added as ``fixed`` candidates (forced open in the
siting models). Points closer than a tolerance are merged, keeping the most
informative source (a named public place beats a cluster centre, which
beats a grid point). Filters then keep only points inside the area, away
from existing Treffpunkte and reachable on the street network.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Final

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree
from shapely.geometry.base import BaseGeometry

from geo.errors import CRSError, DataError, Problem, raise_if_problems
from geo.projection import ensure_projected
from geo.settings import PROJECTED_CRS

logger = logging.getLogger(__name__)

#: German label of each candidate source, keyed by layer id or source kind.
SOURCE_LABELS: Final[Mapping[str, str]] = {
    "existing": "Bestehender Treffpunkt",
    "user": "Eigener Punkt",
    "ki": "KI",
    "integrationsagentur": "Integrationsagentur",
    "gemeinschaftszentrum": "Gemeinschaftszentrum",
    "ogs": "Schule",
    "schule": "Schule",
    "kita": "Kita",
    "wohnprojekt": "Wohnprojekt",
    "bahnhof": "Bahnhof",
    "haltestelle": "Haltestelle",
    "cluster": "Clusterzentrum",
    "grid": "Raster",
}

#: Merge priority: lower wins when points are closer than the tolerance.
_PRIORITY_EXISTING: Final = 0
_PRIORITY_USER: Final = 1
_PRIORITY_PLACE: Final = 2
_PRIORITY_CLUSTER: Final = 3
_PRIORITY_GRID: Final = 4

#: Above this many demand points, MiniBatchKMeans replaces KMeans.
MINIBATCH_THRESHOLD: Final = 20_000
#: Largest grid that :func:`grid_points` produces (guards against tiny spacings).
MAX_GRID_POINTS: Final = 50_000

#: Columns of the candidate frame, in order (plus ``geometry``).
CANDIDATE_COLUMNS: Final = (
    "candidate_id",
    "source",
    "name",
    "gemeinde_ags",
    "kreis_ags",
    "fixed",
    "site_cost",
    "site_one_off",
)

ReachableFn = Callable[[gpd.GeoSeries], np.ndarray]


def cluster_centres(
    demand: gpd.GeoDataFrame,
    n_clusters: int,
    *,
    weight_column: str = "weight",
    random_state: int = 0,
) -> gpd.GeoDataFrame:
    """Demand-weighted cluster centres of the demand points.

    Parameters
    ----------
    demand
        Demand points with a non-negative weight column.
    n_clusters
        Wanted number of centres; capped at the number of demand points with
        positive weight.
    weight_column
        Column with the demand weight (``sample_weight`` of the clustering).
    random_state
        Seed, so that the same input always gives the same centres.

    Returns
    -------
    geopandas.GeoDataFrame
        One point per centre, sorted by descending cluster weight, with the
        column ``weight`` (demand weight of the cluster).

    Notes
    -----
    CRS is EPSG:25832; coordinates in metres. ``KMeans`` is used up to
    :data:`MINIBATCH_THRESHOLD` demand points, ``MiniBatchKMeans`` above.

    Examples
    --------
    >>> import geopandas as gpd
    >>> pts = gpd.GeoDataFrame({"weight": [1.0, 3.0, 5.0]},
    ...     geometry=gpd.points_from_xy([0, 4, 1000], [0, 0, 0]), crs="EPSG:25832")
    >>> cluster_centres(pts, 2).geometry.x.round(1).tolist()
    [1000.0, 3.0]
    """
    from sklearn.cluster import KMeans, MiniBatchKMeans

    ensure_projected(demand, "Nachfragepunkte")
    empty = gpd.GeoDataFrame(
        {"weight": pd.Series(dtype=float)}, geometry=gpd.GeoSeries([], crs=PROJECTED_CRS), crs=PROJECTED_CRS
    )
    if n_clusters <= 0 or len(demand) == 0:
        return empty
    weights = demand[weight_column].to_numpy(dtype=float)
    positive = np.isfinite(weights) & (weights > 0)
    xy = shapely.get_coordinates(demand.geometry.to_numpy()[positive])
    w = weights[positive]
    if len(w) == 0:
        return empty
    k = min(int(n_clusters), len(np.unique(xy, axis=0)))
    if len(w) > MINIBATCH_THRESHOLD:
        est = MiniBatchKMeans(n_clusters=k, random_state=random_state, n_init=3, batch_size=4096)
    else:
        est = KMeans(n_clusters=k, random_state=random_state, n_init=4)
    labels = est.fit_predict(xy, sample_weight=w)
    cluster_weight = np.bincount(labels, weights=w, minlength=k)
    order = np.argsort(-cluster_weight, kind="stable")
    centres = est.cluster_centers_[order]
    return gpd.GeoDataFrame(
        {"weight": cluster_weight[order]},
        geometry=gpd.points_from_xy(centres[:, 0], centres[:, 1]),
        crs=PROJECTED_CRS,
    )


def grid_points(area: BaseGeometry, spacing_m: float) -> gpd.GeoSeries:
    """A regular square grid of points inside ``area``.

    The grid is anchored at the lower-left corner of the area's bounding box,
    offset by half a cell, so that points sit at cell centres.

    Parameters
    ----------
    area
        Polygon or MultiPolygon in EPSG:25832.
    spacing_m
        Distance between neighbouring grid points, in metres.

    Raises
    ------
    DataError
        If the spacing is not positive or would give more than
        :data:`MAX_GRID_POINTS` points.

    Notes
    -----
    CRS is EPSG:25832; spacing in metres.

    Examples
    --------
    >>> from shapely.geometry import box
    >>> len(grid_points(box(0, 0, 1000, 1000), 250.0))
    16
    """
    if not np.isfinite(spacing_m) or spacing_m <= 0:
        raise DataError(f"Rasterabstand {spacing_m} m ist ungültig – bitte eine positive Zahl in Metern angeben.")
    minx, miny, maxx, maxy = area.bounds
    nx = int(np.floor((maxx - minx) / spacing_m)) + 1
    ny = int(np.floor((maxy - miny) / spacing_m)) + 1
    if nx * ny > MAX_GRID_POINTS * 4:
        raise DataError(
            f"Ein Raster mit {spacing_m:g} m Abstand ergäbe zu viele Kandidaten (über {MAX_GRID_POINTS}). "
            "Bitte einen größeren Rasterabstand wählen."
        )
    xs = minx + spacing_m / 2 + spacing_m * np.arange(nx)
    ys = miny + spacing_m / 2 + spacing_m * np.arange(ny)
    gx, gy = np.meshgrid(xs, ys)
    gx, gy = gx.ravel(), gy.ravel()
    shapely.prepare(area)
    inside = shapely.intersects_xy(area, gx, gy)
    if inside.sum() > MAX_GRID_POINTS:
        raise DataError(
            f"Ein Raster mit {spacing_m:g} m Abstand ergäbe {int(inside.sum())} Kandidaten "
            f"(höchstens {MAX_GRID_POINTS}). Bitte einen größeren Rasterabstand wählen."
        )
    return gpd.GeoSeries(gpd.points_from_xy(gx[inside], gy[inside]), crs=PROJECTED_CRS)


def _as_points(gdf: gpd.GeoDataFrame, what: str) -> gpd.GeoDataFrame:
    """Check CRS and reduce every geometry to a point (centroid for areas)."""
    ensure_projected(gdf, what)
    problems = [
        Problem("Geometrie fehlt.", "Koordinaten ergänzen oder Zeile entfernen.", file=what, row=int(pos) + 1)
        for pos in np.flatnonzero((gdf.geometry.isna() | gdf.geometry.is_empty).to_numpy())
    ]
    raise_if_problems(problems, f"{what}: ungültige Kandidaten")
    geom = gdf.geometry
    if not (geom.geom_type == "Point").all():
        geom = geom.centroid
    return gdf.set_geometry(geom.to_numpy()).set_crs(PROJECTED_CRS, allow_override=True)


def _text_column(gdf: pd.DataFrame, column: str) -> pd.Series:
    """``gdf[column]`` as nullable strings (all ``NA`` when the column is absent)."""
    if column in gdf.columns:
        values = gdf[column].astype("string")
        return values.mask(values.str.strip() == "")
    return pd.Series(pd.NA, index=gdf.index, dtype="string")


def _frame(
    points: gpd.GeoDataFrame,
    *,
    kind: str,
    priority: int,
    prefix: str,
    cost_column: str | None,
    fixed: bool = False,
    one_off_column: str | None = None,
) -> gpd.GeoDataFrame:
    """Bring one source into the common candidate schema."""
    ids = _text_column(points, "id")
    fallback = pd.Series([f"{i + 1}" for i in range(len(points))], index=points.index, dtype="string")
    label = SOURCE_LABELS.get(kind, kind)
    names = _text_column(points, "name")

    def number(column: str | None) -> np.ndarray:
        if column is not None and column in points.columns:
            return pd.to_numeric(points[column], errors="coerce").to_numpy(dtype=float)
        return np.full(len(points), np.nan)

    return gpd.GeoDataFrame(
        {
            "candidate_id": (prefix + ":" + ids.fillna(fallback)).to_numpy(dtype=object),
            "source": label,
            "name": names.fillna(label).to_numpy(dtype=object),
            "gemeinde_ags": _text_column(points, "gemeinde_ags").to_numpy(dtype=object),
            "kreis_ags": _text_column(points, "kreis_ags").to_numpy(dtype=object),
            "fixed": fixed,
            "site_cost": number(cost_column),
            "site_one_off": number(one_off_column),
            "_priority": priority,
        },
        geometry=points.geometry.to_numpy(),
        crs=PROJECTED_CRS,
    )


def merge_close(candidates: gpd.GeoDataFrame, tolerance_m: float) -> gpd.GeoDataFrame:
    """Merge candidates closer than ``tolerance_m``, keeping the most informative one.

    Points are linked when they are closer than the tolerance; each connected
    group (single linkage) is replaced by its member of best priority
    (column ``_priority``, lower is better; ties keep the first row). Fixed
    (existing) sites are never merged away: every one of them stays, and a
    group holding one keeps only its fixed members.

    Notes
    -----
    CRS is EPSG:25832; tolerance in metres. The candidates that
    represent a merged group get the number of merged points in ``n_merged``.
    """
    n = len(candidates)
    if n == 0:
        return candidates.assign(n_merged=pd.Series(dtype=int))
    xy = shapely.get_coordinates(candidates.geometry.to_numpy())
    if tolerance_m > 0 and n > 1:
        pairs = cKDTree(xy).query_pairs(r=tolerance_m, output_type="ndarray")
    else:
        pairs = np.empty((0, 2), dtype=int)
    graph = coo_matrix((np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])), shape=(n, n))
    _, group = connected_components(graph, directed=False)
    ranked = pd.DataFrame(
        {
            "group": group,
            "priority": candidates["_priority"].to_numpy(),
            "pos": np.arange(n),
        }
    ).sort_values(["group", "priority", "pos"], kind="stable")
    keep = ranked.drop_duplicates("group")["pos"].to_numpy()
    if "fixed" in candidates.columns:
        fixed = candidates["fixed"].to_numpy(dtype=bool)
        keep = np.union1d(keep[~np.isin(group[keep], group[fixed])], np.flatnonzero(fixed))
    sizes = np.bincount(group)
    out = candidates.iloc[np.sort(keep)].copy()
    out["n_merged"] = sizes[group[np.sort(keep)]]
    return out


def build_candidates(
    area: BaseGeometry,
    demand: gpd.GeoDataFrame,
    *,
    places: Mapping[str, gpd.GeoDataFrame] | None = None,
    n_clusters: int = 0,
    grid_spacing_m: float | None = None,
    user_points: gpd.GeoDataFrame | None = None,
    existing: gpd.GeoDataFrame | None = None,
    min_distance_to_existing_m: float = 0.0,
    reachable: np.ndarray | ReachableFn | None = None,
    merge_tolerance_m: float = 50.0,
    cost_column: str | None = None,
    one_off_column: str | None = None,
    random_state: int = 0,
    settled: np.ndarray | None = None,
    settled_max_m: float = 150.0,
    place_names: gpd.GeoDataFrame | None = None,
    gemeinde_names: Mapping[str, str] | None = None,
    street_names: gpd.GeoDataFrame | None = None,
) -> gpd.GeoDataFrame:
    """Combine, de-duplicate and filter the candidate sites of a planning area.

    Parameters
    ----------
    area
        The planning area (a Kreis or Gemeinde polygon) in EPSG:25832.
    demand
        Demand points with ``weight`` and, where known, ``gemeinde_ags`` and
        ``kreis_ags``; used for cluster centres and to attach AGS codes to
        candidates that lack them (from the nearest demand point).
    places
        Public places by layer id (``ogs``, ``ki``, ``integrationsagentur``,
        ``gemeinschaftszentrum``, ``bahnhof``...); the layer id picks the
        German source label (see :data:`SOURCE_LABELS`).
    n_clusters
        Number of demand-weighted cluster centres (0: none).
    grid_spacing_m
        Spacing of a regular grid of candidates in metres (``None``: none).
    user_points
        Points the user added by hand (optional ``name`` and ``id`` columns).
    existing
        Existing Treffpunkte. They are added as ``fixed`` candidates, always
        kept and never filtered.
    min_distance_to_existing_m
        New candidates closer than this to an existing Treffpunkt are dropped.
    reachable
        Network reachability of candidates: either a function that takes the
        candidate points (a GeoSeries) and returns a boolean mask (e.g. from
        snapping them to the street network), or a boolean array aligned with
        the candidates as they are after the other filters. Unreachable new
        candidates are dropped.
    merge_tolerance_m
        Candidates closer than this are merged (see :func:`merge_close`).
    cost_column
        Column of ``places``/``user_points``/``existing`` with the cost of a
        site, copied to ``site_cost`` (``NaN`` where unknown).
    one_off_column
        Column of the same sources with the one-off cost of a site, copied
        to ``site_one_off`` (``NaN`` where unknown).
    random_state
        Seed for the clustering.
    settled
        ``n × 2`` coordinates of settled places (e.g. residential building
        centroids); see :func:`keep_settled`. ``None``: no filter.
    settled_max_m
        New candidates farther than this from a settled point are dropped;
        cluster centres are moved onto the nearest settled point instead.
    place_names, gemeinde_names, street_names
        For naming generated candidates (see :func:`name_sites`).

    Returns
    -------
    geopandas.GeoDataFrame
        Columns :data:`CANDIDATE_COLUMNS` and ``n_merged``, a fresh
        ``RangeIndex`` with the fixed candidates first, EPSG:25832.

    Raises
    ------
    CRSError
        If an input is not in EPSG:25832.
    DataError
        If the area is empty or the reachability mask has the wrong length.

    Notes
    -----
    CRS is EPSG:25832; all distances are in metres. Cluster centres and grid
    points carry no name; they are named after their source.
    """
    if area is None or area.is_empty:
        raise DataError("Das Planungsgebiet ist leer – bitte einen Kreis oder eine Gemeinde wählen.")
    ensure_projected(demand, "Nachfragepunkte")
    parts: list[gpd.GeoDataFrame] = []
    if existing is not None and len(existing):
        parts.append(
            _frame(
                _as_points(existing, "Bestehende Treffpunkte"),
                kind="existing",
                priority=_PRIORITY_EXISTING,
                prefix="bestand",
                cost_column=cost_column,
                fixed=True,
                one_off_column=one_off_column,
            )
        )
    if user_points is not None and len(user_points):
        parts.append(
            _frame(
                _as_points(user_points, "Eigene Punkte"),
                kind="user",
                priority=_PRIORITY_USER,
                prefix="eigen",
                cost_column=cost_column,
                one_off_column=one_off_column,
            )
        )
    for layer_id, frame in (places or {}).items():
        if frame is not None and len(frame):
            parts.append(
                _frame(
                    _as_points(frame, f"Ebene {layer_id}"),
                    kind=layer_id,
                    priority=_PRIORITY_PLACE,
                    prefix=layer_id,
                    cost_column=cost_column,
                    one_off_column=one_off_column,
                )
            )
    if n_clusters > 0:
        centres = cluster_centres(demand, n_clusters, random_state=random_state)
        parts.append(_frame(centres, kind="cluster", priority=_PRIORITY_CLUSTER, prefix="cluster", cost_column=None))
    if grid_spacing_m is not None:
        grid = gpd.GeoDataFrame(geometry=grid_points(area, grid_spacing_m), crs=PROJECTED_CRS)
        parts.append(_frame(grid, kind="grid", priority=_PRIORITY_GRID, prefix="raster", cost_column=None))
    if not parts:
        return _empty()
    cand = gpd.GeoDataFrame(pd.concat(parts, ignore_index=True), geometry="geometry", crs=PROJECTED_CRS)

    # 0. on settled land (cluster centres moved onto it, others dropped when far away)
    if settled is not None:
        cand = keep_settled(cand, np.asarray(settled, dtype=float), settled_max_m)
    # 1. inside the area (existing sites are kept wherever they are)
    shapely.prepare(area)
    xy = shapely.get_coordinates(cand.geometry.to_numpy())
    inside = shapely.intersects_xy(area, xy[:, 0], xy[:, 1])
    cand = cand[inside | cand["fixed"].to_numpy()]
    # 2. merge near-duplicates, most informative source first
    cand = merge_close(cand, merge_tolerance_m)
    # 3. minimum distance to existing Treffpunkte
    fixed = cand["fixed"].to_numpy(dtype=bool)
    if min_distance_to_existing_m > 0 and fixed.any():
        fixed_xy = shapely.get_coordinates(cand.geometry.to_numpy()[fixed])
        dist, _ = cKDTree(fixed_xy).query(shapely.get_coordinates(cand.geometry.to_numpy()))
        cand = cand[fixed | (dist >= min_distance_to_existing_m)]
    # 4. network reachability
    if reachable is not None:
        mask = reachable(cand.geometry) if callable(reachable) else reachable
        mask = np.asarray(mask, dtype=bool)
        if mask.shape != (len(cand),):
            raise DataError(f"Die Erreichbarkeitsmaske hat {mask.size} Einträge, es gibt aber {len(cand)} Kandidaten.")
        dropped = int((~mask & ~cand["fixed"].to_numpy(dtype=bool)).sum())
        if dropped:
            logger.info("%d Kandidaten sind im Straßennetz nicht erreichbar und entfallen", dropped)
        cand = cand[mask | cand["fixed"].to_numpy(dtype=bool)]

    cand = _attach_ags(cand, demand)
    cand = name_sites(
        cand,
        place_names if place_names is not None else _named_points(demand),
        gemeinde_names=gemeinde_names,
        street_names=street_names,
    )
    cand = cand.sort_values(["fixed", "_priority"], ascending=[False, True], kind="stable")
    cand = cand.drop(columns="_priority").reset_index(drop=True)
    logger.info(
        "%d Kandidaten (%d bestehend) aus %s", len(cand), int(cand["fixed"].sum()), ", ".join(cand["source"].unique())
    )
    return cand[[*CANDIDATE_COLUMNS, "n_merged", "geometry"]]


def _attach_ags(cand: gpd.GeoDataFrame, demand: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Fill missing ``gemeinde_ags``/``kreis_ags`` from the nearest demand point."""
    if len(cand) == 0 or len(demand) == 0:
        return cand
    cand = cand.copy()
    tree = cKDTree(shapely.get_coordinates(demand.geometry.to_numpy()))
    _, nearest = tree.query(shapely.get_coordinates(cand.geometry.to_numpy()))
    for col in ("gemeinde_ags", "kreis_ags"):
        if col not in demand.columns:
            continue
        from_demand = _text_column(demand, col).to_numpy(dtype=object)[nearest]
        current = cand[col].to_numpy(dtype=object)
        cand[col] = np.where(pd.isna(current), from_demand, current)
    return cand


def _named_points(demand: gpd.GeoDataFrame) -> gpd.GeoDataFrame | None:
    """Demand points that carry a ``name`` (e.g. GeoNames places), or ``None``."""
    if "name" not in demand.columns or not len(demand):
        return None
    return demand[_text_column(demand, "name").notna().to_numpy()]


def thin_points(points: gpd.GeoDataFrame, cell_m: float) -> gpd.GeoDataFrame:
    """Keep at most one point per square cell of ``cell_m`` metres (the first in row order).

    Notes
    -----
    CRS is EPSG:25832; cells in metres, anchored at the origin.

    Examples
    --------
    >>> import geopandas as gpd
    >>> pts = gpd.GeoDataFrame(geometry=gpd.points_from_xy([10, 20, 600], [10, 30, 10]), crs="EPSG:25832")
    >>> len(thin_points(pts, 500.0))
    2
    """
    ensure_projected(points, "Punkte")
    if len(points) == 0 or cell_m <= 0:
        return points
    cells = np.floor(shapely.get_coordinates(points.geometry.centroid.to_numpy()) / cell_m).astype(np.int64)
    _, first = np.unique(cells, axis=0, return_index=True)
    return points.iloc[np.sort(first)]


def keep_settled(cand: gpd.GeoDataFrame, settled: np.ndarray, max_m: float) -> gpd.GeoDataFrame:
    """Keep new candidates on settled land; move cluster centres onto it.

    A cluster centre (the weighted mean of demand) can fall into a park, a
    field or a lake; it is moved to the nearest settled point (e.g. the
    centroid of a residential building). Every other new candidate farther
    than ``max_m`` from a settled point is dropped (forest, farmland,
    water, motorway). Fixed (existing) sites are always kept.

    Parameters
    ----------
    cand
        Candidates with ``fixed`` and ``_priority``.
    settled
        ``n × 2`` coordinates of settled points.
    max_m
        Largest distance of a kept candidate to a settled point, in metres.

    Notes
    -----
    CRS is EPSG:25832; distances in metres.
    """
    if len(cand) == 0 or len(settled) == 0:
        return cand
    xy = shapely.get_coordinates(cand.geometry.to_numpy())
    dist, nearest = cKDTree(settled).query(xy)
    cluster = (cand["_priority"] == _PRIORITY_CLUSTER).to_numpy()
    fixed = cand["fixed"].to_numpy(dtype=bool)
    moved = xy.copy()
    moved[cluster] = settled[nearest[cluster]]
    keep = fixed | cluster | (dist <= max_m)
    logger.info(
        "%d Kandidaten abseits bebauter Flächen (> %.0f m) entfallen, %d Clusterzentren verschoben",
        int((~keep).sum()),
        max_m,
        int(cluster.sum()),
    )
    out = cand.set_geometry(gpd.points_from_xy(moved[:, 0], moved[:, 1]), crs=PROJECTED_CRS)
    return out[keep]


def name_sites(
    cand: gpd.GeoDataFrame,
    places: gpd.GeoDataFrame | None,
    *,
    gemeinde_names: Mapping[str, str] | None = None,
    street_names: gpd.GeoDataFrame | None = None,
    street_max_m: float = 150.0,
) -> gpd.GeoDataFrame:
    """Give generated candidates (cluster centres, grid points) a human name.

    The name is the nearest street (``street_names``: points with ``name``,
    used when closer than ``street_max_m``), else »bei <nearest place>«,
    followed by the Gemeinde name, e.g. ``"Trierer Straße, Aachen"`` or
    ``"bei Brand, Aachen"``. Without any of these the source and number
    stay (``"Clusterzentrum 3"``).

    Notes
    -----
    CRS is EPSG:25832; distances in metres.

    Examples
    --------
    >>> import geopandas as gpd
    >>> c = gpd.GeoDataFrame({"candidate_id": ["raster:1"], "source": ["Raster"], "name": ["Raster"],
    ...     "gemeinde_ags": ["05334002"], "_priority": [4]}, geometry=gpd.points_from_xy([0], [0]),
    ...     crs="EPSG:25832")
    >>> p = gpd.GeoDataFrame({"name": ["Brand"]}, geometry=gpd.points_from_xy([900], [0]), crs="EPSG:25832")
    >>> name_sites(c, p, gemeinde_names={"05334002": "Aachen"})["name"].tolist()
    ['bei Brand, Aachen']
    """
    generated = cand["_priority"].isin([_PRIORITY_CLUSTER, _PRIORITY_GRID]).to_numpy()
    if not generated.any():
        return cand
    cand = cand.copy()
    xy = shapely.get_coordinates(cand.geometry.to_numpy()[generated])
    labels = cand["source"].to_numpy(dtype=object)[generated]
    numbers = cand["candidate_id"].astype(str).str.split(":").str[-1].to_numpy(dtype=object)[generated]
    names = np.array([f"{lab} {num}" for lab, num in zip(labels, numbers, strict=True)], dtype=object)
    named = np.zeros(len(xy), dtype=bool)
    if street_names is not None and len(street_names):
        dist, nearest = cKDTree(shapely.get_coordinates(street_names.geometry.to_numpy())).query(xy)
        near = dist <= street_max_m
        names[near] = street_names["name"].astype(str).to_numpy(dtype=object)[nearest[near]]
        named |= near
    if places is not None and len(places) and (~named).any():
        _, nearest = cKDTree(shapely.get_coordinates(places.geometry.to_numpy())).query(xy[~named])
        near_names = places["name"].astype(str).to_numpy(dtype=object)[nearest]
        names[~named] = np.array([f"bei {n}" for n in near_names], dtype=object)
        named[:] = True
    if gemeinde_names and "gemeinde_ags" in cand.columns:
        ags = cand["gemeinde_ags"].to_numpy(dtype=object)[generated]
        gem = np.array([gemeinde_names.get(str(a), "") if not pd.isna(a) else "" for a in ags], dtype=object)
        names = np.array(
            [
                f"{n}, {g}" if g and named[i] and g not in n else n
                for i, (n, g) in enumerate(zip(names, gem, strict=True))
            ],
            dtype=object,
        )
    values = cand["name"].to_numpy(dtype=object).copy()
    values[generated] = names
    cand["name"] = values
    return cand


def _empty() -> gpd.GeoDataFrame:
    """An empty candidate frame with the documented columns."""
    data: dict[str, pd.Series] = {c: pd.Series(dtype="object") for c in CANDIDATE_COLUMNS}
    data["fixed"] = pd.Series(dtype=bool)
    data["site_cost"] = pd.Series(dtype=float)
    data["site_one_off"] = pd.Series(dtype=float)
    data["n_merged"] = pd.Series(dtype=int)
    return gpd.GeoDataFrame(data, geometry=gpd.GeoSeries([], crs=PROJECTED_CRS), crs=PROJECTED_CRS)


def points_from_xy_rows(
    rows: Mapping[str, tuple[float, float]] | None,
    crs: str = PROJECTED_CRS,
) -> gpd.GeoDataFrame:
    """User points from ``{name: (x, y)}``, reprojected to EPSG:25832.

    Raises
    ------
    CRSError
        If ``crs`` is not a valid CRS string.

    Notes
    -----
    ``crs`` is the CRS of the given coordinates; the result is in EPSG:25832.

    Examples
    --------
    >>> points_from_xy_rows({"Rathaus": (300000.0, 5650000.0)}).geometry.x.tolist()
    [300000.0]
    """
    rows = dict(rows or {})
    try:
        gdf = gpd.GeoDataFrame(
            {"name": list(rows), "id": [str(i + 1) for i in range(len(rows))]},
            geometry=gpd.points_from_xy([v[0] for v in rows.values()], [v[1] for v in rows.values()]),
            crs=crs,
        )
    except Exception as exc:  # pyproj raises its own CRSError subclasses
        raise CRSError(f"Ungültiges Koordinatenbezugssystem »{crs}«: {exc}") from exc
    return gdf.to_crs(PROJECTED_CRS)
