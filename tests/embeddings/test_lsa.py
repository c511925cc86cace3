"""LSA backend: paraphrases land close, fitted state restores exactly, fits are fingerprinted."""

from __future__ import annotations

import numpy as np
import pytest

from embeddings.base import EmbedderError, EmbedderState, NotFitted, StateCorrupt, StateMismatch
from embeddings.lsa import LsaEmbedder
from indexer.text import ngram_text


def _lsa(dim: int) -> LsaEmbedder:
    return LsaEmbedder(dim, preprocess=ngram_text, batch_size=256)


def _cos(a: np.ndarray, b: np.ndarray) -> float:
    return float(a @ b)


@pytest.mark.parametrize(
    ("query", "paraphrase", "unrelated"),
    [
        (
            "打印机打不出来",
            "门诊打印机无法打印，任务一直在队列里",
            "医保结算接口超时，患者无法结账",
        ),
        ("医保卡刷不了", "医保卡读卡失败，读卡器无响应", "显示器黑屏，检查视频线"),
        (
            "片子调不出来，PACS很卡",
            "PACS影像调阅很慢，片子打不开",
            "密码过期无法登录，需要重置密码",
        ),
        ("醫生站登錄不了", "医生站登录时提示CA证书无效", "交换机端口故障，整层楼断网"),
    ],
)
def test_paraphrase_closer_than_unrelated(
    lsa: LsaEmbedder, query: str, paraphrase: str, unrelated: str
) -> None:
    q = lsa.encode([query], "query")[0]
    near, far = lsa.encode([paraphrase, unrelated])
    assert _cos(q, near) > _cos(q, far)


def test_ngram_text_normalises_script_width_and_punctuation() -> None:
    assert ngram_text("ＨＩＳ登錄不了！！") == "his登录不了"


def test_unfitted_refuses_to_encode() -> None:
    embedder = _lsa(16)
    assert embedder.needs_fit and embedder.model_id == "lsa:unfitted"
    with pytest.raises(NotFitted):
        embedder.encode(["打印机"])
    with pytest.raises(NotFitted):
        embedder.state()
    with pytest.raises(EmbedderError):
        embedder.fit(["只有一条"])


def test_dim_is_stable_on_a_tiny_corpus() -> None:
    embedder = _lsa(64)
    embedder.fit(["打印机坏了", "医保刷卡失败", "网络断了"])
    assert embedder.encode(["打印机"]).shape == (1, 64)


def test_state_restore_round_trip_is_exact(lsa: LsaEmbedder, corpus: list[str]) -> None:
    restored = _lsa(lsa.dim)
    restored.restore(lsa.state())
    assert restored.model_id == lsa.model_id
    np.testing.assert_array_equal(restored.encode(corpus), lsa.encode(corpus))


def test_model_id_tracks_the_corpus(corpus: list[str]) -> None:
    a, b, c = _lsa(16), _lsa(16), _lsa(16)
    a.fit(corpus)
    b.fit(corpus)
    c.fit([*corpus, "新增一条：输液泵数据无法上传到护理系统"])
    assert a.model_id == b.model_id
    assert a.model_id != c.model_id
    assert a.model_id.startswith("lsa:16d:") and a.fitted_docs == len(corpus)


def test_restore_rejects_mismatched_and_inconsistent_state(lsa: LsaEmbedder) -> None:
    state = lsa.state()
    with pytest.raises(StateMismatch):
        _lsa(lsa.dim * 2).restore(state)
    short = EmbedderState(state.params, {**state.arrays, "idf": state.arrays["idf"][:-1]})
    with pytest.raises(StateCorrupt):
        _lsa(lsa.dim).restore(short)
    wrong_id = EmbedderState({**state.params, "model_id": "lsa:forged"}, state.arrays)
    with pytest.raises(StateCorrupt):
        _lsa(lsa.dim).restore(wrong_id)
    with pytest.raises(StateCorrupt):
        _lsa(lsa.dim).restore(EmbedderState({}, {}))


def test_tfidf_weighting_matches_scikit_learn(lsa: LsaEmbedder, corpus: list[str]) -> None:
    """Parity: our hand-rolled CSR weighting equals TfidfVectorizer(sublinear_tf=True)."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    assert lsa._vocab is not None
    docs = [ngram_text(t) for t in corpus]
    reference = TfidfVectorizer(
        analyzer="char",
        ngram_range=lsa.ngram_range,
        lowercase=False,
        sublinear_tf=True,
        vocabulary=lsa._vocab.tolist(),
    ).fit(docs)
    ours = lsa._weigh(lsa._counts(docs)).toarray()
    np.testing.assert_allclose(ours, reference.transform(docs).toarray(), atol=1e-6)


def test_ngram_counts_match_scikit_learn(lsa: LsaEmbedder, corpus: list[str]) -> None:
    """Parity: counting over the sorted vocabulary array equals CountVectorizer.transform,
    white-space runs, unknown n-grams and empty text included."""
    from sklearn.feature_extraction.text import CountVectorizer

    assert lsa._vocab is not None
    docs = [ngram_text(t) for t in corpus] + ["", "  \n\t 打印机  卡纸 zzz", "㐀㐁 ∑∑"]
    reference = CountVectorizer(
        analyzer="char",
        ngram_range=lsa.ngram_range,
        lowercase=False,
        vocabulary=lsa._vocab.tolist(),
    ).transform(docs)
    ours = lsa._counts(docs)
    assert (ours != reference).nnz == 0
    assert ours.has_sorted_indices and ours.dtype == np.int32


def test_a_restored_state_reads_the_mapped_vocabulary(lsa: LsaEmbedder, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Readers keep the stored array (memory-mapped), not a dictionary of its n-grams."""
    state = lsa.state()
    np.save(tmp_path / "vocab.npy", state.arrays["vocab"])
    mapped = np.load(tmp_path / "vocab.npy", mmap_mode="r")
    other = _lsa(lsa.dim)
    other.restore(EmbedderState(state.params, {**state.arrays, "vocab": mapped}))
    assert np.shares_memory(other._vocab, mapped)  # no copy, no dictionary
    texts = ["打印机卡纸怎么办", "医保结算失败"]
    np.testing.assert_allclose(other.encode(texts), lsa.encode(texts), atol=1e-6)
