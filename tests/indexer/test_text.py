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


def test_t2s_is_skipped_only_where_it_changes_nothing() -> None:
    from indexer.text import _t2s, _t2s_triggers, needs_t2s

    _anywhere, chars, phrases = _t2s_triggers()
    convert = _t2s().convert
    # 么 and 覆 change only inside a phrase (么麼, 答覆): alone they need no conversion.
    assert "么" in phrases and "覆" in phrases
    for text in ("电脑上什么都打不开", "覆盖安装后正常", "俱乐部"):
        assert not needs_t2s(text) and convert(text) == text
    assert needs_t2s("请尽快答覆") and normalize("请尽快答覆") == "请尽快答复"
    assert needs_t2s("登錄") and normalize("登錄") == "登录"
    # Every phrase of the table, alone or inside other text, is still converted.
    for keys in phrases.values():
        for key in keys:
            text = f"系统{key}了"
            assert needs_t2s(text) and normalize(text) == convert(text)
    assert all(needs_t2s(c) for c in list(chars)[:500])
