"""Atomic writes and manifests shared by the lexical and vector indexes."""

from __future__ import annotations

from pathlib import Path

import pytest

from indexer.errors import IndexCorrupt, IndexMismatch, IndexMissing
from indexer.manifest import (
    atomic_target,
    check_manifest,
    read_manifest,
    remove_stale,
    sha256_file,
    verify_file,
    write_atomic,
    write_manifest,
)


def test_write_atomic_replaces_whole_file_and_leaves_no_temp(tmp_path: Path) -> None:
    target = tmp_path / "sub" / "data.bin"
    write_atomic(target, b"old")
    write_atomic(target, b"new contents")
    assert target.read_bytes() == b"new contents"
    assert [p.name for p in target.parent.iterdir()] == ["data.bin"]


def test_failed_write_keeps_the_old_file(tmp_path: Path) -> None:
    target = tmp_path / "data.bin"
    write_atomic(target, b"old")
    with pytest.raises(RuntimeError), atomic_target(target) as tmp:
        tmp.write_bytes(b"half")
        raise RuntimeError("crash mid-write")
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["data.bin"]


def test_manifest_round_trip_keeps_chinese_readable(tmp_path: Path) -> None:
    write_manifest(tmp_path, {"kind": "lexical", "note": "医保"})
    assert "医保" in (tmp_path / "manifest.json").read_text(encoding="utf-8")
    assert read_manifest(tmp_path) == {"kind": "lexical", "note": "医保"}


def test_read_manifest_errors(tmp_path: Path) -> None:
    with pytest.raises(IndexMissing):
        read_manifest(tmp_path)
    (tmp_path / "manifest.json").write_text("[1, 2]", encoding="utf-8")
    with pytest.raises(IndexCorrupt):
        read_manifest(tmp_path)


def test_check_manifest_and_verify_file(tmp_path: Path) -> None:
    check_manifest({"kind": "vector", "dim": 4}, kind="vector", dim=4)
    with pytest.raises(IndexMismatch, match="dim=4"):
        check_manifest({"kind": "vector", "dim": 4}, dim=8)
    with pytest.raises(IndexCorrupt):
        check_manifest({}, dim=8)
    write_atomic(tmp_path / "a.bin", b"abc")
    digest = sha256_file(tmp_path / "a.bin")
    assert verify_file(tmp_path, "a.bin", digest) == tmp_path / "a.bin"
    with pytest.raises(IndexCorrupt):
        verify_file(tmp_path, "../a.bin", digest)
    with pytest.raises(IndexCorrupt):
        verify_file(tmp_path, "a.bin", "0" * 64)


def test_remove_stale_only_touches_old_generations(tmp_path: Path) -> None:
    for name in ("vectors-1.faiss", "vectors-2.faiss", "manifest.json", "lexical-1.npz"):
        (tmp_path / name).write_bytes(b"x")
    remove_stale(tmp_path, {"vectors-2.faiss"}, ("vectors-",))
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "lexical-1.npz",
        "manifest.json",
        "vectors-2.faiss",
    ]
