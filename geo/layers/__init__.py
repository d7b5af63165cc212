"""Layer declarations and the registry (see :mod:`geo.layers.catalog`)."""

from geo.layers import catalog
from geo.layers.registry import REGISTRY, LayerRegistry
from geo.layers.sources import ATTRIBUTIONS
from geo.layers.spec import FACILITY_COLUMNS, Column, LayerSpec, Source, Style, facility_layer

__all__ = [
    "ATTRIBUTIONS",
    "FACILITY_COLUMNS",
    "REGISTRY",
    "Column",
    "LayerRegistry",
    "LayerSpec",
    "Source",
    "Style",
    "catalog",
    "facility_layer",
]
