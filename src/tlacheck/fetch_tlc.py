"""Download the pinned tla2tools.jar release and install it only if its SHA-256 matches.

Pinned: TLA+ tools v1.7.4 (TLC2 2.19, 08 August 2024), the latest stable release; v1.8.0 is a
rolling pre-release whose asset is rebuilt, so it cannot be pinned by digest. The digest
936a2620...0e88 (2,274,532 bytes) is the one nixpkgs' ``tlaplus`` 1.7.4 package records
(SRI sha256-k2omIGHJ...FDog=) and several independent projects verify against; tlaplus
itself publishes no checksum file.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import urllib.error
import urllib.request
from pathlib import Path

from tlacheck.tlc import cached_jar_path

PINNED_VERSION = "1.7.4"
PINNED_URL = f"https://github.com/tlaplus/tlaplus/releases/download/v{PINNED_VERSION}/tla2tools.jar"
PINNED_SHA256 = "936a262061c914694dfd669a543be24573c45d5aa0ff20a8b96b23d01e050e88"
PINNED_SIZE = 2_274_532


class FetchError(RuntimeError):
    """The jar could not be downloaded or did not verify; nothing was installed."""


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def fetch(
    dest: Path | None = None,
    *,
    url: str = PINNED_URL,
    sha256: str = PINNED_SHA256,
    timeout_s: float = 60.0,
    force: bool = False,
) -> Path:
    """Install the jar at `dest` (default: the tlacheck cache) and return its path.

    An existing file with the right digest is kept. The download goes to a temporary
    file beside `dest` and is renamed into place only after its digest matches.
    """
    dest = dest or cached_jar_path()
    if dest.is_file() and not force and sha256_of(dest) == sha256:
        return dest
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=".tla2tools-", suffix=".part", dir=dest.parent)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out:
            try:
                with urllib.request.urlopen(url, timeout=timeout_s) as response:
                    while chunk := response.read(1 << 16):
                        out.write(chunk)
            except (urllib.error.URLError, OSError, ValueError) as exc:
                reason = getattr(exc, "reason", exc)
                raise FetchError(f"could not download {url}: {reason}") from exc
        got = sha256_of(tmp)
        if got != sha256:
            raise FetchError(f"refusing to install {url}: SHA-256 {got} does not match the pinned {sha256}")
        tmp.replace(dest)
        return dest
    finally:
        tmp.unlink(missing_ok=True)
