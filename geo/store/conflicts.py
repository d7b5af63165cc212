"""Conflicts between concurrent writers of the data store, as German errors (both backends)."""

from __future__ import annotations

from geo.errors import DataError


def concurrent_change(name: str, loaded: int, stored: int) -> DataError:
    """The error for an overwrite that would lose someone else's save.

    >>> print(concurrent_change("Plan A", 1, 2))  # doctest: +ELLIPSIS
    Szenario »Plan A« wurde inzwischen von jemand anderem gespeichert (Version 2, geladen war Version 1)...
    """
    return DataError(
        f"Szenario »{name}« wurde inzwischen von jemand anderem gespeichert (Version {stored}, geladen war "
        f"Version {loaded}). Bitte das Szenario neu laden und die Änderung erneut vornehmen, oder unter "
        "einem anderen Namen speichern."
    )


def exists_error(name: str) -> DataError:
    """The error for saving an existing scenario name without ``overwrite``."""
    return DataError(
        f"Ein Szenario »{name}« gibt es schon. Bitte einen anderen Namen wählen oder "
        "ausdrücklich überschreiben (CLI: --overwrite)."
    )


def duplicate_batch(layer_id: str, batch_id: str) -> DataError:
    """The error for a batch id another writer took at the same moment."""
    return DataError(
        f"Ebene »{layer_id}«: Stapel-ID {batch_id} wurde gleichzeitig von einem anderen Import "
        "vergeben. Bitte den Import wiederholen; der Datenspeicher ist unverändert."
    )
