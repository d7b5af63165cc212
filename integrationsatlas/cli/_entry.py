"""Entry point of the ``integrationsatlas`` CLI: parser assembly, logging and exit codes.

Exit codes: 0 success, 2 invalid input or a user-facing error, 1 a bug.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import pkgutil
import sys
from collections.abc import Sequence
from pathlib import Path

from geo.errors import IntegrationsatlasError
from geo.settings import Settings
from integrationsatlas import __version__
from integrationsatlas.terminal import OneLineLogRecords, printable_streams

logger = logging.getLogger(__name__)


def build_parser() -> argparse.ArgumentParser:
    """Build the argument parser with every discovered subcommand."""
    parser = argparse.ArgumentParser(
        prog="integrationsatlas",
        description="Integrationsatlas NRW – Planungswerkzeug für die Integrationsinfrastruktur in NRW.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="ausführliche Protokollausgabe")
    sub = parser.add_subparsers(dest="command", metavar="BEFEHL")
    sub.required = True
    package = __name__.rsplit(".", 1)[0]
    for info in sorted(pkgutil.iter_modules([str(Path(__file__).parent)]), key=lambda m: m.name):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{package}.{info.name}")
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI and return its exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    for handler in logging.getLogger().handlers:
        handler.addFilter(OneLineLogRecords())
    settings = Settings.from_env()
    # names and values from the data are printed: their control characters are shown, not obeyed
    with printable_streams():
        try:
            return int(args.func(args, settings))
        except IntegrationsatlasError as exc:
            print(f"Fehler: {exc}", file=sys.stderr)
            return 2
        except BrokenPipeError:
            # Output piped into e.g. ``head`` that closed early: not an error of ours.
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            return 141
        except Exception as exc:  # the database refused this role (server with login): a user-facing error
            refusal = _refusal(exc)
            if refusal is None:
                raise
            print(f"Fehler: {refusal}", file=sys.stderr)
            return 2


def _refusal(exc: Exception) -> IntegrationsatlasError | None:
    """The German error for a database refusal (grants, row-level security), only if a database was used."""
    if "sqlalchemy" not in sys.modules:
        return None
    from geo.store.grants import denied

    return denied(exc)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
