"""Vocabulary CRUD, default seeding and normalisation of imported values."""

from __future__ import annotations

import difflib
import unicodedata

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col

from kbsvc.db import savepoint
from kbsvc.exceptions import Conflict, NotFound, ValidationFailed
from kbsvc.timeutil import utcnow
from kbsvc.vocab.defaults import DEFAULT_VOCABULARY
from kbsvc.vocab.models import (
    Normalized,
    VocabKind,
    VocabTerm,
    VocabTermIn,
    VocabTermPublic,
    VocabTermsPublic,
    VocabTermUpdate,
)


def _key(text: str) -> str:
    return "".join(unicodedata.normalize("NFKC", text).casefold().split())


class Normalizer:
    """Maps raw values onto known ones; load once per import, call per row."""

    def __init__(self, terms: list[VocabTerm], cutoff: float = 0.6) -> None:
        self.cutoff = cutoff
        self.values: dict[str, dict[str, str]] = {k.value: {} for k in VocabKind}
        self.aliases: dict[str, dict[str, str]] = {k.value: {} for k in VocabKind}
        for term in terms:
            self.values[term.kind][_key(term.value)] = term.value
            for alias in term.aliases:
                self.aliases[term.kind].setdefault(_key(alias), term.value)

    @classmethod
    def load(cls, session: Session, cutoff: float = 0.6) -> Normalizer:
        return cls(list(session.execute(select(VocabTerm)).scalars()), cutoff)

    def normalize(self, kind: VocabKind | str, value: str) -> Normalized:
        """Exact value, then alias, then containment, then closest spelling; else flagged."""
        kind = VocabKind(kind)
        raw = (value or "").strip()
        key = _key(raw)

        def out(found: str, match: str, flagged: bool = False) -> Normalized:
            return Normalized(kind=kind, original=raw, value=found, match=match, flagged=flagged)

        if not key:
            return out("", "empty")
        values, aliases = self.values[kind], self.aliases[kind]
        if key in values:
            return out(values[key], "exact")
        if key in aliases:
            return out(aliases[key], "alias")
        # "HIS系统" / "门诊医生站(新)": a known value wrapped in extra words; longest wins.
        known = {**aliases, **values}
        inside = sorted((k for k in known if len(k) >= 2 and k in key), key=len, reverse=True)
        if inside:
            return out(known[inside[0]], "fuzzy")
        # At cutoff 1.0 (imports, reports) only an identical key could match, and that was
        # looked up above; difflib would score every known key for nothing.
        close = (
            difflib.get_close_matches(key, list(known), n=1, cutoff=self.cutoff)
            if self.cutoff < 1.0
            else []
        )
        if close:
            return out(known[close[0]], "fuzzy")
        return out(raw, "none", flagged=True)


def normalize_value(
    session: Session, kind: VocabKind | str, value: str, cutoff: float = 0.6
) -> Normalized:
    """Map one value onto the vocabulary (importers: use Normalizer.load once instead)."""
    return Normalizer.load(session, cutoff).normalize(kind, value)


def get(session: Session, *, term_id: int) -> VocabTerm:
    """The term or NotFound."""
    term = session.get(VocabTerm, term_id)
    if term is None:
        raise NotFound(f"vocabulary term {term_id} not found", term_id=term_id)
    return term


def list_terms(session: Session, *, kind: VocabKind | None = None) -> VocabTermsPublic:
    """Terms, by kind then value."""
    stmt = select(VocabTerm).order_by(col(VocabTerm.kind), col(VocabTerm.id))
    if kind:
        stmt = stmt.where(col(VocabTerm.kind) == kind)
    data = [VocabTermPublic.model_validate(t) for t in session.execute(stmt).scalars()]
    return VocabTermsPublic(data=data, count=len(data))


NORMALIZER_CACHE = "kbsvc.vocab.normalizer"  # session.info key (see vocab.mapping)


def _check(term: VocabTerm) -> None:
    if term.kind != VocabKind.abbreviation:
        return
    bad = [a for a in term.aliases if not (a.isascii() and a.isalpha() and 2 <= len(a) <= 16)]
    if bad or not term.aliases:
        raise ValidationFailed(
            "an abbreviation needs 2-16 latin letters as its aliases (e.g. yb for 医保)",
            field="aliases",
            invalid=bad,
        )


def _save(session: Session, term: VocabTerm) -> VocabTerm:
    _check(term)
    session.info.pop(NORMALIZER_CACHE, None)
    try:
        with savepoint(session):  # a duplicate undoes only this term
            session.add(term)
    except IntegrityError:
        raise Conflict(
            f"{term.kind} {term.value!r} is already in the vocabulary",
            kind=str(term.kind),
            value=term.value,
        ) from None
    return term


def create(session: Session, *, data: VocabTermIn) -> VocabTerm:
    """Add a term; a duplicate (kind, value) is a Conflict."""
    return _save(session, VocabTerm(**data.model_dump()))


def update(session: Session, *, term_id: int, data: VocabTermUpdate) -> VocabTerm:
    """Change a term's value, aliases or parent."""
    term = get(session, term_id=term_id)
    for key, value in data.model_dump(exclude_unset=True).items():
        if value is not None:
            setattr(term, key, value)
    term.updated_at = utcnow()
    return _save(session, term)


def delete(session: Session, *, term_id: int) -> None:
    """Remove a term (entries keep their text values)."""
    session.delete(get(session, term_id=term_id))
    session.info.pop(NORMALIZER_CACHE, None)
    session.flush()


def seed_defaults(session: Session) -> int:
    """Insert the default hospital vocabulary where missing; returns how many were added."""
    have = {(t.kind, t.value) for t in session.execute(select(VocabTerm)).scalars()}
    added = 0
    for kind, rows in DEFAULT_VOCABULARY.items():
        for value, aliases, parent in rows:
            if (kind, value) not in have:
                session.add(
                    VocabTerm(
                        kind=VocabKind(kind), value=value, aliases=list(aliases), parent=parent
                    )
                )
                added += 1
    session.info.pop(NORMALIZER_CACHE, None)
    session.flush()
    return added
