"""Atomic writes and the one manifest schema shared by every saved index part."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from indexer.errors import IndexCorrupt, IndexMismatch, IndexMissing
from indexer.manifest import (
    atomic_target,
    commit,
    open_part,
    remove_stale,
    sha256_file,
    verify_file,
    write_atomic,
)

SCHEMA = {"kind", "format_version", "library_version", "created_at", "files", "params"}


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


def test_commit_then_open_round_trip_keeps_chinese_readable(tmp_path: Path) -> None:
    write_atomic(tmp_path / "a.bin", b"abc")
    made = commit(
        tmp_path,
        kind="lexical",
        format_version=3,
        version="1.2.3",
        files={"data": "a.bin"},
        params={"note": "医保"},
    )
    text = (tmp_path / "manifest.json").read_text(encoding="utf-8")
    assert "医保" in text and set(json.loads(text)) == SCHEMA
    manifest, paths = open_part(tmp_path, kind="lexical", format_version=3)
    assert manifest == made and manifest.library_version == "1.2.3"
    assert paths == {"data": tmp_path / "a.bin"}
    assert manifest.files["data"].sha256 == sha256_file(tmp_path / "a.bin")


def test_open_part_refuses_missing_malformed_other_kind_and_tampering(tmp_path: Path) -> None:
    with pytest.raises(IndexMissing):
        open_part(tmp_path, kind="vector", format_version=1)
    (tmp_path / "manifest.json").write_text("[1, 2]", encoding="utf-8")
    with pytest.raises(IndexCorrupt):
        open_part(tmp_path, kind="vector", format_version=1)
    (tmp_path / "manifest.json").write_text('{"kind": "vector"}', encoding="utf-8")
    with pytest.raises(IndexCorrupt, match="malformed"):
        open_part(tmp_path, kind="vector", format_version=1)
    write_atomic(tmp_path / "a.bin", b"abc")
    commit(tmp_path, kind="vector", format_version=1, version="t", files={"x": "a.bin"}, params={})
    with pytest.raises(IndexMismatch, match="format"):
        open_part(tmp_path, kind="vector", format_version=2)
    with pytest.raises(IndexMismatch):
        open_part(tmp_path, kind="lexical", format_version=1)
    write_atomic(tmp_path / "a.bin", b"abd")
    with pytest.raises(IndexCorrupt, match="checksum"):
        open_part(tmp_path, kind="vector", format_version=1)


def test_expect_names_the_differing_parameter(tmp_path: Path) -> None:
    manifest = commit(
        tmp_path, kind="vector", format_version=1, version="t", files={}, params={"dim": 4}
    )
    manifest.expect(dim=4)
    with pytest.raises(IndexMismatch, match="dim=4"):
        manifest.expect(dim=8)
    with pytest.raises(IndexCorrupt):
        manifest.expect(model_id="m")


def test_verify_file_rejects_escaping_names(tmp_path: Path) -> None:
    write_atomic(tmp_path / "sub" / "a.bin", b"abc")
    digest = sha256_file(tmp_path / "sub" / "a.bin")
    assert verify_file(tmp_path, "sub/a.bin", digest) == tmp_path / "sub" / "a.bin"
    for bad in ("../a.bin", "/etc/passwd", "sub/../sub/a.bin", ".hidden", ""):
        with pytest.raises(IndexCorrupt):
            verify_file(tmp_path, bad, digest)
    with pytest.raises(IndexCorrupt):
        verify_file(tmp_path, "sub/a.bin", "0" * 64)


def test_remove_stale_only_touches_old_generations(tmp_path: Path) -> None:
    for name in ("vectors-1.faiss", "vectors-2.faiss", "manifest.json", "lexical-1.npz"):
        (tmp_path / name).write_bytes(b"x")
    remove_stale(tmp_path, {"vectors-2.faiss"}, ("vectors-",))
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "lexical-1.npz",
        "manifest.json",
        "vectors-2.faiss",
    ]
