"""``integrationsatlas coverage`` and :func:`integrationsatlas.coverage.coverage_report` on the embedded data."""

from __future__ import annotations

import json
import re
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest

from geo.settings import Settings
from geo.statistics import kreis_indicators
from integrationsatlas.cli import main


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An isolated store for the CLI (which builds its settings from the environment)."""
    monkeypatch.setenv("INTEGRATIONSATLAS_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("INTEGRATIONSATLAS_OFFLINE", "1")
    return tmp_path / "home"


def run_json(capsys: pytest.CaptureFixture[str], *argv: str) -> dict:
    assert main(["coverage", *argv, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_ki_15_km_per_kreis(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = run_json(capsys, "--layer", "ki", "--threshold-km", "15", "--by", "kreis")
    units = out["units"]
    assert len(units) == 53
    assert {u["kreis_ags"][:2] for u in units} == {"05"}
    assert all(0.0 <= u["share_covered"] <= 1.0 and not u["no_demand"] for u in units)
    assert sorted(u["rank"] for u in units)[0] == 1
    # the demand is the official Kreis population, and the parts add up to the whole
    population = kreis_indicators(Settings.from_env())["population"]
    assert out["overall"]["population"] == pytest.approx(float(population.sum()))
    for u in units:
        assert u["population"] == pytest.approx(float(population[u["kreis_ags"]]))
    assert out["overall"]["weight_beyond"] == pytest.approx(sum(u["weight_beyond"] for u in units))
    assert 0.0 < out["overall"]["share_covered"] < 1.0
    inputs = out["inputs"]
    assert (inputs["layer"], inputs["threshold"], inputs["unit"], inputs["mode"]) == ("ki", 15.0, "km", "luftlinie")
    assert inputs["demand_level"] == "orte" and "Näherung" in out["demand_level_label"]
    assert "Bevölkerung" in inputs["as_of"] and "Einrichtungen" in inputs["as_of"]
    assert inputs["as_of"]["Einrichtungen"] == "11/2026"  # the KI directory's Stand, as the Daten page writes it
    # the curve reaches 15 km with the same share
    at15 = [c for c in out["curve"] if c["threshold"] == 15.0]
    assert at15 and at15[0]["share_covered"] == pytest.approx(out["overall"]["share_covered"])


def test_foreign_target_group_and_area(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = run_json(capsys, "--layer", "ki", "--threshold-km", "10", "--target-group", "foreign", "--area", "051")
    units = out["units"]
    assert units and all(u["kreis_ags"].startswith("051") for u in units)
    assert out["inputs"]["target_group"].startswith("Ausländische Bevölkerung")
    assert out["overall"]["weight"] < out["overall"]["population"]
    assert out["inputs"]["area"] == "051"


def test_text_output_and_land(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["coverage", "--layer", "ki", "--threshold-km", "15", "--by", "land"]) == 0
    text = capsys.readouterr().out
    assert "Schwelle 15 km (Luftlinie)" in text
    assert "Nordrhein-Westfalen" in text
    assert "Versorgt" in text and "%" in text
    # GeoNames places (about 15 km apart) are too coarse for a 15 km question: said, not hidden
    assert "Auflösung zu grob für diese Frage" in text and "nur grobe Näherung" in text
    assert re.search(r"Größte Lücken \(.+\) – nur grobe Näherung, siehe oben:", text), text  # the units' shares too
    # one unit (the Land) has no gap score to compare: »–« with the reason, not a »0,000« that reads as »no gap«
    assert "Lückenwert: vergleicht die Gebiete untereinander" in text


def test_stored_facilities_give_hand_checkable_coverage(home: Path) -> None:
    from geo.store import DataStore
    from integrationsatlas.coverage import best_demand, coverage_report
    from integrationsatlas.request import AnalysisRequest, AreaRef

    settings = Settings.from_env()
    demand = best_demand(settings).points
    # one Kita exactly on the first demand point of Köln (05315): that point is covered at any threshold
    koeln = demand[demand["kreis_ags"] == "05315"]
    kita = gpd.GeoDataFrame(
        {"id": ["k1"], "name": ["Kita am Dom"]}, geometry=[koeln.geometry.iloc[0]], crs="EPSG:25832"
    )
    DataStore(settings.store_path).write_layer(
        "kita", kita, mode="replace", source_file="test", source="import", licence="CC0"
    )
    report = coverage_report(settings, AnalysisRequest("kita", 0.001, by="kreis", area=AreaRef("05315")))
    row = report.gaps.table.loc["05315"]
    assert row["share_covered"] == pytest.approx(koeln["weight"].iloc[0] / koeln["weight"].sum())
    assert report.n_facilities == 1
    assert list(report.gaps.table.index) == ["05315"]


def test_user_errors_exit_2_with_german_message(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["coverage", "--layer", "ki", "--threshold-min", "10", "--mode", "walk"]) == 2
    assert "OSM-Datei" in capsys.readouterr().err
    assert main(["coverage", "--layer", "kreis", "--threshold-km", "5"]) == 2
    assert "keine Einrichtungsebene" in capsys.readouterr().err
    assert main(["coverage", "--layer", "ki", "--threshold-km", "5", "--area", "06411"]) == 2
    assert "kein NRW-Gebietsschlüssel" in capsys.readouterr().err
    with pytest.raises(SystemExit):  # argparse: both thresholds
        main(["coverage", "--layer", "ki", "--threshold-km", "5", "--threshold-min", "5"])


@pytest.mark.slow
@pytest.mark.shared
def test_walking_time_coverage_of_aachen_kitas(
    home: Path, shared_data: Path, aachen_osm_xml: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from geo.store import DataStore

    raw = gpd.read_file(shared_data / "facilities" / "aachen_osm2021_facilities.geojson")
    kitas = raw[raw["amenity"] == "kindergarten"].to_crs("EPSG:25832")
    frame = gpd.GeoDataFrame(
        {"id": kitas["osm_id"].astype(str).to_numpy(), "name": kitas["name"].fillna("Kita").to_numpy()},
        geometry=kitas.geometry.to_numpy(),
        crs="EPSG:25832",
    )
    DataStore(Settings.from_env().store_path).write_layer(
        "kita", frame, mode="replace", source_file="osm", source="osm", licence="ODbL 1.0"
    )
    out = run_json(capsys, "--layer", "kita", "--threshold-min", "10", "--mode", "walk", "--osm", str(aachen_osm_xml))
    assert out["inputs"]["unit"] == "min" and out["inputs"]["mode"] == "walk"
    assert [u["kreis_ags"] for u in out["units"]] == ["05334"]
    assert 0.0 <= out["overall"]["share_covered"] <= 1.0
    assert out["extent"]["name"] == f"Ausschnitt {aachen_osm_xml.name}" and out["extent"]["partial"]
    assert any(out["extent"]["name"] in n for n in out["inputs"]["notes"])
    assert np.isfinite(out["units"][0]["cost_mean"])
