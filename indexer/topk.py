"""Top-k of a dense score array without ranking every matching entry."""

from __future__ import annotations

import numpy as np

SAMPLE_STEP = 16  # every 16th score is sampled to find the cut


def _cut(scores: np.ndarray, k: int) -> float:
    """A score at or below the k-th best (0 when the sample cannot tell).

    The k-th best of every 16th score is at most the k-th best overall (k scores reach it),
    so keeping the scores at or above it loses none of the top k while leaving ~16·k to rank
    instead of every match: common character bigrams match most of a 100k-entry KB.
    """
    sample = scores[::SAMPLE_STEP]
    if len(sample) <= k:
        return 0.0
    return max(float(np.partition(sample, len(sample) - k)[len(sample) - k]), 0.0)


def top_slots(scores: np.ndarray, k: int) -> np.ndarray:
    """Positions of the best k positive scores, best first; equal scores in position order."""
    if k <= 0:
        return np.zeros(0, dtype=np.int64)
    cut = _cut(scores, k)
    hits = np.flatnonzero(scores >= cut) if cut > 0 else np.flatnonzero(scores > 0)
    if len(hits) > k:
        vals = scores[hits]
        kth = np.partition(vals, len(vals) - k)[len(vals) - k]
        hits = hits[vals >= kth]  # every tie of the k-th best, so ties are cut by position
    out: np.ndarray = hits[np.lexsort((hits, -scores[hits]))][:k]
    return out
