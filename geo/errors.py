"""The project's exception hierarchy.

The UI and the CLI catch :class:`IntegrationsatlasError` (and only it) and show
its message to the user. Any other exception is a bug.

Messages are written in German for the end user and name the file, row or
feature, column and the fix, as far as they are known.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass


class IntegrationsatlasError(Exception):
    """Base class of every error the user may see."""


class DataError(IntegrationsatlasError, ValueError):
    """Input data is unusable (broken file, bad values, outside NRW...)."""


class SchemaError(DataError):
    """Input data lacks required columns or has columns of the wrong type."""


class CRSError(IntegrationsatlasError, ValueError):
    """A coordinate reference system is missing, geographic or unexpected."""


class SourceUnavailableError(IntegrationsatlasError):
    """An online source or a data file that is needed could not be reached."""


class DatabaseUnavailableError(SourceUnavailableError):
    """The database of a multi-user server cannot be reached or lost the connection; trying again may work."""


class InfeasibleError(IntegrationsatlasError):
    """An optimisation request has no feasible solution."""


class NotLoadedError(IntegrationsatlasError):
    """Data that a function needs has not been loaded yet (e.g. Gemeinden)."""


@dataclass(frozen=True)
class Problem:
    """One validation problem, located as precisely as possible.

    Parameters
    ----------
    message
        What is wrong, in German.
    fix
        What the user should do about it, in German.
    file
        Name of the input file, if any.
    row
        1-based data row number (as a user sees it in a spreadsheet), if any.
    column
        Column name, if any.
    """

    message: str
    fix: str = ""
    file: str | None = None
    row: int | None = None
    column: str | None = None

    def __str__(self) -> str:
        where = []
        if self.file:
            where.append(f"Datei {self.file}")
        if self.row is not None:
            where.append(f"Zeile {self.row}")
        if self.column:
            where.append(f"Spalte »{self.column}«")
        prefix = ", ".join(where)
        text = f"{prefix}: {self.message}" if prefix else self.message
        return f"{text} – {self.fix}" if self.fix else text

    def as_dict(self) -> dict[str, object]:
        """Return the problem as a JSON-serialisable dict."""
        return {
            "file": self.file,
            "row": self.row,
            "column": self.column,
            "message": self.message,
            "fix": self.fix,
        }


class ValidationError(DataError):
    """Several problems found while validating one input.

    Validation collects *all* problems first (as ``osmnx/_validate.py`` does)
    and raises once; ``problems`` holds them for reports and the CLI.
    """

    def __init__(self, problems: Sequence[Problem], title: str = "Die Daten sind ungültig") -> None:
        self.problems: tuple[Problem, ...] = tuple(problems)
        self.title = title
        lines = [f"{title} ({len(self.problems)} Problem(e)):"]
        lines += [f"- {p}" for p in self.problems[:50]]
        if len(self.problems) > 50:
            lines.append(f"- … und {len(self.problems) - 50} weitere")
        super().__init__("\n".join(lines))


def raise_if_problems(problems: Iterable[Problem], title: str = "Die Daten sind ungültig") -> None:
    """Raise :class:`ValidationError` if ``problems`` is not empty."""
    found = list(problems)
    if found:
        raise ValidationError(found, title)
