"""Generated corpora for every importer, each case in an isolated child: exit 0 or 2, nothing else.

The property for every file, valid or hostile or a byte mutant: the importer
ends with exit 0 (a valid file imported correctly, a mutant imported
plausibly) or exit 2 with a German message naming the file, within 60 s and
2 GB, never a traceback; a refusal leaves the store unchanged; a file the
generator knows is invalid is never imported (``tests/fuzz_runner.py``
judges). The corpora (``tests/fuzz_*.py``) are generated here, seeded; this
CI part runs a few dozen cases per importer, ``benchmarks/fuzz_import.py
--importers`` thousands.
"""

from __future__ import annotations

import collections
import random
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import fuzz_boundaries
import fuzz_facility
import fuzz_gtfs
import fuzz_osm
import fuzz_population
import fuzz_zensus
import pytest
from fuzz_runner import Worker, failures

#: Cases per importer in CI (the benchmark runs 2,000 and more).
CASES = 16
#: A few hundred generated files in child processes: ``make test`` (CI) runs them, not the edit loop.
pytestmark = pytest.mark.slow
CORPORA: dict[str, ModuleType] = {
    "zensus": fuzz_zensus,
    "gtfs": fuzz_gtfs,
    "population": fuzz_population,
    "osm": fuzz_osm,
    "boundary": fuzz_boundaries,
    "facility": fuzz_facility,
}


@pytest.fixture(scope="module")
def worker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Worker]:
    with Worker(tmp_path_factory.mktemp("fuzz-home")) as w:
        yield w


@pytest.mark.parametrize("importer", list(CORPORA))
def test_generated_files_end_in_exit_0_or_2(worker: Worker, tmp_path: Path, importer: str) -> None:
    corpus = CORPORA[importer]
    jobs = corpus.generate(tmp_path / importer, CASES, random.Random(f"{importer}-20261206"))
    if importer == "facility":  # the fixed corpus is large: a sample of it with the generated part
        jobs = random.Random(1).sample(jobs, CASES)
    outcomes = list(worker.run(jobs))
    assert failures(outcomes) == []
    verdicts = collections.Counter(o.verdict for o in outcomes)
    assert verdicts["accepted"] > 0 and verdicts["refused"] > 0, verdicts


@pytest.mark.parametrize("importer", list(CORPORA))
def test_every_defect_is_refused_with_the_file_named(worker: Worker, tmp_path: Path, importer: str) -> None:
    """One file of each known defect per importer: a refusal (exit 2) naming the file, nothing stored."""
    jobs = CORPORA[importer].hostile(tmp_path / importer, random.Random(f"{importer}-hostile"))
    outcomes = list(worker.run(jobs))
    assert failures(outcomes) == []
    assert {o.verdict for o in outcomes} == {"refused"}
