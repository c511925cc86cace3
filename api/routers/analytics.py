"""Insight reports (JSON, CSV, XLSX, monthly PDF), the /reports page and search-log clicks."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query
from fastapi.responses import Response
from pydantic import BaseModel

from api.deps import Reviewer, SessionDep, SettingsDep, WidgetOrViewer
from api.errors import ERROR_RESPONSES, MAX_OFFSET
from api.uow import UnitOfWorkRoute
from kbsvc.analytics import drill, entry_drill, export, gaps, page, reports, schemas, searchlog
from kbsvc.analytics.models import ClickIn, ClickRecorded
from kbsvc.analytics.sqlfn import Period
from kbsvc.exceptions import ValidationFailed

router = APIRouter(tags=["analytics"], responses=ERROR_RESPONSES, route_class=UnitOfWorkRoute)

FromQ = Annotated[str | None, Query(alias="from", description="First day, YYYY-MM-DD (local)")]
ToQ = Annotated[str | None, Query(alias="to", description="Last day, YYYY-MM-DD (inclusive)")]
FormatQ = Annotated[Literal["json", "csv", "xlsx"], Query(alias="format")]
TableQ = Annotated[str | None, Query(max_length=40, description="CSV: which table (default first)")]

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DOWNLOADS: dict[int | str, dict[str, Any]] = {
    200: {
        "content": {"text/csv": {}, XLSX: {}},
        "description": "The report as JSON, or a CSV / XLSX download",
    },
}


def _respond(name: str, period: Period, report: BaseModel, fmt: str, table: str | None) -> Any:
    if fmt == "json":
        return report
    tables = export.tables_for(report)
    stem = f"kbsvc-{name}-{period.start or 'all'}-{period.end or 'now'}"
    if fmt == "csv":
        t = export.pick(tables, table)
        disposition = f'attachment; filename="{stem}-{t.name}.csv"'
        return Response(
            export.to_csv(t),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": disposition},
        )
    return Response(
        export.to_xlsx(tables),
        media_type=XLSX,
        headers={"Content-Disposition": f'attachment; filename="{stem}.xlsx"'},
    )


# Reports name drafts, flagged and overdue entries across departments: a KB-owner view, so
# reviewers and admins only (engineers with viewer keys use search instead).
def _report(name: str, build: Callable[..., BaseModel], model: type[BaseModel]) -> None:
    def endpoint(
        session: SessionDep,
        settings: SettingsDep,
        caller: Reviewer,
        from_: FromQ = None,
        to: ToQ = None,
        fmt: FormatQ = "json",
        table: TableQ = None,
    ) -> Any:
        period = Period.parse(from_, to)
        kwargs: dict[str, Any] = {"cfg": settings.analytics} if build is gaps.gaps else {}
        if build in (reports.reuse, reports.health):
            kwargs["principal"] = caller  # entry titles listed as the caller may see them
        return _respond(name, period, build(session, period, **kwargs), fmt, table)

    endpoint.__doc__ = f"The {name} report for a period (JSON, or format=csv|xlsx)."
    router.add_api_route(
        f"/api/v1/reports/{name}",
        endpoint,
        methods=["GET"],
        response_model=model,
        name=f"report_{name}",
        responses=DOWNLOADS,
    )


_report("demand", reports.demand, schemas.DemandReport)
_report("reuse", reports.reuse, schemas.ReuseReport)
_report("gaps", gaps.gaps, schemas.GapsReport)
_report("health", reports.health, schemas.HealthReport)


def drill_filters(
    department: Annotated[list[str], Query(description="科室 (report label), repeatable")] = [],  # noqa: B006
    system: Annotated[list[str], Query(description="系统 (report label), repeatable")] = [],  # noqa: B006
    category: Annotated[list[str], Query(description="类别 (report label), repeatable")] = [],  # noqa: B006
    month: Annotated[str | None, Query(pattern=r"^\d{4}-\d{2}$", examples=["2025-06"])] = None,
    by: Literal["raised", "resolved"] = "raised",
    entry: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
    ticket: Annotated[list[int], Query(description="ticket row ids (a 建议沉淀 topic)")] = [],  # noqa: B006
    effort: bool = False,
) -> schemas.DrillFilters:
    """The drill-down filters of a report cell, bar or row (shared with the web page)."""
    for name, values in (("department", department), ("system", system), ("category", category)):
        if len(values) > 200 or any(len(v) > 100 for v in values):
            raise ValidationFailed(f"{name}：最多 200 个名称，每个不超过 100 字", field=name)
    if len(ticket) > 200 or any(not 1 <= t < 2**31 for t in ticket):
        raise ValidationFailed("ticket：最多 200 个工单 id", field="ticket")
    return schemas.DrillFilters(
        department=department,
        system=system,
        category=category,
        month=month,
        by=by,
        entry=entry,
        ticket=ticket,
        effort=effort,
    )


DrillQ = Annotated[schemas.DrillFilters, Depends(drill_filters)]


@router.get(
    "/api/v1/reports/tickets",
    response_model=schemas.DrillDown,
    responses=DOWNLOADS,
    name="report_tickets",
)
def report_tickets(
    session: SessionDep,
    caller: Reviewer,
    filters: DrillQ,
    from_: FromQ = None,
    to: ToQ = None,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    fmt: FormatQ = "json",
) -> Any:
    """The tickets behind a report cell, bar or row, with the entries the caller may see."""
    period = Period.parse(from_, to)
    result = drill.tickets(session, period, filters, principal=caller, offset=offset, limit=limit)
    return _respond("tickets", period, result, fmt, None)


@router.get("/api/v1/reports/entries", response_model=schemas.EntryDrill)
def report_entries(
    session: SessionDep,
    caller: Reviewer,
    set_: Annotated[str, Query(alias="set", max_length=20, examples=["overdue"])],
) -> schemas.EntryDrill:
    """The entries behind a health figure (a state, overdue, flagged, never reused)."""
    return entry_drill.entries(session, set_, principal=caller)


@router.get(
    "/api/v1/reports/monthly.pdf",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}, "description": "PDF summary"}},
)
def monthly_pdf(
    session: SessionDep,
    settings: SettingsDep,
    caller: Reviewer,
    month: Annotated[str, Query(pattern=r"^\d{4}-\d{2}$", examples=["2025-06"])],
) -> Response:
    """One month's insight summary as a printable PDF."""
    pdf = page.monthly_pdf(session, month, settings.analytics, principal=caller)
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="kbsvc-monthly-{month}.pdf"'},
    )


@router.post("/api/v1/search-log/{log_id}/clicks", response_model=ClickRecorded, status_code=201)
def record_click(
    session: SessionDep,
    _caller: WidgetOrViewer,
    body: ClickIn,
    log_id: Annotated[str, Path(pattern=r"^[0-9a-z]{8,32}$")],
) -> ClickRecorded:
    """Report that a user opened, cited or rated a result of a logged search."""
    click = searchlog.record_click(
        session, log_id=log_id, entry_id=body.entry_id, action=body.action
    )
    return ClickRecorded(log_id=click.log_id, entry_id=click.entry_id, action=click.action)
