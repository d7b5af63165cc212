"""Deprecated location of the point-in-area join: use :mod:`geo.units` (kept until 0.3)."""

from geo.units import PER_10000_SUFFIX, assign_units, count_in_units, representative_points, unit_of

__all__ = ["PER_10000_SUFFIX", "assign_units", "count_in_units", "representative_points", "unit_of"]
