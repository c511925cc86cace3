"""What people read instead of ids and English: display names, version notes, vocabularies."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from sqlalchemy import select
from sqlmodel import Session, col

from indexer.engine import SearchEngine
from kbsvc.auth.models import ApiKey, Principal, User
from kbsvc.config import SearchSettings
from kbsvc.entries.versions import list_versions
from kbsvc.exceptions import ServiceUnavailable
from kbsvc.search import service as search_service
from kbsvc.vocab.models import VocabKind, VocabTerm

_NOTES: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"^created$"), "创建"),
    (re.compile(r"^edited$"), "修改"),
    (re.compile(r"^captured$"), "从工单采编"),
    (re.compile(r"^submitted for review(?:: (.*))?$"), "提交审核"),
    (re.compile(r"^published(?:: (.*))?$"), "审核通过并发布"),
    (re.compile(r"^returned to draft(?:: (.*))?$"), "退回修改"),
    (re.compile(r"^archived(?:: (.*))?$"), "归档"),
    (re.compile(r"^reopened as draft(?:: (.*))?$"), "重新打开为草稿"),
    (re.compile(r"^restored from version (\d+)$"), "恢复第 {0} 版"),
    (re.compile(r"^merged entry (\d+) into this entry.*$"), "合并了条目 #{0}"),
    (re.compile(r"^merged into entry (\d+)$"), "已合并到条目 #{0}"),
]


def version_note(note: str) -> str:
    """A stored version note in Chinese (older notes were written in English)."""
    for pattern, text in _NOTES:
        m = pattern.match(note or "")
        if m:
            if "{0}" in text:
                return text.format(*m.groups())
            extra = m.group(1) if m.groups() and m.group(1) else ""
            return f"{text}：{extra}" if extra else text
    return note


def display_names(session: Session, labels: Iterable[str]) -> dict[str, str]:
    """`user:lisi` → 李四, `apikey:h` → h（接口）, `widget:w` → w（小部件）, others bare."""
    labels = {lb for lb in labels if lb}
    users = {lb.split(":", 1)[1] for lb in labels if lb.startswith("user:")}
    found: dict[str, str] = {}
    if users:
        for u in session.execute(select(User).where(col(User.username).in_(users))).scalars():
            found[f"user:{u.username}"] = u.display_name or u.username
    out = {}
    for lb in labels:
        kind, _, name = lb.partition(":")
        if lb in found:
            out[lb] = found[lb]
        elif kind == "apikey":
            out[lb] = f"{name}（接口）"
        elif kind == "widget":
            out[lb] = f"{name}（小部件）"
        elif kind in ("system", "cli"):
            out[lb] = "系统"
        else:
            out[lb] = name or kind
    return out


def key_names(session: Session) -> dict[int, str]:
    return {k.id or 0: k.name for k in session.execute(select(ApiKey)).scalars()}


def versions(session: Session, entry_id: int) -> list[dict[str, Any]]:
    """Stored versions of an entry, newest first, with Chinese notes and display names."""
    rows = list_versions(session, entry_id=entry_id).data
    names = display_names(session, [v.author for v in rows])
    return [
        {
            "version": v.version,
            "by": names.get(v.author, v.author),
            "at": v.created_at.strftime("%Y-%m-%d %H:%M"),
            "note": version_note(v.note),
        }
        for v in rows
    ]


def vocab_options(session: Session) -> dict[str, list[str]]:
    """Canonical values per vocabulary kind, for the form pickers."""
    out: dict[str, list[str]] = {k.value: [] for k in VocabKind}
    for term in session.execute(select(VocabTerm).order_by(col(VocabTerm.value))).scalars():
        out[str(term.kind)].append(term.value)
    return out


def similar(
    search_engine: SearchEngine,
    session: Session,
    settings: SearchSettings,
    title: str,
    symptom: str,
    principal: Principal,
    exclude: int | None = None,
) -> list[dict[str, Any]]:
    """Entries that may already cover this problem (shown beside the form)."""
    query = " ".join(x for x in (title, symptom) if x)
    if not query.strip():
        return []
    try:
        found = search_service.search(
            session,
            search_engine,
            settings=settings,
            q=query,
            k=6,
            principal=principal,
            search_log=None,  # the editor did not ask a question: keep the insights clean
        ).model_dump(mode="json")["data"]
    except ServiceUnavailable:
        return []
    return [hit for hit in found if hit["entry"]["id"] != exclude][:5]
