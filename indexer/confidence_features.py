"""What a ranked list says about whether its hits answer the query, as scale-free numbers.

A fused score alone does not transfer between knowledge bases (its range moves with the KB's
size, vocabulary and channels), so confidence is judged from evidence that does: how much of
the query's informative wording a hit covers (error codes and system/module names most), how
far it stands above the runner-up, whether the channels agree on it, and whether error codes
or quoted messages in the query appear in it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np

from indexer.analyzer import BIGRAM
from indexer.neardup import NEAR_DUPLICATE, similarities
from indexer.shorthand import dictionary_terms

if TYPE_CHECKING:
    from indexer.retriever import Hit, Retriever

FEATURES = (
    "lexical",  # bound-normalised BM25 of the hit
    "coverage",  # idf-weighted share of the query's words the hit contains (key words ×3)
    "key_coverage",  # share of key words (codes, system/module/dictionary names) it contains
    "bigram_coverage",  # share of the query's character bigrams it contains
    "rel_score",  # fused score ÷ the top hit's
    "margin",  # (top − best runner-up not a near duplicate of it) ÷ top, for the top hit
    "rank1",  # 1 for the top hit
    "agree",  # share of active channels that rank this hit or a near duplicate of it first
    "best_rank",  # 1 / best rank over channels (0 when in none)
    "worst_rank",  # 1 / worst rank over active channels (0 when missing from one)
    "code",  # +1 every code/quoted message of the query found in the hit, −1 none, 0 no codes
    "dense_gap",  # dense cosine minus the list's median, mean over dense channels (0: none)
)
KEY_WEIGHT = 3.0
# Error codes: ORA-12541, 0x0000011b, E1025, HTTP 500; long digit runs are usually codes too.
_CODE = re.compile(r"[a-z]{1,6}-?\d{2,}|0x[0-9a-f]{3,}|\d{3,}", re.IGNORECASE)
_QUOTED = re.compile(r"[“\"「『‘']([^”\"」』’']{2,40})[”\"」』’']")


@lru_cache(maxsize=1)
def _dictionary() -> frozenset[str]:
    return frozenset(w.lower() for w in dictionary_terms())


def is_key(term: str) -> bool:
    """Codes, latin system names (HIS, PDA) and hospital-IT dictionary words weigh most."""
    if term.startswith(BIGRAM):
        return False
    return (
        bool(_CODE.fullmatch(term))
        or (term.isascii() and term.isalpha() and len(term) > 1)
        or (term in _dictionary())
    )


def _share(matched: set[str], weights: dict[str, float]) -> float:
    total = sum(weights.values())
    return sum(w for t, w in weights.items() if t in matched) / total if total else 0.0


def hit_features(r: Retriever, query: str, hits: Sequence[Hit]) -> np.ndarray:
    """One row of FEATURES per hit, in order (hits as `r.search(query, …)` returned them)."""
    out = np.zeros((len(hits), len(FEATURES)), dtype=np.float64)
    if not hits:
        return out
    text = r.analyzer.expand(query, r.knows)
    terms = r.analyzer.query_terms(text)
    lex = r.lexical
    words = {t: lex.idf(t) * (KEY_WEIGHT if is_key(t) else 1.0) for t in terms if t[0] != BIGRAM}
    keys = {t: 1.0 for t in words if is_key(t)}
    grams = {t: 1.0 for t in terms if t[0] == BIGRAM}
    codes = [c.lower() for c in _CODE.findall(text)] + _QUOTED.findall(text)
    code_terms = [r.analyzer.query_terms(c) for c in codes]
    active = sorted({name for h in hits for name in h.channels})
    top = hits[0].score or 1e-9
    # Near duplicates answer alike: one below the top is no competitor, and a channel that
    # ranks a hit's copy first agrees with the hit.
    same = similarities(lex, [h.id for h in hits]) >= NEAR_DUPLICATE
    rivals = [h.score for j, h in enumerate(hits[1:], 1) if not same[0, j]]
    runner = rivals[0] if rivals else (hits[-1].score if len(hits) > 1 else 0.0)
    firsts = {
        c: [j for j, h in enumerate(hits) if c in h.channels and h.channels[c].rank == 1]
        for c in active
    }
    dense = [c for c in active if c != "lexical"]
    med = {
        c: float(np.median([h.channels[c].score for h in hits if c in h.channels])) for c in dense
    }
    asked = list(dict.fromkeys([*terms, *(t for ct in code_terms for t in ct)]))
    looked = lex.matched_many([h.id for h in hits], asked)  # one look per entry for all terms
    for i, h in enumerate(hits):
        present = set(looked[i])
        matched = present.intersection(terms)
        ranks = [h.channels[c].rank if c in h.channels else 0 for c in active]
        found = [len(present.intersection(ct)) / len(ct) for ct in code_terms if ct]
        lexical = h.channels.get("lexical")
        out[i] = (
            lexical.score if lexical else 0.0,
            _share(matched, words) if words else _share(matched, grams),
            _share(matched, keys) if keys else _share(matched, words),
            _share(matched, grams),
            h.score / top,
            (top - runner) / top if i == 0 else 0.0,
            1.0 if i == 0 else 0.0,
            sum(1 for c in active if any(same[i, j] for j in firsts[c])) / len(active)
            if active
            else 0.0,
            1.0 / min((x for x in ranks if x), default=np.inf),
            0.0 if not ranks or 0 in ranks else 1.0 / max(ranks),
            (2.0 * float(np.mean(found)) - 1.0) if found else 0.0,
            float(np.mean([h.channels[c].score - med[c] for c in dense if c in h.channels]))
            if any(c in h.channels for c in dense)
            else 0.0,
        )
    return out
