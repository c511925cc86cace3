"""A real slapd per test module, and LDAP settings pointing at it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from kbsvc.config import LdapSettings
from tests.kbsvc.auth.slapd import ROOT_DN, ROOT_PW, SUFFIX, Slapd


@pytest.fixture(scope="module")
def slapd(tmp_path_factory: pytest.TempPathFactory, tls_cert: tuple[Path, Path]) -> Iterator[Slapd]:
    server = Slapd(tmp_path_factory.mktemp("slapd"), *tls_cert)
    yield server
    server.stop()


@pytest.fixture
def ldap_cfg(slapd: Slapd, tls_cert: tuple[Path, Path]) -> LdapSettings:
    return LdapSettings(
        enabled=True,
        url=slapd.url,
        start_tls=True,
        ca_file=str(tls_cert[0]),
        bind_dn=ROOT_DN,
        bind_password=ROOT_PW,
        search_base=f"ou=people,{SUFFIX}",
        user_filter="(&(objectClass=inetOrgPerson)(uid={username}))",
        group_base=f"ou=groups,{SUFFIX}",
        disabled_filter="(employeeType=disabled)",
        group_roles={"kb-editors": "editor", f"cn=kb-reviewers,ou=groups,{SUFFIX}": "reviewer"},
        group_departments={"it-dept": ["信息科"]},
    )
