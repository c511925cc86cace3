"""Top-k by a sampled cut: the same slots as ranking every positive score."""

from __future__ import annotations

import numpy as np
import pytest

from indexer.topk import top_slots


def _reference(scores: np.ndarray, k: int) -> list[int]:
    hits = np.flatnonzero(scores > 0)
    return hits[np.lexsort((hits, -scores[hits]))][:k].tolist()


@pytest.mark.parametrize("n", [0, 5, 100, 3_000, 40_000])
def test_top_slots_equal_a_full_sort_ties_by_position(n: int) -> None:
    rng = np.random.default_rng(n)
    for k in (1, 10, 100, 500):
        dense = rng.random(n).astype(np.float32)
        sparse = np.where(rng.random(n) < 0.02, dense, 0).astype(np.float32)
        # Few distinct values: ties at the k-th score are the rule, not the exception.
        tied = (rng.integers(0, 4, n) * 0.25).astype(np.float32)
        for scores in (dense, sparse, tied, np.zeros(n, np.float32)):
            assert top_slots(scores, k).tolist() == _reference(scores, k)
    assert top_slots(np.ones(10, np.float32), 0).tolist() == []
