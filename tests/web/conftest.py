"""Browser-test fixtures: a real uvicorn server on a free loopback port, Debian chromium."""

from __future__ import annotations

import functools
import http.server
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session

from kbsvc import db
from kbsvc.auth import service as auth_service
from kbsvc.auth.models import Role
from kbsvc.config import Settings
from kbsvc.vocab import service as vocab_service
from tests.web.seed import seed_kb

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "artifacts" / "web"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--headless=new",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
PASSWORD = "web-test-pass-1"
DISPLAY = {"editor1": "李编辑", "reviewer1": "王审核", "viewer1": "张医生", "admin1": "赵管理"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def serve_in_thread(app: object, port: int) -> tuple[object, threading.Thread]:
    """Run a uvicorn server for `app` in a daemon thread; returns once it accepts connections."""
    import uvicorn

    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.05)
    return server, thread


@dataclass
class LiveServer:
    url: str
    engine: Engine
    settings: Settings
    host_origin: str  # a second origin: CORS allows it only because host_key is bound to it
    host_port: int
    host_key: str

    def session(self) -> AbstractContextManager[Session]:
        """A unit of work on the server's database (commits when the block ends cleanly)."""
        return db.session_scope(self.engine)

    def admin_key(self) -> str:
        with self.session() as s:
            _row, key = auth_service.create_api_key(s, name="test-admin", role=Role.admin)
        return key

    def wait_suggested(self, entry_id: int, text: str, timeout: float = 30) -> None:
        """Block until suggest for `text` returns the entry: a widget asks once per settled
        text, so a page must not ask before the index has followed the entry's commit."""
        headers = {"Authorization": f"Bearer {self.admin_key()}"}
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            r = httpx.post(f"{self.url}/api/v1/suggest", json={"text": text}, headers=headers)
            if entry_id in [h["entry"]["id"] for h in r.json()["data"]]:
                return
            time.sleep(0.1)
        raise AssertionError(f"entry {entry_id} not suggested for {text!r} within {timeout} s")


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """kbsvc with a small seeded KB, served by uvicorn on a free port."""
    from api.app import create_app

    port, host_port = free_port(), free_port()
    host_origin = f"http://127.0.0.1:{host_port}"
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        data_dir=tmp_path_factory.mktemp("web-data"),
        database_url="",
        public_base_url=f"http://127.0.0.1:{port}",
    )
    # One shared server for every browser test, all signing in from 127.0.0.1: the per-address
    # login bucket (tested in tests/api/test_limits.py) would otherwise refuse later tests.
    settings.rate_limit.login_per_minute = 10_000
    engine = db.make_engine(settings)
    db.upgrade(engine)
    with db.session_scope(engine) as s:
        seed_kb(s)
        for name, role in (
            ("editor1", Role.editor),
            ("reviewer1", Role.reviewer),
            ("viewer1", Role.viewer),
            ("admin1", Role.admin),
        ):
            auth_service.create_user(
                s, username=name, role=role, password=PASSWORD, display_name=DISPLAY[name]
            )
        # The vocabulary after the seed, so the seed's own spellings show up as unmapped.
        vocab_service.seed_defaults(s)
        _row, host_key = auth_service.create_api_key(
            s, name="host-widget", role=Role.widget, origins=[host_origin]
        )
    app = create_app(settings, db_engine=engine)
    server, thread = serve_in_thread(app, port)
    yield LiveServer(f"http://127.0.0.1:{port}", engine, settings, host_origin, host_port, host_key)
    server.should_exit = True  # type: ignore[attr-defined]
    thread.join(timeout=10)
    engine.dispose()


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    """Debian's chromium driven by playwright (never a downloaded browser build)."""
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian chromium is not installed (make system-deps)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser, request: pytest.FixtureRequest):  # type: ignore[no-untyped-def]
    """A fresh browser context + page; fails the test on any JS dialog (XSS canary)."""
    context = browser.new_context(viewport={"width": 1366, "height": 900}, locale="zh-CN")
    pg = context.new_page()
    pg.dialogs = []  # type: ignore[attr-defined]
    pg.page_errors = []  # type: ignore[attr-defined]

    def on_dialog(dialog) -> None:  # type: ignore[no-untyped-def]
        pg.dialogs.append(dialog.message)  # type: ignore[attr-defined]
        dialog.dismiss()

    pg.on("dialog", on_dialog)
    pg.on("pageerror", lambda err: pg.page_errors.append(str(err)))  # type: ignore[attr-defined]
    yield pg
    context.close()


def shot(page, name: str) -> Path:  # type: ignore[no-untyped-def]
    """Save a screenshot as a test artifact."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def login(page, server: LiveServer, username: str = "editor1", next_path: str = "/") -> None:  # type: ignore[no-untyped-def]
    """Log in through the login page."""
    page.goto(f"{server.url}/login?next={next_path}")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(f"{server.url}{next_path}*")


@pytest.fixture
def other_origin(live_server: LiveServer, tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """A second origin (another loopback port) serving the pages a test writes."""
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(tmp_path))
    handler.log_message = lambda *a, **k: None  # type: ignore[attr-defined]
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", live_server.host_port), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield live_server.host_origin, tmp_path
    httpd.shutdown()
    httpd.server_close()
