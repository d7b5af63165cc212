"""Generated GTFS feeds (synthetic) for fuzzing the timetable reader behind ``--gtfs``.

Valid feeds have random stops in NRW (names with accents and scripts of every
kind), routes, trips in the departure window, a calendar, sometimes
``calendar_dates`` and ``frequencies``, BOM, CRLF, quoted fields, a feed in a
sub-folder of the ZIP, and trips of the previous service day running past
midnight. Hostile feeds carry one known defect each (the issue's findings
among them: a corrupt member, a Windows-1252 ``stop_times.txt``, duplicate
stop ids, one giant field, 1-second headways over 30 hours, a
``stop_times.txt`` bomb).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from pathlib import Path

import fuzz_common as cm
import fuzz_corpus as fc
from fuzz_runner import Job

DAY = "2026-03-10"  # a Tuesday
WINDOW = (7 * 3600, 9 * 3600)
NAMES = (
    "Hauptbahnhof",
    "Käpt´n-Blaubär-Platz",
    "Münster, Domplatz",
    "Œuvre-Straße",
    "Señora Ñandú",
    "Zürich/Genève",
    "Łódź Fabryczna",
    "東京駅",
    "Ĳsselstraße",
    "Aachen Elisenbrunnen",
    "Düren Bf",
    "Çakır ağa",
    "Ελληνικά",
    "Київ",
    "'Quote' & <Tag>",
)


def _hms(s: int) -> str:
    return f"{s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}"


def _csv(header: list[str], rows: list[list[str]], quote: bool = False, newline: str = "\n") -> str:
    def cell(v: str) -> str:
        return '"' + v.replace('"', '""') + '"' if quote or "," in v or '"' in v else v

    return newline.join([",".join(header)] + [",".join(cell(v) for v in r) for r in rows]) + newline


def feed_files(
    rng: random.Random, *, before_midnight: bool = False, frequencies: bool | None = None
) -> dict[str, list[list[str]]]:
    """Tables of a valid feed: ``{file: [header, *rows]}``; a trip departs in :data:`WINDOW` on :data:`DAY`."""
    points = cm.lonlat(cm.nrw_points(rng, rng.randint(3, 10)))
    stops = [["stop_id", "stop_name", "stop_lat", "stop_lon"]]
    for i, (lon, lat) in enumerate(points):
        stops.append([f"S{i}", rng.choice(NAMES), f"{lat:.6f}", f"{lon:.6f}"])
    routes = [["route_id", "route_short_name", "route_type"]] + [[f"R{r}", str(r + 1), "3"] for r in range(3)]
    trips = [["route_id", "service_id", "trip_id"]]
    times = [["trip_id", "arrival_time", "departure_time", "stop_id", "stop_sequence"]]
    for t in range(rng.randint(1, 8)):
        trip, route = f"T{t}", f"R{rng.randrange(3)}"
        trips.append([route, "WK", trip])
        seq = rng.sample(range(len(points)), rng.randint(2, len(points)))
        clock = (
            (24 * 3600 + rng.randint(0, 3600))
            if before_midnight
            else rng.randint(*WINDOW)
            if t == 0
            else (rng.randint(5 * 3600, 11 * 3600))
        )
        step = rng.choice([1, 10])
        for k, s in enumerate(seq):
            dwell = rng.choice([0, 0, 30])
            times.append([trip, _hms(clock), _hms(clock + dwell), f"S{s}", str((k + 1) * step)])
            clock += dwell + rng.randint(60, 600)
    days = ["1", "1", "1", "1", "1", "0", "0"] if not before_midnight else ["0", "1", "0", "0", "0", "0", "0"]
    calendar = [
        ["service_id", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
        + ["start_date", "end_date"],
        ["WK", *days, "20260101", "20261231"],
    ]
    files = {"stops.txt": stops, "routes.txt": routes, "trips.txt": trips, "stop_times.txt": times}
    files["calendar.txt"] = calendar
    if rng.random() < 0.3:
        files["calendar_dates.txt"] = [["service_id", "date", "exception_type"], ["WK", "20260406", "2"]]
    if frequencies if frequencies is not None else (rng.random() < 0.3 and not before_midnight):
        head = rng.randint(60, 1200)
        files["frequencies.txt"] = [
            ["trip_id", "start_time", "end_time", "headway_secs"],
            ["T0", _hms(WINDOW[0]), _hms(WINDOW[0] + rng.randint(1, 3) * 3600), str(head)],
        ]
    return files


def write_feed(
    path: Path,
    files: dict[str, list[list[str]]],
    rng: random.Random | None = None,
    *,
    encodings: dict[str, str] | None = None,
    raw: dict[str, bytes] | None = None,
) -> Path:
    """Zip the tables (format variants drawn from ``rng``); ``raw`` adds or replaces members as bytes."""
    quote = bool(rng and rng.random() < 0.2)
    newline = "\r\n" if rng and rng.random() < 0.3 else "\n"
    folder = "gtfs/" if rng and rng.random() < 0.15 else ""
    bom = "utf-8-sig" if rng and rng.random() < 0.2 else "utf-8"
    members = {}
    for name, table in files.items():
        text = _csv(table[0], table[1:], quote=quote, newline=newline)
        members[folder + name] = text.encode((encodings or {}).get(name, bom))
    for name, data in (raw or {}).items():
        members[folder + name] = data
    return cm.write_zip(path, members)


def valid(folder: Path, rng: random.Random, i: int) -> Job:
    if rng.random() < 0.15:  # trips of Tuesday past midnight, asked for on Wednesday 00:00–02:00
        path = write_feed(folder / f"v{i:05d}_nacht.zip", feed_files(rng, before_midnight=True), rng)
        return Job(path.name, "gtfs", (str(path),), "accept", "valid past midnight",
                   {"day": "2026-03-11", "window": [0, 2 * 3600]}, {"trips_min": 1})  # fmt: skip
    path = write_feed(folder / f"v{i:05d}.zip", feed_files(rng), rng)
    return Job(
        path.name, "gtfs", (str(path),), "accept", "valid", {"day": DAY, "window": list(WINDOW)}, {"trips_min": 1}
    )


# --- defects: ``(folder, rng, name) -> Job`` each, one file with that defect ------------------------


def _bad(folder: Path, name: str, files: dict[str, list[list[str]]], kind: str, **kwargs: object) -> Job:
    path = write_feed(folder / f"{name}.zip", files, **kwargs)  # type: ignore[arg-type]
    return Job(path.name, "gtfs", (str(path),), "refuse", kind, {"day": DAY, "window": list(WINDOW)})


def _edit(file: str, row: int, col: str, value: str, kind: str) -> Callable[[Path, random.Random, str], Job]:
    def make(f: Path, r: random.Random, n: str) -> Job:
        files = feed_files(r)
        table = files[file]
        table[min(row, len(table) - 1)][table[0].index(col)] = value
        return _bad(f, n, files, kind)

    return make


def _drop(file: str) -> Callable[[Path, random.Random, str], Job]:
    def make(f: Path, r: random.Random, n: str) -> Job:
        files = feed_files(r)
        del files[file]
        if file == "calendar.txt":
            files.pop("calendar_dates.txt", None)
        return _bad(f, n, files, "missing file")

    return make


def missing_column(f: Path, r: random.Random, n: str) -> Job:
    files = feed_files(r)
    files["stops.txt"] = [row[:2] + row[3:] for row in files["stops.txt"]]  # no stop_lat
    return _bad(f, n, files, "missing column")


def duplicate_stop(f: Path, r: random.Random, n: str) -> Job:
    files = feed_files(r)
    files["stops.txt"].append(list(files["stops.txt"][1]))
    return _bad(f, n, files, "duplicate id")


def duplicate_trip(f: Path, r: random.Random, n: str) -> Job:
    files = feed_files(r)
    files["trips.txt"].append(list(files["trips.txt"][1]))
    return _bad(f, n, files, "duplicate id")


def backwards(f: Path, r: random.Random, n: str) -> Job:
    files = feed_files(r)
    times = files["stop_times.txt"]
    times[2][1] = times[2][2] = "00:01:00"
    return _bad(f, n, files, "times")


def duplicate_sequence(f: Path, r: random.Random, n: str) -> Job:
    files = feed_files(r)
    times = files["stop_times.txt"]
    times[2][4] = times[1][4]
    return _bad(f, n, files, "stop_sequence")


def cp1252_stop_times(f: Path, r: random.Random, n: str) -> Job:
    files = feed_files(r)
    for row in files["stop_times.txt"][1:]:
        row[0] = "Fahrt-Köln-" + row[0]
    for row in files["trips.txt"][1:]:
        row[2] = "Fahrt-Köln-" + row[2]
    return _bad(f, n, files, "encoding", encodings={"stop_times.txt": "cp1252"})


def utf16_stops(f: Path, r: random.Random, n: str) -> Job:
    return _bad(f, n, feed_files(r), "encoding", encodings={"stops.txt": "utf-16"})


def corrupt_member(f: Path, r: random.Random, n: str) -> Job:
    files = feed_files(r)
    files["stop_times.txt"] += [list(files["stop_times.txt"][1]) for _ in range(200)]  # long enough to corrupt
    job = _bad(f, n, files, "corrupt member")
    cm.corrupt_zip_member(Path(job.paths[0]), "stop_times.txt")
    return job


def giant_field(f: Path, r: random.Random, n: str) -> Job:
    files = feed_files(r)
    files["stops.txt"][1][1] = "".join(r.choices("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz", k=3_000_000))
    return _bad(f, n, files, "giant field")


def bomb(f: Path, r: random.Random, n: str, size: int = 50 << 20) -> Job:
    """A ``stop_times.txt`` of ``size`` bytes: valid rows, then one row repeated (the issue's: ``2 << 30``)."""
    files = feed_files(r)
    members: dict[str, list[tuple[bytes, int]]] = {
        k: [(_csv(v[0], v[1:]).encode(), 1)] for k, v in files.items() if k != "stop_times.txt"
    }
    head = _csv(files["stop_times.txt"][0], files["stop_times.txt"][1:]).encode()
    row = b"T0,07:00:00,07:00:00,S0,1\n" * (1 << 15)
    members["stop_times.txt"] = [(head, 1), (row, max(size // len(row), 1))]
    path = cm.zip_parts(f / f"{n}.zip", members)
    return Job(path.name, "gtfs", (str(path),), "refuse", "bomb", {"day": DAY, "window": list(WINDOW)})


def lying(f: Path, r: random.Random, n: str) -> Job:
    files = feed_files(r)
    text = _csv(files["stop_times.txt"][0], files["stop_times.txt"][1:]).encode()
    path = fc.lying_zip(
        f / f"{n}.zip",
        {k: (_csv(v[0], v[1:]).encode(), len(_csv(v[0], v[1:]).encode())) for k, v in files.items()}
        | {"stop_times.txt": (text * 3000, len(text))},
    )
    return Job(path.name, "gtfs", (str(path),), "refuse", "bomb", {"day": DAY, "window": list(WINDOW)})


def frequencies(rows: list[list[str]], kind: str) -> Callable[[Path, random.Random, str], Job]:
    def make(f: Path, r: random.Random, n: str) -> Job:
        files = feed_files(r, frequencies=False)
        files["frequencies.txt"] = [["trip_id", "start_time", "end_time", "headway_secs"], *rows]
        return _bad(f, n, files, kind)

    return make


def two_stops_files(f: Path, r: random.Random, n: str) -> Job:
    files = feed_files(r)
    stops = _csv(files["stops.txt"][0], files["stops.txt"][1:]).encode()
    return _bad(f, n, files, "ambiguous", raw={"alt/stops.txt": stops})


def not_a_zip(f: Path, r: random.Random, n: str) -> Job:
    path = f / f"{n}.zip"
    path.write_text("stop_id,stop_name\nS1,Markt\n", encoding="utf-8")
    return Job(path.name, "gtfs", (str(path),), "refuse", "not a zip", {"day": DAY, "window": list(WINDOW)})


def empty_zip(f: Path, r: random.Random, n: str) -> Job:
    path = cm.write_zip(f / f"{n}.zip", {})
    return Job(path.name, "gtfs", (str(path),), "refuse", "missing file", {"day": DAY, "window": list(WINDOW)})


def encrypted(f: Path, r: random.Random, n: str) -> Job:
    job = _bad(f, n, feed_files(r), "zip")
    cm.encrypt_flag(Path(job.paths[0]))
    return job


def no_service(f: Path, r: random.Random, n: str) -> Job:
    files = feed_files(r)
    files["calendar.txt"][1][-2:] = ["20200101", "20201231"]
    files.pop("calendar_dates.txt", None)
    return _bad(f, n, files, "no service")


def no_trips(f: Path, r: random.Random, n: str) -> Job:
    files = feed_files(r)
    files["stop_times.txt"] = files["stop_times.txt"][:1]
    return _bad(f, n, files, "no trips")


DEFECTS: dict[str, Callable[[Path, random.Random, str], Job]] = {
    "missing_stops": _drop("stops.txt"),
    "missing_stop_times": _drop("stop_times.txt"),
    "missing_calendar": _drop("calendar.txt"),
    "missing_column": missing_column,
    "unknown_stop": _edit("stop_times.txt", 1, "stop_id", "S999", "reference"),
    "unknown_trip": _edit("stop_times.txt", 1, "trip_id", "T999", "reference"),
    "unknown_route": _edit("trips.txt", 1, "route_id", "R999", "reference"),
    "duplicate_stop_ids": duplicate_stop,
    "duplicate_trip_ids": duplicate_trip,
    "time_minutes_61": _edit("stop_times.txt", 1, "arrival_time", "07:61:00", "time"),
    "time_word": _edit("stop_times.txt", 1, "departure_time", "abc", "time"),
    "time_past_72h": _edit("stop_times.txt", 1, "arrival_time", "80:00:00", "time"),
    "times_backwards": backwards,
    "stop_sequence_negative": _edit("stop_times.txt", 1, "stop_sequence", "-1", "stop_sequence"),
    "stop_sequence_twice": duplicate_sequence,
    "lat_95": _edit("stops.txt", 1, "stop_lat", "95.0", "coordinate"),
    "lon_200": _edit("stops.txt", 1, "stop_lon", "200.0", "coordinate"),
    "lat_word": _edit("stops.txt", 1, "stop_lat", "abc", "coordinate"),
    "control_in_name": _edit("stops.txt", 1, "stop_name", "Markt\x07Platz", "control"),
    "calendar_date": _edit("calendar.txt", 1, "start_date", "20261399", "calendar"),
    "calendar_weekday": _edit("calendar.txt", 1, "tuesday", "2", "calendar"),
    "cp1252_stop_times": cp1252_stop_times,
    "utf16_stops": utf16_stops,
    "corrupt_member": corrupt_member,
    "giant_field": giant_field,
    "stop_times_bomb": bomb,
    "lying_zip": lying,
    "headway_1s_30h": frequencies([["T0", "00:00:00", "30:00:00", "1"]], "frequencies"),
    "headway_zero": frequencies([["T0", "07:00:00", "08:00:00", "0"]], "frequencies"),
    "headway_word": frequencies([["T0", "07:00:00", "08:00:00", "oft"]], "frequencies"),
    "headway_end_before_start": frequencies([["T0", "09:00:00", "07:00:00", "600"]], "frequencies"),
    "frequencies_too_many": frequencies([["T0", "00:00:00", "71:00:00", "30"]] * 20, "frequencies"),
    "two_stops_files": two_stops_files,
    "not_a_zip": not_a_zip,
    "empty_zip": empty_zip,
    "encrypted": encrypted,
    "no_service": no_service,
    "no_trips": no_trips,
}


def hostile(folder: Path, rng: random.Random, per_defect: int = 1) -> list[Job]:
    """``per_defect`` feeds of every defect (expect a refusal)."""
    return cm.hostile_jobs(DEFECTS, folder, rng, per_defect)


def generate(folder: Path, n: int, rng: random.Random) -> list[Job]:
    """``n`` cases: about a quarter valid feeds, half with one defect, a quarter mutants (inside the ZIP)."""
    return cm.generated_jobs(valid, DEFECTS, folder, n, rng)
