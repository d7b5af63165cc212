"""The files of a GTFS feed: opened once, checked before reading, streamed in bounded chunks.

A feed is a ZIP (or a folder) of comma-separated UTF-8 text files. Before
anything is parsed, :class:`Feed` checks the ZIP's central directory
(damage, encryption, unpacked sizes up to ``Settings.max_feed_bytes``,
members that unpack like a bomb) and that every file name occurs once.
Each file is then read through a :class:`geo.io.bounded.LimitedReader`:
bytes are counted as they come (against lying ZIP headers), lines longer
than :data:`geo.io.bounded.MAX_LINE_BYTES` are refused before the CSV parser
builds them, and a damaged member becomes a German message naming the file.
Text that is not UTF-8 (the GTFS reference requires it) is refused with the
line of the first undecodable byte.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pandas as pd

from geo.errors import DataError, Problem, SourceUnavailableError
from geo.io.bounded import open_limited
from geo.io.limits import MAX_RATIO, ReadLimits, check_zip

#: Columns every file must have (files marked optional may be missing).
REQUIRED_COLUMNS: dict[str, tuple[str, ...]] = {
    "stops.txt": ("stop_id", "stop_lat", "stop_lon"),
    "routes.txt": ("route_id",),
    "trips.txt": ("route_id", "service_id", "trip_id"),
    "stop_times.txt": ("trip_id", "arrival_time", "departure_time", "stop_id", "stop_sequence"),
    "calendar.txt": (
        "service_id",
        "monday",
        "tuesday",
        "wednesday",
        "thursday",
        "friday",
        "saturday",
        "sunday",
        "start_date",
        "end_date",
    ),
    "calendar_dates.txt": ("service_id", "date", "exception_type"),
    "frequencies.txt": ("trip_id", "start_time", "end_time", "headway_secs"),
}
#: Rows of a file parsed at once (bounds memory on Germany-wide feeds).
CHUNK_ROWS = 2_000_000
_UTF8_FIX = "Datei als UTF-8 speichern (die GTFS-Referenz verlangt UTF-8) oder den Feed neu herunterladen."


class Feed:
    """A GTFS zip or folder, opened once; file names matched case-insensitively.

    Parameters
    ----------
    path
        The ZIP or the folder.
    limits
        ``max_feed_bytes`` bounds the packed file, the unpacked members
        (declared and counted while reading) and each folder file.

    Raises
    ------
    SourceUnavailableError
        If the path does not exist.
    DataError
        If the ZIP is damaged, too large, unpacks like a bomb, or holds a
        file name twice (in two folders).
    """

    def __init__(self, path: Path, limits: ReadLimits | None = None) -> None:
        self.path = path
        self.name = path.name
        self.limits = limits or ReadLimits()
        self._zip = False
        if path.is_dir():
            files = [p for p in path.iterdir() if p.is_file()]
            self._members = self._unique({p.name.lower(): p.name for p in files}, [p.name for p in files])
            for p in files:
                if p.stat().st_size > self.limits.max_feed_bytes:
                    raise self._too_large(p.name, p.stat().st_size)
            return
        if not path.is_file():
            raise SourceUnavailableError(f"GTFS-Datei {path} nicht gefunden. Bitte den Pfad prüfen.")
        if path.stat().st_size > self.limits.max_feed_bytes:
            raise self._too_large(path.name, path.stat().st_size)
        try:
            with path.open("rb") as fh:
                is_zip = fh.read(4).startswith(b"PK")
        except OSError as exc:
            raise SourceUnavailableError(f"GTFS-Datei {path.name} ist nicht lesbar ({type(exc).__name__}).") from exc
        if not is_zip:
            raise SourceUnavailableError(
                f"GTFS-Datei {path.name} ist keine ZIP-Datei. Bitte den Feed (eine .zip) erneut herunterladen."
            )
        infos = check_zip(
            path,
            path.name,
            self.limits,
            member_bytes=self.limits.max_feed_bytes,
            total_bytes=self.limits.max_feed_bytes,
            max_ratio=MAX_RATIO,
        )
        self._zip = True
        names = [i.filename for i in infos if not i.is_dir() and not i.filename.startswith("__MACOSX")]
        self._members = self._unique({Path(n).name.lower(): n for n in names}, names)

    def _too_large(self, name: str, size: int) -> DataError:
        return DataError(
            f"GTFS-Datei {self.name}: {name} ist {size / 1e6:,.0f} MB groß; erlaubt sind höchstens "
            f"{self.limits.max_feed_bytes / 1e6:,.0f} MB (Einstellung max_feed_bytes)."
        )

    def _unique(self, members: dict[str, str], names: list[str]) -> dict[str, str]:
        seen: dict[str, str] = {}
        for n in names:
            key = Path(n).name.lower()
            if key in REQUIRED_COLUMNS and key in seen:
                raise DataError(
                    f"GTFS-Datei {self.name}: {key} kommt zweimal vor ({seen[key]} und {n}); unklar, welche "
                    "gilt. Bitte nur einen Feed in die ZIP-Datei packen."
                )
            seen[key] = n
        return members

    def __enter__(self) -> Feed:
        return self

    def __exit__(self, *args: object) -> None:
        return None

    def has(self, name: str) -> bool:
        """Whether the feed holds the file ``name`` (lower case, e.g. ``"stops.txt"``)."""
        return name in self._members

    @contextmanager
    def _open(self, name: str) -> Iterator[io.TextIOWrapper]:
        member = self._members[name]
        shown = f"{self.name}!{member}"
        target = self.path if self._zip else self.path / member
        with open_limited(
            target,
            member if self._zip else None,
            shown=shown,
            limit=self.limits.max_feed_bytes,
            setting="max_feed_bytes",
        ) as raw:
            yield io.TextIOWrapper(raw, encoding="utf-8-sig", newline="")

    def chunks(self, name: str, usecols: list[str], problems: list[Problem]) -> Iterator[pd.DataFrame]:
        """Rows of ``name`` as strings, in chunks; ``line`` holds the line number in the file.

        Missing required columns, text that is not UTF-8 and unparseable CSV
        are added to ``problems`` (the file then yields nothing more).
        """
        try:
            with self._open(name) as fh:
                yield from self._chunks(fh, name, usecols, problems)
        except UnicodeDecodeError:
            line = self._first_bad_line(name)
            problems.append(Problem("Die Datei ist kein UTF-8-Text.", _UTF8_FIX, file=name, row=line))

    def _chunks(
        self, fh: io.TextIOWrapper, name: str, usecols: list[str], problems: list[Problem]
    ) -> Iterator[pd.DataFrame]:
        first = fh.readline()
        header = [c.strip().strip('"') for c in first.rstrip("\r\n").split(",")]
        missing = [c for c in REQUIRED_COLUMNS.get(name, ()) if c not in header]
        for col in missing:
            problems.append(
                Problem(
                    f"Pflichtspalte »{col}« fehlt.",
                    "Spalte ergänzen (siehe GTFS-Referenz).",
                    file=name,
                    row=1,
                    column=col,
                )
            )
        if missing:
            return
        cols = [c for c in usecols if c in header]
        first_line = 2
        try:
            reader = pd.read_csv(
                fh,
                names=header,
                header=None,
                dtype=str,
                keep_default_na=False,
                usecols=cols,
                chunksize=CHUNK_ROWS,
                skipinitialspace=True,
            )
            for chunk in reader:
                for c in usecols:
                    if c not in chunk.columns:
                        chunk[c] = ""
                chunk["line"] = np.arange(first_line, first_line + len(chunk))
                first_line += len(chunk)
                yield chunk
        except (pd.errors.ParserError, ValueError, OverflowError) as exc:
            if isinstance(exc, DataError):
                raise
            problems.append(
                Problem(
                    f"Datei ist kein gültiges CSV ({str(exc).strip()[:160]}).",
                    "Datei als UTF-8-CSV mit Komma als Trennzeichen speichern.",
                    file=name,
                )
            )

    def _first_bad_line(self, name: str) -> int:
        """1-based line of the first byte that is not UTF-8 (streamed once more, on the error path only)."""
        member = self._members[name]
        target = self.path if self._zip else self.path / member
        with open_limited(
            target,
            member if self._zip else None,
            shown=f"{self.name}!{member}",
            limit=self.limits.max_feed_bytes,
            setting="max_feed_bytes",
        ) as raw:
            for number, line in enumerate(raw, start=1):
                try:
                    line.decode("utf-8")
                except UnicodeDecodeError:
                    return number
        return 1

    def read(self, name: str, problems: list[Problem], usecols: list[str]) -> pd.DataFrame:
        """The whole file ``name`` (as :meth:`chunks`), empty with the columns when nothing could be read."""
        parts = list(self.chunks(name, usecols, problems))
        if not parts:
            return pd.DataFrame({c: pd.Series(dtype=str) for c in [*usecols, "line"]})
        return pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]
