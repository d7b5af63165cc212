"""Zensus 2022 grid importer on tiny hand-written CSVs in the Destatis format."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import box

from geo.errors import DataError, SchemaError, ValidationError
from geo.settings import Settings
from geo.sources.zensus import ZENSUS_LAYER, grid_in_nrw, import_zensus, load_zensus, read_zensus_csv

# Cells: one in Köln, one in Düsseldorf, one kept secret in Köln, one in Berlin (outside NRW).
CSV_1KM = """GITTER_ID_1km;x_mp_1km;y_mp_1km;Einwohner
CRS3035RES1000mN3096000E4106000;4106500;3096500;1.234
CRS3035RES1000mN3128000E4096000;4096500;3128500;87
CRS3035RES1000mN3097000E4106000;4106500;3097500;–
CRS3035RES1000mN3270000E4552000;4552500;3270500;950
"""


@pytest.fixture
def kreise() -> gpd.GeoDataFrame:
    """Two hand-drawn squares (EPSG:25832) around Köln and Düsseldorf."""
    return gpd.GeoDataFrame(
        {"ags": ["05315", "05111"], "name": ["Köln", "Düsseldorf"]},
        geometry=[box(340_000, 5_630_000, 370_000, 5_660_000), box(330_000, 5_665_000, 360_000, 5_690_000)],
        crs="EPSG:25832",
    )


def write(tmp_path: Path, text: str, name: str = "Zensus2022_Bevoelkerungszahl_1km-Gitter.csv",
          encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding=encoding)
    return path


def test_read_csv(tmp_path: Path) -> None:
    cells = read_zensus_csv(write(tmp_path, CSV_1KM))
    assert cells["resolution_m"].unique().tolist() == [1000]
    assert cells["population"].tolist()[:2] == [1234, 87]  # "1.234" is a German thousands separator
    assert pd.isna(cells["population"].iloc[2])
    assert (cells.loc[0, "x"], cells.loc[0, "y"]) == (4_106_500.0, 3_096_500.0)


def test_centres_from_cell_id_when_coordinates_are_missing(tmp_path: Path) -> None:
    text = "GITTER_ID_100m;Einwohner\nCRS3035RES100mN3096000E4106000;5\n"
    cells = read_zensus_csv(write(tmp_path, text, encoding="cp1252"))
    assert (cells.loc[0, "x"], cells.loc[0, "y"], cells.loc[0, "resolution_m"]) == (4_106_050.0, 3_096_050.0, 100)


def test_grid_in_nrw_clips_and_reprojects(tmp_path: Path, kreise) -> None:
    grid = grid_in_nrw(read_zensus_csv(write(tmp_path, CSV_1KM)), kreise)
    assert grid.crs == "EPSG:25832"
    assert grid["gitter_id"].tolist() == [
        "CRS3035RES1000mN3096000E4106000", "CRS3035RES1000mN3128000E4096000", "CRS3035RES1000mN3097000E4106000",
    ]
    assert grid["kreis_ags"].tolist() == ["05315", "05111", "05315"]
    # the Köln cell centre lies about 355.8 km E / 5645.1 km N in UTM 32N
    x, y = grid.geometry.iloc[0].x, grid.geometry.iloc[0].y
    assert 355_000 < x < 357_000 and 5_644_000 < y < 5_646_000


def test_invalid_files_report_every_problem(tmp_path: Path, raises_matching) -> None:
    with raises_matching(SchemaError, "GITTER_ID_1km", "Einwohner", "Zensus2022_Bevoelkerungszahl"):
        read_zensus_csv(write(tmp_path, "id;wert\n1;2\n"))
    bad = ("GITTER_ID_1km;x_mp_1km;y_mp_1km;Einwohner\n"
           "CRS3035RES1000mN3096000E4106000;4106500;3096500;-3\n"
           "kaputt;4106500;3096500;4\n"
           "CRS3035RES1000mN3096000E4106000;abc;3096500;4,5\n")
    with pytest.raises(ValidationError) as info:
        read_zensus_csv(write(tmp_path, bad, name="bad.csv"))
    where = {(p.row, p.column) for p in info.value.problems}
    assert where == {(2, "Einwohner"), (3, "GITTER_ID_1km"), (4, "x_mp_1km/y_mp_1km"), (4, "Einwohner")}
    assert all(p.file == "bad.csv" for p in info.value.problems)


def test_import_store_and_best_demand(tmp_path: Path, settings: Settings, kreise) -> None:
    from integrationsatlas.coverage import best_demand

    assert load_zensus(settings) is None
    summary = import_zensus(write(tmp_path, CSV_1KM), settings, kreise=kreise)
    assert (summary.rows_in, summary.cells_nrw, summary.population_nrw, summary.suppressed_nrw) == (4, 3, 1321, 1)
    from geo.store import DataStore

    meta = DataStore(settings.store_path).layer_meta(ZENSUS_LAYER)
    assert meta is not None and meta.source == "Destatis Zensus 2022" and meta.licence == "dl-de/by-2-0"
    stored = load_zensus(settings)
    assert stored is not None and len(stored) == 3
    demand = best_demand(settings)
    assert demand.level == "zensus"
    assert "Zensus-2022-Gitter 1 km" in demand.level_label
    assert demand.as_of == "2022-05-15"
    assert sorted(demand.points["population"].tolist()) == [87.0, 1234.0]  # the secret cell counts as 0


def test_import_outside_nrw_is_refused(tmp_path: Path, settings: Settings, kreise) -> None:
    text = "GITTER_ID_1km;x_mp_1km;y_mp_1km;Einwohner\nCRS3035RES1000mN3270000E4552000;4552500;3270500;9\n"
    with pytest.raises(DataError, match="keine der 1 Gitterzellen liegt in NRW"):
        import_zensus(write(tmp_path, text), settings, kreise=kreise)
    assert load_zensus(settings) is None
