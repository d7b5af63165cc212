"""Siting in a real Kreis (Borken, AGS 05554) with the shared Gemeinden, their population and the NRW schools."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from app_data import build_planner_home

from geo.settings import Settings
from integrationsatlas import areas
from integrationsatlas.cli import main

pytestmark = [pytest.mark.shared, pytest.mark.slow]
BORKEN = "05554"


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory, shared_data: Path) -> Path:
    """The shared Gemeinden, their population and the 2,787 Grundschulen (as OGS), imported as a planner would."""
    return build_planner_home(tmp_path_factory.mktemp("borken") / "home", shared_data)


@pytest.fixture
def cfg(home: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setenv("INTEGRATIONSATLAS_HOME", str(home))
    return Settings().with_home(home)


def test_sites_beyond_the_area_lie_in_their_own_gemeinde_and_count_for_none_of_the_area(
    cfg: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    # Kreis Borken, KI within 10 km: the KI of Kreis Coesfeld and Kreis Steinfurt stay open as existing sites. Their
    # Gemeinde was taken from the nearest demand point, Legden and Schöppingen, and »at least one site per Gemeinde«
    # counted them there: 14 new sites passed for 16 Gemeinden without a KI.
    argv = ["sites", "--area", BORKEN, "--layer", "ki", "--radius-km", "10", "--min-per-gemeinde", "1"]
    argv += ["--no-sensitivity", "--json"]
    assert main([*argv, "-p", "14"]) == 2  # a request the data cannot satisfy
    assert "verlangt mindestens 16 neue Standorte neben den festen (3), geplant sind 14" in capsys.readouterr().err
    assert main([*argv, "-p", "16"]) == 0
    sites = json.loads(capsys.readouterr().out)["sites"]
    fixed = {s["name"]: s["gemeinde_ags"] for s in sites if s["fixed"]}
    assert fixed == {
        "Kommunales Integrationszentrum Kreis Borken": "05554012",
        "Kommunales Integrationszentrum Kreis Coesfeld": "05558012",
        "Kommunales Integrationszentrum Kreis Steinfurt": "05566084",
    }
    gemeinden = areas.gemeinde_table(cfg, ()).query("ags.str.startswith(@BORKEN)")["ags"]
    new = {s["gemeinde_ags"] for s in sites if not s["fixed"]}
    assert new | {"05554012"} == set(gemeinden) and len(gemeinden) == 17


def test_schools_with_one_name_are_told_apart_by_their_ort(cfg: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    # three »Josefschule« in Kreis Borken: »der beste Ersatz wäre Josefschule« named none of them
    argv = ["sites", "--area", BORKEN, "--layer", "ki", "--radius-km", "5", "-p", "3", "--no-sensitivity", "--json"]
    assert main(argv) == 0
    plan = json.loads(capsys.readouterr().out)
    assert "Josefschule (Ahaus)" in {s["name"] for s in plan["sites"]}
    said = " ".join([s["name"] for s in plan["sites"]] + [m["reason"] for m in plan["margins"]])
    assert not re.search(r"Josefschule(?! \()", said), said
