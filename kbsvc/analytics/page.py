"""The insight page and the monthly PDF: every report plus its SVG charts in one HTML document."""

from __future__ import annotations

import calendar
import re
from datetime import date
from functools import lru_cache
from importlib import resources
from typing import Any
from urllib.parse import urlencode

from jinja2 import Environment, PackageLoader, select_autoescape
from sqlmodel import Session

from kbsvc.analytics import charts, gaps, heatmap, reports
from kbsvc.analytics.sqlfn import FIRST_DAY, Period
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


def drill_href(period: Period, base_path: str = "", **filters: Any) -> str:
    """The drill-down page listing the tickets a cell, bar or row counted."""
    params: list[tuple[str, str]] = [(k, v) for k, v in period.as_dict().items() if v is not None]
    for key, value in filters.items():
        values = value if isinstance(value, list | tuple) else [value]
        params += [(key, str(v)) for v in values if v is not None and v != ""]
    return f"{base_path}/reports/tickets?{urlencode(params)}"


def trend_period(period: Period, months: int = 12) -> Period:
    """Trends need several months: a closed period under six months shows the `months`
    ending with it (a single bar says nothing); longer or open periods show themselves."""
    if period.start is None or period.end is None:
        return period
    span = (period.end.year - period.start.year) * 12 + period.end.month - period.start.month + 1
    if span >= 6:
        return period
    y, m = period.end.year, period.end.month - (months - 1)
    while m < 1:
        y, m = y - 1, m + 12
    return Period(max(date(y, m, 1), FIRST_DAY), period.end)


def context(
    session: Session,
    period: Period,
    cfg: AnalyticsSettings | None = None,
    *,
    principal: Principal,
    links: bool = True,
    base_path: str = "",
) -> dict[str, Any]:
    """All four reports and their charts, entries listed as `principal` may see them; with
    `links`, every cell, bar and row leads to its tickets (drill_href)."""
    trend = trend_period(period)
    d = reports.demand(session, period, trend)
    r = reports.reuse(session, period, principal=principal)
    link_trend = reports.link_months(session, trend) if trend != period else r.by_month
    g = gaps.gaps(session, period, cfg)
    h = reports.health(session, period, principal=principal)

    def drill(p: Period = period, **filters: Any) -> str:
        return drill_href(p, base_path, **filters)

    def each(items: list[Any], **make: Any) -> list[str] | None:
        if not links:
            return None
        return [drill(**{k: fn(x) for k, fn in make.items()}) for x in items]

    span = f"{trend.start or '最早'} 至 {trend.end or '最新'}"
    effort_title = (
        "各系统处理工时" if d.effort_basis == "handling" else "各系统解决用时（自然时间）"
    )
    return {
        "period": period,
        "trend": trend,
        "trend_extended": trend != period,
        "demand": d,
        "reuse": r,
        "gaps": g,
        "health": h,
        "status_names": STATUS_NAMES,
        "drill": drill if links else None,
        "charts": {
            "heatmap": heatmap.heatmap(
                d.matrix.departments,
                d.matrix.systems,
                d.matrix.counts,
                heading=False,
                link=(lambda ds, ys: drill(department=ds, system=ys)) if links else None,
            ),
            "link_rate": charts.bars_and_line(
                [x.month for x in link_trend],
                [x.resolved for x in link_trend],
                [x.link_rate for x in link_trend],
                title=f"知识关联率趋势（已解决工单，{span}）",
                bar_name="已解决工单",
                heading=False,
                links=[drill(trend, month=x.month, by="resolved") for x in link_trend]
                if links
                else None,
            ),
            "demand": charts.bars_and_line(
                [x.month for x in d.by_month],
                [x.count for x in d.by_month],
                title=f"月度工单量（{span}）",
                heading=False,
                links=[drill(trend, month=x.month) for x in d.by_month] if links else None,
            ),
            "effort": charts.hbars(
                [(x.system, x.total_hours) for x in d.effort],
                title=effort_title,
                unit=" h",
                heading=False,
                links=each(d.effort, system=lambda x: x.system, effort=lambda _x: 1),
            ),
            "category": charts.hbars(
                [(x.name, x.count) for x in d.by_category],
                title="问题类别",
                color=charts.BLUE,
                heading=False,
                links=each(d.by_category, category=lambda x: x.name),
            ),
            "status": charts.hbars(
                [(STATUS_NAMES.get(k, k), v) for k, v in h.by_status.items()],
                title="知识条目状态",
                color=charts.TEAL,
                heading=False,
                links=[f"{base_path}/reports/entries?set={k}" for k in h.by_status]
                if links
                else None,
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
        raise ValidationFailed("月份（month）应写成 2025-06 这样的格式", field="month")
    y, m = int(month[:4]), int(month[5:])
    return Period(date(y, m, 1), date(y, m, calendar.monthrange(y, m)[1]))


def monthly_pdf(
    session: Session, month: str, cfg: AnalyticsSettings | None = None, *, principal: Principal
) -> bytes:
    """The month's summary as PDF, as `principal` may see it."""
    ctx = context(session, month_period(month), cfg, principal=principal, links=False)
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
