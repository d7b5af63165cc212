"""Deprecated location of the boundary loader: use :mod:`geo.units` (kept until 0.3)."""

from geo.units import LEVELS, Level, available_levels, load_boundaries

__all__ = ["LEVELS", "Level", "available_levels", "load_boundaries"]
