"""The ``zensus`` subcommand makes the grid the demand level in use."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from geo.settings import Settings
from integrationsatlas import cli
from integrationsatlas.coverage import best_demand

# Three 1 km cells in Düsseldorf (EPSG:3035 centres) and one outside NRW (Munich); one suppressed.
CSV = (
    "GITTER_ID_1km;x_mp_1km;y_mp_1km;Einwohner\n"
    "CRS3035RES1000mN3122000E4100000;4100500;3122500;1200\n"
    "CRS3035RES1000mN3123000E4100000;4100500;3123500;–\n"
    "CRS3035RES1000mN3122000E4101000;4101500;3122500;800\n"
    "CRS3035RES1000mN2800000E4400000;4400500;2800500;5000\n"
)


def test_zensus_import_via_cli_becomes_best_demand(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    home = tmp_path / "home"
    monkeypatch.setenv("INTEGRATIONSATLAS_HOME", str(home))
    path = tmp_path / "Zensus2022_Bevoelkerungszahl_1km-Gitter.csv"
    path.write_text(CSV, encoding="utf-8")
    assert cli.main(["zensus", str(path), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["cells_nrw"] == 3
    assert out["population_nrw"] == 2000
    assert out["suppressed_nrw"] == 1
    demand = best_demand(Settings().with_home(home))
    assert demand.level == "zensus"
    assert demand.points["population"].sum() == 2000


def test_zensus_import_of_a_broken_file_exits_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("INTEGRATIONSATLAS_HOME", str(tmp_path / "home"))
    path = tmp_path / "kaputt.csv"
    path.write_text("a;b\n1;2\n", encoding="utf-8")
    assert cli.main(["zensus", str(path)]) == 2
    assert "kaputt.csv" in capsys.readouterr().err
