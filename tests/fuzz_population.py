"""Generated population tables (synthetic figures) for fuzzing ``integrationsatlas population``.

Valid files use the embedded NRW Gemeinden (keys and names) with random
populations: plain CSV tables (``;``/``,``/tab, German headers, thousands
with space or point, 12-digit ARS, a dropped leading zero, UTF-8/BOM/
Windows-1252, title rows), plain XLSX tables next to a sheet of notes, the
GV-ISys "Auszug GV" workbook with its title rows and two-row header, and its
CSV export whose title row has another width. Each knows the number of
Gemeinden and the total. Hostile files carry one known defect each (the
issue's findings among them: integers past int64, a population of 10¹², a
hidden stale sheet, a second sheet with Gemeinde rows, an XLSX bomb, a ZIP
named ``.xlsx``, a corrupt XLSX member).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from pathlib import Path

import fuzz_common as cm
import fuzz_corpus as fc
import openpyxl
from fuzz_runner import Job
from gv_layout import GV_HEADER

AGS_HEADERS = ("AGS", "Gemeindeschlüssel", "Amtlicher Gemeindeschlüssel", "GKZ", "ags")
POP_HEADERS = ("Einwohner", "population", "Bevölkerung insgesamt", "EWZ", "Einwohnerzahl")
NAME_HEADERS = ("Gemeinde", "name", "GEN", "Gemeindename")


def sample(rng: random.Random, k: int) -> list[tuple[str, str, int]]:
    """``k`` embedded Gemeinden with random (synthetic) populations: ``(ags, name, population)``."""
    chosen = rng.sample(cm.gemeinden(), k)
    return [(ags, name, rng.randint(800, 1_100_000)) for ags, name, _ in chosen]


def _number(rng: random.Random, v: int) -> str:
    style = rng.random()
    if style < 0.2 and v >= 1000:
        return f"{v:,}".replace(",", " ")  # Destatis: space as thousands separator
    if style < 0.35 and v >= 1000:
        return f"{v:,}".replace(",", ".")
    return str(v)


def plain_rows(rng: random.Random, rows: list[tuple[str, str, int]]) -> list[list[str]]:
    key = rng.choice(AGS_HEADERS + ("Regionalschlüssel",))
    header = [key, rng.choice(NAME_HEADERS), rng.choice(POP_HEADERS)]
    out = [header]
    for ags, name, pop in rows:
        if key == "Regionalschlüssel":
            code = ags[:5] + "0" + ags[5:6] + "00" + ags[5:]  # a 12-digit ARS (Verband part synthetic)
            code = ags[:5] + "0000" + ags[5:]
        elif rng.random() < 0.1:
            code = ags.lstrip("0")  # a spreadsheet dropped the leading zero
        else:
            code = ags
        out.append([code, name, _number(rng, pop)])
    return out


def _csv_text(rows: list[list[str]], sep: str) -> str:
    def cell(v: str) -> str:
        return f'"{v}"' if sep in v or '"' in v else v

    return "\n".join(sep.join(cell(v) for v in r) for r in rows) + "\n"


def _gv_rows(rows: list[tuple[str, str, int]], other_land: bool) -> list[list[object]]:
    out: list[list[object]] = [
        ["Gemeindeverzeichnis-Informationssystem GV-ISys"],
        ["Alle politisch selbständigen Gemeinden mit ausgewählten Merkmalen am 31.12.2019 (4. Quartal)"],
        *GV_HEADER,
        [10, None, "05", None, None, None, None, "Nordrhein-Westfalen"],
    ]
    for ags, name, pop in rows:
        m = pop // 2
        out.append(
            [60, 61, "05", ags[2], ags[3:5], "0000", ags[5:], name, 100.5, pop, m, pop - m, 500, 40000, "7,1", "51,2"]
        )
    if other_land:
        flensburg = ["Flensburg, Stadt", 53.02, 90164, 44904, 45260, 1701, 24937, "9,4", "54,8"]
        out.append([60, 61, "01", 0, "01", "0000", "000", *flensburg])
    return out


def write_book(path: Path, sheets: list[tuple[str, list[list[object]], str]]) -> Path:
    """A workbook of ``(title, rows, state)`` sheets (state ``visible`` or ``hidden``)."""
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for title, rows, state in sheets:
        ws = wb.create_sheet(title)
        for row in rows:
            ws.append(row)
        ws.sheet_state = state
    wb.save(path)
    return path


def valid(folder: Path, rng: random.Random, i: int) -> Job:
    rows = sample(rng, rng.randint(2, 40))
    check = {"gemeinden": len(rows), "population": sum(p for *_, p in rows)}
    kind = rng.choice(["csv", "csv", "xlsx", "gv_xlsx", "gv_csv"])
    name = f"v{i:05d}_{kind}"
    if kind == "csv":
        text = _csv_text(plain_rows(rng, rows), rng.choice([";", ",", "\t"]))
        if rng.random() < 0.3:
            text = "Einwohner der Gemeinden am 31.12.2019\n\n" + text
        encoding = rng.choice(["utf-8", "utf-8-sig", "cp1252"])
        path = folder / f"{name}.csv"
        path.write_bytes(text.encode(encoding))
    elif kind == "xlsx":
        sheets = [("Gemeinden", plain_rows(rng, rows), "visible")]
        if rng.random() < 0.5:
            sheets.append(("Erläuterungen", [["Quelle: synthetische Testdaten"], ["Stand 2019"]], "visible"))
        path = write_book(folder / f"{name}.xlsx", sheets)  # type: ignore[arg-type]
    elif kind == "gv_xlsx":
        sheets = [("Deckblatt", [["Statistisches Bundesamt (synthetisch)"]], "visible")]
        sheets.append(("Onlineprodukt_Gemeinden31122019", _gv_rows(rows, rng.random() < 0.5), "visible"))
        path = write_book(folder / f"{name}.xlsx", sheets)
    else:
        lines = ["Gemeindeverzeichnis-Informationssystem GV-ISys", "Gemeinden am 31.12.2019"]
        lines.append("Satzart;Textkennzeichen;Land;RB;Kreis;VB;Gem;Gemeindename;Fläche;insgesamt;männlich;weiblich;"
                     "je km2;PLZ;Längengrad;Breitengrad")  # fmt: skip
        for ags, gname, pop in rows:
            m = pop // 2
            fields = ["60", "61", "05", ags[2], ags[3:5], "0000", ags[5:], gname, "100,5"]
            fields += [f"{pop:,}".replace(",", " "), str(m), str(pop - m), "500", "40000", "7,1", "51,2"]
            lines.append(";".join(fields))
        path = folder / f"{name}.csv"
        path.write_bytes(("\n".join(lines) + "\n").encode(rng.choice(["cp1252", "utf-8"])))
    return Job(path.name, "population", (str(path),), "accept", f"valid {kind}", check=check)


# --- defects: ``(folder, rng, name) -> Job`` each, one file with that defect ------------------------


def _csv_job(f: Path, n: str, rows: list[list[str]], kind: str) -> Job:
    path = f / f"{n}.csv"
    path.write_text(_csv_text(rows, ";"), encoding="utf-8")
    return Job(path.name, "population", (str(path),), "refuse", kind)


def _table(rng: random.Random) -> list[list[str]]:
    return [["AGS", "Gemeinde", "Einwohner"]] + [[a, n, str(p)] for a, n, p in sample(rng, 6)]


def population_value(value: str, kind: str) -> Callable[[Path, random.Random, str], Job]:
    def make(f: Path, r: random.Random, n: str) -> Job:
        rows = _table(r)
        rows[r.randint(1, len(rows) - 1)][2] = value
        return _csv_job(f, n, rows, kind)

    return make


def key_value(value: str, kind: str) -> Callable[[Path, random.Random, str], Job]:
    def make(f: Path, r: random.Random, n: str) -> Job:
        rows = _table(r)
        rows[r.randint(1, len(rows) - 1)][0] = value
        return _csv_job(f, n, rows, kind)

    return make


def duplicate_ags(f: Path, r: random.Random, n: str) -> Job:
    rows = _table(r)
    rows.append(list(rows[1]))
    return _csv_job(f, n, rows, "duplicate key")


def control_name(f: Path, r: random.Random, n: str) -> Job:
    rows = _table(r)
    rows[1][1] = "Köln\x07Porz"
    return _csv_job(f, n, rows, "control")


def no_nrw(f: Path, r: random.Random, n: str) -> Job:
    rows = [["AGS", "Gemeinde", "Einwohner"], ["09162000", "München", "1484226"], ["01001000", "Flensburg", "90164"]]
    return _csv_job(f, n, rows, "no NRW")


def no_key_column(f: Path, r: random.Random, n: str) -> Job:
    rows = [["Nummer", "Gemeinde", "Einwohner"], ["1", "Köln", "1085664"]]
    return _csv_job(f, n, rows, "schema")


def second_sheet(f: Path, r: random.Random, n: str) -> Job:
    rows = _table(r)
    stale = [list(x) for x in rows]
    for x in stale[1:]:
        x[2] = str(int(x[2]) - 1000)
    path = write_book(f / f"{n}.xlsx", [("2019", rows, "visible"), ("2018", stale, "visible")])  # type: ignore[list-item]
    return Job(path.name, "population", (str(path),), "refuse", "ambiguous sheets")


def hidden_sheet(f: Path, r: random.Random, n: str) -> Job:
    path = write_book(
        f / f"{n}.xlsx",
        [("Hinweise", [["leer"]], "visible"), ("alt", _table(r), "hidden")],  # type: ignore[list-item]
    )
    return Job(path.name, "population", (str(path),), "refuse", "hidden sheet")


def hidden_and_visible(f: Path, r: random.Random, n: str) -> Job:
    rows = _table(r)
    path = write_book(f / f"{n}.xlsx", [("aktuell", rows, "visible"), ("alt", _table(r), "hidden")])  # type: ignore[list-item]
    return Job(path.name, "population", (str(path),), "refuse", "hidden sheet")


def gv_value(value: object, column: int, kind: str) -> Callable[[Path, random.Random, str], Job]:
    def make(f: Path, r: random.Random, n: str) -> Job:
        grid = _gv_rows(sample(r, 5), False)
        grid[-1][column] = value
        path = write_book(f / f"{n}.xlsx", [("Onlineprodukt_Gemeinden", grid, "visible")])
        return Job(path.name, "population", (str(path),), "refuse", kind)

    return make


_SHEET_HEAD = b'<?xml version="1.0"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'


def xlsx_dimension_bomb(f: Path, r: random.Random, n: str) -> Job:
    path = fc._xlsx_with_sheet(
        f / f"{n}.xlsx",
        (
            _SHEET_HEAD
            + b'<dimension ref="A1:XFD1048576"/><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>AGS</t></is>'
            b"</c></row></sheetData></worksheet>",
            1,
        ),
    )
    return Job(path.name, "population", (str(path),), "refuse", "bomb")


def xlsx_bomb(f: Path, r: random.Random, n: str, size: int = 220 << 20) -> Job:
    """The issue's XLSX bomb: a sheet of ``size`` bytes of rows (2 GB in the issue: ``size=2 << 30``)."""
    row = b'<row><c t="inlineStr"><is><t>05111000</t></is></c><c><v>621877</v></c></row>' * 10_000
    path = fc._xlsx_with_sheet(
        f / f"{n}.xlsx",
        (_SHEET_HEAD + b"<sheetData>", 1),
        body=(row, max(size // len(row), 1)),
        tail=b"</sheetData></worksheet>",
    )
    return Job(path.name, "population", (str(path),), "refuse", "bomb")


def xlsx_sheet_too_large(f: Path, r: random.Random, n: str) -> Job:
    """A 40 MB sheet of valid rows, no declared dimension: over the sheet limit, never read."""
    return xlsx_bomb(f, r, n, 40 << 20)


def zip_named_xlsx(f: Path, r: random.Random, n: str) -> Job:
    path = cm.write_zip(f / f"{n}.xlsx", {"gemeinden.shp": b"\0" * 100, "gemeinden.dbf": b"\0" * 100})
    return Job(path.name, "population", (str(path),), "refuse", "not a workbook")


def corrupt_xlsx(f: Path, r: random.Random, n: str) -> Job:
    path = write_book(f / f"{n}.xlsx", [("Gemeinden", _table(r) * 30, "visible")])  # type: ignore[list-item]
    cm.corrupt_zip_member(path, "xl/worksheets/sheet1.xml")
    return Job(path.name, "population", (str(path),), "refuse", "corrupt member")


def xls_suffix(f: Path, r: random.Random, n: str) -> Job:
    path = f / f"{n}.xls"
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 500)
    return Job(path.name, "population", (str(path),), "refuse", "old format")


def empty(f: Path, r: random.Random, n: str) -> Job:
    path = f / f"{n}.csv"
    path.write_bytes(b"")
    return Job(path.name, "population", (str(path),), "refuse", "empty")


def binary(f: Path, r: random.Random, n: str) -> Job:
    path = f / f"{n}.csv"
    path.write_bytes(bytes(r.randrange(256) for _ in range(3_000)))
    return Job(path.name, "population", (str(path),), "refuse", "binary")


def cp850(f: Path, r: random.Random, n: str) -> Job:
    rows = [["AGS", "Gemeinde", "Einwohner"], ["05315000", "Köln", "1085664"], ["05111000", "Düsseldorf", "621877"]]
    path = f / f"{n}.csv"
    path.write_bytes(_csv_text(rows, ";").encode("cp850"))
    return Job(path.name, "population", (str(path),), "refuse", "encoding")


DEFECTS: dict[str, Callable[[Path, random.Random, str], Job]] = {
    "negative": population_value("-5", "value"),
    "population_1e12": population_value("1000000000000", "implausible"),
    "past_int64": population_value("9223372036854775808", "integer range"),
    "population_1e20": population_value("1e20", "integer range"),
    "word": population_value("viele", "value"),
    "fraction": population_value("12,5", "value"),
    "ags_letters": key_value("05A11000", "key"),
    "ags_six_digits": key_value("051110", "key"),
    "duplicate_ags": duplicate_ags,
    "control_in_name": control_name,
    "no_nrw": no_nrw,
    "no_key_column": no_key_column,
    "second_sheet": second_sheet,
    "hidden_stale_sheet": hidden_sheet,
    "hidden_and_visible": hidden_and_visible,
    "gv_population_1e12": gv_value(10**12, 9, "implausible"),
    "gv_past_int64": gv_value("9223372036854775808", 9, "integer range"),
    "gv_letters_in_key": gv_value("A1", 4, "key"),
    "gv_lat_95": gv_value("95,0", 15, "coordinate"),
    "gv_area_1e9": gv_value(1e9, 8, "implausible"),
    "xlsx_dimension_bomb": xlsx_dimension_bomb,
    "xlsx_bomb": xlsx_bomb,
    "xlsx_sheet_too_large": xlsx_sheet_too_large,
    "zip_named_xlsx": zip_named_xlsx,
    "corrupt_xlsx_member": corrupt_xlsx,
    "xls_suffix": xls_suffix,
    "empty": empty,
    "binary": binary,
    "cp850": cp850,
}


def hostile(folder: Path, rng: random.Random, per_defect: int = 1) -> list[Job]:
    """``per_defect`` files of every defect (expect a refusal)."""
    return cm.hostile_jobs(DEFECTS, folder, rng, per_defect)


def generate(folder: Path, n: int, rng: random.Random) -> list[Job]:
    """``n`` cases: about a quarter valid files, half with one defect, a quarter byte mutants."""
    return cm.generated_jobs(valid, DEFECTS, folder, n, rng)
