"""Find every share figure in a JSON document of the CLI, with its interval (issue 23: every share has one)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

NOT_SHARES = ("request", "score_weights")  # the request's inputs and the gap score's weights are no shares


def shares(node: Any, path: str = "") -> Iterator[tuple[str, dict[str, Any], str]]:
    """Every share figure of ``node``: (path, the dict that holds it, its key); interval records are skipped."""
    if isinstance(node, dict):
        if {"point", "low", "high"} <= set(node):
            return
        for key, value in node.items():
            if key in NOT_SHARES:
                continue
            if isinstance(value, (dict, list)):
                yield from shares(value, f"{path}.{key}")
            elif (
                "share" in key
                and isinstance(value, float)
                and not key.endswith(("_low", "_high"))
                and np.isfinite(value)
            ):
                yield f"{path}.{key}", node, key
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from shares(value, f"{path}[{i}]")


def interval_of(holder: dict[str, Any], key: str, path: str) -> tuple[float, float]:
    """The interval of ``holder[key]``: a sibling ``<key>_interval`` record or ``<key>_low``/``<key>_high``."""
    record = holder.get(f"{key}_interval")
    if record is not None:
        assert record["point"] == holder[key] or abs(record["point"] - holder[key]) < 1e-9, path
        return record["low"], record["high"]
    assert f"{key}_low" in holder and f"{key}_high" in holder, f"{path} hat kein Intervall"
    return holder[f"{key}_low"], holder[f"{key}_high"]


def assert_every_share_has_its_interval(document: Any, at_least: int) -> int:
    """Check that each share lies in its interval; returns how many shares were checked."""
    found = list(shares(document))
    assert len(found) >= at_least, [p for p, _, _ in found]
    for path, holder, key in found:
        low, high = interval_of(holder, key, path)
        assert low - 1e-12 <= holder[key] <= high + 1e-12, (path, low, holder[key], high)
    return len(found)
