"""Cumulative opportunities: how many facilities can be reached within a travel time.

»Wie viele Kitas erreicht man in 10 Minuten zu Fuß?« is answered per origin
(network node, demand point, 100 m cell) by :func:`cumulative_opportunities`,
the standard cumulative-opportunity accessibility measure (count, or summed
capacity, of the destinations within a cut-off). It runs one bounded Dijkstra
search per distinct facility (or origin) node with the kernels of
:mod:`planning.shortest_paths`, each costing what it reaches within the
cut-off, not the size of the network.
"""

from __future__ import annotations

import logging

import numpy as np
from numpy.typing import ArrayLike, NDArray

from geo.errors import DataError
from geo.network import Network
from planning.shortest_paths import distinct_nodes, gather, spread

__all__ = ["cumulative_opportunities"]

logger = logging.getLogger(__name__)


def cumulative_opportunities(
    net: Network,
    origin_nodes: ArrayLike,
    facility_nodes: ArrayLike,
    cutoff_s: float,
    weights: ArrayLike | None = None,
) -> NDArray[np.float64]:
    """Number (or summed weight) of facilities reachable from each origin within a cut-off.

    Parameters
    ----------
    net
        The network (travel times in seconds).
    origin_nodes
        Node position per origin (e.g. snapped demand points), duplicates allowed.
    facility_nodes
        Node position per facility; several facilities on one node all count.
    cutoff_s
        Longest travel time in seconds; a facility at exactly ``cutoff_s``
        counts.
    weights
        Optional weight per facility (e.g. places of a Kita); default 1 each,
        which makes the result a count.

    Returns
    -------
    numpy.ndarray
        Per origin (in the order of ``origin_nodes``) the number of facilities,
        or the sum of their weights, whose travel time **from the origin to the
        facility** is at most ``cutoff_s``.

    Raises
    ------
    DataError
        For node positions outside the network, a negative or non-finite
        cut-off, or weights that do not match the facilities or are not finite.

    Notes
    -----
    The searches start on the smaller side: from the distinct facility nodes
    on the reversed matrix (times *to* the facility, the family's trip; every
    node reached adds the facility's weight, :func:`planning.shortest_paths.spread`)
    or from the distinct origin nodes on the matrix itself (the weights of the
    facility nodes reached are summed, :func:`planning.shortest_paths.gather`).
    Each search stops at ``cutoff_s`` and costs what it reaches; times are
    those of ``scipy.sparse.csgraph.dijkstra``, bit for bit. Times in seconds;
    the network is in EPSG:25832 but no coordinate is used.

    Examples
    --------
    A street 0 – 1 – 2 (60 s per edge, both ways) with two Kitas at node 2:

    >>> import numpy as np, scipy.sparse as sp
    >>> m = sp.csr_array((np.full(4, 60.0), ([0, 1, 1, 2], [1, 0, 2, 1])), shape=(3, 3))
    >>> net = Network(m, np.arange(3), np.zeros((3, 2)), "walk")
    >>> cumulative_opportunities(net, [0, 1, 2], [2, 2], cutoff_s=60)
    array([0., 2., 2.])
    """
    origins = _positions(net, origin_nodes, "Startpunkte")
    facilities = _positions(net, facility_nodes, "Einrichtungen")
    if not (np.isfinite(cutoff_s) and cutoff_s >= 0):
        raise DataError(f"Zeitgrenze muss eine Zahl ≥ 0 Sekunden sein, nicht {cutoff_s!r}.")
    if weights is None:
        w = np.ones(facilities.size)
    else:
        w = np.asarray(weights, dtype=np.float64).ravel()
        if w.size != facilities.size:
            raise DataError(
                f"Gewichte: {w.size} Werte für {facilities.size} Einrichtungen. Bitte je Einrichtung ein Gewicht "
                "angeben (z. B. die Platzzahl)."
            )
        if not np.isfinite(w).all():
            raise DataError(
                f"Gewichte: {int((~np.isfinite(w)).sum())} Wert(e) fehlen oder sind unendlich. "
                "Bitte fehlende Gewichte (z. B. Platzzahlen) ergänzen."
            )
    if origins.size == 0 or facilities.size == 0:
        return np.zeros(origins.size)
    fac_nodes, fac_inverse = distinct_nodes(facilities, net.n_nodes)
    fac_weight = np.bincount(fac_inverse, weights=w, minlength=fac_nodes.size).astype(np.float64)
    org_nodes, org_inverse = distinct_nodes(origins, net.n_nodes)
    if fac_nodes.size <= org_nodes.size:
        # from the facilities on the reversed graph: every node collects the weights that reach it
        per_origin = spread(net.reverse, fac_nodes, float(cutoff_s), fac_weight)[org_nodes]
    else:
        # from the origins on the graph itself: sum the weights of the facility nodes reached
        node_weight = np.zeros(net.n_nodes)
        node_weight[fac_nodes] = fac_weight
        per_origin = gather(net.matrix, org_nodes, float(cutoff_s), node_weight)
    return np.asarray(per_origin[org_inverse], dtype=np.float64)


def _positions(net: Network, nodes: ArrayLike, what: str) -> NDArray[np.intp]:
    arr = np.asarray(nodes)
    if arr.size == 0:
        return np.empty(0, np.intp)
    if arr.ndim != 1 or not np.issubdtype(arr.dtype, np.integer):
        raise DataError(f"{what}: erwartet werden Knotenpositionen (ganze Zahlen), nicht {arr.dtype}.")
    bad = (arr < 0) | (arr >= net.n_nodes)
    if bad.any():
        raise DataError(
            f"{what}: {int(bad.sum())} Knotenposition(en) liegen außerhalb des Netzes (0…{net.n_nodes - 1}). "
            "Bitte die Punkte mit planning.network.snap() an dieses Netz anbinden."
        )
    return arr.astype(np.intp)
