"""`fetch-tlc`: never installs an unverified jar; fails with one line when offline.

No test downloads anything: the URLs are local files or a closed loopback port.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from tlacheck.cli import main
from tlacheck.fetch_tlc import PINNED_SHA256, PINNED_URL, FetchError, fetch


def test_pinned_release_is_a_stable_tag_with_a_full_digest() -> None:
    assert PINNED_URL.endswith("/v1.7.4/tla2tools.jar")
    assert len(PINNED_SHA256) == 64 and int(PINNED_SHA256, 16) >= 0


def test_digest_mismatch_installs_nothing(tmp_path: Path) -> None:
    source = tmp_path / "impostor.jar"
    source.write_bytes(b"not the tla2tools you are looking for")
    dest = tmp_path / "cache" / "tla2tools.jar"
    with pytest.raises(FetchError, match="does not match the pinned"):
        fetch(dest, url=source.as_uri())
    assert not dest.exists()
    assert list(dest.parent.iterdir()) == []  # the partial download is gone too


def test_matching_digest_installs(tmp_path: Path) -> None:
    payload = b"a jar whose digest we pin for this test"
    source = tmp_path / "good.jar"
    source.write_bytes(payload)
    dest = tmp_path / "cache" / "tla2tools.jar"
    assert fetch(dest, url=source.as_uri(), sha256=hashlib.sha256(payload).hexdigest()) == dest
    assert dest.read_bytes() == payload
    # A verified jar already in place is kept without downloading again.
    assert (
        fetch(dest, url=(tmp_path / "gone.jar").as_uri(), sha256=hashlib.sha256(payload).hexdigest()) == dest
    )


def test_unreachable_url(tmp_path: Path) -> None:
    with pytest.raises(FetchError, match="could not download"):
        fetch(tmp_path / "tla2tools.jar", url="http://127.0.0.1:9/tla2tools.jar", timeout_s=5)


def test_cli_fetch_failure_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    dest = tmp_path / "tla2tools.jar"
    code = main(["fetch-tlc", "--dest", str(dest), "--url", "http://127.0.0.1:9/tla2tools.jar"])
    err = capsys.readouterr().err
    assert code == 1
    assert err.count("\n") == 1 and err.startswith("tlacheck: error: could not download")
    assert not dest.exists()


def test_cli_refuses_an_unverified_mirror(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = tmp_path / "mirror.jar"
    source.write_bytes(b"tampered")
    dest = tmp_path / "tla2tools.jar"
    assert main(["fetch-tlc", "--dest", str(dest), "--url", source.as_uri()]) == 1
    assert "refusing to install" in capsys.readouterr().err and not dest.exists()
