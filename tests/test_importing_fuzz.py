"""Property tests: broken or hostile inputs of every format never crash the importer.

Every failure must be one of the project's own errors with a message naming
the file, and a failed import must leave the data store exactly as it was.
The generated corpus (``tests/fuzz_corpus.py``: valid seeds in every format,
hostile cases with one known defect each, byte mutants) is judged by
:func:`fuzz_corpus.run_case`: refused cleanly, or imported correctly. Bombs
run through the CLI in a fresh process whose peak memory is measured; two
processes importing the same ids at the same moment leave exactly one winner.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import fuzz_corpus as fc
import geopandas as gpd
import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hyp_settings
from hypothesis import strategies as st
from shapely.geometry import Point

from geo.errors import IntegrationsatlasError
from geo.importing import import_file
from geo.settings import Settings
from geo.store import DataStore
from geo.store.datastore import DuplicateIdError

FUZZ = hyp_settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

VALID_CSV = "id;name;plz;lon;lat;plaetze\nK1;Kita am Dom;50667;6,9583;50,9413;40\nK2;Kita B;40213;6,7719;51,2277;\n"
VALID_GEOJSON = json.dumps(
    {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [6.9583, 50.9413]},
                "properties": {"id": "K1", "name": "Kita am Dom"},
            }
        ],
    }
)


pytest_plugins = ("store_backends",)


@pytest.fixture(scope="module")
def seeded() -> Iterator[tuple[Settings, Path]]:
    """Settings whose store already holds one batch, and a folder for the inputs."""
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        settings = Settings().with_home(home / "home")
        seed = gpd.GeoDataFrame(
            {"id": ["SEED"], "name": ["Bestand"]}, geometry=[Point(356_000, 5_645_000)], crs="EPSG:25832"
        )
        DataStore(settings.store_path).write_layer(
            "kita", seed, mode="append", source_file="seed", source="test", licence="CC0"
        )
        yield settings, home


def _check(path: Path, settings: Settings, on_invalid: str) -> None:
    store = DataStore(settings.store_path)
    before = store.batches()
    try:
        result = import_file(path, "kita", settings, on_invalid=on_invalid)  # type: ignore[arg-type]
    except IntegrationsatlasError as exc:
        message = str(exc).strip()
        result = None
    else:
        message = ""
    if result is None:
        assert message, "an error without a message"
        assert store.batches() == before
        return
    # a (rare) valid input was stored as exactly one new batch; undo it to keep the store comparable
    after = store.batches()
    assert result.batch is not None
    assert [b.batch_id for b in after[1:]] == [b.batch_id for b in before]
    store.deactivate(result.batch.batch_id)


def _mutate(base: bytes, data: st.DataObject) -> bytes:
    """Cut, splice and overwrite bytes of a valid file."""
    raw = bytearray(base)
    for _ in range(data.draw(st.integers(0, 6))):
        op = data.draw(st.sampled_from(["cut", "insert", "replace"]))
        pos = data.draw(st.integers(0, max(len(raw) - 1, 0)))
        if op == "cut":
            del raw[pos : pos + data.draw(st.integers(1, 20))]
        else:
            chunk = data.draw(
                st.binary(min_size=1, max_size=8)
                | st.sampled_from(
                    [
                        b";",
                        b",",
                        b'"',
                        b"\n",
                        b"\r\n",
                        b"\x00",
                        b"\xff\xfe",
                        b"sep=;\n",
                        b"{",
                        b"]",
                        b"1e999",
                        b"NaN",
                        b"-",
                        b"\xe4",
                        b"<script>",
                    ]
                )
            )
            raw[pos:pos] = chunk if op == "insert" else b""
            if op == "replace":
                del raw[pos + len(chunk) : pos + 2 * len(chunk)]
    return bytes(raw)


@pytest.mark.slow
@FUZZ
@given(data=st.data(), on_invalid=st.sampled_from(["reject", "keep_valid"]))
def test_broken_csv_bytes(seeded: tuple[Settings, Path], data: st.DataObject, on_invalid: str) -> None:
    settings, home = seeded
    content = data.draw(st.one_of(st.binary(max_size=300), st.just(VALID_CSV.encode("cp1252"))), label="base")
    content = _mutate(content, data)
    path = home / "fuzz.csv"
    path.write_bytes(content)
    _check(path, settings, on_invalid)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(10**12), 10**12) | st.floats(allow_nan=False) | st.text(max_size=10),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=20,
)
coords = st.lists(st.floats(allow_nan=True, allow_infinity=True, width=32), min_size=0, max_size=3)
geometries = st.one_of(
    st.none(),
    st.fixed_dictionaries(
        {
            "type": st.sampled_from(["Point", "LineString", "Polygon", "Bogus"]),
            "coordinates": st.one_of(coords, st.lists(coords, max_size=4), json_values),
        }
    ),
    json_values,
)
features = st.fixed_dictionaries(
    {
        "type": st.sampled_from(["Feature", "feature", "Nope"]),
        "geometry": geometries,
        "properties": st.one_of(
            st.dictionaries(st.sampled_from(["id", "name", "plz", "lon", "lat", "ogs", "x"]), json_values, max_size=5),
            json_values,
        ),
    }
)
geojson_docs = st.one_of(
    json_values.map(json.dumps),
    st.fixed_dictionaries(
        {
            "type": st.sampled_from(["FeatureCollection", "Feature"]),
            "features": st.one_of(st.lists(features, max_size=4), json_values),
        }
    ).map(json.dumps),
    st.text(max_size=200),
)


@FUZZ
@given(text=geojson_docs, cut=st.integers(0, 400), on_invalid=st.sampled_from(["reject", "keep_valid"]))
def test_broken_geojson(seeded: tuple[Settings, Path], text: str, cut: int, on_invalid: str) -> None:
    settings, home = seeded
    path = home / "fuzz.geojson"
    path.write_text(text[: max(cut, len(text) // 2)], encoding="utf-8")
    _check(path, settings, on_invalid)


@FUZZ
@given(data=st.data())
def test_truncated_valid_geojson(seeded: tuple[Settings, Path], data: st.DataObject) -> None:
    settings, home = seeded
    path = home / "fuzz2.geojson"
    path.write_bytes(_mutate(VALID_GEOJSON.encode(), data))
    _check(path, settings, "reject")


# --- the generated corpus: seeds of every format, hostile cases, mutants -------------------------


@pytest.fixture(scope="module")
def corpus(seeded: tuple[Settings, Path]) -> tuple[list[fc.Case], list[fc.Case]]:
    _, home = seeded
    return fc.seeds(home / "seeds"), fc.hostile(home / "hostile")


def _judge(cases: list[fc.Case], settings: Settings) -> list[str]:
    return [f"{o.verdict} {o.case.name}: {o.detail}" for o in (fc.run_case(c, settings) for c in cases) if not o.ok]


@pytest.mark.slow
def test_every_seed_imports_correctly(seeded: tuple[Settings, Path], corpus: tuple[list[fc.Case], ...]) -> None:
    seeds, _ = corpus
    assert {c.path.suffix for c in seeds} == {".csv", ".tsv", ".xlsx", ".geojson", ".gpkg", ".zip"}
    assert _judge(seeds, seeded[0]) == []


@pytest.mark.slow
def test_every_hostile_case_is_refused_cleanly(
    seeded: tuple[Settings, Path], corpus: tuple[list[fc.Case], ...]
) -> None:
    """1e20/2^63 capacities, infinite coordinates, broken geometries, deep nesting, unknown CRS, truncated
    rows, foreign encodings, damaged ZIPs and bombs: refused with the file named, the store unchanged."""
    _, hostile = corpus
    kinds = {c.kind for c in hostile}
    assert {
        "integer range",
        "coordinate",
        "geometry",
        "nesting",
        "crs",
        "truncated",
        "encoding",
        "zip",
        "bomb",
    } <= kinds
    assert _judge(hostile, seeded[0]) == []


def test_refusals_name_row_and_column(seeded: tuple[Settings, Path], corpus: tuple[list[fc.Case], ...]) -> None:
    settings, _ = seeded
    _, hostile = corpus
    by_name = {c.name: c for c in hostile}
    for name, row, column in (
        ("capacity_1e20.xlsx", 2, "plaetze"),
        ("coord_inf.csv", 2, "lon"),
        ("geom_collection.geojson", 1, "geometry"),
        ("truncated_12.csv", 3, None),
    ):
        with pytest.raises(IntegrationsatlasError) as info:
            import_file(by_name[name].path, "kita", settings)
        problems = getattr(info.value, "problems", ())
        assert any(p.file == name and p.row == row and p.column == column for p in problems), str(info.value)


FAST_MUTANTS = hyp_settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@pytest.mark.slow
@FAST_MUTANTS
@given(index=st.integers(0, 11), rnd=st.randoms(use_true_random=False))
def test_mutants_of_every_format(
    seeded: tuple[Settings, Path], corpus: tuple[list[fc.Case], ...], index: int, rnd: random.Random
) -> None:
    settings, home = seeded
    seeds, _ = corpus
    seed = seeds[index % len(seeds)]
    path = home / f"mutant_{seed.name}"
    path.write_bytes(fc.mutate(seed.path.read_bytes(), rnd))
    outcome = fc.run_case(fc.Case(path.name, path, "any", "mutant"), settings)
    assert outcome.ok, f"{outcome.verdict}: {outcome.detail}"


@pytest.mark.slow
def test_many_mutants_of_every_format(seeded: tuple[Settings, Path], corpus: tuple[list[fc.Case], ...]) -> None:
    settings, home = seeded
    seeds, _ = corpus
    cases = fc.mutants(seeds, home / "mutants", 400, random.Random(7))
    assert _judge(cases, settings) == []


# --- the CLI in a fresh process: exit codes and peak memory -----------------------------------------


def _cli(path: Path, home: Path, start_at: float = 0.0) -> tuple[subprocess.Popen[bytes], object]:
    env = {**os.environ, "INTEGRATIONSATLAS_HOME": str(home), "INTEGRATIONSATLAS_OFFLINE": "1"}
    # The peak RSS is read from /proc/self/status (VmHWM) by the child itself: the kernel's ru_maxrss of a
    # forked child also counts the parent's pages before exec (the test process is large by then).
    code = (
        "import atexit, sys, time\n"
        "def _hwm():\n"
        "    kb = [l for l in open('/proc/self/status') if l.startswith('VmHWM')][0].split()[1]\n"
        "    sys.stderr.write(f'\\nVMHWM_KB={kb}\\n')\n"
        "atexit.register(_hwm)\n"
        "from integrationsatlas.cli import build_parser, main\nbuild_parser()\n"
        "rss = [l for l in open('/proc/self/status') if l.startswith('VmRSS')][0].split()[1]\n"
        "sys.stderr.write(f'\\nBASE_KB={rss}\\n')\n"
        "time.sleep(max(0.0, float(sys.argv[1]) - time.time()))\nsys.exit(main(sys.argv[2:]))\n"
    )
    errfile = tempfile.TemporaryFile()  # noqa: SIM115 - a file, not a pipe (cannot block); closed in _finish
    proc = subprocess.Popen(
        [sys.executable, "-c", code, str(start_at), "import", str(path), "--layer", "kita"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=errfile,
    )
    return proc, errfile


def _finish(started: tuple[subprocess.Popen[bytes], object]) -> tuple[int, str, float]:
    """Exit code, stderr and peak RSS in MB of a finished CLI process, above its RSS once the CLI was imported.

    The imports alone take 300–450 MB, depending on the library versions pip resolved; what a file costs is
    the peak above them.
    """
    proc, errfile = started
    _, status, usage = os.wait4(proc.pid, 0)
    errfile.seek(0)  # type: ignore[attr-defined]
    err = errfile.read().decode("utf-8", "replace")  # type: ignore[attr-defined]
    errfile.close()  # type: ignore[attr-defined]
    peak = [line for line in err.splitlines() if line.startswith("VMHWM_KB=")]
    base = [line for line in err.splitlines() if line.startswith("BASE_KB=")]
    rss_mb = int(peak[-1].split("=")[1]) / 1024 if peak else usage.ru_maxrss / 1024
    rss_mb -= int(base[-1].split("=")[1]) / 1024 if base else 0.0
    err = "\n".join(line for line in err.splitlines() if not line.startswith(("VMHWM_KB=", "BASE_KB=")))
    return os.waitstatus_to_exitcode(status), err, rss_mb


@pytest.mark.slow
def test_cli_refuses_with_exit_2_and_german_message(tmp_path: Path) -> None:
    case = next(c for c in fc.hostile(tmp_path / "h") if c.name == "capacity_2p63.geojson")
    code, err, _ = _finish(_cli(case.path, tmp_path / "home"))
    assert code == 2, err
    assert "Traceback" not in err
    assert "capacity_2p63.geojson, Zeile 1, Spalte »plaetze«" in err and "zu groß" in err
    assert str(tmp_path) not in err
    assert not (tmp_path / "home" / "store.gpkg").exists()


@pytest.mark.slow
def test_cli_bombs_are_refused_with_bounded_memory(tmp_path: Path) -> None:
    """ZIP/XLSX bombs (declared and lying sizes), huge sheet dimensions, a huge .prj: exit 2, < 100 MB above imports."""
    bombs = [c for c in fc.hostile(tmp_path / "h") if c.kind in ("bomb", "nesting")]
    assert len(bombs) >= 6
    for case in bombs:
        t0 = time.perf_counter()
        code, err, rss = _finish(_cli(case.path, tmp_path / "home"))
        assert code == 2 and "Traceback" not in err and case.name in err, (case.name, err)
        assert rss < 100, (case.name, rss)
        print(f"BOMB {case.name}: {rss:.0f} MB above the imports")
        assert time.perf_counter() - t0 < 60


# --- ids checked inside the write transaction ----------------------------------------------------


def test_write_layer_checks_ids_inside_its_transaction(tmp_path: Path) -> None:
    """The guard against races: ids already active are refused at registration, the table is dropped."""
    store = DataStore(tmp_path / "store.gpkg")
    gdf = gpd.GeoDataFrame(
        {"id": ["A", "B"], "name": ["a", "b"]},
        geometry=[Point(356_000, 5_645_000), Point(356_100, 5_645_000)],
        crs="EPSG:25832",
    )
    store.write_layer("kita", gdf, mode="append", source_file="a", source="t", licence="CC0", unique_column="id")
    before = store.batches()
    with pytest.raises(DuplicateIdError) as info:
        store.write_layer(
            "kita", gdf.iloc[1:], mode="append", source_file="b", source="t", licence="CC0", unique_column="id"
        )
    assert info.value.ids == ("B",)
    assert store.batches() == before
    assert len(store.read_layer("kita")) == 2  # type: ignore[arg-type]
    store.write_layer("kita", gdf, mode="replace", source_file="c", source="t", licence="CC0", unique_column="id")


@pytest.mark.slow  # two fresh CLI processes per round
def test_two_processes_import_the_same_ids_exactly_one_wins(tmp_path: Path) -> None:
    rows = "".join(f"C{i};Kita {i};50667;6,95{i % 100:02d};50,94{i % 100:02d};10\n" for i in range(300))
    paths = []
    for who in ("a", "b"):
        path = tmp_path / f"{who}.csv"
        path.write_text("id;name;plz;lon;lat;plaetze\n" + rows, encoding="utf-8")
        paths.append(path)
    # the store exists already (creating a new store file concurrently is the store's own concern)
    seed = gpd.GeoDataFrame(
        {"id": ["SEED"], "name": ["Bestand"]}, geometry=[Point(356_000, 5_645_000)], crs="EPSG:25832"
    )
    DataStore(tmp_path / "home" / "store.gpkg").write_layer(
        "kita", seed, mode="append", source_file="seed", source="test", licence="CC0"
    )
    start = time.time() + 5.0
    results = [_finish(p) for p in [_cli(path, tmp_path / "home", start) for path in paths]]
    codes = sorted(code for code, _, _ in results)
    assert codes == [0, 2], results
    loser = next(err for code, err, _ in results if code == 2)
    assert "Traceback" not in loser and "ID »C0«" in loser
    stored = DataStore(tmp_path / "home" / "store.gpkg").read_layer("kita")
    assert stored is not None and len(stored) == 301 and not stored["id"].duplicated().any()


@pytest.mark.parametrize("suffix", [".gpkg", ".xlsx", ".zip", ".geojson"])
def test_refusals_never_show_the_server_path(tmp_path: Path, suffix: str) -> None:
    """An upload lives under a temporary name; messages name the user's file only."""
    upload = tmp_path / "upload-3f9a" / f"tmpx81k{suffix}"
    upload.parent.mkdir()
    head = {".gpkg": b"SQLite format 3\x00", ".xlsx": b"PK\x03\x04", ".zip": b"PK\x03\x04", ".geojson": b"{"}[suffix]
    upload.write_bytes(head + b"\x00garbage" * 50)
    if suffix == ".zip":  # GDAL's own message names the unpacked temporary .shp
        with zipfile.ZipFile(upload, "w") as zf:
            for ext in ("shp", "shx", "dbf"):
                zf.writestr(f"k.{ext}", b"garbage" * 10)
    with pytest.raises(IntegrationsatlasError) as info:
        import_file(upload, "kita", Settings().with_home(tmp_path / "home"), display_name=f"Kitas 2025{suffix}")
    message = str(info.value)
    assert f"Kitas 2025{suffix}" in message
    assert "upload-3f9a" not in message and "tmpx81k" not in message and "/tmp" not in message


def test_limits_come_from_settings_and_are_checked_before_reading(tmp_path: Path) -> None:
    from dataclasses import replace

    settings = replace(Settings().with_home(tmp_path / "home"), max_rows=10, max_cells=40, max_json_depth=3)
    rows = "".join(f"K{i};Kita {i};50667;6,95;50,94;10\n" for i in range(20))
    csv_path = tmp_path / "viele.csv"
    csv_path.write_text("id;name;plz;lon;lat;plaetze\n" + rows, encoding="utf-8")
    with pytest.raises(IntegrationsatlasError, match=r"viele\.csv: 20 Zeilen; erlaubt sind höchstens 10"):
        import_file(csv_path, "kita", settings)
    sheet: list[list[object]] = [[f"c{i}" for i in range(8)]]
    sheet += [[1] * 8 for _ in range(6)]
    xlsx = fc.write_xlsx(tmp_path / "breit.xlsx", sheet)
    with pytest.raises(IntegrationsatlasError, match=r"breit\.xlsx: 6 Zeilen × 8 Spalten = 48 Zellen"):
        import_file(xlsx, "kita", settings)
    deep = tmp_path / "tief.geojson"
    fc.write_geojson(deep, fc.ROWS)
    with pytest.raises(IntegrationsatlasError, match=r"tief\.geojson, Zeile 1: Das JSON ist tiefer als 3"):
        import_file(deep, "kita", settings)
    assert not settings.store_path.exists()


@pytest.mark.parametrize(
    ("ewz", "coordinate", "column"), [(1e20, 51.0, "EWZ"), (2**63, 51.0, "EWZ"), (1000, float("inf"), "geometry")]
)
def test_boundary_import_refuses_huge_numbers_and_infinite_geometries(
    tmp_path: Path, ewz: object, coordinate: float, column: str
) -> None:
    ring = [[6.9, 50.9], [7.0, 50.9], [7.0, coordinate], [6.9, 51.0], [6.9, 50.9]]
    doc = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "geometry": {"type": "Polygon", "coordinates": [ring]},
                "properties": {"AGS": "05315000", "GEN": "Köln", "EWZ": ewz},
            }
        ],
    }
    path = tmp_path / "gemeinden.geojson"
    path.write_text(json.dumps(doc).replace("Infinity", "1e999"), encoding="utf-8")
    settings = Settings().with_home(tmp_path / "home")
    with pytest.raises(IntegrationsatlasError) as info:
        import_file(path, "gemeinde", settings)
    problems = getattr(info.value, "problems", ())
    assert any(p.file == "gemeinden.geojson" and p.row == 1 and p.column == column for p in problems), info.value
    assert not settings.store_path.exists()


@pytest.mark.slow
def test_seeds_and_hostile_cases_on_postgis(database_url: str, tmp_path: Path) -> None:
    """The same invariant with the shared PostgreSQL/PostGIS store: correct imports or clean refusals,
    the store unchanged after every refusal."""
    settings = replace(Settings().with_home(tmp_path / "home"), database_url=database_url)
    seeds, hostile = fc.seeds(tmp_path / "seeds"), fc.hostile(tmp_path / "hostile")
    assert _judge(seeds, settings) == []
    failures = _judge([c for c in hostile if c.kind != "bomb"], settings)
    assert failures == [], "\n".join(failures)
