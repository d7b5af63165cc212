"""Colour classes of the maps, one set for the app and the council report.

The covered share is always drawn with the same fixed classes
(:data:`SHARE_BREAKS`) and colours, so a map on screen and the same map in the
PDF can be compared at a glance, and two reports can be compared with each other.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from geo.formatting import de_int

#: Sequential, colour-blind-safe ColorBrewer YlGnBu, light to dark, by class count.
YLGNBU: dict[int, tuple[str, ...]] = {
    1: ("#41b6c4",),
    2: ("#a1dab4", "#225ea8"),
    3: ("#edf8b1", "#7fcdbb", "#2c7fb8"),
    4: ("#ffffcc", "#a1dab4", "#41b6c4", "#225ea8"),
    5: ("#ffffcc", "#a1dab4", "#41b6c4", "#2c7fb8", "#253494"),
    6: ("#ffffcc", "#c7e9b4", "#7fcdbb", "#41b6c4", "#2c7fb8", "#253494"),
}
#: Diverging, colour-blind-safe ColorBrewer PuOr for differences (negative → positive).
PUOR5: tuple[str, ...] = ("#e66101", "#fdb863", "#f7f7f7", "#b2abd2", "#5e3c99")
#: Diverging, colour-blind-safe ColorBrewer RdYlBu (blue = close, red = far) for costs against a threshold.
COST_COLORS: tuple[str, ...] = ("#2c7bb6", "#abd9e9", "#ffffbf", "#fdae61", "#d7191c")
#: Upper class limits of a cost as multiples of the threshold (the second class ends at the threshold).
COST_BREAKS_X: tuple[float, ...] = (0.5, 1.0, 1.5, 2.0, float("inf"))
#: Colour of units without a value.
NO_DATA_COLOR = "#d9d9d9"

#: Upper limits (per cent) of the classes of the covered share: planning questions are
#: about the last few per cent, so the classes are finer near 100 %.
SHARE_BREAKS: tuple[float, ...] = (50.0, 70.0, 85.0, 95.0, 100.0)
#: Colours of the share classes (light = poorly covered).
SHARE_COLORS: tuple[str, ...] = YLGNBU[len(SHARE_BREAKS)]


def share_class(percent: ArrayLike) -> NDArray[np.intp]:
    """Class index of each covered share (in per cent); ``-1`` for missing values.

    A value equal to an upper limit belongs to that class.

    >>> share_class([10.0, 50.0, 50.1, 99.0, 100.0, float("nan")]).tolist()
    [0, 0, 1, 4, 4, -1]
    """
    pct = np.asarray(percent, dtype=np.float64)
    cls = np.searchsorted(np.asarray(SHARE_BREAKS), pct, side="left").clip(0, len(SHARE_BREAKS) - 1)
    return np.where(np.isnan(pct), -1, cls).astype(np.intp)


def share_colors(percent: ArrayLike) -> list[str]:
    """The class colour of each covered share (per cent); :data:`NO_DATA_COLOR` where missing."""
    return [NO_DATA_COLOR if c < 0 else SHARE_COLORS[c] for c in share_class(percent)]


def share_labels() -> tuple[str, ...]:
    """German legend labels of the share classes.

    >>> share_labels()[0], share_labels()[-1]
    ('bis 50 %', '95–100 %')
    """
    lower = (0.0, *SHARE_BREAKS[:-1])
    return tuple(
        f"bis {de_int(hi)} %" if lo == 0 else f"{de_int(lo)}–{de_int(hi)} %"
        for lo, hi in zip(lower, SHARE_BREAKS, strict=True)
    )
