"""Suggest (while a ticket is typed) and search over published knowledge entries."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from api.deps import SearchEngineDep, SearchLogDep, SessionDep, SettingsDep, Viewer, WidgetOrViewer
from api.errors import ERROR_RESPONSES
from api.middleware.audit import READ_FLAG
from api.uow import UnitOfWorkRoute
from kbsvc.entries.models import EntryStatus
from kbsvc.search import service
from kbsvc.search.models import SearchResponse, SuggestRequest, SuggestResponse

router = APIRouter(
    prefix="/api/v1", tags=["search"], responses=ERROR_RESPONSES, route_class=UnitOfWorkRoute
)


@router.post("/suggest", response_model=SuggestResponse, openapi_extra={READ_FLAG: True})
def suggest(
    req: SuggestRequest,
    session: SessionDep,
    engine: SearchEngineDep,
    settings: SettingsDep,
    search_log: SearchLogDep,
    caller: WidgetOrViewer,
) -> SuggestResponse:
    """Past fixes likely to solve the ticket being typed (published entries only)."""
    return service.suggest(
        session,
        engine,
        req,
        principal=caller,
        settings=settings.search,
        search_log=search_log,
    )


@router.get("/search", response_model=SearchResponse)
def search(
    session: SessionDep,
    engine: SearchEngineDep,
    settings: SettingsDep,
    search_log: SearchLogDep,
    caller: Viewer,
    q: Annotated[str, Query(max_length=100_000, description="Query (long text is truncated).")],
    k: Annotated[int, Query(ge=1, le=50)] = 10,
    offset: Annotated[int, Query(ge=0, le=1000)] = 0,
    system: str | None = None,
    department: str | None = None,
    tag: str | None = None,
    status: EntryStatus | None = None,
) -> SearchResponse:
    """Ranked entries with filters; published only unless `status` asks for another."""
    return service.search(
        session,
        engine,
        settings=settings.search,
        q=q,
        k=k,
        offset=offset,
        system=system,
        department=department,
        tag=tag,
        status=status.value if status else None,
        principal=caller,
        search_log=search_log,
    )
