"""The offline background map from an OSM extract (geo.sources.osm_background, ui.map_background)."""

from __future__ import annotations

import shutil
import time
from pathlib import Path
from typing import Any

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import given
from hypothesis import settings as settings_h
from hypothesis import strategies as st

from geo.errors import DataError, SourceUnavailableError
from geo.settings import PROJECTED_CRS, Settings
from geo.sources import osm_background
from geo.sources.osm_background import background_from_file, cached_background
from geo.store.uploads import UploadStore
from ui import maps
from ui.basemap import Background
from ui.map_background import (
    MAX_PAYLOAD_BYTES,
    OSM_LAYER_NAME,
    background_payload,
    payload_bytes,
)
from ui.uploads import default_background, upload_owner

# Degrees per metre near 50.7° N, 6.0° E (good to well under 1 % over a few hundred metres).
DLAT = 1 / 111_230
DLON = 1 / 70_500
LON0, LAT0 = 6.0, 50.7


def _xy(x_m: float, y_m: float) -> tuple[float, float]:
    return LON0 + x_m * DLON, LAT0 + y_m * DLAT


#: Nodes in metres east/north of (6.0, 50.7): id -> (x, y)
NODES: dict[int, tuple[float, float]] = {
    # lake 200 m × 200 m
    1: (0, 0), 2: (200, 0), 3: (200, 200), 4: (0, 200),
    # forest outer 400 m × 300 m, with a 100 m × 100 m clearing (inner ring)
    11: (1000, 0), 12: (1400, 0), 13: (1400, 300), 14: (1000, 300),
    15: (1100, 100), 16: (1200, 100), 17: (1200, 200), 18: (1100, 200),
    # residential 300 m × 100 m
    21: (0, 1000), 22: (300, 1000), 23: (300, 1100), 24: (0, 1100),
    # a pond of 10 m × 10 m: too small to draw
    31: (500, 500), 32: (510, 500), 33: (510, 510), 34: (500, 510),
    # a primary road 1000 m long with a 1 m kink in the middle (removed by simplification)
    41: (0, 2000), 42: (250, 2000), 43: (500, 2001), 44: (750, 2000), 45: (1000, 2000),
    # a residential street (not a main road) and a secondary link
    51: (0, 2100), 52: (300, 2100), 53: (1000, 2100), 54: (1000, 2300),
    # a river
    61: (0, 3000), 62: (800, 3100),
    # places
    71: (600, 1200), 72: (900, 900),
}  # fmt: skip

OSM_XML_TEMPLATE = """<?xml version='1.0' encoding='UTF-8'?>
<osm version="0.6" generator="test">
{nodes}
  <node id="71" version="1" lat="{lat71}" lon="{lon71}"><tag k="place" v="village"/>
    <tag k="name" v="Testdorf &amp; Söhne"/></node>
  <node id="72" version="1" lat="{lat72}" lon="{lon72}"><tag k="place" v="hamlet"/></node>
  <way id="100" version="1"><nd ref="1"/><nd ref="2"/><nd ref="3"/><nd ref="4"/><nd ref="1"/>
    <tag k="natural" v="water"/></way>
  <way id="101" version="1"><nd ref="11"/><nd ref="12"/><nd ref="13"/><nd ref="14"/><nd ref="11"/></way>
  <way id="102" version="1"><nd ref="15"/><nd ref="16"/><nd ref="17"/><nd ref="18"/><nd ref="15"/></way>
  <way id="103" version="1"><nd ref="21"/><nd ref="22"/><nd ref="23"/><nd ref="24"/><nd ref="21"/>
    <tag k="landuse" v="residential"/></way>
  <way id="104" version="1"><nd ref="31"/><nd ref="32"/><nd ref="33"/><nd ref="34"/><nd ref="31"/>
    <tag k="natural" v="water"/></way>
  <way id="105" version="1"><nd ref="41"/><nd ref="42"/><nd ref="43"/><nd ref="44"/><nd ref="45"/>
    <tag k="highway" v="primary"/><tag k="name" v="Trierer Straße"/></way>
  <way id="106" version="1"><nd ref="51"/><nd ref="52"/><tag k="highway" v="residential"/></way>
  <way id="107" version="1"><nd ref="53"/><nd ref="54"/><tag k="highway" v="secondary_link"/></way>
  <way id="108" version="1"><nd ref="61"/><nd ref="62"/><tag k="waterway" v="river"/><tag k="name" v="Wurm"/></way>
  <relation id="200" version="1">
    <member type="way" ref="101" role="outer"/><member type="way" ref="102" role="inner"/>
    <tag k="type" v="multipolygon"/><tag k="landuse" v="forest"/>
  </relation>
</osm>
"""


def write_osm(path: Path) -> Path:
    """Write the tiny hand-made extract (OSM XML) to ``path``."""
    nodes = "\n".join(
        f'  <node id="{i}" version="1" lat="{_xy(*xy)[1]:.7f}" lon="{_xy(*xy)[0]:.7f}"/>'
        for i, xy in NODES.items()
        if i not in (71, 72)
    )
    lon71, lat71 = _xy(*NODES[71])
    lon72, lat72 = _xy(*NODES[72])
    text = OSM_XML_TEMPLATE.format(nodes=nodes, lat71=lat71, lon71=lon71, lat72=lat72, lon72=lon72)
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def tiny_osm(tmp_path: Path) -> Path:
    return write_osm(tmp_path / "tiny.osm")


def _one(bg: gpd.GeoDataFrame, kind: str) -> gpd.GeoSeries:
    sel = bg[bg["kind"] == kind]
    assert len(sel) == 1, f"{kind}: {len(sel)} rows"
    return sel.iloc[0]


def test_kinds_names_and_crs(tiny_osm: Path) -> None:
    bg = background_from_file(tiny_osm)
    assert bg.crs == PROJECTED_CRS
    assert sorted(bg["kind"]) == ["builtup", "forest", "place", "road", "road", "water", "waterway"]
    assert list(bg.columns) == [*osm_background.BACKGROUND_COLUMNS, "geometry"]
    # drawing order: areas first, then lines, then places
    order = {k: i for i, k in enumerate(osm_background.KINDS)}
    assert list(bg["kind"].map(order)) == sorted(bg["kind"].map(order))
    lake = _one(bg, "water")
    assert lake.geometry.area == pytest.approx(200 * 200, rel=0.02)
    forest = _one(bg, "forest")
    assert forest.geometry.area == pytest.approx(400 * 300 - 100 * 100, rel=0.02)
    assert len(shapely.get_parts(forest.geometry)[0].interiors) == 1  # the clearing stays a hole
    assert _one(bg, "builtup")["cls"] == "residential"
    roads = bg[bg["kind"] == "road"].set_index("cls")
    assert roads.loc["primary", "rank"] == 2 and roads.loc["primary", "name"] == "Trierer Straße"
    assert roads.loc["secondary", "rank"] == 3  # secondary_link counts as secondary
    assert _one(bg, "waterway")["name"] == "Wurm"
    village = _one(bg, "place")  # the nameless hamlet is no label
    assert (village["cls"], village["name"], village["rank"]) == ("village", "Testdorf & Söhne", 3)
    assert village.geometry.geom_type == "Point"


def test_simplification_and_small_areas(tiny_osm: Path) -> None:
    bg = background_from_file(tiny_osm, tolerance_m=5.0)
    primary = bg[(bg["kind"] == "road") & (bg["cls"] == "primary")].geometry.iloc[0]
    assert shapely.get_num_coordinates(primary) == 2  # the 1 m kink is gone at 5 m tolerance
    assert primary.length == pytest.approx(1000, rel=0.02)
    fine = background_from_file(tiny_osm, tolerance_m=0.1)
    kept = fine[(fine["kind"] == "road") & (fine["cls"] == "primary")].geometry.iloc[0]
    assert shapely.get_num_coordinates(kept) == 5
    # the 100 m² pond is dropped at the default minimum, kept when the minimum is lowered
    assert (bg["kind"] == "water").sum() == 1
    assert (background_from_file(tiny_osm, min_area_m2=50.0)["kind"] == "water").sum() == 2
    assert bg.geometry.is_valid.all()


def test_cache_keyed_by_content(tiny_osm: Path, settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    first = cached_background(tiny_osm, settings)
    files = list((settings.cache_dir / "osm_background").glob("*.parquet"))
    assert len(files) == 1

    def fail(*_a: object, **_k: object) -> None:
        raise AssertionError("the extract was parsed again")

    monkeypatch.setattr(osm_background, "background_from_file", fail)
    renamed = shutil.copy(tiny_osm, tiny_osm.with_name("same-content.osm"))
    again = cached_background(Path(renamed), settings)
    assert again.crs == PROJECTED_CRS
    assert again.drop(columns="geometry").equals(first.drop(columns="geometry"))
    assert again.geometry.geom_equals_exact(first.geometry, tolerance=1e-6).all()


def test_unreadable_and_missing_files(tmp_path: Path, raises_matching: Any) -> None:
    broken = tmp_path / "kaputt.osm.pbf"
    broken.write_bytes(b"this is no protobuf" * 10)
    with raises_matching(DataError, "kaputt.osm.pbf", "keine lesbare OSM-Datei"):
        background_from_file(broken)
    with raises_matching(SourceUnavailableError, "nicht gefunden"):
        background_from_file(tmp_path / "fehlt.osm.pbf")


def test_empty_extract_gives_empty_frame(tmp_path: Path) -> None:
    path = tmp_path / "leer.osm"
    path.write_text('<?xml version="1.0"?><osm version="0.6"><node id="1" lat="50.7" lon="6.0"/></osm>')
    bg = background_from_file(path)
    assert bg.empty and bg.crs == PROJECTED_CRS and list(bg.columns)[:4] == list(osm_background.BACKGROUND_COLUMNS)


def test_payload_and_base_map_layer(tiny_osm: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    home = tmp_path / "home"
    monkeypatch.setenv("INTEGRATIONSATLAS_HOME", str(home))
    monkeypatch.delenv("INTEGRATIONSATLAS_TILES_DIR", raising=False)
    cfg = Settings.from_env()
    assert default_background(cfg) is None
    assert _osm_layer(maps.base_map(tiles=Background((), None))) is None
    upload = UploadStore(cfg).put("osm", upload_owner(), "tiny.osm", tiny_osm.read_bytes())
    assert default_background(cfg) == upload.path
    payload = background_payload(cached_background(upload.path, cfg))
    kinds = sorted(f["properties"]["k"] for f in payload["features"]["features"])
    assert kinds == ["builtup", "forest", "road", "road", "water", "waterway"]
    assert payload["labels"] == [[pytest.approx(LAT0 + 1200 * DLAT, abs=2e-5),
                                  pytest.approx(LON0 + 600 * DLON, abs=2e-5), "Testdorf & Söhne", 3]]  # fmt: skip
    m = maps.base_map(tiles=Background((), None))
    assert _osm_layer(m).show is True
    page = m.get_root().render()
    assert '"atlasBackground", 250' in page and "interactive: false" in page
    # the name as it is, in JSON whose strings hold no HTML or template characters; shown as text in the browser
    assert "Testdorf \\u0026 S" in page and "Testdorf & Söhne" not in page
    # with an online layer switched on, the OSM background is offered but off
    from geo.layers.sources import OSM_TILES

    online = maps.base_map(tiles=Background(((OSM_TILES, "OSM"),), OSM_TILES.id))
    assert _osm_layer(online).show is False


def test_a_large_latest_upload_is_drawn_only_once_its_background_is_cached(
    tiny_osm: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A Land-wide PBF must not keep the Karte waiting: drawn automatically only when already prepared."""
    from geo.sources import osm_background

    monkeypatch.setenv("INTEGRATIONSATLAS_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("INTEGRATIONSATLAS_TILES_DIR", raising=False)
    monkeypatch.setattr(osm_background, "AUTO_BACKGROUND_MAX_BYTES", 100)  # the tiny file counts as large
    cfg = Settings.from_env()
    big = UploadStore(cfg).put("osm", upload_owner(), "gross.osm", tiny_osm.read_bytes()).path
    assert _osm_layer(maps.base_map(tiles=Background((), None))) is None
    # an analysis that names the extract draws (and so caches) it; from then on the Karte shows it too
    assert _osm_layer(maps.base_map(tiles=Background((), None), osm_file=str(big))).show is True
    assert _osm_layer(maps.base_map(tiles=Background((), None))).show is True


def _osm_layer(m: folium.Map) -> Any:
    return next((c for c in m._children.values() if getattr(c, "layer_name", "") == OSM_LAYER_NAME), None)


def test_payload_budget_simplifies_further(tiny_osm: Path) -> None:
    bg = background_from_file(tiny_osm, tolerance_m=0.1, min_area_m2=0.0)
    full = background_payload(bg)
    small = background_payload(bg, max_bytes=payload_bytes(full) - 1)
    assert payload_bytes(small) < payload_bytes(full)


@pytest.mark.shared
def test_aachen_extract(aachen_osm_pbf: Path, settings: Settings) -> None:
    start = time.perf_counter()
    bg = cached_background(aachen_osm_pbf, settings)
    counts = bg["kind"].value_counts()
    assert bg.crs == PROJECTED_CRS
    assert counts["forest"] >= 50 and counts["water"] >= 5 and counts["builtup"] >= 100 and counts["road"] >= 500
    aachen = bg[(bg["kind"] == "place") & (bg["name"] == "Aachen")]
    assert len(aachen) == 1 and aachen["rank"].iloc[0] == 1
    x, y = aachen.geometry.iloc[0].x, aachen.geometry.iloc[0].y
    assert 290_000 < x < 300_000 and 5_620_000 < y < 5_635_000  # central Aachen in EPSG:25832
    assert bg.geometry.is_valid.all() and not bg.geometry.is_empty.any()
    assert shapely.area(bg.geometry[bg["kind"].isin(["water", "forest", "builtup", "park"])]).min() >= 2_000
    first = time.perf_counter() - start
    start = time.perf_counter()
    again = cached_background(aachen_osm_pbf, settings)
    assert len(again) == len(bg) and time.perf_counter() - start < max(first, 1.0)
    payload = background_payload(bg)
    assert 50_000 < payload_bytes(payload) < MAX_PAYLOAD_BYTES
    assert any(label[2] == "Aachen" for label in payload["labels"])


@pytest.mark.slow
@settings_h(max_examples=6, deadline=None)
@given(budget=st.integers(min_value=0, max_value=150_000))
def test_payload_never_exceeds_budget_on_a_large_frame(budget: int) -> None:
    """A synthetic 'large extract' of 800 wobbly polygons and 160 roads always fits the budget."""
    bg = LARGE_FRAME
    payload = background_payload(bg, max_bytes=budget)
    size = payload_bytes(payload)
    if size > budget:  # only when even the place names alone do not fit
        assert payload["features"]["features"] == [] and payload["labels"]


def _large_frame() -> gpd.GeoDataFrame:
    rng = np.random.default_rng(7)
    centres = rng.uniform(0, 40_000, size=(800, 2)) + (280_000, 5_600_000)
    sizes = rng.lognormal(4.5, 1.0, size=800)
    angles = np.linspace(0, 2 * np.pi, 41)[:-1]
    polys = [
        shapely.Polygon(np.column_stack([cx + r * (1 + 0.1 * np.sin(7 * angles)) * np.cos(angles),
                                         cy + r * (1 + 0.1 * np.sin(7 * angles)) * np.sin(angles)]))
        for (cx, cy), r in zip(centres, sizes, strict=True)
    ]  # fmt: skip
    starts = rng.uniform(0, 40_000, size=(160, 2)) + (280_000, 5_600_000)
    roads = [shapely.LineString(np.cumsum(np.vstack([s, rng.normal(0, 200, size=(30, 2))]), axis=0)) for s in starts]
    kinds = ["builtup", "forest", "water", "park"] * 200
    frame = pd.DataFrame(
        {
            "kind": [*kinds, *(["road"] * 160), "place"],
            "cls": [*kinds, *(["primary"] * 80 + ["tertiary"] * 80), "town"],
            "name": [None] * 960 + ["Großstadt"],
            "rank": [0] * 800 + [2] * 80 + [4] * 80 + [2],
        }
    )
    geoms = [*polys, *roads, shapely.Point(300_000, 5_620_000)]
    return gpd.GeoDataFrame(frame, geometry=geoms, crs=PROJECTED_CRS)


LARGE_FRAME = _large_frame()
