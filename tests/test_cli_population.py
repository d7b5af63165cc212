"""``integrationsatlas population``: Gemeinde population from a plain table and from the real Destatis layout."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from geo.errors import IntegrationsatlasError
from geo.settings import Settings
from geo.sources.destatis import gemeinden_with_population
from integrationsatlas.cli import main


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    settings = Settings().with_home(tmp_path / "home")
    monkeypatch.setattr(Settings, "from_env", classmethod(lambda cls: settings))
    return settings


def test_plain_table_feeds_the_embedded_gemeinden(
    home: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    table = tmp_path / "einwohner.csv"
    table.write_text("AGS;Einwohner\n05334002;248960\n05111000;621877\n", encoding="utf-8")
    assert main(["population", str(table), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["gemeinden"] == 2 and out["population"] == 248_960 + 621_877
    gemeinden = gemeinden_with_population(home).set_index("ags")["population"]
    assert gemeinden["05334002"] == 248_960 and gemeinden["05111000"] == 621_877
    assert gemeinden.isna().sum() == 396 - 2


def test_broken_table_is_refused_with_the_file_named(
    home: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    table = tmp_path / "kaputt.csv"
    table.write_text("Name;Wert\nAachen;x\n", encoding="utf-8")
    assert main(["population", str(table)]) == 2
    assert "kaputt.csv" in capsys.readouterr().err


def test_the_real_2019_table_imports(home: Settings, shared_data: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["population", str(shared_data / "population" / "nrw_gemeinden_destatis_gv_2019.csv")]) == 0
    assert "396 Gemeinden, 17.947.221 Einwohner" in capsys.readouterr().out
    assert gemeinden_with_population(home)["population"].notna().all()


def test_the_app_action_imports_an_upload_under_its_own_name(home: Settings) -> None:
    from ui.actions import import_population

    result = import_population(home, "Einwohner_2019.csv", b"AGS;Einwohner\n05334002;248960\n")
    assert result.source_file == "Einwohner_2019.csv" and len(result.table) == 1
    assert gemeinden_with_population(home).set_index("ags").loc["05334002", "population"] == 248_960
    with pytest.raises(IntegrationsatlasError, match=r"kaputt\.csv"):
        import_population(home, "kaputt.csv", b"Name;Wert\nAachen;x\n")


def test_the_app_actions_go_through_the_cli_checks(home: Settings, tmp_path: Path) -> None:
    """The Daten page's population and Zensus uploads: the same importers and limits as the CLI. An XLSX
    bomb is refused from the ZIP directory (never unpacked), the store stays empty; Zensus themes uploaded
    one after another are joined."""
    import random

    import fuzz_population
    import fuzz_zensus

    from geo.sources.zensus import load_zensus
    from geo.store import DataStore
    from ui.actions import import_population, import_zensus_files

    bomb = fuzz_population.xlsx_bomb(tmp_path, random.Random(1), "bombe", size=220 << 20)
    with pytest.raises(IntegrationsatlasError, match=r"Einwohner\.xlsx, Teildatei xl/worksheets/sheet1\.xml"):
        import_population(home, "Einwohner.xlsx", Path(bomb.paths[0]).read_bytes())
    assert DataStore(home.store_path).batches() == []
    rng = random.Random(2)
    grid = fuzz_zensus.cells(rng, 6)
    people = fuzz_zensus.csv_text("bevoelkerung", 100, [(c, str(10 * (k + 1))) for k, c in enumerate(grid)])
    share = fuzz_zensus.csv_text("auslaender", 100, [(c, "12,5") for c in grid])
    first = import_zensus_files(home, [("Zensus2022_Auslaenderanteil_100m-Gitter.csv", share.encode())])
    assert first.notes and load_zensus(home) is None
    second = import_zensus_files(home, [("Zensus2022_Bevoelkerungszahl_100m-Gitter.csv", people.encode())])
    assert (second.cells_nrw, second.population_nrw) == (6, 210)
    assert second.themes == ("bevoelkerung", "auslaender")
    with pytest.raises(IntegrationsatlasError, match=r"kaputt\.zip"):
        import_zensus_files(home, [("kaputt.zip", b"PK\x03\x04 not a zip")])
