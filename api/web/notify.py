"""Admin page: notification channels and the latest deliveries (changes go through the API)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from api.deps import SessionDep
from api.uow import UnitOfWorkRoute
from api.web.render import WebCaller, guard, page
from kbsvc.auth.models import Role
from kbsvc.notify import service

router = APIRouter(include_in_schema=False, route_class=UnitOfWorkRoute)

KIND_LABELS = {
    "wecom": "企业微信群机器人",
    "dingtalk": "钉钉机器人",
    "feishu": "飞书机器人",
    "webhook": "通用 Webhook",
    "email": "邮件",
}
EVENT_LABELS = {
    "entry.submitted": "提交审核",
    "entry.rejected": "退回修改",
    "flag.opened": "标记待核查",
    "review.due": "到期复审",
    "digest.weekly": "每周摘要",
}
STATUS_LABELS = {"pending": "待发送", "sent": "已发送", "dead": "已放弃"}


@router.get("/admin/notify")
def notify_page(request: Request, session: SessionDep, _caller: WebCaller) -> Response:
    """Channels and the outbox, newest deliveries first."""
    if (denied := guard(request, Role.admin)) is not None:
        return denied
    return page(
        request,
        "notify.html",
        title="消息通知",
        nav="notify",
        channels=service.list_channels(session),
        deliveries=service.list_deliveries(session, limit=100),
        kinds=KIND_LABELS,
        events=EVENT_LABELS,
        statuses=STATUS_LABELS,
    )
