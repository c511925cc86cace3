"""The one text toolkit: normaliser, n-gram forms and character-n-gram similarity."""

from __future__ import annotations

from indexer.text import char_ngrams, cosine, fold, ngram_text, normalize


def test_normalize_folds_width_script_and_space() -> None:
    assert normalize("ＨＩＳ  登錄\t不了") == "HIS 登录 不了"
    assert normalize("ＨＩＳ", lower=True) == "his"
    assert normalize("") == ""


def test_forms_for_ngrams_and_keys() -> None:
    assert ngram_text("ＨＩＳ登錄不了！！打印") == "his登录不了 打印"
    assert fold("ＨＩＳ 登錄！_不了") == "his登录不了"


def test_char_ngrams_fold_width_case_script_and_punctuation() -> None:
    assert char_ngrams("ＨＩＳ 登录！") == char_ngrams("his登录")
    assert char_ngrams("醫生站登錄") == char_ngrams("医生站登录")
    assert char_ngrams("卡") == {"卡": 1} and char_ngrams("，。") == {}
    assert char_ngrams("打印机", (1, 2)) == {
        "打": 1,
        "印": 1,
        "机": 1,
        "打印": 1,
        "印机": 1,
    }


def test_cosine_of_count_vectors() -> None:
    assert cosine(char_ngrams("打印机卡纸"), char_ngrams("打印机卡纸")) == 1.0
    assert cosine(char_ngrams("打印机卡纸"), char_ngrams("网络中断")) == 0.0
    assert cosine({}, char_ngrams("打印")) == 0.0
    assert 0.0 < cosine(char_ngrams("打印机卡纸"), char_ngrams("打印机缺纸")) < 1.0
