"""``integrationsatlas population DATEI``: import the population per Gemeinde (Destatis GV-ISys or a plain table).

Accepted: the quarterly "Gemeindeverzeichnis – Auszug" XLSX of Destatis (multi-row header), its CSV export
(space thousands separators, Satzart rows) and a plain table with an AGS column and a population column.
The population feeds the Gemeinde-level demand and the 100 m estimate from OSM buildings.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from geo.formatting import de_int
from geo.settings import Settings
from geo.sources.destatis import POPULATION_TABLE, import_gemeinde_population
from integrationsatlas.cli._output import emit_json
from integrationsatlas.cli.indicators import print_recomputed


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``population`` subcommand."""
    p = sub.add_parser(
        "population",
        help="Einwohner je Gemeinde importieren (Destatis-Gemeindeverzeichnis oder Tabelle mit AGS und Einwohnern)",
    )
    p.add_argument("path", metavar="DATEI", type=Path, help="XLSX oder CSV, z. B. AuszugGV4QAktuell.xlsx")
    p.add_argument("--json", action="store_true", help="Ergebnis als JSON ausgeben")
    p.set_defaults(func=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    """Import the table into the local data store."""
    result = import_gemeinde_population(args.path, settings)
    total = int(result.table["population"].sum())
    if not args.json:
        print(
            f"{result.source_file}: {len(result.table)} Gemeinden, {de_int(total)} Einwohner, "
            f"Stichtag {result.stichtag or 'unbekannt'} ({result.stichtag_source}); Aufbau: {result.layout}."
        )
    monitoring = print_recomputed(settings, POPULATION_TABLE, result.stichtag, as_json=args.json)
    if args.json:
        emit_json(
            {
                "file": result.source_file,
                "layout": result.layout,
                "stichtag": result.stichtag,
                "stichtag_source": result.stichtag_source,
                "gemeinden": len(result.table),
                "population": total,
                "monitoring": monitoring,
            }
        )
    return 0
