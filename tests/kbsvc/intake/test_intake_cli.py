"""`kbsvc import` on the command line: counts line, row errors, exit codes, no tracebacks."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from kbsvc.cli import app
from tests.cli import run_kbsvc_sqlite

ROOT = Path(__file__).parents[3]
FIXTURE = ROOT / "tests" / "fixtures" / "zhidian_export_gb18030.csv"


@pytest.fixture
def cli_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("KBSVC_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("KBSVC_DATABASE_URL", "")
    return tmp_path


def invoke(*args: str):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(app, list(args))


def test_import_twice_prints_counts_last(cli_env: Path) -> None:
    first = invoke("import", str(FIXTURE), "--source", "zd", "--capture", "draft")
    assert first.exit_code == 0, first.output
    assert first.stdout.strip().splitlines()[-1] == "imported 5, updated 0, skipped 3"
    assert "line 7: opened_at" in first.stderr and "line 13: duplicate" in first.stderr
    again = invoke("import", str(FIXTURE), "--source", "zd", "--capture", "draft")
    assert again.stdout.strip().splitlines()[-1] == "imported 0, updated 0, skipped 8"
    assert "5 unchanged, 3 invalid" in again.stderr


def test_strict_fails_and_writes_nothing(cli_env: Path) -> None:
    result = invoke("import", str(FIXTURE), "--strict")
    assert result.exit_code == 1
    assert result.stdout.strip().splitlines()[-1] == "imported 0, updated 0, skipped 8"
    assert "--strict: nothing written" in result.stderr
    after = invoke("import", str(FIXTURE), "--source", "default")
    assert after.stdout.strip().endswith("imported 5, updated 0, skipped 3")


def test_mapping_file_and_map(cli_env: Path) -> None:
    export = cli_env / "itsm.csv"
    export.write_text(
        "单号,现象,处理,时间\nI-1,叫号屏黑屏,重启信息发布盒,14/03/2025\n", encoding="utf-8"
    )
    mapping = cli_env / "itsm.toml"
    mapping.write_text(
        'source = "itsm"\ndate_formats = ["%d/%m/%Y"]\n[columns]\n'
        'symptom = "现象"\nopened_at = "时间"\n',
        encoding="utf-8",
    )
    result = invoke("import", str(export), "--mapping", str(mapping), "--map", "solution=处理")
    assert result.exit_code == 0, result.output
    assert result.stdout.strip().endswith("imported 1, updated 0, skipped 0")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["missing.csv"], "No such file or directory: missing.csv"),
        ([str(FIXTURE), "--map", "sympton=故障现象"], "unknown field 'sympton'"),
        ([str(FIXTURE), "--map", "symptom=没有这列"], "column '没有这列' (mapped to symptom)"),
        ([str(FIXTURE), "--mapping", "nope.toml"], "No such file or directory: nope.toml"),
    ],
)
def test_user_mistakes_are_one_line_errors(cli_env: Path, args: list[str], message: str) -> None:
    result = invoke("import", *args)
    assert result.exit_code == 2
    assert message in result.stderr
    assert "Traceback" not in result.output


def test_subprocess_bad_mapping_has_no_traceback(cli_env: Path) -> None:
    bad = cli_env / "bad.toml"
    bad.write_text("[columns\n", encoding="utf-8")
    # The subprocess is told KBSVC_DATABASE_URL="" itself, as cli_env tells this process.
    proc = run_kbsvc_sqlite(cli_env / "data", "import", str(FIXTURE), "--mapping", str(bad))
    assert proc.returncode == 2
    assert "invalid TOML" in proc.stderr and "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


def test_invalid_settings_are_one_line(cli_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KBSVC_LIMITS__MAX_IMPORT_ROWS", "0")
    result = invoke("import", str(FIXTURE))
    assert result.exit_code == 2
    assert result.stderr.strip() == (
        "error: invalid settings: KBSVC_LIMITS__MAX_IMPORT_ROWS: Input should be greater than "
        "or equal to 1 (got '0')"
    )


def test_capture_draft_masks_with_the_sites_privacy_rules(
    cli_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Regression: captured drafts were masked with default rules, not the site's."""
    from sqlmodel import Session, select

    from kbsvc import db
    from kbsvc.config import Settings
    from kbsvc.entries.models import Entry

    monkeypatch.setenv(
        "KBSVC_PRIVACY__EXTRA_PATTERNS",
        '[{"kind": "mrn", "pattern": "MRN\\\\d{6}", "replacement": "【病历号】"}]',
    )
    # Tickets keep their text as given; the draft an editor sees must still be masked.
    monkeypatch.setenv("KBSVC_PRIVACY__KEEP_RAW_TICKET_TEXT", "true")
    export = cli_env / "tickets.csv"
    export.write_text(
        "工单号,标题,现象,处理方法\nP-1,病人 MRN123456 医嘱打不开,医嘱界面空白,重启医生站\n",
        encoding="utf-8",
    )
    result = invoke("import", str(export), "--source", "itsm", "--capture", "draft")
    assert result.exit_code == 0, result.output
    eng = db.make_engine(Settings())
    with Session(eng) as session:
        entry = session.execute(select(Entry)).scalars().one()
    eng.dispose()
    assert "MRN123456" not in entry.title and "【病历号】" in entry.title
