"""The decision figures in the council report, in plain German: intervals, places, costs, frontier, margins, variants.

The coverage part reads them from the :class:`~integrationsatlas.coverage.CoverageReport`
of the report's request; the scenario part from the figures the saved scenario
carries (:meth:`integrationsatlas.siting.SitingPlan.summary`, stored with it),
so a report shows what the plan computed, with the plan's own threshold.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from geo.formatting import de_count_interval, de_eur, de_int, de_number, de_share
from geo.store.scenarios import Scenario
from integrationsatlas.coverage import CoverageReport
from integrationsatlas.pipeline.budget import eur_text
from integrationsatlas.pipeline.intervals import share_text
from integrationsatlas.report.maps import chart_png
from integrationsatlas.report.model import MAP_ASPECT, MAP_DPI, MAP_WIDTH_MM, MAX_TABLE_ROWS, ReportMap, ReportTable


def coverage_figures(coverage: CoverageReport, where: str) -> list[tuple[str, str]]:
    """The interval of the covered share and the figure with places, as report figures."""
    figures: list[tuple[str, str]] = []
    if coverage.intervals is not None:
        unc = coverage.intervals.uncertainty
        figures.append(
            (
                f"Versorgt{where} mit Unsicherheit der Nachfrage",
                share_text(coverage.intervals.overall, coverage.share_covered)
                + (" – Fehlermodell angenommen" if unc.assumed else ""),
            )
        )
    if coverage.places is not None:
        p = coverage.places
        figures += [
            (f"Mit freiem Platz{where} ({p.demand_label})", share_text(p.interval, p.share, "mit Platz")),
            (
                f"In Reichweite ohne Platzgrenze{where}",
                share_text(p.interval_uncapacitated, p.share_uncapacitated, "in Reichweite"),
            ),
            (f"In Reichweite, aber ohne freien Platz{where}", f"{de_int(p.result.difference)} Personen"),
        ]
    return figures


def coverage_method(coverage: CoverageReport) -> list[str]:
    """Method paragraphs on the intervals and the places."""
    out = []
    if coverage.intervals is not None:
        unc = coverage.intervals.uncertainty
        out.append(
            "Unsicherheit: "
            + unc.label
            + ". Jede Versorgungsquote (gesamt, je Gebiet, entlang der Kurve) wird mit jeder Stichprobe neu "
            "gerechnet; das Intervall ist der mittlere Bereich dieser Werte. Es sagt, wie sehr die Zahl an den "
            "dokumentierten Fehlern der Nachfragequelle hängt (Zensus: Cell-Key-Überlagerung und geheim gehaltene "
            "Zellen; OSM-Schätzung: Verteilung der Gemeindebevölkerung auf Gebäude), nicht an der Auflösung."
            + (
                " Das Fehlermodell ist angenommen, nicht gemessen (siehe Quelle des Fehlermodells); die Intervalle "
                "sind daher eine Größenordnung, kein Beweis."
                if unc.assumed
                else ""
            )
        )
    if coverage.places is not None:
        p = coverage.places
        out.append(
            f"Plätze: Aus der Spalte »{p.column}« der Einrichtungen. Als versorgt mit Platz zählt nur, wem ein "
            "freier Platz innerhalb der Schwelle zugeordnet werden kann, ohne dass eine Einrichtung überbelegt wird "
            f"(exakter maximaler Fluss, {p.result.method}). Nachfrage: {p.demand_label}. Der Wert ohne Platzgrenze "
            "(jede Einrichtung in Reichweite zählt) steht daneben."
        )
    return out


def gap_interval(coverage: CoverageReport, key: str) -> str:
    """The interval of one unit's share in the gap table, e.g. »86–88 %« (``–`` without one)."""
    if coverage.intervals is None or key not in coverage.intervals.units.index:
        return "–"
    row = coverage.intervals.units.loc[[key], ["low", "high"]].to_numpy(dtype=float)
    low, high = float(row[0, 0]), float(row[0, 1])
    if not (np.isfinite(low) and np.isfinite(high)):
        return "–"
    return f"{de_number(low * 100, 0)}–{de_number(high * 100, 0)} %"


# --- the scenario's part ------------------------------------------------------------------------


def scenario_figures(scenario: Scenario) -> list[tuple[str, str]]:
    """Intervals of the scenario's shares, its costs and its places, as report figures."""
    res = scenario.results
    d = res.get("decisions") or {}
    threshold = res.get("threshold") or "Schwelle des Szenarios"
    figures: list[tuple[str, str]] = []
    before, after = res.get("share_before_interval"), res.get("share_after_interval")
    if before and after:
        figures.append(
            (
                f"Szenario ({threshold}): vorher → nachher mit Unsicherheit",
                f"{before['text']} → {after['text']}"
                + (" – Fehlermodell angenommen" if res.get("intervals_assumed") else ""),
            )
        )
    newly = res.get("newly_reached_interval")
    if newly:
        figures.append(("Szenario: neu erreicht", newly["text"]))
    costs = d.get("costs")
    if costs:
        figures += [
            ("Szenario: jährliche Kosten der neuen Standorte", de_eur(costs["yearly_total"])),
            ("Szenario: einmalige Kosten der neuen Standorte", de_eur(costs["one_off_total"])),
            ("Szenario: Euro je neu erreichter Person und Jahr", eur_text(costs.get("eur_per_newly_reached"))),
            ("Szenario: Landesanteil im Jahr", de_eur(costs["land_yearly"])),
            ("Szenario: kommunaler Anteil im Jahr", de_eur(costs["municipal_yearly"])),
        ]
        if costs.get("eur_per_newly_reached_target") is not None:
            figures.append(
                (
                    "Szenario: Euro je neu erreichter Person der Zielgruppe",
                    eur_text(costs["eur_per_newly_reached_target"]),
                )
            )
        figures += [("Szenario: Hinweis zu den Kosten", str(note)) for note in costs.get("notes") or ()]
    places = d.get("places")
    if places:
        figures += [
            ("Szenario: mit freiem Platz vorher", places["before"]["text"]),
            ("Szenario: mit freiem Platz nachher", places["after"]["text"]),
        ]
        if places.get("newly_served") is not None:
            figures.append(("Szenario: neu mit freiem Platz", de_int(places["newly_served"])))
        if places.get("eur_per_newly_served") is not None:
            per = eur_text(places["eur_per_newly_served"])
            figures.append(("Szenario: Euro je neu versorgter Person und Jahr", per))
    variants = d.get("variants")
    if variants:
        figures.append(("Szenario: über die Varianten", variants["text"]))
    return figures


def scenario_tables(scenario: Scenario) -> list[ReportTable]:
    """The committee table (costs, substitute, margin, variants per new site) and the frontier's table."""
    res = scenario.results
    d = res.get("decisions") or {}
    tables = []
    margins = {int(m["site"]): m for m in d.get("margins") or []}
    costs = {int(r["candidate_index"]): r for r in (d.get("costs") or {}).get("per_site") or []}
    gains = (d.get("intervals") or {}).get("gains") or {}
    varied = bool((d.get("intervals") or {}).get("varied"))  # official totals: no interval column
    counts = ((d.get("variants") or {}).get("frequency") or {}).get("counts") or {}
    n_variants = len((d.get("variants") or {}).get("variants") or [])
    new = scenario.selected
    index_of = {str(cid): int(j) for j, cid in (d.get("site_ids") or {}).items()}
    if margins or costs or gains:
        rows = []
        for _, site in new.sort_values("order").iterrows():
            j = index_of.get(str(site["candidate_id"]), -1)
            m, c = margins.get(j), costs.get(j)
            gain = gains.get(str(j)) or gains.get(j)
            rows.append(
                (
                    de_int(site["order"]),
                    str(site["name"]),
                    "–" if c is None else de_eur(c["yearly"]),
                    "–" if c is None else eur_text(c.get("eur_per_gain")),
                    "–"
                    if gain is None
                    else de_count_interval(gain["point"], gain["low"], gain["high"], gain["level"], what="")
                    if varied
                    else de_int(gain["point"]),
                    "–" if m is None else _flip(m),
                    "–" if not n_variants else f"{counts.get(str(j), counts.get(j, 0))} von {n_variants}",
                )
            )
        tables.append(
            ReportTable(
                title=f"Für den Ausschuss: Kosten, Spielraum und Varianten je Standort (Szenario »{scenario.name}«)",
                columns=(
                    "Nr.",
                    "Standort",
                    "Kosten/Jahr",
                    "€ je Person",
                    "neu erreicht (Intervall)" if varied else "neu erreicht",
                    "kippt bei",
                    "in Varianten",
                ),
                rows=tuple(rows[:MAX_TABLE_ROWS]),
                numeric=(True, False, True, True, True, True, True),
                widths=(8, 52, 20, 18, 34, 22, 18),
                note="€ je Person: jährliche Kosten ÷ neu erreichte Personen. »kippt bei«: um so viel muss die "
                "Nachfrage, die nur dieser Standort erreicht, sinken, bis ein einzelner Tausch gleichwertig ist. "
                "»in Varianten«: in wie vielen Varianten der Standort für sich allein gewählt würde.",
            )
        )
    reasons = [str(m["reason"]) for m in d.get("margins") or [] if m.get("reason")]
    if reasons:
        tables.append(
            ReportTable(
                title="Begründung je Standort: bester Ersatz und wann die Entscheidung kippt",
                columns=("Standort, Ersatz und Spielraum",),
                rows=tuple((r,) for r in reasons[:MAX_TABLE_ROWS]),
                numeric=(False,),
                widths=(1,),
            )
        )
    return tables


def frontier_map(scenario: Scenario, extent: tuple[float, float, float, float]) -> ReportMap | None:
    """The budget frontier of the scenario as a chart (``None`` when it has none)."""
    decisions = scenario.results.get("decisions") or {}
    frontier = decisions.get("frontier")
    if not frontier or not frontier.get("points"):
        return None
    points = frontier["points"]
    label = frontier.get("cost_label") or "Kosten"
    cost = decisions.get("basis_cost")
    share_after = scenario.results.get("share_after")
    proven = "jeder Punkt bewiesen optimal" if frontier.get("all_optimal") else "nicht jeder Punkt bewiesen"
    threshold = scenario.results.get("threshold") or "Schwelle des Szenarios"
    caption = (
        f"Wie viele Menschen (Anteil der Zielgruppe, ≤ {threshold}) "
        f"neue Standorte höchstens erreichen, wenn sie zusammen ein Budget ({label}) nicht überschreiten; jeder Punkt "
        f"ist ein eigener, exakt gelöster Plan ({proven}); zwischen zwei Budgets ist die Stufe eine Untergrenze. "
        "Die Raute ist der Plan des Szenarios."
    )
    if (decisions.get("variants") or {}).get("robust"):
        caption += (
            " Die Grenze ist ohne Varianten gerechnet, für die eingegebene Nachfrage allein; der Plan ist robust über "
            "die Varianten gewählt und liegt um den Preis der Robustheit unter ihr."
        )
    png = frontier_chart(
        [float(p["budget"]) for p in points],
        [float(p["share"]) for p in points],
        label,
        None if cost is None or share_after is None else (float(cost), float(share_after)),
    )
    return ReportMap(f"Szenario »{scenario.name}«: Budget-Grenze", caption, png, extent)


def frontier_chart(budgets: list[float], shares: list[float], label: str, plan: tuple[float, float] | None) -> bytes:
    """People reached (share) against budget as a step chart, the plan as a diamond (PNG, the width of a map)."""
    width_in = MAP_WIDTH_MM / 25.4
    fig = Figure(figsize=(width_in, width_in / MAP_ASPECT * 0.6), dpi=MAP_DPI)
    ax = fig.add_axes((0.1, 0.2, 0.86, 0.72))
    x = np.asarray(budgets, dtype=float)
    y = 100.0 * np.asarray(shares, dtype=float)
    ax.step(x, y, where="post", color="#1f4e79", lw=1.6)
    ax.plot(x, y, "o", color="#1f4e79", ms=4)
    for xi, yi in zip(x, y, strict=True):
        ax.annotate(f"{yi:.1f} %".replace(".", ","), (xi, yi), textcoords="offset points", xytext=(0, 6),
                    ha="center", fontsize=6)  # fmt: skip
    if plan is not None:
        ax.plot([plan[0]], [100.0 * plan[1]], "D", color="#D55E00", ms=7, label="Plan des Szenarios")
        ax.legend(fontsize=7, frameon=False, loc="lower right")
    ax.set_xlabel(f"Budget in Euro ({label})", fontsize=8)
    ax.set_ylabel("erreicht (%)", fontsize=8)
    ax.xaxis.set_major_formatter(lambda v, _pos: de_int(v))
    return chart_png(fig, ax)


def scenario_method(scenario: Scenario) -> list[str]:
    """Method paragraphs on the scenario's costs, frontier, margins and variants."""
    res = scenario.results
    d: Mapping[str, Any] = res.get("decisions") or {}
    out = []
    costs = d.get("costs")
    if costs:
        programme = costs.get("programme")
        out.append(
            "Kosten: jährliche und einmalige Kosten je neuem Standort nach den Angaben des Kreises (Spalte, Vorgabe je "
            "Standorttyp oder einheitlich); bestehende Standorte kosten nichts Neues. Euro je neu erreichter Person = "
            "jährliche Kosten der neuen Standorte ÷ Personen, die nur sie erreichen. "
            + (
                f"Förderprogramm »{programme}«: Landesanteil nach seiner Regel (Fördersatz, Höchstbeträge, "
                "Mindestförderung, Zuweisung des Kreises; Quellen im Anhang des Programms), der Rest ist kommunal."
                if programme
                else "Ohne Förderprogramm trägt die Kommune alle Kosten."
            )
        )
    if d.get("frontier"):
        out.append(
            "Budget-Grenze: für jedes Budget das maximale Abdeckungsmodell mit Budget statt fester Anzahl, exakt mit "
            "HiGHS gelöst (Benders-Zerlegung; alle Budgets teilen sich Modell und Schnitte)."
        )
    if d.get("margins"):
        out.append(
            "Ersatz und Spielraum: Für jeden neuen Standort wird jeder Tausch gegen einen Kandidaten außerhalb des "
            "Plans exakt bewertet; angegeben sind der beste Ersatz, der Verlust beim Tausch und wie weit die "
            "Nachfrage, die "
            "nur dieser Standort erreicht, sinken darf, bevor ein Tausch gleichwertig ist (mit Budget: wie weit die "
            "Kosten steigen dürfen)."
        )
    variants = d.get("variants")
    if variants:
        robust = variants.get("robust")
        out.append(
            "Varianten: der Plan wurde in jeder Variante (Nachfragevarianten aus der Unsicherheit, Schließungen, "
            "Abfahrtsfenster, Tagestypen) nachgerechnet; jede Variante wurde zudem für sich exakt gelöst, um zu "
            "zählen, in wie vielen Varianten jeder Standort gewählt würde."
            + (
                f" Der Plan selbst ist robust gewählt ({robust['objective_label']}, exakt gelöst, Status "
                f"{robust['status_label']})."
                if robust
                else ""
            )
        )
    return out


def _flip(margin: Mapping[str, Any]) -> str:
    share = margin.get("flip_share")
    if margin.get("tie"):
        return "gleichwertig"
    return "nie" if share is None else f"−{de_share(share, 0)}"
