"""Parity: LSA's integer-key n-gram counting fits what CountVectorizer fits, however the counts
were made (here, in chunks as the rebuild's workers make them, or kept from the last fit)."""

from __future__ import annotations

import numpy as np
import pytest

from embeddings import grams
from embeddings.lsa import LsaEmbedder
from indexer.text import ngram_text

ODD = ["", "  ", "！！", "a  \t b\n\nc 打印机", "㐀㐁 ∑∑", "x", "😀打印😀"]


def _corpus(corpus: list[str]) -> list[str]:
    # Paraphrases recombined, so many n-grams tie on their counts at the max_features cut.
    mixed = [a + "，" + b for a in corpus[:12] for b in corpus[-6:]]
    return [*corpus, *ODD, *mixed]


def _lsa(max_features: int = 200_000) -> LsaEmbedder:
    return LsaEmbedder(16, preprocess=ngram_text, batch_size=256, max_features=max_features)


@pytest.mark.parametrize("max_features", [200_000, 150])
def test_fit_equals_count_vectorizer(corpus: list[str], max_features: int) -> None:
    from sklearn.feature_extraction.text import CountVectorizer

    texts = _corpus(corpus)
    lsa = _lsa(max_features)
    lsa.fit(texts)
    docs = [d for d in (ngram_text(t) for t in texts if t.strip()) if d]
    reference = CountVectorizer(
        analyzer="char",
        ngram_range=lsa.ngram_range,
        lowercase=False,
        max_features=max_features,
        dtype=np.int32,
    )
    counts = reference.fit_transform(docs)
    want = np.array(reference.get_feature_names_out().tolist(), dtype=np.str_)
    assert lsa._vocab is not None and lsa._vocab.dtype == want.dtype
    np.testing.assert_array_equal(lsa._vocab, want)
    df = np.bincount(counts.indices, minlength=counts.shape[1])
    idf = (np.log((1 + len(docs)) / (1 + df)) + 1.0).astype(np.float32)
    np.testing.assert_array_equal(lsa._idf, idf)
    assert lsa.fitted_docs == len(docs)


def test_keys_sort_as_their_strings() -> None:
    # (No NUL: a numpy string array drops a trailing one; ngram_text never leaves one.)
    texts = ["ab a", "ba", "a\tb", "𠀀字", "z", "\uffff\U0010ffff"]
    counted = grams.count(texts, (1, 3))
    names = grams.strings(counted.keys).tolist()
    assert names == sorted(names) and len(set(names)) == len(names)


def test_counts_made_elsewhere_or_kept_fit_the_same(corpus: list[str]) -> None:
    texts = _corpus(corpus)
    fresh = _lsa()
    want = fresh.fit_encode(texts)
    # Counted in chunks (as the workers do), remembered, then fitted.
    chunked = _lsa()
    chunked.remember([chunked.count(texts[i : i + 7]) for i in range(0, len(texts), 7)])
    np.testing.assert_array_equal(chunked.fit_encode(texts), want)
    assert chunked.model_id == fresh.model_id
    # A refit on a corpus with some passages changed reuses the rest: same as from scratch.
    changed = [t[: len(t) // 2] if i % 5 == 0 else t for i, t in enumerate(reversed(texts))]
    again, scratch = chunked.fit_encode(changed), _lsa().fit_encode(changed)
    np.testing.assert_array_equal(again, scratch)
    chunked.release()
    assert chunked._kept is None
