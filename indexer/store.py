"""Save and load a Retriever as one generation folder committed by a top-level manifest."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from indexer import lexstore
from indexer.errors import IndexCorrupt, IndexMismatch
from indexer.manifest import check_manifest, read_manifest, utc_now, verify_file, write_manifest
from indexer.retriever import Retriever
from indexer.vector import VectorIndex

KIND = "kbsvc-search"
FORMAT = 1


def _params(r: Retriever) -> dict[str, Any]:
    cfg = r.config
    return {"learn_from_use": cfg.learn_from_use, "k1": r.lexical.k1, "b": r.lexical.b}


def save(
    r: Retriever, root: Path, *, last_seq: int, backend: str, fitted_count: int, version: str
) -> None:
    """Write a new generation, then the manifest that points at it, then drop older ones."""
    root.mkdir(parents=True, exist_ok=True)
    try:
        prev = int(read_manifest(root).get("generation", "gen-0").split("-")[1])
    except Exception:  # noqa: BLE001 - no usable previous manifest: start numbering afresh
        prev = 0
    gen = f"gen-{prev + 1:06d}"
    folder = root / gen
    shutil.rmtree(folder, ignore_errors=True)
    lex = lexstore.dump(r.lexical, folder / "lexical")
    manifest: dict[str, Any] = {
        "kind": KIND,
        "format": FORMAT,
        "generation": gen,
        "last_seq": last_seq,
        "count": lex["count"],
        "checksum": lex["files"],
        "analyzer": r.analyzer.signature(),
        "backend": backend,
        "embedder": r.embedder.model_id if r.dense else "none",
        "dim": int(r.embedder.dim) if r.dense else 0,
        "fitted_count": fitted_count,
        "params": _params(r),
        "created_at": utc_now(),
        "library_version": version,
    }
    if r.dense:
        r.embedder.save(folder / "embedder")
        r.vectors.save(folder / "vector", last_seq=last_seq)
    write_manifest(root, manifest)
    for old in root.glob("gen-*"):
        if old.name != gen:
            shutil.rmtree(old, ignore_errors=True)


def load(
    r: Retriever,
    root: Path,
    *,
    backend: str,
    ann_threshold: int,
) -> dict[str, Any]:
    """Fill an empty Retriever from disk; raises IndexStoreError when it cannot be trusted."""
    m = read_manifest(root)
    check_manifest(
        m,
        kind=KIND,
        format=FORMAT,
        analyzer=r.analyzer.signature(),
        backend=backend,
        params=_params(r),
    )
    folder = root / str(m.get("generation", ""))
    try:
        for name, digest in dict(m["checksum"]).items():
            verify_file(folder / "lexical", name, digest)
        lexstore.load(r.lexical, folder / "lexical")
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise IndexCorrupt(f"lexical index unreadable: {exc}") from exc
    if len(r.lexical) != m["count"]:
        raise IndexCorrupt("lexical index count differs from its manifest")
    if m["embedder"] == "none":
        if r.embedder is not None and r.embedder.dim > 0:
            raise IndexMismatch("index was saved without a dense channel")
        r.embedder = None
        return m
    if r.embedder is None or r.embedder.dim <= 0:
        raise IndexMismatch("index has a dense channel this process does not use")
    try:
        r.embedder.load(folder / "embedder")
    except Exception as exc:  # noqa: BLE001 - any failure to restore state means rebuild
        raise IndexCorrupt(f"embedder state unreadable: {exc}") from exc
    if r.embedder.model_id != m["embedder"] or r.embedder.dim != m["dim"]:
        raise IndexMismatch("embedder differs from the saved index")
    vectors, _vm = VectorIndex.load(
        folder / "vector", model_id=m["embedder"], dim=m["dim"], ann_threshold=ann_threshold
    )
    if len(vectors) != m["count"]:
        raise IndexCorrupt("vector index count differs from its manifest")
    r.vectors = vectors
    return m
