"""Likely duplicates of a new entry or ticket, by character-bigram similarity (no index needed).

Character bigrams suit Chinese without a tokenizer and measured as well as jieba tokens on
fault records (see ARCHITECTURE.md); grams and cosine come from the one text toolkit.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlmodel import Session, col

from indexer.text import char_ngrams, cosine
from kbsvc.auth import policy
from kbsvc.auth.models import Principal
from kbsvc.config import LifecycleSettings
from kbsvc.entries.models import DuplicateCandidate, Entry, EntryStatus

FIELDS = ("title", "symptom", "cause")
FIELD_LABELS = {"title": "标题", "symptom": "现象", "cause": "原因"}
# Titles are short and say the most; weight their bigrams up in the combined vector.
FIELD_WEIGHTS = {"title": 2.0, "symptom": 1.0, "cause": 1.0}
SYSTEM_BONUS, MODULE_BONUS, TEXT_WEIGHT = 0.10, 0.05, 0.85


class _Profile:
    """Bigram vectors of one text record, per field and combined."""

    def __init__(self, fields: Mapping[str, Any]) -> None:
        self.per_field = {f: char_ngrams(str(fields.get(f) or "")) for f in FIELDS}
        self.combined: dict[str, float] = {}
        for f, vec in self.per_field.items():
            for gram, n in vec.items():
                self.combined[gram] = self.combined.get(gram, 0.0) + n * FIELD_WEIGHTS[f]
        self.system = str(fields.get("system") or "").strip()
        self.module = str(fields.get("module") or "").strip()


# Candidate profiles keyed by their text: building bigram vectors dominates the scan, and
# entries change rarely compared with how often we ask. Keyed by content, never stale.
_CACHE: dict[tuple[str, ...], _Profile] = {}
_CACHE_MAX = 100_000


def _profile_of(row: Any) -> _Profile:
    key = (row.title, row.symptom, row.cause, row.system, row.module)
    profile = _CACHE.get(key)
    if profile is None:
        if len(_CACHE) >= _CACHE_MAX:
            _CACHE.clear()
        profile = _CACHE[key] = _Profile(row._mapping)
    return profile


def _quick(query: _Profile, cand: _Profile) -> float:
    """Score without reasons (the scan); reasons are computed for the top k only."""
    score = TEXT_WEIGHT * cosine(query.combined, cand.combined)
    if query.system and query.system == cand.system:
        score += SYSTEM_BONUS + (MODULE_BONUS if query.module == cand.module else 0.0)
    return min(score, 1.0)


def _score(query: _Profile, cand: _Profile) -> tuple[float, list[str]]:
    text = cosine(query.combined, cand.combined)
    reasons = []
    for f in FIELDS:
        sim = cosine(query.per_field[f], cand.per_field[f])
        if sim >= 0.3:
            reasons.append(f"{FIELD_LABELS[f]}相似度 {sim:.2f}")
    score = TEXT_WEIGHT * text
    if query.system and query.system == cand.system:
        score += SYSTEM_BONUS
        reasons.append(f"同一系统：{cand.system}")
        if query.module and query.module == cand.module:
            score += MODULE_BONUS
            reasons.append(f"同一模块：{cand.module}")
    return min(score, 1.0), reasons


def _pool(
    session: Session,
    *,
    principal: Principal,
    system: str | None,
    exclude_system: str | None,
    exclude_id: int | None,
    limit: int,
) -> list[Any]:
    cols = (
        col(Entry.id),
        col(Entry.title),
        col(Entry.symptom),
        col(Entry.cause),
        col(Entry.system),
        col(Entry.module),
        col(Entry.status),
    )
    stmt = select(*cols).where(
        col(Entry.status).in_([EntryStatus.published, EntryStatus.in_review]),
        col(Entry.merged_into_id).is_(None),
        policy.visible_filter(principal),
    )
    if system is not None:
        stmt = stmt.where(col(Entry.system) == system)
    if exclude_system is not None:
        stmt = stmt.where(col(Entry.system) != exclude_system)
    if exclude_id is not None:
        stmt = stmt.where(col(Entry.id) != exclude_id)
    return list(session.execute(stmt.order_by(col(Entry.id).desc()).limit(limit)).all())


def fields_of(obj: Any) -> dict[str, Any]:
    """The fields duplicate detection reads, from an entry, ticket or similar object."""
    return {f: getattr(obj, f, "") for f in (*FIELDS, "system", "module")}


def find_duplicates(
    session: Session,
    text_fields: Mapping[str, Any],
    exclude_id: int | None = None,
    k: int = 5,
    *,
    principal: Principal,
    min_score: float | None = None,
    settings: LifecycleSettings | None = None,
) -> list[DuplicateCandidate]:
    """Published / in-review entries `principal` may see most likely describing the same fault.

    `text_fields` takes title, symptom, cause, system and module (an entry or ticket dict).
    Entries of the same system are scored first; other systems only fill up the list.
    """
    cfg = settings or LifecycleSettings()
    floor = cfg.duplicate_min_score if min_score is None else min_score
    query = _Profile(text_fields)
    if not query.combined:
        return []
    scored: list[tuple[float, Any]] = []
    passes = [(query.system, None), (None, query.system)] if query.system else [(None, None)]
    for system, exclude_system in passes:
        for row in _pool(
            session,
            principal=principal,
            system=system,
            exclude_system=exclude_system,
            exclude_id=exclude_id,
            limit=cfg.duplicate_pool_limit,
        ):
            score = _quick(query, _profile_of(row))
            if score >= floor:
                scored.append((score, row))
        if len(scored) >= k:
            break
    scored.sort(key=lambda item: (-item[0], -item[1].id))
    out = []
    for _quick_score, row in scored[:k]:
        score, reasons = _score(query, _profile_of(row))
        out.append(
            DuplicateCandidate(
                id=row.id,
                title=row.title,
                status=row.status,
                system=row.system,
                module=row.module,
                score=round(score, 4),
                reasons=reasons,
            )
        )
    return out


def duplicates_of_entry(
    session: Session,
    *,
    entry_id: int,
    principal: Principal,
    k: int = 5,
    settings: LifecycleSettings | None = None,
) -> list[DuplicateCandidate]:
    """Likely duplicates of an existing entry."""
    from kbsvc.entries.service import get

    entry = get(session, entry_id=entry_id, principal=principal)
    return find_duplicates(
        session, fields_of(entry), exclude_id=entry_id, k=k, principal=principal, settings=settings
    )
