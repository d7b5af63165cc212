"""Uploads of OSM extracts and GTFS feeds: by content, owned by their session, expiring (issue 18)."""

from __future__ import annotations

import os
import time
from dataclasses import replace
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from geo.errors import DataError
from geo.settings import Settings
from geo.store.uploads import UploadStore


def test_same_name_and_size_but_other_bytes_is_a_new_file_and_is_used(settings: Settings) -> None:
    store = UploadStore(settings)
    first = store.put("osm", "session:a", "aachen.osm", b"<osm>first</osm>")
    second = store.put("osm", "session:a", "aachen.osm", b"<osm>other</osm>")
    assert first.size == second.size and first.name == second.name
    assert first.path != second.path and first.sha256 != second.sha256
    assert second.path.read_bytes() == b"<osm>other</osm>"
    assert first.path.read_bytes() == b"<osm>first</osm>"
    assert store.latest("osm", "session:a") == second  # the one just uploaded is the one used
    again = store.put("osm", "session:a", "aachen.osm", b"<osm>first</osm>")
    assert again.path == first.path  # identical bytes: the kept file, not a copy
    assert store.latest("osm", "session:a") == again


def test_uploads_belong_to_their_owner(settings: Settings) -> None:
    store = UploadStore(settings)
    store.put("gtfs", "session:a", "feed.zip", b"PK a")
    store.put("gtfs", "session:b", "feed.zip", b"PK b")
    assert [u.path.read_bytes() for u in store.list("gtfs", "session:a")] == [b"PK a"]
    assert [u.path.read_bytes() for u in store.list("gtfs", "session:b")] == [b"PK b"]
    assert store.list("gtfs", "user:c") == [] and store.list("osm", "session:a") == []


def test_hostile_names_and_owners_stay_inside_the_upload_folder(settings: Settings) -> None:
    store = UploadStore(settings)
    for name in ("../../escape.osm", "..\\..\\escape.osm", "/etc/passwd", "..", "{{ 6*7 }}.osm.pbf"):
        kept = store.put("osm", "../../owner", name, name.encode())
        assert kept.path.resolve().is_relative_to(store.root.resolve()), kept.path
        assert kept.path.read_bytes() == name.encode()
    assert not (settings.cache_dir.parent / "escape.osm").exists()
    with pytest.raises(ValueError, match="kind"):
        store.put("../x", "session:a", "a.osm", b"x")


def test_unused_uploads_expire(settings: Settings) -> None:
    store = UploadStore(replace(settings, upload_max_age_hours=1.0))
    old = store.put("osm", "session:a", "alt.osm", b"alt")
    fresh = store.put("osm", "session:a", "neu.osm", b"neu")
    two_hours_ago = time.time() - 2 * 3600
    os.utime(old.path, (two_hours_ago, two_hours_ago))
    legacy = settings.cache_dir / "osm_uploads" / "vorher.osm"  # the earlier by-name folder
    legacy.parent.mkdir(parents=True)
    legacy.write_bytes(b"x")
    os.utime(legacy, (two_hours_ago, two_hours_ago))
    assert [u.path for u in store.list("osm", "session:a")] == [fresh.path]
    assert not old.path.exists() and not old.path.parent.exists() and not legacy.exists()
    store.touch(fresh.path)  # picking a file keeps it
    assert store.purge_expired(now=time.time() + 1800) == 0
    assert store.purge_expired(now=time.time() + 2 * 3600) == 1 and not fresh.path.exists()


def test_the_maximum_age_is_a_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    assert Settings().upload_max_age_hours == 168.0
    monkeypatch.setenv("INTEGRATIONSATLAS_UPLOAD_MAX_AGE_HOURS", "24")
    assert Settings.from_env().upload_max_age_hours == 24.0
    monkeypatch.setenv("INTEGRATIONSATLAS_UPLOAD_MAX_AGE_HOURS", "bald")
    with pytest.raises(DataError, match="UPLOAD_MAX_AGE_HOURS"):
        Settings.from_env()


def _upload_page() -> None:
    import streamlit as st

    from geo.settings import Settings
    from ui.uploads import osm_extract

    path = osm_extract(Settings.from_env(), key="osm")
    st.session_state["picked"] = path


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("INTEGRATIONSATLAS_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


def test_app_sessions_use_their_own_upload_even_with_the_same_name_and_size(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import ui.uploads

    # AppTest gives every instance the same session id: tell the two sessions apart as two browsers would be
    session = {"owner": "session:first"}
    monkeypatch.setattr(ui.uploads, "upload_owner", lambda: session["owner"])
    first = AppTest.from_function(_upload_page)
    first.run()
    first.file_uploader(key="osm").set_value(("auszug.osm", b"<osm>AAAA</osm>", "application/xml")).run()
    assert not first.exception
    assert Path(first.session_state["picked"]).read_bytes() == b"<osm>AAAA</osm>"
    session["owner"] = "session:second"
    second = AppTest.from_function(_upload_page)
    second.run()
    assert second.session_state["picked"] is None and not second.selectbox  # it does not see the first upload
    second.file_uploader(key="osm").set_value(("auszug.osm", b"<osm>BBBB</osm>", "application/xml")).run()
    assert Path(second.session_state["picked"]).read_bytes() == b"<osm>BBBB</osm>"
    session["owner"] = "session:first"
    first.run()  # the first session still uses its own file
    assert Path(first.session_state["picked"]).read_bytes() == b"<osm>AAAA</osm>"


def test_the_owner_is_the_browser_session() -> None:
    at = AppTest.from_function(_owner_page)
    at.run()
    assert at.session_state["owner"] == "session:test session id"


def _owner_page() -> None:
    import streamlit as st

    from ui.uploads import upload_owner

    st.session_state["owner"] = upload_owner()
