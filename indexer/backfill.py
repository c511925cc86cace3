"""Background embedding for a slow dense channel (e5: ~0.35 CPU-s per entry).

A write is searchable lexically as soon as the sync loop applies it; its passage waits in
`Retriever.pending` until this worker embeds it, a few at a time, outside every lock. The
pending set and the passage hash behind each stored vector are saved with the index, so the
work resumes after a restart and a rebuild keeps every vector whose passage did not change.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path

from indexer.docs import EntryDoc
from indexer.errors import IndexStoreError
from indexer.manifest import read_json_file, write_atomic
from indexer.retriever import Retriever
from indexer.retriever_writes import passage_hash

STATE = "dense_state.json"
BATCH = 8  # passages per model call: ~2-3 s, short enough for a swap or stop to wait on


def take(r: Retriever, batch: int = BATCH) -> list[tuple[int, str]]:
    """The next passages to embed, lowest ids first (call under the engine's read lock)."""
    return sorted(r.pending.items())[:batch]


def carry_over(old: Retriever, new: Retriever) -> int:
    """Give `new` the vectors `old` made from the same passages (same model); returns how many."""
    if old.vectors is None or new.vectors is None or old.vectors.model_id != new.vectors.model_id:
        return 0
    same = [
        (doc, text)
        for doc, text in new.pending.items()
        if old.embedded.get(doc) == passage_hash(text)
    ]
    ids, vecs = old.vectors.vectors_of([doc for doc, _ in same])
    texts = dict(same)
    return new.set_vectors([(doc, texts[doc]) for doc in ids], vecs)


def save_state(r: Retriever, directory: Path) -> None:
    """Pending ids and passage hashes, beside the saved vectors."""
    if r.vectors is None:
        return
    state = {
        "model_id": r.vectors.model_id,
        "pending": sorted(r.pending),
        "embedded": {str(k): v for k, v in r.embedded.items()},
    }
    write_atomic(directory / STATE, json.dumps(state).encode("utf-8"))


def restore_state(
    r: Retriever, directory: Path, load_docs: Callable[[Sequence[int]], list[EntryDoc]]
) -> int:
    """Re-queue what was pending at the last save (and any entry without a vector)."""
    if r.vectors is None:
        return 0
    try:
        state = read_json_file(directory / STATE)
    except IndexStoreError:
        state = {}
    if state.get("model_id") == r.vectors.model_id:
        r.embedded = {int(k): str(v) for k, v in state.get("embedded", {}).items()}
    waiting = set(state.get("pending", [])) | (set(r.lexical.ids) - set(r.vectors.ids().tolist()))
    learn = r.config.learn_from_use
    for doc in load_docs(sorted(waiting)) if waiting else []:
        r.pending[doc.id] = doc.passage(learn_from_use=learn)
    return len(r.pending)
