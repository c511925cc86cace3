"""Character n-gram counts with integer keys: CountVectorizer(analyzer="char")'s fit, vectorised.

An n-gram (n ≤ 3) is one int64: each code point + 1 in 21 bits, first character highest, an
absent position 0. Integer order is then the order of the strings (a prefix sorts first), so
sorted keys are scikit-learn's sorted vocabulary and its feature pruning can be repeated
exactly (tests/embeddings/test_grams.py). Counting is numpy over a whole batch of texts, not a
dictionary lookup per n-gram, and counts of disjoint batches merge (`stack`), so they can be
made in other processes and reused for a refit on a slightly different corpus.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

MAX_N = 3
_BITS = 21  # every code point + 1 fits (0x110000 < 2**21)
_MASK = (1 << _BITS) - 1
_WHITE_SPACES = re.compile(r"\s\s+")  # as scikit-learn's char analyzer collapses them


@dataclass(frozen=True)
class Counts:
    """Per text, how often each n-gram occurs: `keys` sorted and unique, `matrix` (texts ×
    keys) int32 CSR with sorted indices."""

    keys: np.ndarray
    matrix: sp.csr_matrix


def count(texts: Sequence[str], ngram_range: tuple[int, int]) -> Counts:
    """The n-grams of each text, white-space runs collapsed first (scikit-learn's analyzer)."""
    lo, hi = ngram_range
    if not 1 <= lo <= hi <= MAX_N:
        raise ValueError(f"n-gram range {ngram_range} outside 1–{MAX_N}")
    texts = [_WHITE_SPACES.sub(" ", t) for t in texts]
    lens = np.fromiter(map(len, texts), np.int64, len(texts))
    codes = np.frombuffer("".join(texts).encode("utf-32-le"), np.uint32).astype(np.int64) + 1
    ends = np.cumsum(lens)
    doc = np.repeat(np.arange(len(texts)), lens)
    keys, rows = [], []
    for n in range(lo, hi + 1):
        m = len(codes) - n + 1
        if m <= 0:
            continue
        key = np.zeros(m, np.int64)
        for j in range(n):
            key |= codes[j : j + m] << (_BITS * (MAX_N - 1 - j))
        inside = np.arange(m) + n <= ends[doc[:m]]  # the n-gram ends within its own text
        keys.append(key[inside])
        rows.append(doc[:m][inside])
    flat = np.concatenate(keys) if keys else np.zeros(0, np.int64)
    vocab, col = np.unique(flat, return_inverse=True)
    row = np.concatenate(rows) if rows else np.zeros(0, np.int64)
    matrix = sp.csr_matrix(
        (np.ones(len(flat), np.int32), (row, col.ravel())), shape=(len(texts), len(vocab))
    )
    matrix.sum_duplicates()
    return Counts(vocab, matrix)


def stack(parts: Sequence[Counts]) -> Counts:
    """The parts' rows one after another, over the union of their n-grams."""
    keys = np.unique(np.concatenate([p.keys for p in parts])) if parts else np.zeros(0, np.int64)
    blocks = []
    for p in parts:
        m = p.matrix
        # Keys map in order, so each row's indices stay sorted.
        where = np.searchsorted(keys, p.keys).astype(np.int32)
        blocks.append(
            sp.csr_matrix((m.data, where[m.indices], m.indptr), shape=(m.shape[0], len(keys)))
        )
    if not blocks:
        return Counts(keys, sp.csr_matrix((0, 0), dtype=np.int32))
    return Counts(keys, sp.vstack(blocks, format="csr", dtype=np.int32))


def prune(counts: Counts, *, min_df: int, max_features: int | None) -> np.ndarray:
    """The columns CountVectorizer keeps (its `_limit_features`, ties broken the same way):
    in at least `min_df` texts (and at least one), then the `max_features` most frequent."""
    x = sp.csr_array(counts.matrix)
    dfs = np.bincount(x.indices, minlength=x.shape[1])
    mask = dfs >= max(1, min_df)  # a key no text holds any more is not in its vocabulary
    if max_features is not None and mask.sum() > max_features:
        # The same array, dtype and sort as scikit-learn, so equal counts tie the same way.
        tfs = np.asarray(x.sum(axis=0)).ravel()
        top = (-tfs[mask]).argsort()[:max_features]
        keep = np.zeros(len(dfs), dtype=bool)
        keep[np.where(mask)[0][top]] = True
        mask = keep
    return np.where(mask)[0]


def strings(keys: np.ndarray) -> np.ndarray:
    """The n-grams of `keys` as a numpy string array as wide as the longest (the form
    CountVectorizer's feature names take as an array)."""
    chars = np.stack([(keys >> (_BITS * (MAX_N - 1 - j))) & _MASK for j in range(MAX_N)], 1)
    width = max(1, int((chars > 0).sum(axis=1).max())) if len(keys) else 1
    # A code point is stored + 1: an absent position becomes NUL, which numpy strips.
    chars = np.where(chars > 0, chars - 1, 0)[:, :width].astype("<u4")
    return np.ascontiguousarray(chars).view(f"<U{width}").ravel()


@dataclass(frozen=True)
class Counted:
    """Passages n-grammed (after the embedder's preprocessing): what a fit on a corpus holding
    them need not redo. `nonempty`: the passage left text to count (else it is no document)."""

    passages: list[str]
    nonempty: np.ndarray
    counts: Counts

    @classmethod
    def of(
        cls, passages: Sequence[str], texts: Sequence[str], ngram_range: tuple[int, int]
    ) -> Counted:
        """`passages` counted from their preprocessed `texts`."""
        nonempty = np.fromiter((bool(t) for t in texts), bool, len(texts))
        return cls(list(passages), nonempty, count(texts, ngram_range))

    @classmethod
    def join(cls, parts: Sequence[Counted]) -> Counted:
        """The parts' passages one after another."""
        return cls(
            [p for part in parts for p in part.passages],
            np.concatenate([p.nonempty for p in parts]) if parts else np.zeros(0, bool),
            stack([p.counts for p in parts]),
        )

    def rows(self, passages: Sequence[str]) -> list[int]:
        """Each passage's row here (-1 when it was not counted)."""
        index = {p: i for i, p in enumerate(self.passages)}
        return [index.get(p, -1) for p in passages]

    def take(self, rows: Sequence[int]) -> Counted:
        """These rows only, in this order."""
        at = np.asarray(rows, np.int64)
        sub = Counts(self.counts.keys, self.counts.matrix[at])
        return Counted([self.passages[i] for i in rows], self.nonempty[at], sub)
