"""End to end: ``integrationsatlas sites`` and ``integrationsatlas scenarios`` on the embedded data.

Done-when of issue 5: for a Kreis, the best 5 new Treffpunkt sites with the existing
sites kept, why each was chosen, saved as a scenario and compared with a 3-site plan.
"""

from __future__ import annotations

import itertools
import json
import re
from pathlib import Path
from typing import Any

import geopandas as gpd
import pytest
from shapely.geometry import Point

from geo.layers.loading import load_layer
from geo.settings import Settings
from integrationsatlas.cli import main

AREA = "05334"  # Städteregion Aachen


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An isolated data store with one existing (synthetic) Treffpunkt in the Städteregion."""
    home = tmp_path / "home"
    monkeypatch.setenv("INTEGRATIONSATLAS_HOME", str(home))
    settings = Settings().with_home(home)
    ki = load_layer("ki", settings)
    seat: Point = ki.loc[ki["kreis_ags"] == AREA].geometry.iloc[0]
    treff = gpd.GeoDataFrame(
        {
            "id": ["test-1", "test-2"],
            "name": ["Test-Treffpunkt bestehend", "Test-Treffpunkt geplant"],
            "kreis_ags": [AREA, AREA],
            "status": ["bestehend", "geplant"],
        },
        geometry=[seat, Point(seat.x + 4000, seat.y)],
        crs="EPSG:25832",
    )
    from geo.store import DataStore

    DataStore(settings.store_path).write_layer(
        "ankommenstreffpunkt", treff, mode="append", source_file="test.csv", source="Test", licence="-"
    )
    return home


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, Any, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, (json.loads(out) if "--json" in argv and code == 0 else out), err


@pytest.mark.slow
def test_five_sites_explained_saved_and_compared(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, plan5, err = run(
        capsys,
        "sites",
        "--model",
        "mclp",
        "--area",
        AREA,
        "-p",
        "5",
        "--radius-km",
        "5",
        "--fixed-layer",
        "ankommenstreffpunkt",
        "--save",
        "Aachen 5",
        "--json",
    )
    assert code == 0, err
    summary = plan5["summary"]
    assert summary["status"] in ("optimal", "Optimal")
    assert summary["n_new"] == 5 and summary["n_fixed"] == 1  # the planned one is not fixed
    assert summary["gap"] is not None and summary["gap"] <= 1e-6
    assert 0.0 < summary["share_before"] < summary["share_after"] <= 1.0
    sites = plan5["sites"]
    fixed = [s for s in sites if s["fixed"]]
    new = [s for s in sites if not s["fixed"]]
    assert [s["name"] for s in fixed] == ["Test-Treffpunkt bestehend"]
    assert [s["order"] for s in new] == [1, 2, 3, 4, 5]
    gains = [s["marginal_gain"] for s in new]
    assert gains == sorted(gains, reverse=True) and gains[-1] > 0
    assert sum(gains) == pytest.approx(summary["covered_after"] - summary["covered_before"])
    for s in new:
        assert s["reason"].startswith(f"{s['order']}. ") and "erreicht zusätzlich" in s["reason"]
        assert s["runner_ups"] and 5.9 < s["lon"] < 6.5 and 50.4 < s["lat"] < 51.0
    assert plan5["coverage_by_kreis"][0]["kreis_ags"] == AREA
    curve = plan5["sensitivity"]
    shares = [row["covered_share"] for row in curve]
    assert [row["p_new"] for row in curve] == list(range(9))  # 0 new sites = existing only
    assert all(b >= a - 1e-9 for a, b in itertools.pairwise(shares))
    assert shares[0] == pytest.approx(summary["share_before"])
    assert shares[5] == pytest.approx(summary["share_after"])
    assert plan5["inputs"]["demand_level"] and plan5["saved_as"] == "Aachen 5"

    code, plan3, err = run(
        capsys,
        "sites",
        "--area",
        AREA,
        "-p",
        "3",
        "--radius-km",
        "5",
        "--save",
        "Aachen 3",
        "--no-sensitivity",
        "--json",
    )
    assert code == 0, err
    assert plan3["summary"]["n_new"] == 3
    assert plan3["summary"]["share_after"] <= summary["share_after"] + 1e-9
    assert plan3["summary"]["share_after"] == pytest.approx(shares[3])  # same model as the curve

    code, listed, err = run(capsys, "scenarios", "list", "--json")
    assert code == 0, err
    assert sorted(r["name"] for r in listed) == ["Aachen 3", "Aachen 5"]

    code, shown, err = run(capsys, "scenarios", "show", "Aachen 5", "--json")
    assert code == 0, err
    assert shown["area"] == {"ags": AREA, "name": plan5["area"]["name"]}
    assert [s["candidate_id"] for s in shown["sites"]] == [s["candidate_id"] for s in sites]
    assert shown["parameters"]["siting"]["p"] == 5 and shown["results"]["share_after"] == summary["share_after"]

    code, cmp_, err = run(capsys, "scenarios", "compare", "Aachen 3", "Aachen 5", "--json")
    assert code == 0, err
    assert cmp_["a"]["n_new"] == 3 and cmp_["b"]["n_new"] == 5
    rows = cmp_["by_gemeinde"]
    assert sum(r["sites_new_a"] for r in rows) == 3 and sum(r["sites_new_b"] for r in rows) == 5
    assert all(r["difference"] is None or r["difference"] >= -1e-9 for r in rows)
    verdict = plan3["summary"]["resolution"]  # a plan from too coarse demand is rough per Gemeinde, too
    assert cmp_["a"]["rough"] == (None if verdict["ok"] else verdict["message"])

    # the text outputs work as well
    code, text, err = run(capsys, "scenarios", "compare", "Aachen 3", "Aachen 5")
    assert code == 0 and "B−A" in text
    assert ("nur grobe Näherung, auch je Gemeinde" in text) == (not verdict["ok"])
    assert "Verschiedene Fragen" not in text and cmp_["question_differences"] == []  # same question, other p
    code, text, err = run(capsys, "sites", "--area", AREA, "-p", "2", "--radius-km", "5", "--no-sensitivity")
    assert code == 0 and "1. " in text and "Abdeckung vorher" in text
    assert ("nächsten Standort in km – nur grobe Näherung, siehe oben:" in text) == (not verdict["ok"]), text
    assert re.search(r"Zielwert \d{1,3}(\.\d{3})*,\d,", text), text  # German figures, not »74092.0«
    code, text, err = run(capsys, "scenarios", "show", "Aachen 3")
    assert code == 0 and re.search(r"Zielwert \d{1,3}(\.\d{3})*,\d,", text), text


@pytest.mark.slow
def test_saving_an_existing_name_needs_overwrite(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = ("sites", "--area", AREA, "-p", "1", "--radius-km", "5", "--no-sensitivity", "--save", "Plan")
    assert run(capsys, *args)[0] == 0
    code, _, err = run(capsys, *args)
    assert code == 2 and "Szenario »Plan« gibt es schon" in err
    assert run(capsys, *args, "--overwrite")[0] == 0


@pytest.mark.slow
def test_lscp_and_pmedian(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, lscp, err = run(
        capsys, "sites", "--model", "lscp", "--area", AREA, "--radius-km", "8", "--no-sensitivity", "--json"
    )
    assert code == 0, err
    assert lscp["summary"]["share_after"] == pytest.approx(1.0)  # every demand point lies near a candidate
    code, pmed, err = run(
        capsys,
        "sites",
        "--model",
        "pmedian",
        "--area",
        AREA,
        "-p",
        "3",
        "--radius-km",
        "5",
        "--no-sensitivity",
        "--json",
    )
    assert code == 0, err
    s = pmed["summary"]
    assert s["n_new"] == 3 and s["cost_after"] <= s["objective"] * (1 + 1e-6)


def test_budget_is_a_constraint(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = (
        "sites",
        "--area",
        AREA,
        "--radius-km",
        "5",
        "--budget",
        "20000",
        "--site-cost",
        "10000",
        "--no-sensitivity",
        "--json",
    )
    code, plan, err = run(capsys, *args, "-p", "2")  # the existing site costs nothing new
    assert code == 0, err
    assert plan["summary"]["n_new"] == 2
    code, _, err = run(capsys, *args, "-p", "3")
    assert code == 2 and "Budget" in err and "20.000" in err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (("sites", "--area", "09162", "-p", "2", "--radius-km", "5"), "kein NRW-Gebietsschlüssel"),
        (("sites", "--area", "05999", "-p", "2", "--radius-km", "5"), "mit AGS »05999« gefunden"),
        (("sites", "--area", AREA, "-p", "2", "--minutes", "10"), "OSM-Datei"),
        (("scenarios", "show", "gibt es nicht"), "nicht gefunden"),
    ],
)
def test_user_errors_exit_2_with_german_message(
    home: Path, capsys: pytest.CaptureFixture[str], argv: tuple[str, ...], message: str
) -> None:
    code, _, err = run(capsys, *argv)
    assert code == 2
    assert message in err


@pytest.mark.slow
def test_walking_time_on_the_aachen_extract(
    home: Path, capsys: pytest.CaptureFixture[str], aachen_osm_xml: Path
) -> None:
    code, plan, err = run(
        capsys,
        "sites",
        "--area",
        AREA,
        "-p",
        "3",
        "--minutes",
        "15",
        "--mode",
        "walk",
        "--osm",
        str(aachen_osm_xml),
        "--grid-m",
        "1000",
        "--no-sensitivity",
        "--json",
    )
    assert code == 0, err
    s = plan["summary"]
    # without a Gemeinde population the demand is the coarse GeoNames fallback: the existing Treffpunkt
    # already reaches the few demand points in the extract, so no new site would add anyone – and it says so
    assert s["n_new"] == 0 and s["share_after"] == s["share_before"]
    assert s["shortfall"].startswith("Nur 0 neue Standorte statt 3") and "feinere Nachfrage" in s["shortfall"]
    assert not any(site["name"].startswith("Raster") for site in plan["sites"])
    assert "Fahrzeit zu Fuß von Tür zu Tür" in plan["inputs"]["cost"]
    assert plan["extent"]["partial"] and any("Ausschnitt aachen.osm.bz2" in n for n in plan["notes"])


def test_request_validation_collects_all_problems(raises_matching) -> None:  # type: ignore[no-untyped-def]
    from geo.errors import DataError
    from integrationsatlas.request import AnalysisRequest, AreaRef, SitingSpec

    bad = AnalysisRequest(
        "ankommenstreffpunkt",
        10.0,
        unit="min",
        mode="boat",
        area=AreaRef("5334"),
        siting=SitingSpec(model="greedy", p=-1, budget=1000.0, min_per_gemeinde=-1),
    )
    with raises_matching(DataError, "kein NRW-Gebietsschlüssel", "Modell »greedy«", "Modus »boat«", "OSM-Datei"):
        bad.validate()
    worse = AnalysisRequest(
        "ankommenstreffpunkt", 5.0, area=AreaRef("05"), siting=SitingSpec(p=-1, budget=1000.0, min_per_gemeinde=-1)
    )
    with raises_matching(DataError, "p (Anzahl", "Kostenspalte", "Mindestzahl", "Kreis (5 Ziffern)"):
        worse.validate()
    AnalysisRequest("ankommenstreffpunkt", 1.0, area=AreaRef("05334001"), siting=SitingSpec()).validate()


def test_coverage_change_points_are_the_finest_difference_map(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from geo.store.scenarios import load_scenario
    from integrationsatlas.scenarios import CHANGE_CLASSES, coverage_change_points

    for p, name in (("3", "A3"), ("5", "B5")):
        code, _, err = run(
            capsys, "sites", "--area", AREA, "-p", p, "--radius-km", "5", "--save", name, "--no-sensitivity", "--json"
        )
        assert code == 0, err
    settings = Settings().with_home(home)
    a, b = load_scenario(settings, "A3"), load_scenario(settings, "B5")
    points = coverage_change_points(settings, a, b)
    assert points is not None
    assert points.crs.to_epsg() == 25832
    assert set(points["change"]) <= set(CHANGE_CLASSES)
    weight = points.groupby("change")["weight"].sum()
    total = points["weight"].sum()
    # the shares of the two saved plans are recovered from the points
    in_a = weight.get("in beiden versorgt", 0.0) + weight.get("nur in A versorgt", 0.0)
    in_b = weight.get("in beiden versorgt", 0.0) + weight.get("nur in B versorgt", 0.0)
    assert in_a / total == pytest.approx(a.results["share_after"])
    assert in_b / total == pytest.approx(b.results["share_after"])
    # swapping the plans swaps the one-sided classes
    swapped = coverage_change_points(settings, b, a)
    assert swapped is not None
    assert (swapped["change"] == "nur in A versorgt").sum() == (points["change"] == "nur in B versorgt").sum()
