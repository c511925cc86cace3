"""Chinese text similarity for gap analysis: TF-IDF over the toolkit's char 1–2-grams + clusters."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import numpy as np

from indexer.text import char_ngrams, fold

if TYPE_CHECKING:  # scikit-learn and scipy load in seconds: only when a gap report runs
    from scipy.sparse import csr_matrix

# Filler that carries no topic: removed before n-gramming so "无影灯坏了怎么办" ≈ "无影灯坏了".
_FILLER = re.compile(
    r"怎么办|怎么回事|怎么|为什么|请问|一下|麻烦|老师|谢谢|您好|你好|了|的|吗|呢|啊|吧"
)
NGRAMS = (1, 2)


@lru_cache(maxsize=100_000)
def clean(text: str) -> str:
    """The toolkit's comparison key (normalised, no punctuation or spaces), minus filler."""
    return _FILLER.sub("", fold(text))


def grams(text: str) -> list[str]:
    """Character 1–2-grams of the cleaned text (the toolkit's n-grams)."""
    return list(char_ngrams(clean(text), NGRAMS).elements())


@dataclass
class Space:
    """A fitted char-gram space; character unigrams help 2-char words that share one char."""

    vectorizer: Any  # sklearn TfidfVectorizer
    _idf: dict[str, float] = field(default_factory=dict)

    @classmethod
    def fit(cls, texts: Sequence[str]) -> Space:
        """Fit IDF on a background corpus, so common symptom grams (不出, 无法) weigh little."""
        from sklearn.feature_extraction.text import TfidfVectorizer

        vec = TfidfVectorizer(analyzer=grams, sublinear_tf=True, dtype=np.float32)
        vec.fit([t for t in texts if clean(t)] or ["空"])
        return cls(vec)

    def transform(self, texts: Sequence[str]) -> csr_matrix:
        """Rows are L2-normalised, so a dot product is the cosine."""
        return self.vectorizer.transform(texts)

    def top_terms(self, texts: Sequence[str], n: int = 4) -> list[str]:
        """The topic's words: jieba words (hospital-IT dictionary) frequent in the topic and
        rare in the background (mean IDF of their character grams)."""
        from indexer.tokenizer import default_tokenizer

        tok = default_tokenizer()
        if not self._idf:
            self._idf = dict(
                zip(
                    self.vectorizer.get_feature_names_out(),
                    self.vectorizer.idf_.tolist(),
                    strict=True,
                )
            )
        idf = self._idf
        counts: Counter[str] = Counter()
        for text in texts:
            counts.update(
                {
                    w
                    for w in tok.tokens(text, fold_synonyms=False)
                    if len(w) >= 2 and not w.isdigit() and clean(w) == w
                }
            )
        floor = min(idf.values(), default=1.0)

        def score(word: str) -> float:
            grams = [word[i : i + 2] for i in range(len(word) - 1)]
            rarity = sum(idf.get(g, floor) for g in grams) / len(grams)
            return counts[word] * rarity

        return sorted(counts, key=lambda w: (-score(w), w))[:n]


def best_match(
    space: Space, texts: Sequence[str], corpus: Sequence[str], chunk: int = 500
) -> np.ndarray:
    """For each text, the highest cosine to any corpus document (0 for an empty corpus)."""
    if not len(texts):
        return np.zeros(0, dtype=np.float32)
    if not len(corpus):
        return np.zeros(len(texts), dtype=np.float32)
    c = space.transform(corpus).T.tocsr()
    out = np.zeros(len(texts), dtype=np.float32)
    for i in range(0, len(texts), chunk):
        # Dense per chunk: sparse row-max would sort every row's indices first (slow).
        sims = (space.transform(texts[i : i + chunk]) @ c).toarray()
        out[i : i + chunk] = sims.max(axis=1)
    return out


def cluster(vectors: csr_matrix, threshold: float) -> list[list[int]]:
    """Average-linkage clusters whose mean pairwise cosine is ≥ threshold (largest first).

    Average linkage rather than single-link union-find: one ambiguous query cannot chain two
    unrelated topics together.
    """
    from scipy.cluster.hierarchy import fcluster, linkage

    n = vectors.shape[0]
    if n == 0:
        return []
    if n == 1:
        return [[0]]
    sims = (vectors @ vectors.T).toarray()
    dist = np.clip(1.0 - sims, 0.0, 2.0)
    condensed = dist[np.triu_indices(n, k=1)]
    labels = fcluster(linkage(condensed, method="average"), t=1.0 - threshold, criterion="distance")
    groups: dict[int, list[int]] = {}
    for idx, lab in enumerate(labels):
        groups.setdefault(int(lab), []).append(idx)
    return sorted(groups.values(), key=lambda g: (-len(g), g[0]))


def most_common(values: Sequence[str], default: str = "") -> str:
    """Most frequent non-empty value (first seen wins ties)."""
    counts = Counter(v for v in values if v)
    return counts.most_common(1)[0][0] if counts else default
