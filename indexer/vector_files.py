"""A vector index's saved files: one FAISS file and its ids, committed and checked by a manifest."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import faiss
import numpy as np

from indexer.errors import IndexCorrupt
from indexer.manifest import Manifest, atomic_target, commit, open_part, remove_stale

FORMAT_VERSION = 2
KIND = "vector"
PREFIXES = ("vectors-", "ids-")


def write(
    directory: Path, index: Any, labels: np.ndarray, params: dict[str, Any], version: str
) -> Manifest:
    """Write a new generation of files, then the manifest that commits it; returns it."""
    gen = uuid.uuid4().hex[:12]
    names = {"index": f"vectors-{gen}.faiss", "ids": f"ids-{gen}.npy"}
    with atomic_target(directory / names["index"]) as tmp:
        faiss.write_index(index, str(tmp))
    with atomic_target(directory / names["ids"]) as tmp, open(tmp, "wb") as fh:
        np.save(fh, labels, allow_pickle=False)
    return commit(
        directory,
        kind=KIND,
        format_version=FORMAT_VERSION,
        version=version,
        files=names,
        params={**params, "faiss_version": faiss.__version__},
    )


def prune(directory: Path, manifest: Manifest) -> None:
    """Delete earlier generations' files once `manifest` has committed the new ones."""
    remove_stale(directory, {f.name for f in manifest.files.values()}, PREFIXES)


def read(
    directory: Path, *, model_id: str, dim: int, mapped: bool
) -> tuple[Any, np.ndarray, Manifest, Path]:
    """(index, ids, manifest, index file) after verifying manifest, checksums and shape.

    Raises:
        IndexMissing / IndexCorrupt: absent, unreadable or tampered files.
        IndexMismatch: built for another model id, dimension or format version.
    """
    manifest, paths = open_part(directory, kind=KIND, format_version=FORMAT_VERSION)
    manifest.expect(model_id=model_id, dim=dim)
    if set(paths) != {"index", "ids"}:
        raise IndexCorrupt(f"index manifest in {directory} lists no valid files")
    try:
        # Mapped: the OS page cache holds one copy for every process that maps the file.
        flags = faiss.IO_FLAG_MMAP_IFC | faiss.IO_FLAG_READ_ONLY if mapped else 0
        index = faiss.read_index(str(paths["index"]), flags)  # already the concrete type
        labels = np.load(paths["ids"], allow_pickle=False)
    except (RuntimeError, ValueError, OSError, EOFError) as exc:
        raise IndexCorrupt(f"unreadable vector index in {directory}: {exc}") from exc
    if (
        not isinstance(index, faiss.IndexFlat | faiss.IndexHNSWFlat)
        or index.metric_type != faiss.METRIC_INNER_PRODUCT
        or index.d != dim
        or labels.dtype != np.int64
        or labels.shape != (index.ntotal,)
    ):
        raise IndexCorrupt(f"vector index in {directory} has an unexpected layout")
    live = labels[labels >= 0]
    if len(np.unique(live)) != len(live) or len(live) != manifest.params.get("count"):
        raise IndexCorrupt(f"vector index ids in {directory} disagree with the manifest")
    return index, labels, manifest, paths["index"]
