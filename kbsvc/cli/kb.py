"""`kbsvc kb export FILE.zip [filters]` and `kbsvc kb import FILE.zip` (knowledge exchange)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import typer

from kbsvc.cli._common import handle_errors

kb_app = typer.Typer(help="Exchange knowledge with other hospitals.", no_args_is_help=True)


@kb_app.command("export")
@handle_errors
def export(
    file: Path = typer.Argument(..., help="The .zip to write."),
    system: str = typer.Option("", help="Only entries of this system."),
    department: str = typer.Option("", help="Only entries of this department."),
    category: str = typer.Option("", help="Only entries of this category."),
    tag: str = typer.Option("", help="Only entries with this tag."),
    since: str = typer.Option("", help="Only entries changed on or after this date (YYYY-MM-DD)."),
) -> None:
    """Write published, unrestricted entries and the vocabulary to an exchange file."""
    from indexer.manifest import write_atomic
    from kbsvc.cli._common import fail, open_session, settings
    from kbsvc.exchange import service

    try:
        when = datetime.fromisoformat(since) if since else None
    except ValueError:
        raise fail(f"--since must be a date like 2026-01-31, got {since!r}") from None
    with open_session() as session:
        data, manifest = service.export_kb(
            session,
            settings(),
            system=system or None,
            department=department or None,
            category=category or None,
            tag=tag or None,
            since=when,
        )
    write_atomic(file, data)  # a half-written zip never appears under the final name
    typer.echo(
        f"exported {manifest.entries} entries and {manifest.vocabulary} vocabulary terms "
        f"to {file} ({len(data) / 1024:.0f} KiB)"
    )


@kb_app.command("import")
@handle_errors
def import_(file: Path = typer.Argument(..., help="An exchange .zip from another site.")) -> None:
    """Import entries as drafts for review (again-imports update drafts, never duplicate)."""
    import getpass

    from kbsvc.cli._common import open_session, settings
    from kbsvc.exchange import service

    data = file.read_bytes()
    with open_session() as session:
        report = service.import_kb(session, settings(), data, actor=f"cli:{getpass.getuser()}")
    origin = report.site_name or "another site"
    typer.echo(
        f"from {origin}: {report.created} new drafts, {report.updated} drafts updated, "
        f"{report.unchanged} unchanged, {report.kept} already reviewed here; "
        f"{report.possible_duplicates} may duplicate local entries; "
        f"{report.vocabulary_added} vocabulary terms added"
    )
    for e in report.entries:
        if e.duplicates:
            dups = ", ".join(f"#{d}" for d in e.duplicates)
            typer.echo(f"  draft #{e.entry_id} {e.title!r} may duplicate {dups}")


def register(app: typer.Typer) -> None:
    app.add_typer(kb_app, name="kb")
