"""``integrationsatlas stops``: walking distance to the nearest bus, tram/U-Bahn and rail stop, per Kreis/Gemeinde.

Examples::

    integrationsatlas stops --by kreis
    integrationsatlas stops --by gemeinde --area 05334 --osm aachen.osm.pbf --within-m 300
"""

from __future__ import annotations

import argparse

from geo.formatting import de_int, de_share
from geo.settings import Settings
from integrationsatlas.cli._output import emit_json, stdout_to_stderr
from integrationsatlas.cli._request import add_request_options, request_from_args
from integrationsatlas.stops import DEFAULT_WITHIN_M, MODE_CLASSES, mode_class_titles, stop_access


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``stops`` subcommand."""
    p = sub.add_parser("stops", help="Fußweg zur nächsten Haltestelle (Bus, Straßenbahn/U-Bahn, Bahn) je Gebiet")
    add_request_options(p, layer_default="haltestelle", threshold_required=False, by_choices=("kreis", "gemeinde"))
    p.add_argument(
        "--within-m",
        type=float,
        default=None,
        metavar="M",
        help=f"alter Name: Gehentfernung in m für den Anteil der Bevölkerung (Standard {DEFAULT_WITHIN_M:g} m, "
        "etwa 5 Minuten); neu: --threshold-km oder --threshold-min (Gehminuten)",
    )
    p.add_argument("--json", action="store_true", help="nur ein JSON-Dokument auf der Standardausgabe")
    p.set_defaults(func=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    """Compute and print the stop access per unit."""
    if args.within_m is not None and args.threshold_km is None and args.threshold_min is None:
        args.threshold_km = args.within_m / 1000.0
    request = request_from_args(args, default_km=DEFAULT_WITHIN_M / 1000.0)
    with stdout_to_stderr(args.json):
        result = stop_access(settings, request)
    if args.json:
        emit_json(result.as_dict())
        return 0
    within = de_int(result.within_m)
    print(f"Entfernung zur nächsten Haltestelle ({result.network}); Nachfrage: {result.demand_label}")
    if not result.resolution.ok:
        print(f"{result.resolution.message} {result.resolution.fix}".strip())
    short = {c: title.split(" (")[0] for c, title in mode_class_titles().items()}  # »Bahn«, not its explanation
    header = "  ".join(f"{f'{short[c]} ≤ {within} m':>26}" for c in MODE_CLASSES)
    print(f"{'AGS':<9} {'Name':<30} {'Einwohner':>11}  {header}")
    for ags, row in result.units.iterrows():
        shares = "  ".join(f"{de_share(row[f'within_{c}']):>26}" for c in MODE_CLASSES)
        print(f"{ags!s:<9} {str(row['name'])[:30]:<30} {de_int(row['population']):>11}  {shares}")
    return 0
