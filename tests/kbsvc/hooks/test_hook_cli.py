"""`kbsvc hook add | list | dead-letters | mapping | replay` through the real CLI entry point."""

from __future__ import annotations

import json
from pathlib import Path

from sqlmodel import Session

from kbsvc import db
from kbsvc.config import Settings
from kbsvc.hooks import delivery, service
from kbsvc.tickets import service as tickets
from tests.cli import run_kbsvc_sqlite


def test_add_dead_letter_fix_mapping_replay(tmp_path: Path) -> None:
    first = tmp_path / "first.toml"
    first.write_text('[columns]\nexternal_id = "key"\n', encoding="utf-8")
    made = run_kbsvc_sqlite(
        tmp_path, "hook", "add", "jira", "--mapping", str(first), "--capture", "draft"
    )
    assert made.returncode == 0, made.stderr
    secret = made.stdout.strip().splitlines()[-1]
    assert secret.startswith("whsec_") and "/api/v1/hooks/jira" in made.stdout
    assert secret not in run_kbsvc_sqlite(tmp_path, "hook", "list").stdout
    rotated = run_kbsvc_sqlite(tmp_path, "hook", "rotate", "jira")
    assert rotated.returncode == 0, rotated.stderr
    assert rotated.stdout.strip().splitlines()[-1] not in ("", secret)

    settings = Settings(data_dir=tmp_path, database_url="", _env_file=None)  # type: ignore[call-arg]
    engine = db.make_engine(settings)
    body = {"event": "resolved", "id": "ev-1", "ticket": {"key": "J-1", "f": {"s": "HIS卡顿"}}}
    with Session(engine, expire_on_commit=False) as s:
        hook = service.get(s, name="jira")
        result = delivery.receive(
            s, hook=hook, body=json.dumps(body).encode(), privacy=settings.privacy
        )
        s.commit()
    assert result.dead_letters == 1

    listed = run_kbsvc_sqlite(tmp_path, "hook", "dead-letters", "jira")
    assert "ev-1" in listed.stdout and "no column for title" in listed.stdout
    still = run_kbsvc_sqlite(tmp_path, "hook", "replay", "jira")
    assert still.returncode == 1 and "still failing 1" in still.stdout

    fixed = tmp_path / "fixed.toml"
    fixed.write_text(
        '[columns]\nexternal_id = "key"\nsymptom = "f.s"\nsolution = "f.s"\n', encoding="utf-8"
    )
    assert run_kbsvc_sqlite(tmp_path, "hook", "mapping", "jira", str(fixed)).returncode == 0
    done = run_kbsvc_sqlite(tmp_path, "hook", "replay", "jira")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "replayed 1, still failing 0" in done.stdout
    with Session(engine) as s:
        ticket = tickets.get_by_key(s, source="jira", external_id="J-1")
        assert ticket is not None and ticket.symptom == "HIS卡顿"
    assert "no dead letters" in run_kbsvc_sqlite(tmp_path, "hook", "dead-letters", "jira").stdout
    bad = run_kbsvc_sqlite(tmp_path, "hook", "add", "Bad Name")
    assert bad.returncode != 0
    engine.dispose()
