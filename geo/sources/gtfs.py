"""GTFS timetables: read one service day of a feed into arrays ready for RAPTOR.

A GTFS feed (VRR, VRS, NWL, AVV or the Germany-wide DELFI feed) is a zip of
CSV files. :func:`read_gtfs` reads the files public-transport routing needs
(``stops``, ``routes``, ``trips``, ``stop_times``, ``calendar`` /
``calendar_dates`` and ``frequencies``), keeps the trips that run on one day
and touch one departure window, cuts them to the stops of a planning area and
returns a :class:`Timetable`: a frozen dataclass of numpy arrays in which trips
are grouped into *patterns* (routes with one stop sequence, trips that never
overtake each other, sorted by departure), as the RAPTOR algorithm of
:mod:`planning.transit` expects.

All problems of a feed are collected and raised together as one
:class:`~geo.errors.ValidationError` whose problems name file, line and column.
"""

from __future__ import annotations

import itertools
import logging
import re
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray
from pyproj import Transformer
from shapely.geometry.base import BaseGeometry

from geo.errors import DataError, Problem, ValidationError
from geo.io.limits import ReadLimits
from geo.io.text import has_control
from geo.settings import PROJECTED_CRS
from geo.sources.gtfs_files import REQUIRED_COLUMNS, Feed

__all__ = ["REQUIRED_COLUMNS", "Timetable", "parse_times", "read_gtfs"]

logger = logging.getLogger(__name__)

#: Problems reported per check before the rest are summarised in one line.
_MAX_ROW_PROBLEMS = 20
#: Shortest plausible headway of ``frequencies.txt`` in seconds (no vehicle follows another closer).
MIN_HEADWAY_S = 30
#: Most trips ``frequencies.txt`` may expand to over the whole feed (over all its rows and spans).
MAX_FREQUENCY_TRIPS = 100_000
#: Most stop events one timetable may hold (stop times kept plus expanded ones): memory bound.
MAX_STOP_EVENTS = 20_000_000
#: Latest plausible GTFS time in hours after the start of the service day (trips after midnight use 24–30).
MAX_HOURS = 72
_DAY_S = 86_400
_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_TIME = re.compile(r"^\s*(\d{1,3}):([0-5]\d):([0-5]\d)\s*$")


@dataclass(frozen=True, eq=False)
class Timetable:
    """One service day of a GTFS feed as arrays for RAPTOR.

    Trips are grouped into *patterns*: trips of one GTFS route that serve the
    same stop sequence and never overtake each other, sorted by departure.
    Stop times of pattern ``p`` are stored trip after trip in
    ``arrival[time_ptr[p]:time_ptr[p+1]]`` (and ``departure``), i.e. trip
    ``j`` of the pattern (0-based) at its stop position ``k`` is at
    ``time_ptr[p] + j * n_stops(p) + k``.

    Parameters
    ----------
    feed
        File name of the feed (for citations and messages).
    day
        The service day.
    window
        Departure window ``(start, end)`` in seconds after midnight of ``day``.
    stop_ids, stop_names
        GTFS ``stop_id`` and ``stop_name`` per stop index.
    stop_xy
        ``n_stops × 2`` stop coordinates in EPSG:25832 (metres).
    route_ids
        GTFS ``route_id`` per pattern.
    pattern_stops_ptr, pattern_stops
        CSR: stop indices of pattern ``p`` are
        ``pattern_stops[pattern_stops_ptr[p]:pattern_stops_ptr[p+1]]``.
    pattern_trips_ptr
        Trips of pattern ``p`` are ``pattern_trips_ptr[p]…pattern_trips_ptr[p+1]-1``.
    trip_ids
        GTFS ``trip_id`` per trip; trips expanded from ``frequencies.txt`` get
        ``"@HH:MM:SS"`` (their first departure) appended.
    time_ptr
        Offset of pattern ``p`` in ``arrival`` and ``departure``.
    arrival, departure
        Seconds after midnight of ``day`` (may exceed 86 400 after midnight).
    stop_patterns_ptr, stop_patterns
        CSR: patterns serving stop ``s``.
    """

    feed: str
    day: date
    window: tuple[int, int]
    stop_ids: NDArray[np.object_]
    stop_names: NDArray[np.object_]
    stop_xy: NDArray[np.float64]
    route_ids: NDArray[np.object_]
    pattern_stops_ptr: NDArray[np.int64]
    pattern_stops: NDArray[np.int32]
    pattern_trips_ptr: NDArray[np.int64]
    trip_ids: NDArray[np.object_]
    time_ptr: NDArray[np.int64]
    arrival: NDArray[np.int32]
    departure: NDArray[np.int32]
    stop_patterns_ptr: NDArray[np.int64]
    stop_patterns: NDArray[np.int32]

    @property
    def n_stops(self) -> int:
        """Number of stops."""
        return int(self.stop_ids.size)

    @property
    def n_patterns(self) -> int:
        """Number of patterns (RAPTOR routes)."""
        return int(self.route_ids.size)

    @property
    def n_trips(self) -> int:
        """Number of trips (after expanding frequencies)."""
        return int(self.trip_ids.size)

    @property
    def n_stop_times(self) -> int:
        """Number of stop events."""
        return int(self.arrival.size)

    @classmethod
    def from_trips(
        cls,
        *,
        feed: str,
        day: date,
        window: tuple[int, int],
        stop_ids: NDArray[np.object_],
        stop_names: NDArray[np.object_],
        stop_xy: NDArray[np.float64],
        trips: list[tuple[str, str, NDArray[np.int32], NDArray[np.int32], NDArray[np.int32]]],
    ) -> Timetable:
        """Build a timetable from individual trips.

        Parameters
        ----------
        feed, day, window, stop_ids, stop_names, stop_xy
            As in the class.
        trips
            ``(route_id, trip_id, stops, arrival, departure)`` per trip, with
            stop indices and times in seconds in visiting order.

        Returns
        -------
        Timetable
            Trips grouped into non-overtaking patterns, sorted by departure.

        Notes
        -----
        Coordinates in EPSG:25832 (metres), times in seconds after midnight.
        """
        groups: dict[tuple[str, tuple[int, ...]], list[int]] = {}
        for i, (route, _, stops, _, _) in enumerate(trips):
            groups.setdefault((route, tuple(int(s) for s in stops)), []).append(i)
        route_ids: list[str] = []
        p_stops: list[NDArray[np.int32]] = []
        p_trips: list[list[int]] = []
        for (route, stops_key), members in groups.items():
            members.sort(key=lambda i: (int(trips[i][4][0]), int(trips[i][3][-1])))
            chains: list[list[int]] = []
            for i in members:  # greedy split into FIFO chains: no trip overtakes its predecessor
                for chain in chains:
                    last = chain[-1]
                    if np.all(trips[last][3] <= trips[i][3]) and np.all(trips[last][4] <= trips[i][4]):
                        chain.append(i)
                        break
                else:
                    chains.append([i])
            for chain in chains:
                route_ids.append(route)
                p_stops.append(np.asarray(stops_key, dtype=np.int32))
                p_trips.append(chain)
        n_pat = len(route_ids)
        lengths = np.array([s.size for s in p_stops], dtype=np.int64)
        counts = np.array([len(t) for t in p_trips], dtype=np.int64)
        stops_ptr = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
        trips_ptr = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
        time_ptr = np.concatenate([[0], np.cumsum(lengths * counts)]).astype(np.int64)
        order = [i for chain in p_trips for i in chain]
        arrival = np.concatenate([trips[i][3] for i in order]).astype(np.int32) if order else np.empty(0, np.int32)
        departure = np.concatenate([trips[i][4] for i in order]).astype(np.int32) if order else np.empty(0, np.int32)
        pattern_stops = np.concatenate(p_stops).astype(np.int32) if p_stops else np.empty(0, np.int32)
        pat_of = np.repeat(np.arange(n_pat, dtype=np.int32), lengths)
        pairs = np.unique(np.stack([pattern_stops, pat_of], axis=1), axis=0) if n_pat else np.empty((0, 2), np.int32)
        sp_counts = np.bincount(pairs[:, 0], minlength=len(stop_ids)) if n_pat else np.zeros(len(stop_ids), np.int64)
        return cls(
            feed=feed,
            day=day,
            window=(int(window[0]), int(window[1])),
            stop_ids=np.asarray(stop_ids, dtype=object),
            stop_names=np.asarray(stop_names, dtype=object),
            stop_xy=np.asarray(stop_xy, dtype=np.float64).reshape(-1, 2),
            route_ids=np.asarray(route_ids, dtype=object),
            pattern_stops_ptr=stops_ptr,
            pattern_stops=pattern_stops,
            pattern_trips_ptr=trips_ptr,
            trip_ids=np.asarray([trips[i][1] for i in order], dtype=object),
            time_ptr=time_ptr,
            arrival=arrival,
            departure=departure,
            stop_patterns_ptr=np.concatenate([[0], np.cumsum(sp_counts)]).astype(np.int64),
            stop_patterns=pairs[:, 1].astype(np.int32),
        )


def read_gtfs(
    path: Path,
    *,
    day: date,
    window: tuple[int, int],
    area: BaseGeometry | None = None,
    horizon_s: int | None = None,
    limits: ReadLimits | None = None,
) -> Timetable:
    """Read one service day of a GTFS feed.

    Parameters
    ----------
    path
        GTFS zip file (or a folder holding the ``.txt`` files).
    day
        Service day; trips whose ``service_id`` runs on it (``calendar.txt``
        weekdays and date range, amended by ``calendar_dates.txt``) are kept.
    window
        Departure window ``(start, end)`` in seconds after midnight,
        e.g. ``(7 * 3600, 9 * 3600)``.
    area
        Planning area in EPSG:25832; only stops inside it are kept (trips are
        cut to those stops). ``None`` keeps every stop.
    horizon_s
        A trip is kept when it runs at some time in
        ``[start, end + horizon_s]``. ``None`` uses the longest trip duration
        of the day, so that every trip boarded after the window's last minute
        is still there; journeys with several transfers that end later may
        find fewer connections.
    limits
        ``max_feed_bytes`` bounds the feed's packed and unpacked size
        (checked before and while reading; defaults of
        :class:`geo.settings.Settings`).

    Returns
    -------
    Timetable

    Raises
    ------
    SourceUnavailableError
        If the file is missing or not a zip.
    ValidationError
        Listing every problem found: missing files or columns, text that is
        not UTF-8, unknown or repeated stop, trip or route ids, broken times
        (also past :data:`MAX_HOURS`), coordinates or dates, stop names with
        control characters, a stop sequence repeated within a trip, times
        running backwards within a trip, headways under
        :data:`MIN_HEADWAY_S` or expanding to more than
        :data:`MAX_FREQUENCY_TRIPS` trips.
    DataError
        If the feed is damaged, too large or unpacks like a bomb, has a line
        over 1 MB, the day's timetable would exceed :data:`MAX_STOP_EVENTS`,
        or no trip runs on ``day`` in the window.

    Notes
    -----
    Stops are projected from WGS84 to EPSG:25832 (metres); times are seconds
    after midnight of ``day`` and may exceed 24:00:00 (trips after midnight
    belong to the day they start on, as GTFS defines). Trips of the previous
    service day that are still running after midnight (times past 24:00:00)
    are kept too, shifted by one day (their ``trip_id`` gets ``"@Vortag"``
    appended; their first times may be negative). Missing arrival or
    departure times of intermediate stops (``timepoint=0``) are interpolated
    linearly by stop position. Trips in ``frequencies.txt`` are expanded into
    one trip per departure ``start_time, start_time + headway, …`` before
    ``end_time`` (exclusive), with the stop-time offsets of the template
    trip; this is the ``exact_times=1`` schedule and is used for
    ``exact_times=0`` too (R5 instead draws random offsets for those).
    """
    start, end = int(window[0]), int(window[1])
    if not 0 <= start < end:
        raise DataError(f"Das Abfahrtsfenster ({start}, {end}) ist ungültig: erwartet 0 ≤ Beginn < Ende in Sekunden.")
    with Feed(Path(path), limits) as feed:
        problems: list[Problem] = []
        for name in ("stops.txt", "routes.txt", "trips.txt", "stop_times.txt"):
            if not feed.has(name):
                problems.append(
                    Problem(
                        f"Pflichtdatei {name} fehlt im GTFS-Feed.",
                        "Einen vollständigen GTFS-Feed (z. B. von VRR, VRS, NWL, AVV oder DELFI) verwenden.",
                        file=feed.name,
                    )
                )
        if not (feed.has("calendar.txt") or feed.has("calendar_dates.txt")):
            problems.append(
                Problem(
                    "Weder calendar.txt noch calendar_dates.txt ist vorhanden.",
                    "Der Feed braucht mindestens eine der beiden Dateien.",
                    file=feed.name,
                )
            )
        _raise(problems, feed.name)
        services = _services_on(feed, day, problems)
        services_before = _services_on(feed, day - timedelta(days=1), [])
        routes = feed.read("routes.txt", problems, ["route_id"])
        trips = feed.read("trips.txt", problems, ["route_id", "service_id", "trip_id"])
        stops = feed.read("stops.txt", problems, ["stop_id", "stop_name", "stop_lat", "stop_lon"])
        freq = (
            feed.read("frequencies.txt", problems, ["trip_id", "start_time", "end_time", "headway_secs"])
            if feed.has("frequencies.txt")
            else None
        )
        _raise(problems, feed.name)
        _check_refs(trips, "route_id", set(routes["route_id"]), "trips.txt", "routes.txt", problems)
        _check_unique(stops, "stop_id", "stops.txt", problems)
        _check_unique(trips, "trip_id", "trips.txt", problems)
        _row_problems(
            stops,
            has_control(stops["stop_name"]),
            "stops.txt",
            "stop_name",
            "Der Name enthält Steuerzeichen.",
            "Steuerzeichen (unsichtbare Zeichen, z. B. U+0007) aus dem Namen entfernen.",
            problems,
        )
        xy = _project_stops(stops, problems)
        all_stop_ids = pd.Index(stops["stop_id"])
        keep_stop = np.isfinite(xy).all(axis=1)
        if area is not None:
            keep_stop &= shapely.contains_xy(area, xy[:, 0], xy[:, 1])
        today = set(trips.loc[trips["service_id"].isin(services), "trip_id"])
        before = set(trips.loc[trips["service_id"].isin(services_before), "trip_id"])
        freq_trips = set() if freq is None else set(freq["trip_id"])
        stop_times = _read_stop_times(
            feed,
            set(trips["trip_id"]),
            today | before,
            all_stop_ids,
            None if area is None else set(all_stop_ids[keep_stop]),
            freq_trips,
            problems,
        )
        if freq is not None:
            freq = _parse_frequencies(freq, set(trips["trip_id"]), problems)
        _raise(problems, feed.name)
        route_of = dict(zip(trips["trip_id"], trips["route_id"], strict=True))
        trip_list = _assemble_trips(
            stop_times,
            _Days(route_of, today, before),
            freq,
            start,
            end,
            horizon_s,
            problems,
            feed.name,
            cut=area is not None,
        )
        _raise(problems, feed.name)
        if not trip_list and not services:
            raise DataError(
                f"GTFS-Feed {feed.name}: am {day:%d.%m.%Y} verkehrt laut calendar.txt/calendar_dates.txt "
                f"keine Fahrt{_validity(feed)}. Bitte einen Tag im Gültigkeitszeitraum wählen."
            )
        if not trip_list:
            where = " im Planungsgebiet" if area is not None else ""
            raise DataError(
                f"GTFS-Feed {feed.name}: am {day:%d.%m.%Y} zwischen {_hms(start)} und {_hms(end)} "
                f"fährt{where} keine Fahrt. Bitte Tag, Zeitfenster oder Gebiet prüfen."
            )
        used = np.unique(np.concatenate([t[2] for t in trip_list]))
        remap = np.full(len(all_stop_ids), -1, dtype=np.int32)
        remap[used] = np.arange(used.size, dtype=np.int32)
        trip_list = [(r, t, remap[s], a, d) for r, t, s, a, d in trip_list]
        table = Timetable.from_trips(
            feed=feed.name,
            day=day,
            window=(start, end),
            stop_ids=stops["stop_id"].to_numpy(dtype=object)[used],
            stop_names=stops["stop_name"].to_numpy(dtype=object)[used],
            stop_xy=xy[used],
            trips=trip_list,
        )
    logger.info(
        "GTFS %s: %d Haltestellen, %d Linienmuster, %d Fahrten am %s",
        table.feed,
        table.n_stops,
        table.n_patterns,
        table.n_trips,
        day,
    )
    return table


def _raise(problems: list[Problem], feed: str) -> None:
    if problems:
        raise ValidationError(problems, f"GTFS-Feed {feed} ist ungültig")


def _row_problems(
    df: pd.DataFrame,
    mask: NDArray[np.bool_] | pd.Series,
    file: str,
    column: str,
    message: str,
    fix: str,
    problems: list[Problem],
) -> None:
    """One problem per masked row (up to a limit, then one summary line)."""
    rows = df.loc[np.asarray(mask, dtype=bool)]
    for _, row in rows.head(_MAX_ROW_PROBLEMS).iterrows():
        value = row[column] if column in row.index else ""
        problems.append(Problem(message.format(value=value), fix, file=file, row=int(row["line"]), column=column))
    if len(rows) > _MAX_ROW_PROBLEMS:
        problems.append(
            Problem(
                f"… und {len(rows) - _MAX_ROW_PROBLEMS} weitere Zeilen mit demselben Problem.",
                fix,
                file=file,
                column=column,
            )
        )


def _check_refs(
    df: pd.DataFrame, column: str, known: set[str], file: str, target: str, problems: list[Problem]
) -> None:
    bad = ~df[column].isin(known)
    _row_problems(
        df,
        bad,
        file,
        column,
        f"»{{value}}« ist in {target} nicht definiert.",
        f"Die ID in {target} ergänzen oder die Zeile entfernen.",
        problems,
    )


def _check_unique(df: pd.DataFrame, column: str, file: str, problems: list[Problem]) -> None:
    _row_problems(
        df,
        df[column].duplicated(),
        file,
        column,
        "»{value}« kommt mehrfach vor.",
        "Jede ID darf nur einmal vorkommen.",
        problems,
    )


def parse_times(values: pd.Series) -> NDArray[np.float64]:
    """GTFS times ``H:MM:SS`` (hours may exceed 23) as seconds; ``nan`` for empty or broken values.

    >>> parse_times(pd.Series(["07:05:30", "25:00:00", "", "7:5"]))
    array([25530., 90000.,    nan,    nan])
    """
    parts = values.astype(str).str.extract(_TIME)
    seconds = parts[0].astype(float) * 3600 + parts[1].astype(float) * 60 + parts[2].astype(float)
    return np.asarray(seconds, dtype=np.float64)


def _hms(seconds: float) -> str:
    s = int(seconds)
    sign, s = ("-", -s) if s < 0 else ("", s)
    return f"{sign}{s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}"


def _services_on(feed: Feed, day: date, problems: list[Problem]) -> set[str]:
    """Service ids running on ``day`` (calendar weekdays and range, then calendar_dates exceptions)."""
    active: set[str] = set()
    stamp = day.strftime("%Y%m%d")
    if feed.has("calendar.txt"):
        cal = feed.read("calendar.txt", problems, list(REQUIRED_COLUMNS["calendar.txt"]))
        if len(cal):
            for col in ("start_date", "end_date"):
                _row_problems(
                    cal,
                    pd.to_datetime(cal[col], format="%Y%m%d", errors="coerce").isna(),
                    "calendar.txt",
                    col,
                    "»{value}« ist kein Datum JJJJMMTT.",
                    "Datum als JJJJMMTT schreiben.",
                    problems,
                )
            weekday = _WEEKDAYS[day.weekday()]
            _row_problems(
                cal,
                ~cal[weekday].isin(["0", "1"]),
                "calendar.txt",
                weekday,
                "»{value}« ist weder 0 noch 1.",
                "0 oder 1 eintragen.",
                problems,
            )
            runs = (cal[weekday] == "1") & (cal["start_date"] <= stamp) & (cal["end_date"] >= stamp)
            active |= set(cal.loc[runs, "service_id"])
    if feed.has("calendar_dates.txt"):
        exc = feed.read("calendar_dates.txt", problems, list(REQUIRED_COLUMNS["calendar_dates.txt"]))
        if len(exc):
            _row_problems(
                exc,
                ~exc["exception_type"].isin(["1", "2"]),
                "calendar_dates.txt",
                "exception_type",
                "»{value}« ist weder 1 (zusätzlich) noch 2 (entfällt).",
                "1 oder 2 eintragen.",
                problems,
            )
            today = exc[exc["date"] == stamp]
            active |= set(today.loc[today["exception_type"] == "1", "service_id"])
            active -= set(today.loc[today["exception_type"] == "2", "service_id"])
    return active


def _validity(feed: Feed) -> str:
    """`` (gültig JJJJMMTT–JJJJMMTT)`` from calendar.txt, for messages."""
    if not feed.has("calendar.txt"):
        return ""
    cal = feed.read("calendar.txt", [], ["start_date", "end_date"])
    if cal.empty:
        return ""
    return f" (Feed gültig {cal['start_date'].min()}–{cal['end_date'].max()})"


def _project_stops(stops: pd.DataFrame, problems: list[Problem]) -> NDArray[np.float64]:
    lat = pd.to_numeric(stops["stop_lat"], errors="coerce").to_numpy(dtype=float)
    lon = pd.to_numeric(stops["stop_lon"], errors="coerce").to_numpy(dtype=float)
    for col, values, limit in (("stop_lat", lat, 90.0), ("stop_lon", lon, 180.0)):
        bad = ~(np.abs(values) <= limit)
        _row_problems(
            stops,
            bad,
            "stops.txt",
            col,
            "»{value}« ist keine gültige Koordinate (WGS84, Dezimalgrad).",
            "Koordinate in Dezimalgrad mit Punkt eintragen.",
            problems,
        )
    x, y = Transformer.from_crs("EPSG:4326", PROJECTED_CRS, always_xy=True).transform(lon, lat)
    return np.column_stack([x, y]).astype(np.float64)


def _read_stop_times(
    feed: Feed,
    all_trips: set[str],
    day_trips: set[str],
    stop_ids: pd.Index,
    area_stops: set[str] | None,
    freq_trips: set[str],
    problems: list[Problem],
) -> pd.DataFrame:
    """Stop times of the day's trips, validated, as numbers.

    With an area only rows at its stops are kept (plus every row of a
    frequency template, whose first departure anchors the headways), so
    that a Germany-wide feed never sits in memory as a whole.
    """
    stop_set = set(stop_ids)
    first = ~stop_ids.duplicated()  # a repeated stop_id is a problem of stops.txt; its first row is used here
    position = pd.Series(np.flatnonzero(first), index=stop_ids[first])
    kept: list[pd.DataFrame] = []
    n_kept = 0
    cols = ["trip_id", "arrival_time", "departure_time", "stop_id", "stop_sequence"]
    for chunk in feed.chunks("stop_times.txt", cols, problems):
        _check_refs(chunk, "trip_id", all_trips, "stop_times.txt", "trips.txt", problems)
        _check_refs(chunk, "stop_id", stop_set, "stop_times.txt", "stops.txt", problems)
        chunk = chunk[chunk["trip_id"].isin(day_trips)]
        chunk = chunk[_in_area(chunk, area_stops) | chunk["trip_id"].isin(freq_trips).to_numpy()]
        in_area = _in_area(chunk, area_stops)
        seq = pd.to_numeric(chunk["stop_sequence"], errors="coerce")
        _row_problems(
            chunk,
            ~(seq >= 0) | (seq % 1 != 0),
            "stop_times.txt",
            "stop_sequence",
            "»{value}« ist keine ganze Zahl ≥ 0.",
            "Laufende Nummer der Haltestelle eintragen.",
            problems,
        )
        arr = parse_times(chunk["arrival_time"])
        dep = parse_times(chunk["departure_time"])
        for col, values in (("arrival_time", arr), ("departure_time", dep)):
            broken = (np.isnan(values) & (chunk[col].str.strip() != "").to_numpy()) | (values > MAX_HOURS * 3600)
            _row_problems(
                chunk,
                broken,
                "stop_times.txt",
                col,
                "»{value}« ist keine gültige Uhrzeit HH:MM:SS (bis " + str(MAX_HOURS) + ":00:00).",
                "Zeit als HH:MM:SS schreiben (Stunden über 24 sind für Fahrten nach Mitternacht erlaubt).",
                problems,
            )
        n_kept += len(chunk)
        if n_kept > MAX_STOP_EVENTS:
            raise DataError(
                f"GTFS-Feed {feed.name}: mehr als {MAX_STOP_EVENTS:,} Haltezeiten für diesen Tag".replace(",", ".")
                + " (bis Zeile "
                + str(int(chunk["line"].iloc[-1]))
                + " von stop_times.txt). Bitte ein Planungsgebiet wählen oder einen regionalen Feed verwenden."
            )
        part = pd.DataFrame(
            {
                "trip": chunk["trip_id"].to_numpy(),
                "stop": position.reindex(chunk["stop_id"].to_numpy()).fillna(-1).to_numpy(dtype=np.int64),
                "seq": seq.to_numpy(),
                "arr": arr,
                "dep": dep,
                "line": chunk["line"].to_numpy(),
                "in_area": in_area,
            }
        )
        kept.append(part)
    if not kept:
        return pd.DataFrame(columns=["trip", "stop", "seq", "arr", "dep", "line", "in_area"])
    out = pd.concat(kept, ignore_index=True)
    repeated = out.duplicated(["trip", "seq"]).to_numpy() & out["seq"].notna().to_numpy()
    _row_problems(
        out.assign(stop_sequence=out["seq"]),
        repeated,
        "stop_times.txt",
        "stop_sequence",
        "stop_sequence »{value}« kommt in dieser Fahrt mehrfach vor.",
        "Jede Haltestelle einer Fahrt mit eigener, aufsteigender Nummer eintragen.",
        problems,
    )
    return out


def _in_area(chunk: pd.DataFrame, area_stops: set[str] | None) -> NDArray[np.bool_]:
    if area_stops is None:
        return np.ones(len(chunk), dtype=bool)
    return chunk["stop_id"].isin(area_stops).to_numpy()


def _parse_frequencies(freq: pd.DataFrame, all_trips: set[str], problems: list[Problem]) -> pd.DataFrame:
    _check_refs(freq, "trip_id", all_trips, "frequencies.txt", "trips.txt", problems)
    start = parse_times(freq["start_time"])
    end = parse_times(freq["end_time"])
    headway = pd.to_numeric(freq["headway_secs"], errors="coerce").to_numpy(dtype=float)
    for col, values in (("start_time", start), ("end_time", end)):
        _row_problems(
            freq,
            np.isnan(values) | (values > MAX_HOURS * 3600),
            "frequencies.txt",
            col,
            "»{value}« ist keine gültige Uhrzeit HH:MM:SS (bis " + str(MAX_HOURS) + ":00:00).",
            "Zeit als HH:MM:SS schreiben.",
            problems,
        )
    _row_problems(
        freq,
        ~(headway >= MIN_HEADWAY_S) | (headway % 1 != 0),
        "frequencies.txt",
        "headway_secs",
        "»{value}« ist kein Takt in ganzen Sekunden ab " + str(MIN_HEADWAY_S) + " s.",
        "Takt in Sekunden eintragen (kein Fahrzeug folgt dem anderen in weniger als "
        + str(MIN_HEADWAY_S)
        + " Sekunden).",
        problems,
    )
    _row_problems(
        freq,
        ~(end > start) & ~np.isnan(start) & ~np.isnan(end),
        "frequencies.txt",
        "end_time",
        "Ende »{value}« liegt nicht nach dem Beginn.",
        "end_time nach start_time setzen.",
        problems,
    )
    with np.errstate(invalid="ignore"):
        runs = np.where(headway >= MIN_HEADWAY_S, np.ceil((end - start) / np.maximum(headway, 1.0)), 0.0)
    total = float(np.nansum(np.clip(runs, 0.0, None)))
    if total > MAX_FREQUENCY_TRIPS:
        problems.append(
            Problem(
                f"frequencies.txt ergibt {total:,.0f} Fahrten (Zeitspanne ÷ Takt über alle Zeilen); erlaubt sind "
                f"höchstens {MAX_FREQUENCY_TRIPS:,}.".replace(",", "."),
                "Zeitspannen und Takte prüfen (headway_secs in Sekunden, end_time nach start_time).",
                file="frequencies.txt",
                column="headway_secs",
            )
        )
    return pd.DataFrame({"trip": freq["trip_id"].to_numpy(), "start": start, "end": end, "headway": headway})


@dataclass(frozen=True)
class _Days:
    """Which trips run on the service day (``today``) and which on the day before (``before``)."""

    route_of: dict[str, str]
    today: set[str]
    before: set[str]

    def runs(self, trip: str) -> list[tuple[str, float]]:
        """``(trip id shown, time offset in seconds)`` of each run of ``trip`` relative to the service day."""
        out = [(trip, 0.0)] if trip in self.today else []
        if trip in self.before:
            out.append((f"{trip}@Vortag", -float(_DAY_S)))
        return out


def _complete_trips(
    st: pd.DataFrame, route_of: dict[str, str], problems: list[Problem], *, cut: bool
) -> list[tuple[str, str, NDArray[np.int32], NDArray[np.float64], NDArray[np.float64], float, float]]:
    """Each trip's stops and times, completed (interpolated) and checked; ``(route, trip, stops, arr, dep,
    first departure, duration)``. Problems of a trip are added to ``problems`` and the trip is skipped."""
    st = st[st["stop"] >= 0].sort_values(["trip", "seq"], kind="stable")
    candidates: list[tuple[str, str, NDArray[np.int32], NDArray[np.float64], NDArray[np.float64], float, float]] = []
    trip_ids = st["trip"].to_numpy()
    bounds = np.flatnonzero(np.r_[True, trip_ids[1:] != trip_ids[:-1], True]) if len(st) else np.array([0])
    stop_arr, arr_arr, dep_arr = st["stop"].to_numpy(), st["arr"].to_numpy(), st["dep"].to_numpy()
    area_arr, line_arr = st["in_area"].to_numpy(), st["line"].to_numpy()
    for a, b in itertools.pairwise(bounds):
        trip = str(trip_ids[a])
        arr, dep = arr_arr[a:b].copy(), dep_arr[a:b].copy()
        arr = np.where(np.isnan(arr), dep, arr)
        dep = np.where(np.isnan(dep), arr, dep)
        rows = np.arange(a, b)
        if cut and (np.isnan(arr[0]) or np.isnan(arr[-1])):
            timed = np.flatnonzero(~np.isnan(arr))
            if timed.size < 2:
                continue
            span = slice(timed[0], timed[-1] + 1)
            arr, dep, rows = arr[span], dep[span], rows[span]
        if np.isnan(arr[0]) or np.isnan(arr[-1]):
            problems.append(
                Problem(
                    f"Fahrt »{trip}« hat an der ersten oder letzten Haltestelle keine Zeit.",
                    "Ankunfts- und Abfahrtszeit an Anfangs- und Endhaltestelle eintragen.",
                    file="stop_times.txt",
                    row=int(line_arr[a if np.isnan(arr[0]) else b - 1]),
                    column="arrival_time",
                )
            )
            continue
        missing = np.isnan(arr)
        if missing.any():  # timepoint=0: interpolate by position
            pos = np.arange(arr.size)
            arr[missing] = np.interp(pos[missing], pos[~missing], arr[~missing])
            dep[missing] = arr[missing]
        back = np.flatnonzero((dep < arr) | np.r_[False, arr[1:] < dep[:-1]])
        if back.size:
            problems.append(
                Problem(
                    f"Die Zeiten der Fahrt »{trip}« laufen rückwärts.",
                    "Zeiten in der Reihenfolge von stop_sequence aufsteigend eintragen.",
                    file="stop_times.txt",
                    row=int(line_arr[rows[back[0]]]),
                    column="arrival_time",
                )
            )
            continue
        keep = area_arr[rows]
        if keep.sum() < 2:
            continue
        candidates.append(
            (
                route_of[trip],
                trip,
                stop_arr[rows][keep].astype(np.int32),
                arr[keep],
                dep[keep],
                float(dep[0]),
                float(arr[-1] - dep[0]),
            )
        )
    return candidates


def _assemble_trips(
    st: pd.DataFrame,
    days: _Days,
    freq: pd.DataFrame | None,
    start: int,
    end: int,
    horizon_s: int | None,
    problems: list[Problem],
    feed: str,
    *,
    cut: bool,
) -> list[tuple[str, str, NDArray[np.int32], NDArray[np.int32], NDArray[np.int32]]]:
    """Complete, check, expand and window-cut the trips of the day (and those of the day before past midnight).

    With ``cut`` (an area was given) a trip holds only its rows in the area,
    and stops without a time at the ends of that stretch are dropped.

    Raises
    ------
    DataError
        If the trips in the window (frequencies expanded) would hold more
        than :data:`MAX_STOP_EVENTS` stop events; counted before expanding.
    """
    candidates = _complete_trips(st, days.route_of, problems, cut=cut)
    freq_by_trip = {} if freq is None else dict(list(freq.groupby("trip")))
    if problems or not candidates:
        return []
    horizon = max(c[6] for c in candidates) if horizon_s is None else float(horizon_s)
    out: list[tuple[str, str, NDArray[np.int32], NDArray[np.int32], NDArray[np.int32]]] = []
    events = 0
    for route, trip, stops, arr, dep, first_dep, _ in candidates:
        fr = freq_by_trip.get(trip)
        for shown, offset in days.runs(trip):
            lo, hi = float(start) - offset, float(end) + horizon - offset  # the window in the trip's own day
            if fr is None:
                if arr[-1] >= lo and dep[0] <= hi:
                    out.append((route, shown, stops, (arr + offset).astype(np.int32), (dep + offset).astype(np.int32)))
                    events += stops.size
                continue
            rel_arr, rel_dep = arr - first_dep, dep - first_dep
            for f_start, f_end, f_head in fr[["start", "end", "headway"]].to_numpy():
                first = max(f_start, f_start + np.ceil((lo - rel_arr[-1] - f_start) / f_head) * f_head)
                last = min(f_end, hi + 1)
                departures = np.arange(first, last, f_head) if first < last else np.empty(0)
                events += len(departures) * stops.size
                if events > MAX_STOP_EVENTS:
                    raise DataError(
                        f"GTFS-Feed {feed}: die Fahrten im Zeitfenster ergäben mehr als "
                        f"{MAX_STOP_EVENTS:,} Haltezeiten (frequencies.txt, Fahrt »{trip}«). ".replace(",", ".")
                        + "Bitte ein kürzeres Zeitfenster oder ein Planungsgebiet wählen."
                    )
                for t0 in departures:
                    out.append(
                        (
                            route,
                            f"{shown}@{_hms(t0)}",
                            stops,
                            (rel_arr + t0 + offset).astype(np.int32),
                            (rel_dep + t0 + offset).astype(np.int32),
                        )
                    )
        if events > MAX_STOP_EVENTS:
            raise DataError(
                f"GTFS-Feed {feed}: die Fahrten im Zeitfenster ergäben mehr als {MAX_STOP_EVENTS:,} ".replace(",", ".")
                + "Haltezeiten. Bitte ein kürzeres Zeitfenster oder ein Planungsgebiet wählen."
            )
    logger.debug("%s: %d Fahrten im Fenster (Horizont %.0f s)", feed, len(out), horizon)
    return out
