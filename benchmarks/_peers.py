"""Peers the benchmarks compare with, set up one way: a pandana network built from ours."""

from __future__ import annotations

import time
from typing import Any

import pandas as pd

from geo.network import Network


def pandana_network(net: Network, horizon_s: float) -> tuple[Any, float, float]:
    """pandana 0.8 on ``net``'s nodes and directed edges (its travel times), precomputed up to ``horizon_s``.

    Returns the network, the seconds of building it (pandana's contraction hierarchy) and of ``precompute``.
    """
    import pandana

    coo = net.matrix.tocoo()
    t0 = time.perf_counter()
    pnet = pandana.Network(
        pd.Series(net.xy[:, 0]), pd.Series(net.xy[:, 1]), pd.Series(coo.row), pd.Series(coo.col),
        pd.DataFrame({"t": coo.data}), twoway=False,
    )  # fmt: skip
    t1 = time.perf_counter()
    pnet.precompute(horizon_s)
    return pnet, t1 - t0, time.perf_counter() - t1
