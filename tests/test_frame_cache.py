"""The disk cache for frames derived from a file: built once, rebuilt when broken, written atomically."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
from shapely.geometry import Point

from geo.settings import PROJECTED_CRS
from geo.sources.frame_cache import cached_frame


def _frame() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"n": [1, 2]}, geometry=[Point(300_000, 5_600_000), Point(300_100, 5_600_000)], crs=PROJECTED_CRS
    )


def test_built_once_then_read_and_rebuilt_when_broken(tmp_path: Path) -> None:
    calls: list[int] = []

    def build() -> gpd.GeoDataFrame:
        calls.append(1)
        return _frame()

    target = tmp_path / "cache" / "abc-v1.parquet"
    first = cached_frame(target, build, "Test")
    second = cached_frame(target, build, "Test")
    assert len(calls) == 1 and second.crs == PROJECTED_CRS and second["n"].tolist() == first["n"].tolist()
    target.write_bytes(b"kein parquet")  # a broken entry (e.g. a disk that filled up) is rebuilt
    third = cached_frame(target, build, "Test")
    assert len(calls) == 2 and third["n"].tolist() == [1, 2]
    assert sorted(p.name for p in target.parent.iterdir()) == ["abc-v1.parquet"]  # no partial file left
