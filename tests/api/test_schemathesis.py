"""Property-based API fuzzing (schemathesis, in-process ASGI): no 5xx, responses match the
OpenAPI document, every returned status is declared. One test per operation, so routes added
later are fuzzed without touching this file."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.python.asgi import shutdown_lifespans
from schemathesis.specs.openapi.checks import (
    response_schema_conformance,
    status_code_conformance,
)
from sqlmodel import Session

from kbsvc.auth import service as auth_service
from kbsvc.auth.models import Role
from kbsvc.config import Settings
from kbsvc.entries.models import EntryStatus
from tests.factories import make_entry, make_ticket

# Minutes of fuzzing: in `make test`, not in `make test-fast`.
pytestmark = pytest.mark.slow

CHECKS = [not_a_server_error, response_schema_conformance, status_code_conformance]
MAX_EXAMPLES = 15


def _operations() -> list[tuple[str, str]]:
    from api.app import create_app

    tmp = Path(tempfile.mkdtemp(prefix="kbsvc-openapi-"))
    app = create_app(Settings(data_dir=tmp, database_url="", _env_file=None))  # type: ignore[call-arg]
    return [
        (m.upper(), p)
        for p, item in app.openapi()["paths"].items()
        for m in item
        if m in {"get", "post", "put", "patch", "delete"}
    ]


@pytest.mark.parametrize(("method", "path"), _operations())
def test_api_conforms(method: str, path: str, app: Any, session: Session) -> None:
    make_entry(session, title="门诊医生站登录失败")
    make_entry(session, title="检验科LIS接口中断", status=EntryStatus.draft)
    make_ticket(session)
    _row, key = auth_service.create_api_key(session, name="fuzz", role=Role.admin)
    session.commit()
    headers = {"Authorization": f"Bearer {key}"}
    # Schemathesis runs the app's lifespan itself (engine, search index) and keeps it until
    # shut down: stop it after each operation so no index thread outlives its database.
    try:
        operation = schemathesis.openapi.from_asgi("/openapi.json", app)[path][method]

        # Valid inputs and deliberately invalid ones (which must get a declared 4xx, not 5xx).
        strategy = st.one_of(
            operation.as_strategy(GenerationMode.POSITIVE),
            operation.as_strategy(GenerationMode.NEGATIVE),
        )

        @settings(
            max_examples=MAX_EXAMPLES,
            deadline=None,
            database=None,
            derandomize=True,
            suppress_health_check=list(HealthCheck),
        )
        @given(case=strategy)
        def fuzz(case: Any) -> None:
            case.call_and_validate(headers=headers, checks=CHECKS)

        fuzz()
    finally:
        shutdown_lifespans()
