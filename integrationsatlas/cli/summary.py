"""``integrationsatlas summary``: facilities per Kreis or Gemeinde, also per 10,000 inhabitants.

Examples::

    integrationsatlas summary --by kreis --json
    integrationsatlas summary --by gemeinde --layer kita --layer ogs
"""

from __future__ import annotations

import argparse

import pandas as pd

from geo.formatting import de_int, de_number
from geo.settings import Settings
from geo.units import PER_10000_SUFFIX
from integrationsatlas.areas import count_per_unit
from integrationsatlas.cli._output import emit_json_lines, frame_records

#: How a planner loads a facility layer.
_IMPORT = "Importieren auf der Seite »Daten« oder mit »integrationsatlas import«."


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``summary`` subcommand."""
    p = sub.add_parser(
        "summary",
        help="Einrichtungen je Kreis/Gemeinde zählen, auch je 10.000 Einwohner",
        description="Zählt die Einrichtungen jeder Ebene je Kreis oder Gemeinde (räumliche Zuordnung in "
        "EPSG:25832) und je 10.000 Einwohner, wo die Einwohnerzahl bekannt ist.",
    )
    p.add_argument("--by", choices=("kreis", "gemeinde"), default="kreis", help="Gebietsebene (Standard kreis)")
    p.add_argument(
        "--layer",
        action="append",
        metavar="EBENE",
        help="nur diese Ebene(n); mehrfach angebbar (Standard: alle Einrichtungsebenen mit Daten)",
    )
    p.add_argument("--json", action="store_true", help="ein JSON-Objekt je Gebiet ausgeben")
    p.set_defaults(func=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    """Print the counts per unit."""
    table = count_per_unit(args.by, settings, layers=args.layer)
    if args.json:
        emit_json_lines(frame_records(table))
        return 0
    layers = [c for c in table.columns if c + PER_10000_SUFFIX in table.columns]
    if not layers:
        print(f"Keine Einrichtungsebene hat Daten. {_IMPORT}")
        return 0
    header = f"{'AGS':<9} {'Name':<32} {'Einwohner':>10}  " + "  ".join(f"{lay:>12}" for lay in layers)
    print(header)
    for rec in table.to_dict(orient="records"):
        pop = rec["population"]
        pop_text = "unbekannt" if pd.isna(pop) else de_int(pop)
        cells = []
        for lay in layers:
            per = rec[lay + PER_10000_SUFFIX]
            cells.append(f"{de_int(rec[lay]):>5} ({de_number(per, 2):>5})")
        print(f"{rec['ags']:<9} {str(rec['name'])[:32]:<32} {pop_text:>10}  " + "  ".join(cells))
    print("Anzahl (je 10.000 Einwohner); – = Einwohnerzahl unbekannt oder Ebene ohne Daten.")
    empty = [lay for lay in layers if table[lay].isna().all()]
    if empty:
        print(f"Ohne Daten (nicht 0, sondern unbekannt): {', '.join(empty)}. {_IMPORT}")
    return 0
