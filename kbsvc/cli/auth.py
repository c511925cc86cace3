"""`kbsvc user add` and `kbsvc apikey create`."""

from __future__ import annotations

import typer

from kbsvc.cli._common import handle_errors

user_app = typer.Typer(help="People who log in to the web UI.", no_args_is_help=True)
key_app = typer.Typer(help="API keys for integrations and the widget.", no_args_is_help=True)


@user_app.command("add")
@handle_errors
def user_add(
    name: str,
    role: str = typer.Option("editor", help="viewer | editor | reviewer | admin"),
    password: str = typer.Option(..., prompt=True, hide_input=True, confirmation_prompt=True),
) -> None:
    """Create a user."""
    from kbsvc.auth import service
    from kbsvc.auth.models import Role
    from kbsvc.cli._common import fail, open_session

    if role not in {r.value for r in Role} or role == "widget":
        raise fail(f"unknown role {role!r}: use viewer, editor, reviewer or admin")
    with open_session() as session:
        user = service.create_user(session, username=name, role=Role(role), password=password)
    typer.echo(f"created user {user.username} ({user.role})")


@key_app.command("create")
@handle_errors
def apikey_create(
    name: str = typer.Option(..., help="What the key is for."),
    role: str = typer.Option("viewer", help="viewer | editor | reviewer | admin | widget"),
    origin: list[str] = typer.Option([], help="Allowed page origin (widget keys)."),
) -> None:
    """Create an API key; the key is printed alone on the last line, once."""
    from kbsvc.auth import service
    from kbsvc.auth.models import Role
    from kbsvc.cli._common import fail, open_session

    if role not in {r.value for r in Role}:
        raise fail(f"unknown role {role!r}: use viewer, editor, reviewer, admin or widget")
    with open_session() as session:
        row, plaintext = service.create_api_key(session, name=name, role=Role(role),
                                                origins=origin)
    typer.echo(f"created {row.role} key {row.name!r} (prefix {row.prefix}); store it now:")
    typer.echo(plaintext)


def register(app: typer.Typer) -> None:
    app.add_typer(user_app, name="user")
    app.add_typer(key_app, name="apikey")
