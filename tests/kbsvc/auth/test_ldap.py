"""Directory sign-in against a real slapd: roles, departments, and the three refusals in Chinese."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from kbsvc.auth import ldap
from kbsvc.auth import service as auth_service
from kbsvc.auth.models import Role, User
from kbsvc.config import LdapSettings, Settings
from kbsvc.exceptions import AccountDisabled, NoRole, ServiceUnavailable, Unauthorized


def test_directory_user_gets_role_departments_and_mail(ldap_cfg: LdapSettings) -> None:
    editor = ldap.authenticate(ldap_cfg, "zhangsan", "zs-Pass-1")
    assert (editor.role, editor.departments) == (Role.editor, ["信息科"])
    assert (editor.display_name, editor.email) == ("张三", "zhangsan@hospital.cn")
    reviewer = ldap.authenticate(ldap_cfg, "lisi", "ls-Pass-2")  # mapped by full group DN
    assert reviewer.role is Role.reviewer


@pytest.mark.parametrize(
    ("username", "password", "error", "message"),
    [
        ("zhangsan", "wrong-password", Unauthorized, "用户名或密码不正确"),
        ("nobody", "whatever-1", Unauthorized, "用户名或密码不正确"),
        ("zhangsan", "", Unauthorized, "用户名或密码不正确"),  # no unauthenticated bind
        ("zhangsan*", "zs-Pass-1", Unauthorized, "用户名或密码不正确"),  # filter is escaped
        ("wangwu", "ww-Pass-3", AccountDisabled, "停用"),
        ("zhaoliu", "zl-Pass-4", NoRole, "不在知识库授权的目录组中"),
    ],
)
def test_refusals(
    ldap_cfg: LdapSettings, username: str, password: str, error: type, message: str
) -> None:
    with pytest.raises(error) as caught:
        ldap.authenticate(ldap_cfg, username, password)
    assert message in caught.value.message


def test_unreachable_directory_is_a_503(ldap_cfg: LdapSettings) -> None:
    ldap_cfg.url, ldap_cfg.timeout_s = "ldap://127.0.0.1:9", 1
    with pytest.raises(ServiceUnavailable, match="无法连接目录服务器"):
        ldap.authenticate(ldap_cfg, "zhangsan", "zs-Pass-1")


def test_starttls_needs_a_trusted_certificate(ldap_cfg: LdapSettings) -> None:
    ldap_cfg.ca_file = ""  # the throwaway certificate is not in the system store
    with pytest.raises(ServiceUnavailable):
        ldap.authenticate(ldap_cfg, "zhangsan", "zs-Pass-1")


def _client(settings: Settings, engine: Engine, cfg: LdapSettings) -> TestClient:
    from api.app import create_app

    settings.ldap = cfg
    settings.notify.worker = False
    return TestClient(create_app(settings, db_engine=engine))


def _login(c: TestClient, username: str, password: str):  # type: ignore[no-untyped-def]
    return c.post("/api/v1/auth/login", json={"username": username, "password": password})


def test_login_api_json_errors_and_local_break_glass(
    settings: Settings, engine: Engine, session: Session, ldap_cfg: LdapSettings
) -> None:
    auth_service.create_user(session, username="admin", role=Role.admin, password="local-Pass-9")
    session.commit()
    with _client(settings, engine, ldap_cfg) as c:
        ok = _login(c, "zhangsan", "zs-Pass-1")
        assert ok.status_code == 200
        assert ok.json()["role"] == "editor" and ok.json()["departments"] == ["信息科"]
        assert c.get("/api/v1/auth/me").json()["name"] == "zhangsan"
        cases = [
            ("zhangsan", "bad-Pass", 401, "unauthorized", "用户名或密码不正确"),
            ("wangwu", "ww-Pass-3", 403, "account_disabled", "该账号已在目录中停用，请联系信息科"),
            (
                "zhaoliu",
                "zl-Pass-4",
                403,
                "no_role",
                "该账号不在知识库授权的目录组中，请联系信息科开通权限",
            ),
        ]
        for user, pw, status, code, message in cases:
            r = _login(c, user, pw)
            assert (r.status_code, r.json()["code"], r.json()["message"]) == (status, code, message)
        assert _login(c, "admin", "local-Pass-9").status_code == 200  # local account still works
        ldap_cfg.url = "ldap://127.0.0.1:9"  # directory down: the break-glass admin gets in
        ldap_cfg.timeout_s = 1
        assert _login(c, "admin", "local-Pass-9").status_code == 200
        down = _login(c, "zhangsan", "zs-Pass-1")
        assert down.status_code == 503 and "无法连接目录服务器" in down.json()["message"]
    row = session.exec(select(User).where(User.username == "zhangsan")).one()
    assert (row.role, row.email, row.password_hash) == ("editor", "zhangsan@hospital.cn", "")


def test_directory_role_change_applies_at_next_login(
    settings: Settings, engine: Engine, session: Session, ldap_cfg: LdapSettings
) -> None:
    with _client(settings, engine, ldap_cfg) as c:
        assert _login(c, "zhangsan", "zs-Pass-1").json()["role"] == "editor"
        ldap_cfg.group_roles = {"it-dept": "reviewer"}
        assert _login(c, "zhangsan", "zs-Pass-1").json()["role"] == "reviewer"
        ldap_cfg.group_roles = {"kb-reviewers": "reviewer"}  # zhangsan lost every mapped group
        assert _login(c, "zhangsan", "zs-Pass-1").json()["code"] == "no_role"
        assert c.get("/api/v1/auth/me").status_code == 401  # the open session was ended
