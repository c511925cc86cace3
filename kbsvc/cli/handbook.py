"""`kbsvc handbook list|create|edition|export`: topic handbooks from the knowledge base."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from kbsvc.cli._common import handle_errors

app = typer.Typer(
    help="Topic handbooks: PDF, DOCX, HTML or Markdown from the KB.", no_args_is_help=True
)

FORMATS = "pdf | docx | html | md"

# Definition options shared by `create` and ad-hoc `export`.
Subtitle = Annotated[str, typer.Option(help="Subtitle on the cover.")]
Intro = Annotated[str, typer.Option(help="前言 text.")]
Query = Annotated[str, typer.Option(help="Plain-language topic.")]
Systems = Annotated[list[str], typer.Option("--system", help="System (repeatable), e.g. HIS.")]
Modules = Annotated[list[str], typer.Option("--module", help="Module (repeatable).")]
Tags = Annotated[list[str], typer.Option("--tag", help="Tag (repeatable).")]
Categories = Annotated[list[str], typer.Option("--category", help="Category (repeatable).")]
Departments = Annotated[list[str], typer.Option("--department", help="Department (repeatable).")]
GroupBy = Annotated[str, typer.Option(help="system_module | category | cause_category")]
MaxEntries = Annotated[int, typer.Option("--max", help="Cap on entries (0: default).")]


def _definition(
    title: str,
    subtitle: str,
    intro: str,
    query: str,
    system: list[str],
    module: list[str],
    tag: list[str],
    category: list[str],
    department: list[str],
    group_by: str,
    max_entries: int | None,
) -> Any:
    from kbsvc.cli._common import fail
    from kbsvc.handbooks.models import Grouping, HandbookCreate, Selection

    if group_by not in {g.value for g in Grouping}:
        raise fail(f"unknown --group-by {group_by!r}: use " + ", ".join(g.value for g in Grouping))
    selection = Selection(
        query=query,
        systems=system,
        modules=module,
        tags=tag,
        categories=category,
        departments=department,
    )
    return HandbookCreate(
        title=title,
        subtitle=subtitle,
        intro=intro,
        selection=selection,
        grouping=Grouping(group_by),
        max_entries=max_entries or HandbookCreate.model_fields["max_entries"].default,
    )


@app.command("list")
@handle_errors
def list_cmd() -> None:
    """Saved handbooks."""
    from kbsvc.cli._common import open_session
    from kbsvc.handbooks import service

    with open_session() as session:
        page = service.list_handbooks(session, limit=200)
    for h in page.data:
        typer.echo(f"{h.id}\t{h.title}\t{h.editions} edition(s)\t{h.grouping.value}")
    if not page.data:
        typer.echo("no handbooks yet: kbsvc handbook create --title …")


@app.command("create")
@handle_errors
def create_cmd(
    title: str = typer.Option(..., help="Handbook title."),
    subtitle: Subtitle = "",
    intro: Intro = "",
    query: Query = "",
    system: Systems = [],  # noqa: B006 - typer copies list defaults
    module: Modules = [],  # noqa: B006
    tag: Tags = [],  # noqa: B006
    category: Categories = [],  # noqa: B006
    department: Departments = [],  # noqa: B006
    group_by: GroupBy = "system_module",
    max_entries: MaxEntries = 0,
) -> None:
    """Save a handbook definition; prints its id."""
    from kbsvc.cli._common import open_session
    from kbsvc.handbooks import service

    data = _definition(
        title,
        subtitle,
        intro,
        query,
        system,
        module,
        tag,
        category,
        department,
        group_by,
        max_entries,
    )
    with open_session() as session:
        handbook = service.create(session, data=data, actor="cli")
    typer.echo(f"created handbook {handbook.id}: {handbook.title}")


@app.command("edition")
@handle_errors
def edition_cmd(handbook_id: int = typer.Option(..., "--id", help="Handbook id.")) -> None:
    """Freeze the next edition of a saved handbook."""
    from kbsvc.auth.models import SYSTEM
    from kbsvc.cli._common import open_session, search_engine, settings
    from kbsvc.handbooks import editions

    with open_session() as session:
        edition = editions.publish_edition(
            session,
            handbook_id=handbook_id,
            actor="cli",
            settings=settings(),
            search=search_engine(),
        )
        ch = editions.edition_public(session, edition, principal=SYSTEM).changes
    typer.echo(
        f"edition {edition.number}: {len(edition.snapshot)} entries "
        f"(+{len(ch.added)} added, {len(ch.updated)} updated, -{len(ch.removed)} removed)"
    )


@app.command("export")
@handle_errors
def export_cmd(
    output: Path = typer.Option(..., "-o", "--output", help="File to write."),
    fmt: str = typer.Option("pdf", "--format", "-f", help=FORMATS),
    handbook_id: int = typer.Option(0, "--id", help="Saved handbook (else an ad-hoc one)."),
    edition: int = typer.Option(0, help="Frozen edition number of --id (0: live)."),
    title: str = typer.Option("", help="Title of an ad-hoc handbook."),
    subtitle: Subtitle = "",
    intro: Intro = "",
    query: Query = "",
    system: Systems = [],  # noqa: B006 - typer copies list defaults
    module: Modules = [],  # noqa: B006
    tag: Tags = [],  # noqa: B006
    category: Categories = [],  # noqa: B006
    department: Departments = [],  # noqa: B006
    group_by: GroupBy = "system_module",
    max_entries: MaxEntries = 0,
) -> None:
    """Export a saved handbook (--id) or an ad-hoc one (--title and filters) to a file."""
    from kbsvc.auth.models import SYSTEM
    from kbsvc.cli._common import fail, open_session, search_engine, settings
    from kbsvc.handbooks import assemble
    from kbsvc.handbooks.models import ExportFormat

    if fmt not in {f.value for f in ExportFormat}:
        raise fail(f"unknown --format {fmt!r}: use {FORMATS}")
    if not handbook_id and not title:
        raise fail("give --id of a saved handbook or --title for an ad-hoc one")
    cfg = settings()
    search = search_engine()
    with open_session() as session:
        # The operator at the server's shell reads the whole KB (SYSTEM), as `kbsvc search` does.
        if handbook_id:
            doc = assemble.build_document(
                session,
                handbook_id=handbook_id,
                settings=cfg,
                edition=edition or None,
                search=search,
                principal=SYSTEM,
            )
        else:
            data = _definition(
                title,
                subtitle,
                intro,
                query,
                system,
                module,
                tag,
                category,
                department,
                group_by,
                max_entries,
            )
            doc = assemble.build_adhoc(
                session, data=data, settings=cfg, search=search, principal=SYSTEM
            )
    body = _render_with_progress(doc, ExportFormat(fmt), cfg)
    output.write_bytes(body)
    typer.echo(
        f"wrote {output} ({len(body) / 1024:.0f} KiB, {doc.entry_count} entries, "
        f"{len(doc.chapters)} chapters)"
    )
    from kbsvc.handbooks.export import link_warning

    if warning := link_warning(cfg.public_base_url):
        typer.echo(f"注意：{warning}", err=True)


def _render_with_progress(doc: Any, fmt: Any, cfg: Any) -> bytes:
    """Render, drawing a progress bar on a terminal (entries, then layout)."""
    from kbsvc.cli._common import console, is_tty
    from kbsvc.handbooks import export

    if not is_tty():
        return export.render(doc, fmt, cfg)
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        console=console,
        transient=True,
    ) as bar:
        task = bar.add_task(f"rendering {fmt.value}", total=max(doc.entry_count, 1))

        def step(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)
            if done == total and fmt.value == "pdf":
                bar.update(task, description="laying out pages")

        return export.render(doc, fmt, cfg, progress=step)


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="handbook")
