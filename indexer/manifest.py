"""Atomic file writes and the JSON manifest that every saved index folder carries."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from indexer.errors import IndexCorrupt, IndexMismatch, IndexMissing

MANIFEST = "manifest.json"


def _fsync_dir(path: Path) -> None:
    # The rename is durable only once the directory entry itself is flushed (POSIX).
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


@contextlib.contextmanager
def atomic_target(path: Path) -> Iterator[Path]:
    """Yield a temp path beside `path`; on success fsync it and rename it over `path`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, path)
        _fsync_dir(path.parent)
    finally:
        tmp.unlink(missing_ok=True)


def write_atomic(path: Path, data: bytes) -> None:
    """Write bytes so that readers see either the old file or the complete new one."""
    with atomic_target(path) as tmp:
        tmp.write_bytes(data)


def sha256_file(path: Path) -> str:
    """Hex sha256 of a file, streamed."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def write_manifest(directory: Path, manifest: dict[str, Any]) -> None:
    """Atomically (re)write `directory/manifest.json`; write it last, it commits the save."""
    text = json.dumps(manifest, ensure_ascii=False, indent=2, sort_keys=True)
    write_atomic(directory / MANIFEST, text.encode("utf-8"))


def read_json_file(path: Path) -> dict[str, Any]:
    """A JSON object from disk; IndexMissing if absent, IndexCorrupt if unreadable."""
    if not path.is_file():
        raise IndexMissing(f"no index state at {path}")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise IndexCorrupt(f"unreadable index state {path}: {exc}") from exc
    if not isinstance(data, dict):
        raise IndexCorrupt(f"index state {path} is not a JSON object")
    return data


def read_manifest(directory: Path) -> dict[str, Any]:
    """Read `directory/manifest.json`; IndexMissing if absent, IndexCorrupt if unreadable."""
    return read_json_file(Path(directory) / MANIFEST)


def check_manifest(manifest: dict[str, Any], **expected: Any) -> None:
    """Raise IndexMismatch naming the first field whose saved value differs from `expected`."""
    for key, want in expected.items():
        if key not in manifest:
            raise IndexCorrupt(f"index manifest lacks {key!r}")
        if manifest[key] != want:
            raise IndexMismatch(f"index was built with {key}={manifest[key]!r}, expected {want!r}")


def verify_file(directory: Path, name: str, sha256: str) -> Path:
    """Path of a manifest-listed file after checking it exists and matches its checksum."""
    if not name or "/" in name or name.startswith("."):
        raise IndexCorrupt(f"bad file name in manifest: {name!r}")
    path = directory / name
    if not path.is_file():
        raise IndexCorrupt(f"index file {path} is missing")
    if sha256_file(path) != sha256:
        raise IndexCorrupt(f"index file {path} fails its checksum")
    return path


def remove_stale(directory: Path, keep: set[str], prefixes: tuple[str, ...]) -> None:
    """Delete earlier generations' files (same prefixes, not in `keep`) after a save."""
    for path in directory.iterdir():
        if path.name.startswith(prefixes) and path.name not in keep:
            with contextlib.suppress(OSError):
                path.unlink()
