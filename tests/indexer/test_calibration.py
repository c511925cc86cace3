"""Confidence fitted to a KB from its own linked tickets: features, fit, operating point, prior."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest

from bench.evalkb import family_kb, load_tickets
from indexer import calibration, calibration_evidence, calibration_model
from indexer.analyzer import Analyzer
from indexer.confidence_features import FEATURES, hit_features, is_key
from indexer.docs import EntryDoc
from indexer.retriever import Retriever, RetrieverConfig

LEXICAL = RetrieverConfig(lexical_weight=1.0, dense_weight=0.0, method="score", learn_from_use=True)


@pytest.fixture(scope="module")
def demo() -> tuple[Retriever, list[EntryDoc]]:
    docs, _ = family_kb(load_tickets())
    r = Retriever(Analyzer(), None, LEXICAL)
    r.add(docs)
    r.lexical.compact()
    return r, docs


def _f(row: np.ndarray, name: str) -> float:
    return float(row[FEATURES.index(name)])


def test_key_terms_are_codes_system_names_and_dictionary_words() -> None:
    assert is_key("ora-12541") and is_key("0x0000011b") and is_key("his") and is_key("医保")
    assert not is_key("\x01医保") and not is_key("怎么")


def test_features_separate_a_covered_query_from_a_near_miss(
    demo: tuple[Retriever, list[EntryDoc]],
) -> None:
    r, _ = demo
    good = hit_features(r, "医保结算一直转圈 超时", r.search("医保结算一直转圈 超时", 5).hits)
    poor = hit_features(r, "食堂今天中午有什么菜", r.search("食堂今天中午有什么菜", 5).hits)
    assert good.shape[1] == len(FEATURES)
    assert _f(good[0], "coverage") > 0.8 and _f(good[0], "rank1") == 1.0
    assert not len(poor) or _f(poor[0], "coverage") < _f(good[0], "coverage")


def test_error_code_in_query_and_hit_counts_for_it(demo: tuple[Retriever, list[EntryDoc]]) -> None:
    r, _ = demo
    q = "添加网络打印机报错 0x0000011b"
    hits = r.search(q, 5).hits
    assert _f(hit_features(r, q, hits)[0], "code") == 1.0


def test_fit_meets_its_targets_out_of_fold_and_orders_bands(
    demo: tuple[Retriever, list[EntryDoc]],
) -> None:
    r, docs = demo
    probes = calibration_evidence.probes_from_links(
        docs, calibration_evidence.unrelated_queries(), limit=160
    )
    cal = calibration_model.fit(calibration_evidence.collect(r, docs, probes), "lexical")
    rep = cal.report
    # The ticket an entry was written from is asked only as a near miss (its entry hidden).
    assert rep["answerable"] >= 40 and rep["no_answer"] >= 60
    assert rep["right_top_confident"] >= 0.9 and rep["no_answer_high"] <= 0.06
    assert 0.0 < cal.medium <= cal.high < 1.0
    right = cal.rate(r, "刷医保卡结算一直转圈", r.search("刷医保卡结算一直转圈", 3).hits)
    assert right[0][1] != "low"
    off = r.search("院长办公室在哪一栋楼", 3).hits
    assert all(band != "high" for _, band in cal.rate(r, "院长办公室在哪一栋楼", off))


def test_leave_one_out_restores_the_index(demo: tuple[Retriever, list[EntryDoc]]) -> None:
    r, docs = demo
    before = [h.id for h in r.search("新领发票 系统号码还是旧的", 5).hits]
    calibration_evidence.collect(r, docs, calibration_evidence.probes_from_links(docs[:5]))
    assert [h.id for h in r.search("新领发票 系统号码还是旧的", 5).hits] == before


def test_little_evidence_uses_the_shipped_prior() -> None:
    docs = [EntryDoc(id=1, title="打印机卡纸", symptom="打印机卡纸不出票", ticket_texts=["卡纸了"])]
    r = Retriever(Analyzer(), None, LEXICAL)
    r.add(docs)
    cal = calibration.calibrate(r, docs, "lexical")
    assert cal.source == "prior" and cal.high >= cal.medium
    assert calibration.calibrate(r, docs, "no-such-config").key == "lexical"


def test_saved_calibration_round_trips_and_refuses_other_features() -> None:
    cal = calibration.prior("lexical")
    again = calibration_model.Calibration.from_json(cal.to_json())
    assert again.to_json() == cal.to_json()
    with pytest.raises(ValueError):
        calibration_model.Calibration.from_json({**cal.to_json(), "features": ["score"]})
    row = np.zeros((1, len(FEATURES)))
    assert 0.0 <= float(dataclasses.replace(cal).prob(row)[0]) <= 1.0


def test_calibration_is_a_part_under_the_one_manifest_schema(tmp_path: Path) -> None:
    cal = calibration.prior("lexical")
    calibration.save(cal, tmp_path, "9.9")
    manifest = json.loads((tmp_path / "calibration" / "manifest.json").read_text("utf-8"))
    assert manifest["kind"] == "confidence-calibration" and manifest["library_version"] == "9.9"
    assert manifest["params"]["key"] == "lexical" and manifest["files"]["model"]["sha256"]
    loaded = calibration.load(tmp_path, "lexical")
    assert loaded is not None and loaded.to_json() == cal.to_json()
    assert calibration.load(tmp_path, "e5+lsa:rrf") is None  # fitted for other channels
    (tmp_path / "calibration" / "model.json").write_text("{}", encoding="utf-8")
    assert calibration.load(tmp_path, "lexical") is None  # fails its checksum: refit


def test_calibrating_on_a_clone_equals_a_fresh_index_of_the_published_entries(
    demo: tuple[Retriever, list[EntryDoc]],
) -> None:
    """calibrate() reuses the built index's terms rather than analysing every entry again."""
    _, docs = demo
    docs = [dataclasses.replace(d, status="draft") if i % 7 == 0 else d for i, d in enumerate(docs)]
    built = Retriever(Analyzer(), None, LEXICAL)
    built.add(docs)
    built.lexical.compact()
    got = calibration.calibrate(built, docs, "lexical")
    published = [d for d in docs if d.status == "published"]
    fresh = Retriever(built.analyzer, None, LEXICAL)
    fresh.add(published)
    fresh.lexical.compact()
    probes = calibration_evidence.probes_from_links(
        published, calibration_evidence.unrelated_queries()
    )
    want = calibration_model.fit(calibration_evidence.collect(fresh, published, probes), "lexical")
    assert got.source == want.source
    assert (got.high, got.medium) == pytest.approx((want.high, want.medium))
    assert got.report == pytest.approx(want.report)
    assert len(built.lexical) == len(docs)  # the built index itself is untouched
