"""Directory sign-in with ldap3: find the user, check the password by binding, map groups.

Flow: bind as the service account (or anonymously) → search `user_filter` under
`search_base` → refuse users matching `disabled_filter` → bind as the user's DN with the
password → collect groups (`memberOf` plus a search under `group_base`) → role and departments
from the mappings. Messages are Chinese because they are shown on the login page as they are.
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass, field

from ldap3 import BASE, NONE, SUBTREE, Connection, Server, Tls
from ldap3.core.exceptions import LDAPException
from ldap3.utils.conv import escape_filter_chars
from ldap3.utils.dn import parse_dn

from kbsvc.auth.models import RANK, Role
from kbsvc.config import LdapSettings
from kbsvc.exceptions import AccountDisabled, NoRole, ServiceUnavailable, Unauthorized

WRONG_PASSWORD = "用户名或密码不正确"
DISABLED = "该账号已在目录中停用，请联系信息科"
NO_ROLE = "该账号不在知识库授权的目录组中，请联系信息科开通权限"
UNREACHABLE = "暂时无法连接目录服务器，请稍后再试（管理员可使用本地账号登录）"
# Active Directory reports why a bind failed in the diagnostic text: 533 disabled, 775 locked.
_AD_DISABLED = ("data 533", "data 775", "data 701", "data 532")


@dataclass
class DirectoryUser:
    """What the directory says about a person who just proved their password."""

    username: str
    dn: str
    display_name: str
    email: str
    groups: list[str]
    role: Role
    departments: list[str] = field(default_factory=list)


def _server(cfg: LdapSettings) -> Server:
    tls = Tls(validate=ssl.CERT_REQUIRED, ca_certs_file=cfg.ca_file or None)
    return Server(
        cfg.url,
        use_ssl=cfg.url.startswith("ldaps://"),
        tls=tls,
        connect_timeout=cfg.timeout_s,
        get_info=NONE,
    )


def _connect(
    server: Server, cfg: LdapSettings, user: str | None, password: str | None
) -> Connection:
    """An open connection (StartTLS when configured) not yet bound."""
    conn = Connection(
        server,
        user=user,
        password=password,
        receive_timeout=cfg.timeout_s,
        raise_exceptions=False,
        read_only=True,
    )
    conn.open()
    if cfg.start_tls and not conn.start_tls():
        raise ServiceUnavailable(UNREACHABLE, reason="StartTLS failed")
    return conn


def _cn(dn: str) -> str:
    try:
        return next((v for attr, v, _ in parse_dn(dn) if attr.lower() == "cn"), "")
    except LDAPException:
        return ""


def map_groups(cfg: LdapSettings, groups: list[str]) -> tuple[Role | None, list[str]]:
    """Highest mapped role and the union of mapped departments for these group DNs."""
    names = {g.lower() for g in groups} | {_cn(g).lower() for g in groups if _cn(g)}
    roles = [Role(r) for g, r in cfg.group_roles.items() if g.lower() in names]
    departments = sorted(
        {d for g, ds in cfg.group_departments.items() if g.lower() in names for d in ds}
    )
    return (max(roles, key=lambda r: RANK[r]) if roles else None), departments


def _first(entry: dict[str, object], attr: str) -> str:
    value = entry.get(attr)
    if isinstance(value, list):
        return str(value[0]) if value else ""
    return str(value or "")


def _lookup_and_check(
    server: Server, conn: Connection, cfg: LdapSettings, username: str, password: str
) -> tuple[str, dict[str, object], list[str]]:
    """(user DN, attributes, group DNs) once the password bind succeeded."""
    if not conn.bind():
        raise ServiceUnavailable(UNREACHABLE, reason="service account bind refused")
    flt = cfg.user_filter.replace("{username}", escape_filter_chars(username))
    attrs = [cfg.mail_attribute, cfg.name_attribute, "memberOf", "cn"]
    conn.search(cfg.search_base, flt, SUBTREE, attributes=attrs, size_limit=2)
    found = [r for r in conn.response or [] if r.get("type") == "searchResEntry"]
    if len(found) != 1:
        raise Unauthorized(WRONG_PASSWORD)  # unknown (or ambiguous) name: same answer
    dn, entry = found[0]["dn"], dict(found[0]["attributes"])
    if cfg.disabled_filter and conn.search(dn, cfg.disabled_filter, BASE, attributes=[]):
        raise AccountDisabled(DISABLED)
    user_conn = _connect(server, cfg, dn, password)
    try:
        if not user_conn.bind():
            text = str(user_conn.result.get("message", ""))
            if any(code in text for code in _AD_DISABLED):
                raise AccountDisabled(DISABLED)
            raise Unauthorized(WRONG_PASSWORD)
    finally:
        user_conn.unbind()
    member_of = entry.get("memberOf") or []
    groups = [str(g) for g in member_of] if isinstance(member_of, list) else [str(member_of)]
    if cfg.group_base:
        gflt = cfg.group_filter.replace("{dn}", escape_filter_chars(dn))
        conn.search(cfg.group_base, gflt, SUBTREE, attributes=["cn"])
        groups += [r["dn"] for r in conn.response or [] if r.get("type") == "searchResEntry"]
    return dn, entry, groups


def authenticate(cfg: LdapSettings, username: str, password: str) -> DirectoryUser:
    """Check `username`/`password` against the directory; raises with a Chinese message."""
    # An empty password is an "unauthenticated bind" that many servers accept: never allow it.
    if not password or not username.strip():
        raise Unauthorized(WRONG_PASSWORD)
    try:
        server = _server(cfg)
        conn = _connect(server, cfg, cfg.bind_dn or None, cfg.bind_password or None)
        try:
            dn, entry, groups = _lookup_and_check(server, conn, cfg, username.strip(), password)
        finally:
            conn.unbind()
    except LDAPException as exc:
        raise ServiceUnavailable(UNREACHABLE, reason=type(exc).__name__) from None
    role, departments = map_groups(cfg, groups)
    if role is None:
        raise NoRole(NO_ROLE)
    return DirectoryUser(
        username=username.strip(),
        dn=dn,
        display_name=_first(entry, cfg.name_attribute) or _first(entry, "cn"),
        email=_first(entry, cfg.mail_attribute),
        groups=groups,
        role=role,
        departments=departments,
    )
