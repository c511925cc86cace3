"""`kbsvc attachments status | ocr`."""

from __future__ import annotations

import typer

from kbsvc.cli._common import handle_errors

attachments_app = typer.Typer(
    help="Attachments: OCR queue status and a foreground OCR worker.", no_args_is_help=True
)


@attachments_app.command("status")
@handle_errors
def status() -> None:
    """Attachments per OCR status (pending, done, failed, none) and the last failures."""
    from sqlalchemy import func, select
    from sqlmodel import col

    from kbsvc.attachments.models import Attachment, OcrStatus
    from kbsvc.cli._common import open_session

    with open_session() as session:
        counts = dict(
            session.execute(
                select(col(Attachment.ocr_status), func.count()).group_by(
                    col(Attachment.ocr_status)
                )
            ).all()
        )
        failed = session.execute(
            select(Attachment)
            .where(col(Attachment.ocr_status) == OcrStatus.failed.value)
            .order_by(col(Attachment.id).desc())
            .limit(10)
        ).scalars()
        typer.echo(", ".join(f"{n} {s}" for s, n in sorted(counts.items())) or "no attachments")
        for a in failed:
            typer.echo(f"{a.id}\tentry {a.entry_id}\t{a.filename}\t{a.ocr_error}")


@attachments_app.command("ocr")
@handle_errors
def ocr(once: bool = typer.Option(False, "--once", help="Drain what is due, then exit.")) -> None:
    """Run the OCR worker in the foreground (the server runs one in the background)."""
    from kbsvc.attachments.worker import OcrWorker
    from kbsvc.cli._common import open_db_engine, run_worker, settings

    cfg = settings()
    worker = OcrWorker(cfg, open_db_engine())
    run_worker(
        worker.drain,
        cfg.attachments.ocr.poll_interval_s,
        once=once,
        done="recognised {} attachments",
    )


def register(app: typer.Typer) -> None:
    app.add_typer(attachments_app, name="attachments")
