"""The document a handbook rendering starts from: a live selection or a frozen edition."""

from __future__ import annotations

from sqlmodel import Session

from kbsvc.attachments import service as attachments
from kbsvc.auth import policy
from kbsvc.auth.models import Principal
from kbsvc.config import Settings
from kbsvc.handbooks import document, editions, service
from kbsvc.handbooks.models import EditionChanges, Grouping, Handbook, HandbookCreate, Shaping
from kbsvc.handbooks.selection import EntrySearch
from kbsvc.timeutil import utcnow


def build_document(
    session: Session,
    *,
    handbook_id: int,
    settings: Settings,
    edition: int | None = None,
    search: EntrySearch,
    principal: Principal,
) -> document.HandbookDoc:
    """The document for a saved handbook: live selection, or a frozen edition's snapshot;
    entries hidden from `principal` are left out of either (auth.policy)."""
    handbook = service.get(session, handbook_id=handbook_id)
    if edition is None:
        return _live(session, handbook, service.shaping_of(handbook), settings, search, principal)
    frozen = editions.get_edition(session, handbook_id=handbook_id, number=edition)
    spec = frozen.definition
    hidden = policy.hidden_ids(session, principal, [int(e["id"]) for e in frozen.snapshot])
    return _with_images(
        session,
        principal,
        document.build(
            [e for e in frozen.snapshot if int(e["id"]) not in hidden],
            title=spec["title"],
            subtitle=spec.get("subtitle", ""),
            intro=spec.get("intro", ""),
            grouping=Grouping(spec.get("grouping", "system_module")),
            base_url=settings.public_base_url,
            generated_at=frozen.published_at,
            edition=frozen.number,
            changes=EditionChanges(**frozen.changes),
            order=list(spec.get("order", [])),
            chapter_notes=dict(spec.get("chapter_notes", {})),
            author=service.site_name(settings),
        ),
    )


def build_adhoc(
    session: Session,
    *,
    data: HandbookCreate,
    settings: Settings,
    search: EntrySearch,
    principal: Principal,
) -> document.HandbookDoc:
    """A document for an unsaved definition (CLI one-off exports)."""
    handbook = Handbook(
        **data.model_dump(exclude={"selection", "shaping"}),
        selection=data.selection.model_dump(mode="json"),
        shaping=data.shaping.model_dump(mode="json"),
    )
    return _live(session, handbook, data.shaping, settings, search, principal)


def _live(
    session: Session,
    handbook: Handbook,
    shaping: Shaping,
    settings: Settings,
    search: EntrySearch,
    principal: Principal,
) -> document.HandbookDoc:
    """The document for a definition's live selection, shaped by hand."""
    return _with_images(
        session,
        principal,
        document.build(
            service.current_entries(
                session, handbook, settings, search=search, principal=principal
            ),
            title=handbook.title,
            subtitle=handbook.subtitle,
            intro=handbook.intro,
            grouping=handbook.grouping,
            base_url=settings.public_base_url,
            generated_at=utcnow(),
            order=shaping.order,
            chapter_notes=shaping.chapter_notes,
            author=service.site_name(settings),
        ),
    )


def _with_images(
    session: Session, principal: Principal, doc: document.HandbookDoc
) -> document.HandbookDoc:
    """Attach each entry's images (its current live ones, also in a frozen edition)."""
    images = attachments.images_for_export(session, [int(e.id) for e in doc.entries], principal)
    for entry in doc.entries:
        entry.images = images.get(int(entry.id), [])
    return doc
