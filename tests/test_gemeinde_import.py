"""Import of official boundary files (VG250 style) as the ``gemeinde`` and ``kreis`` layers."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import Polygon, box

from geo.boundaries import load_boundaries
from geo.errors import ValidationError
from geo.importing import import_file
from geo.settings import Settings
from geo.store import DataStore

# two adjacent 10 km squares in the Köln area (EPSG:25832), hand-checkable
WEST = box(350_000, 5_640_000, 360_000, 5_650_000)
EAST = box(360_000, 5_640_000, 370_000, 5_650_000)


def _vg250(tmp_path: Path, rows: list[dict[str, object]], geoms: list[object], name: str = "gem.geojson") -> Path:
    gdf = gpd.GeoDataFrame(rows, geometry=geoms, crs="EPSG:25832").to_crs("EPSG:4326")
    path = tmp_path / name
    gdf.to_file(path, driver="GeoJSON")
    return path


def test_synthetic_vg250_gemeinden(tmp_path: Path, settings: Settings) -> None:
    assert len(load_boundaries("gemeinde", settings)) == 396  # embedded; the import below replaces them all
    path = _vg250(tmp_path, [
        {"AGS": "05315000", "GEN": "Köln", "BEZ": "Stadt", "EWZ": 1_085_664},
        {"AGS": "05362004", "GEN": "Bergheim", "BEZ": "Stadt", "EWZ": 61_601},
    ], [WEST, EAST])
    result = import_file(path, "gemeinde", settings, mode="replace")
    assert result.location_kind == "geometry"
    data = result.data
    assert data["ags"].tolist() == ["05315000", "05362004"]
    assert data["kreis_ags"].tolist() == ["05315", "05362"]
    assert data["population"].tolist() == [1_085_664, 61_601]
    assert data.crs == "EPSG:25832"
    assert abs(data.area.iloc[0] - 1e8) < 1e3  # 100 km² survives the 4326 round trip
    gem = load_boundaries("gemeinde", settings)
    assert len(gem) == 2


def test_bowtie_is_repaired_and_bad_rows_reported(tmp_path: Path, settings: Settings) -> None:
    bowtie = Polygon([(350_000, 5_640_000), (360_000, 5_650_000), (360_000, 5_640_000), (350_000, 5_650_000)])
    gdf = gpd.GeoDataFrame(
        {"AGS": ["05315000", "06411000", "123"], "GEN": ["Köln", "Darmstadt", "Kaputt"]},
        geometry=[bowtie, EAST, WEST], crs="EPSG:25832",
    )
    path = tmp_path / "gem.gpkg"
    gdf.to_file(path, layer="gemeinde")
    with pytest.raises(ValidationError) as info:
        import_file(path, "gemeinde", settings)
    rows = {p.row: str(p) for p in info.value.problems}
    assert "nicht in NRW" in rows[2]
    assert "nicht 8 Stellen" in rows[3]
    assert DataStore(settings.store_path).batches() == []
    result = import_file(path, "gemeinde", settings, on_invalid="keep_valid")
    assert result.data["ags"].tolist() == ["05315000"]
    assert result.data.geometry.is_valid.all()
    assert abs(result.data.area.iloc[0] - 5e7) < 1  # the bow tie's two triangles, 50 km²


def test_boundary_without_key_column(tmp_path: Path, settings: Settings) -> None:
    path = _vg250(tmp_path, [{"GEN": "Köln"}], [WEST])
    with pytest.raises(ValidationError, match="AGS"):
        import_file(path, "gemeinde", settings)


def test_kreis_import_overrides_embedded(tmp_path: Path, settings: Settings) -> None:
    path = _vg250(tmp_path, [{"AGS": "05315", "GEN": "Köln (neu)", "BEZ": "Kreisfreie Stadt"}], [WEST], "krs.geojson")
    result = import_file(path, "kreis", settings)
    assert result.data["ags"].tolist() == ["05315"]
    kreise = load_boundaries("kreis", settings)
    assert len(kreise) == 53
    assert kreise.loc[kreise["ags"] == "05315", "name"].item() == "Köln (neu)"


@pytest.fixture
def gemeinden_file(shared_data: Path) -> Path:
    return shared_data / "boundaries" / "nrw_gemeinden_vg250_simplify200.geojson"


def test_real_gemeinden_import(gemeinden_file: Path, shared_data: Path, settings: Settings) -> None:
    result = import_file(gemeinden_file, "gemeinde", settings, mode="replace")
    assert result.problems == ()
    gem = load_boundaries("gemeinde", settings)
    assert len(gem) == 396
    assert gem["ags"].is_unique
    assert gem["ags"].str.fullmatch(r"05\d{6}").all()
    assert gem.geometry.is_valid.all()
    assert gem.crs == "EPSG:25832"
    assert int(gem["population"].sum()) == 17_932_651  # from the nested destatis object (31.12.2018)

    # every Gemeinde lies in the embedded Kreis of its AGS[:5]
    kreise = load_boundaries("kreis", settings)
    points = gpd.GeoDataFrame({"ags": gem["ags"]}, geometry=gem.representative_point(), crs=gem.crs)
    joined = gpd.sjoin(points, kreise[["ags", "geometry"]].rename(columns={"ags": "kreis"}),
                       predicate="within", how="left")
    assert joined.index.is_unique
    assert (joined["kreis"] == joined["ags"].str[:5]).all()

    # the population CSV joins 1:1 on AGS
    pop = pd.read_csv(shared_data / "population" / "nrw_gemeinden_population_2018.csv", dtype={"AGS": str})
    merged = gem.merge(pop, left_on="ags", right_on="AGS", how="outer", validate="one_to_one", indicator=True)
    assert (merged["_merge"] == "both").all()
    assert len(merged) == 396
    assert (merged["population_x"] == merged["population_y"]).all()


def test_real_schools_lie_in_their_gemeinde(gemeinden_file: Path, shared_data: Path, settings: Settings) -> None:
    import_file(gemeinden_file, "gemeinde", settings, mode="replace")
    schools = import_file(shared_data / "facilities" / "nrw_schuldaten_msb_2021.csv", "ogs", settings).data
    assert len(schools) == 2787
    gem = load_boundaries("gemeinde", settings)
    joined = gpd.sjoin(schools, gem[["ags", "geometry"]], predicate="within", how="left")
    joined = joined[~joined.index.duplicated()]
    share = float((joined["ags"] == joined["gemeinde_ags"]).mean())
    assert share >= 0.999


def test_destatis_object_as_text(tmp_path: Path, settings: Settings) -> None:
    path = tmp_path / "gem.geojson"
    ring = [list(c) for c in gpd.GeoSeries([WEST], crs="EPSG:25832").to_crs("EPSG:4326").iloc[0].exterior.coords]
    doc = {"type": "FeatureCollection", "features": [{
        "type": "Feature", "geometry": {"type": "Polygon", "coordinates": [ring]},
        "properties": {"AGS": "05315000", "GEN": "Köln", "destatis": {"population": 1085664, "zip": "50667"}},
    }]}
    path.write_text(json.dumps(doc), encoding="utf-8")
    result = import_file(path, "gemeinde", settings, dry_run=True)
    assert result.data["population"].tolist() == [1085664]
