"""Handbooks over HTTP for trainers and trainees: background exports with progress, shaped
preview equal to the export, published editions for viewers (the visibility rule still holds),
and the loopback-link warning."""

from __future__ import annotations

import re
import subprocess
import time

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from kbsvc.auth import policy
from kbsvc.auth import service as auth_service
from kbsvc.auth.models import Role
from tests.kbsvc.handbooks.conftest import build_kb

H = dict[str, str]
BODY = {"title": "医院HIS系统常见故障分析与处理方法", "selection": {"systems": ["HIS"]}}
RESTRICTED = "收费处日结金额与报表不符"


@pytest.fixture
def kb_ids(session: Session) -> dict[str, int]:
    return build_kb(session)


@pytest.fixture
def handbook_id(client: TestClient, kb_ids: dict[str, int], editor_headers: H) -> int:
    r = client.post("/api/v1/handbooks", json=BODY, headers=editor_headers)
    assert r.status_code == 201, r.text
    return int(r.json()["id"])


def wait_done(client: TestClient, job: dict, headers: H) -> dict:  # type: ignore[type-arg]
    seen = [job]
    deadline = time.monotonic() + 120
    while job["status"] in ("queued", "running") and time.monotonic() < deadline:
        time.sleep(0.2)
        job = client.get(f"/api/v1/handbooks/export-jobs/{job['id']}", headers=headers).json()
        seen.append(job)
    return {**job, "seen": seen}


def test_background_pdf_job_reports_progress_then_serves_the_file(
    client: TestClient, editor_headers: H, viewer_headers: H, handbook_id: int
) -> None:
    r = client.post(
        f"/api/v1/handbooks/{handbook_id}/exports", json={"format": "pdf"}, headers=editor_headers
    )
    assert r.status_code == 202, r.text
    job = r.json()
    assert job["status"] == "queued" and job["download_url"] is None
    # The test settings keep the default public URL (127.0.0.1): the job says so, in Chinese.
    assert "KBSVC_PUBLIC_BASE_URL" in job["warning"] and "二维码" in job["warning"]
    early = client.get(
        f"/api/v1/handbooks/export-jobs/{job['id']}/download", headers=editor_headers
    )
    assert early.status_code in (200, 409)
    # Only whoever asked (and admins) see a job.
    other = client.get(f"/api/v1/handbooks/export-jobs/{job['id']}", headers=viewer_headers)
    assert other.status_code == 404
    job = wait_done(client, job, editor_headers)
    assert job["status"] == "done", job
    assert job["done"] == job["total"] == 8 and job["phase"] == "已完成"
    assert job["filename"].endswith(".pdf") and job["size"] > 10_000
    file = client.get(job["download_url"], headers=editor_headers)
    assert file.status_code == 200 and file.headers["content-type"] == "application/pdf"
    assert "attachment" in file.headers["content-disposition"]
    text = subprocess.run(
        ["pdftotext", "-", "-"], input=file.content, capture_output=True, check=True
    ).stdout.decode("utf-8")
    assert "门诊医生站CA证书过期无法登录" in text


def test_unknown_handbook_or_edition_is_404_and_queue_is_bounded(
    client: TestClient, editor_headers: H, handbook_id: int
) -> None:
    url = f"/api/v1/handbooks/{handbook_id}/exports"
    assert (
        client.post("/api/v1/handbooks/999/exports", json={}, headers=editor_headers).status_code
        == 404
    )
    r = client.post(url, json={"format": "docx", "edition": 3}, headers=editor_headers)
    assert r.status_code == 404
    bad = client.post(url, json={"format": "odt"}, headers=editor_headers)
    assert bad.status_code == 422


def test_preview_order_is_the_export_order(
    client: TestClient, editor_headers: H, kb_ids: dict[str, int], handbook_id: int
) -> None:
    order = [kb_ids[k] for k in ("invoice", "wrist", "ca", "bill")]
    r = client.patch(
        f"/api/v1/handbooks/{handbook_id}",
        headers=editor_headers,
        json={
            "intro": "**新员工**必读",
            "shaping": {
                "pinned": [kb_ids["lis-qc"]],
                "excluded": [kb_ids["slow"]],
                "order": order,
                "chapter_notes": {"HIS": "收费问题先联系财务科"},
            },
        },
    )
    assert r.status_code == 200, r.text
    assert r.json()["shaping"]["excluded"] == [kb_ids["slow"]]
    page = client.get(f"/handbooks/{handbook_id}", headers=editor_headers)
    assert page.status_code == 200
    preview = [int(i) for i in re.findall(r'data-entry="(\d+)"', page.text)]
    md = client.get(
        f"/api/v1/handbooks/{handbook_id}/export?format=md", headers=editor_headers
    ).text
    exported = [int(i) for i in re.findall(r"/entries/(\d+)>", md)]
    assert preview == exported and exported[0] == order[0]
    # Chapters come where their first entry does; the invoice's chapter holds the bill too.
    assert exported[1] == kb_ids["bill"] and exported.index(order[1]) < exported.index(order[2])
    assert kb_ids["slow"] not in exported and kb_ids["lis-qc"] in exported
    assert len(exported) == len(set(exported))
    assert "<strong>新员工</strong>" in page.text and "收费问题先联系财务科" in page.text
    bad = client.patch(
        f"/api/v1/handbooks/{handbook_id}",
        headers=editor_headers,
        json={"shaping": {"pinned": [987654]}},
    )
    assert bad.status_code == 422 and "不存在" in bad.json()["message"]


def test_viewer_reads_and_downloads_published_editions_without_hidden_entries(
    client: TestClient,
    session: Session,
    editor_headers: H,
    admin_headers: H,
    viewer_headers: H,
    kb_ids: dict[str, int],
    handbook_id: int,
) -> None:
    # A viewer sees no unpublished handbook yet.
    assert f"/handbooks/{handbook_id}" not in client.get("/handbooks", headers=viewer_headers).text
    assert client.get(f"/handbooks/{handbook_id}", headers=viewer_headers).status_code == 404
    assert (
        client.post(f"/api/v1/handbooks/{handbook_id}/editions", headers=editor_headers).status_code
        == 201
    )
    # After publication the fee entry becomes restricted to the finance office.
    policy.set_restrictions(session, kb_ids["bill"], ["财务科"])
    session.commit()
    listing = client.get("/handbooks", headers=viewer_headers)
    assert listing.status_code == 200 and f"/handbooks/{handbook_id}" in listing.text
    page = client.get(f"/handbooks/{handbook_id}", headers=viewer_headers)
    assert page.status_code == 200 and "第 1 版" in page.text
    assert RESTRICTED not in page.text and "门诊医生站CA证书过期无法登录" in page.text
    assert 'data-export-job="pdf" data-edition="1"' in page.text
    assert "data-shaping" not in page.text and "发布新版" not in page.text
    url = f"/api/v1/handbooks/{handbook_id}/export?format=md&edition=1"
    assert RESTRICTED not in client.get(url, headers=viewer_headers).text
    assert RESTRICTED in client.get(url, headers=admin_headers).text
    _row, key = auth_service.create_api_key(
        session, name="finance", role=Role.viewer, departments=["财务科"]
    )
    session.commit()
    assert RESTRICTED in client.get(url, headers={"Authorization": f"Bearer {key}"}).text
    job = client.post(
        f"/api/v1/handbooks/{handbook_id}/exports",
        json={"format": "docx", "edition": 1},
        headers=viewer_headers,
    ).json()
    job = wait_done(client, job, viewer_headers)
    assert job["status"] == "done", job
    file = client.get(job["download_url"], headers=viewer_headers)
    assert file.status_code == 200 and RESTRICTED.encode() not in file.content
    # The live (unpublished) selection stays an editor's page.
    assert (
        client.get(f"/handbooks/{handbook_id}?edition=9", headers=viewer_headers).status_code == 404
    )


def test_sync_export_flags_loopback_links(
    client: TestClient, editor_headers: H, handbook_id: int
) -> None:
    r = client.get(f"/api/v1/handbooks/{handbook_id}/export?format=md", headers=editor_headers)
    assert r.status_code == 200 and "KBSVC_PUBLIC_BASE_URL" in r.headers["x-kbsvc-warning"]
    page = client.get(f"/handbooks/{handbook_id}", headers=editor_headers)
    assert "data-link-warning" in page.text and "KBSVC_PUBLIC_BASE_URL" in page.text
