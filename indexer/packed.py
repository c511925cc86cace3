"""Analysed documents packed as arrays: how analysis workers hand terms to the lexical index.

A list of per-document {term: weight} dictionaries costs a rebuild twice: pickled back from
the workers (13 million keys at 100k entries) and walked term by term to number the terms.
Packed, a chunk travels as its distinct terms and three arrays, and numbering the whole
corpus's terms walks each chunk's distinct terms only. Terms are numbered in order of first
appearance either way, so a packed fill builds the very segment a dictionary fill builds
(tests/indexer/test_packed.py).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Packed:
    """Documents' term weights: `counts[i]` terms for document i, as ids into `vocab` (in
    order of first appearance) and their weights, document after document."""

    vocab: list[str]
    counts: np.ndarray  # int64
    tids: np.ndarray  # int32
    tfs: np.ndarray  # float32

    def __len__(self) -> int:
        return len(self.counts)


def pack(terms: Sequence[Mapping[str, float]]) -> Packed:
    """Per-document term weights, packed."""
    vocab: dict[str, int] = {}
    counts = np.fromiter((len(tf) for tf in terms), dtype=np.int64, count=len(terms))
    total = int(counts.sum())
    tids = np.fromiter(
        (vocab.setdefault(t, len(vocab)) for tf in terms for t in tf), dtype=np.int32, count=total
    )
    tfs = np.fromiter((w for tf in terms for w in tf.values()), dtype=np.float32, count=total)
    return Packed(list(vocab), counts, tids, tfs)


def join(parts: Sequence[Packed]) -> Packed:
    """The parts' documents one after another, terms renumbered for the whole."""
    vocab: dict[str, int] = {}
    tids = []
    for part in parts:
        ids = (vocab.setdefault(t, len(vocab)) for t in part.vocab)
        tids.append(np.fromiter(ids, dtype=np.int32, count=len(part.vocab))[part.tids])
    if not parts:
        return pack([])
    return Packed(
        list(vocab),
        np.concatenate([p.counts for p in parts]),
        np.concatenate(tids).astype(np.int32, copy=False),
        np.concatenate([p.tfs for p in parts]),
    )


def unpack(packed: Packed) -> list[dict[str, float]]:
    """Back to one dictionary per document."""
    out: list[dict[str, float]] = []
    start = 0
    for n in packed.counts.tolist():
        names = (packed.vocab[t] for t in packed.tids[start : start + n].tolist())
        out.append(dict(zip(names, packed.tfs[start : start + n].tolist(), strict=True)))
        start += n
    return out
