"""A real slapd per test module, and LDAP settings pointing at it."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from kbsvc.config import LdapSettings
from tests.kbsvc.auth.slapd import ROOT_DN, ROOT_PW, SUFFIX, Slapd


@pytest.fixture(scope="module")
def ldap_tls(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    d = tmp_path_factory.mktemp("ldap-tls")
    cert, key = d / "cert.pem", d / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            str(key),
            "-out",
            str(cert),
            "-days",
            "1",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
        ],
        check=True,
        capture_output=True,
    )
    return cert, key


@pytest.fixture(scope="module")
def slapd(tmp_path_factory: pytest.TempPathFactory, ldap_tls: tuple[Path, Path]) -> Iterator[Slapd]:
    server = Slapd(tmp_path_factory.mktemp("slapd"), *ldap_tls)
    yield server
    server.stop()


@pytest.fixture
def ldap_cfg(slapd: Slapd, ldap_tls: tuple[Path, Path]) -> LdapSettings:
    return LdapSettings(
        enabled=True,
        url=slapd.url,
        start_tls=True,
        ca_file=str(ldap_tls[0]),
        bind_dn=ROOT_DN,
        bind_password=ROOT_PW,
        search_base=f"ou=people,{SUFFIX}",
        user_filter="(&(objectClass=inetOrgPerson)(uid={username}))",
        group_base=f"ou=groups,{SUFFIX}",
        disabled_filter="(employeeType=disabled)",
        group_roles={"kb-editors": "editor", f"cn=kb-reviewers,ou=groups,{SUFFIX}": "reviewer"},
        group_departments={"it-dept": ["信息科"]},
    )
