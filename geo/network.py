"""The street network as data: a sparse travel-time matrix plus its node table.

A :class:`Network` is what every travel-time analysis runs on. It is made by
the one street-network loader (:mod:`geo.sources.streets`), cached on disk as a
plain ``.npz`` file (no pickles) and read back in well under a second; the graph
algorithms live in :mod:`planning.network`.

The cache stores **lengths** (and, for cars, the tagged speed of each edge),
not travel times: each travel mode applies its own speed
(:meth:`Network.for_mode`), so two modes sharing a network never share a speed.
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
import shapely
from numpy.typing import NDArray
from pyproj import CRS
from scipy.spatial import ConvexHull, QhullError, cKDTree
from shapely.geometry.base import BaseGeometry

from geo.errors import CRSError, DataError, Problem, raise_if_problems
from geo.modes import TravelMode
from geo.settings import PROJECTED_CRS

logger = logging.getLogger(__name__)

#: Version of the on-disk ``.npz`` layout written by :meth:`Network.save` (2: lengths and tagged speeds).
NPZ_FORMAT = 2


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
    lengths
        Length in metres of each stored edge, aligned with ``matrix.data``
        (``None`` for a network built from times only).
    speeds_kmh
        Speed of each stored edge from its tags (cars), aligned with
        ``matrix.data``; ``None`` when the network has no tagged speeds.

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
    lengths: NDArray[np.float64] | None = None
    speeds_kmh: NDArray[np.float64] | None = None

    def for_mode(self, mode: TravelMode) -> Network:
        """The network with the travel times of ``mode``: lengths at the mode's own speed.

        A constant ``speed_kmh`` applies to every edge; ``None`` takes each
        edge's tagged speed (:attr:`speeds_kmh`).

        Raises
        ------
        DataError
            If the network stores no lengths, or ``mode`` needs tagged
            speeds that it does not have.

        Examples
        --------
        >>> from geo.modes import MODES
        >>> m = sp.csr_array((np.array([1.0]), (np.array([0]), np.array([1]))), shape=(2, 2))
        >>> net = Network(m, np.arange(2), np.zeros((2, 2)), "walk", lengths=np.array([150.0]))
        >>> float(net.for_mode(MODES["walk"]).matrix.data[0]), float(net.for_mode(MODES["bike"]).matrix.data[0])
        (120.0, 36.0)
        """
        if self.lengths is None:
            raise DataError(f"Das Netz »{self.mode}« enthält keine Kantenlängen; bitte den Netz-Cache neu erzeugen.")
        if mode.speed_kmh is not None:
            kmh: NDArray[np.float64] | float = float(mode.speed_kmh)
        elif self.speeds_kmh is not None:
            kmh = self.speeds_kmh
        else:
            raise DataError(
                f"Der Modus »{mode.title}« nimmt die Geschwindigkeit aus den maxspeed-Angaben, das Netz "
                f"»{self.mode}« hat keine. Bitte das Netz »{mode.network}« laden."
            )
        m = self.matrix
        times = self.lengths / (np.asarray(kmh, dtype=np.float64) / 3.6)
        matrix = sp.csr_array((times, m.indices, m.indptr), shape=m.shape)
        out = Network(matrix, self.node_ids, self.xy, mode.id, self.crs, self.lengths, self.speeds_kmh)
        for cached in ("tree", "hull"):  # they depend on the nodes only: share them
            if cached in self.__dict__:
                out.__dict__[cached] = self.__dict__[cached]
        return out

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
        Self-loops are dropped: they never shorten a path. The edge attributes
        ``length`` (m) and ``speed_kph`` of the kept (fastest) parallel edge
        become :attr:`lengths` and :attr:`speeds_kmh` when every edge has them.
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
            [
                (u, v, _num(d.get(weight)), _num(d.get("length")), _num(d.get("speed_kph")))
                for u, v, d in G.edges(data=True)
            ],
            dtype=np.float64,
        ).reshape(-1, 5)
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
        u, v, times, lengths, speeds = u[keep], v[keep], times[keep], edges[keep, 3], edges[keep, 4]
        # fastest of parallel edges: sort by (u, v, time), keep the first of each (u, v)
        order = np.lexsort((times, v, u))
        u, v, times, lengths, speeds = u[order], v[order], times[order], lengths[order], speeds[order]
        first = np.ones(u.size, dtype=bool)
        first[1:] = (u[1:] != u[:-1]) | (v[1:] != v[:-1])
        n = node_ids.size
        matrix = sp.csr_array((times[first], (u[first], v[first])), shape=(n, n))
        length_m = sp.csr_array((lengths[first], (u[first], v[first])), shape=(n, n)).data
        speed = sp.csr_array((speeds[first], (u[first], v[first])), shape=(n, n)).data
        mode = str(G.graph.get("mode", "unbekannt"))
        return cls(
            matrix=matrix,
            node_ids=node_ids,
            xy=xy,
            mode=mode,
            crs=PROJECTED_CRS,
            lengths=length_m if np.isfinite(length_m).all() else None,
            speeds_kmh=speed if np.isfinite(speed).all() else None,
        )

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

    @cached_property
    def hull(self) -> BaseGeometry:
        """Convex hull of the nodes (a polygon; a line or point for fewer than three distinct places).

        Computed by Qhull on the coordinates: 0.3 s for the 3.2 M nodes of a
        Land-sized network, where GEOS on a ``MultiPoint`` takes 12 s.

        >>> m = sp.csr_array((3, 3))
        >>> Network(m, np.arange(3), np.array([[0.0, 0.0], [10.0, 0.0], [0.0, 10.0]]), "walk").hull.area
        50.0
        >>> Network(m, np.arange(3), np.array([[0.0, 0.0], [1.0, 0.0], [2.0, 0.0]]), "walk").hull.geom_type
        'LineString'
        """
        try:
            vertices = ConvexHull(self.xy).vertices
        except (QhullError, ValueError):  # fewer than three nodes, or all on one line
            return shapely.MultiPoint(self.xy).convex_hull
        return shapely.Polygon(self.xy[vertices])

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
                lengths=np.empty(0) if self.lengths is None else self.lengths,
                speeds_kmh=np.empty(0) if self.speeds_kmh is None else self.speeds_kmh,
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
                lengths, speeds = z["lengths"], z["speeds_kmh"]
                return cls(
                    matrix,
                    z["node_ids"],
                    z["xy"],
                    str(z["mode"][0]),
                    str(z["crs"][0]),
                    lengths if lengths.size == matrix.nnz else None,
                    speeds if speeds.size == matrix.nnz else None,
                )
        except (OSError, KeyError, ValueError) as exc:
            raise DataError(f"Netzdatei {path.name} ist unlesbar ({exc}).") from exc


def _num(value: object) -> float:
    """An edge attribute as a float; ``nan`` when missing."""
    return float("nan") if value is None else float(value)  # type: ignore[arg-type]
