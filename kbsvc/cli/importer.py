"""`kbsvc import FILE`: load a helpdesk export (CSV, XLSX, JSONL) into tickets."""

from __future__ import annotations

from pathlib import Path

import typer

from kbsvc.cli._common import handle_errors
from kbsvc.intake import CaptureMode

MAX_SHOWN = 50


@handle_errors
def import_file(
    file: Path = typer.Argument(..., help="CSV (UTF-8 or GB18030), XLSX or JSONL export."),
    source: str = typer.Option(
        None,
        help="Name of the helpdesk the tickets come from "
        "[default: the mapping file's source, else 'default'].",
    ),
    map_: list[str] = typer.Option(
        [], "--map", metavar="FIELD=COLUMN", help="Read FIELD from COLUMN (repeatable)."
    ),
    mapping: Path = typer.Option(None, "--mapping", help="Mapping file (TOML)."),
    capture: CaptureMode = typer.Option(
        CaptureMode.none, help="Also create a knowledge entry per ticket that has a solution."
    ),
    strict: bool = typer.Option(False, help="Write nothing unless every row is valid."),
    fmt: str = typer.Option(None, "--format", help="csv | xlsx | jsonl (default: by extension)."),
    index: bool = typer.Option(
        False,
        help="With --capture: build the search index once at the end, on the channels already "
        "chosen (`kbsvc reindex` re-chooses them), instead of letting the server follow each "
        "change.",
    ),
) -> None:
    """Import resolved tickets; safe to repeat (rows are upserted by source and ticket id)."""
    from kbsvc.cli._common import console, is_tty, open_session, settings
    from kbsvc.intake.mapping import Mapping, load_mapping_file, parse_map_options
    from kbsvc.intake.readers import read_table
    from kbsvc.intake.service import import_table

    rules = load_mapping_file(mapping) if mapping else Mapping()
    rules = rules.merged(parse_map_options(map_))
    data = file.read_bytes()
    privacy = settings().privacy
    table = read_table(data, file.name, max_rows=settings().limits.max_import_rows, fmt=fmt)
    with open_session() as session:
        if is_tty():
            import time

            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

            columns = (
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("{task.fields[rate]} rows/s"),
            )
            started = time.monotonic()

            def advance(n: int) -> None:
                done = bar.tasks[task].completed + n
                rate = done / max(time.monotonic() - started, 1e-6)
                bar.update(task, advance=n, rate=f"{rate:,.0f}")

            with Progress(*columns, console=console, transient=True) as bar:
                task = bar.add_task(f"importing {file.name}", total=len(table.rows), rate="–")
                report = import_table(
                    session,
                    table,
                    source=source,
                    mapping=rules,
                    capture=capture,
                    strict=strict,
                    privacy=privacy,
                    batch_done=session.commit,
                    progress=advance,
                )
        else:
            report = import_table(
                session,
                table,
                source=source,
                mapping=rules,
                capture=capture,
                strict=strict,
                privacy=privacy,
                batch_done=session.commit,
            )
    if index and report.committed and (report.entries_created or report.entries_updated):
        _build_index()
    if report.committed and (report.imported or report.updated):
        import getpass

        from kbsvc.auth import audit

        with open_session() as session:
            audit.record(
                session,
                actor=f"cli:{getpass.getuser()}",
                action="CLI import",
                object_type="tickets",
                summary=f"{file.name}: {report.summary()}",
            )
    for error in report.errors[:MAX_SHOWN]:
        console.print(
            f"line {error.line}: {error.message}", highlight=False, markup=False, soft_wrap=True
        )
    if len(report.errors) > MAX_SHOWN:
        console.print(f"… and {len(report.errors) - MAX_SHOWN} more invalid rows")
    encoding = f", {report.encoding}" if report.encoding else ""
    detail = (
        f"{report.rows} rows ({report.format}{encoding}): {report.unchanged} unchanged, "
        f"{report.invalid} invalid"
    )
    if capture is not CaptureMode.none:
        detail += f"; entries {report.entries_created} created, {report.entries_updated} updated"
    if not report.committed:
        detail += "; --strict: nothing written"
    console.print(detail, highlight=False, markup=False, soft_wrap=True)
    typer.echo(report.summary())
    if not report.committed:
        raise typer.Exit(1)


def _build_index() -> None:
    """Index the new entries once, rather than the server following them change by change.

    Not `kbsvc reindex`: judging e5 for `auto` costs minutes, and a slow model's vectors
    are the server's background work; the entries are searchable without them."""
    from kbsvc.cli.search import rebuild_index

    typer.echo(rebuild_index(choose=False, embed_slow=False))


def register(app: typer.Typer) -> None:
    app.command("import")(import_file)
