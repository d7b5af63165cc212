"""``integrationsatlas layers``: list the registered layers with counts and sources."""

from __future__ import annotations

import argparse
from typing import Any

from geo.formatting import de_as_of, de_int
from geo.layers.inventory import layer_inventory
from geo.settings import Settings
from integrationsatlas.cli._output import emit_json_lines


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``layers`` subcommand."""
    p = sub.add_parser("layers", help="verfügbare Ebenen mit Anzahl, Quelle und Lizenz")
    p.add_argument("--json", action="store_true", help="ein JSON-Objekt je Ebene ausgeben")
    p.add_argument("--all", action="store_true", help="auch Ebenen ohne Daten zeigen")
    p.set_defaults(func=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    """Print the inventory of layers."""
    infos = [i for i in layer_inventory(settings) if args.all or i.count > 0]
    if args.json:
        rows: list[dict[str, Any]] = [i.as_dict() for i in infos]
        emit_json_lines(rows)
    else:  # the Stand as the Daten page and the report give it: German, never the import day in its place
        for i in infos:
            print(
                f"{i.id:<22} {de_int(i.count):>7}  {i.title}  [{i.licence}; Stand {de_as_of(i.as_of, i.imported_at)}]"
            )
    return 0
