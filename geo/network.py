"""The street network as data: a sparse travel-time matrix plus its node table.

A :class:`Network` is what every travel-time analysis runs on. It is made by
the one street-network loader (:mod:`geo.sources.streets`), cached on disk as a
plain ``.npz`` file (no pickles) and read back in well under a second; the graph
algorithms live in :mod:`planning.network`.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import networkx as nx
import numpy as np
import pandas as pd
import scipy.sparse as sp
from numpy.typing import NDArray
from pyproj import CRS
from scipy.spatial import cKDTree

from geo.errors import CRSError, DataError, Problem, raise_if_problems
from geo.settings import PROJECTED_CRS

logger = logging.getLogger(__name__)

#: Version of the on-disk ``.npz`` layout written by :meth:`Network.save`.
NPZ_FORMAT = 1


@dataclass(frozen=True, eq=False)
class Network:
    """A street network as a sparse travel-time matrix plus its node table.

    Parameters
    ----------
    matrix
        ``n × n`` CSR matrix; entry ``(u, v)`` is the travel time in seconds
        of the fastest edge from node position ``u`` to ``v`` (the minimum over
        parallel edges). A stored 0 is a zero-length edge.
    node_ids
        OSM node id per node position.
    xy
        ``n × 2`` node coordinates in ``crs`` (metres).
    mode
        The travel mode the times belong to.
    crs
        CRS of ``xy`` (EPSG:25832).

    Notes
    -----
    Node *positions* (0…n-1) index every array of this module; ``node_ids``
    maps them back to OSM ids.
    """

    matrix: sp.csr_array
    node_ids: NDArray[np.int64]
    xy: NDArray[np.float64]
    mode: str
    crs: str = PROJECTED_CRS

    @classmethod
    def from_graph(cls, G: nx.MultiDiGraph, weight: str = "travel_time") -> Network:
        """Build a network from an osmnx graph in EPSG:25832.

        Parameters
        ----------
        G
            Graph from :func:`build_graph_from_xml`, :func:`build_graph_from_polygon`
            (or any projected osmnx-style graph with node
            attributes ``x``, ``y`` and the edge attribute ``weight``).
        weight
            Edge attribute holding the travel time in seconds.

        Returns
        -------
        Network

        Raises
        ------
        CRSError
            If the graph is not projected to EPSG:25832.
        ValidationError
            If nodes lack coordinates or edges lack a valid travel time.

        Notes
        -----
        Self-loops are dropped: they never shorten a path.
        """
        crs = G.graph.get("crs")
        if crs is None or CRS.from_user_input(crs) != CRS.from_user_input(PROJECTED_CRS):
            raise CRSError(
                f"Das Straßennetz ist in {crs or 'unbekanntem CRS'}, erwartet wird {PROJECTED_CRS}. "
                "Bitte mit build_graph_from_xml() erzeugen oder mit "
                f"ox.project_graph(G, to_crs='{PROJECTED_CRS}') projizieren."
            )
        if G.number_of_nodes() == 0:
            raise DataError("Das Straßennetz ist leer (keine Knoten). Bitte ein größeres Gebiet wählen.")
        problems: list[Problem] = []
        node_ids = np.fromiter(G.nodes, dtype=np.int64, count=G.number_of_nodes())
        xy = np.array(
            [(data.get("x", np.nan), data.get("y", np.nan)) for _, data in G.nodes(data=True)],
            dtype=np.float64,
        ).reshape(-1, 2)
        for pos in np.flatnonzero(~np.isfinite(xy).all(axis=1))[:20]:
            problems.append(
                Problem(
                    f"Knoten {node_ids[pos]} hat keine Koordinaten (x/y).",
                    "Bitte das Netz neu erzeugen.",
                    column="x/y",
                )
            )
        edges = np.array(
            [(u, v, np.nan if t is None else t) for u, v, t in G.edges(data=weight)], dtype=np.float64
        ).reshape(-1, 3)
        times = edges[:, 2]
        for k in np.flatnonzero(~(np.isfinite(times) & (times >= 0)))[:20]:
            problems.append(
                Problem(
                    f"Kante {int(edges[k, 0])}→{int(edges[k, 1])} hat keine gültige Reisezeit ({times[k]}).",
                    "Bitte das Netz mit build_graph_from_xml() erzeugen (setzt travel_time).",
                    column=weight,
                )
            )
        raise_if_problems(problems, "Das Straßennetz ist unvollständig")
        index = pd.Index(node_ids)
        u = index.get_indexer(pd.Index(edges[:, 0].astype(np.int64)))
        v = index.get_indexer(pd.Index(edges[:, 1].astype(np.int64)))
        keep = u != v
        u, v, times = u[keep], v[keep], times[keep]
        # fastest of parallel edges: sort by (u, v, time), keep the first of each (u, v)
        order = np.lexsort((times, v, u))
        u, v, times = u[order], v[order], times[order]
        first = np.ones(u.size, dtype=bool)
        first[1:] = (u[1:] != u[:-1]) | (v[1:] != v[:-1])
        n = node_ids.size
        matrix = sp.csr_array((times[first], (u[first], v[first])), shape=(n, n))
        mode = str(G.graph.get("mode", "unbekannt"))
        return cls(matrix=matrix, node_ids=node_ids, xy=xy, mode=mode, crs=PROJECTED_CRS)

    @property
    def n_nodes(self) -> int:
        """Number of nodes."""
        return int(self.node_ids.size)

    @cached_property
    def reverse(self) -> sp.csr_array:
        """The transposed matrix: searches on it give times *to* the sources."""
        return sp.csr_array(self.matrix.T)

    @cached_property
    def tree(self) -> cKDTree:
        """KD-tree on the node coordinates, for snapping."""
        return cKDTree(self.xy)

    def save(self, path: Path) -> None:
        """Write the network to ``path`` as an uncompressed ``.npz`` file.

        The file is written under a temporary name and renamed, so an
        interrupted run never leaves a half-written file. Only plain arrays are
        stored (``allow_pickle=False`` on reading).
        """
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f".{path.stem}.{os.getpid()}.partial.npz")
        m = self.matrix
        with partial.open("wb") as fh:
            np.savez(
                fh,
                format=np.array([NPZ_FORMAT]),
                data=m.data,
                indices=m.indices,
                indptr=m.indptr,
                node_ids=self.node_ids,
                xy=self.xy,
                mode=np.array([self.mode]),
                crs=np.array([self.crs]),
            )
        partial.replace(path)

    @classmethod
    def load(cls, path: Path) -> Network:
        """Read a network written by :meth:`save`.

        Raises
        ------
        DataError
            If the file is not a network file of the current layout.
        """
        try:
            with np.load(path, allow_pickle=False) as z:
                if int(z["format"][0]) != NPZ_FORMAT:
                    raise DataError(f"Netzdatei {path.name} hat ein veraltetes Format.")
                n = int(z["node_ids"].size)
                matrix = sp.csr_array((z["data"], z["indices"], z["indptr"]), shape=(n, n))
                return cls(matrix, z["node_ids"], z["xy"], str(z["mode"][0]), str(z["crs"][0]))
        except (OSError, KeyError, ValueError) as exc:
            raise DataError(f"Netzdatei {path.name} ist unlesbar ({exc}).") from exc
