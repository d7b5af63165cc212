"""Walking access to the nearest stop per mode class (integrationsatlas.stops)."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest

from geo.settings import Settings
from integrationsatlas.request import AnalysisRequest, AreaRef
from integrationsatlas.stops import _summarise, mode_class_titles, stop_access


def test_shares_and_medians_by_hand() -> None:
    cells = gpd.GeoDataFrame(
        {
            "kreis_ags": ["05001", "05001", "05001", "05002"],
            "population": [100.0, 300.0, 600.0, 50.0],
            "dist_bahn": [100.0, 500.0, 900.0, np.inf],
            "dist_tram_ubahn": [np.inf] * 4,
            "dist_bus": [50.0, 60.0, 70.0, 399.0],
        },
        geometry=gpd.points_from_xy([0, 1, 2, 3], [0, 0, 0, 0]),
        crs="EPSG:25832",
    )
    table = _summarise(cells, "kreis_ags", 400.0)
    assert table.loc["05001", "population"] == 1000.0
    assert table.loc["05001", "within_bahn"] == pytest.approx(0.1)  # only the 100 people at 100 m
    assert table.loc["05001", "median_bahn"] == 900.0  # half the people (600 of 1000) are 900 m away
    assert table.loc["05002", "within_bus"] == 1.0 and table.loc["05002", "within_bahn"] == 0.0
    assert table["within_tram_ubahn"].tolist() == [0.0, 0.0]


def test_mode_class_titles_come_from_the_layer_declaration() -> None:
    assert mode_class_titles()["tram_ubahn"] == "Straßenbahn/U-Bahn"


@pytest.mark.slow
def test_the_cli_heads_its_columns_with_the_titles(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # the table was headed »bahn ≤ 400 m  tram_ubahn ≤ 400 m  bus ≤ 400 m«
    from integrationsatlas.cli import main

    monkeypatch.setenv("INTEGRATIONSATLAS_HOME", str(tmp_path / "home"))
    assert main(["stops", "--area", "05334"]) == 0
    head = next(line for line in capsys.readouterr().out.splitlines() if line.startswith("AGS"))
    assert head.split() == ["AGS", "Name", "Einwohner", "Bahn", "≤", "400", "m", "Straßenbahn/U-Bahn", "≤", "400", "m",
                            "Bus", "≤", "400", "m"]  # fmt: skip


@pytest.mark.slow
def test_aachen_cells_differ_in_their_stop_access(tmp_path: Path, shared_data: Path) -> None:
    from integrationsatlas.cli import main

    settings = Settings().with_home(tmp_path / "home")
    table = shared_data / "population" / "nrw_gemeinden_destatis_gv_2019.csv"
    import os

    os.environ["INTEGRATIONSATLAS_HOME"] = str(tmp_path / "home")
    try:
        assert main(["population", str(table)]) == 0
    finally:
        del os.environ["INTEGRATIONSATLAS_HOME"]
    request = AnalysisRequest(
        "haltestelle", 0.3, by="gemeinde", area=AreaRef("05334002"), osm_file=shared_data / "osm" / "aachen.osm.pbf"
    )
    result = stop_access(settings, request)
    cells = result.cells[result.cells["resolution"] == "osm_100m"]
    assert len(cells) >= 2000
    bus = cells["dist_bus"].to_numpy()
    assert np.isfinite(bus).mean() > 0.95
    assert 0 < np.mean(bus[np.isfinite(bus)] <= 300.0) < 1  # some cells near a stop, some not
    pop = cells["population"].to_numpy()
    near_bus = float((pop * (bus <= 300.0)).sum() / pop.sum())
    assert 0.5 < near_bus < 1.0  # most of central Aachen is within 300 m of a bus stop, not all
    aachen = result.units.loc["05334002"]  # includes the part of the city outside the extract (coarse)
    assert 0.0 < aachen["within_bahn"] < aachen["within_bus"] < near_bus
    assert isinstance(result.units, pd.DataFrame) and result.network.startswith("Fußwegenetz")
