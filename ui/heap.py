"""Short garbage-collector pauses in the long-running app server.

Python's full collection walks every tracked object: in the app server that
is a few hundred thousand (the modules of pandas, geopandas, folium and
Streamlit, the loaded boundaries), and a full collection took 0.2 s, in about
every second run of the Karte (measured with ``gc.callbacks`` on the shared
data). These objects live as long as the process. After the first run of each
page, :func:`settle` collects once and moves what is alive then out of the
collector's view (:func:`gc.freeze`); a full collection then walks only what
later runs create (0.03–0.05 s).
"""

from __future__ import annotations

import gc
import threading

_settled: set[str] = set()
_lock = threading.Lock()


def settle(page: str) -> None:
    """After the first finished run of ``page`` in this process: collect, then freeze what is alive.

    Later calls for the same page do nothing. Objects frozen here and freed
    later are never reclaimed if they form cycles; that is bounded by one
    freeze per page.
    """
    with _lock:
        if page in _settled:
            return
        _settled.add(page)
    gc.collect()
    gc.freeze()
