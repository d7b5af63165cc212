"""Issue 23 on the embedded data (no ../shared needed): costs, frontier and intervals in ``sites``/``coverage --json``.

The embedded demand (Gemeinde population, official totals) has no documented noise: every interval is the figure
itself, which is what the JSON must then say. The site costs are test assumptions, not a council's figures.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from json_shares import assert_every_share_has_its_interval

from geo.formatting import de_int, de_share
from integrationsatlas.cli import main

AREA = "05334"  # Städteregion Aachen
YEARLY, ONE_OFF = 12_000.0, 5_000.0


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "home"
    monkeypatch.setenv("INTEGRATIONSATLAS_HOME", str(home))
    return home


def run_json(capsys: pytest.CaptureFixture[str], *argv: str) -> Any:
    code = main([*argv, "--json"])
    out, err = capsys.readouterr()
    assert code == 0, err
    return json.loads(out)


def test_sites_json_costs_are_yearly_cost_over_newly_reached_people(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    plan = run_json(
        capsys, "sites", "--area", AREA, "--radius-km", "5", "-p", "2", "--site-cost", str(YEARLY),
        "--one-off-cost", str(ONE_OFF), "--frontier", "3", "--programme", "kim", "--no-sensitivity",
    )  # fmt: skip
    costs, summary = plan["costs"], plan["summary"]
    n_new = summary["n_new"]
    assert n_new == 2
    # hand: no existing site, so everyone the plan reaches is newly reached
    assert summary["covered_before"] == 0
    assert costs["newly_reached"] == pytest.approx(summary["covered_after"])
    assert costs["yearly_total"] == pytest.approx(n_new * YEARLY)
    assert costs["one_off_total"] == pytest.approx(n_new * ONE_OFF)
    assert costs["eur_per_newly_reached"] == pytest.approx(n_new * YEARLY / costs["newly_reached"])
    assert sum(r["gain"] for r in costs["per_site"]) == pytest.approx(costs["newly_reached"])
    for r in costs["per_site"]:
        assert r["eur_per_gain"] == pytest.approx(YEARLY / r["gain"])
        assert r["land"] + r["municipal"] == pytest.approx(r["yearly"])  # the programme splits, never adds
    assert costs["municipal_eur_per_newly_reached"] == pytest.approx(costs["municipal_yearly"] / costs["newly_reached"])
    frontier = plan["frontier"]["points"]
    assert any(p["cost"] == pytest.approx(n_new * YEARLY) for p in frontier)  # the plan's own budget
    covered = [p["covered"] for p in frontier]
    assert covered == sorted(covered)
    for p in frontier:
        assert p["cost"] <= p["budget"] + 1e-6
        assert p["eur_per_newly_reached"] == pytest.approx(p["cost"] / p["newly_reached"])
    own = next(p for p in frontier if p["cost"] == pytest.approx(n_new * YEARLY))
    assert own["covered"] >= summary["covered_after"] - 1e-6  # the plan never lies above the frontier


def test_every_share_of_coverage_json_has_an_interval_even_without_noise(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    report = run_json(capsys, "coverage", "--area", AREA, "--by", "gemeinde", "--layer", "ki", "--threshold-km", "15")
    assert_every_share_has_its_interval(report, at_least=10)
    overall = report["overall"]["share_covered_interval"]
    assert overall["low"] == overall["high"] == report["overall"]["share_covered"]  # official totals: no noise
    assert "ohne dokumentiertes Rauschen" in overall["text"]


def test_kita_places_without_noise_have_intervals_and_never_exceed_reach(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from geo.layers.loading import load_layer
    from geo.settings import Settings
    from geo.store import DataStore

    settings = Settings().with_home(home)
    ki = load_layer("ki", settings)  # synthetic Kitas: the positions of the embedded KI offices, 10 places each
    kitas = ki[["geometry"]].assign(id=[f"test-{i}" for i in range(len(ki))], name="Test-Kita", plaetze=10)
    DataStore(settings.store_path).write_layer(
        "kita", kitas, mode="append", source_file="t.csv", source="Test", licence="-"
    )
    report = run_json(
        capsys, "coverage", "--area", AREA, "--by", "gemeinde", "--layer", "kita", "--threshold-km", "15",
        "--place-share", "0.05",
    )  # fmt: skip
    places = report["places"]
    assert places["covered"] <= places["covered_uncapacitated"]
    # hand: the Kitas in reach of the Städteregion have 10 places each, far fewer than 5 % of its residents
    in_reach = places["sites"]
    assert places["covered"] == pytest.approx(10 * sum(1 for s in in_reach if s["load"] > 0))
    assert_every_share_has_its_interval(report, at_least=12)
    assert places["share_interval"]["low"] == places["share_interval"]["high"] == places["share"]


def test_robust_plan_over_closures_reports_worst_and_mean_of_its_variants(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    plan = run_json(
        capsys, "sites", "--area", AREA, "--layer", "ki", "--radius-km", "5", "-p", "2", "--variants-closures", "2",
        "--robust", "worst", "--no-sensitivity",
    )  # fmt: skip
    v = plan["variants"]
    assert plan["summary"]["method"] == "highs-benders-robust"
    assert len(v["variants"]) == 3 and v["kinds"][0] == "Grundfall"
    covered = [x["covered"] for x in v["variants"]]
    assert v["worst"] == pytest.approx(min(covered))  # by hand from the variants
    assert v["mean"] == pytest.approx(sum(covered) / len(covered))
    assert all(1 <= n <= 3 for n in v["frequency"]["counts"].values())
    assert all(own >= c - 1e-6 for own, c in zip(v["own_covered"], covered, strict=True))  # each solved alone


def test_a_robust_plan_says_that_its_curve_over_p_is_for_the_entered_demand(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # the curve over p and the frontier are solved without the variants: at the plan's p the curve's plan may reach
    # more than the robust one, and the plan says so with both figures (here they are equal: robustness is free)
    plan = run_json(
        capsys, "sites", "--area", AREA, "--layer", "ki", "--radius-km", "5", "-p", "2", "--variants-closures", "2",
        "--robust", "worst", "--site-cost", str(YEARLY), "--frontier", "3", "--save", "robust",
    )  # fmt: skip
    at_p = next(r for r in plan["sensitivity"] if r["p_new"] == 2 and r["radius"] == 5.0)
    assert at_p["covered_share"] >= plan["summary"]["share_after"] - 1e-9
    assert (
        "Die Kurve über p und die Budget-Grenze sind ohne Varianten gerechnet, für die eingegebene Nachfrage allein: "
        "der dafür beste Plan "
        f"mit 2 neuen Standorten erreicht {de_share(at_p['covered_share'])}, der robuste Plan ebenso viel: die "
        "Robustheit kostet hier nichts."
    ) in plan["notes"]
    report = home.parent / "bericht.html"  # the report's frontier chart says it under the chart
    assert main(["report", "--area", AREA, "--layer", "ki", "--scenario", "robust", "-o", str(report)]) == 0
    assert "Die Grenze ist ohne Varianten gerechnet, für die eingegebene Nachfrage allein" in report.read_text("utf-8")


def test_a_robust_plan_names_no_frontier_when_there_is_none_to_draw(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # at 60 km Aachen's two KI already reach every resident: a frontier is asked for, but nothing is left to buy,
    # so the costs say why there is none and the robustness note speaks of the curve over p alone
    plan = run_json(
        capsys, "sites", "--area", AREA, "--layer", "ki", "--radius-km", "60", "-p", "1", "--variants-closures", "2",
        "--robust", "worst", "--site-cost", str(YEARLY), "--frontier", "3",
    )  # fmt: skip
    assert plan.get("frontier") is None
    assert any(n.startswith("Keine Budget-Grenze") for n in plan["costs"]["notes"])
    robustness = [n for n in plan["notes"] if "ohne Varianten gerechnet" in n]
    assert robustness == [
        "Die Kurve über p ist ohne Varianten gerechnet, für die eingegebene Nachfrage allein: der dafür beste Plan "
        "mit einem neuen Standort erreicht 100,0 %, der robuste Plan ebenso viel: die Robustheit kostet hier nichts."
    ]


def test_the_frontier_in_words_counts_one_site_in_the_singular(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # the first budget buys one site: »1 neue Standorte« was printed
    args = ["sites", "--area", AREA, "--radius-km", "5", "-p", "2", "--site-cost", str(YEARLY), "--frontier", "3"]
    assert main([*args, "--no-sensitivity"]) == 0
    lines = [line for line in capsys.readouterr().out.splitlines() if line.strip().startswith("Budget ")]
    assert lines and lines[0].endswith("erreicht, 1 neuer Standort, optimal"), lines
    assert all(" 1 neue Standorte" not in line for line in lines)
    # the plan's own budget, added to the frontier, is marked as the chart's diamond marks it
    own = [line for line in lines if line.endswith("← Kosten dieses Plans")]
    assert len(own) == 1 and own[0].split()[1] == de_int(2 * YEARLY), lines  # two sites at 12.000 € each


def test_variants_that_cannot_be_built_are_named_with_their_reason(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # official totals have no documented noise (no demand variants); Aachen has 2 KI, so 2 of 5 closures
    plan = run_json(
        capsys, "sites", "--area", AREA, "--layer", "ki", "--radius-km", "5", "-p", "2", "--variants-demand", "3",
        "--variants-closures", "5", "--no-sensitivity",
    )  # fmt: skip
    v = plan["variants"]
    assert v["kinds"] == ["Grundfall", "Schließung von Standorten", "Schließung von Standorten"]
    assert v["notes"] == [
        "Keine der 3 Nachfragevarianten: die Nachfrage beruht auf amtlichen Summen ohne dokumentiertes Rauschen. "
        "Varianten entstehen aus dem Zensus-Gitter (Cell-Key-Verfahren) oder der Schätzung aus OSM-Gebäuden.",
        "Nur 2 statt 5 Schließungsvarianten: so viele bestehende Standorte hat der Plan.",
    ]
    assert v["text"].endswith(" ".join(v["notes"]))
    without = run_json(
        capsys, "sites", "--area", AREA, "--radius-km", "5", "-p", "2", "--variants-closures", "2", "--no-sensitivity"
    )["variants"]  # fmt: skip
    assert without["kinds"] == ["Grundfall"]
    assert without["notes"] == [
        "Keine der 2 Schließungsvarianten: der Plan hat keine bestehenden Standorte, die schließen könnten "
        "(»Bestehende Standorte (bleiben offen)« wählen)."
    ]


def test_a_frontier_with_nothing_left_to_buy_is_named_and_the_plan_stands(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # the KI in and around the Städteregion already reach everyone within 50 km: no budget buys anyone more
    # (Kreis Höxter's 29 OGS at 5 km ended the whole command with »Fehler: Kein Budget …«)
    plan = run_json(
        capsys, "sites", "--area", AREA, "--layer", "ki", "--radius-km", "50", "-p", "1", "--site-cost", str(YEARLY),
        "--frontier", "4", "--no-sensitivity", "--save", "alles erreicht",
    )  # fmt: skip
    assert plan["summary"]["n_fixed"] >= 2 and plan["summary"]["share_before"] == 1.0
    assert plan["frontier"] is None
    note = (
        "Keine Budget-Grenze: kein neuer Standort erreicht jemanden, den die bestehenden Standorte nicht schon "
        "erreichen – mehr Geld erreicht hier niemanden zusätzlich."
    )
    assert plan["costs"]["notes"][-1] == note
    report = home.parent / "bericht.html"  # the council report says it too
    assert main(["report", "--area", AREA, "--layer", "ki", "--scenario", "alles erreicht", "-o", str(report)]) == 0
    assert note in report.read_text(encoding="utf-8")


def test_the_committee_table_shows_no_interval_for_official_totals(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # »90.412 Personen (90 %-Intervall 90.412–90.412)« stood beside each site: official totals have no interval,
    # and the coverage tables already leave the column out for them
    from geo.settings import Settings
    from geo.store.scenarios import load_scenario
    from integrationsatlas.report.decisions import scenario_tables
    from integrationsatlas.scenarios import scenario_request
    from integrationsatlas.siting import plan_sites
    from ui.decision_views import decision_sites_table

    args = ["sites", "--area", AREA, "--radius-km", "5", "-p", "2", "--site-cost", str(YEARLY), "--no-sensitivity"]
    assert main([*args, "--save", "Zwei"]) == 0
    capsys.readouterr()
    scenario = load_scenario(Settings.from_env(), "Zwei")
    committee = scenario_tables(scenario)[0]
    assert "neu erreicht" in committee.columns and "neu erreicht (Intervall)" not in committee.columns
    gains = [row[committee.columns.index("neu erreicht")] for row in committee.rows]
    assert len(gains) == 2 and all("Intervall" not in g and g.replace(".", "").isdigit() for g in gains), gains

    plan = plan_sites(Settings.from_env(), scenario_request(scenario))  # the page's plan of the same question
    assert plan.decisions is not None and plan.decisions.intervals is not None
    assert not plan.decisions.intervals.uncertainty.varied
    table = decision_sites_table(plan)
    assert "Neu erreicht" in table.columns and "Neu erreicht (Intervall)" not in table.columns
    assert [de_int(x) for x in table["Neu erreicht"]] == gains  # page and report give the same figure


def test_a_report_on_a_plan_for_the_first_sites_of_a_kind_says_which_layer_to_take(
    home: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    # Kreis Borken has no Ankommens-Treffpunkt yet: »report --layer ankommenstreffpunkt --scenario …« only said
    # that the layer is empty, not how to get the report on the plan for the first ones
    args = ["sites", "--area", AREA, "--radius-km", "5", "-p", "2", "--no-sensitivity", "--save", "Erste"]
    assert main(args) == 0
    capsys.readouterr()
    report = ["report", "--area", AREA, "--scenario", "Erste", "-o", str(tmp_path / "b.html")]
    assert main([*report, "--layer", "ankommenstreffpunkt"]) != 0
    err = capsys.readouterr().err
    assert "enthält keine Einrichtungen" in err and "(z. B. --layer ki)" in err and "»Erste«" in err, err
    assert main([*report, "--layer", "ki"]) == 0  # the way it names
    assert (tmp_path / "b.html").is_file()
