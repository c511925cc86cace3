"""Tags, controlled vocabularies, system upgrades and a PII masking preview."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Query, Response
from sqlmodel import Field, SQLModel

from api.deps import Admin, Editor, Reviewer, SessionDep, SettingsDep, Viewer
from api.errors import ERROR_RESPONSES
from api.middleware.audit import READ_FLAG
from api.uow import UnitOfWorkRoute
from kbsvc.entries import tags, workflow
from kbsvc.privacy.pii import ScrubResult, scrub_text
from kbsvc.vocab import mapping
from kbsvc.vocab import service as vocab
from kbsvc.vocab.models import (
    Normalized,
    VocabKind,
    VocabTermIn,
    VocabTermPublic,
    VocabTermsPublic,
    VocabTermUpdate,
)

router = APIRouter(
    prefix="/api/v1",
    tags=["tags and vocabularies"],
    responses=ERROR_RESPONSES,
    route_class=UnitOfWorkRoute,
)


@router.get("/tags", response_model=tags.TagsPublic)
def list_tags(
    session: SessionDep, caller: Viewer, q: Annotated[str | None, Query(max_length=64)] = None
) -> tags.TagsPublic:
    """Tags of the entries the caller may see, with usage counts, most used first."""
    return tags.list_tags(session, principal=caller, q=q)


@router.patch("/tags/{name}", response_model=tags.TagPublic)
def rename_tag(
    name: str, body: tags.TagRename, session: SessionDep, _caller: Reviewer
) -> tags.TagPublic:
    """Rename a tag on every entry."""
    return tags.rename(session, name=name, new_name=body.name)


@router.post("/tags/merge", response_model=tags.TagPublic)
def merge_tags(body: tags.TagMerge, session: SessionDep, _caller: Reviewer) -> tags.TagPublic:
    """Fold several tags into one."""
    return tags.merge(session, sources=body.sources, target=body.target)


@router.get("/vocabularies", response_model=VocabTermsPublic)
def list_terms(
    session: SessionDep, _caller: Viewer, kind: VocabKind | None = None
) -> VocabTermsPublic:
    """Known systems, modules, departments and categories."""
    return vocab.list_terms(session, kind=kind)


@router.get("/vocabularies/normalize", response_model=Normalized)
def normalize(
    session: SessionDep,
    settings: SettingsDep,
    _caller: Viewer,
    kind: VocabKind,
    value: Annotated[str, Query(max_length=200)],
) -> Normalized:
    """Map a raw value to a known one (exact, alias, closest) or report it flagged."""
    return vocab.normalize_value(session, kind, value, settings.lifecycle.vocab_match_cutoff)


class MapIn(SQLModel):
    kind: VocabKind
    value: str = Field(min_length=1, max_length=100)
    target: str = Field(min_length=1, max_length=100)
    add_alias: bool = True


class MapResult(SQLModel):
    entries: int
    tickets: int


@router.get("/vocabularies/unmapped", response_model=list[mapping.UnmappedValue])
def unmapped_values(session: SessionDep, _caller: Admin) -> list[mapping.UnmappedValue]:
    """Values in entries and tickets the vocabulary does not know, most used first."""
    return mapping.unmapped(session)


@router.post("/vocabularies/map", response_model=MapResult)
def map_value(body: MapIn, session: SessionDep, _caller: Admin) -> MapResult:
    """Map a stored value onto a canonical one (added if new): an alias, rows fixed now."""
    fixed = mapping.apply_mapping(
        session, kind=body.kind, value=body.value, target=body.target, add_alias=body.add_alias
    )
    return MapResult(**fixed)


@router.post("/vocabularies", response_model=VocabTermPublic, status_code=201)
def create_term(body: VocabTermIn, session: SessionDep, _caller: Reviewer) -> VocabTermPublic:
    """Add a known value."""
    return VocabTermPublic.model_validate(vocab.create(session, data=body))


@router.patch("/vocabularies/{term_id}", response_model=VocabTermPublic)
def update_term(
    term_id: int, body: VocabTermUpdate, session: SessionDep, _caller: Reviewer
) -> VocabTermPublic:
    """Change a value, its aliases or parent."""
    return VocabTermPublic.model_validate(vocab.update(session, term_id=term_id, data=body))


@router.delete("/vocabularies/{term_id}", status_code=204)
def delete_term(term_id: int, session: SessionDep, _caller: Reviewer) -> Response:
    """Remove a value from the vocabulary."""
    vocab.delete(session, term_id=term_id)
    return Response(status_code=204)


class UpgradeIn(SQLModel):
    note: str = Field(default="", max_length=500)


class UpgradeResult(SQLModel):
    system: str
    flagged: int
    entry_ids: list[int]


@router.post("/systems/{name}/upgraded", response_model=UpgradeResult)
def system_upgraded(
    name: str,
    session: SessionDep,
    caller: Reviewer,
    body: Annotated[UpgradeIn | None, Body()] = None,
) -> UpgradeResult:
    """A vendor upgraded `name`: flag each of its published entries for review, due now."""
    ids = workflow.system_upgraded(
        session, system=name, actor=caller.label, note=body.note if body else ""
    )
    return UpgradeResult(system=name, flagged=len(ids), entry_ids=ids)


class ScrubIn(SQLModel):
    text: str = Field(max_length=20_000)


@router.post("/privacy/scrub", response_model=ScrubResult, openapi_extra={READ_FLAG: True})
def scrub(body: ScrubIn, settings: SettingsDep, _caller: Editor) -> ScrubResult:
    """Preview what patient-identifier masking does to a text."""
    return scrub_text(body.text, settings.privacy)
