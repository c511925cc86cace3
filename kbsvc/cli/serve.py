"""`kbsvc serve` and `kbsvc db upgrade`."""

from __future__ import annotations

import typer

from kbsvc.cli._common import handle_errors

db_app = typer.Typer(help="Database schema.", no_args_is_help=True)


@db_app.command("upgrade")
@handle_errors
def db_upgrade() -> None:
    """Apply pending migrations."""
    from kbsvc import db
    from kbsvc.cli._common import settings

    db_engine = db.make_engine(settings())
    db.upgrade(db_engine)
    typer.echo(f"database at revision {db.current_revision(db_engine)}")


@handle_errors
def serve(
    host: str = typer.Option("127.0.0.1", help="Bind address."),
    port: int = typer.Option(8000, help="Port."),
    workers: int | None = typer.Option(
        None, help="Worker processes (default: KBSVC_WORKERS, else one per CPU)."
    ),
) -> None:
    """Run the HTTP service (applies pending migrations first).

    Every worker answers requests from the one memory-mapped search index; the first to take
    the writer lock also follows the change sequence and publishes its generations."""
    import os
    import sys

    from kbsvc import db
    from kbsvc.cli._common import settings

    cfg = settings()
    db_engine = db.make_engine(cfg)
    db.upgrade(db_engine)
    db_engine.dispose()
    workers = workers or cfg.workers or os.cpu_count() or 1
    base = f"http://{host}:{port}"
    typer.echo(f"kbsvc serving on {base} with {workers} workers  (API docs: {base}/docs)")
    typer.echo(f"  web UI:       {base}/")
    typer.echo(f"  demo ticket:  {base}/demo/ticket  (suggestions appear as you type)")
    sys.stdout.flush()
    # The same process (pid) becomes the uvicorn supervisor, without the ~40 MB that the CLI
    # and the migrations imported: it lives as long as the workers do (api/server.py).
    os.execv(sys.executable, [sys.executable, "-m", "api.server", host, str(port), str(workers)])


def register(app: typer.Typer) -> None:
    app.add_typer(db_app, name="db")
    app.command("serve")(serve)
