"""Entry lifecycle: review workflow, versions, duplicates and merge."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Query
from sqlmodel import Session

from api.deps import Editor, Reviewer, SessionDep, SettingsDep, Viewer
from api.errors import ERROR_RESPONSES, MAX_OFFSET
from api.uow import UnitOfWorkRoute
from kbsvc.auth.models import Principal
from kbsvc.config import Settings
from kbsvc.entries import duplicates, merge, revisions, service, versions, workflow
from kbsvc.entries.models import DuplicateCandidate, EntriesPublic, EntryDetail, EntryPublic
from kbsvc.entries.schemas import (
    MergeIn,
    MergeResult,
    RejectIn,
    RestoreIn,
    TransitionIn,
    VersionDetail,
    VersionDiff,
    VersionsPublic,
)

router = APIRouter(
    prefix="/api/v1", tags=["lifecycle"], responses=ERROR_RESPONSES, route_class=UnitOfWorkRoute
)
OptionalNote = Annotated[TransitionIn | None, Body()]


def _move(
    session: Session,
    settings: Settings,
    entry_id: int,
    action: str,
    caller: Principal,
    note: str,
) -> EntryDetail:
    entry = workflow.transition(
        session,
        entry_id=entry_id,
        action=action,
        actor=caller.label,
        principal=caller,
        note=note,
        settings=settings.lifecycle,
    )
    return service.to_detail(session, entry)


@router.post("/entries/{entry_id}/submit", response_model=EntryDetail)
def submit(
    entry_id: int,
    session: SessionDep,
    settings: SettingsDep,
    caller: Editor,
    body: OptionalNote = None,
) -> EntryDetail:
    """Draft → in_review (editor)."""
    return _move(session, settings, entry_id, "submit", caller, body.note if body else "")


@router.post("/entries/{entry_id}/publish", response_model=EntryDetail)
def publish(
    entry_id: int,
    session: SessionDep,
    settings: SettingsDep,
    caller: Reviewer,
    body: OptionalNote = None,
) -> EntryDetail:
    """In_review → published (reviewer); sets the review-due date."""
    return _move(session, settings, entry_id, "publish", caller, body.note if body else "")


@router.post("/entries/{entry_id}/reject", response_model=EntryDetail)
def reject(
    entry_id: int, body: RejectIn, session: SessionDep, settings: SettingsDep, caller: Reviewer
) -> EntryDetail:
    """In_review → draft with a required comment (reviewer)."""
    return _move(session, settings, entry_id, "reject", caller, body.comment)


@router.post("/entries/{entry_id}/archive", response_model=EntryDetail)
def archive(
    entry_id: int,
    session: SessionDep,
    settings: SettingsDep,
    caller: Reviewer,
    body: OptionalNote = None,
) -> EntryDetail:
    """Published → archived (reviewer)."""
    return _move(session, settings, entry_id, "archive", caller, body.note if body else "")


@router.post("/entries/{entry_id}/restore-draft", response_model=EntryDetail)
def restore_draft(
    entry_id: int,
    session: SessionDep,
    settings: SettingsDep,
    caller: Editor,
    body: OptionalNote = None,
) -> EntryDetail:
    """Archived → draft, to revise it (editor)."""
    return _move(session, settings, entry_id, "restore_draft", caller, body.note if body else "")


@router.post("/entries/{entry_id}/reviewed", response_model=EntryDetail)
def mark_reviewed(
    entry_id: int, session: SessionDep, settings: SettingsDep, caller: Reviewer
) -> EntryDetail:
    """A published entry still holds: set its next review date (reviewer)."""
    entry = workflow.mark_reviewed(
        session,
        entry_id=entry_id,
        actor=caller.label,
        principal=caller,
        settings=settings.lifecycle,
    )
    return service.to_detail(session, entry)


@router.get("/review-queue", response_model=EntriesPublic)
def review_queue(
    session: SessionDep,
    caller: Viewer,
    system: str | None = None,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> EntriesPublic:
    """Entries waiting for review (for editors and up), longest-waiting first."""
    return workflow.review_queue(
        session, system=system, offset=offset, limit=limit, principal=caller
    )


@router.get("/entries/{entry_id}/versions", response_model=VersionsPublic)
def list_versions(entry_id: int, session: SessionDep, caller: Viewer) -> VersionsPublic:
    """Every version of an entry, newest first."""
    service.get(session, entry_id=entry_id, principal=caller)
    return versions.list_versions(session, entry_id=entry_id)


@router.get("/entries/{entry_id}/versions/{version}", response_model=VersionDetail)
def get_version(entry_id: int, version: int, session: SessionDep, _caller: Viewer) -> VersionDetail:
    """One version with its full snapshot."""
    return versions.get_version(session, entry_id=entry_id, version=version)


@router.get("/entries/{entry_id}/diff", response_model=VersionDiff)
def diff(
    entry_id: int,
    session: SessionDep,
    _caller: Viewer,
    from_: Annotated[int, Query(alias="from", ge=1)],
    to: Annotated[int, Query(ge=1)],
) -> VersionDiff:
    """Field-by-field differences between two versions."""
    return versions.diff(session, entry_id=entry_id, from_version=from_, to_version=to)


@router.post("/entries/{entry_id}/versions/{version}/restore", response_model=EntryPublic)
def restore_version(
    entry_id: int,
    version: int,
    session: SessionDep,
    caller: Editor,
    body: Annotated[RestoreIn | None, Body()] = None,
) -> EntryPublic:
    """Bring back an earlier version's content: a new version for drafts; for a published entry
    a revision under review (`pending_revision`), the live version unchanged until published."""
    body = body or RestoreIn()
    entry, rev = revisions.restore(
        session,
        entry_id=entry_id,
        version=version,
        actor=caller.label,
        base_version=body.base_version,
        note=body.note,
        principal=caller,
    )
    return service.to_public(session, entry, pending=revisions.ref(rev) if rev else None)


@router.get("/entries/{entry_id}/duplicates", response_model=list[DuplicateCandidate])
def entry_duplicates(
    entry_id: int,
    session: SessionDep,
    settings: SettingsDep,
    caller: Viewer,
    k: Annotated[int, Query(ge=1, le=50)] = 5,
) -> list[DuplicateCandidate]:
    """Published or in-review entries that likely describe the same fault."""
    return duplicates.duplicates_of_entry(
        session, entry_id=entry_id, principal=caller, k=k, settings=settings.lifecycle
    )


@router.post("/entries/{entry_id}/merge", response_model=MergeResult)
def merge_entries(
    entry_id: int, body: MergeIn, session: SessionDep, caller: Reviewer
) -> MergeResult:
    """Merge `from_id` into this entry; the other is archived and redirects here."""
    survivor, loser, moved = merge.merge(
        session,
        survivor_id=entry_id,
        loser_id=body.from_id,
        actor=caller.label,
        principal=caller,
        append_solution=body.append_solution,
    )
    return MergeResult(
        survivor=service.to_public(session, survivor),
        merged=service.to_public(session, loser),
        moved=moved,
    )
