"""Helpers shared by the importer fuzz corpora (``tests/fuzz_*.py``): places in NRW, ZIPs, bombs, mutants.

Everything here is generated at run time from a seeded ``random.Random`` and
the embedded data of the repository (``data/boundaries``); nothing is read
from ``../shared``. The generated files are synthetic and labelled so.
"""

from __future__ import annotations

import bz2
import functools
import random
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path

import fuzz_corpus as fc
import numpy as np
import pyogrio
import shapely
from fuzz_runner import Job
from pyproj import Transformer

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "data" / "boundaries"
TO_3035 = Transformer.from_crs("EPSG:25832", "EPSG:3035", always_xy=True)
TO_4326 = Transformer.from_crs("EPSG:25832", "EPSG:4326", always_xy=True)


@functools.lru_cache(maxsize=1)
def inner_points_25832() -> np.ndarray:
    """Points (EPSG:25832) at least 1.5 km inside an embedded NRW Kreis: safe places for synthetic data.

    The Kreise are the generalised ones the importers match against, so a
    point here lies in NRW for every importer.
    """
    kreise = pyogrio.read_dataframe(DATA / "nrw_verwaltungsgrenzen.gpkg", layer="kreis")
    rng = np.random.default_rng(20261201)
    out = []
    for geom in kreise.geometry.to_numpy():
        core = shapely.buffer(geom, -1_500.0)
        if core.is_empty:
            continue
        minx, miny, maxx, maxy = core.bounds
        xy = rng.uniform((minx, miny), (maxx, maxy), size=(400, 2))
        inside = shapely.contains_xy(core, xy[:, 0], xy[:, 1])
        out.append(xy[inside][:40])
    return np.concatenate(out)


def nrw_points(rng: random.Random, k: int) -> list[tuple[float, float]]:
    """``k`` distinct synthetic places in NRW, EPSG:25832."""
    pool = inner_points_25832()
    return [tuple(map(float, pool[i])) for i in rng.sample(range(len(pool)), k)]  # type: ignore[misc]


def lonlat(points: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """The points in EPSG:4326 (lon, lat), rounded to 7 decimals."""
    xs, ys = TO_4326.transform([p[0] for p in points], [p[1] for p in points])
    return [(round(float(x), 7), round(float(y), 7)) for x, y in zip(xs, ys, strict=True)]


@functools.lru_cache(maxsize=1)
def gemeinden() -> list[tuple[str, str, object]]:
    """The embedded NRW Gemeinden: ``(ags, name, polygon in EPSG:25832)``."""
    frame = pyogrio.read_dataframe(DATA / "nrw_gemeinden.gpkg", layer="gemeinde")
    return list(zip(frame["ags"], frame["name"], frame.geometry.to_numpy(), strict=True))


def write_zip(path: Path, members: dict[str, bytes], *, level: int = zipfile.ZIP_DEFLATED) -> Path:
    with zipfile.ZipFile(path, "w", level) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return path


def zip_parts(path: Path, members: dict[str, list[tuple[bytes, int]]]) -> Path:
    """A ZIP whose members are ``[(chunk, repeat), …]`` written streaming (bombs of gigabytes in seconds)."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        for name, parts in members.items():
            with zf.open(name, "w", force_zip64=True) as fh:
                for chunk, repeat in parts:
                    for _ in range(repeat):
                        fh.write(chunk)
    return path


def ratio_bomb_member(size: int, chunk: bytes = b"0" * (1 << 20)) -> tuple[bytes, int]:
    """A member body for :func:`fuzz_corpus._zip_stream`: ``size`` bytes of one repeated chunk."""
    return chunk, max(size // len(chunk), 1)


def corrupt_zip_member(path: Path, member: str) -> Path:
    """Flip bytes in the packed data of ``member`` (the directory stays intact: a CRC or deflate error)."""
    raw = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as zf:
        info = zf.getinfo(member)
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    for k in range(start + 2, min(start + info.compress_size, len(raw)), 7):
        raw[k] ^= 0x5A
    path.write_bytes(bytes(raw))
    return path


def encrypt_flag(path: Path) -> Path:
    """Set the "encrypted" flag of every member (the data stays plain): must be refused, never guessed."""
    raw = bytearray(path.read_bytes())
    for sig, flag_at in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        pos = raw.find(sig)
        while pos >= 0:
            raw[pos + flag_at] |= 0x01
            pos = raw.find(sig, pos + 4)
    path.write_bytes(bytes(raw))
    return path


def bz2_bomb(path: Path, head: bytes, unpacked: int, filler: bytes = b" " * (1 << 20)) -> Path:
    """A multi-stream ``.bz2`` that unpacks to about ``unpacked`` bytes (one packed block repeated).

    Made in a second: the filler is packed once (a few hundred bytes) and the
    stream written again and again, which is valid bzip2.
    """
    block = bz2.compress(filler * 8)
    with path.open("wb") as fh:
        fh.write(bz2.compress(head))
        for _ in range(max(unpacked // (len(filler) * 8), 1)):
            fh.write(block)
    return path


def deflate_bomb_bytes(unpacked: int) -> bytes:
    """Raw gzip bytes of ``unpacked`` zero bytes (packed about 1,000 times)."""
    comp = zlib.compressobj(9, zlib.DEFLATED, 31)
    chunk = b"\0" * (1 << 20)
    parts = [comp.compress(chunk) for _ in range(max(unpacked >> 20, 1))]
    return b"".join(parts) + comp.flush()


Maker = Callable[[Path, random.Random, str], Job]


def hostile_jobs(defects: dict[str, Maker], folder: Path, rng: random.Random, per_defect: int = 1) -> list[Job]:
    """``per_defect`` files of every defect (each expects a refusal)."""
    folder.mkdir(parents=True, exist_ok=True)
    return [make(folder, rng, f"{label}_{k}") for label, make in defects.items() for k in range(per_defect)]


def generated_jobs(
    valid: Callable[[Path, random.Random, int], Job],
    defects: dict[str, Maker],
    folder: Path,
    n: int,
    rng: random.Random,
    *,
    text_members: bool = True,
    fixed: list[Job] | None = None,
) -> list[Job]:
    """``n`` cases: ``fixed`` ones, about a quarter valid files, half with one defect each (every defect in
    turn), the rest byte mutants of the valid files."""
    folder.mkdir(parents=True, exist_ok=True)
    fixed = fixed or []
    n_valid = max(n // 4, 1)
    seeds = [valid(folder, rng, i) for i in range(n_valid)]
    labels = list(defects)
    n_bad = max(n // 2 - len(fixed), len(labels))
    bad = [defects[labels[i % len(labels)]](folder, rng, f"h{i:05d}_{labels[i % len(labels)]}") for i in range(n_bad)]
    rest = max(n - len(fixed) - n_valid - n_bad, 0)
    mutants = mutant_jobs(seeds + fixed[:12], folder / "mutants", rest, rng, text_members=text_members)
    return fixed + seeds + bad + mutants


def mutant_jobs(seeds: list[Job], folder: Path, n: int, rng: random.Random, *, text_members: bool = False) -> list[Job]:
    """``n`` byte mutants of the seeds' first files (expect ``any``): cut, insert, overwrite, truncate.

    With ``text_members`` a ZIP seed is mutated inside (one member's bytes,
    then zipped again), so that most mutants reach the parser instead of
    failing the ZIP's checksum.
    """
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for i in range(n):
        seed = seeds[i % len(seeds)]
        src = Path(seed.paths[0])
        target = folder / f"m{i:05d}_{src.name}"
        raw = src.read_bytes()
        if text_members and raw.startswith(b"PK") and rng.random() < 0.7:
            with zipfile.ZipFile(src) as zf:
                members = {name: zf.read(name) for name in zf.namelist()}
            victim = rng.choice(sorted(members))
            members[victim] = fc.mutate(members[victim], rng)
            write_zip(target, members)
        else:
            target.write_bytes(fc.mutate(raw, rng))
        out.append(Job(target.name, seed.importer, (str(target), *seed.paths[1:]), "any", "mutant", seed.options))
    return out
