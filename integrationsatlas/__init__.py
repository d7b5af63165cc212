"""Integrationsatlas NRW: application entry points (CLI and app wiring)."""

__version__ = "0.1.0"
