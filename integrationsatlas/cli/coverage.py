"""``integrationsatlas coverage``: covered share of the demand per Kreis/Gemeinde, with a gap ranking.

Examples::

    integrationsatlas coverage --layer ki --threshold-km 15 --by kreis --json
    integrationsatlas coverage --layer kita --threshold-min 10 --mode walk --osm aachen.osm.pbf
    integrationsatlas coverage --layer kita --threshold-min 20 --mode oepnv --gtfs vrr.zip --osm aachen.osm.pbf
"""

from __future__ import annotations

import argparse
import sys
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from geo.errors import DataError
from geo.formatting import de_int, de_number, de_share
from geo.modes import MODE_IDS
from geo.settings import Settings
from integrationsatlas.cli._output import emit_json
from integrationsatlas.coverage import coverage_report

if TYPE_CHECKING:
    from planning.transit import TransitSettings


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``coverage`` subcommand."""
    p = sub.add_parser(
        "coverage",
        help="Versorgungsanteil der Bevölkerung je Kreis/Gemeinde und Rangliste der Lücken",
        description="Anteil der Nachfrage innerhalb einer Entfernung (Luftlinie) oder Fahrzeit zur "
        "nächsten Einrichtung einer Ebene, je Gebiet, mit Lückenwert und Rang (1 = größte Lücke).",
    )
    p.add_argument("--layer", required=True, help="Einrichtungsebene, z. B. ki, kita, ogs")
    threshold = p.add_mutually_exclusive_group(required=True)
    threshold.add_argument("--threshold-km", type=float, metavar="KM", help="Schwelle: Luftlinie in km")
    threshold.add_argument(
        "--threshold-min", type=float, metavar="MIN", help="Schwelle: Fahrzeit in Minuten (braucht --osm)"
    )
    p.add_argument(
        "--mode",
        choices=MODE_IDS,
        default="walk",
        help="Verkehrsmittel für --threshold-min: walk, bike, drive oder oepnv (Fußwege + Bus und "
        "Bahn, braucht --gtfs); Standard walk",
    )
    p.add_argument(
        "--osm",
        type=Path,
        metavar="DATEI",
        help="OSM-Ausschnitt (.osm.pbf, .osm oder .osm.bz2): Straßennetz und, ohne Zensus-Gitter, "
        "Gebäude für die 100-m-Nachfrage",
    )
    p.add_argument("--gtfs", type=Path, metavar="FAHRPLAN.zip", help="GTFS-Fahrplan für --mode oepnv")
    p.add_argument(
        "--day",
        type=date.fromisoformat,
        metavar="JJJJ-MM-TT",
        help="Verkehrstag für --mode oepnv (Standard: nächster Dienstag)",
    )
    p.add_argument(
        "--window",
        default="07:00-09:00",
        metavar="HH:MM-HH:MM",
        help="Abfahrtsfenster für --mode oepnv (Median über jede Minute; Standard 07:00-09:00)",
    )
    p.add_argument(
        "--by", choices=("kreis", "gemeinde", "land"), default="kreis", help="Gebietsebene der Tabelle (Standard kreis)"
    )
    p.add_argument(
        "--target-group",
        default="total",
        metavar="GRUPPE",
        help="total (Gesamtbevölkerung), foreign (ausländische Bevölkerung), u3, kita_ue3, "
        "grundschule, u18 (mit Zensus-Gitter) oder ein Spaltenname",
    )
    p.add_argument("--area", metavar="AGS", help="nur dieses Gebiet (AGS-Anfang, z. B. 05334 oder 051)")
    p.add_argument("--top", type=int, default=10, metavar="N", help="Textausgabe: die N größten Lücken")
    p.add_argument("--json", action="store_true", help="ein JSON-Dokument ausgeben")
    p.set_defaults(func=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    """Compute the coverage report and print it."""
    groups = ("total", "foreign", "u3", "kita_ue3", "grundschule", "u18")
    group, column = (args.target_group, None) if args.target_group in groups else ("column", args.target_group)
    if args.threshold_min is not None and args.osm is not None:
        print(
            f"Straßennetz aus {args.osm.name} wird gelesen und Fahrzeiten ({args.mode}) werden berechnet; "
            "bei großen Ausschnitten dauert das einige Minuten …",
            file=sys.stderr,
            flush=True,
        )
    report = coverage_report(
        settings,
        layer=args.layer,
        by=args.by,
        threshold_km=args.threshold_km,
        threshold_min=args.threshold_min,
        mode=args.mode,
        osm_file=args.osm,
        target_group=group,
        column=column,
        area=args.area,
        gtfs_file=args.gtfs,
        transit=_transit_settings(args, settings) if args.mode == "oepnv" else None,
    )
    if args.json:
        emit_json(report.as_dict())
        return 0
    inp = report.inputs
    print(inp.citation())
    print(f"Nachfrage: {report.demand_level_label} ({de_int(report.n_demand)} Nachfragepunkte)")
    share = report.share_covered
    overall = report.overall.iloc[0]
    if not report.resolution.ok:  # never a bare percentage from too coarse demand
        print(f"{report.resolution.message} {report.resolution.fix}".strip())
    label = "Versorgt" if report.resolution.ok else "Versorgt (nur grobe Näherung, siehe oben)"
    print(
        f"{label}: {de_share(share)} der Zielgruppe; jenseits der Schwelle: "
        f"{de_int(overall['weight_beyond'])} Personen der Zielgruppe, "
        f"{de_int(overall['population_beyond'])} Einwohner."
    )
    for note in inp.notes:
        print(f"Hinweis: {note}")
    print(f"\nGrößte Lücken ({args.by}):")
    print(f"{'Rang':>4}  {'AGS':<9} {'Name':<32} {'versorgt':>9} {'P90':>10}  {'Lückenwert':>10}")
    for key, row in report.gaps.ranking(args.top).iterrows():
        name = str(row.get("name", ""))[:32]
        print(
            f"{int(row['rank']):>4}  {key!s:<9} {name:<32} {de_share(row['share_covered']):>9} "
            f"{de_number(row['cost_p90']):>6}{inp.unit:>4}  {de_number(row['gap_score'], 3):>10}"
        )
    empty = report.gaps.table.index[report.gaps.table["no_demand"]].tolist()
    if empty:
        print(f"Ohne Nachfrage (kein Anteil berechenbar): {', '.join(map(str, empty))}")
    return 0


def _transit_settings(args: argparse.Namespace, settings: Settings) -> TransitSettings:
    """Day and departure window of a public-transport analysis from ``--day`` and ``--window``."""
    from geo.modes import next_tuesday
    from planning.transit import TransitSettings

    try:
        start, end = (_seconds(part) for part in str(args.window).split("-"))
    except ValueError:
        raise DataError(f"Abfahrtsfenster »{args.window}« bitte als HH:MM-HH:MM angeben, z. B. 07:00-09:00.") from None
    return TransitSettings(day=args.day or next_tuesday(), start_s=start, end_s=end, max_snap_m=settings.snap_max_m)


def _seconds(hhmm: str) -> int:
    hours, minutes = hhmm.strip().split(":")
    return int(hours) * 3600 + int(minutes) * 60
