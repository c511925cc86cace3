"""Near-duplicate entries: two entries of one fault, written twice.

A KB grows copies of the same fault (one per department, a re-filed ticket, a merged
family). Both answer the same question, so for confidence they count as one: a near
duplicate below the top hit is no competitor, and a near miss whose nearest remaining
entry is a near duplicate of the hidden one is no near miss.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from indexer.lexical import LexicalIndex

NEAR_DUPLICATE = 0.5  # cosine of idf-weighted term vectors at or above which two entries are one
CANDIDATES = 20  # entries scored against an entry's own terms when looking for its copies


def _cosine(a: dict[int, float], b: dict[int, float]) -> float:
    if len(b) < len(a):
        a, b = b, a
    dot = sum(w * b.get(t, 0.0) for t, w in a.items())
    norm = math.sqrt(sum(w * w for w in a.values()) * sum(w * w for w in b.values()))
    return dot / norm if norm else 0.0


def similarities(lex: LexicalIndex, ids: Sequence[int]) -> np.ndarray:
    """Pairwise lexical cosine of `ids` (1 on the diagonal)."""
    out = np.eye(len(ids))
    if len(ids) < 2:
        return out
    counts, tids, weights = lex.tfidf_rows(ids)
    # One dense row per entry over the terms any of them has: a few hundred columns.
    cols, where = np.unique(tids, return_inverse=True)
    m = np.zeros((len(ids), len(cols)))
    m[np.repeat(np.arange(len(ids)), counts), where] = weights
    dots = m @ m.T
    sq = np.einsum("ij,ij->i", m, m)
    norm = np.sqrt(np.outer(sq, sq))
    np.divide(dots, norm, out=out, where=norm > 0)
    np.fill_diagonal(out, 1.0)
    return out


def near_duplicates(lex: LexicalIndex, doc_id: int) -> set[int]:
    """Other indexed entries that are near duplicates of `doc_id`."""
    terms = lex.terms_of(doc_id)
    if not terms:
        return set()
    own = lex.tfidf(doc_id)
    scores = lex.scores(terms)
    scores[~lex.mask()] = 0.0
    found = lex.top(scores, CANDIDATES + 1)
    return {d for d, _ in found if d != doc_id and _cosine(own, lex.tfidf(d)) >= NEAR_DUPLICATE}
