"""``integrationsatlas zensus PATH``: import a Destatis Zensus 2022 population grid.

Once imported, the demand model uses the grid (the best demand level) instead of
Gemeinde centroids or the embedded GeoNames places.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from geo.settings import Settings
from geo.sources.zensus import import_zensus
from integrationsatlas.cli._output import emit_json


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``zensus`` subcommand."""
    p = sub.add_parser(
        "zensus",
        help="Zensus-2022-Bevölkerungsgitter (1 km / 100 m, CSV von Destatis) als Nachfrage importieren",
    )
    p.add_argument(
        "path",
        metavar="DATEI",
        type=Path,
        nargs="+",
        help="eine oder mehrere CSV/ZIP-Dateien von destatis.de, z. B. "
        "Zensus2022_Bevoelkerungszahl_100m-Gitter.zip Zensus2022_Auslaenderanteil_in_Gitterzellen.zip; "
        "Themen auch einzeln nacheinander (sie werden mit dem gespeicherten Gitter verbunden)",
    )
    p.add_argument("--json", action="store_true", help="Ergebnis als JSON ausgeben")
    p.set_defaults(func=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    """Import the grid into the local data store (replacing an earlier grid, restorably)."""
    result = import_zensus(args.path, settings)
    if args.json:
        emit_json(result.as_dict())
    else:
        print(
            f"{result.source_file}: Gitterzellen ({result.resolution_m} m) in NRW: {result.cells_nrw}, "
            f"Einwohner: {result.population_nrw}, geheim gehaltene Zellen: {result.suppressed_nrw}."
        )
        for note in result.notes:
            print(f"  Hinweis: {note}")
    return 0
