"""Site abbreviations in the vocabulary: validated, override the shipped table, picked up live."""

from __future__ import annotations

import pytest
from sqlmodel import Session

from indexer.analyzer import Analyzer
from kbsvc.exceptions import ValidationFailed
from kbsvc.search import shorthand
from kbsvc.vocab import service
from kbsvc.vocab.models import VocabKind, VocabTermIn, VocabTermUpdate


def _abbr(value: str, *aliases: str) -> VocabTermIn:
    return VocabTermIn(kind=VocabKind.abbreviation, value=value, aliases=list(aliases))


def test_abbreviation_aliases_must_be_latin_letters(session: Session) -> None:
    with pytest.raises(ValidationFailed):
        service.create(session, data=_abbr("医技", "医技"))
    with pytest.raises(ValidationFailed):
        service.create(session, data=_abbr("医技"))
    term = service.create(session, data=_abbr("医技", "yj"))
    with pytest.raises(ValidationFailed):
        service.update(session, term_id=term.id or 0, data=VocabTermUpdate(aliases=["y"]))


def test_site_abbreviations_extend_and_override_the_shipped_table(session: Session) -> None:
    service.create(session, data=_abbr("医技", "yj"))
    service.create(session, data=_abbr("急救", "jz"))  # this site's jz is not 急诊
    sh = shorthand.load_shorthand(session)
    assert "医技" in sh.expand("yj科室电脑蓝屏")
    assert "急救" in sh.expand("jz车载电脑") and "急诊" not in sh.expand("jz车载电脑")
    assert "医保" in sh.expand("yb结算失败")  # shipped keys stay


def test_vocabulary_systems_get_pinyin_matching(session: Session) -> None:
    service.create(session, data=VocabTermIn(kind=VocabKind.system, value="血透系统"))
    assert "血透系统" in shorthand.load_shorthand(session).expand("xtxt连不上")


def test_refresh_reloads_only_after_a_change(session: Session) -> None:
    analyzer = Analyzer()
    assert shorthand.refresh(session, analyzer, force=True)
    assert "医技" not in analyzer.expand("yj电脑")
    assert not shorthand.refresh(session, analyzer)  # checked moments ago
    service.create(session, data=_abbr("医技", "yj"))
    shorthand._seen[id(analyzer)] = (0.0, shorthand._seen[id(analyzer)][1])  # noqa: SLF001 - age the check
    assert shorthand.refresh(session, analyzer)
    assert "医技" in analyzer.expand("yj电脑")
