"""``integrationsatlas report``: the council report for an area (and a scenario) as PDF or HTML.

Examples::

    integrationsatlas report --area 05334 --format pdf -o bericht_aachen.pdf
    integrationsatlas report --area 05334 --scenario "Aachen 5" --layer ki --threshold-km 15 -o bericht.html
"""

from __future__ import annotations

import argparse
from pathlib import Path

from geo.errors import DataError, NotLoadedError
from geo.layers.loading import load_layer
from geo.settings import Settings
from geo.store.scenarios import load_scenario
from integrationsatlas.cli._output import stdout_to_stderr
from integrationsatlas.cli._request import add_request_options, request_from_args
from integrationsatlas.report import REPORT_FORMATS, build_report, render
from integrationsatlas.request import AreaRef
from integrationsatlas.scenarios import scenario_request


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``report`` subcommand."""
    p = sub.add_parser(
        "report",
        help="Bericht für Rat/Ausschuss (PDF oder HTML) für ein Gebiet und optional ein Szenario",
        description="Erstellt einen Bericht mit Kennzahlen, Karten (fester Ausschnitt je Gebiet), "
        "Lückentabelle, Methode und Datenquellen; mit --scenario zusätzlich die geplanten Standorte. "
        "Ohne Schwelle: die Anfrage des Szenarios, sonst 15 km Luftlinie.",
    )
    add_request_options(p, layer_default="ki", area_required=True, threshold_required=False, with_by=False)
    p.add_argument(
        "--by",
        dest="area_set",
        metavar="GEBIETSSATZ",
        help="Tabelle und Karte je Gebiet eines Gebietssatzes, z. B. koeln-stadtteile "
        "(Standard: Gemeinden, sonst Kreise)",
    )
    p.add_argument("--scenario", metavar="NAME", help="Name eines gespeicherten Szenarios")
    p.add_argument("--format", choices=REPORT_FORMATS, help="pdf oder html (Standard: aus der Dateiendung)")
    p.add_argument("-o", "--output", type=Path, required=True, metavar="DATEI", help="Zieldatei")
    p.set_defaults(func=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    """Build and write the report."""
    fmt = args.format or {".pdf": "pdf", ".html": "html", ".htm": "html"}.get(args.output.suffix.lower(), "")
    if fmt not in REPORT_FORMATS:
        raise DataError(f"Berichtsformat von {args.output.name} unbekannt: bitte --format pdf oder html angeben.")
    if args.scenario and args.threshold_km is None and args.threshold_min is None:
        # one measure throughout: the scenario's threshold, mode and data, for the report's layer
        request = scenario_request(load_scenario(settings, args.scenario)).coverage_part()
        request = request.with_(area=AreaRef(args.area), layer=args.layer)
    else:
        request = request_from_args(args, default_km=15.0)
    if args.area_set:
        request = request.with_(by=args.area_set)
    with stdout_to_stderr():
        try:
            report = build_report(settings, request, scenario=args.scenario)
        except NotLoadedError as exc:
            if not args.scenario or not load_layer(request.layer, settings).empty:
                raise
            # a plan for the first sites of a kind: the report's own figures need a layer that has facilities
            raise NotLoadedError(
                f"{exc} Den Plan für die ersten Standorte dieser Art zeigt ein Bericht über eine Ebene mit "
                f"Einrichtungen (z. B. --layer ki): Kennzahlen und Karten gelten dann für diese Ebene, "
                f"der Szenario-Teil rechnet mit der Frage des Szenarios »{args.scenario}«."
            ) from exc
    data = render(report, fmt)  # type: ignore[arg-type]
    args.output.parent.mkdir(parents=True, exist_ok=True)
    tmp = args.output.with_name(args.output.name + ".part")
    tmp.write_bytes(data)
    tmp.replace(args.output)
    print(
        f"Bericht für {report.area.label} geschrieben: {args.output} ({len(report.maps)} Karten, "
        f"{len(report.tables)} Tabellen)"
    )
    return 0
