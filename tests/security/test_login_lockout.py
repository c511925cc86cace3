"""Threats: password guessing at one account (from one address or spread over many); a guesser
sharing the admin's address locking the admin out; a session that outlives logout or a
password change (a copied cookie, a forgotten ward PC)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlmodel import Session, col

from kbsvc.auth import lockout
from kbsvc.auth import service as auth_service
from kbsvc.auth.models import AuditEvent, Role
from kbsvc.config import Settings
from kbsvc.timeutil import utcnow
from tests.cli import run_kbsvc

PASSWORD = "correct-horse-42"
LOGIN = "/api/v1/auth/login"


def _from(app: FastAPI, address: str) -> TestClient:
    """A browser at `address` (the app's lifespan already runs under the `client` fixture)."""
    return TestClient(app, client=(address, 40000))


def _login(c: TestClient, username: str, password: str) -> Any:
    return c.post(LOGIN, json={"username": username, "password": password})


def _person(session: Session, name: str, role: Role = Role.admin) -> None:
    auth_service.create_user(session, username=name, role=role, password=PASSWORD)
    session.commit()


def test_an_account_locks_per_address_with_backoff_and_a_chinese_message(
    client: TestClient, app: FastAPI, session: Session, settings: Settings
) -> None:
    """Regression: throttling was per address only; an account could be guessed at forever
    from many addresses, and one address guessing locked everyone behind it."""
    _person(session, "admin1")
    ward = _from(app, "10.1.0.1")  # a NAT address the attacker shares with the admin
    codes = [_login(ward, "admin1", f"guess-{i}").status_code for i in range(5)]
    assert codes == [401] * 5
    locked = _login(ward, "admin1", PASSWORD)  # the right password is not even checked
    assert locked.status_code == 429, locked.text
    body = locked.json()
    assert body["code"] == "rate_limited" and "登录失败次数过多" in body["message"]
    assert 1 <= int(locked.headers["Retry-After"]) <= 31
    # Other people at the same address are not slowed by the guessing at admin1.
    _person(session, "nurse1", Role.viewer)
    assert _login(ward, "nurse1", PASSWORD).status_code == 200
    # The admin, from another machine, signs in with the right password.
    assert _login(_from(app, "10.2.0.7"), "admin1", PASSWORD).status_code == 200


def test_backoff_doubles_after_each_lapse(
    client: TestClient, app: FastAPI, session: Session
) -> None:
    _person(session, "admin1")
    ward = _from(app, "10.1.0.1")
    for i in range(5):
        _login(ward, "admin1", f"guess-{i}")
    waits = []
    for _round in range(2):  # (the address's own login bucket allows 10 attempts a minute)
        # Let the lock lapse (move the recorded failures 950 s back; the window is an hour),
        # then fail once more: the next lock is twice as long.
        events = select(AuditEvent).where(col(AuditEvent.actor) == "user:admin1")
        for event in session.execute(events).scalars():
            event.at = event.at - timedelta(seconds=950)
            session.add(event)
        session.commit()
        assert _login(ward, "admin1", "x-guess").status_code == 401
        waits.append(int(_login(ward, "admin1", PASSWORD).headers["Retry-After"]))
    assert 31 < waits[0] <= 61 and 61 < waits[1] <= 121, waits
    assert lockout._wait(40, 5, utcnow(), 900) <= 901  # capped at auth.lockout_max_s


def test_guessing_spread_over_many_addresses_locks_the_account_everywhere(
    client: TestClient, app: FastAPI, session: Session, settings: Settings
) -> None:
    _person(session, "admin1")
    per_address = settings.auth.lockout_after - 1  # each address stays under its own lock
    addresses = [f"172.16.0.{i}" for i in range(1, 40)]
    tried = 0
    for address in addresses:
        if tried >= settings.auth.account_lockout_after:
            break
        c = _from(app, address)
        for i in range(per_address):
            assert _login(c, "admin1", f"guess-{address}-{i}").status_code == 401
            tried += 1
    fresh = _from(app, "192.168.9.9")
    r = _login(fresh, "admin1", PASSWORD)
    assert r.status_code == 429 and "管理员解锁" in r.json()["message"], r.text
    # An admin lifts it with the CLI (the event counting restarts from is an audit row).
    done = run_kbsvc(settings, "user", "unlock", "admin1")
    assert done.returncode == 0 and "unlocked admin1" in done.stdout, done.stderr
    assert _login(fresh, "admin1", PASSWORD).status_code == 200


def _signed_in(app: FastAPI, address: str) -> tuple[TestClient, dict[str, str]]:
    c = _from(app, address)
    r = _login(c, "admin1", PASSWORD)
    assert r.status_code == 200, r.text
    return c, {"X-CSRF-Token": r.json()["csrf_token"]}


def test_logout_ends_every_session_of_the_person(
    client: TestClient, app: FastAPI, session: Session
) -> None:
    """Regression: logout revoked only the browser's own session."""
    _person(session, "admin1")
    office, office_csrf = _signed_in(app, "10.3.0.1")
    ward, _ = _signed_in(app, "10.3.0.2")
    assert ward.get("/api/v1/auth/me").status_code == 200
    assert office.post("/api/v1/auth/logout", headers=office_csrf).status_code == 204
    for c in (office, ward):
        assert c.get("/api/v1/auth/me").status_code == 401
        assert c.get("/api/v1/entries").status_code == 401


def test_password_change_ends_every_session(
    client: TestClient,
    app: FastAPI,
    session: Session,
    viewer_headers: dict[str, str],
) -> None:
    _person(session, "admin1")
    office, csrf = _signed_in(app, "10.4.0.1")
    ward, _ = _signed_in(app, "10.4.0.2")
    url = "/api/v1/auth/password"
    wrong = office.post(
        url, json={"current_password": "nope", "new_password": "n3w-pass-word"}, headers=csrf
    )
    assert wrong.status_code == 422 and wrong.json()["message"] == "当前密码不正确"
    no_csrf = office.post(url, json={"current_password": PASSWORD, "new_password": "n3w-pass-1"})
    assert no_csrf.status_code == 403
    ok = office.post(
        url, json={"current_password": PASSWORD, "new_password": "n3w-pass-word"}, headers=csrf
    )
    assert ok.status_code == 204, ok.text
    for c in (office, ward):
        assert c.get("/api/v1/auth/me").status_code == 401
    fresh = _from(app, "10.4.0.3")
    assert _login(fresh, "admin1", PASSWORD).status_code == 401
    assert _login(fresh, "admin1", "n3w-pass-word").status_code == 200
    # API keys have no password: refused, not an error.
    body = {"current_password": "a", "new_password": "abcdefgh"}
    assert client.post(url, json=body, headers=viewer_headers).status_code == 403
    assert client.post(url, json=body).status_code == 401
