"""`kbsvc demo`: load the demo tickets and entries, print how to sign in."""

from __future__ import annotations

import typer

from kbsvc.cli._common import handle_errors


@handle_errors
def demo(
    reset: bool = typer.Option(
        False,
        "--reset",
        help="Remove the demo tickets and the entries captured from them, then load them again.",
    ),
) -> None:
    """Load ~350 demo tickets, one entry per fault family, and a demo admin; safe to repeat."""
    from kbsvc.cli._common import console, is_tty, open_session, settings
    from kbsvc.demo import loader

    cfg = settings()
    with open_session() as session:
        if reset:
            loader.reset(session)
        if is_tty():
            from rich.progress import Progress

            with Progress(console=console, transient=True) as bar:
                task = bar.add_task("loading demo tickets", total=None)
                report = loader.load(
                    session, privacy=cfg.privacy, progress=lambda n: bar.advance(task, n)
                )
        else:
            report = loader.load(session, privacy=cfg.privacy)
        loader.ensure_admin(session, cfg, report)
        from kbsvc.analytics.demo import seed_searches

        # A recent search log, so the insight page has unanswered questions to show.
        searches = seed_searches(session)
    statuses = ", ".join(f"{n} {s}" for s, n in sorted(report.statuses.items()))
    base = cfg.public_base_url.rstrip("/")
    lines = [
        f"demo tickets: {report.tickets} ({report.tickets_new} new)",
        f"entries: {sum(report.statuses.values())} ({statuses}; {report.entries_new} new), "
        f"cited links: {report.cited_new} new, search log: {searches} new rows",
        f"sign in:  {loader.ADMIN_USER} / {loader.ADMIN_PASSWORD}"
        + ("" if report.user_created else "  (existing user; password not changed)"),
        f"admin API key: {report.api_key}"
        + (f"  (saved in {cfg.data_dir / loader.KEY_FILE})" if report.key_created else ""),
        f"web UI:   {base}/",
        f"API docs: {base}/docs",
        f"try it:   {base}/demo/ticket",
        f'curl -H "Authorization: Bearer {report.api_key}" {base}/api/v1/entries',
    ]
    typer.echo("\n".join(lines))


def register(app: typer.Typer) -> None:
    app.command("demo")(demo)
