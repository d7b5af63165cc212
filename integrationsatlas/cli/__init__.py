"""The ``integrationsatlas`` command-line interface.

One module per subcommand (``coverage``, ``sites``, ``report`` …); each exposes
``register(subparsers)`` and sets ``func(args, settings) -> int`` on its parser.
They are discovered automatically (modules starting with ``_`` are helpers),
so adding a subcommand needs no edit elsewhere. The entry point is
:func:`integrationsatlas.cli._entry.main`.
"""

from integrationsatlas.cli._entry import build_parser, main

__all__ = ["build_parser", "main"]
