"""Atomic file writes and the one manifest schema that every saved index part carries."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
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


@dataclass(frozen=True)
class FileRef:
    """One file of a saved part, by name relative to the part's folder."""

    name: str
    sha256: str


@dataclass(frozen=True)
class Manifest:
    """The one schema of every saved index part (lexical, vector, embedder state, the root).

    `library_version` is the application's version, passed in by the caller; `params` holds
    what the part was built with, so a reader can refuse a part built otherwise.
    """

    kind: str
    format_version: int
    library_version: str
    created_at: str
    files: dict[str, FileRef]
    params: dict[str, Any]

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "format_version": self.format_version,
            "library_version": self.library_version,
            "created_at": self.created_at,
            "files": {role: {"name": f.name, "sha256": f.sha256} for role, f in self.files.items()},
            "params": self.params,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any], where: Path) -> Manifest:
        """Parse a manifest; IndexCorrupt when a field is missing or of the wrong type."""
        try:
            files = {
                str(role): FileRef(str(f["name"]), str(f["sha256"]))
                for role, f in dict(data["files"]).items()
            }
            manifest = cls(
                kind=str(data["kind"]),
                format_version=int(data["format_version"]),
                library_version=str(data["library_version"]),
                created_at=str(data["created_at"]),
                files=files,
                params=dict(data["params"]),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise IndexCorrupt(f"index manifest in {where} is malformed: {exc!r}") from exc
        return manifest

    def expect(self, **params: Any) -> None:
        """IndexMismatch naming the first parameter whose saved value differs from `params`."""
        for key, want in params.items():
            if key not in self.params:
                raise IndexCorrupt(f"{self.kind} manifest lacks parameter {key!r}")
            if self.params[key] != want:
                got = self.params[key]
                raise IndexMismatch(
                    f"{self.kind} index was built with {key}={got!r}, expected {want!r}"
                )


def commit(
    directory: Path,
    *,
    kind: str,
    format_version: int,
    version: str,
    files: Mapping[str, str],
    params: dict[str, Any],
) -> Manifest:
    """Checksum the already written `files` ({role: name}) and write the manifest, last."""
    manifest = Manifest(
        kind=kind,
        format_version=format_version,
        library_version=version,
        created_at=utc_now(),
        files={role: FileRef(name, sha256_file(directory / name)) for role, name in files.items()},
        params=params,
    )
    text = json.dumps(manifest.to_json(), ensure_ascii=False, indent=2, sort_keys=True)
    write_atomic(directory / MANIFEST, text.encode("utf-8"))
    return manifest


def open_part(
    directory: Path, *, kind: str, format_version: int
) -> tuple[Manifest, dict[str, Path]]:
    """A saved part's manifest and verified file paths.

    Raises:
        IndexMissing: no manifest (first start, or the folder was deleted).
        IndexCorrupt: unreadable manifest, missing file or failed checksum.
        IndexMismatch: another kind of part or another format version.
    """
    path = Path(directory) / MANIFEST
    manifest = Manifest.from_json(read_json_file(path), path)
    if manifest.kind != kind or manifest.format_version != format_version:
        raise IndexMismatch(
            f"{path} holds {manifest.kind} format {manifest.format_version}, "
            f"expected {kind} format {format_version}"
        )
    paths = {role: verify_file(directory, f.name, f.sha256) for role, f in manifest.files.items()}
    return manifest, paths


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


def verify_file(directory: Path, name: str, sha256: str) -> Path:
    """Path of a manifest-listed file after checking it exists and matches its checksum."""
    parts = Path(name).parts
    if not name or Path(name).is_absolute() or any(p in ("..", ".") for p in parts):
        raise IndexCorrupt(f"bad file name in manifest: {name!r}")
    if parts[-1].startswith("."):
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
