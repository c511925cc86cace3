"""A throwaway OpenLDAP server (Debian slapd, mdb backend) on loopback for directory tests."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from pathlib import Path

SUFFIX = "dc=hospital,dc=cn"
ROOT_DN = f"cn=admin,{SUFFIX}"
ROOT_PW = "admin-secret"
SLAPD = shutil.which("slapd") or "/usr/sbin/slapd"
SLAPADD = shutil.which("slapadd") or "/usr/sbin/slapadd"

PEOPLE = [
    # uid, password, name, extra attributes
    ("zhangsan", "zs-Pass-1", "张三", "mail: zhangsan@hospital.cn\n"),
    ("lisi", "ls-Pass-2", "李四", "mail: lisi@hospital.cn\n"),
    ("wangwu", "ww-Pass-3", "王五", "employeeType: disabled\n"),
    ("zhaoliu", "zl-Pass-4", "赵六", ""),
]
GROUPS = {
    "kb-editors": ["zhangsan", "wangwu"],
    "kb-reviewers": ["lisi"],
    "it-dept": ["zhangsan", "lisi"],
    "canteen": ["zhaoliu"],
}


def _ldif() -> str:
    out = [
        f"dn: {SUFFIX}\nobjectClass: dcObject\nobjectClass: organization\ndc: hospital\no: 医院\n",
        f"dn: ou=people,{SUFFIX}\nobjectClass: organizationalUnit\nou: people\n",
        f"dn: ou=groups,{SUFFIX}\nobjectClass: organizationalUnit\nou: groups\n",
    ]
    for uid, pw, name, extra in PEOPLE:
        out.append(
            f"dn: uid={uid},ou=people,{SUFFIX}\nobjectClass: inetOrgPerson\nuid: {uid}\n"
            f"cn: {uid}\nsn: {name[0]}\ndisplayName: {name}\nuserPassword: {pw}\n{extra}"
        )
    for cn, members in GROUPS.items():
        lines = "".join(f"member: uid={m},ou=people,{SUFFIX}\n" for m in members)
        out.append(f"dn: cn={cn},ou=groups,{SUFFIX}\nobjectClass: groupOfNames\ncn: {cn}\n{lines}")
    return "\n".join(out)


def _config(root: Path, cert: Path | None, key: Path | None) -> str:
    schema = "/etc/ldap/schema"
    tls = f"TLSCertificateFile {cert}\nTLSCertificateKeyFile {key}\n" if cert and key else ""
    return (
        f"include {schema}/core.schema\ninclude {schema}/cosine.schema\n"
        f"include {schema}/inetorgperson.schema\n"
        f"modulepath /usr/lib/ldap\nmoduleload back_mdb\npidfile {root}/slapd.pid\n{tls}"
        # The service account (here: the rootdn) searches; people may only bind as themselves.
        f"access to attrs=userPassword by anonymous auth by * none\n"
        f"access to * by * read\n"
        f'database mdb\nmaxsize 10485760\nsuffix "{SUFFIX}"\nrootdn "{ROOT_DN}"\n'
        f"rootpw {ROOT_PW}\ndirectory {root}/db\n"
    )


class Slapd:
    """slapd -f with a generated slapd.conf, data loaded with slapadd, on 127.0.0.1."""

    def __init__(self, root: Path, cert: Path | None = None, key: Path | None = None) -> None:
        (root / "db").mkdir(parents=True)
        conf = root / "slapd.conf"
        conf.write_text(_config(root, cert, key), encoding="utf-8")
        (root / "data.ldif").write_text(_ldif(), encoding="utf-8")
        subprocess.run(
            [SLAPADD, "-f", str(conf), "-l", str(root / "data.ldif")],
            check=True,
            capture_output=True,
        )
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.url = f"ldap://127.0.0.1:{self.port}"
        self.proc = subprocess.Popen(
            [SLAPD, "-f", str(conf), "-h", f"ldap://127.0.0.1:{self.port}/", "-d", "0"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                if self.proc.poll() is not None:
                    err = self.proc.stderr.read().decode() if self.proc.stderr else ""
                    raise RuntimeError(err) from None
                time.sleep(0.05)
        raise RuntimeError("slapd did not start")

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(10)
