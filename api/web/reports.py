"""The insight page: demand heatmap, link-rate trend, gaps and KB health (Viewer)."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from markupsafe import Markup

from api.deps import SessionDep, SettingsDep
from api.routers.analytics import DrillQ
from api.uow import UnitOfWorkRoute
from api.web.render import WebCaller, guard, page
from kbsvc.analytics import drill, entry_drill
from kbsvc.analytics import page as insight
from kbsvc.analytics.schemas import DrillFilters
from kbsvc.analytics.sqlfn import Period
from kbsvc.auth.models import Role
from kbsvc.exceptions import ValidationFailed
from kbsvc.timeutil import LOCAL_TZ

router = APIRouter(include_in_schema=False, route_class=UnitOfWorkRoute)

DateQ = Annotated[str, Query(max_length=10)]
PAGE_SIZE = 50


@router.get("/reports")
def reports_page(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    caller: WebCaller,
    from_: Annotated[str, Query(alias="from", max_length=10)] = "",
    to: DateQ = "",
) -> Response:
    """Reports for a period (all time by default); charts are inline SVG."""
    period = _reviewer_period(request, from_, to)
    if isinstance(period, Response):
        return period
    ctx = insight.context(session, period, settings.analytics, principal=caller)
    return page(
        request,
        "reports.html",
        title="洞察报表",
        nav="reports",
        period=period,
        insight=Markup(insight.render_body(ctx)),
    )  # noqa: S704 - our own escaped render


def _reviewer_period(request: Request, from_: str, to: str) -> Period | Response:
    """The requested period, or the page to answer instead (not a reviewer, bad dates)."""
    if (denied := guard(request, Role.reviewer)) is not None:
        return denied
    try:
        return Period.parse(from_ or None, to or None)
    except ValidationFailed as exc:
        return _bad_dates(request, exc)


def _bad_dates(request: Request, exc: ValidationFailed) -> Response:
    return page(
        request,
        "error.html",
        status_code=422,
        title="日期无效",
        message=exc.message,
        back_href="/reports",
        back_label="返回洞察报表",
    )


@router.get("/reports/tickets")
def report_tickets_page(
    request: Request,
    session: SessionDep,
    caller: WebCaller,
    filters: DrillQ,
    from_: Annotated[str, Query(alias="from", max_length=10)] = "",
    to: DateQ = "",
    page_no: Annotated[int, Query(alias="page", ge=1, le=1000)] = 1,
) -> Response:
    """The tickets behind a report cell, bar or row, with links to their entries."""
    period = _reviewer_period(request, from_, to)
    if isinstance(period, Response):
        return period
    result = drill.tickets(
        session,
        period,
        filters,
        principal=caller,
        offset=(page_no - 1) * PAGE_SIZE,
        limit=PAGE_SIZE,
    )
    base = dict(request.query_params.multi_items())
    params = [(k, v) for k, v in request.query_params.multi_items() if k != "page"]
    return page(
        request,
        "reports_tickets.html",
        title="报表明细：工单",
        nav="reports",
        period=period,
        result=result,
        local_tz=LOCAL_TZ,
        described=describe(filters),
        page_no=page_no,
        pages=max(1, -(-result.total // PAGE_SIZE)),
        page_href=lambda n: "/reports/tickets?" + urlencode([*params, ("page", str(n))]),
        back_href="/reports?" + urlencode([(k, base[k]) for k in ("from", "to") if base.get(k)]),
        export_href="/api/v1/reports/tickets?"
        + urlencode([*params, ("format", "xlsx"), ("limit", "500")]),
    )


@router.get("/reports/entries")
def report_entries_page(
    request: Request,
    session: SessionDep,
    caller: WebCaller,
    set_: Annotated[str, Query(alias="set", max_length=20)] = "",
) -> Response:
    """The entries behind a health figure, linked to their pages."""
    if (denied := guard(request, Role.reviewer)) is not None:
        return denied
    result = entry_drill.entries(session, set_, principal=caller)
    return page(
        request,
        "reports_entries.html",
        title=f"报表明细：{result.label}",
        nav="reports",
        result=result,
        local_tz=LOCAL_TZ,
    )


def describe(f: DrillFilters) -> list[tuple[str, str]]:
    """The filters in words, for the page heading."""
    out: list[tuple[str, str]] = []
    for label, values in (("科室", f.department), ("系统", f.system), ("类别", f.category)):
        if values:
            shown = "、".join(values[:5]) + (f" 等 {len(values)} 个" if len(values) > 5 else "")
            out.append((label, shown))
    if f.month:
        out.append(("月份", f"{f.month}（按{'解决' if f.by == 'resolved' else '报修'}时间）"))
    if f.entry is not None:
        out.append(("关联知识", f"#{f.entry}"))
    if f.ticket:
        out.append(("工单", f"建议沉淀主题中的 {len(f.ticket)} 张"))
    if f.effort:
        out.append(("范围", "计入工时/用时的工单"))
    return out


@router.get("/reports/insight.css")
def reports_css() -> Response:
    """The report stylesheet (one file shared with the PDF)."""
    return Response(
        insight.css(), media_type="text/css", headers={"Cache-Control": "public, max-age=3600"}
    )
