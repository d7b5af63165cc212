"""``integrationsatlas coverage``: covered share of the demand per Kreis/Gemeinde, with a gap ranking.

Examples::

    integrationsatlas coverage --layer ki --threshold-km 15 --by kreis --json
    integrationsatlas coverage --layer kita --threshold-min 10 --mode walk --osm aachen.osm.pbf
    integrationsatlas coverage --layer kita --threshold-min 20 --mode oepnv --gtfs vrr.zip --osm aachen.osm.pbf
    integrationsatlas coverage --layer kita --threshold-km 0.5 --by koeln-stadtteile --json
"""

from __future__ import annotations

import argparse
import sys

from geo.formatting import de_int, de_number, de_share
from geo.levels import analysis_level
from geo.settings import Settings
from integrationsatlas.cli._output import ROUGH_NOTE, emit_json, rough_suffix, stdout_to_stderr
from integrationsatlas.cli._request import add_request_options, request_from_args
from integrationsatlas.coverage import coverage_report
from integrationsatlas.pipeline.intervals import share_text


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``coverage`` subcommand."""
    p = sub.add_parser(
        "coverage",
        help="Versorgungsanteil der Bevölkerung je Kreis/Gemeinde/Gebiet eines Gebietssatzes und Rangliste der Lücken",
        description="Anteil der Nachfrage innerhalb einer Entfernung (Luftlinie) oder Fahrzeit (von Tür zu Tür) "
        "zur nächsten Einrichtung einer Ebene, je Gebiet, mit Lückenwert und Rang (1 = größte Lücke).",
    )
    add_request_options(p)
    p.add_argument("--top", type=int, default=10, metavar="N", help="Textausgabe: die N größten Lücken")
    p.add_argument("--json", action="store_true", help="nur ein JSON-Dokument auf der Standardausgabe")
    p.set_defaults(func=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    """Compute the coverage report and print it."""
    request = request_from_args(args)
    if request.uses_time:
        print(
            f"Straßennetz aus {args.osm.name} wird gelesen und Fahrzeiten ({args.mode}) werden berechnet; "
            "bei großen Ausschnitten dauert das einige Minuten …",
            file=sys.stderr,
            flush=True,
        )
    with stdout_to_stderr(args.json):
        report = coverage_report(settings, request)
    if args.json:
        emit_json(report.as_dict())
        return 0
    inp = report.inputs
    print(inp.citation())
    if report.extent is not None and report.extent.partial:
        print(f"Abgedeckt: {report.extent.caption}. Alle Zahlen gelten nur für diesen Ausschnitt.")
    print(f"Nachfrage: {report.demand_level_label} ({de_int(report.n_demand)} Nachfragepunkte)")
    share = report.share_covered
    overall = report.overall.iloc[0]
    if not report.resolution.ok:  # never a bare percentage from too coarse demand
        print(f"{report.resolution.message} {report.resolution.fix}".strip())
    label = "Versorgt" if report.resolution.ok else f"Versorgt ({ROUGH_NOTE})"
    where = f" ({report.extent.label})" if report.extent is not None and report.extent.partial else ""
    interval = None if report.intervals is None else report.intervals.overall
    print(
        f"{label}{where}: {share_text(interval, share, 'der Zielgruppe')}; jenseits der Schwelle: "
        f"{de_int(overall['weight_beyond'])} Personen der Zielgruppe, "
        f"{de_int(overall['population_beyond'])} Einwohner."
    )
    if report.intervals is not None:
        assumed = " Das Fehlermodell ist angenommen." if report.intervals.uncertainty.assumed else ""
        print(f"Intervalle: {report.intervals.uncertainty.label}.{assumed}")
    if report.places is not None:
        print(report.places.text())
    for note in inp.notes:
        print(f"Hinweis: {note}")
    level = analysis_level(request.by, settings)
    print(f"\nGrößte Lücken ({level.title}){rough_suffix(report.resolution)}:")
    print(f"{'Rang':>4}  {level.key_title:<9} {'Name':<32} {'versorgt':>9} {'P90':>10}  {'Lückenwert':>10}")
    for key, row in report.gaps.ranking(args.top).iterrows():
        name = str(row.get("name", ""))[:32]
        print(
            f"{int(row['rank']):>4}  {key!s:<9} {name:<32} {de_share(row['share_covered']):>9} "
            f"{de_number(row['cost_p90']):>6}{inp.unit:>4}  {de_number(row['gap_score'], 3):>10}"
        )
    if report.gaps.score_note:
        print(report.gaps.score_note)
    empty = report.gaps.table.index[report.gaps.table["no_demand"]].tolist()
    if empty:
        print(f"Ohne Nachfrage (kein Anteil berechenbar): {', '.join(map(str, empty))}")
    coarse = report.gaps.table.index[report.gaps.table["too_coarse"]].tolist()
    if coarse:
        print(
            f"Nachfrage zu grob für einen Anteil je {level.unit_title} ({report.demand_level_label}; "
            f"kein Anteil, kein Rang): {', '.join(map(str, coarse))}"
        )
    return 0
