"""The insight page and the monthly PDF: every report plus its SVG charts in one HTML document."""

from __future__ import annotations

import calendar
import re
from datetime import date
from functools import lru_cache
from importlib import resources
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape
from sqlmodel import Session

from kbsvc.analytics import charts, gaps, reports
from kbsvc.analytics.sqlfn import Period
from kbsvc.auth.models import Principal
from kbsvc.config import AnalyticsSettings
from kbsvc.exceptions import ValidationFailed

STATUS_NAMES = {"draft": "草稿", "in_review": "待审核", "published": "已发布", "archived": "已归档"}


@lru_cache(maxsize=1)
def _env() -> Environment:
    env = Environment(
        loader=PackageLoader("kbsvc.analytics", "templates"), autoescape=select_autoescape(["html"])
    )
    env.filters["pct"] = lambda v: "—" if v is None else f"{v * 100:.1f}%"
    return env


def context(
    session: Session,
    period: Period,
    cfg: AnalyticsSettings | None = None,
    *,
    principal: Principal,
) -> dict[str, Any]:
    """All four reports and their charts, entries listed as `principal` may see them."""
    d = reports.demand(session, period)
    r = reports.reuse(session, period, principal=principal)
    g = gaps.gaps(session, period, cfg)
    h = reports.health(session, period, principal=principal)
    months = [x.month for x in r.by_month]
    return {
        "period": period,
        "demand": d,
        "reuse": r,
        "gaps": g,
        "health": h,
        "status_names": STATUS_NAMES,
        "charts": {
            "heatmap": charts.heatmap(
                d.matrix.departments, d.matrix.systems, d.matrix.counts, heading=False
            ),
            "link_rate": charts.bars_and_line(
                months,
                [x.resolved for x in r.by_month],
                [x.link_rate for x in r.by_month],
                title="知识关联率趋势（已解决工单）",
                bar_name="已解决工单",
                heading=False,
            ),
            "demand": charts.bars_and_line(
                [x.month for x in d.by_month],
                [x.count for x in d.by_month],
                title="月度工单量",
                heading=False,
            ),
            "effort": charts.hbars(
                [(x.system, x.total_hours) for x in d.effort],
                title="各系统处理总耗时",
                unit=" h",
                heading=False,
            ),
            "category": charts.hbars(
                [(x.name, x.count) for x in d.by_category],
                title="问题类别",
                color=charts.BLUE,
                heading=False,
            ),
            "status": charts.hbars(
                [(STATUS_NAMES.get(k, k), v) for k, v in h.by_status.items()],
                title="知识条目状态",
                color=charts.TEAL,
                heading=False,
            ),
        },
    }


def css() -> str:
    """The report stylesheet (linked by the web page, inlined into the PDF)."""
    return (resources.files("kbsvc.analytics") / "templates" / "insight.css").read_text("utf-8")


def render_body(ctx: dict[str, Any], *, base_path: str = "") -> str:
    """The report body as an HTML fragment, for the web UI's page layout."""
    return _env().get_template("_insight.html").render(**ctx, printable=False, base_path=base_path)


def render(ctx: dict[str, Any], *, printable: bool = True) -> str:
    """A standalone HTML document (the PDF source): no form, no links, inlined CSS."""
    return (
        _env()
        .get_template("reports.html")
        .render(**ctx, printable=printable, css=css(), base_path="")
    )


def month_period(month: str) -> Period:
    """Period of a 'YYYY-MM' month."""
    if not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", month or ""):
        raise ValidationFailed("month must look like 2025-06", field="month")
    y, m = int(month[:4]), int(month[5:])
    return Period(date(y, m, 1), date(y, m, calendar.monthrange(y, m)[1]))


def monthly_pdf(
    session: Session, month: str, cfg: AnalyticsSettings | None = None, *, principal: Principal
) -> bytes:
    """The month's summary as PDF, as `principal` may see it."""
    ctx = context(session, month_period(month), cfg, principal=principal)
    ctx["title_suffix"] = f"{month} 月度小结"
    return html_to_pdf(render(ctx, printable=True))


def html_to_pdf(html: str) -> bytes:
    """HTML → PDF through the handbook machinery: CJK font check and a no-network fetcher."""
    import logging

    from kbsvc.handbooks.render import pdf as handbook_pdf

    # FontMissing (503, "install fonts-noto-cjk") beats a PDF of empty boxes.
    handbook_pdf.cjk_fonts(["Noto Sans CJK SC"])
    from weasyprint import HTML

    logging.getLogger("weasyprint").setLevel(logging.ERROR)
    return bytes(HTML(string=html, url_fetcher=handbook_pdf.safe_fetcher()).write_pdf())
