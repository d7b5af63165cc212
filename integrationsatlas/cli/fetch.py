"""``integrationsatlas fetch SOURCE``: fetch official data or OpenStreetMap into the data store.

Examples::

    integrationsatlas fetch bkg-vg250
    integrationsatlas fetch destatis-gv
    integrationsatlas fetch msb-schuldaten --kreis 05334
    integrationsatlas fetch osm-kita --kreis 05334
    integrationsatlas fetch osm --osm-file aachen.osm.bz2 --json
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from geo.settings import Settings
from geo.sources.fetching import SOURCES, fetch_source
from integrationsatlas.cli._output import emit_json


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``fetch`` subcommand."""
    listing = "\n".join(f"  {s.id:<26} {s.title} [{s.licence}]" for s in SOURCES.values())
    p = sub.add_parser(
        "fetch",
        help="amtliche Daten oder OpenStreetMap abrufen und im Datenspeicher ablegen",
        description="Lädt eine Quelle herunter (mit Fortschritt), prüft sie und speichert sie mit Quelle, "
        "Abrufzeit und Lizenz im lokalen Datenspeicher.\n\nQuellen:\n" + listing,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("source", choices=tuple(SOURCES), metavar="QUELLE", help="eine der oben genannten Quellen")
    area = p.add_mutually_exclusive_group()
    area.add_argument("--kreis", metavar="AGS", help="nur dieser Kreis (5-stelliger AGS, z. B. 05334)")
    area.add_argument("--gemeinde", metavar="AGS", help="nur diese Gemeinde (8-stelliger AGS, z. B. 05334002)")
    p.add_argument(
        "--osm-file",
        type=Path,
        metavar="DATEI",
        help="OSM-Quellen offline aus einer OSM-XML-Datei (.osm, .osm.bz2) lesen",
    )
    p.add_argument("--zip", action="store_true", help="bkg-vg250: ZIP-Download statt WFS verwenden")
    p.add_argument("--refresh", action="store_true", help="erneut herunterladen, auch wenn im Cache")
    p.add_argument("--json", action="store_true", help="Ergebnis als JSON-Dokument ausgeben")
    p.set_defaults(func=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    """Fetch the source and report what was stored."""
    progress = None if args.json else _Progress()
    result = fetch_source(
        args.source,
        settings,
        kreis=args.kreis,
        gemeinde=args.gemeinde,
        osm_file=args.osm_file,
        use_zip=args.zip,
        refresh=args.refresh,
        progress=progress,
    )
    if progress is not None:
        progress.finish()
    if args.json:
        emit_json(result.as_dict())
        return 0
    print(f"Quelle {result.source_id} ({result.scope}): {result.url}")
    for layer in result.layers:
        if layer.batch is None:
            print(f"  {layer.layer_id:<22} nichts Neues gespeichert ({layer.rows_in} gelesen)")
        else:
            print(
                f"  {layer.layer_id:<22} {layer.rows_kept:>6} gespeichert von {layer.rows_in} "
                f"(Stapel {layer.batch.batch_id}, Lizenz {layer.batch.licence})"
            )
    for note in result.notes:
        print(f"  Hinweis: {note}")
    if result.problems:
        print(f"  {len(result.problems)} Zeile(n) verworfen, z. B.:")
        for problem in result.problems[:10]:
            print(f"  - {problem}")
    return 0


class _Progress:
    """Download progress on stderr: ``Download: 1.2 MB von 3.4 MB (35 %)``."""

    def __init__(self) -> None:
        self.shown = False

    def __call__(self, done: int, total: int | None) -> None:
        text = f"{done / 1e6:.1f} MB"
        if total:
            text += f" von {total / 1e6:.1f} MB ({100 * done / total:.0f} %)"
        sys.stderr.write(f"\rDownload: {text}   ")
        sys.stderr.flush()
        self.shown = True

    def finish(self) -> None:
        if self.shown:
            sys.stderr.write("\n")
