"""The insight page: demand heatmap, link-rate trend, gaps and KB health (Viewer)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from markupsafe import Markup

from api.deps import SessionDep, SettingsDep
from api.uow import UnitOfWorkRoute
from api.web.render import WebCaller, guard, page
from kbsvc.analytics import page as insight
from kbsvc.analytics.sqlfn import Period
from kbsvc.auth.models import Role
from kbsvc.exceptions import ValidationFailed

router = APIRouter(include_in_schema=False, route_class=UnitOfWorkRoute)

DateQ = Annotated[str, Query(max_length=10)]


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
    if (denied := guard(request, Role.reviewer)) is not None:
        return denied
    try:
        period = Period.parse(from_ or None, to or None)
    except ValidationFailed as exc:
        return page(request, "error.html", status_code=422, title="日期无效", message=exc.message)
    ctx = insight.context(session, period, settings.analytics, principal=caller)
    return page(
        request,
        "reports.html",
        title="洞察报表",
        nav="reports",
        period=period,
        insight=Markup(insight.render_body(ctx)),
    )  # noqa: S704 - our own escaped render


@router.get("/reports/insight.css")
def reports_css() -> Response:
    """The report stylesheet (one file shared with the PDF)."""
    return Response(
        insight.css(), media_type="text/css", headers={"Cache-Control": "public, max-age=3600"}
    )
