"""Shared fixtures: isolated settings, real data from ../shared, error matchers."""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path

import pytest
from hypothesis import settings as hypothesis_settings

from geo.settings import PROJECT_ROOT, Settings

# Property tests draw the same examples on every run (CI and the edit loop stay reproducible: a rare case must not
# turn up, and shrink for minutes, in one run of many); HYPOTHESIS_PROFILE=explore draws new ones each run.
hypothesis_settings.register_profile("reproducible", derandomize=True)
hypothesis_settings.register_profile("explore", derandomize=False)
hypothesis_settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "reproducible"))

SHARED_DATA = PROJECT_ROOT.parent / "shared" / "data"
#: Fixtures that read ../shared/data: a test using one of them (directly or through another fixture) needs it.
SHARED_FIXTURES = frozenset({"shared_data", "aachen_osm_xml", "aachen_osm_pbf"})


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark every test that needs ``../shared/data`` with ``shared``, so ``-m "not shared"`` never runs one."""
    for item in items:
        if SHARED_FIXTURES & set(getattr(item, "fixturenames", ())) and item.get_closest_marker("shared") is None:
            item.add_marker(pytest.mark.shared)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Settings whose data store and cache live in a fresh temporary folder."""
    return Settings().with_home(tmp_path / "home")


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """Path of ``../shared/data``; skips the test when it is absent (or in ``make test-fast``)."""
    if os.environ.get("INTEGRATIONSATLAS_TEST_FAST"):
        pytest.skip("make test-fast: Tests mit echten Daten aus ../shared/data sind abgeschaltet")
    if not SHARED_DATA.is_dir():
        pytest.skip("../shared/data is not present: real-data test skipped (see ../shared/data/PROVENANCE.md)")
    return SHARED_DATA


@pytest.fixture
def raises_matching() -> Callable[..., AbstractContextManager[pytest.ExceptionInfo[BaseException]]]:
    """Reusable ``pytest.raises(..., match=...)`` with literal (escaped) text.

    >>> # in a test: with raises_matching(SchemaError, "Pflichtspalte"): ...
    """

    def _make(exc: type[BaseException], *fragments: str) -> AbstractContextManager[pytest.ExceptionInfo[BaseException]]:
        pattern = "".join(f"(?=[\\s\\S]*{re.escape(f)})" for f in fragments)
        return pytest.raises(exc, match=pattern)

    return _make


@pytest.fixture(scope="session")
def aachen_osm_xml(shared_data: Path) -> Path:
    """The real OSM XML extract of central Aachen (bz2)."""
    path = shared_data / "osm" / "aachen.osm.bz2"
    if not path.exists():
        pytest.skip(f"{path} missing: real-network test skipped")
    return path


@pytest.fixture(scope="session")
def aachen_osm_pbf(shared_data: Path) -> Path:
    """The real OSM extract of central Aachen as Geofabrik-style PBF."""
    path = shared_data / "osm" / "aachen.osm.pbf"
    if not path.exists():
        pytest.skip(f"{path} missing: real-network test skipped")
    return path


@pytest.fixture
def app_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An isolated, offline data store for the app under AppTest (never the user's real one)."""
    path = tmp_path / "atlas-home"
    monkeypatch.setenv("INTEGRATIONSATLAS_HOME", str(path))
    monkeypatch.setenv("INTEGRATIONSATLAS_OFFLINE", "1")
    return path
