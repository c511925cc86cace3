"""Keyword tags from the private jieba with the hospital-IT dictionary."""

from __future__ import annotations

from indexer.keywords import default_extractor, suggest_tags


def test_dictionary_terms_win_and_noise_is_dropped() -> None:
    text = "心内科门诊医生站登录时提示CA证书无效，无法登录。处理：2. 重新插拔CA Key 3次"
    words = default_extractor().keywords(text)
    assert "CA证书" in words and "门诊医生站" in words
    assert "CA" not in words  # covered by the longer dictionary term
    assert not any(w.isdigit() or w in {"无法", "提示", "处理"} for w in words)


def test_suggest_merges_given_tags_first() -> None:
    tags = suggest_tags(["PACS工作站调阅CT影像很慢，存储网关缓存满"], ["性能", "PACS"], limit=4)
    assert tags[:2] == ["性能", "PACS"] and len(tags) <= 4
    assert suggest_tags([""], []) == []
    assert "放射科" not in suggest_tags(["放射科PACS调阅慢"], exclude=["放射科"])
