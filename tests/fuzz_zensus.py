"""Generated Zensus 2022 grid files (synthetic) for fuzzing ``integrationsatlas zensus``.

Valid variants follow the Destatis layout (``;``, decimal comma, EN DASH for
secret cells, ``werterlaeuternde_Zeichen``, ZIPs with several resolutions and
a non-CSV member) with random synthetic cells inside NRW; each knows the
number of NRW cells and the population the import must report. Hostile
files carry one known defect each (the issue's findings among them: a
corrupt ZIP, integers past int64, duplicate cells, a population of 10¹²).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from pathlib import Path

import fuzz_common as cm
import fuzz_corpus as fc
from fuzz_runner import Job

HEADER = {
    "bevoelkerung": ["Einwohner"],
    "auslaender": ["AnteilAuslaender"],
    "durchschnittsalter": ["Durchschnittsalter"],
}
FILES = {
    "bevoelkerung": "Zensus2022_Bevoelkerungszahl_{res}-Gitter.csv",
    "auslaender": "Zensus2022_Auslaenderanteil_in_Gitterzellen_{res}-Gitter.csv",
    "durchschnittsalter": "Zensus2022_Durchschnittsalter_in_Gitterzellen_{res}-Gitter.csv",
}
OUTSIDE = (2_800_000, 4_400_000)  # a 100 m cell in Bavaria (outside NRW)


def _size(res: int) -> str:
    return f"{res // 1000}km" if res >= 1000 else f"{res}m"


def cells(rng: random.Random, k: int, res: int = 100) -> list[tuple[int, int]]:
    """``k`` distinct cells (lower-left north, east in EPSG:3035) whose centres lie in NRW."""
    out: set[tuple[int, int]] = set()
    for x, y in cm.nrw_points(rng, k):
        e, n = cm.TO_3035.transform(x, y)
        out.add((int(n // res * res), int(e // res * res)))
    return sorted(out)


def csv_text(
    theme: str,
    res: int,
    rows: list[tuple[tuple[int, int], str]],
    *,
    upper: bool = True,
    with_xy: bool = True,
    flags: dict[int, str] | None = None,
    newline: str = "\n",
) -> str:
    """A Destatis grid CSV: ``rows`` are ``((north, east), value text)``."""
    size = _size(res)
    head = [f"GITTER_ID_{size}"] + ([f"x_mp_{size}", f"y_mp_{size}"] if with_xy else []) + HEADER[theme]
    if flags is not None:
        head.append("werterlaeuternde_Zeichen")
    if not upper:
        head = [h.lower() for h in head]
    lines = [";".join(head)]
    for i, ((n, e), value) in enumerate(rows):
        cols = [f"CRS3035RES{res}mN{n}E{e}"] + ([str(e + res // 2), str(n + res // 2)] if with_xy else [])
        cols.append(value)
        if flags is not None:
            cols.append(flags.get(i, ""))
        lines.append(";".join(cols))
    return newline.join(lines) + newline


def _value(rng: random.Random, theme: str) -> tuple[str, float | None]:
    if rng.random() < 0.1:
        return "–", None  # EN DASH: kept secret
    if theme == "bevoelkerung":
        v = rng.randint(0, 3_000)
        return str(v), float(v)
    if theme == "auslaender":
        v = round(rng.uniform(0, 100), 1)
        return str(v).replace(".", ","), v
    v = round(rng.uniform(20, 70), 1)
    return str(v).replace(".", ","), v


def valid(folder: Path, rng: random.Random, i: int) -> Job:
    """A valid import (CSV or ZIP, one to three themes, 100 m and maybe 1 km) with its expected counts."""
    res = 100
    grid = cells(rng, rng.randint(1, 30), res)
    themes = ["bevoelkerung"] + rng.sample(["auslaender", "durchschnittsalter"], rng.randint(0, 2))
    population, files, all_secret = 0.0, {}, False
    for theme in themes:
        rows, values = [], []
        for cell in grid:
            text, value = _value(rng, theme)
            rows.append((cell, text))
            values.append(value)
        if theme == "bevoelkerung":
            population = sum(v for v in values if v is not None)
            all_secret = all(v is None for v in values)
        outside = rng.random() < 0.3  # a Germany file: a cell outside NRW is cut while streaming
        if outside:
            rows.append((OUTSIDE, "7" if theme == "bevoelkerung" else "5,0"))
        flags = {k: "KLAMMERN" for k in range(len(rows)) if rng.random() < 0.2} if rng.random() < 0.5 else None
        files[FILES[theme].format(res=_size(res))] = csv_text(
            theme,
            res,
            rows,
            upper=rng.random() < 0.8,
            with_xy=rng.random() < 0.85,
            flags=flags,
            newline=rng.choice(["\n", "\r\n"]),
        )
    if rng.random() < 0.3:  # the enclosing 1 km cells as well
        km = sorted({(n // 1000 * 1000, e // 1000 * 1000) for n, e in grid})
        files[FILES["bevoelkerung"].format(res="1km")] = csv_text(
            "bevoelkerung", 1000, [(c, str(rng.randint(100, 9_000))) for c in km]
        )
    encoding = "utf-8-sig" if rng.random() < 0.2 else "utf-8"
    name = f"v{i:05d}"
    if len(files) == 1 and rng.random() < 0.4:
        path = folder / f"{name}_{next(iter(files))}"
        path.write_bytes(next(iter(files.values())).encode(encoding))
    else:
        members = {k: v.encode(encoding) for k, v in files.items()}
        if rng.random() < 0.5:
            members["Datensatzbeschreibung.pdf"] = b"%PDF-1.4 synthetic"
        path = cm.write_zip(folder / f"{name}_Zensus2022.zip", members)
    check = {"cells_nrw": len(grid), "population_nrw": int(population), "resolution_m": res}
    if all_secret and FILES["bevoelkerung"].format(res="1km") in files:
        # no published 100 m figure at all: the demand uses the finest grid with one, the 1 km grid
        check = {"cells_nrw_min": 1, "resolution_m": 1000}
    return Job(path.name, "zensus", (str(path),), "accept", "valid", check=check)


def _pop_csv(rng: random.Random, k: int = 5, res: int = 100) -> tuple[list[tuple[int, int]], list[str]]:
    grid = cells(rng, k, res)
    return grid, [str(rng.randint(1, 500)) for _ in grid]


def _text_job(folder: Path, name: str, text: str | bytes, kind: str) -> Job:
    path = folder / name
    path.write_bytes(text.encode("utf-8") if isinstance(text, str) else text)
    return Job(name, "zensus", (str(path),), "refuse", kind)


def _replace_value(rng: random.Random, bad: str) -> str:
    grid, values = _pop_csv(rng)
    values[rng.randrange(len(values))] = bad
    return csv_text("bevoelkerung", 100, list(zip(grid, values, strict=True)))


# --- defects: a function ``(folder, rng, name) -> Job`` each, making one file with that defect -------


def value(bad: str, kind: str = "value") -> Callable[[Path, random.Random, str], Job]:
    return lambda f, r, n: _text_job(f, f"{n}.csv", _replace_value(r, bad), kind)


def duplicate(f: Path, r: random.Random, n: str) -> Job:
    grid, values = _pop_csv(r)
    rows = list(zip(grid, values, strict=True))
    rows.append((rows[0][0], str(r.randint(1, 500))))
    return _text_job(f, f"{n}.csv", csv_text("bevoelkerung", 100, rows), "duplicate cell")


def mismatch(f: Path, r: random.Random, n: str) -> Job:
    text = csv_text("bevoelkerung", 100, list(zip(*_pop_csv(r), strict=True)))
    lines = text.splitlines()
    cols = lines[1].split(";")
    cols[1] = str(int(cols[1]) + 3_000)  # the centre moved 3 km east of its cell id
    lines[1] = ";".join(cols)
    return _text_job(f, f"{n}.csv", "\n".join(lines) + "\n", "id/coordinate mismatch")


def wrong_res(f: Path, r: random.Random, n: str) -> Job:
    text = csv_text("bevoelkerung", 100, list(zip(*_pop_csv(r), strict=True)))
    return _text_job(f, f"{n}.csv", text.replace("RES100mN", "RES1000mN", 1), "cell id")


def broken_id(f: Path, r: random.Random, n: str) -> Job:
    text = csv_text("bevoelkerung", 100, list(zip(*_pop_csv(r), strict=True)))
    lines = text.splitlines()
    lines[-1] = "kaputt" + lines[-1][lines[-1].index(";") :]
    return _text_job(f, f"{n}.csv", "\n".join(lines) + "\n", "cell id")


def coordinate(f: Path, r: random.Random, n: str) -> Job:
    text = csv_text("bevoelkerung", 100, list(zip(*_pop_csv(r), strict=True)))
    lines = text.splitlines()
    cols = lines[1].split(";")
    cols[2] = r.choice(["abc", "1e400", "", "NaN"])
    lines[1] = ";".join(cols)
    return _text_job(f, f"{n}.csv", "\n".join(lines) + "\n", "coordinate")


def percent(f: Path, r: random.Random, n: str) -> Job:
    grid = cells(r, 4)
    rows = [(c, "12,5") for c in grid]
    rows[-1] = (rows[-1][0], r.choice(["150,0", "-3,0", "1e9"]))
    return _text_job(f, f"{n}_Auslaender.csv", csv_text("auslaender", 100, rows), "value")


def mean_age(f: Path, r: random.Random, n: str) -> Job:
    rows = [(c, "41,3") for c in cells(r, 4)]
    rows[0] = (rows[0][0], "250,0")
    return _text_job(f, f"{n}_Alter.csv", csv_text("durchschnittsalter", 100, rows), "value")


def no_theme(f: Path, r: random.Random, n: str) -> Job:
    text = csv_text("bevoelkerung", 100, list(zip(*_pop_csv(r), strict=True))).replace("Einwohner", "Wohnungen")
    return _text_job(f, f"{n}.csv", text, "schema")


def not_zensus(f: Path, r: random.Random, n: str) -> Job:
    return _text_job(f, f"{n}.csv", "id;name;wert\n1;a;2\n", "schema")


def outside_only(f: Path, r: random.Random, n: str) -> Job:
    return _text_job(f, f"{n}.csv", csv_text("bevoelkerung", 100, [(OUTSIDE, "12")]), "outside NRW")


def header_only(f: Path, r: random.Random, n: str) -> Job:
    return _text_job(f, f"{n}.csv", csv_text("bevoelkerung", 100, []), "empty")


def empty(f: Path, r: random.Random, n: str) -> Job:
    return _text_job(f, f"{n}.csv", b"", "empty")


def giant_field(f: Path, r: random.Random, n: str) -> Job:
    text = csv_text("bevoelkerung", 100, list(zip(*_pop_csv(r), strict=True)))
    return _text_job(f, f"{n}.csv", text + "CRS3035RES100mN3100000E4100000;" + "9" * 3_000_000 + "\n", "field")


def binary(f: Path, r: random.Random, n: str) -> Job:
    return _text_job(f, f"{n}.csv", bytes(r.randrange(256) for _ in range(2_000)), "binary")


def utf16(f: Path, r: random.Random, n: str) -> Job:
    text = csv_text("bevoelkerung", 100, list(zip(*_pop_csv(r), strict=True)))
    return _text_job(f, f"{n}.csv", text.encode("utf-16"), "encoding")


def ragged(f: Path, r: random.Random, n: str) -> Job:
    text = csv_text("bevoelkerung", 100, list(zip(*_pop_csv(r), strict=True)))
    lines = text.splitlines()
    lines[2] += ";x;y"
    return _text_job(f, f"{n}.csv", "\n".join(lines) + "\n", "ragged")


def corrupt_zip(f: Path, r: random.Random, n: str) -> Job:
    member = FILES["bevoelkerung"].format(res="100m")
    text = csv_text("bevoelkerung", 100, list(zip(*_pop_csv(r, 40), strict=True)))
    path = cm.write_zip(f / f"{n}.zip", {member: text.encode()})
    cm.corrupt_zip_member(path, member)
    return Job(path.name, "zensus", (str(path),), "refuse", "corrupt zip")


def truncated_zip(f: Path, r: random.Random, n: str) -> Job:
    text = csv_text("bevoelkerung", 100, list(zip(*_pop_csv(r, 40), strict=True)))
    path = cm.write_zip(f / f"{n}.zip", {FILES["bevoelkerung"].format(res="100m"): text.encode()})
    raw = path.read_bytes()
    path.write_bytes(raw[: r.randint(20, len(raw) - 30)])
    return Job(path.name, "zensus", (str(path),), "refuse", "corrupt zip")


def encrypted(f: Path, r: random.Random, n: str) -> Job:
    text = csv_text("bevoelkerung", 100, list(zip(*_pop_csv(r), strict=True)))
    path = cm.encrypt_flag(cm.write_zip(f / f"{n}.zip", {FILES["bevoelkerung"].format(res="100m"): text.encode()}))
    return Job(path.name, "zensus", (str(path),), "refuse", "zip")


def no_csv(f: Path, r: random.Random, n: str) -> Job:
    path = cm.write_zip(f / f"{n}.zip", {"Datensatzbeschreibung.xlsx": b"PK not a csv"})
    return Job(path.name, "zensus", (str(path),), "refuse", "zip")


def bomb(f: Path, r: random.Random, n: str) -> Job:
    head = csv_text("bevoelkerung", 100, list(zip(*_pop_csv(r), strict=True))).encode()
    path = fc._zip_stream(
        f / f"{n}.zip",
        {FILES["bevoelkerung"].format(res="100m"): head, "Auffuellung.csv": cm.ratio_bomb_member(200 << 20)},
    )
    return Job(path.name, "zensus", (str(path),), "refuse", "bomb")


def lying(f: Path, r: random.Random, n: str) -> Job:
    head = csv_text("bevoelkerung", 100, list(zip(*_pop_csv(r), strict=True))).encode()
    path = fc.lying_zip(f / f"{n}.zip", {FILES["bevoelkerung"].format(res="100m"): (head * 2000, 200)})
    return Job(path.name, "zensus", (str(path),), "refuse", "bomb")


def same_theme_twice(f: Path, r: random.Random, n: str) -> Job:
    a = _text_job(f, f"{n}_a.csv", csv_text("bevoelkerung", 100, list(zip(*_pop_csv(r), strict=True))), "")
    b = _text_job(f, f"{n}_b.csv", csv_text("bevoelkerung", 100, list(zip(*_pop_csv(r), strict=True))), "")
    return Job(a.name, "zensus", (*a.paths, *b.paths), "refuse", "theme twice")


DEFECTS: dict[str, Callable[[Path, random.Random, str], Job]] = {
    "negative": value("-3"),
    "fraction": value("4,5"),
    "word": value("viele"),
    "population_1e12": value("1000000000000", "implausible"),
    "past_int64": value("9223372036854775808", "integer range"),
    "population_1e20": value("1e20", "integer range"),
    "thousands_huge": value("1.234.567", "implausible"),
    "infinity": value("inf"),
    "nan": value("NaN"),
    "control": value("4\x07"),
    "duplicate_cell": duplicate,
    "id_coordinate_mismatch": mismatch,
    "wrong_resolution": wrong_res,
    "broken_id": broken_id,
    "coordinate": coordinate,
    "percent": percent,
    "mean_age": mean_age,
    "no_theme": no_theme,
    "not_zensus": not_zensus,
    "outside_only": outside_only,
    "header_only": header_only,
    "empty": empty,
    "giant_field": giant_field,
    "binary": binary,
    "utf16": utf16,
    "ragged": ragged,
    "corrupt_zip": corrupt_zip,
    "truncated_zip": truncated_zip,
    "encrypted": encrypted,
    "zip_without_csv": no_csv,
    "zip_bomb": bomb,
    "lying_zip": lying,
    "same_theme_twice": same_theme_twice,
}


def hostile(folder: Path, rng: random.Random, per_defect: int = 1) -> list[Job]:
    """``per_defect`` files of every defect (expect a refusal)."""
    return cm.hostile_jobs(DEFECTS, folder, rng, per_defect)


def generate(folder: Path, n: int, rng: random.Random) -> list[Job]:
    """``n`` cases: about a quarter valid variants, half with one defect, a quarter byte mutants."""
    return cm.generated_jobs(valid, DEFECTS, folder, n, rng)
