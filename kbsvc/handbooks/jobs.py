"""Background exports: a durable job row per request; any host's worker runs it (worker.py)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import delete, func, select
from sqlmodel import Session, col

from kbsvc.auth.models import Principal, Role
from kbsvc.config import Settings
from kbsvc.exceptions import Conflict, NotFound, RateLimited
from kbsvc.handbooks import editions, export, service
from kbsvc.handbooks.models import (
    ExportFormat,
    ExportJob,
    ExportJobPublic,
    ExportRequest,
    JobStatus,
)
from kbsvc.timeutil import utcnow

ACTIVE = (JobStatus.queued.value, JobStatus.running.value)
# Each person may have a few exports waiting; a queue flood from one account waits for none.
MAX_ACTIVE_PER_PERSON = 3
# Finished files are kept this long for download, then the rows go.
KEEP = timedelta(days=1)


def principal_json(principal: Principal) -> dict[str, Any]:
    """What the worker needs to apply the visibility rule as the requester."""
    return {
        "kind": principal.kind,
        "name": principal.name,
        "role": principal.role.value if principal.role else None,
        "id": principal.id,
        "departments": list(principal.departments),
    }


def principal_of(job: ExportJob) -> Principal:
    data = job.principal
    return Principal(
        kind=data["kind"],
        name=data["name"],
        role=Role(data["role"]) if data.get("role") else None,
        id=data.get("id"),
        departments=tuple(data.get("departments", [])),
    )


def enqueue(
    session: Session,
    *,
    handbook_id: int,
    request: ExportRequest,
    principal: Principal,
    settings: Settings,
) -> ExportJob:
    """Queue an export of a handbook (live, or one edition) as `principal` would see it."""
    service.get(session, handbook_id=handbook_id)
    if request.edition is not None:
        editions.get_edition(session, handbook_id=handbook_id, number=request.edition)
    active = session.execute(
        select(func.count())
        .select_from(ExportJob)
        .where(col(ExportJob.requested_by) == principal.label, col(ExportJob.status).in_(ACTIVE))
    ).scalar_one()
    if active >= MAX_ACTIVE_PER_PERSON:
        raise RateLimited(
            f"您已有 {active} 个导出任务在进行，请等它们完成后再导出。"
            f" / {active} exports of yours are still running.",
            retry_after=10,
            limit=MAX_ACTIVE_PER_PERSON,
        )
    job = ExportJob(
        handbook_id=handbook_id,
        edition=request.edition,
        format=request.format.value,
        requested_by=principal.label,
        principal=principal_json(principal),
        warning=export.link_warning(settings.public_base_url),
    )
    session.add(job)
    session.flush()
    return job


def get_for(session: Session, *, job_id: int, principal: Principal) -> ExportJob:
    """The job, to the person who asked for it (and admins); NotFound for anyone else."""
    job = session.get(ExportJob, job_id)
    if job is None or (job.requested_by != principal.label and principal.role is not Role.admin):
        raise NotFound(f"export job {job_id} not found", job_id=job_id)
    return job


def result_of(session: Session, *, job_id: int, principal: Principal) -> ExportJob:
    """A finished job with its file; Conflict while it is still running or when it failed."""
    job = get_for(session, job_id=job_id, principal=principal)
    if job.status != JobStatus.done.value or job.result is None:
        raise Conflict(
            "导出尚未完成，请稍后再下载。 / The export has not finished.",
            job_id=job_id,
            status=job.status,
        )
    return job


def to_public(job: ExportJob) -> ExportJobPublic:
    """Public schema of a job (the file itself is downloaded separately)."""
    done = job.status == JobStatus.done.value
    return ExportJobPublic(
        id=job.id or 0,
        handbook_id=job.handbook_id,
        edition=job.edition,
        format=ExportFormat(job.format),
        status=JobStatus(job.status),
        phase=job.phase,
        done=job.done,
        total=job.total,
        warning=job.warning,
        error=job.error,
        filename=job.filename,
        size=job.size,
        created_at=job.created_at,
        started_at=job.started_at,
        finished_at=job.finished_at,
        download_url=f"/api/v1/handbooks/export-jobs/{job.id}/download" if done else None,
    )


def purge_finished(session: Session) -> int:
    """Drop finished jobs (and their files) older than KEEP; returns rows removed."""
    cutoff = utcnow() - KEEP
    result = session.execute(
        delete(ExportJob).where(
            col(ExportJob.status).not_in(ACTIVE), col(ExportJob.finished_at) < cutoff
        )
    )
    return int(getattr(result, "rowcount", 0) or 0)
