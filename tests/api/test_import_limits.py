"""Import limits end to end: file size and row count over HTTP, with the body limit's
larger allowance for import routes, and the importer's own checks behind it."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session

from kbsvc.auth import service as auth_service
from kbsvc.auth.models import Role
from kbsvc.config import Settings

HEADER = "工单号,标题,问题描述,处理方法\n"


def _csv(rows: int, pad: int = 0) -> bytes:
    lines = [f"T{i},打印机无法打印{'啊' * pad},护士站打印机脱机,重装驱动\n" for i in range(rows)]
    return (HEADER + "".join(lines)).encode("utf-8")


def test_import_size_and_rows(settings: Settings, engine: Engine, session: Session) -> None:
    from api.app import create_app

    settings.limits.max_body_bytes = 4096
    settings.limits.max_import_bytes = 64 * 1024
    settings.limits.max_import_rows = 50
    _row, key = auth_service.create_api_key(session, name="imp", role=Role.editor)
    session.commit()
    h = {"X-API-Key": key}
    with TestClient(create_app(settings, db_engine=engine)) as client:

        def post(data: bytes):  # type: ignore[no-untyped-def]
            return client.post(
                "/api/v1/tickets/import",
                params={"source": "lim"},
                headers=h,
                files={"file": ("t.csv", data, "text/csv")},
            )

        ok = post(_csv(40, pad=30))  # larger than max_body_bytes, fine for an import
        assert ok.status_code == 200, ok.text
        assert ok.json()["imported"] == 40
        rows = post(_csv(51))
        assert rows.status_code == 413 and "50 rows" in rows.json()["message"]
        big = post(_csv(40, pad=800))  # ~100 KB > max_import_bytes
        assert big.status_code == 413 and big.json()["code"] == "too_large"
        # A non-import write keeps the small limit.
        r = client.post("/api/v1/entries", headers=h, json={"title": "x", "symptom": "啊" * 3000})
        assert r.status_code == 413
