"""Keyword tags: jieba TF-IDF on the private tokenizer, hospital-IT dictionary terms first."""

from __future__ import annotations

import copy
import logging
import re
import threading
from collections.abc import Iterable, Sequence
from functools import lru_cache

from indexer.text import normalize
from indexer.tokenizer import ChineseTokenizer, _lines, default_tokenizer

# Generic words that TF-IDF ranks high in short tickets but that say nothing about the fault.
_GENERIC = frozenset(
    [
        "无法",
        "不能",
        "提示",
        "报错",
        "显示",
        "进行",
        "重新",
        "联系",
        "操作",
        "使用",
        "正常",
        "恢复",
        "检查",
        "确认",
        "需要",
        "导致",
        "原因",
        "现象",
        "故障",
        "用户",
        "患者",
        "医生",
        "护士",
        "科室",
        "电脑",
        "系统",
        "工单",
        "反馈",
        "告知",
        "已经",
        "然后",
        "之后",
        "没有",
        "时候",
        "一直",
        "目前",
        "现在",
        "今天",
        "上午",
        "下午",
        "刚才",
        "频繁",
        "偶尔",
        "突然",
        "经常",
        "界面",
        "页面",
        "状态",
        "信息",
        "内容",
        "结果",
        "现场",
        "方法",
        "步骤",
        "情况",
        "对应",
        "相关",
        "所有",
        "部分",
    ]
)
# Noun-like POS tags worth a tag when the word is not in our dictionary (people/places are not).
_NOUNISH = frozenset({"n", "nz", "nt", "vn", "eng", "nw", "an"})
_NUMERIC = re.compile(r"^[\d\W_]+$")
_LATIN = re.compile(r"^[A-Za-z][A-Za-z0-9.+#-]*$")
# Dictionary terms name systems, modules, devices and known faults: prefer them over common words.
DICT_BOOST = 3.0


class KeywordExtractor:
    """Suggests keyword tags for ticket and entry text."""

    def __init__(self, tokenizer: ChineseTokenizer | None = None) -> None:
        import jieba
        import jieba.analyse
        import jieba.posseg

        # jieba announces its dictionary build on stderr at INFO; CLI output stays clean.
        jieba.setLogLevel(logging.WARNING)

        tok = tokenizer or default_tokenizer()
        # A copy of jieba's default extractor shares its IDF table (parsing another copy of
        # the table costs ~1.5 s per process) and gets its own tokenizer and stopwords.
        self._tfidf = copy.copy(jieba.analyse.default_tfidf)
        tok.initialize()
        # The tokenizer's own cache: words cut here are reused when the index analyses them.
        self._tfidf.tokenizer = tok.cached
        # Part of speech from the dictionary's tag table, not an HMM tagging pass per text
        # (3× faster, which bulk imports need); a word the table lacks counts as unknown ("x")
        # and becomes a tag only through our dictionary or as an acronym.
        self.flags: dict[str, str] = jieba.posseg.dt.word_tag_tab  # jieba's main dictionary
        self.stopwords = frozenset(w.lower() for w in tok.stopwords) | _GENERIC
        self._tfidf.stop_words = set(self._tfidf.stop_words) | set(self.stopwords)
        self.dictionary = frozenset(line.split()[0] for line in _lines("hospital_it_dict.txt"))
        # jieba keeps per-call state in the shared tokenizer; serialise like the tokenizer does.
        self._lock = threading.Lock()

    def _keep(self, word: str, flag: str, main: str) -> bool:
        if len(word) < 2 or _NUMERIC.match(word) or word.lower() in self.stopwords:
            return False
        if word in self.dictionary:
            return True
        if word not in main:
            return False
        if _LATIN.match(word):
            # Unknown Latin words are mostly file names and UI labels (exe, Win); acronyms stay.
            return word.isupper()
        return flag in _NOUNISH

    def keywords(self, text: str, top_k: int = 6, extra: str = "") -> list[str]:
        """Up to `top_k` keywords of `text`, best first.

        `extra` (a ticket's solution, say) adds weight, but of its own words only dictionary
        terms can become keywords: handling steps are full of words that describe no fault.
        """
        text, extra = normalize(text), normalize(extra)
        both = f"{text}\n{extra}".strip()
        if not both:
            return []
        with self._lock:
            weights = self._tfidf.extract_tags(both, topK=None, withWeight=True)
        scored = []
        for word, weight in weights:
            if self._keep(word, self.flags.get(word, "x"), text):
                boost = DICT_BOOST if word in self.dictionary else 1.0
                scored.append((-weight * boost, both.find(word), word))
        picked: list[str] = []
        for _w, _pos, word in sorted(scored):
            # "CA证书" makes "CA" and "证书" redundant: keep the more specific term.
            if any(word in other for other in picked):
                continue
            shorter = [i for i, other in enumerate(picked) if other in word]
            if shorter:
                picked[shorter[0]] = word
                picked = [w for i, w in enumerate(picked) if i not in shorter[1:]]
            elif len(picked) < top_k:
                picked.append(word)
        return picked


@lru_cache(maxsize=1)
def default_extractor() -> KeywordExtractor:
    """Process-wide extractor on the default tokenizer (loads jieba's IDF table once)."""
    return KeywordExtractor()


def suggest_tags(
    texts: Iterable[str],
    existing: Sequence[str] = (),
    limit: int = 6,
    exclude: Iterable[str] = (),
    extra: Iterable[str] = (),
) -> list[str]:
    """The given tags first, then keywords of `texts` not already covered, at most `limit`.

    `exclude` holds words that are already fields of the entry (its department, say);
    `extra` texts contribute dictionary terms only (see KeywordExtractor.keywords).
    """
    skip = {w.lower() for w in exclude if w}
    tags: list[str] = []
    for tag in existing:
        tag = tag.strip()
        if tag and tag.lower() not in {t.lower() for t in tags}:
            tags.append(tag)
    text = "\n".join(t for t in texts if t)
    extra_text = "\n".join(t for t in extra if t)
    top_k = limit + len(tags) + len(skip)
    for word in default_extractor().keywords(text, top_k=top_k, extra=extra_text):
        if len(tags) >= limit:
            break
        low = word.lower()
        if low not in skip and not any(low in t.lower() or t.lower() in low for t in tags):
            tags.append(word)
    return tags[:limit]
