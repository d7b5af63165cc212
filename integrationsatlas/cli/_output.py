"""Shared output helpers for CLI subcommands."""

from __future__ import annotations

import json
import math
import os
import sys
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from planning.resolution import ResolutionVerdict

#: How the CLI marks figures from too coarse demand; the verdict itself is printed above them.
ROUGH_NOTE = "nur grobe Näherung, siehe oben"


def rough_suffix(verdict: ResolutionVerdict | None) -> str:
    """`` – nur grobe Näherung, siehe oben`` for a heading whose figures rest on too coarse demand, else empty.

    >>> from planning.resolution import ResolutionVerdict
    >>> rough_suffix(None), rough_suffix(ResolutionVerdict(False, 21, 5000.0, "gemeinde", "zu grob"))
    ('', ' – nur grobe Näherung, siehe oben')
    """
    return "" if verdict is None or verdict.ok else f" – {ROUGH_NOTE}"


def _clean(value: Any) -> Any:
    """Turn numpy/pandas scalars and NaN into JSON-friendly values."""
    if isinstance(value, Mapping):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
        return None
    if value is pd.NA or value is pd.NaT:
        return None
    return value


def emit_json_lines(records: Iterable[Mapping[str, Any]]) -> None:
    """Print one JSON object per line (JSON Lines)."""
    for rec in records:
        sys.stdout.write(json.dumps(_clean(rec), ensure_ascii=False) + "\n")


def emit_json(obj: Any) -> None:
    """Print one JSON document."""
    sys.stdout.write(json.dumps(_clean(obj), ensure_ascii=False, indent=2) + "\n")


def frame_records(df: pd.DataFrame) -> list[dict[str, Any]]:
    """A DataFrame (without geometry) as a list of JSON-friendly dicts."""
    cols = [c for c in df.columns if c != "geometry"]
    return [_clean(r) for r in df[cols].to_dict(orient="records")]


@contextmanager
def stdout_to_stderr(enabled: bool = True) -> Iterator[None]:
    """Send everything written to standard output to standard error while the block runs.

    For ``--json``: standard output then carries only the JSON document,
    even when a library writes to file descriptor 1 directly (the HiGHS
    solver prints its banner and log from C).
    """
    if not enabled:
        yield
        return
    sys.stdout.flush()
    saved = os.dup(1)
    try:
        os.dup2(2, 1)
        previous, sys.stdout = sys.stdout, sys.stderr
        try:
            yield
        finally:
            sys.stdout = previous
            sys.stderr.flush()
    finally:
        os.dup2(saved, 1)
        os.close(saved)
