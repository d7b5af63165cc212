"""``integrationsatlas stops``: walking distance to the nearest bus, tram/U-Bahn and rail stop, per Kreis/Gemeinde.

Examples::

    integrationsatlas stops --by kreis
    integrationsatlas stops --by gemeinde --area 05334 --osm aachen.osm.pbf --within-m 300
"""

from __future__ import annotations

import argparse
from pathlib import Path

from geo.formatting import de_int, de_share
from geo.settings import Settings
from integrationsatlas.cli._output import emit_json
from integrationsatlas.stops import MODE_CLASSES, stop_access


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``stops`` subcommand."""
    p = sub.add_parser("stops", help="Fußweg zur nächsten Haltestelle (Bus, Straßenbahn/U-Bahn, Bahn) je Gebiet")
    p.add_argument("--by", choices=("kreis", "gemeinde"), default="kreis", help="Gebietsebene (Standard kreis)")
    p.add_argument("--area", metavar="AGS", help="nur dieses Gebiet (AGS-Anfang)")
    p.add_argument(
        "--within-m",
        type=float,
        default=400.0,
        metavar="M",
        help="Gehentfernung für den Anteil der Bevölkerung (Standard 400 m, etwa 5 Minuten)",
    )
    p.add_argument("--osm", type=Path, metavar="DATEI", help="OSM-Auszug: Entfernung auf dem Fußwegenetz")
    p.add_argument("--json", action="store_true", help="ein JSON-Dokument ausgeben")
    p.set_defaults(func=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    """Compute and print the stop access per unit."""
    result = stop_access(settings, by=args.by, area=args.area, within_m=args.within_m, osm_file=args.osm)
    if args.json:
        emit_json(result.as_dict())
        return 0
    print(f"Entfernung zur nächsten Haltestelle ({result.network}); Nachfrage: {result.demand_label}")
    if not result.resolution.ok:
        print(f"{result.resolution.message} {result.resolution.fix}".strip())
    header = "  ".join(f"{c + f' ≤ {de_int(args.within_m)} m':>18}" for c in MODE_CLASSES)
    print(f"{'AGS':<9} {'Name':<30} {'Einwohner':>11}  {header}")
    for ags, row in result.units.iterrows():
        shares = "  ".join(f"{de_share(row[f'within_{c}']):>18}" for c in MODE_CLASSES)
        print(f"{ags!s:<9} {str(row['name'])[:30]:<30} {de_int(row['population']):>11}  {shares}")
    return 0
