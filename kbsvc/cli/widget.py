"""`kbsvc widget userscript`: load the widget into vendor ticket pages through a userscript."""

from __future__ import annotations

from pathlib import Path

import typer

from kbsvc.cli._common import handle_errors

widget_app = typer.Typer(
    help="The in-ticket widget on pages kbsvc does not own.", no_args_is_help=True
)


@widget_app.command("userscript")
@handle_errors
def userscript(
    match: str = typer.Option(..., help="Vendor page address; '*' allowed in the path."),
    fields: Path = typer.Option(..., help="Field map (JSON or TOML): field → CSS selector."),
    source: str = typer.Option("", help="Helpdesk name for citations [default: its host]."),
    kb_url: str = typer.Option("", help="kbsvc address the page reaches [public_base_url]."),
    output: Path = typer.Option(None, "--output", "-o", help="Write here instead of stdout."),
) -> None:
    """Create a widget key bound to the page's origin and print the userscript carrying it."""
    from kbsvc.cli._common import console, open_session, settings
    from kbsvc.widget import userscript as service

    field_map = service.load_fields(fields)
    with open_session() as session:
        made = service.create(
            session,
            match=match,
            fields=field_map,
            kb_url=kb_url or settings().public_base_url,
            source=source,
        )
    if output:
        output.write_text(made.userscript, encoding="utf-8")
    else:
        typer.echo(made.userscript, nl=False)
    console.print(
        f"widget key {made.key_name!r} (prefix {made.key_prefix}) bound to {made.origin}; "
        "install the script in Tampermonkey or Violentmonkey",
        highlight=False,
        markup=False,
        soft_wrap=True,
    )


def register(app: typer.Typer) -> None:
    app.add_typer(widget_app, name="widget")
