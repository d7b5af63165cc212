"""Facilities from OpenStreetMap through osmnx: online (Overpass) or from an OSM XML file.

Both paths end in the same mapping code: osmnx returns a GeoDataFrame of
features (index ``(element, id)``, one column per OSM tag), each
:class:`OsmCategory` selects its features from it with a vectorised tag test,
and :func:`features_to_layer` turns them into rows of the target layer
(``kita``, ``ogs``, ``integrationsagentur``, ``gemeinschaftszentrum``,
``wohnprojekt``).

osmnx is configured only inside :func:`osmnx_settings` (cache folder below
``Settings.cache_dir``, Overpass address) and restored afterwards; nothing is
changed at import time.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any
from xml.etree.ElementTree import ParseError
from xml.sax import SAXException

import geopandas as gpd
import pandas as pd
import requests
from shapely.errors import GEOSException
from shapely.geometry import MultiPolygon, Polygon

from geo.errors import DataError, SourceUnavailableError
from geo.io.bounded import check_osm_extract
from geo.io.limits import ReadLimits
from geo.layers.sources import OSM
from geo.projection import to_projected
from geo.settings import DISPLAY_CRS, PROJECTED_CRS, Settings
from geo.sources.osm_pbf import check_node_locations

logger = logging.getLogger(__name__)

Tags = dict[str, bool | str | list[str]]
Selector = Callable[[pd.DataFrame], pd.Series]
Extras = Callable[[pd.DataFrame], dict[str, pd.Series]]

#: Value of ``source`` for every OSM record.
OSM_SOURCE = "OpenStreetMap"
#: Licence of OSM data.
OSM_LICENCE = "ODbL 1.0 (© OpenStreetMap contributors)"
#: Default Overpass API base URL (osmnx appends ``/interpreter``).
DEFAULT_OVERPASS_URL = str(OSM.url)
#: Largest unpacked OSM XML read through osmnx (which holds the whole document in memory, about
#: ten times its size): a city or Kreis extract is 50–200 MB.
MAX_OSMNX_XML_BYTES = 300_000_000


# --- vectorised tag tests --------------------------------------------------


def tag(frame: pd.DataFrame, key: str) -> pd.Series:
    """The values of OSM tag ``key`` as strings (``NA`` where absent).

    >>> tag(pd.DataFrame({"amenity": ["school", None]}), "amenity").tolist()
    ['school', <NA>]
    >>> tag(pd.DataFrame(index=[0]), "amenity").tolist()
    [<NA>]
    """
    if key not in frame.columns:
        return pd.Series(pd.NA, index=frame.index, dtype="string")
    return frame[key].astype("string").str.strip()


def has_value(frame: pd.DataFrame, key: str, *values: str) -> pd.Series:
    """Whether tag ``key`` equals one of ``values`` or lists it (``a;b``), case-insensitive."""
    tokens = tag(frame, key).str.lower().str.split(r"\s*;\s*", regex=True)
    wanted = {v.lower() for v in values}
    hit = tokens.map(lambda parts: isinstance(parts, list) and not wanted.isdisjoint(parts), na_action="ignore")
    return hit.fillna(False).astype(bool)


def contains(frame: pd.DataFrame, key: str, pattern: str) -> pd.Series:
    """Whether tag ``key`` matches the regular expression ``pattern`` (case-insensitive)."""
    return tag(frame, key).str.contains(pattern, case=False, regex=True, na=False).astype(bool)


def _is_kita(f: pd.DataFrame) -> pd.Series:
    return has_value(f, "amenity", "kindergarten", "childcare")


def _is_grundschule(f: pd.DataFrame) -> pd.Series:
    isced_1 = contains(f, "isced:level", r"(?<![\d.])1(?![\d.])")
    school_de = contains(f, "school:de", "grundschule") | contains(f, "school:DE", "grundschule")
    by_name = contains(f, "name", r"grundschule|primarschule|\bggs\b|\bkgs\b")
    return has_value(f, "amenity", "school") & (isced_1 | school_de | by_name)


def _is_integration(f: pd.DataFrame) -> pd.Series:
    named = contains(f, "name", "integrationsagentur") | contains(f, "operator", "integrationsagentur")
    return named | has_value(f, "social_facility:for", "migrant", "migrants")


def _is_community_centre(f: pd.DataFrame) -> pd.Series:
    return has_value(f, "amenity", "community_centre")


def _is_refugee_housing(f: pd.DataFrame) -> pd.Series:
    return has_value(f, "social_facility:for", "refugee", "refugees") | has_value(f, "amenity", "refugee_site")


def _capacity(f: pd.DataFrame) -> pd.Series:
    return pd.to_numeric(tag(f, "capacity"), errors="coerce").round().astype("Int64")


def _kita_extras(f: pd.DataFrame) -> dict[str, pd.Series]:
    return {"plaetze": _capacity(f)}


def _ogs_extras(f: pd.DataFrame) -> dict[str, pd.Series]:
    # the OGS offer is never guessed from OSM: unknown
    return {"ogs": pd.Series(pd.NA, index=f.index, dtype="boolean"), "schulnummer": tag(f, "ref:schulnummer")}


def _integration_extras(f: pd.DataFrame) -> dict[str, pd.Series]:
    migrant = has_value(f, "social_facility:for", "migrant", "migrants")
    return {"schwerpunkt": pd.Series(pd.NA, index=f.index, dtype="string").mask(migrant, "Migrationsberatung")}


def _housing_extras(f: pd.DataFrame) -> dict[str, pd.Series]:
    site = has_value(f, "amenity", "refugee_site")
    art = pd.Series("Unterkunft für Geflüchtete", index=f.index, dtype="string").mask(site, "Flüchtlingsunterkunft")
    return {"kapazitaet": _capacity(f), "art": art}


@dataclass(frozen=True)
class OsmCategory:
    """One kind of facility taken from OSM.

    Parameters
    ----------
    source_id
        Name used by ``integrationsatlas fetch`` (``osm-kita`` ...).
    layer_id
        Target layer.
    title
        German description for messages.
    tags
        osmnx query tags (a superset: everything :attr:`select` may accept).
    select
        Vectorised test on the osmnx feature frame: which features belong here.
    unnamed
        Name given to features without a ``name`` tag.
    extras
        Layer-specific columns computed from the tags.
    """

    source_id: str
    layer_id: str
    title: str
    tags: Mapping[str, bool | str | list[str]]
    select: Selector
    unnamed: str
    extras: Extras | None = field(default=None)


CATEGORIES: dict[str, OsmCategory] = {
    c.source_id: c
    for c in (
        OsmCategory(
            "osm-kita",
            "kita",
            "Kitas (amenity=kindergarten/childcare)",
            {"amenity": ["kindergarten", "childcare"]},
            _is_kita,
            "Kita (ohne Namen in OSM)",
            _kita_extras,
        ),
        OsmCategory(
            "osm-grundschule",
            "ogs",
            "Grundschulen (amenity=school, isced:level=1 oder school:de)",
            {"amenity": "school"},
            _is_grundschule,
            "Grundschule (ohne Namen in OSM)",
            _ogs_extras,
        ),
        OsmCategory(
            "osm-integration",
            "integrationsagentur",
            "Integrationsagenturen und Migrationsberatung (Name/Betreiber, social_facility:for=migrant)",
            {
                "social_facility:for": ["migrant", "migrants"],
                "amenity": ["social_facility", "community_centre"],
                "office": ["association", "ngo", "charity", "government"],
            },
            _is_integration,
            "Migrationsberatung (ohne Namen in OSM)",
            _integration_extras,
        ),
        OsmCategory(
            "osm-gemeinschaftszentrum",
            "gemeinschaftszentrum",
            "Gemeinschaftszentren (amenity=community_centre)",
            {"amenity": "community_centre"},
            _is_community_centre,
            "Gemeinschaftszentrum (ohne Namen in OSM)",
        ),
        OsmCategory(
            "osm-unterkunft",
            "wohnprojekt",
            "Unterkünfte für Geflüchtete (social_facility:for=refugee, amenity=refugee_site)",
            {"social_facility:for": ["refugee", "refugees"], "amenity": "refugee_site"},
            _is_refugee_housing,
            "Unterkunft (ohne Namen in OSM)",
            _housing_extras,
        ),
    )
}


def merged_tags(categories: Sequence[OsmCategory]) -> Tags:
    """The union of the query tags of ``categories`` (``True`` absorbs values).

    >>> merged_tags([CATEGORIES["osm-kita"], CATEGORIES["osm-gemeinschaftszentrum"]])
    {'amenity': ['childcare', 'community_centre', 'kindergarten']}
    """
    merged: dict[str, set[str] | bool] = {}
    for cat in categories:
        for key, value in cat.tags.items():
            if value is True or merged.get(key) is True:
                merged[key] = True
                continue
            values = {value} if isinstance(value, str) else set(value)  # type: ignore[arg-type]
            current = merged.get(key)
            merged[key] = (current if isinstance(current, set) else set()) | values
    return {k: (True if v is True else sorted(v)) for k, v in merged.items()}  # type: ignore[arg-type]


# --- mapping ---------------------------------------------------------------


def features_to_layer(
    features: gpd.GeoDataFrame, category: OsmCategory, *, as_of: str | None = None
) -> gpd.GeoDataFrame:
    """Map osmnx features of one category to rows of its facility layer.

    Parameters
    ----------
    features
        As returned by ``ox.features_from_polygon``/``ox.features_from_xml``:
        index ``(element, id)``, one column per tag, any CRS.
    category
        Which features to take and how to fill the layer columns.
    as_of
        Reference date of the OSM data (``Stand``), e.g. the fetch date.

    Returns
    -------
    geopandas.GeoDataFrame
        Points in EPSG:25832 (polygons become representative points) with
        ``id = "OSM-<element>-<id>"``, ``name``, ``traeger`` (operator),
        ``strasse``/``plz``/``ort`` (``addr:*``), ``location_precision =
        "Koordinate"``, ``source = "OpenStreetMap"`` and the category's
        extra columns. ``kreis_ags``/``gemeinde_ags`` are left empty for
        :func:`geo.units.assign_units`.

    Notes
    -----
    Representative points are computed in EPSG:25832 (metres), so they lie
    inside the building or site polygon.
    """
    if len(features) == 0:
        frame = features.iloc[0:0]
    else:
        mask = category.select(features).to_numpy(dtype=bool)
        frame = features[mask]
    frame = frame[~(frame.geometry.isna() | frame.geometry.is_empty).to_numpy()]
    projected = to_projected(frame, "OSM") if len(frame) else frame.set_crs(PROJECTED_CRS, allow_override=True)
    element, osm_id = _index_parts(frame)
    street = tag(frame, "addr:street")
    number = tag(frame, "addr:housenumber")
    name = tag(frame, "name").replace("", pd.NA)
    columns: dict[str, Any] = {
        "id": ("OSM-" + element + "-" + osm_id).astype("string"),
        "name": name.fillna(category.unnamed).astype("string"),
        "traeger": tag(frame, "operator"),
        "strasse": street.str.cat(number, sep=" ", na_rep="").str.strip().where(street.notna()).astype("string"),
        "plz": tag(frame, "addr:postcode"),
        "ort": tag(frame, "addr:city"),
        "kreis_ags": pd.Series(pd.NA, index=frame.index, dtype="string"),
        "gemeinde_ags": pd.Series(pd.NA, index=frame.index, dtype="string"),
        "location_precision": pd.Series("Koordinate", index=frame.index, dtype="string"),
        "source": pd.Series(OSM_SOURCE, index=frame.index, dtype="string"),
        "as_of": pd.Series(as_of, index=frame.index, dtype="string"),
    }
    if category.extras is not None:
        columns |= category.extras(frame)
    points = projected.geometry.representative_point() if len(frame) else gpd.GeoSeries([], crs=PROJECTED_CRS)
    out = gpd.GeoDataFrame(columns, geometry=points.to_numpy(), crs=PROJECTED_CRS)
    return out.reset_index(drop=True)


def features_to_layers(
    features: gpd.GeoDataFrame, categories: Sequence[OsmCategory], *, as_of: str | None = None
) -> dict[str, gpd.GeoDataFrame]:
    """:func:`features_to_layer` for several categories from one osmnx result, keyed by ``source_id``."""
    return {c.source_id: features_to_layer(features, c, as_of=as_of) for c in categories}


def _index_parts(frame: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    idx = frame.index
    if isinstance(idx, pd.MultiIndex) and idx.nlevels >= 2:
        element = idx.get_level_values(0).astype(str)
        osm_id = idx.get_level_values(1).astype(str)
    else:
        element = pd.Index(frame["element"].astype(str) if "element" in frame.columns else ["node"] * len(frame))
        osm_id = pd.Index(frame["id"].astype(str) if "id" in frame.columns else idx.astype(str))
    return (pd.Series(element, index=frame.index, dtype="string"), pd.Series(osm_id, index=frame.index, dtype="string"))


# --- osmnx -----------------------------------------------------------------


@contextmanager
def osmnx_settings(
    settings: Settings, *, overpass_url: str | None = None, timeout: float = 180.0, rate_limit: bool = True
) -> Iterator[None]:
    """Configure osmnx for one call and restore its settings afterwards.

    The osmnx HTTP cache goes to ``Settings.cache_dir / "osmnx"``; requests go
    to ``overpass_url`` (default :data:`DEFAULT_OVERPASS_URL`).
    """
    import osmnx as ox  # deferred: osmnx (with networkx and scikit-learn) costs 0.1 GB the file import never needs

    names = ("cache_folder", "use_cache", "overpass_url", "requests_timeout", "overpass_rate_limit", "log_console")
    saved = {n: getattr(ox.settings, n) for n in names}
    try:
        ox.settings.cache_folder = str(Path(settings.cache_dir) / "osmnx")
        ox.settings.use_cache = True
        ox.settings.overpass_url = (overpass_url or DEFAULT_OVERPASS_URL).rstrip("/").removesuffix("/interpreter")
        ox.settings.requests_timeout = timeout
        ox.settings.overpass_rate_limit = rate_limit
        ox.settings.log_console = False
        yield
    finally:
        for n, value in saved.items():
            setattr(ox.settings, n, value)


def query_polygon(
    polygon: Polygon | MultiPolygon,
    categories: Sequence[OsmCategory],
    *,
    settings: Settings,
    overpass_url: str | None = None,
    timeout: float = 180.0,
    rate_limit: bool = True,
) -> gpd.GeoDataFrame:
    """Ask Overpass (through osmnx) for the features of ``categories`` inside ``polygon``.

    Parameters
    ----------
    polygon
        Search area in EPSG:25832 (e.g. a Kreis or Gemeinde polygon).
    categories
        What to look for; their query tags are merged into one request.
    settings
        Cache folder and online switch.
    overpass_url
        Overpass base URL (for mirrors and loopback tests).

    Returns
    -------
    geopandas.GeoDataFrame
        The raw osmnx features in EPSG:4326 (empty when nothing matched).

    Raises
    ------
    SourceUnavailableError
        If online sources are switched off or Overpass cannot be reached.
    """
    import osmnx as ox

    url = overpass_url or DEFAULT_OVERPASS_URL
    if not settings.online:
        raise SourceUnavailableError(
            f"Online-Quellen sind abgeschaltet (INTEGRATIONSATLAS_OFFLINE): OpenStreetMap ({url}) wird nicht "
            "abgefragt. Offline geht es mit einer OSM-XML-Datei: »--osm-file DATEI.osm«."
        )
    _check_reachable(url)
    area = gpd.GeoSeries([polygon], crs=PROJECTED_CRS).to_crs(DISPLAY_CRS).iloc[0]
    with osmnx_settings(settings, overpass_url=url, timeout=timeout, rate_limit=rate_limit):
        try:
            return ox.features_from_polygon(area, tags=merged_tags(categories))
        except ox._errors.InsufficientResponseError:
            logger.info("Overpass returned no features for %s", [c.source_id for c in categories])
            return _empty_features()
        except (requests.exceptions.RequestException, ConnectionError) as exc:
            raise _unreachable(url, exc) from exc
        except ox._errors.ResponseStatusCodeError as exc:
            raise SourceUnavailableError(f"Overpass-Server {url} meldet einen Fehler: {exc}") from exc


def _check_reachable(url: str, timeout: float = 10.0) -> None:
    """Fail fast when the Overpass server cannot be reached at all.

    osmnx would otherwise wait 60 s for an unreachable status endpoint before
    trying (and failing) the query itself.
    """
    status = url.rstrip("/").removesuffix("/interpreter") + "/status"
    try:
        requests.get(status, timeout=timeout)
    except requests.exceptions.RequestException as exc:
        raise _unreachable(url, exc) from exc


def _unreachable(url: str, exc: Exception) -> SourceUnavailableError:
    return SourceUnavailableError(
        f"Keine Internetverbindung oder Quelle nicht erreichbar: {url} ({type(exc).__name__}). "
        "Bitte später erneut versuchen oder eine OSM-XML-Datei mit »--osm-file« verwenden."
    )


def read_osm_xml(
    path: str | Path,
    categories: Sequence[OsmCategory],
    *,
    polygon: Polygon | MultiPolygon | None = None,
    limits: ReadLimits | None = None,
) -> gpd.GeoDataFrame:
    """Read the features of ``categories`` from an OSM XML file (``.osm``, ``.osm.bz2``), offline.

    Parameters
    ----------
    path
        OSM XML file, e.g. an extract exported from openstreetmap.org.
    categories
        What to keep.
    polygon
        Optional area in EPSG:25832; features outside are dropped.
    limits
        Size limit of the unpacked XML (``max_osm_bytes``; default
        :data:`MAX_OSMNX_XML_BYTES`, as osmnx holds the whole file in memory).

    Returns
    -------
    geopandas.GeoDataFrame
        The raw osmnx features in EPSG:4326 (empty when nothing matched).

    Raises
    ------
    SourceUnavailableError
        If the file does not exist.
    DataError
        If it is not OSM XML, unpacks to more than the limit, or a node has
        no valid location (checked with pyosmium before osmnx reads it).

    Notes
    -----
    osmnx parses the whole file; a city extract takes tens of seconds. Pass
    all categories at once and derive the layers with :func:`features_to_layers`.
    """
    file = Path(path)
    if not file.is_file():
        raise SourceUnavailableError(f"OSM-Datei {file} nicht gefunden. Bitte den Pfad prüfen.")
    if file.name.lower().endswith(".pbf"):
        raise DataError(
            f"OSM-Datei {file.name}: Einrichtungen werden aus OSM-XML gelesen (.osm, .osm.bz2); bitte das "
            "Gebiet als .osm.bz2 herunterladen oder die Abfrage über »--kreis«/»--gemeinde« stellen."
        )
    check_osm_extract(file, file.name, limits or ReadLimits(max_osm_bytes=MAX_OSMNX_XML_BYTES))
    check_node_locations(file, file.name)
    area = None if polygon is None else gpd.GeoSeries([polygon], crs=PROJECTED_CRS).to_crs(DISPLAY_CRS).iloc[0]
    import osmnx as ox

    try:
        return ox.features_from_xml(file, polygon=area, tags=merged_tags(categories))
    except ox._errors.InsufficientResponseError:
        return _empty_features()
    except (ValueError, OSError, EOFError, ParseError, SAXException, KeyError, TypeError, GEOSException) as exc:
        detail = str(exc).strip().splitlines()[0][:160] if str(exc).strip() else type(exc).__name__
        raise DataError(f"Datei {file.name}: keine lesbare OSM-XML-Datei ({detail}).") from exc


def _empty_features() -> gpd.GeoDataFrame:
    index = pd.MultiIndex.from_arrays([[], []], names=["element", "id"])
    return gpd.GeoDataFrame(geometry=gpd.GeoSeries([], crs=DISPLAY_CRS, index=index), crs=DISPLAY_CRS)


def fetch_osm(
    categories: Sequence[OsmCategory],
    *,
    settings: Settings,
    polygon: Polygon | MultiPolygon | None = None,
    osm_file: str | Path | None = None,
    overpass_url: str | None = None,
    as_of: str | None = None,
    rate_limit: bool = True,
) -> dict[str, gpd.GeoDataFrame]:
    """Facilities of ``categories`` from Overpass (``polygon``) or an OSM XML file.

    Returns
    -------
    dict
        Layer rows (see :func:`features_to_layer`) keyed by ``source_id``.

    Raises
    ------
    DataError
        If neither a polygon nor a file is given.
    """
    if osm_file is not None:
        raw = read_osm_xml(osm_file, categories, polygon=polygon)
    elif polygon is not None:
        raw = query_polygon(polygon, categories, settings=settings, overpass_url=overpass_url, rate_limit=rate_limit)
        as_of = as_of or date.today().isoformat()
    else:
        raise DataError(
            "OpenStreetMap: bitte ein Gebiet (»--kreis AGS« oder »--gemeinde AGS«) "
            "oder eine OSM-XML-Datei (»--osm-file DATEI«) angeben."
        )
    layers = features_to_layers(raw, categories, as_of=as_of)
    for source_id, gdf in layers.items():
        logger.info("OSM %s: %d features", source_id, len(gdf))
    return layers
