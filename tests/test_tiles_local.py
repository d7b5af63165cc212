"""Local raster tiles (z/x/y folder or MBTiles) published under static/ and offered first on the maps."""

from __future__ import annotations

import io
import math
import sqlite3
import warnings
from pathlib import Path
from typing import Any

import folium
import pytest
from PIL import Image
from starlette.applications import Starlette
from streamlit.web.server.starlette.starlette_routes import create_app_static_serving_routes

from geo.errors import DataError
from geo.layers.sources import OSM_TILES
from geo.settings import Settings
from ui import map_background, maps
from ui.basemap import Background, background
from ui.map_background import LOCAL_TILES_LAYER_NAME
from ui.static_assets import STATIC_URL, TILES_LOCAL_FOLDER, publish_local_tiles

with warnings.catch_warnings():  # starlette asks for httpx2; httpx is what Streamlit's stack ships
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

RED, BLUE = (220, 20, 20), (20, 20, 220)


def png(color: tuple[int, int, int]) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (256, 256), color).save(buf, format="PNG")
    return buf.getvalue()


def pixel(path: Path) -> tuple[int, ...]:
    with Image.open(path) as img:
        value = img.convert("RGB").getpixel((5, 5))
    assert isinstance(value, tuple)
    return value


@pytest.fixture
def tile_folder(tmp_path: Path) -> Path:
    """Two XYZ tiles at zoom 14 over Aachen, side by side, plus a stray file that is no tile."""
    root = tmp_path / "kacheln"
    for x, color in ((8468, RED), (8469, BLUE)):
        (root / "14" / str(x)).mkdir(parents=True)
        (root / "14" / str(x) / "5512.png").write_bytes(png(color))
    (root / "README.txt").write_text("Kacheln der Stadt")
    return root


def make_mbtiles(path: Path, tiles: dict[tuple[int, int, int], bytes], fmt: str | None = "png") -> Path:
    """An MBTiles 1.3 file; keys are (zoom, column, TMS row)."""
    con = sqlite3.connect(path)
    con.execute("CREATE TABLE metadata (name TEXT, value TEXT)")
    con.execute("CREATE TABLE tiles (zoom_level INTEGER, tile_column INTEGER, tile_row INTEGER, tile_data BLOB)")
    meta = [("name", "Test"), ("attribution", "© Stadt Test <script>")]
    if fmt:
        meta.append(("format", fmt))
    con.executemany("INSERT INTO metadata VALUES (?, ?)", meta)
    con.executemany("INSERT INTO tiles VALUES (?, ?, ?, ?)", [(*k, v) for k, v in tiles.items()])
    con.commit()
    con.close()
    return path


def tile_nw(z: int, x: int, y: int) -> tuple[float, float]:
    n = 2**z
    return x / n * 360 - 180, math.degrees(math.atan(math.sinh(math.pi * (1 - 2 * y / n))))


def test_folder_published_and_served(tile_folder: Path, tmp_path: Path) -> None:
    static = tmp_path / "app" / "static"
    tiles = publish_local_tiles(tile_folder, static)
    assert (tiles.min_zoom, tiles.max_zoom, tiles.count) == (14, 14, 2)
    assert tiles.url.startswith(f"{STATIC_URL}/{TILES_LOCAL_FOLDER}/") and tiles.url.endswith("/{z}/{x}/{y}.png")
    west, north = tile_nw(14, 8468, 5512)
    east, south = tile_nw(14, 8470, 5513)
    assert tiles.bounds == pytest.approx((west, south, east, north), abs=1e-6)
    rel = tiles.url.removeprefix(f"{STATIC_URL}/")
    published = static / rel.replace("{z}/{x}/{y}.png", "14/8468/5512.png")
    assert pixel(published) == RED
    assert not published.is_symlink()
    # Streamlit's own static route serves it with the PNG type; a symlink out of static/ is refused
    (static / "outside.png").symlink_to(tile_folder / "14" / "8469" / "5512.png")
    app = Starlette(routes=create_app_static_serving_routes(str(tmp_path / "app" / "app.py"), None))
    client = TestClient(app)
    served = client.get(tiles.url.format(z=14, x=8469, y=5512))
    assert served.status_code == 200 and served.headers["content-type"] == "image/png"
    assert served.content == (tile_folder / "14" / "8469" / "5512.png").read_bytes()
    assert client.get(f"{STATIC_URL}/outside.png").status_code in (400, 404)
    # idempotent: publishing again changes nothing
    assert publish_local_tiles(tile_folder, static) == tiles


def test_mbtiles_rows_are_flipped(tmp_path: Path) -> None:
    source = make_mbtiles(tmp_path / "stadt.mbtiles", {(1, 0, 0): png(RED), (2, 3, 3): png(BLUE)})
    static = tmp_path / "static"
    tiles = publish_local_tiles(source, static)
    base = static / tiles.url.removeprefix(f"{STATIC_URL}/").split("/{z}")[0]
    assert pixel(base / "1" / "0" / "1.png") == RED  # TMS row 0 at z1 is the southern row: y = 2 - 1 - 0
    assert pixel(base / "2" / "3" / "0.png") == BLUE  # TMS row 3 at z2 is the northern row: y = 4 - 1 - 3
    assert not (base / "1" / "0" / "0.png").exists()
    assert (tiles.min_zoom, tiles.max_zoom, tiles.count) == (1, 2, 2)
    assert tiles.bounds == pytest.approx((90.0, tile_nw(2, 0, 1)[1], 180.0, tile_nw(2, 0, 0)[1]))
    assert tiles.attribution == "© Stadt Test <script>"  # escaped by the tile layer, see below
    layer = map_background.local_tiles_layer(tiles)
    assert "&lt;script&gt;" in str(layer.options["attribution"])


def test_mbtiles_format_from_magic_bytes(tmp_path: Path) -> None:
    buf = io.BytesIO()
    Image.new("RGB", (256, 256), RED).save(buf, format="JPEG")
    source = make_mbtiles(tmp_path / "foto.mbtiles", {(3, 4, 2): buf.getvalue()}, fmt=None)
    tiles = publish_local_tiles(source, tmp_path / "static")
    assert tiles.url.endswith("{y}.jpg")


@pytest.mark.parametrize(
    ("make", "fragments"),
    [
        (lambda p: p / "gibt-es-nicht", ("gibt es nicht", "INTEGRATIONSATLAS_TILES_DIR")),
        (lambda p: (p / "leer").mkdir() or p / "leer", ("keine Kacheln gefunden", "z/x/y.png")),
        (lambda p: (p / "karte.tif").write_bytes(b"II*\x00") and p / "karte.tif", ("weder ein Kachelordner",)),
        (
            lambda p: (p / "kaputt.mbtiles").write_bytes(b"kein sqlite" * 100) and p / "kaputt.mbtiles",
            ("kaputt.mbtiles", "keine gültige MBTiles"),
        ),
        (lambda p: make_mbtiles(p / "vektor.mbtiles", {(0, 0, 0): b"\x1a\x00"}, fmt="pbf"), ("Vektorkacheln",)),
        (lambda p: make_mbtiles(p / "leer.mbtiles", {}), ("enthält keine Kacheln",)),
    ],
)
def test_invalid_sources_give_german_messages(tmp_path: Path, make: Any, fragments: tuple[str, ...],
                                              raises_matching: Any) -> None:  # fmt: skip
    with raises_matching(DataError, *fragments):
        publish_local_tiles(make(tmp_path), tmp_path / "static")


def _layers(m: folium.Map) -> list[Any]:
    return [c for c in m._children.values() if isinstance(c, folium.map.Layer)]


def test_offered_first_and_switched_on(tile_folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(map_background, "STATIC_DIR", tmp_path / "static")
    monkeypatch.setenv("INTEGRATIONSATLAS_TILES_DIR", str(tile_folder))
    monkeypatch.setenv("INTEGRATIONSATLAS_HOME", str(tmp_path / "home"))
    cfg = Settings.from_env()
    assert cfg.tiles_dir == tile_folder
    decided = background(Settings(tiles_dir=tile_folder, tiles="on"), sources=((OSM_TILES, "OSM"),))
    assert decided.local is not None and decided.problem is None
    assert decided.shown is None  # the local tiles replace the online default
    layers = _layers(maps.base_map(tiles=decided))
    assert [lay.layer_name for lay in layers] == [LOCAL_TILES_LAYER_NAME, "OSM (online)"]
    assert [lay.show for lay in layers] == [True, False]
    assert layers[0].options["max_native_zoom"] == 14 and layers[0].options["bounds"][0][0] < 51


def test_invalid_setting_shows_note_and_map_works(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(map_background, "STATIC_DIR", tmp_path / "static")
    decided = background(Settings(tiles_dir=tmp_path / "fehlt", tiles="off"))
    assert decided.local is None and decided.problem is not None and "gibt es nicht" in decided.problem
    m = maps.base_map(tiles=decided)
    assert not _layers(m)
    page = m.get_root().render()
    assert "atlas-map-notice" in page and "gibt es nicht" in page
    assert background(Settings(tiles="off")) == Background((), None)
