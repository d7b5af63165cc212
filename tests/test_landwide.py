"""Land-wide 100 m results: the grid, the result file with its request, the listing and the cached pyramid."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import box

from geo.io.geoparquet import write_geoparquet
from integrationsatlas.landwide import (
    grid_cells,
    result_pyramid,
    save_grid_result,
    stored_results,
    straight_line_grid,
)
from integrationsatlas.request import AnalysisRequest, AreaRef, SitingSpec
from ui.map_results import result_legend_rows

X0, Y0 = 294_000.0, 5_628_000.0  # made-up units and facilities near Aachen (EPSG:25832)


def units() -> gpd.GeoDataFrame:
    """Two neighbouring squares of 1 km × 1 km and 2 km × 1 km."""
    return gpd.GeoDataFrame(
        {"ags": ["A", "B"]},
        geometry=[box(X0, Y0, X0 + 1_000, Y0 + 1_000), box(X0 + 1_000, Y0, X0 + 3_000, Y0 + 1_000)],
        crs="EPSG:25832",
    )


def test_grid_cells_lie_inside_and_spread_the_people_evenly() -> None:
    cells = grid_cells(units(), pd.Series({"A": 500.0, "B": 1_000.0}))
    assert len(cells) == 300 and cells.crs.to_epsg() == 25832
    counts = cells.groupby("ags").size()
    assert counts["A"] == 100 and counts["B"] == 200
    assert cells.groupby("ags")["population"].sum().to_dict() == pytest.approx({"A": 500.0, "B": 1_000.0})
    assert set(np.round(cells.geometry.x % 100)) == {50.0}  # centres of cells aligned to the 100 m grid
    assert not cells.geometry.duplicated().any()


def test_a_unit_without_population_has_cells_without_people() -> None:
    cells = grid_cells(units(), pd.Series({"A": 100.0}))
    assert cells.loc[cells["ags"] == "B", "population"].eq(0).all()


def stored(tmp_path: Path, name: str = "ogs.parquet", *, overwrite: bool = False) -> Path:
    cells = grid_cells(units(), pd.Series({"A": 500.0, "B": 1_000.0}))
    school = gpd.GeoDataFrame(geometry=gpd.points_from_xy([X0 + 50], [Y0 + 50]), crs="EPSG:25832")
    result = straight_line_grid(cells, school, 1.0)
    request = AnalysisRequest("ogs", 1.0, area=AreaRef("05"), by="gemeinde", demand="gemeinde")
    path = tmp_path / "ergebnisse" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    assert save_grid_result(result, request, path, "OGS (100 m)", "Zellen: erfunden.", overwrite=overwrite)
    return path


def test_a_grid_result_carries_its_request_and_is_listed(tmp_path: Path) -> None:
    path = stored(tmp_path)
    other = tmp_path / "ergebnisse" / "plan.parquet"
    siting = AnalysisRequest("ogs", 1.0, siting=SitingSpec(p=1))
    frame = gpd.GeoDataFrame(geometry=gpd.points_from_xy([X0], [Y0]), crs="EPSG:25832")
    write_geoparquet(frame, other, {"request": siting.as_dict()})
    (tmp_path / "ergebnisse" / "kaputt.parquet").write_bytes(b"PAR1 no parquet")
    found, problems = stored_results(tmp_path / "ergebnisse")
    assert [r.path for r in found] == [path]
    assert found[0].request.layer == "ogs" and found[0].n_cells == 300
    assert found[0].description.endswith("Zellen: erfunden.")
    assert len(problems) == 2
    assert any("kaputt.parquet" in p for p in problems) and any("Standortplan" in p for p in problems)
    assert stored_results(tmp_path / "fehlt") == ([], [])


def test_the_pyramid_is_rendered_once_per_file_version(tmp_path: Path) -> None:
    path = stored(tmp_path)
    first = result_pyramid(path, tmp_path / "cache", zooms=(12, 13))
    assert first.tiles > 0 and first.unit == "km" and first.title == "OGS (100 m)"
    json_file = first.folder / "pyramid.json"
    stamp = json_file.stat().st_mtime_ns
    again = result_pyramid(path, tmp_path / "cache", zooms=(12, 13))
    assert again == first and json_file.stat().st_mtime_ns == stamp  # read back, not rendered again
    assert not save_grid_result(*_read_back(path))  # write-once: the file stays as it is
    stored(tmp_path, overwrite=True)  # a new version of the file
    assert result_pyramid(path, tmp_path / "cache", zooms=(12, 13)).folder != first.folder
    assert not list((tmp_path / "cache" / "pyramiden").glob(".render-*"))  # no half-rendered leftovers


def _read_back(path: Path) -> tuple[gpd.GeoDataFrame, AnalysisRequest, Path, str, str]:
    from integrationsatlas.results import stored_request

    return gpd.read_parquet(path), stored_request(path), path, "x", "y"


def test_the_legend_names_the_classes_in_the_threshold_unit(tmp_path: Path) -> None:
    pyramid = result_pyramid(stored(tmp_path), tmp_path / "cache", zooms=(12,))
    rows = result_legend_rows(pyramid)
    assert rows[0] == ["title", "OGS (100 m)"]
    assert [r[2] for r in rows if r[0] == "class"] == [
        "bis 0,5 km",
        "bis 1 km",
        "bis 1,5 km",
        "bis 2 km",
        "über 2 km / nicht erreichbar",
    ]
    assert rows[-1][0] == "note" and "erfunden" in rows[-1][1]
