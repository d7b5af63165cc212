"""``integrationsatlas report``: the council report for an area (and a scenario) as PDF or HTML.

Examples::

    integrationsatlas report --area 05334 --format pdf -o bericht_aachen.pdf
    integrationsatlas report --area 05334 --scenario "Aachen 5" --layer ki --threshold-km 15 -o bericht.html
"""

from __future__ import annotations

import argparse
from pathlib import Path

from geo.errors import DataError
from geo.settings import Settings
from integrationsatlas.report import REPORT_FORMATS, build_report, render


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``report`` subcommand."""
    p = sub.add_parser(
        "report",
        help="Bericht für Rat/Ausschuss (PDF oder HTML) für ein Gebiet und optional ein Szenario",
        description="Erstellt einen Bericht mit Kennzahlen, Karten (fester Ausschnitt je Gebiet), "
        "Lückentabelle, Methode und Datenquellen; mit --scenario zusätzlich die geplanten Standorte.",
    )
    p.add_argument(
        "--area",
        required=True,
        metavar="AGS",
        help="Gebiet: 05 (Land), 3-stellig (Regierungsbezirk), 5-stellig (Kreis), 8-stellig (Gemeinde)",
    )
    p.add_argument("--scenario", metavar="NAME", help="Name eines gespeicherten Szenarios")
    p.add_argument("--layer", default="ki", help="Einrichtungsebene für die Versorgung (Standard ki)")
    p.add_argument(
        "--threshold-km", type=float, default=15.0, metavar="KM", help="Schwelle Luftlinie in km (Standard 15)"
    )
    p.add_argument(
        "--target-group",
        choices=("total", "foreign"),
        default="total",
        help="Zielgruppe: total (Gesamtbevölkerung) oder foreign (ausländische Bevölkerung)",
    )
    p.add_argument("--format", choices=REPORT_FORMATS, help="pdf oder html (Standard: aus der Dateiendung)")
    p.add_argument("-o", "--output", type=Path, required=True, metavar="DATEI", help="Zieldatei")
    p.add_argument(
        "--osm",
        type=Path,
        metavar="DATEI",
        help="OSM-Auszug als Hintergrund der Übersichtskarte (Standard: keiner)",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    """Build and write the report."""
    fmt = args.format or {".pdf": "pdf", ".html": "html", ".htm": "html"}.get(args.output.suffix.lower(), "")
    if fmt not in REPORT_FORMATS:
        raise DataError(f"Berichtsformat von {args.output.name} unbekannt: bitte --format pdf oder html angeben.")
    report = build_report(
        settings,
        args.area,
        layer=args.layer,
        threshold_km=args.threshold_km,
        scenario=args.scenario,
        target_group=args.target_group,
        osm_file=args.osm,
    )
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
