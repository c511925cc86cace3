"""Fusion maths on hand-computed examples."""

from __future__ import annotations

import random

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


def _reference(
    channels: dict[str, list[tuple[int, float]]],
    weights: dict[str, float],
    method: str,
    exact: dict[str, dict[int, float]],
) -> list[tuple[int, float, dict[str, tuple[float, int]]]]:
    """The fusion contract one document at a time, as first written."""
    active = {n: w for n, w in weights.items() if w > 0 and n in channels}
    total_w = sum(active.values())
    ranked = {n: {d: (s, i + 1) for i, (d, s) in enumerate(channels[n])} for n in active}
    ids = dict.fromkeys(d for n in active for d, _ in channels[n])
    out = []
    for doc in ids:
        score, evidence = 0.0, {}
        for n, w in active.items():
            s, r = ranked[n].get(doc, (float(exact.get(n, {}).get(doc) or 0.0), 0))
            evidence[n] = (s, r)
            if method == "rrf":
                score += w / (RRF_K + r) if r else 0.0
            else:
                score += w * max(s, 0.0)
        norm = total_w / (RRF_K + 1) if method == "rrf" else total_w
        out.append((doc, score / norm, evidence))
    out.sort(key=lambda f: (-f[1], f[0]))
    return out


@pytest.mark.parametrize("method", ["score", "rrf"])
def test_vectorised_fusion_equals_the_per_document_reference(method: str) -> None:
    rng = random.Random(7)
    for _ in range(200):
        pool = rng.sample(range(1, 400), 150)
        lex = [(d, round(rng.random(), 2)) for d in pool[: rng.randint(0, 100)]]
        dense = [(d, rng.uniform(-0.2, 1.0)) for d in rng.sample(pool, rng.randint(0, 120))]
        lex.sort(key=lambda x: -x[1])
        dense.sort(key=lambda x: -x[1])
        exact = {
            "lexical": {d: rng.random() for d, _ in dense if rng.random() < 0.7},
            "lsa": {d: rng.random() for d, _ in lex if rng.random() < 0.7},
        }
        weights = {"lexical": 1.0, "lsa": rng.choice([0.0, 0.5, 1.0])}
        channels = {"lexical": lex, "lsa": dense}
        want = _reference(channels, weights, method, exact)
        got = fuse(channels, weights, method=method, exact=exact)  # type: ignore[arg-type]
        assert [
            (f.id, f.score, {n: (c.score, c.rank) for n, c in f.channels.items()}) for f in got
        ] == want  # bit for bit: the same float64 sums in the same order
        head = fuse(channels, weights, method=method, exact=exact, limit=10)  # type: ignore[arg-type]
        assert [(f.id, f.score) for f in head] == [(f.id, f.score) for f in got[:10]]
