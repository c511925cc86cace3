"""Save and load a Retriever as one generation folder committed by a top-level manifest.

Layout: ROOT/manifest.json (kind "search-index") names the generation and the manifests of
its parts, ROOT/gen-N/{lexical,vector,embedder}/, each part under the one manifest schema.
The root manifest is written last, so a crash mid-save leaves the previous generation live.
Generations are immutable once committed: processes memory-map them read-only, and the
previous ones stay on disk a while for readers still opening them (KEEP_GENERATIONS).
"""

from __future__ import annotations

import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from embeddings.base import Embedder, EmbedderError, EmbedderState, StateMismatch
from indexer.errors import IndexCorrupt, IndexMismatch, IndexStoreError
from indexer.lexical import LexicalIndex
from indexer.manifest import MANIFEST, atomic_target, commit, open_part, read_json_file
from indexer.retriever import DenseChannel, Retriever
from indexer.vector import VectorIndex

KIND = "search-index"
EMBEDDER_KIND = "embedder"
FORMAT_VERSION = 3  # 3: .npy arrays a reader memory-maps (lexical segment, embedder state)
KEEP_GENERATIONS = 3  # the live one and two before it


@dataclass(frozen=True)
class Saved:
    """What a loaded index says about itself."""

    last_seq: int
    fitted_count: int
    generation: str = ""


def _params(r: Retriever, backend: str) -> dict[str, Any]:
    # Everything that shapes the stored terms or vectors: a change means rebuild.
    return {
        "analyzer": r.analyzer.signature(),
        "backend": backend,
        "learn_from_use": r.config.learn_from_use,
        "k1": r.lexical.k1,
        "b": r.lexical.b,
    }


def current_generation(root: Path) -> str:
    """The generation the root manifest names ("" when none can be read); cheap to poll."""
    try:
        return str(read_json_file(root / MANIFEST)["params"]["generation"])
    except (IndexStoreError, KeyError, TypeError):
        return ""


def _number(gen: str) -> int:
    try:
        return int(gen.split("-")[1])
    except (IndexError, ValueError):
        return 0


def _previous_generation(root: Path) -> int:
    # The highest folder too: a writer killed mid-publish may have left one half written.
    folders = [_number(p.name) for p in root.glob("gen-*")]
    return max([_number(current_generation(root)), *folders])


def _save_embedder(emb: Embedder, folder: Path, version: str) -> None:
    state = emb.state()
    folder.mkdir(parents=True, exist_ok=True)
    files = {}
    if state is not None and state.arrays:
        arrays: dict[str, Any] = dict(state.arrays)
        for name, array in arrays.items():  # one .npy each: readers map them
            with atomic_target(folder / f"{name}.npy") as tmp, open(tmp, "wb") as fh:
                np.save(fh, np.ascontiguousarray(array), allow_pickle=False)
            files[f"array:{name}"] = f"{name}.npy"
    params = {"model_id": emb.model_id, "dim": emb.dim, **(state.params if state else {})}
    commit(
        folder,
        kind=EMBEDDER_KIND,
        format_version=FORMAT_VERSION,
        version=version,
        files=files,
        params=params,
    )


def _load_embedder(emb: Embedder, folder: Path) -> None:
    manifest, paths = open_part(folder, kind=EMBEDDER_KIND, format_version=FORMAT_VERSION)
    if not emb.needs_fit:  # pretrained: nothing saved but its identity
        manifest.expect(model_id=emb.model_id, dim=emb.dim)
        return
    try:
        arrays = {
            role.split(":", 1)[1]: np.load(path, mmap_mode="r", allow_pickle=False)
            for role, path in paths.items()
            if role.startswith("array:")
        }
        emb.restore(EmbedderState(manifest.params, arrays))
    except StateMismatch as exc:
        raise IndexMismatch(str(exc)) from exc
    except (EmbedderError, OSError, ValueError, KeyError) as exc:
        raise IndexCorrupt(f"embedder state in {folder} is unusable: {exc}") from exc


def save(
    r: Retriever, root: Path, *, last_seq: int, backend: str, fitted_count: int, version: str
) -> str:
    """Write a new generation, then the manifest that points at it, then drop older ones.

    Reads `r` only (searches continue meanwhile); returns the new generation's name."""
    root.mkdir(parents=True, exist_ok=True)
    gen = f"gen-{_previous_generation(root) + 1:06d}"
    folder = root / gen
    shutil.rmtree(folder, ignore_errors=True)
    r.lexical.save(folder / "lexical", version=version)
    parts = {"lexical": f"{gen}/lexical/{MANIFEST}"}
    if r.embedder is not None and r.vectors is not None:
        _save_embedder(r.embedder, folder / "embedder", version)
        r.vectors.save(folder / "vector", last_seq=last_seq, version=version)
        parts |= {"embedder": f"{gen}/embedder/{MANIFEST}", "vector": f"{gen}/vector/{MANIFEST}"}
    for name, ch in r.extra.items():  # fast dense channels beside the primary one
        _save_embedder(ch.embedder, folder / f"embedder-{name}", version)
        ch.vectors.save(folder / f"vector-{name}", last_seq=last_seq, version=version)
        parts |= {
            f"embedder-{name}": f"{gen}/embedder-{name}/{MANIFEST}",
            f"vector-{name}": f"{gen}/vector-{name}/{MANIFEST}",
        }
    commit(
        root,
        kind=KIND,
        format_version=FORMAT_VERSION,
        version=version,
        files=parts,
        params={
            **_params(r, backend),
            "generation": gen,
            "last_seq": last_seq,
            "count": len(r.lexical),
            "embedder": r.embedder.model_id if r.embedder is not None and r.dense else "none",
            "dim": r.embedder.dim if r.embedder is not None and r.dense else 0,
            "fitted_count": fitted_count,
            # Fewer than `count` while a slow channel embeds in the background (backfill.py).
            "vector_count": len(r.vectors) if r.dense and r.vectors is not None else 0,
            "extra": {n: [c.embedder.model_id, c.embedder.dim] for n, c in r.extra.items()},
        },
    )
    # Unlinking a mapped file is safe on POSIX: a reader keeps its mapping until it moves on.
    for old in sorted(root.glob("gen-*"), key=lambda p: _number(p.name))[:-KEEP_GENERATIONS]:
        shutil.rmtree(old, ignore_errors=True)
    return gen


def _load_extra(
    r: Retriever, folder: Path, saved: dict[str, Any], extra: Mapping[str, Embedder], ann: int
) -> None:
    if sorted(saved) != sorted(extra):
        raise IndexMismatch(f"index has dense channels {sorted(saved)}, expected {sorted(extra)}")
    for name, emb in extra.items():
        _load_embedder(emb, folder / f"embedder-{name}")
        if [emb.model_id, emb.dim] != list(saved[name]):
            raise IndexMismatch(f"embedder {name} differs from the saved index")
        vectors, _vm = VectorIndex.load(
            folder / f"vector-{name}",
            model_id=emb.model_id,
            dim=emb.dim,
            ann_threshold=ann,
            mapped=True,
        )
        if len(vectors) != len(r.lexical):
            raise IndexCorrupt(f"{name} vector count differs from the lexical index")
        r.extra[name] = DenseChannel(emb, vectors)


def load(
    r: Retriever,
    root: Path,
    *,
    backend: str,
    ann_threshold: int,
    extra: Mapping[str, Embedder] | None = None,
) -> Saved:
    """Fill an empty Retriever from disk, its arrays memory-mapped read-only (writes go to an
    in-memory delta; `extra`: the fast dense channels' embedders, filled in `r.extra`);
    IndexStoreError when it cannot be trusted."""
    manifest, _paths = open_part(root, kind=KIND, format_version=FORMAT_VERSION)
    manifest.expect(**_params(r, backend))
    try:
        m = manifest.params
        folder = root / str(m["generation"])
        count, model_id, dim = int(m["count"]), str(m["embedder"]), int(m["dim"])
        saved = Saved(int(m["last_seq"]), int(m["fitted_count"]), str(m["generation"]))
    except (KeyError, TypeError, ValueError) as exc:
        raise IndexCorrupt(f"index manifest in {root} lacks {exc}") from exc
    lexical = LexicalIndex.load(folder / "lexical", k1=r.lexical.k1, b=r.lexical.b)
    if len(lexical) != count:
        raise IndexCorrupt("lexical index count differs from the index manifest")
    r.lexical = lexical
    _load_extra(r, folder, dict(m.get("extra", {})), extra or {}, ann_threshold)
    dense_wanted = r.embedder is not None and r.embedder.dim > 0
    if model_id == "none":
        # A corpus-fitted channel waits for enough entries (the engine refits when it has them).
        if dense_wanted and not (r.embedder is not None and r.embedder.needs_fit):
            raise IndexMismatch("index was saved without a dense channel")
        r.embedder = None
        return saved
    if r.embedder is None or not dense_wanted:
        raise IndexMismatch("index has a dense channel this process does not use")
    _load_embedder(r.embedder, folder / "embedder")
    if r.embedder.model_id != model_id or r.embedder.dim != dim:
        raise IndexMismatch("embedder differs from the saved index")
    vectors, _vm = VectorIndex.load(
        folder / "vector", model_id=model_id, dim=dim, ann_threshold=ann_threshold, mapped=True
    )
    if len(vectors) != int(m.get("vector_count", count)):
        raise IndexCorrupt("vector index count differs from the index manifest")
    r.vectors = vectors
    return saved
