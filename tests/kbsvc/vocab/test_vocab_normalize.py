"""Vocabulary seeding and normalisation of imported values."""

from __future__ import annotations

import pytest
from sqlmodel import Session

from kbsvc.vocab import service
from kbsvc.vocab.models import VocabKind, VocabTermIn


def test_migration_seeds_defaults_and_seed_is_idempotent(session: Session) -> None:
    systems = [t.value for t in service.list_terms(session, kind=VocabKind.system).data]
    assert {"HIS", "LIS", "PACS", "医保", "体检", "自助机", "账号与CA", "集成平台"} <= set(systems)
    categories = {t.value for t in service.list_terms(session, kind=VocabKind.category).data}
    assert {"登录与账号", "打印", "性能卡顿", "医保", "其他"} <= categories
    assert service.seed_defaults(session) == 0


@pytest.mark.parametrize(
    ("kind", "raw", "value", "match"),
    [
        ("system", "HIS", "HIS", "exact"),
        ("system", "ｈｉｓ", "HIS", "exact"),
        ("system", "电子病历", "EMR", "alias"),
        ("system", "HIS系统V5", "HIS", "fuzzy"),
        ("system", "打印机故障", "打印机", "fuzzy"),
        ("department", "心血管内科", "心内科", "alias"),
        ("department", "神经内科病区", "神经内科", "fuzzy"),
        ("category", "登陆与账号", "登录与账号", "fuzzy"),
        ("category", "", "", "empty"),
    ],
)
def test_normalize_maps_known_values(
    session: Session, kind: str, raw: str, value: str, match: str
) -> None:
    out = service.normalize_value(session, kind, raw)
    assert (out.value, out.match, out.flagged) == (value, match, False)


def test_unknown_value_is_kept_and_flagged(session: Session) -> None:
    out = service.normalize_value(session, "system", "手麻系统")
    assert (out.value, out.match, out.flagged) == ("手麻系统", "none", True)
    service.create(
        session, data=VocabTermIn(kind=VocabKind.system, value="手麻系统", aliases="手术麻醉，手麻")
    )
    normalizer = service.Normalizer.load(session)
    assert normalizer.normalize("system", "手术麻醉").value == "手麻系统"
    assert not normalizer.normalize("system", "手麻系统").flagged
