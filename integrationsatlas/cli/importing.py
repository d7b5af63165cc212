"""``integrationsatlas import`` and ``integrationsatlas store``: own files into the data store.

``import PATH --layer LAYER`` validates a file and stores its rows; it exits 2
and prints every problem (file, row, column, fix) when the file is invalid.
``store list|delete|restore`` shows the import history and switches batches
off and on again (nothing is ever deleted for good).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from geo.errors import ValidationError
from geo.importing import ImportResult, import_file
from geo.layers.registry import REGISTRY
from geo.layers.sources import IMPORT_PRESETS, reference_date
from geo.settings import Settings
from geo.store import open_store
from integrationsatlas.cli._output import emit_json
from integrationsatlas.cli.indicators import print_recomputed


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``import`` and ``store`` subcommands."""
    p = sub.add_parser(
        "import",
        help="eigene Datei (CSV, XLSX, GeoJSON, GeoPackage, Shapefile-ZIP) in eine Ebene importieren",
        description="Importiert eine Datei in den lokalen Datenspeicher. Exit-Code 0 bei Erfolg, "
        "2 bei ungültiger Eingabe (alle Probleme werden je Zeile ausgegeben).",
    )
    p.add_argument("path", metavar="DATEI", type=Path, help="die zu importierende Datei")
    p.add_argument(
        "--layer", required=True, metavar="EBENE", help=f"Ziel-Ebene, z. B. {', '.join(REGISTRY.ids()[:8])} …"
    )
    p.add_argument(
        "--mode",
        choices=("append", "replace"),
        default="append",
        help="append: hinzufügen (Standard); replace: Ebene ersetzen (wiederherstellbar)",
    )
    p.add_argument(
        "--keep-valid",
        action="store_true",
        help="gültige Zeilen übernehmen und ungültige nur melden (Standard: Datei ganz ablehnen)",
    )
    p.add_argument(
        "--source",
        choices=tuple(IMPORT_PRESETS),
        help="bekannte Quelle: füllt Herausgeber und Lizenz aus ("
        + ", ".join(f"{key}: {source.publisher}" for key, source in IMPORT_PRESETS.items())
        + ")",
    )
    p.add_argument("--publisher", metavar="NAME", help="Herausgeber der Daten (wird im Bericht genannt)")
    p.add_argument("--licence", metavar="LIZENZ", help="Lizenz der Daten, z. B. dl-de/by-2-0 oder CC BY 4.0")
    p.add_argument(
        "--as-of", metavar="JJJJ-MM-TT", help="Stand der Daten (Stichtag), nicht der Tag des Imports; auch JJJJ"
    )
    p.add_argument("--dry-run", action="store_true", help="nur prüfen, nichts speichern")
    p.add_argument("--json", action="store_true", help="Ergebnis als JSON ausgeben")
    p.set_defaults(func=run_import)

    s = sub.add_parser("store", help="Importe im lokalen Datenspeicher anzeigen, löschen, wiederherstellen")
    s.add_argument("action", choices=("list", "delete", "restore"), help="list | delete STAPEL | restore STAPEL")
    s.add_argument("batch", nargs="?", metavar="STAPEL", help="Stapel-ID (aus »store list«)")
    s.add_argument("--layer", metavar="EBENE", help="nur diese Ebene auflisten")
    s.add_argument("--json", action="store_true", help="Ergebnis als JSON ausgeben")
    s.set_defaults(func=run_store)


def run_import(args: argparse.Namespace, settings: Settings) -> int:
    """Import one file; exit 0 on success, 2 on invalid input."""
    preset = IMPORT_PRESETS.get(args.source or "")
    as_of = reference_date(args.as_of)
    try:
        result = import_file(
            args.path,
            args.layer,
            settings,
            mode=args.mode,
            on_invalid="keep_valid" if args.keep_valid else "reject",
            dry_run=args.dry_run,
            publisher=args.publisher or (preset.publisher if preset else None),
            licence=args.licence or (preset.licence if preset else None),
            as_of=as_of,
        )
    except ValidationError as exc:
        if args.json:
            emit_json(
                {
                    "ok": False,
                    "layer": args.layer,
                    "file": args.path.name,
                    "rows_in": None,
                    "rows_kept": 0,
                    "problems": [p.as_dict() for p in exc.problems],
                    "batch": None,
                }
            )
        else:
            print(exc.title + ":", file=sys.stderr)
            for problem in exc.problems:
                print(f"  - {problem}", file=sys.stderr)
        return 2
    ok = _succeeded(result, keep_valid=args.keep_valid)
    if not args.json:
        _print_result(result, dry_run=args.dry_run)
    monitoring = print_recomputed(settings, args.layer, as_of, as_json=args.json) if result.batch is not None else None
    if args.json:
        emit_json({**result.as_dict(), "ok": ok, "dry_run": bool(args.dry_run), "monitoring": monitoring})
    return 0 if ok else 2


def _succeeded(result: ImportResult, *, keep_valid: bool) -> bool:
    if result.batch is not None:
        return True
    # dry run: would the import have been stored?
    return result.rows_kept > 0 and (keep_valid or not result.problems)


def _print_result(result: ImportResult, *, dry_run: bool) -> None:
    verb = "würden übernommen" if dry_run else "übernommen"
    print(
        f"{result.file} → Ebene »{result.layer_id}« ({result.format}, Lage: {result.location_kind}): "
        f"{result.rows_in} Zeilen gelesen, {result.rows_kept} {verb}."
    )
    for note in result.notes:
        print(f"  Hinweis: {note}")
    if result.problems:
        print(f"{len(result.problems)} Problem(e):")
        for problem in result.problems:
            print(f"  - {problem}")
    if result.batch is not None:
        b = result.batch
        print(
            f"Gespeichert als Stapel {b.batch_id} ({b.mode}); rückgängig mit "
            f"»integrationsatlas store delete {b.batch_id}«."
        )
    elif dry_run:
        print("Probelauf: nichts gespeichert.")


def run_store(args: argparse.Namespace, settings: Settings) -> int:
    """List, delete (deactivate) or restore batches of the data store."""
    store = open_store(settings)
    if args.action == "list":
        batches = store.batches(args.layer)
        if args.json:
            emit_json([b.as_dict() for b in batches])
            return 0
        if not batches:
            print(f"Der Datenspeicher {store.location} ist leer.")
            return 0
        print(f"{'Stapel':<23} {'Ebene':<20} {'aktiv':<5} {'Zeilen':>7}  {'importiert (UTC)':<25} Datei / Quelle")
        for b in batches:
            print(
                f"{b.batch_id:<23} {b.layer_id:<20} {'ja' if b.active else 'nein':<5} {b.rows_kept:>7}  "
                f"{b.imported_at:<25} {b.source_file} ({b.source}, {b.licence})"
            )
        return 0
    if not args.batch:
        print(
            f"Fehler: »store {args.action}« braucht eine Stapel-ID (siehe »integrationsatlas store list«).",
            file=sys.stderr,
        )
        return 2
    if args.action == "delete":
        changed = store.deactivate(args.batch)
        message = (
            f"Stapel {args.batch} gelöscht (deaktiviert); wiederherstellen mit "
            f"»integrationsatlas store restore {args.batch}«."
            if changed
            else f"Stapel {args.batch} war bereits gelöscht; nichts geändert."
        )
    else:
        changed = store.restore(args.batch)
        message = (
            f"Stapel {args.batch} wiederhergestellt."
            if changed
            else f"Stapel {args.batch} ist bereits aktiv; nichts geändert."
        )
    if args.json:
        emit_json({"ok": True, "action": args.action, "batch": args.batch, "changed": changed})
    else:
        print(message)
    return 0
