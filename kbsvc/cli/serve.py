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
    workers: int = typer.Option(1, help="Worker processes."),
) -> None:
    """Run the HTTP service (applies pending migrations first)."""
    import uvicorn

    from kbsvc import db
    from kbsvc.cli._common import settings

    cfg = settings()
    db.upgrade(db.make_engine(cfg))
    base = f"http://{host}:{port}"
    typer.echo(f"kbsvc serving on {base}  (API docs: {base}/docs)")
    typer.echo(f"  web UI:       {base}/")
    typer.echo(f"  demo ticket:  {base}/demo/ticket  (suggestions appear as you type)")
    # Our own JSON access log replaces uvicorn's, which would print query strings (ticket text);
    # log_config=None: the app configures every logger (uvicorn's too) as JSON when it loads.
    uvicorn.run(
        "api.main:app",
        host=host,
        port=port,
        workers=workers,
        log_level="warning",
        log_config=None,
        access_log=False,
        proxy_headers=False,
        # Slow clients: headers must arrive in limits.header_timeout_s (api/server.py); idle
        # keep-alive connections close after 5 s (uvicorn's default, stated here).
        http="api.server:DeadlineHttpToolsProtocol",
        timeout_keep_alive=5,
    )


def register(app: typer.Typer) -> None:
    app.add_typer(db_app, name="db")
    app.command("serve")(serve)
