"""Zensus 2022 grid importer on tiny hand-written CSVs in the Destatis format."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import box

from geo.errors import DataError, SchemaError, ValidationError
from geo.settings import Settings
from geo.sources.zensus import (
    ZENSUS_LAYER,
    grid_in_nrw,
    import_zensus,
    load_zensus,
    load_zensus_parent,
    read_zensus,
    read_zensus_csv,
)
from geo.sources.zensus_files import NRW_BBOX_3035, read_theme_file
from planning.demand import SOURCE_CELL, SOURCE_ESTIMATED, SOURCE_SECRET, apply_target_group, demand_from_grid
from planning.target_groups import fill_suppressed, zensus_target_groups

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


def write(
    tmp_path: Path, text: str, name: str = "Zensus2022_Bevoelkerungszahl_1km-Gitter.csv", encoding: str = "utf-8"
) -> Path:
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
        "CRS3035RES1000mN3096000E4106000",
        "CRS3035RES1000mN3128000E4096000",
        "CRS3035RES1000mN3097000E4106000",
    ]
    assert grid["kreis_ags"].tolist() == ["05315", "05111", "05315"]
    # the Köln cell centre lies about 355.8 km E / 5645.1 km N in UTM 32N
    x, y = grid.geometry.iloc[0].x, grid.geometry.iloc[0].y
    assert 355_000 < x < 357_000 and 5_644_000 < y < 5_646_000


def test_invalid_files_report_every_problem(tmp_path: Path, raises_matching) -> None:
    with raises_matching(SchemaError, "GITTER_ID_1km", "Einwohner", "Zensus2022_Bevoelkerungszahl"):
        read_zensus_csv(write(tmp_path, "id;wert\n1;2\n"))
    bad = (
        "GITTER_ID_1km;x_mp_1km;y_mp_1km;Einwohner\n"
        "CRS3035RES1000mN3096000E4106000;4106500;3096500;-3\n"
        "kaputt;4106500;3096500;4\n"
        "CRS3035RES1000mN3096000E4106000;abc;3096500;4,5\n"
    )
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


# --- the Zensus 2022 grid family as Destatis publishes it (ZIPs, themes, EN DASH, flags) -------------


# Four 100 m cells in one 1 km cell of Düsseldorf (N3122000 E4100000), one cell in Munich (outside NRW).
N, E = 3_122_000, 4_100_000


def cell(dn: int, de: int, res: int = 100) -> str:
    """Id and centre columns of the cell ``dn`` rows north and ``de`` columns east of (N, E)."""
    n, e = N + dn * res, E + de * res
    return f"CRS3035RES{res}mN{n}E{e};{e + res // 2};{n + res // 2}"


POP_100 = (
    "GITTER_ID_100m;x_mp_100m;y_mp_100m;Einwohner;werterlaeuternde_Zeichen\n"
    f"{cell(0, 0)};400;\n{cell(0, 1)};300;KLAMMERN\n{cell(1, 0)};200;\n{cell(1, 1)};100;\n"
    "CRS3035RES100mN2800000E4400000;4400050;2800050;999;\n"
)
# lower-case header (matched case-insensitively), decimal comma, EN DASH for a secret share
FOREIGN_100 = (
    "gitter_id_100m;X_MP_100M;y_mp_100m;anteilauslaender;werterlaeuternde_zeichen\n"
    f"{cell(0, 0)};2,5;\n{cell(0, 1)};10,0;\n{cell(1, 0)};–;\n{cell(1, 1)};60,0;KLAMMERN\n"
)
AGE_100 = (
    "GITTER_ID_100m;x_mp_100m;y_mp_100m;Insgesamt_Bevoelkerung;Unter3;a3bis5;a6bis9;a10bis15;a16bis18;"
    "a19bis24;a25bis39;a40bis59;a60bis66;a67bis74;a75undaelter\n"
    f"{cell(0, 0)};400;12;–;16;20;12;30;100;110;40;30;30\n"
    f"{cell(0, 1)};300;–;–;9;15;9;20;80;90;30;20;27\n"
    f"{cell(1, 0)};200;6;5;–;10;6;10;50;60;20;15;18\n"
    f"{cell(1, 1)};100;3;3;4;5;3;5;25;30;10;5;7\n"
)
POP_1KM = f"GITTER_ID_1km;x_mp_1km;y_mp_1km;Einwohner\n{cell(0, 0, 1000)};1000\n"
FOREIGN_1KM = f"GITTER_ID_1km;x_mp_1km;y_mp_1km;AnteilAuslaender\n{cell(0, 0, 1000)};20,0\n"
AGE_1KM = (
    "GITTER_ID_1km;x_mp_1km;y_mp_1km;Insgesamt_Bevoelkerung;Unter3;a3bis5;a6bis9;a10bis15;a16bis18;"
    "a19bis24;a25bis39;a40bis59;a60bis66;a67bis74;a75undaelter\n"
    f"{cell(0, 0, 1000)};1000;30;20;40;50;30;65;255;290;100;70;50\n"
)


def zipped(tmp_path: Path, name: str, members: dict[str, str]) -> Path:
    path = tmp_path / name
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for member, text in members.items():
            archive.writestr(member, text.encode("utf-8"))
        archive.writestr("Datensatzbeschreibung.xlsx", b"PK not a csv")
    path.write_bytes(buffer.getvalue())
    return path


@pytest.fixture
def zips(tmp_path: Path) -> list[Path]:
    return [
        zipped(
            tmp_path,
            "Zensus2022_Bevoelkerungszahl.zip",
            {
                "Zensus2022_Bevoelkerungszahl_100m-Gitter.csv": POP_100,
                "Zensus2022_Bevoelkerungszahl_1km-Gitter.csv": POP_1KM,
            },
        ),
        zipped(
            tmp_path,
            "Zensus2022_Auslaenderanteil.zip",
            {
                "Zensus2022_Auslaenderanteil_in_Gitterzellen_100m-Gitter.csv": FOREIGN_100,
                "Zensus2022_Auslaenderanteil_in_Gitterzellen_1km-Gitter.csv": FOREIGN_1KM,
            },
        ),
        zipped(
            tmp_path,
            "Zensus2022_Alter_in_infrastrukturellen_Altersgruppen.zip",
            {
                "Zensus2022_Alter_in_infrastrukturellen_Altersgruppen_100m-Gitter.csv": AGE_100,
                "Zensus2022_Alter_in_infrastrukturellen_Altersgruppen_1km-Gitter.csv": AGE_1KM,
            },
        ),
    ]


def test_zips_are_read_and_themes_joined_per_resolution(zips: list[Path]) -> None:
    tables = read_zensus(zips)
    assert sorted(tables) == [100, 1000]
    fine = tables[100]
    assert fine.themes == ("bevoelkerung", "auslaender", "alter_infra")
    assert len(fine.cells) == 4  # Munich is cut by the NRW box while streaming
    c = fine.cells.set_index("gitter_id")
    first = f"CRS3035RES100mN{N}E{E}"
    assert c.loc[first, "population"] == 400 and c.loc[first, "anteil_auslaender"] == pytest.approx(2.5)
    assert np.isnan(c.loc[f"CRS3035RES100mN{N + 100}E{E}", "anteil_auslaender"])  # EN DASH
    assert c["unsicher_bevoelkerung"].sum() == 1 and c["unsicher_auslaender"].sum() == 1
    assert c["population"].dtype == np.float32 and c["x"].dtype == np.int32
    assert fine.suppressed["anteil_auslaender"] == 1 and fine.suppressed["unter3"] == 1


def test_chunks_give_the_same_cells_and_row_numbers(tmp_path: Path) -> None:
    path = write(tmp_path, POP_100, name="Zensus2022_Bevoelkerungszahl_100m-Gitter.csv")
    whole = read_theme_file(path, bbox=None).cells
    chunked = read_theme_file(path, bbox=None, chunk_rows=2).cells
    pd.testing.assert_frame_equal(whole, chunked)
    broken = write(tmp_path, POP_100.replace(";100;", ";1,5;"), name="kaputt.csv")
    for box_ in (None, NRW_BBOX_3035):  # row numbers survive the Arrow pre-filter of each block
        with pytest.raises(ValidationError) as info:
            read_theme_file(broken, chunk_rows=2, bbox=box_)
        assert [(p.row, p.column) for p in info.value.problems] == [(5, "Einwohner")]
    kept = read_theme_file(path, chunk_rows=2, bbox=NRW_BBOX_3035).cells
    pd.testing.assert_frame_equal(kept, whole.iloc[:4])
    bad_xy = write(tmp_path, POP_100.replace(f";{E + 150};", ";4100150,x;"), name="xy.csv")
    with pytest.raises(ValidationError, match="Zeile 3"):
        read_theme_file(bad_xy, chunk_rows=2, bbox=NRW_BBOX_3035)


def test_fill_suppressed_by_hand() -> None:
    # 1 km total 30 children under 3; known cells 12 + 6 + 3 = 21; the secret cell gets 9
    values, estimated = fill_suppressed(
        [12, np.nan, 6, 3], [400, 300, 200, 100], ["k", "k", "k", "k"], pd.Series({"k": 30.0})
    )
    assert values.tolist() == [12, 9, 6, 3] and estimated.tolist() == [False, True, False, False]
    # two secret cells share the rest by population; no total → stays unknown, never a Kreis share
    values, estimated = fill_suppressed(
        [np.nan, np.nan, 5, np.nan], [300, 100, 50, 80], ["k", "k", "k", "m"], pd.Series({"k": 25.0})
    )
    assert (
        values[:3].tolist() == [15, 5, 5] and np.isnan(values[3]) and estimated.tolist() == [True, True, False, False]
    )


def test_import_zip_family_and_target_groups_per_cell(zips: list[Path], settings: Settings) -> None:
    from integrationsatlas.coverage import best_demand

    summary = import_zensus(zips, settings)
    assert (summary.resolution_m, summary.cells_nrw, summary.population_nrw) == (100, 4, 1000)
    assert summary.themes == ("bevoelkerung", "auslaender", "alter_infra") and summary.coarser == (1000,)
    grid = load_zensus(settings)
    parent = load_zensus_parent(settings, 1000)
    assert grid is not None and parent is not None
    groups = zensus_target_groups(grid, parent).set_index(grid["gitter_id"].to_numpy())
    # under 3: the 1 km cell has 30, the known cells 12 + 6 + 3 → the secret cell gets 9, labelled estimated
    second = f"CRS3035RES100mN{N}E{E + 100}"
    assert groups.loc[second, "zg_u3"] == pytest.approx(9.0)
    assert groups.loc[second, "zg_u3_quelle"] == SOURCE_ESTIMATED
    assert groups.loc[f"CRS3035RES100mN{N}E{E}", "zg_u3_quelle"] == SOURCE_CELL
    # 3–5: the 1 km cell has 20, known 5 + 3 = 8 → 12 shared by population 400 : 300
    assert groups.loc[f"CRS3035RES100mN{N}E{E}", "zg_kita_ue3"] == pytest.approx(12 * 400 / 700)
    # foreign: 1 km 200 people; known 10 + 30 + 60 = 100; the secret cell (200 people) gets the other 100
    assert groups["zg_foreign"].sum() == pytest.approx(200.0)
    demand = best_demand(settings, "u3")
    assert demand.target_group.label == "Kinder unter 3 (Kita U3)"
    assert demand.total_weight == pytest.approx(30.0)
    assert set(demand.points["resolution"]) == {"zensus_100m"}
    assert "weight_quelle" in demand.points.columns
    foreign = best_demand(settings, "foreign")
    assert foreign.target_group.label == "Ausländerinnen und Ausländer (Zensus 2022 je Gitterzelle)"
    assert foreign.total_weight == pytest.approx(200.0)


def test_secret_without_parent_is_labelled_not_guessed(zips: list[Path]) -> None:
    fine = read_zensus(zips[1:2] + zips[0:1])[100].cells.assign(resolution_m=100)
    fine = fine.rename(columns={"x": "x3035", "y": "y3035"})
    groups = zensus_target_groups(fine)
    secret = groups["zg_foreign_quelle"] == SOURCE_SECRET
    assert secret.sum() == 1 and groups.loc[secret, "zg_foreign"].tolist() == [0.0]


def test_concentrated_foreign_population_moves_the_ranking() -> None:
    """Two neighbourhoods in one Kreis: »Nord« has more people, »Süd« far more foreigners.

    With the Kreis-wide share (Regionalatlas) the ranking follows the population (Nord first); with the
    Zensus share per cell it turns (Süd first).
    """
    cells = gpd.GeoDataFrame(
        {
            "population": [900.0, 800.0, 300.0, 250.0],
            "anteil_auslaender": [4.0, 5.0, 55.0, 60.0],
            "quartier": ["Nord", "Nord", "Süd", "Süd"],
            "kreis_ags": ["05111"] * 4,
            "resolution_m": 100,
            "x3035": [E + 50, E + 150, E + 50, E + 150],
            "y3035": [N + 950, N + 950, N + 50, N + 50],
        },
        geometry=gpd.points_from_xy([345_000, 345_100, 345_000, 345_100], [5_680_900] * 2 + [5_680_000] * 2),
        crs="EPSG:25832",
    )
    demand = demand_from_grid(cells.join(zensus_target_groups(cells)))
    per_cell = apply_target_group(demand, "foreign").groupby("quartier")["weight"].sum()
    kreis_share = (
        (demand["population"] * (per_cell.sum() / demand["population"].sum())).groupby(demand["quartier"]).sum()
    )
    assert kreis_share.idxmax() == "Nord"
    assert per_cell.idxmax() == "Süd"
    assert per_cell.to_dict() == pytest.approx({"Nord": 36.0 + 40.0, "Süd": 165.0 + 150.0})


def test_secret_population_cells_are_estimated_from_the_1km_cell(tmp_path: Path, settings: Settings) -> None:
    from integrationsatlas.coverage import best_demand

    fine = POP_100.replace(f"{cell(1, 1)};100;", f"{cell(1, 1)};–;")
    path = zipped(
        tmp_path,
        "Zensus2022_Bevoelkerungszahl.zip",
        {"Zensus2022_Bevoelkerungszahl_100m-Gitter.csv": fine, "Zensus2022_Bevoelkerungszahl_1km-Gitter.csv": POP_1KM},
    )
    summary = import_zensus(path, settings)
    assert (summary.population_nrw, summary.suppressed_nrw) == (900, 1)
    demand = best_demand(settings)
    assert demand.total_population == 1000.0  # 1 km total 1000 − known 900 → the secret cell holds 100
    secret = demand.points[demand.points["zg_total_quelle"] == SOURCE_ESTIMATED]
    assert secret["population"].tolist() == [100.0]


def test_ragged_rows_and_unknown_themes_are_named(tmp_path: Path) -> None:
    ragged = write(tmp_path, POP_100.replace(f"{cell(1, 0)};200;", f"{cell(1, 0)};200;x;y;"), name="ragged.csv")
    with pytest.raises(DataError, match=r"ragged\.csv: nicht lesbar"):
        read_theme_file(ragged)
    other = write(
        tmp_path,
        f"GITTER_ID_100m;x_mp_100m;y_mp_100m;Insgesamt_Wohnungen\n{cell(0, 0)};3\n",
        name="Zensus2022_Wohnungen_100m-Gitter.csv",
    )
    with pytest.raises(SchemaError, match="Einwohner \\(oder AnteilAuslaender"):
        read_zensus(other)


# --- themes in separate calls (issue 19, item 8) ---------------------------------------------------


def _demand_table(settings: Settings, group: str) -> pd.DataFrame:
    from integrationsatlas.coverage import best_demand

    demand = best_demand(settings, group)
    points = pd.DataFrame(demand.points.drop(columns="geometry"))
    keep = [c for c in ("gitter_id", "population", "weight", "weight_quelle", "resolution") if c in points]
    return points[keep].sort_values("gitter_id").reset_index(drop=True)


@pytest.mark.parametrize("order", ["population_first", "foreign_first"])
def test_themes_in_separate_calls_give_the_same_demand_as_one_call(
    zips: list[Path], tmp_path: Path, order: str
) -> None:
    """Population grid and foreign-share grid imported in two calls (either order) = one call with both."""
    population, foreign = zips[0], zips[1]
    one = Settings().with_home(tmp_path / "one")
    two = Settings().with_home(tmp_path / "two")
    import_zensus([population, foreign], one)
    first, second = (population, foreign) if order == "population_first" else (foreign, population)
    summary = import_zensus(first, two)
    if order == "foreign_first":  # stored, waiting for the population; the demand does not use it yet
        assert summary.notes and "fehlt noch die Einwohnerzahl" in summary.notes[0]
        assert load_zensus(two) is None
    summary = import_zensus(second, two)
    assert summary.themes == ("bevoelkerung", "auslaender") and summary.coarser == (1000,)
    assert not summary.notes
    for group in ("total", "foreign"):
        pd.testing.assert_frame_equal(_demand_table(two, group), _demand_table(one, group))
    grid_one, grid_two = load_zensus(one), load_zensus(two)
    assert grid_one is not None and grid_two is not None
    columns = sorted(c for c in grid_one.columns if c != "batch_id")
    assert sorted(c for c in grid_two.columns if c != "batch_id") == columns
    pd.testing.assert_frame_equal(
        pd.DataFrame(grid_two[columns]).sort_values("gitter_id").reset_index(drop=True),
        pd.DataFrame(grid_one[columns]).sort_values("gitter_id").reset_index(drop=True),
        check_dtype=False,
    )
    parent_one, parent_two = load_zensus_parent(one, 1000), load_zensus_parent(two, 1000)
    assert parent_one is not None and parent_two is not None
    assert parent_two["anteil_auslaender"].tolist() == parent_one["anteil_auslaender"].tolist() == [20.0]


def test_a_theme_imported_later_replaces_its_columns_and_keeps_the_others(zips: list[Path], tmp_path: Path) -> None:
    settings = Settings().with_home(tmp_path / "home")
    import_zensus(zips, settings)
    newer = zipped(
        tmp_path,
        "Zensus2022_Auslaenderanteil_neu.zip",
        {"Zensus2022_Auslaenderanteil_in_Gitterzellen_100m-Gitter.csv": FOREIGN_100.replace(";2,5;", ";7,5;")},
    )
    summary = import_zensus(newer, settings)
    assert summary.themes == ("bevoelkerung", "auslaender", "alter_infra")
    grid = load_zensus(settings)
    assert grid is not None
    first = grid.set_index("gitter_id").loc[f"CRS3035RES100mN{N}E{E}"]
    assert first["anteil_auslaender"] == pytest.approx(7.5) and first["population"] == 400 and first["unter3"] == 12
    parent = load_zensus_parent(settings, 1000)
    assert parent is not None and parent["anteil_auslaender"].tolist() == [20.0]  # untouched


def test_a_finer_population_grid_moves_the_coarser_one_aside(zips: list[Path], tmp_path: Path) -> None:
    settings = Settings().with_home(tmp_path / "home")
    coarse = zipped(tmp_path, "Zensus2022_Bevoelkerungszahl_1km.zip", {"Zensus2022_1km.csv": POP_1KM})
    import_zensus(coarse, settings)
    grid = load_zensus(settings)
    assert grid is not None and set(grid["resolution_m"]) == {1000}
    fine = zipped(tmp_path, "Zensus2022_Bevoelkerungszahl_100m.zip", {"Zensus2022_100m.csv": POP_100})
    summary = import_zensus(fine, settings)
    assert (summary.resolution_m, summary.coarser) == (100, (1000,))
    grid, parent = load_zensus(settings), load_zensus_parent(settings, 1000)
    assert grid is not None and set(grid["resolution_m"]) == {100} and len(grid) == 4
    assert parent is not None and parent["population"].tolist() == [1000]


def test_the_streaming_box_holds_all_of_nrw(settings: Settings) -> None:
    """Cells of the far north (Minden-Lübbecke reaches 3,270 km N in EPSG:3035) are not cut while streaming."""
    from geo.units import load_boundaries

    minx, miny, maxx, maxy = load_boundaries("gemeinde", settings).to_crs("EPSG:3035").total_bounds
    x0, y0, x1, y1 = NRW_BBOX_3035
    assert x0 < minx and y0 < miny and maxx < x1 and maxy < y1
