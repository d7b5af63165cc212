"""Text from data on a terminal and in log lines: control characters are shown, never obeyed.

A facility name, a file name or a cell value printed by the CLI or written to
a log could carry terminal control sequences (``ESC [ …`` recolours, moves the
cursor, rewrites the window title), a bell, backspaces or line breaks that
forge a second log line. The entry points (:func:`integrationsatlas.cli.main`,
``app.py``) route their output through :func:`printable_streams` and their log
handlers through :class:`OneLineLogRecords`, so such characters appear as
``\\x1b``-style escapes instead.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, TextIO

__all__ = ["OneLineLogRecords", "printable", "printable_streams"]

#: C0 controls except tab and line feed, DEL and the C1 controls (``\x9b`` is a one-byte CSI).
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
#: The same plus line feed and tab: a log message is one line.
_CONTROL_OR_BREAK = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable(text: str, *, one_line: bool = False) -> str:
    r"""``text`` with terminal control characters as visible escapes (tab and line feed kept).

    Parameters
    ----------
    text
        Any text.
    one_line
        Escape line feeds and tabs too (for log messages).

    >>> print(printable("Kita \x1b[31mrot\x1b[0m\x07"))
    Kita \x1b[31mrot\x1b[0m\x07
    >>> print(printable("a\nINFO gefälscht", one_line=True))
    a\x0aINFO gefälscht
    """
    return (_CONTROL_OR_BREAK if one_line else _CONTROL).sub(_escape, text)


class _PrintableStream:
    """A text stream that writes :func:`printable` text to ``stream`` (a leading ``\\r`` of a progress line stays)."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        head = "\r" if text.startswith("\r") else ""
        return self._stream.write(head + printable(text[len(head) :]))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


@contextmanager
def printable_streams() -> Iterator[None]:
    """Within the block, ``sys.stdout`` and ``sys.stderr`` write :func:`printable` text (restored afterwards)."""
    out, err = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = _PrintableStream(out), _PrintableStream(err)
    try:
        yield
    finally:
        sys.stdout, sys.stderr = out, err


class OneLineLogRecords(logging.Filter):
    """A log handler filter: the message of every record becomes one printable line.

    Added to the handlers by the entry points; a name with a line break or an
    escape sequence in a log message cannot forge a record or drive the
    terminal. Tracebacks (``exc_info``) are left as they are.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        record.msg, record.args = printable(message, one_line=True), None
        return True
