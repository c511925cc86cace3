"""Combine ranked channels (lexical, dense) into one list, keeping each channel's evidence."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

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


def _ranks(scored: Sequence[tuple[int, float]]) -> dict[int, ChannelHit]:
    return {doc: ChannelHit(score, i + 1) for i, (doc, score) in enumerate(scored)}


def fuse(
    channels: Mapping[str, Sequence[tuple[int, float]]],
    weights: Mapping[str, float],
    *,
    method: Method = "score",
    exact: Mapping[str, Mapping[int, float]] | None = None,
    rrf_k: int = RRF_K,
) -> list[Fused]:
    """Fuse ranked (id, score) lists.

    Args:
        channels: per channel, (id, score) best first; scores in [0, 1] for method "score".
        weights: per channel weight (0 switches a channel off; missing means 0).
        method: "score" = weighted mean of scores; "rrf" = weighted reciprocal-rank fusion,
            sum of w / (rrf_k + rank), rescaled so a document ranked first everywhere gets 1.
        exact: optional per channel scores of documents outside its list (e.g. the lexical
            score of a dense-only candidate), so the weighted mean never treats a miss as 0.
    Returns:
        Fused results, best first (ties broken by id for stable output).
    """
    active = {name: w for name, w in weights.items() if w > 0 and name in channels}
    total_w = sum(active.values())
    if not total_w:
        return []
    ranked = {name: _ranks(channels[name]) for name in active}
    ids: dict[int, None] = {}
    for name in active:
        ids.update(dict.fromkeys(doc for doc, _ in channels[name]))
    out = []
    for doc in ids:
        evidence: dict[str, ChannelHit] = {}
        score = 0.0
        for name, w in active.items():
            hit = ranked[name].get(doc)
            if hit is None:
                extra = (exact or {}).get(name, {}).get(doc)
                hit = ChannelHit(float(extra or 0.0), 0)
            evidence[name] = hit
            if method == "rrf":
                score += w / (rrf_k + hit.rank) if hit.rank else 0.0
            else:
                score += w * max(hit.score, 0.0)
        norm = total_w / (rrf_k + 1) if method == "rrf" else total_w
        out.append(Fused(doc, score / norm, evidence))
    out.sort(key=lambda f: (-f.score, f.id))
    return out
