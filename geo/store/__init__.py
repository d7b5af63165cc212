"""The data store: imported and fetched layers as restorable batches, and saved scenarios.

* :mod:`geo.store.datastore` – the local GeoPackage store (:class:`DataStore`);
* :mod:`geo.store.scenarios` – saved siting plans, crash-safe.
"""

from geo.store.datastore import BATCHES_TABLE, MODES, PENDING_TABLE, BatchInfo, DataStore, Mode

__all__ = ["BATCHES_TABLE", "MODES", "PENDING_TABLE", "BatchInfo", "DataStore", "Mode"]
