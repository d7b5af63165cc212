"""OpenStreetMap facilities: tag mapping, offline XML, online Overpass (loopback) and real Aachen data."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from loopback import LoopbackServer, Request, Response
from pyproj import Transformer
from scipy.spatial import cKDTree
from shapely.geometry import Point, Polygon

from geo.errors import DataError, SourceUnavailableError
from geo.settings import Settings
from geo.sources.config import SourceConfig
from geo.sources.fetching import fetch_source
from geo.sources.osm import CATEGORIES, features_to_layer, features_to_layers, merged_tags, read_osm_xml
from geo.store import DataStore

pytest_plugins = ("loopback",)

_TO_LONLAT = Transformer.from_crs("EPSG:25832", "EPSG:4326", always_xy=True)


def _lonlat(x: float, y: float) -> tuple[float, float]:
    return _TO_LONLAT.transform(x, y)


def _features() -> gpd.GeoDataFrame:
    """An osmnx-shaped feature frame: index (element, id), one column per tag, EPSG:4326."""
    square = Polygon([_lonlat(300_000 + dx, 5_630_000 + dy) for dx, dy in ((0, 0), (40, 0), (40, 40), (0, 40), (0, 0))])
    rows = [
        (
            ("node", 1),
            {
                "amenity": "kindergarten",
                "name": "Kita Sonnenschein",
                "operator": "AWO",
                "addr:street": "Hauptstraße",
                "addr:housenumber": "5",
                "addr:postcode": "52062",
                "addr:city": "Aachen",
                "capacity": "45",
            },
            Point(_lonlat(300_100, 5_630_100)),
        ),
        (("way", 2), {"amenity": "childcare"}, square),
        (
            ("node", 3),
            {"amenity": "school", "name": "Gymnasium", "isced:level": "2;3"},
            Point(_lonlat(300_200, 5_630_200)),
        ),
        (
            ("node", 4),
            {"amenity": "school", "name": "Schule am Weiher", "isced:level": "1"},
            Point(_lonlat(300_300, 5_630_300)),
        ),
        (
            ("node", 5),
            {"amenity": "school", "name": "St. Martin", "school:de": "Grundschule"},
            Point(_lonlat(300_400, 5_630_400)),
        ),
        (
            ("node", 6),
            {"amenity": "school", "name": "Berufskolleg", "isced:level": "10"},
            Point(_lonlat(300_500, 5_630_500)),
        ),
        (
            ("node", 7),
            {"office": "association", "name": "Integrationsagentur der Caritas"},
            Point(_lonlat(300_600, 5_630_600)),
        ),
        (
            ("node", 8),
            {"amenity": "social_facility", "social_facility:for": "senior;migrant", "name": "Treff"},
            Point(_lonlat(300_700, 5_630_700)),
        ),
        (("node", 9), {"amenity": "community_centre", "name": "Bürgerzentrum"}, Point(_lonlat(300_800, 5_630_800))),
        (
            ("node", 10),
            {"amenity": "social_facility", "social_facility:for": "refugee", "capacity": "120"},
            Point(_lonlat(300_900, 5_630_900)),
        ),
        (("relation", 11), {"amenity": "refugee_site", "name": "Landesunterkunft"}, Point(_lonlat(301_000, 5_631_000))),
        (
            ("node", 12),
            {"amenity": "social_facility", "social_facility:for": "senior"},
            Point(_lonlat(301_100, 5_631_100)),
        ),
    ]
    index = pd.MultiIndex.from_tuples([r[0] for r in rows], names=["element", "id"])
    return gpd.GeoDataFrame(
        pd.DataFrame([r[1] for r in rows], index=index), geometry=[r[2] for r in rows], crs="EPSG:4326"
    )


def test_categories_select_by_tags() -> None:
    layers = features_to_layers(_features(), list(CATEGORIES.values()))
    ids = {k: sorted(v["id"]) for k, v in layers.items()}
    assert ids == {
        "osm-kita": ["OSM-node-1", "OSM-way-2"],
        "osm-grundschule": ["OSM-node-4", "OSM-node-5"],
        "osm-integration": ["OSM-node-7", "OSM-node-8"],
        "osm-gemeinschaftszentrum": ["OSM-node-9"],
        "osm-unterkunft": ["OSM-node-10", "OSM-relation-11"],
    }


def test_mapping_fills_the_layer_schema() -> None:
    kitas = features_to_layer(_features(), CATEGORIES["osm-kita"], as_of="2025-01-31").set_index("id")
    first = kitas.loc["OSM-node-1"]
    assert first["name"] == "Kita Sonnenschein" and first["traeger"] == "AWO"
    assert (first["strasse"], first["plz"], first["ort"]) == ("Hauptstraße 5", "52062", "Aachen")
    assert first["plaetze"] == 45
    assert first["location_precision"] == "Koordinate" and first["source"] == "OpenStreetMap"
    assert first["as_of"] == "2025-01-31"
    assert kitas.crs == "EPSG:25832"
    # the unnamed building polygon becomes a point inside it, named honestly
    way = kitas.loc["OSM-way-2"]
    assert way["name"] == "Kita (ohne Namen in OSM)" and pd.isna(way["strasse"])
    assert 300_000 < way.geometry.x < 300_040 and 5_630_000 < way.geometry.y < 5_630_040
    schools = features_to_layer(_features(), CATEGORIES["osm-grundschule"])
    assert schools["ogs"].isna().all() and str(schools["ogs"].dtype) == "boolean"  # never guessed
    housing = features_to_layer(_features(), CATEGORIES["osm-unterkunft"]).set_index("id")
    assert housing.loc["OSM-node-10", "kapazitaet"] == 120
    assert housing.loc["OSM-relation-11", "art"] == "Flüchtlingsunterkunft"


def test_merged_tags_is_the_union() -> None:
    tags = merged_tags(list(CATEGORIES.values()))
    assert set(tags["amenity"]) >= {
        "kindergarten",
        "childcare",
        "school",
        "community_centre",
        "refugee_site",
        "social_facility",
    }
    assert set(tags["social_facility:for"]) >= {"migrant", "refugee"}


def _osm_xml() -> str:
    """A small OSM XML extract inside the synthetic Kreis 05334 (nodes, one closed way)."""

    def node(i: int, x: float, y: float, tags: dict[str, str] | None = None) -> str:
        lon, lat = _lonlat(x, y)
        inner = "".join(f'<tag k="{k}" v="{v}"/>' for k, v in (tags or {}).items())
        return f'<node id="{i}" lat="{lat:.7f}" lon="{lon:.7f}" version="1">{inner}</node>'

    nodes = [
        node(1, 300_100, 5_630_100, {"amenity": "kindergarten", "name": "Kita Regenbogen"}),
        node(2, 300_500, 5_630_500, {"amenity": "school", "name": "GGS Lindenweg", "isced:level": "1"}),
        node(3, 320_000, 5_630_000, {"amenity": "kindergarten", "name": "Kita im Nachbarkreis"}),
        node(10, 301_000, 5_631_000),
        node(11, 301_050, 5_631_000),
        node(12, 301_050, 5_631_050),
        node(13, 301_000, 5_631_050),
    ]
    way = (
        '<way id="20" version="1"><nd ref="10"/><nd ref="11"/><nd ref="12"/><nd ref="13"/><nd ref="10"/>'
        '<tag k="amenity" v="childcare"/><tag k="building" v="yes"/></way>'
    )
    return '<?xml version="1.0" encoding="UTF-8"?>\n<osm version="0.6">' + "".join(nodes) + way + "</osm>"


def test_offline_xml_uses_the_same_mapping(tmp_path: Path) -> None:
    path = tmp_path / "mini.osm"
    path.write_text(_osm_xml(), encoding="utf-8")
    raw = read_osm_xml(path, list(CATEGORIES.values()))
    layers = features_to_layers(raw, list(CATEGORIES.values()))
    assert sorted(layers["osm-kita"]["id"]) == ["OSM-node-1", "OSM-node-3", "OSM-way-20"]
    assert layers["osm-grundschule"]["name"].tolist() == ["GGS Lindenweg"]


def test_broken_xml_is_a_data_error(tmp_path: Path, raises_matching) -> None:
    path = tmp_path / "broken.osm"
    path.write_text("<osm><node id='1'", encoding="utf-8")
    with raises_matching(DataError, "broken.osm", "OSM-XML"):
        read_osm_xml(path, [CATEGORIES["osm-kita"]])
    with raises_matching(SourceUnavailableError, "nicht gefunden"):
        read_osm_xml(tmp_path / "missing.osm", [CATEGORIES["osm-kita"]])


def test_fetch_from_osm_file_for_one_kreis(tmp_path: Path, synthetic_settings: Settings) -> None:
    path = tmp_path / "mini.osm"
    path.write_text(_osm_xml(), encoding="utf-8")
    result = fetch_source("osm", synthetic_settings, kreis="05334", osm_file=path)
    stored = {s.layer_id: s.rows_kept for s in result.layers}
    assert stored == {"kita": 2, "ogs": 1}  # the Kita in the neighbouring Kreis is outside the area
    kitas = DataStore(synthetic_settings.store_path).read_layer("kita")
    assert set(kitas["kreis_ags"]) == {"05334"}
    meta = DataStore(synthetic_settings.store_path).layer_meta("kita")
    assert meta is not None and meta.licence == "ODbL 1.0" and meta.source == "OpenStreetMap"
    assert meta.source_file == "osm-kita kreis=05334"


# --- online: a loopback Overpass stub -------------------------------------------------

_STATUS = (
    "Connected as: 2130706433\nCurrent time: 2025-01-31T10:00:00Z\nAnnounced endpoint: none\n"
    "Rate limit: 2\n2 slots available now.\nCurrently running queries (pid, space limit, time limit, "
    "start time):\n"
)


def _overpass_response() -> dict[str, object]:
    """A recorded-style Overpass JSON answer: a Kita node, a Kita building way with its nodes, a school."""

    def node(i: int, x: float, y: float, tags: dict[str, str] | None = None) -> dict[str, object]:
        lon, lat = _lonlat(x, y)
        el: dict[str, object] = {"type": "node", "id": i, "lat": lat, "lon": lon}
        if tags:
            el["tags"] = tags
        return el

    ring = [
        node(100 + k, 302_000 + dx, 5_632_000 + dy) for k, (dx, dy) in enumerate(((0, 0), (30, 0), (30, 30), (0, 30)))
    ]
    return {
        "version": 0.6,
        "generator": "Overpass API (loopback stub)",
        "osm3s": {"timestamp_osm_base": "2025-01-31T09:00:00Z"},
        "elements": [
            node(
                1,
                300_100,
                5_630_100,
                {
                    "amenity": "kindergarten",
                    "name": "Kita Sonnenschein",
                    "operator": "Stadt Aachen",
                    "addr:postcode": "52062",
                },
            ),
            node(2, 300_500, 5_630_500, {"amenity": "school", "name": "Realschule", "isced:level": "2"}),
            *ring,
            {
                "type": "way",
                "id": 50,
                "nodes": [100, 101, 102, 103, 100],
                "tags": {"amenity": "kindergarten", "name": "Kita Spatzennest", "building": "yes"},
            },
        ],
    }


def test_online_overpass_via_loopback(loopback: LoopbackServer, synthetic_settings: Settings) -> None:
    def interpreter(req: Request) -> Response:
        return Response(json.dumps(_overpass_response()).encode(), content_type="application/json")

    loopback.route("/api/interpreter", interpreter)
    loopback.route("/api/status", _STATUS, content_type="text/plain")
    config = SourceConfig.local(loopback.base_url)
    result = fetch_source("osm-kita", synthetic_settings, kreis="05334", config=config)
    assert [(s.layer_id, s.rows_kept) for s in result.layers] == [("kita", 2)]
    query = loopback.requests_to("/api/interpreter")[0].query["data"][0]
    assert "kindergarten" in query and "poly:" in query
    kitas = DataStore(synthetic_settings.store_path).read_layer("kita").set_index("id")
    assert sorted(kitas.index) == ["OSM-node-1", "OSM-way-50"]
    assert kitas.loc["OSM-node-1", "traeger"] == "Stadt Aachen"
    assert kitas.loc["OSM-way-50", "as_of"] == pd.Timestamp.today().date().isoformat()
    # osmnx caches under the project's cache folder and its global settings are restored
    import osmnx as ox

    assert any((synthetic_settings.cache_dir / "osmnx").iterdir())
    assert ox.settings.overpass_url == "https://overpass-api.de/api"


def test_online_overpass_unreachable(closed_port_url: str, synthetic_settings: Settings, raises_matching) -> None:
    config = SourceConfig.local(closed_port_url.rsplit("/", 1)[0])
    with raises_matching(SourceUnavailableError, "Keine Internetverbindung oder Quelle nicht erreichbar", "--osm-file"):
        fetch_source("osm-kita", synthetic_settings, kreis="05334", config=config)


# --- real data: central Aachen ------------------------------------------------------------


@pytest.fixture(scope="module")
def aachen_layers(aachen_osm_xml: Path) -> dict[str, gpd.GeoDataFrame]:
    """All OSM layers from ONE parse of the Aachen extract (osmnx takes ~45 s or more)."""
    categories = list(CATEGORIES.values())
    return features_to_layers(read_osm_xml(aachen_osm_xml, categories), categories)


@pytest.mark.slow
def test_aachen_kitas_match_the_reference(aachen_layers: dict[str, gpd.GeoDataFrame], shared_data: Path) -> None:
    ref = gpd.read_file(shared_data / "facilities/aachen_osm2021_facilities.geojson")
    ref = ref[ref["amenity"] == "kindergarten"].to_crs("EPSG:25832")
    assert len(ref) == 94
    kitas = aachen_layers["osm-kita"]
    assert abs(len(kitas) - 94) <= 0.1 * 94
    tree = cKDTree(np.column_stack([kitas.geometry.x, kitas.geometry.y]))
    dist, _ = tree.query(np.column_stack([ref.geometry.x, ref.geometry.y]))
    assert (dist <= 50.0).mean() >= 0.90
    assert kitas["id"].is_unique and kitas["name"].notna().all()


@pytest.mark.slow
def test_aachen_other_layers(aachen_layers: dict[str, gpd.GeoDataFrame]) -> None:
    # the reference lists 1 social facility for migrants and 19 community centres
    assert len(aachen_layers["osm-integration"]) >= 1
    assert len(aachen_layers["osm-gemeinschaftszentrum"]) == 19
    schools = aachen_layers["osm-grundschule"]
    assert 0 < len(schools) < 62  # a subset of the 62 schools: only the primary ones
    assert schools["ogs"].isna().all()
