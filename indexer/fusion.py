"""Combine ranked channels (lexical, dense) into one list, keeping each channel's evidence."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

Method = Literal["score", "rrf"]
RRF_K = 60


@dataclass
class ChannelHit:
    """A document's standing in one channel."""

    score: float
    rank: int  # 1-based; 0 = not in this channel's candidate list


@dataclass
class Fused:
    """One fused result with its per-channel evidence."""

    id: int
    score: float
    channels: dict[str, ChannelHit] = field(default_factory=dict)


def _column(
    docs: np.ndarray,
    where: np.ndarray,
    scored: Sequence[tuple[int, float]],
    exact: Mapping[int, float],
) -> tuple[np.ndarray, np.ndarray]:
    """One channel's (score, rank) for every fused document; a miss takes its exact score."""
    score = np.zeros(len(docs))
    rank = np.zeros(len(docs), dtype=np.int64)
    if scored:
        score[where] = np.fromiter((s for _, s in scored), dtype=np.float64, count=len(scored))
        rank[where] = np.arange(1, len(scored) + 1)
    missing = np.flatnonzero(rank == 0)
    if len(missing):
        score[missing] = np.fromiter(
            (exact.get(d) or 0.0 for d in docs[missing].tolist()),
            dtype=np.float64,
            count=len(missing),
        )
    return score, rank


def fuse(
    channels: Mapping[str, Sequence[tuple[int, float]]],
    weights: Mapping[str, float],
    *,
    method: Method = "score",
    exact: Mapping[str, Mapping[int, float]] | None = None,
    rrf_k: int = RRF_K,
    limit: int | None = None,
) -> list[Fused]:
    """Fuse ranked (id, score) lists.

    Args:
        channels: per channel, (id, score) best first; scores in [0, 1] for method "score".
        weights: per channel weight (0 switches a channel off; missing means 0).
        method: "score" = weighted mean of scores; "rrf" = weighted reciprocal-rank fusion,
            sum of w / (rrf_k + rank), rescaled so a document ranked first everywhere gets 1.
        exact: optional per channel scores of documents outside its list (e.g. the lexical
            score of a dense-only candidate), so the weighted mean never treats a miss as 0.
        limit: return only the best `limit` results (the rest are scored, not built).
    Returns:
        Fused results, best first (ties broken by id for stable output).
    """
    active = {name: w for name, w in weights.items() if w > 0 and name in channels}
    total_w = sum(active.values())
    if not total_w:
        return []
    lists = [
        np.fromiter((d for d, _ in channels[name]), dtype=np.int64, count=len(channels[name]))
        for name in active
    ]
    docs, where = np.unique(np.concatenate(lists), return_inverse=True)
    bounds = np.cumsum([0, *(len(x) for x in lists)])
    # Elementwise float64 in the channels' order: the same sums the per-document loop made.
    total = np.zeros(len(docs))
    columns = []
    for i, (name, w) in enumerate(active.items()):
        score, rank = _column(
            docs, where[bounds[i] : bounds[i + 1]], channels[name], (exact or {}).get(name, {})
        )
        columns.append((name, score.tolist(), rank.tolist()))
        if method == "rrf":
            total += np.where(rank > 0, w / (rrf_k + np.maximum(rank, 1)), 0.0)
        else:
            total += w * np.maximum(score, 0.0)
    norm = total_w / (rrf_k + 1) if method == "rrf" else total_w
    total /= norm
    order = np.lexsort((docs, -total))[:limit].tolist()
    ids, fused = docs.tolist(), total.tolist()
    return [
        Fused(
            ids[j],
            fused[j],
            {name: ChannelHit(score[j], rank[j]) for name, score, rank in columns},
        )
        for j in order
    ]
