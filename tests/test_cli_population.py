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
