"""Confidence evidence: near duplicates count as one, and fitted channels never saw the probes."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from embeddings.factory import EmbeddingConfig, make_embedder
from indexer import calibration_evidence
from indexer.analyzer import Analyzer
from indexer.build import build_retriever
from indexer.confidence_features import FEATURES, hit_features
from indexer.docs import EntryDoc
from indexer.neardup import near_duplicates, similarities
from indexer.retriever import Retriever, RetrieverConfig
from indexer.text import ngram_text

LEXICAL = RetrieverConfig(lexical_weight=1.0, dense_weight=0.0, method="score", learn_from_use=True)
RRF = RetrieverConfig(lexical_weight=1.0, dense_weight=1.0, method="rrf", learn_from_use=True)
LSA = EmbeddingConfig("lsa", "", "", "", 32, 128, 1)
PRINTER = "门诊收费处发票打印机卡纸，打出来的发票位置偏移"
OTHERS = [
    "住院医生站登录提示证书过期",
    "检验科LIS报告无法审核",
    "PACS影像调阅一直转圈",
    "自助机读卡失败 身份证读不出",
    "医保结算提示接口超时",
    "护士站PDA扫码没反应",
    "叫号屏幕不显示患者姓名",
    "手麻系统采集不到监护仪数据",
    "电子病历保存失败 提示病历被锁定",
    "药房发药机收不到任务",
    "体检指引单只打印出一页",
]


def _doc(i: int, title: str, tickets: list[str] | None = None) -> EntryDoc:
    return EntryDoc(
        id=i, title=title, symptom=title, solution="重启服务后恢复", ticket_texts=tickets or []
    )


@pytest.fixture()
def kb() -> list[EntryDoc]:
    printer_ticket = "发票打印机卡纸\n收费窗口发票卡纸，打出来位置歪了"
    docs = [_doc(1, PRINTER, [printer_ticket]), _doc(2, PRINTER + "。"), _doc(3, "发票打印机缺纸")]
    return docs + [_doc(10 + i, t) for i, t in enumerate(OTHERS)]


def _lexical(docs: list[EntryDoc]) -> Retriever:
    r = Retriever(Analyzer(), None, LEXICAL)
    r.add(docs)
    r.lexical.compact()
    return r


def _f(row: np.ndarray, name: str) -> float:
    return float(row[FEATURES.index(name)])


def test_a_copy_is_a_near_duplicate_and_a_neighbour_is_not(kb: list[EntryDoc]) -> None:
    r = _lexical(kb)
    sims = similarities(r.lexical, [1, 2, 3, 10])
    assert sims[0, 1] >= 0.5 and sims[0, 3] < 0.1 and np.allclose(np.diag(sims), 1.0)
    assert near_duplicates(r.lexical, 2) == {1}
    assert near_duplicates(r.lexical, 10) == set()


def test_margin_is_over_the_first_runner_up_that_is_no_copy(kb: list[EntryDoc]) -> None:
    with_copy = _lexical(kb)
    alone = _lexical([d for d in kb if d.id != 2])
    q = "发票打印机卡纸 位置偏移"
    hits = with_copy.search(q, 5).hits
    assert {hits[0].id, hits[1].id} == {1, 2}  # the copy is the runner-up …
    x = hit_features(with_copy, q, hits)
    y = hit_features(alone, q, alone.search(q, 5).hits)
    # … yet the top hit stands as far above its competitors as without the copy.
    assert _f(x[0], "margin") > 0.2
    assert _f(x[0], "margin") == pytest.approx(_f(y[0], "margin"), abs=0.15)


def test_near_miss_evidence_hides_the_entry_with_its_copies(kb: list[EntryDoc]) -> None:
    r = _lexical(kb)
    probe = calibration_evidence.Probe(PRINTER, 1, hide=True)
    ev = calibration_evidence.collect(r, kb, [probe])
    # With entry 1 hidden its copy (2) would cover the query as well as 1 does; it leaves
    # too, so the near miss's best remaining hit is a neighbour, covering less.
    assert ev.answerable == [False]
    assert _f(ev.x[0], "bigram_coverage") < 0.7
    assert [h.id for h in r.search(PRINTER, 2).hits] in ([1, 2], [2, 1])  # restored


def test_dense_channel_evidence_sees_the_whole_kb(kb: list[EntryDoc]) -> None:
    lsa = make_embedder(LSA, preprocess=ngram_text)
    r = build_retriever(kb, Analyzer(), lsa, RRF, ann_threshold=1000, name="lsa")
    probes = [calibration_evidence.Probe(t, 10 + i, hide=True) for i, t in enumerate(OTHERS[:3])]
    ev = calibration_evidence.collect(r, kb, probes)
    # Every near miss is ranked over the rest of the KB, not just the entries probed so far.
    assert np.bincount(ev.group).tolist() == [calibration_evidence.K] * len(probes)


def test_evidence_sees_a_corpus_fitted_channel_refitted_without_the_asked_tickets(
    kb: list[EntryDoc],
) -> None:
    asked = "发票打印机吐纸龘靐\n收费窗口发票机龘靐"  # characters no other text of the KB has
    kb[2] = dataclasses.replace(kb[2], ticket_texts=[asked])
    lsa = make_embedder(LSA, preprocess=ngram_text)
    r = build_retriever(kb, Analyzer(), lsa, RRF, ann_threshold=1000, name="lsa")
    served = r.embedder.model_id if r.embedder else ""
    probes = calibration_evidence.probes_from_links(kb)
    blind = calibration_evidence._unseen(r, kb, probes)
    assert blind.embedder is not None and r.embedder is not None
    # The served LSA learnt the asked ticket's characters; the evidence's has never seen
    # them, as it has never seen a staff query.
    assert np.any(r.embedder.encode(["龘靐"], kind="query"))
    assert not np.any(blind.embedder.encode(["龘靐"], kind="query"))
    calibration_evidence.collect(r, kb, probes)
    assert r.embedder.model_id == served  # the served model is untouched


def test_similarities_equal_the_pairwise_cosine_of_tfidf_dicts(kb: list[EntryDoc]) -> None:
    import math

    r = _lexical(kb)
    ids = [1, 2, 3, 10, 11, 999]  # 999 is not indexed: no terms, similar to nothing
    vecs = [r.lexical.tfidf(i) for i in ids]

    def cosine(a: dict[int, float], b: dict[int, float]) -> float:
        dot = sum(w * b.get(t, 0.0) for t, w in a.items())
        norm = math.sqrt(sum(w * w for w in a.values()) * sum(w * w for w in b.values()))
        return dot / norm if norm else 0.0

    want = np.array([[cosine(a, b) for b in vecs] for a in vecs])
    np.fill_diagonal(want, 1.0)
    got = similarities(r.lexical, ids)
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)
    assert got[0, 1] >= 0.5 > got[0, 2]
