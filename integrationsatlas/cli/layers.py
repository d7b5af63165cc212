"""``integrationsatlas layers``: list the registered layers with counts and sources."""

from __future__ import annotations

import argparse
from typing import Any

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
    rows: list[dict[str, Any]] = [r.as_dict() for r in layer_inventory(settings)]
    if not args.all:
        rows = [r for r in rows if r["count"] > 0]
    if args.json:
        emit_json_lines(rows)
    else:
        for r in rows:
            print(f"{r['id']:<22} {r['count']:>6}  {r['title']}  [{r['licence']}; Stand {r['as_of']}]")
    return 0
