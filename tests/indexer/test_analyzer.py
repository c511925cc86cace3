"""Text pipeline: normalisation, synonyms, typos, mixed English, bigrams."""

from __future__ import annotations

from indexer.analyzer import BIGRAM, Analyzer, AnalyzerConfig, cjk_bigrams
from indexer.text import normalize


def test_normalize_traditional_fullwidth_space() -> None:
    assert normalize("醫保結算失敗") == "医保结算失败"
    assert normalize("ＨＩＳ　系统  登录", lower=True) == "his 系统 登录"


def test_cjk_bigrams_runs_and_unigrams() -> None:
    assert cjk_bigrams("打印机a卡") == ["打印", "印机", "卡"]
    assert cjk_bigrams("HIS") == []


def test_colloquial_synonyms_fold_to_one_term() -> None:
    a = Analyzer(config=AnalyzerConfig(bigrams=False))
    assert a.terms("HIS登不上") == ["his", "无法登录"]
    assert a.terms("ＨＩＳ进不去") == ["his", "无法登录"]
    assert "检验报告" in a.terms("化验单打不出")
    assert "影像" in a.terms("片子")


def test_typos_and_homophones_reach_the_right_term() -> None:
    a = Analyzer(config=AnalyzerConfig(bigrams=False))
    assert a.terms("医宝结算失败")[0] == "医保"
    # 打印及: jieba splits it, the bigram stream still carries 打印.
    both = Analyzer()
    assert BIGRAM + "打印" in both.terms("打印及坏了")


def test_traditional_and_fullwidth_match_simplified_terms() -> None:
    a = Analyzer()
    assert set(a.terms("醫保結算失敗")) == set(a.terms("医保结算失败"))
    assert set(a.terms("ＰＡＣＳ影像打不开")) == set(a.terms("PACS影像打不开"))


def test_field_weights_scale_term_frequency() -> None:
    a = Analyzer(config=AnalyzerConfig(bigrams=False, field_weights={"title": 3.0}))
    tf = a.weighted({"title": "打印机", "solution": "打印机"})
    assert tf["打印机"] == 4.0  # 3 from the title, 1 (default) from the solution


def test_signature_changes_with_config() -> None:
    assert Analyzer().signature() != Analyzer(config=AnalyzerConfig(bigrams=False)).signature()


def test_t2s_fast_path_matches_full_conversion() -> None:
    from indexer.text import _t2s

    samples = [
        "醫院資訊系統登錄不了",
        "回覆郵件",
        "沈默的印表機",
        "门诊医生站打不开",
        "反覆重啓",
        "一目瞭然",
        "ＨＩＳ系統",
    ]
    for s in samples:
        import unicodedata

        assert normalize(s) == _t2s().convert(unicodedata.normalize("NFKC", s)).strip()


def test_cached_cut_gives_jiebas_words_cold_warm_and_after_starting_over() -> None:
    """The block cache (tokenizer and keyword tags share it) never changes a word."""
    from indexer.tokenizer import ChineseTokenizer

    tok = ChineseTokenizer()
    texts = [
        "HIS系统登录失败，提示CA证书过期(错误码0x80070005)；重启后仍然无法登录。",
        "门诊医生站 v2.3.1 打印处方时卡死，请尽快处理！！ 192.168.1.20 ping 不通",
        "患者【床号】12床的检验结果不回传 LIS接口报错 ERR-500\n重启接口服务",
        "医保结算失败，重启后仍然无法登录。",
        "",
        "   ",
        "ＰＡＣＳ影像调阅很慢...",
    ]
    want = [list(tok.jieba.cut(t)) for t in texts]
    assert [list(tok.cached.cut(t)) for t in texts] == want  # cold
    assert [list(tok.cached.cut(t)) for t in texts] == want  # every block from the cache
    tok.cached.blocks, tok.cached.MAX_BLOCKS = {}, 3  # starts over again and again
    assert [list(tok.cached.cut(t)) for t in texts] == want
    assert len(tok.cached.blocks) <= 3
