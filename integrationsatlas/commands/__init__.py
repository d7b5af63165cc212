"""Subcommands of the ``integrationsatlas`` CLI, discovered by :mod:`integrationsatlas.cli`."""
