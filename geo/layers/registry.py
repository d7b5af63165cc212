"""The layer registry: the one place where layers are looked up.

Adding a facility type needs one :func:`register` call with a
:class:`~geo.layers.spec.LayerSpec`, and no edits elsewhere.
"""

from __future__ import annotations

from collections.abc import Iterator

from geo.errors import IntegrationsatlasError
from geo.layers.spec import LayerGroup, LayerSpec


class LayerRegistry:
    """An ordered mapping of layer id to :class:`LayerSpec`."""

    def __init__(self) -> None:
        self._layers: dict[str, LayerSpec] = {}

    def register(self, spec: LayerSpec, *, replace: bool = False) -> LayerSpec:
        """Add ``spec``; refuse a second layer with the same id unless ``replace``."""
        if spec.id in self._layers and not replace:
            raise ValueError(f"Layer {spec.id!r} is already registered")
        self._layers[spec.id] = spec
        return spec

    def unregister(self, layer_id: str) -> None:
        """Remove a layer (used by tests that register a temporary layer)."""
        self._layers.pop(layer_id, None)

    def get(self, layer_id: str) -> LayerSpec:
        """Return the layer ``layer_id``.

        Raises
        ------
        IntegrationsatlasError
            With the list of known ids, if there is no such layer.
        """
        try:
            return self._layers[layer_id]
        except KeyError:
            known = ", ".join(self._layers)
            raise IntegrationsatlasError(f"Unbekannte Ebene »{layer_id}«. Verfügbare Ebenen: {known}.") from None

    def __contains__(self, layer_id: object) -> bool:
        return layer_id in self._layers

    def __iter__(self) -> Iterator[LayerSpec]:
        return iter(list(self._layers.values()))

    def __len__(self) -> int:
        return len(self._layers)

    def ids(self) -> tuple[str, ...]:
        """All registered ids, in registration order."""
        return tuple(self._layers)

    def by_group(self, group: LayerGroup) -> tuple[LayerSpec, ...]:
        """All layers of one group (``boundary``, ``facility`` or ``demand``)."""
        return tuple(s for s in self._layers.values() if s.group == group)

    def facilities(self) -> tuple[LayerSpec, ...]:
        """All facility layers."""
        return self.by_group("facility")

    def boundary(self, level: str) -> LayerSpec:
        """The boundary layer of administrative ``level``."""
        for spec in self._layers.values():
            if spec.group == "boundary" and spec.level == level:
                return spec
        raise IntegrationsatlasError(f"Keine Grenzebene »{level}« registriert.")


#: The application's registry. Declarations live in :mod:`geo.layers.catalog`.
REGISTRY = LayerRegistry()
