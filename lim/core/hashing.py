"""The one SHA-256 helper: of a file (read in chunks), of bytes, of a text (UTF-8), as hex digests.

Used for the landing files' checksums (load_log.sha256, the resend check), the manifest, the run
audit's policy checksum, feedback files and their import ids, and the landing sensor's folder
fingerprint."""
from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path

CHUNK = 1 << 20


def sha256_file(path: str | Path, chunk_size: int = CHUNK,
                inspect: Callable[[bytes, bool], bool] | None = None) -> str | None:
    """Hex SHA-256 of the file's bytes. `inspect(chunk, first)` sees every chunk before it is hashed;
    when it returns False the reading stops and the result is None (lim/ingest/streaming.py: hash and
    UTF-8 check in one pass)."""
    h = hashlib.sha256()
    first = True
    with open(path, "rb") as fh:
        while chunk := fh.read(chunk_size):
            if inspect is not None and not inspect(chunk, first):
                return None
            first = False
            h.update(chunk)
    return h.hexdigest()


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
