"""Export published knowledge to an exchange file; import one as drafts, idempotently."""

from __future__ import annotations

import hashlib
import os
import secrets
from datetime import datetime
from pathlib import PurePosixPath
from typing import Any

from pydantic import ValidationError
from sqlmodel import Session, col, select

from kbsvc import __version__
from kbsvc.attachments import review as attachment_review
from kbsvc.attachments import service as attachment_service
from kbsvc.attachments import sniff
from kbsvc.auth import policy
from kbsvc.auth.models import SYSTEM, Principal, Role
from kbsvc.config import Settings
from kbsvc.entries import service as entries
from kbsvc.entries.duplicates import find_duplicates
from kbsvc.entries.models import Entry, EntryCreate, EntryStatus, EntryTag, EntryUpdate, Tag
from kbsvc.exceptions import ValidationFailed
from kbsvc.exchange import archive
from kbsvc.exchange.models import (
    FILES_DIR,
    EntryProvenance,
    ExchangeEntry,
    ExchangeManifest,
    ExchangeVocab,
    ImportedEntry,
    ImportReport,
    Provenance,
)
from kbsvc.timeutil import as_aware, utcnow
from kbsvc.vocab import mapping as vocab_mapping
from kbsvc.vocab.models import VocabKind, VocabTerm

# What leaves the hospital: what any staff member of no particular department may read.
_OUTSIDE = Principal(kind="system", name="exchange", role=Role.viewer)
CONTENT = (
    *("title", "symptom", "cause", "solution", "workaround"),
    *("system", "module", "department", "category"),
)
SITE_FILE = "site_id"
MAX_FILES = 20  # ExchangeEntry.files holds at most this many


def site_id(settings: Settings) -> str:
    """This site's stable exchange id (settings, else generated once into the data dir)."""
    if settings.exchange.site_id:
        return settings.exchange.site_id
    path = settings.data_dir / SITE_FILE
    if not path.is_file():
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        try:  # O_EXCL: of several processes starting at once, one writes the id
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
            with os.fdopen(fd, "w", encoding="ascii") as fh:
                fh.write(secrets.token_hex(8) + "\n")
        except FileExistsError:
            pass
    return path.read_text(encoding="ascii").strip()


def export_kb(
    session: Session,
    settings: Settings,
    *,
    system: str | None = None,
    department: str | None = None,
    category: str | None = None,
    tag: str | None = None,
    since: datetime | None = None,
) -> tuple[bytes, ExchangeManifest]:
    """Published, unrestricted entries (optionally filtered) and the vocabulary, as a zip."""
    stmt = select(Entry).where(
        Entry.status == EntryStatus.published,
        policy.visible_filter(_OUTSIDE),
        col(Entry.merged_into_id).is_(None),
        col(Entry.purged_at).is_(None),
    )
    filters = {"system": system, "department": department, "category": category}
    for field, value in filters.items():
        if value:  # 叫号 finds entries stored as 叫号系统 (the vocabulary's spelling)
            wanted = vocab_mapping.canonical(session, field, value)
            stmt = stmt.where(getattr(Entry, field) == wanted)
    if tag:
        tagged = select(EntryTag.entry_id).join(Tag, col(Tag.id) == EntryTag.tag_id)
        stmt = stmt.where(col(Entry.id).in_(tagged.where(Tag.name == tag)))
    if since:  # a naive time (a date from the CLI or API) is hospital-local
        stmt = stmt.where(col(Entry.updated_at) >= as_aware(since))
    rows = session.exec(stmt.order_by(col(Entry.id)).limit(settings.exchange.max_entries)).all()
    tags = entries.tags_of(session, [r.id or 0 for r in rows])
    files, names = _export_files(session, [r.id or 0 for r in rows])
    me, name = site_id(settings), settings.exchange.site_name
    out = [
        ExchangeEntry(
            provenance=Provenance(
                site_id=me,
                site_name=name,
                entry_id=r.id or 0,
                version=r.version,
                published_at=r.updated_at,
            ),
            tags=tags.get(r.id or 0, []),
            files=names.get(r.id or 0, []),
            **{f: getattr(r, f) for f in CONTENT},
        )
        for r in rows
    ]
    terms = session.exec(
        select(VocabTerm).order_by(col(VocabTerm.kind), col(VocabTerm.value))
    ).all()
    vocab = [
        ExchangeVocab(kind=t.kind, value=t.value, aliases=t.aliases, parent=t.parent) for t in terms
    ]
    used = {k: str(v) for k, v in {**filters, "tag": tag, "since": since}.items() if v}
    manifest = ExchangeManifest(
        site_id=me,
        site_name=name,
        exported_at=utcnow(),
        kbsvc_version=__version__,
        filter=used,
        entries=0,
        vocabulary=0,
    )
    return archive.write(manifest, out, vocab, files), manifest


def _export_files(
    session: Session, entry_ids: list[int]
) -> tuple[dict[str, bytes], dict[int, list[str]]]:
    """Live attachments as zip members (files/<sha256>/<name>) and their names per entry."""
    files: dict[str, bytes] = {}
    names: dict[int, list[str]] = {}
    for entry_id, rows in attachment_service.live_of(session, entry_ids).items():
        for a in rows[:MAX_FILES]:
            assert a.id is not None
            name = f"{FILES_DIR}{a.sha256}/{a.filename}"
            files[name] = attachment_service.blob_of(session, a.id)
            names.setdefault(entry_id, []).append(name)
    return files, names


def _import_files(
    session: Session, settings: Settings, entry_id: int, names: list[str], files: dict[str, bytes]
) -> None:
    """Attach a foreign site's files through the same checks as an upload (untrusted bytes)."""
    present = {a.sha256 for a in attachment_review.current(session, entry_id)}
    for name in names:
        data = files[name]
        if hashlib.sha256(data).hexdigest() in present:
            continue
        clean = sniff.clean_upload(data, PurePosixPath(name).name, settings.attachments)
        attachment_service.add(
            session,
            entry_id=entry_id,
            upload=clean,
            principal=SYSTEM,
            settings=settings.attachments,
        )
        present.add(hashlib.sha256(clean.data).hexdigest())


def _merge_vocab(session: Session, vocab: list[ExchangeVocab]) -> int:
    """Add unknown terms and unknown aliases of known terms; returns terms added."""
    added = 0
    for v in vocab:
        row = session.exec(
            select(VocabTerm).where(VocabTerm.kind == v.kind, VocabTerm.value == v.value)
        ).first()
        if row is None:
            session.add(
                VocabTerm(kind=VocabKind(v.kind), value=v.value, aliases=v.aliases, parent=v.parent)
            )
            added += 1
        elif missing := [a for a in v.aliases if a not in row.aliases]:
            row.aliases = [*row.aliases, *missing]
            session.add(row)
    session.flush()
    vocab_mapping.forget(session)  # entries created next map onto the merged vocabulary
    return added


def _validated(rows: list[ExchangeEntry]) -> list[EntryCreate]:
    out = []
    for n, row in enumerate(rows, start=1):
        try:
            out.append(EntryCreate(tags=row.tags, **{f: getattr(row, f) for f in CONTENT}))
        except ValidationError as exc:
            msg = exc.errors()[0].get("msg")
            raise ValidationFailed(f"entries.jsonl line {n}: {msg}", line=n) from None
    return out


def import_kb(session: Session, settings: Settings, data: bytes, *, actor: str) -> ImportReport:
    """Bring an exchange file in as drafts (flush; the caller commits, so it is all or nothing)."""
    cfg = settings.exchange
    manifest, rows, vocab, files = archive.read(
        data, max_unpacked=cfg.max_unpacked_bytes, max_entries=cfg.max_entries
    )
    if manifest.site_id == site_id(settings):
        raise ValidationFailed("this file was exported by this site; nothing to import")
    kinds = {k.value for k in VocabKind}
    if bad := sorted({v.kind for v in vocab} - kinds):
        raise ValidationFailed(f"vocabulary.jsonl: unknown kinds {bad}; known: {sorted(kinds)}")
    creates = _validated(rows)  # everything is checked before the first write
    report = ImportReport(site_name=manifest.site_name, exported_at=manifest.exported_at)
    report.vocabulary_added = _merge_vocab(session, vocab)
    for row, create in zip(rows, creates, strict=True):
        done = _import_one(session, row, create, actor, manifest.exported_at)
        if done.outcome in ("created", "updated") and done.entry_id is not None:
            _import_files(session, settings, done.entry_id, row.files, files)
        report.entries.append(done)
    for e in report.entries:
        setattr(report, e.outcome, getattr(report, e.outcome) + 1)
    report.possible_duplicates = sum(1 for e in report.entries if e.duplicates)
    session.flush()
    return report


def _import_one(
    session: Session, row: ExchangeEntry, create: EntryCreate, actor: str, exported: datetime
) -> ImportedEntry:
    src = row.provenance
    done: dict[str, Any] = {"source_entry_id": src.entry_id, "title": row.title}
    prov = session.exec(
        select(EntryProvenance).where(
            EntryProvenance.site_id == src.site_id, EntryProvenance.source_entry_id == src.entry_id
        )
    ).first()
    if prov is not None:
        entry = session.get(Entry, prov.entry_id)
        if entry is None or src.version <= prov.source_version:
            return ImportedEntry(**done, outcome="unchanged", entry_id=prov.entry_id)
        if entry.status != EntryStatus.draft:  # reviewed here already: the local copy stands
            return ImportedEntry(**done, outcome="kept", entry_id=entry.id)
        update = EntryUpdate(**create.model_dump(exclude={"restricted_departments"}))
        update.note = (
            f"从{src.site_name or src.site_id}更新（原条目 #{src.entry_id} 第 {src.version} 版）"
        )
        entries.update(
            session,
            entry_id=entry.id or 0,
            data=update,
            actor=actor,
            principal=SYSTEM,
        )
        prov.source_version, prov.imported_at = src.version, utcnow()
        session.add(prov)
        return ImportedEntry(**done, outcome="updated", entry_id=entry.id)
    # Only ids go into the note, which editors (who see drafts) read; the importer is internal.
    dups = [d.id for d in find_duplicates(session, create.model_dump(), k=3, principal=SYSTEM)]
    note = f"从{src.site_name or src.site_id}导入（原条目 #{src.entry_id} 第 {src.version} 版）"
    if dups:
        note += "；可能与本地条目重复：" + "、".join(f"#{d}" for d in dups)
    entry = entries.create(session, data=create, actor=actor, status=EntryStatus.draft, note=note)
    session.add(
        EntryProvenance(
            entry_id=entry.id or 0,
            site_id=src.site_id,
            site_name=src.site_name,
            source_entry_id=src.entry_id,
            source_version=src.version,
            exported_at=exported,
        )
    )
    return ImportedEntry(**done, outcome="created", entry_id=entry.id, duplicates=dups)
