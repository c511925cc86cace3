"""`kbsvc report demand|reuse|gaps|health` and `kbsvc report purge-log`."""

from __future__ import annotations

import sys
from enum import StrEnum
from typing import TYPE_CHECKING

import typer

from kbsvc.cli._common import handle_errors

if TYPE_CHECKING:
    from kbsvc.analytics.export import Table

report_app = typer.Typer(help="Insight reports: demand, reuse, gaps, health.", no_args_is_help=True)


class Fmt(StrEnum):
    table = "table"
    json = "json"
    csv = "csv"


FROM = typer.Option(None, "--from", help="First day, YYYY-MM-DD.")
TO = typer.Option(None, "--to", help="Last day, YYYY-MM-DD (inclusive).")
FORMAT = typer.Option(Fmt.table, "--format", "-f", help="table (rich), json or csv.")
TABLE = typer.Option(None, "--table", help="csv: which table (default: the first).")


def _run(kind: str, start: str | None, end: str | None, fmt: Fmt, table: str | None) -> None:
    from collections.abc import Callable

    from pydantic import BaseModel
    from sqlmodel import Session

    from kbsvc.analytics import export, reports
    from kbsvc.analytics.sqlfn import Period
    from kbsvc.cli._common import open_db_engine, settings

    period = Period.parse(start, end)
    cfg = settings()
    from kbsvc.auth.models import SYSTEM

    # The operator at the server's shell reads the whole KB (SYSTEM), as `kbsvc search` does.
    builders: dict[str, Callable[[Session, Period], BaseModel]] = {
        "demand": reports.demand,
        "reuse": lambda s, p: reports.reuse(s, p, principal=SYSTEM),
        "health": lambda s, p: reports.health(s, p, principal=SYSTEM),
    }
    with Session(open_db_engine()) as session:
        if kind == "gaps":
            from kbsvc.analytics import gaps

            report: BaseModel = gaps.gaps(session, period, cfg.analytics)
        else:
            report = builders[kind](session, period)
    if fmt is Fmt.json:
        typer.echo(report.model_dump_json(indent=2, by_alias=True))
        return
    tables = export.tables_for(report)
    if fmt is Fmt.csv:
        # No BOM on a terminal / pipe: that is for Excel downloads only.
        sys.stdout.write(export.to_csv(export.pick(tables, table)).decode("utf-8-sig"))
        return
    _print_tables(tables)


def _print_tables(tables: list[Table]) -> None:
    from rich.console import Console
    from rich.table import Table as RichTable

    out = Console()
    for t in tables:
        if not t.rows:
            out.print(f"[bold]{t.title}[/]：无数据\n")
            continue
        rt = RichTable(title=t.title, title_justify="left", header_style="bold cyan")
        for h in t.headers:
            rt.add_column(str(h), overflow="fold")
        for row in t.rows[:50]:
            rt.add_row(*("" if v is None else str(v) for v in row))
        out.print(rt)
        if len(t.rows) > 50:
            out.print(f"… 共 {len(t.rows)} 行，完整数据请用 --format csv")


def _command(kind: str, doc: str) -> None:
    @handle_errors
    def cmd(
        start: str | None = FROM, end: str | None = TO, fmt: Fmt = FORMAT, table: str | None = TABLE
    ) -> None:
        _run(kind, start, end, fmt, table)

    cmd.__doc__ = doc
    report_app.command(kind)(cmd)


_command("demand", "Tickets by department × system, by month and category; effort per system.")
_command("reuse", "Link rate, new vs known, most reused and never reused entries.")
_command("gaps", "Unanswered searches, uncovered tickets and systems with few entries.")
_command("health", "Entries by state, overdue reviews and open flags.")


@report_app.command("purge-log")
@handle_errors
def purge_log(
    days: int = typer.Option(None, help="Keep this many days (default: setting)."),
) -> None:
    """Delete search-log rows older than the retention (analytics.search_log_days)."""

    from kbsvc.analytics import searchlog
    from kbsvc.cli._common import open_session, settings

    keep = days or settings().analytics.search_log_days
    with open_session() as session:
        removed = searchlog.purge(session, days=keep)
    typer.echo(f"removed {removed} search log rows older than {keep} days")


def register(app: typer.Typer) -> None:
    app.add_typer(report_app, name="report")
