"""`kbsvc backup DIR` and `kbsvc restore DIR`."""

from __future__ import annotations

from pathlib import Path

import typer

from kbsvc.cli._common import handle_errors


def _size(n: int) -> str:
    return f"{n / 1_048_576:.1f} MiB" if n >= 1_048_576 else f"{n / 1024:.0f} KiB"


@handle_errors
def backup(
    folder: Path = typer.Argument(..., help="New folder for the backup (must not exist)."),
) -> None:
    """Write a consistent backup while the service runs (database, settings, manifest)."""
    from kbsvc.backup import service
    from kbsvc.cli._common import open_db_engine, settings

    cfg = settings()
    db_engine = open_db_engine()
    try:
        report = service.backup(cfg, db_engine, folder)
    finally:
        db_engine.dispose()
    rows = sum(report.tables.values())
    typer.echo(
        f"backup written to {report.path}: {report.backend}, {len(report.tables)} tables, "
        f"{rows} rows, {_size(report.bytes)} in {report.seconds:.1f} s"
    )


@handle_errors
def restore(
    folder: Path = typer.Argument(..., help="A folder written by `kbsvc backup`."),
) -> None:
    """Restore a backup into an empty data directory (and empty database)."""
    from kbsvc.backup import service
    from kbsvc.cli._common import settings

    report = service.restore(settings(), folder)
    rows = sum(report.tables.values())
    typer.echo(
        f"restored {report.backend} backup from {report.path}: {rows} rows in "
        f"{report.seconds:.1f} s; the search index rebuilds when the service starts"
    )


def register(app: typer.Typer) -> None:
    app.command("backup")(backup)
    app.command("restore")(restore)
