"""Fusion maths on hand-computed examples."""

from __future__ import annotations

import pytest

from indexer.fusion import RRF_K, fuse


def test_weighted_score_fusion_uses_exact_scores_for_misses() -> None:
    lex = [(1, 0.8), (2, 0.4)]
    dense = [(2, 0.9), (3, 0.6)]
    out = fuse(
        {"lexical": lex, "dense": dense},
        {"lexical": 1.0, "dense": 0.5},
        exact={"dense": {1: 0.2}, "lexical": {3: 0.1}},
    )
    got = {f.id: f.score for f in out}
    assert got[1] == pytest.approx((0.8 + 0.5 * 0.2) / 1.5)
    assert got[2] == pytest.approx((0.4 + 0.5 * 0.9) / 1.5)
    assert got[3] == pytest.approx((0.1 + 0.5 * 0.6) / 1.5)
    assert [f.id for f in out] == [1, 2, 3]
    assert out[0].channels["dense"].rank == 0 and out[0].channels["dense"].score == 0.2


def test_weighted_rrf() -> None:
    out = fuse(
        {"lexical": [(1, 9.0), (2, 5.0)], "dense": [(2, 0.9), (1, 0.1)]},
        {"lexical": 2.0, "dense": 1.0},
        method="rrf",
    )
    norm = 3.0 / (RRF_K + 1)
    expect1 = (2.0 / (RRF_K + 1) + 1.0 / (RRF_K + 2)) / norm
    expect2 = (2.0 / (RRF_K + 2) + 1.0 / (RRF_K + 1)) / norm
    assert [f.id for f in out] == [1, 2]
    assert out[0].score == pytest.approx(expect1) and out[1].score == pytest.approx(expect2)


def test_first_everywhere_scores_one_and_zero_weight_is_off() -> None:
    out = fuse(
        {"lexical": [(7, 1.0)], "dense": [(7, 1.0)]}, {"lexical": 1, "dense": 1}, method="rrf"
    )
    assert out[0].score == pytest.approx(1.0)
    out = fuse({"lexical": [(1, 0.5)], "dense": [(2, 0.9)]}, {"lexical": 1.0, "dense": 0.0})
    assert [f.id for f in out] == [1] and set(out[0].channels) == {"lexical"}
    assert fuse({"lexical": []}, {"lexical": 0}) == []
