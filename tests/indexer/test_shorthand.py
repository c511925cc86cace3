"""Query shorthand: abbreviations, full pinyin and pinyin initials, with real pypinyin and jieba."""

from __future__ import annotations

import dataclasses

from indexer.analyzer import Analyzer, AnalyzerConfig
from indexer.docs import EntryDoc
from indexer.retriever import Retriever, RetrieverConfig
from indexer.shorthand import Shorthand, default_shorthand, parse_table, shipped_table

LEXICAL = RetrieverConfig(lexical_weight=1.0, dense_weight=0.0, method="score", learn_from_use=True)


def _doc(i: int, title: str, symptom: str = "", system: str = "") -> EntryDoc:
    return EntryDoc(id=i, title=title, symptom=symptom, system=system)


def _retriever(shorthand: bool = True) -> Retriever:
    cfg = dataclasses.replace(AnalyzerConfig(), shorthand=shorthand)
    r = Retriever(Analyzer(config=cfg), None, LEXICAL)
    r.add(
        [
            _doc(1, "门诊医保结算失败", "门诊刷医保卡结算提示交易失败", "医保结算"),
            _doc(2, "门诊收费发票号对不上", "收费窗口打出来的发票号和系统不一致", "HIS"),
            _doc(3, "电子病历签名失败", "EMR签名提示时间戳服务不可用", "EMR"),
            _doc(4, "住院结算提示未停医嘱", "出院结算时提示还有未停的医嘱", "HIS"),
            _doc(5, "PDA扫码掉线", "护士PDA扫码执行老是掉线", "移动护理"),
            _doc(6, "打印机卡纸", "收费处打印机卡纸不出票", "打印机"),
        ]
    )
    return r


def test_shipped_table_has_the_common_hospital_abbreviations() -> None:
    table = shipped_table()
    for key, word in {"yb": "医保", "mz": "门诊", "zy": "住院", "emr": "电子病历"}.items():
        assert word in table[key]
    assert "电子病历" in table["dzbl"]
    assert {"his", "lis", "pacs", "sf", "gh"} <= set(table)


def test_parse_table_skips_comments_and_merges_repeats() -> None:
    table = parse_table(["# c", "", "YB 医保", "yb 医疗保险 医保", "x1 坏键", "solo"])
    assert table == {"yb": ["医保", "医疗保险"]}


def test_abbreviation_inside_chinese_is_spelled_out() -> None:
    assert "医保" in default_shorthand().expand("门诊yb结算失败")
    assert "yb" not in default_shorthand().expand("门诊yb结算失败")


def test_run_of_abbreviations_is_split() -> None:
    pieces = default_shorthand().split("zyyfhsz")
    assert pieces is not None
    assert "".join(p.words[0] for p in pieces) == "住院药房护士站"
    assert "".join(default_shorthand().split("mzsf")[0].words[0]) == "门诊收费"  # type: ignore[index]


def test_full_pinyin_and_initials_of_dictionary_terms() -> None:
    sh = Shorthand({}, ["电子病历", "门诊", "医保"])
    assert "电子病历" in sh.expand("dianzibingli模板没了")
    assert "门诊" in sh.expand("menzhen") and "医保" in sh.expand("menzhenyibao")
    assert "电子病历" in sh.expand("dzbl打不开")


def test_words_the_index_knows_are_kept_and_guesses_need_known_words() -> None:
    sh = Shorthand({"emr": ["电子病历"]}, ["平板电脑", "拼多多"])
    known = {"pda", "emr", "电子病历"}.__contains__
    assert sh.expand("pda掉线", known) == "pda掉线"  # an English name the KB uses
    assert "emr" in sh.expand("emr签名", known) and "电子病历" in sh.expand("emr签名", known)
    # "pbdn" could be 平板电脑, but that word is in no entry: no guess is added.
    assert sh.expand("pbdn坏了", known) == "pbdn坏了"


def test_english_words_and_plain_chinese_are_untouched() -> None:
    sh = default_shorthand()
    assert sh.expand("打印机卡纸不出票") == "打印机卡纸不出票"
    assert sh.expand("sign failed timeout") == "sign failed timeout"


def test_shorthand_queries_rank_the_entry_the_spelled_out_query_ranks() -> None:
    r = _retriever()
    for short, long in [
        ("门诊yb结算失败", "门诊医保结算失败"),
        ("mzsf发票号对不上", "门诊收费发票号对不上"),
        ("dzbl签名失败", "电子病历签名失败"),
        ("cy结算提示未停yz", "出院结算提示未停医嘱"),
    ]:
        assert r.search(short, 3).hits[0].id == r.search(long, 3).hits[0].id


def test_shorthand_lifts_the_right_entry_over_plain_bm25() -> None:
    off, on = _retriever(shorthand=False), _retriever()
    assert off.search("yb结算失败", 3).hits[0].id != 1 or off.search("yb", 3).hits == []
    assert on.search("yb结算失败", 3).hits[0].id == 1
    assert on.search("mzsf", 3).hits[0].id == 2
    assert [h.id for h in off.search("mzsf", 3).hits] == []


def test_matched_terms_name_the_spelled_out_word() -> None:
    hit = _retriever().search("yb结算失败", 1).hits[0]
    assert "医保" in hit.matched
