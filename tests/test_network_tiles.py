"""Street networks of land-scale extracts in Kreis tiles (geo.sources.network_tiles)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import geopandas as gpd
import numpy as np
import osmium
import pytest
import shapely
from pyproj import Transformer
from scipy.sparse.csgraph import dijkstra

from geo.errors import DataError
from geo.modes import MODES
from geo.settings import Settings
from geo.sources import network_tiles
from geo.sources.network_tiles import TileRaster, TileSet, build_tile_set, merge_networks, tile_buffer_m
from geo.sources.osm_pbf import read_street_network
from geo.sources.streets import load_network, tile_set

TO_LONLAT = Transformer.from_crs("EPSG:25832", "EPSG:4326", always_xy=True)


def ladder(path: Path, x0: float = 300_000.0, y0: float = 5_650_000.0, n: int = 40, step: float = 100.0) -> Path:
    """A tiny OSM file: a ladder of footways (two rails, rungs every ``step`` metres) running east."""
    writer = osmium.SimpleWriter(str(path))
    try:
        for row in (0, 1):
            for i in range(n):
                lon, lat = TO_LONLAT.transform(x0 + i * step, y0 + row * step)
                writer.add_node(osmium.osm.mutable.Node(id=1 + row * n + i, location=(lon, lat)))
        way_id = 1
        for row in (0, 1):
            ids = [1 + row * n + i for i in range(n)]
            writer.add_way(osmium.osm.mutable.Way(id=way_id, nodes=ids, tags={"highway": "footway"}))
            way_id += 1
        for i in range(0, n, 2):
            rung = [1 + i, 1 + n + i]
            writer.add_way(osmium.osm.mutable.Way(id=way_id, nodes=rung, tags={"highway": "footway"}))
            way_id += 1
    finally:
        writer.close()
    return path


def halves(x0: float = 300_000.0, y0: float = 5_650_000.0, width: float = 4_000.0) -> gpd.GeoDataFrame:
    """Two units side by side, cutting the ladder in the middle."""
    mid = x0 + width / 2 - 50.0
    return gpd.GeoDataFrame(
        {"ags": ["05901", "05902"], "name": ["West", "Ost"]},
        geometry=[shapely.box(x0 - 500, y0 - 500, mid, y0 + 600), shapely.box(mid, y0 - 500, x0 + width, y0 + 600)],
        crs="EPSG:25832",
    )


@pytest.fixture
def tiny_settings(settings: Settings) -> Settings:
    """Every extract is tiled; tiles exact up to 15 minutes (1,125 m walking, more than two raster cells)."""
    return replace(settings, network_tile_bytes=0, network_tile_minutes=15.0)


def test_buffer_is_horizon_at_the_fastest_speed() -> None:
    assert tile_buffer_m("walk", 10) == pytest.approx(10 * 60 * MODES["walk"].speed_kmh / 3.6)
    assert tile_buffer_m("bike", 10) == pytest.approx(2500.0)
    assert tile_buffer_m("drive", 10) == pytest.approx(10 * 60 * network_tiles.DRIVE_MAX_KMH / 3.6)


def test_raster_marks_every_tile_a_point_touches() -> None:
    units = halves()
    raster = TileRaster(units.geometry.to_numpy(), buffer_m=200.0, cell_m=100.0)
    x = np.array([300_100.0, 301_940.0, 303_500.0, 250_000.0])
    y = np.full(4, 5_650_000.0)
    bits = raster.masks(x, y)[:, 0]
    assert bits.tolist() == [1, 3, 2, 0]  # west only, both (within the overlap), east only, none


def test_tiles_cut_the_network_with_overlap_and_their_union_is_exact(tmp_path: Path, tiny_settings: Settings) -> None:
    pbf = ladder(tmp_path / "ladder.osm.pbf")
    whole = read_street_network(pbf, "walk")
    tiles = build_tile_set(pbf, "walk", tmp_path / "tiles", tiny_settings, units=halves())
    assert [t.code for t in tiles.tiles] == ["05901", "05902"]
    west, east = tiles.load(["05901"]), tiles.load(["05902"])
    assert west.n_nodes < whole.n_nodes and east.n_nodes < whole.n_nodes
    overlap = np.intersect1d(west.node_ids, east.node_ids)
    assert overlap.size > 0  # the buffer: both tiles hold the nodes around the cut
    union = merge_networks([west, east])
    assert set(whole.node_ids) <= set(union.node_ids)
    # every travel time between nodes of the whole network is the same on the union of the tiles
    pos = np.searchsorted(union.node_ids, whole.node_ids)
    d_union = dijkstra(union.matrix, indices=pos[:3])[:, pos]
    d_whole = dijkstra(whole.matrix, indices=[0, 1, 2])
    np.testing.assert_allclose(d_union, d_whole, rtol=0, atol=1e-9)


def test_a_tile_is_exact_up_to_its_horizon(tmp_path: Path, tiny_settings: Settings) -> None:
    pbf = ladder(tmp_path / "ladder.osm.pbf")
    whole = read_street_network(pbf, "walk")
    tiles = build_tile_set(pbf, "walk", tmp_path / "tiles", tiny_settings, units=halves())
    west = tiles.load(["05901"])
    horizon_s = tiny_settings.network_tile_minutes * 60
    cut = halves().geometry.iloc[0].bounds[2]
    core = np.flatnonzero(west.xy[:, 0] < cut)
    src = core[np.argsort(west.xy[core, 0])[-5:]]  # the core nodes nearest the cut
    assert (west.xy[:, 0] > cut + 1_000).any()  # the tile reaches past the cut by the buffer
    d_tile = dijkstra(west.matrix, indices=src)
    pos = np.searchsorted(whole.node_ids, west.node_ids)
    d_whole = dijkstra(whole.matrix, indices=pos[src])[:, pos]
    near = d_whole <= horizon_s
    assert near.sum() > 5 * 15
    np.testing.assert_allclose(d_tile[near], d_whole[near], rtol=0, atol=1e-9)
    assert (d_tile >= d_whole - 1e-9).all()  # beyond the horizon a tile may only be slower


def test_regions_open_only_their_tiles(tmp_path: Path, tiny_settings: Settings) -> None:
    tiles = build_tile_set(ladder(tmp_path / "l.osm.pbf"), "walk", tmp_path / "t", tiny_settings, units=halves())
    assert tiles.codes_for("05") == ("05901", "05902")
    assert tiles.codes_for("05902") == ("05902",)
    assert tiles.codes_for("05901004") == ("05901",)  # a Gemeinde opens its Kreis tile
    with pytest.raises(DataError, match="kein Straßennetz"):
        tiles.codes_for("05334")


def test_a_built_tile_set_is_read_back_not_rebuilt(
    tmp_path: Path, tiny_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    pbf = ladder(tmp_path / "l.osm.pbf")
    folder = tmp_path / "t"
    built = network_tiles.open_tile_set(pbf, "walk", folder, tiny_settings)
    assert TileSet.read(folder) == built
    monkeypatch.setattr(network_tiles, "build_tile_set", lambda *a, **k: pytest.fail("rebuilt"))
    assert network_tiles.open_tile_set(pbf, "walk", folder, tiny_settings).tiles == built.tiles
    (folder / built.tiles[0].file).unlink()  # a damaged folder counts as not built
    assert TileSet.read(folder) is None


def test_no_way_inside_any_tile_is_refused(tmp_path: Path, tiny_settings: Settings) -> None:
    pbf = ladder(tmp_path / "far.osm.pbf", x0=100_000.0)
    with pytest.raises(DataError, match="kein Weg"):
        build_tile_set(pbf, "walk", tmp_path / "t", tiny_settings, units=halves())


def test_real_aachen_extract_in_kreis_tiles_equals_the_whole_file(aachen_osm_pbf: Path, settings: Settings) -> None:
    """The real extract (Geofabrik-style PBF) tiled by the embedded Kreise: its Kreis tile is the whole network."""
    tiled = replace(settings, network_tile_bytes=0)
    whole = read_street_network(aachen_osm_pbf, "walk")
    tiles = tile_set("walk", tiled, aachen_osm_pbf)
    assert [t.code for t in tiles.tiles] == ["05334"]
    assert tiles.source == aachen_osm_pbf.name and len(tiles.source_hash) == 64
    net = load_network("walk", tiled, osm_file=aachen_osm_pbf, region="05334002")
    np.testing.assert_array_equal(net.node_ids, whole.node_ids)
    assert (net.matrix != whole.for_mode(MODES["walk"]).matrix).nnz == 0
    # below the tile size the file is built whole, as before
    assert load_network("walk", settings, osm_file=aachen_osm_pbf, region="05334").n_nodes == whole.n_nodes
