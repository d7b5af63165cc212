"""Any data size on the map: the payload of a point layer stays bounded (issue 20).

With about 400,000 Kita points stored the Karte failed for everyone
(``MessageSizeError``, 217.9 MB). The layer used here is **synthetic**:
400,000 random points in a box around NRW (EPSG:25832), generated in the test.
"""

from __future__ import annotations

import json

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest

from geo.layers.registry import REGISTRY
from geo.settings import PROJECTED_CRS
from ui import maps
from ui.map_density import MAX_CELLS, MAX_MAP_POINTS, aggregate_points, aggregation_note, cell_size_for
from ui.map_points import point_rows

#: What the map of one layer may send to the browser.
PAYLOAD_LIMIT_BYTES = 5_000_000


def synthetic_points(n: int, seed: int = 20) -> gpd.GeoDataFrame:
    """``n`` synthetic Kitas, uniformly in NRW's bounding box (EPSG:25832); clearly not real data."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(280_000, 540_000, n)
    y = rng.uniform(5_570_000, 5_830_000, n)
    frame = pd.DataFrame({"id": [f"synth-{i}" for i in range(n)], "name": "Synthetische Kita"})
    return gpd.GeoDataFrame(frame, geometry=gpd.points_from_xy(x, y), crs=PROJECTED_CRS)


@pytest.mark.slow
def test_400k_synthetic_points_become_a_bounded_layer() -> None:
    gdf = synthetic_points(400_000)
    data = aggregate_points(gdf, REGISTRY.get("kita"))
    size = len(json.dumps(data))
    assert size < PAYLOAD_LIMIT_BYTES, f"{size:,} Bytes"
    agg = data["aggregated"]
    assert agg["points"] == 400_000
    assert agg["cells"] == len(data["features"]) <= MAX_CELLS
    counts = [int(f["properties"]["_tooltip"][0][1].split(" ")[0].replace(".", "")) for f in data["features"]]
    assert sum(counts) == 400_000  # every point is in exactly one cell
    layer = maps.points_layer(REGISTRY.get("kita"), data)  # the map draws it like any point layer
    assert len(layer.rows) == agg["cells"]
    note = aggregation_note(data)
    assert note is not None and note["points"] == "400.000"


def test_cells_are_the_smallest_size_that_fits() -> None:
    gdf = synthetic_points(3_000, seed=1)
    data = aggregate_points(gdf, REGISTRY.get("kita"), max_cells=200)
    size = data["aggregated"]["cell_m"]
    x, y = gdf.geometry.x.to_numpy(), gdf.geometry.y.to_numpy()
    assert data["aggregated"]["cells"] <= 200
    assert size == cell_size_for(x, y, 200)
    smaller = [s for s in (250, 500, 1_000, 2_000, 5_000, 10_000, 25_000) if s < size]
    for s in smaller:  # each smaller size gives too many cells
        occupied = len(np.unique(np.stack([np.floor(x / s), np.floor(y / s)], axis=1), axis=0))
        assert occupied > 200


def test_small_layers_are_drawn_point_by_point() -> None:
    assert MAX_MAP_POINTS >= 59_000  # the NRW stops stay individual points
    assert aggregation_note({"type": "FeatureCollection", "features": []}) is None


@pytest.mark.slow
def test_karte_with_400k_synthetic_kitas_stays_small(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """The whole Karte, with 400,000 synthetic Kitas in the store: no error, and every map message stays small."""
    from streamlit.testing.v1 import AppTest

    from geo.settings import PROJECT_ROOT, Settings
    from geo.store import open_store

    monkeypatch.setenv("INTEGRATIONSATLAS_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("INTEGRATIONSATLAS_OFFLINE", "1")
    cfg = Settings.from_env()
    open_store(cfg).write_layer(
        "kita", synthetic_points(400_000), mode="replace", source_file="synthetisch", source="Test", licence="-"
    )
    at = AppTest.from_file(str(PROJECT_ROOT / "app.py"), default_timeout=600)
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    components = [el.proto for el in at.get("component_instance")]
    assert components, "no map on the Karte"
    sizes = [el.ByteSize() for el in components]
    assert max(sizes) < PAYLOAD_LIMIT_BYTES, sizes
    assert any("400.000 Punkte, zusammengefasst" in el.json_args for el in components)


def test_point_rows_send_each_tooltip_label_list_once() -> None:
    gdf = synthetic_points(2_000, seed=3)
    data = maps.prepare_points(gdf, REGISTRY.get("kita"))
    data["features"][0]["properties"]["_tooltip"] = [["Name", "<b>anders</b>"]]  # a point with other labels
    points = point_rows(data)
    assert len(points.heads) == 2 and len(points.rows) == 2_000
    for feature, row in zip(data["features"], points.rows, strict=True):  # every tooltip comes back whole
        assert [list(p) for p in zip(points.heads[row[2]], row[3], strict=True)] == feature["properties"]["_tooltip"]
    assert '"Name"' not in json.dumps(points.rows)  # labels travel once, in the heads
