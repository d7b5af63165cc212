"""Where a figure used in a calculation comes from: a funding rate, a noise parameter, an error model.

Data *files* are declared in :mod:`geo.layers.sources` (licence, attribution);
the figures that enter the maths (a programme's 90 %, the Zensus noise) carry
a :class:`Citation` instead, so the report can print its source and date next
to the number.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Citation:
    """The source of a figure.

    Parameters
    ----------
    title
        Title of the document or page.
    publisher
        Who published it.
    url
        Address (``None`` for a document without one, e.g. the seeds in ``../shared/seeds``).
    as_of
        Date or year the figure refers to (ISO ``YYYY-MM-DD`` or ``YYYY``), ``None`` if the source gives none.
    states
        What the source says, in our words (German).
    """

    title: str
    publisher: str
    url: str | None
    as_of: str | None
    states: str

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return {
            "title": self.title,
            "publisher": self.publisher,
            "url": self.url,
            "as_of": self.as_of,
            "states": self.states,
        }
