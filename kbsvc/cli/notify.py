"""`kbsvc notify status | channels | retry ID | run`."""

from __future__ import annotations

import typer

from kbsvc.cli._common import handle_errors

notify_app = typer.Typer(
    help="Notifications: channels and the delivery outbox.", no_args_is_help=True
)


@notify_app.command("status")
@handle_errors
def status(
    state: str = typer.Option("", "--status", help="pending | sent | dead (default: all)."),
    limit: int = typer.Option(20, help="How many deliveries to list."),
) -> None:
    """Counts per status and the latest deliveries."""
    from kbsvc.cli._common import fail, open_session
    from kbsvc.notify import service
    from kbsvc.notify.models import DeliveryStatus

    if state and state not in {s.value for s in DeliveryStatus}:
        raise fail(f"unknown status {state!r}: use pending, sent or dead")
    with open_session() as session:
        page = service.list_deliveries(
            session, status=DeliveryStatus(state) if state else None, limit=limit
        )
    counts = ", ".join(f"{n} {s}" for s, n in sorted(page.by_status.items())) or "empty"
    typer.echo(f"outbox: {counts}")
    for d in page.data:
        when = (d.sent_at or d.next_attempt_at).strftime("%Y-%m-%d %H:%M")
        err = f"  ({d.last_error})" if d.last_error and d.status != "sent" else ""
        typer.echo(f"{d.id}\t{d.status}\t{d.attempts}x\t{when}\t{d.channel}\t{d.title}{err}")


@notify_app.command("channels")
@handle_errors
def channels() -> None:
    """Configured channels (settings and admin UI); secrets are not shown."""
    from kbsvc.cli._common import open_session, settings
    from kbsvc.notify import service

    with open_session() as session:
        service.sync_settings_channels(session, settings().notify.channels)
        rows = service.list_channels(session)
    for c in rows:
        state = "" if c.enabled else " DISABLED"
        target = ",".join(c.mail_to) if c.kind == "email" else c.url
        typer.echo(f"{c.id}\t{c.name}\t{c.kind}\t{','.join(c.events)}\t{target}{state}")
    if not rows:
        typer.echo("no channels")


@notify_app.command("retry")
@handle_errors
def retry(delivery_id: int) -> None:
    """Queue a dead delivery again now."""
    from kbsvc.cli._common import open_session
    from kbsvc.notify import service

    with open_session() as session:
        service.retry(session, delivery_id=delivery_id)
    typer.echo(f"delivery {delivery_id} queued again")


@notify_app.command("run")
@handle_errors
def run(once: bool = typer.Option(False, "--once", help="One pass, then exit.")) -> None:
    """Run the delivery worker in the foreground (the server runs one in the background)."""
    from kbsvc.cli._common import open_db_engine, open_session, run_worker, settings
    from kbsvc.notify import service
    from kbsvc.notify.worker import OutboxWorker

    cfg = settings()
    with open_session() as session:
        service.sync_settings_channels(session, cfg.notify.channels)
    worker = OutboxWorker(cfg, open_db_engine())
    run_worker(worker.run_once, cfg.notify.poll_interval_s, once=once, done="handled {} deliveries")


def register(app: typer.Typer) -> None:
    app.add_typer(notify_app, name="notify")
