"""Rate limits that fit a hospital: per key role and per key, widgets per key and browser,
X-Forwarded-For believed only from the configured proxies."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session

from api.app import create_app
from api.middleware.clientip import networks, real_client
from kbsvc.auth import service as auth_service
from kbsvc.auth.models import Role
from kbsvc.config import Settings

WIDGET_PAGE = "http://his.example.cn"
PROXY = ("10.1.0.2", 40000)  # the hospital's reverse proxy, as the server sees it


def _key(session: Session, role: Role, rate: int | None = None) -> dict[str, str]:
    origins = [WIDGET_PAGE] if role is Role.widget else None
    _row, key = auth_service.create_api_key(
        session, name=f"{role}-{rate}", role=role, origins=origins, rate_per_minute=rate
    )
    session.commit()
    headers = {"Authorization": f"Bearer {key}"}
    return {**headers, "Origin": WIDGET_PAGE} if role is Role.widget else headers


def _codes(client: TestClient, n: int, headers: dict[str, str]) -> list[int]:
    body = {"text": "打印机卡纸"}
    return [
        client.post("/api/v1/suggest", json=body, headers=headers).status_code for _ in range(n)
    ]


def test_an_integration_key_is_not_held_to_a_person_s_rate(
    settings: Settings, engine: Engine, session: Session
) -> None:
    """Defaults: a viewer key may ask 100 times a second (bucket 300), a person 120 a minute."""
    assert settings.rate_limit.keys["viewer"].per_minute >= 50 * 60
    integration = _key(session, Role.viewer)
    with TestClient(create_app(settings, db_engine=engine)) as client:
        assert set(_codes(client, 60, integration)) == {200}


def test_a_key_s_own_rate_wins_over_its_role_s(
    settings: Settings, engine: Engine, session: Session
) -> None:
    slow = _key(session, Role.viewer, rate=6)  # depth: three seconds' worth, at least 10
    fast = _key(session, Role.viewer)
    with TestClient(create_app(settings, db_engine=engine)) as client:
        assert _codes(client, 11, slow) == [200] * 10 + [429]
        assert set(_codes(client, 20, fast)) == {200}


def test_rate_is_set_when_the_key_is_created_through_the_api(
    client: TestClient, admin_headers: dict[str, str]
) -> None:
    body = {"name": "his", "role": "viewer", "rate_per_minute": 12_000}
    r = client.post("/api/v1/admin/api-keys", json=body, headers=admin_headers)
    assert r.status_code == 201 and r.json()["rate_per_minute"] == 12_000
    listed = client.get("/api/v1/admin/api-keys", headers=admin_headers).json()
    assert [k["rate_per_minute"] for k in listed if k["name"] == "his"] == [12_000]
    bad = client.post(
        "/api/v1/admin/api-keys", json={**body, "rate_per_minute": 0}, headers=admin_headers
    )
    assert bad.status_code == 422


def test_widget_buckets_are_per_browser_behind_a_trusted_proxy(
    settings: Settings, engine: Engine, session: Session
) -> None:
    settings.trusted_proxies = ["10.1.0.0/16"]
    widget = _key(session, Role.widget, rate=6)
    with TestClient(create_app(settings, db_engine=engine), client=PROXY) as client:
        ward = {**widget, "X-Forwarded-For": "192.168.5.20"}
        clinic = {**widget, "X-Forwarded-For": "192.168.7.31"}
        assert _codes(client, 11, ward) == [200] * 10 + [429]
        assert set(_codes(client, 5, clinic)) == {200}  # another browser, its own bucket
        # A browser cannot pick a fresh address: only the hop our proxy appended counts.
        spoofed = {**widget, "X-Forwarded-For": "1.2.3.4, 192.168.5.20"}
        assert _codes(client, 1, spoofed) == [429]


def test_forwarded_for_from_anyone_else_is_ignored(
    settings: Settings, engine: Engine, session: Session
) -> None:
    settings.trusted_proxies = ["10.1.0.0/16"]
    widget = _key(session, Role.widget, rate=6)
    outsider = ("172.16.0.9", 5000)
    with TestClient(create_app(settings, db_engine=engine), client=outsider) as client:
        codes = [
            client.post(
                "/api/v1/suggest",
                json={"text": "打印机卡纸"},
                headers={**widget, "X-Forwarded-For": f"192.168.0.{i}"},
            ).status_code
            for i in range(11)
        ]
    assert codes == [200] * 10 + [429]  # one bucket: the header was not believed


@pytest.mark.parametrize(
    ("peer", "forwarded", "expected"),
    [
        ("10.1.0.2", ["192.168.5.20"], "192.168.5.20"),
        ("10.1.0.2", ["6.6.6.6, 192.168.5.20"], "192.168.5.20"),  # client-written part ignored
        ("10.1.0.2", ["192.168.5.20, 10.1.0.7"], "192.168.5.20"),  # two proxies of ours
        ("10.1.0.2", ["192.168.5.20", "10.1.0.7"], "192.168.5.20"),  # repeated header
        ("10.1.0.2", ["10.1.0.9"], "10.1.0.9"),  # only proxies: the farthest
        ("10.1.0.2", ["garbage, 10.1.0.7"], "10.1.0.7"),
        ("172.16.0.9", ["192.168.5.20"], "172.16.0.9"),  # not our proxy: header ignored
        ("::1", ["fd00::5"], "fd00::5"),
    ],
)
def test_real_client(peer: str, forwarded: list[str], expected: str) -> None:
    assert real_client(peer, forwarded, networks(["10.1.0.0/16", "::1"])) == expected


def test_trusted_proxies_setting_accepts_cidrs_and_refuses_garbage() -> None:
    ok = Settings(trusted_proxies="10.0.0.0/8, 192.168.1.5", _env_file=None)  # type: ignore[call-arg]
    assert ok.trusted_proxies == ["10.0.0.0/8", "192.168.1.5/32"]
    with pytest.raises(ValueError, match="not an IP address"):
        Settings(trusted_proxies=["proxy.example"], _env_file=None)  # type: ignore[call-arg]
