"""``integrationsatlas batch PLAN.toml -o ORDNER``: many analyses from one plan, on dask.distributed.

Examples::

    integrationsatlas batch examples/batch_kreise.toml -o ergebnisse/kreise
    integrationsatlas batch plan.toml -o out --scheduler tcp://10.0.0.5:8786
    integrationsatlas batch plan.toml -o out --workers 1 --json

Without ``--scheduler`` a local cluster of worker processes runs the tasks; a
rerun into the same folder skips every finished task.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from geo.formatting import de_int, de_number
from geo.settings import Settings
from integrationsatlas.batch import read_plan, run_batch
from integrationsatlas.batch.run import LOCAL_WORKER_MEMORY, terminal_progress
from integrationsatlas.cli._output import emit_json


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``batch`` subcommand."""
    p = sub.add_parser(
        "batch",
        help="Viele Analysen aus einem TOML-Plan (Gebiete × Ebenen × Modi × Schwellen × Szenarien) auf dask",
        description="Führt jede Aufgabe eines Plans als eigene Analyse aus (lokal oder auf einem Dask-Cluster). "
        "Ergebnisse: je Aufgabe eine GeoParquet-Datei in ORDNER/ergebnisse und eine Zusammenfassung "
        "(zusammenfassung.csv). Ein erneuter Lauf überspringt fertige Aufgaben.",
    )
    p.add_argument("plan", type=Path, metavar="PLAN.toml", help="der Plan, z. B. examples/batch_kreise.toml")
    p.add_argument("-o", "--out", type=Path, required=True, metavar="ORDNER", help="Ausgabeordner")
    p.add_argument(
        "--scheduler",
        metavar="tcp://HOST:PORT",
        help="vorhandener Dask-Scheduler (»dask scheduler«); ohne: lokaler Cluster auf diesem Rechner",
    )
    p.add_argument("--workers", type=int, metavar="N", help="Worker-Prozesse des lokalen Clusters (Standard: Kerne)")
    p.add_argument(
        "--worker-memory",
        default=LOCAL_WORKER_MEMORY,
        metavar="GRÖSSE",
        help="Speichergrenze je Worker des lokalen Clusters, z. B. 8GiB (Standard: Arbeitsspeicher ÷ Worker)",
    )
    p.add_argument("--json", action="store_true", help="Ergebnis als JSON auf der Standardausgabe")
    p.set_defaults(func=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    """Run the plan and print what was done."""
    plan = read_plan(args.plan, settings)
    progress = None if args.json else terminal_progress(sys.stderr)
    outcome = run_batch(
        plan,
        args.out,
        settings,
        scheduler=args.scheduler,
        n_workers=args.workers,
        progress=progress,
        worker_memory=args.worker_memory,
    )
    if args.json:
        emit_json(
            {
                "plan": plan.name,
                "tasks": outcome.total,
                "skipped": outcome.skipped,
                "done": outcome.done,
                "failed": [{"key": k, "message": v["message"]} for k, v in outcome.failed.items()],
                "seconds": round(outcome.seconds, 2),
                "workers": outcome.workers,
                "summary": str(args.out / "zusammenfassung.csv"),
            }
        )
    else:
        print(
            f"Plan »{plan.name}«: {de_int(outcome.total)} Aufgaben, {de_int(outcome.done)} berechnet, "
            f"{de_int(outcome.skipped)} übersprungen (schon fertig), {de_int(len(outcome.failed))} mit Fehler; "
            f"{de_number(outcome.seconds, 1)} s mit {outcome.workers} Worker(n)."
        )
        for key, row in list(outcome.failed.items())[:10]:
            print(f"Fehler {key} ({row.get('area')}, {row.get('layer')}): {row['message']}")
        print(f"Ergebnisse: {args.out / 'ergebnisse'}; Zusammenfassung: {args.out / 'zusammenfassung.csv'}")
    return 2 if outcome.failed else 0
