"""The export worker: claims queued jobs under a lease, renders them, stores file and progress.

Runs in the API process (started in the lifespan), one thread per export slot; the renderings
share the process's ExportLimiter with synchronous exports, so PDF/DOCX layouts at once stay
bounded. A host that dies mid-export leaves its job `running` with a lease; once the lease runs
out another worker takes the job again.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from datetime import timedelta

from sqlalchemy import or_, update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from kbsvc.config import Settings
from kbsvc.db import rowcount
from kbsvc.exceptions import KbError
from kbsvc.handbooks import assemble, export, jobs
from kbsvc.handbooks.export import ExportLimiter
from kbsvc.handbooks.models import ExportFormat, ExportJob, JobStatus
from kbsvc.handbooks.selection import EntrySearch
from kbsvc.timeutil import utcnow

log = logging.getLogger("kbsvc.handbooks")

LEASE = timedelta(minutes=10)
PHASES = {"layout": "排版中", "write": "生成文件"}
# Progress writes at most this often: a 500-entry book must not become 500 UPDATEs.
_PROGRESS_EVERY_S = 0.3


class ExportWorker:
    """Runs queued export jobs; several may run (threads, processes, hosts) on one database."""

    def __init__(
        self,
        settings: Settings,
        db_engine: Engine,
        search: EntrySearch,
        limiter: ExportLimiter,
        *,
        poll_interval_s: float = 0.5,
    ) -> None:
        self.settings, self.db_engine, self.search, self.limiter = (
            settings,
            db_engine,
            search,
            limiter,
        )
        self.poll_interval_s = poll_interval_s
        self.name = f"{socket.gethostname()}:{os.getpid()}:{id(self):x}"
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    def claim(self) -> int | None:
        """The id of a job this worker now holds (queued, or running with a lapsed lease)."""
        now = utcnow()
        free = or_(
            col(ExportJob.status) == JobStatus.queued.value,
            (col(ExportJob.status) == JobStatus.running.value) & (col(ExportJob.lease_until) < now),
        )
        with Session(self.db_engine) as session:
            ids = session.exec(
                select(col(ExportJob.id)).where(free).order_by(col(ExportJob.id)).limit(5)
            ).all()
            for job_id in ids:
                # Compare-and-set: of two workers that saw the row, exactly one updates it.
                won = session.execute(
                    update(ExportJob)
                    .where(col(ExportJob.id) == job_id, free)
                    .values(
                        status=JobStatus.running.value,
                        phase="准备条目",
                        claimed_by=self.name,
                        lease_until=now + LEASE,
                        started_at=now,
                        attempts=col(ExportJob.attempts) + 1,
                    )
                )
                if rowcount(won) == 1:
                    session.commit()
                    return job_id
            session.commit()
        return None

    def _update(self, job_id: int, **values: object) -> None:
        with Session(self.db_engine) as session:
            session.execute(
                update(ExportJob)
                .where(col(ExportJob.id) == job_id, col(ExportJob.claimed_by) == self.name)
                .values(**values)
            )
            session.commit()

    def run(self, job_id: int) -> JobStatus:
        """Render one claimed job and record the file or the error."""
        with Session(self.db_engine, expire_on_commit=False) as session:
            job = session.get(ExportJob, job_id)
            assert job is not None
            fmt = ExportFormat(job.format)
            try:
                doc = assemble.build_document(
                    session,
                    handbook_id=job.handbook_id,
                    settings=self.settings,
                    edition=job.edition,
                    search=self.search,
                    principal=jobs.principal_of(job),
                )
            except KbError as exc:
                return self._fail(job_id, exc.message)
        last = 0.0

        def progress(done: int, total: int) -> None:
            nonlocal last
            if done == total or time.monotonic() - last > _PROGRESS_EVERY_S:
                last = time.monotonic()
                self._update(job_id, done=done, total=total)

        def phase(name: str) -> None:
            self._update(job_id, phase=PHASES.get(name, name))

        self._update(job_id, total=doc.entry_count)
        try:
            with self.limiter.wait():
                body = export.render(doc, fmt, self.settings, progress=progress, on_phase=phase)
        except KbError as exc:
            return self._fail(job_id, exc.message)
        except Exception:  # a bug in one export must not stop the worker
            log.exception("handbook export job %s failed", job_id)
            return self._fail(job_id, "导出失败（服务器内部错误），请稍后重试或联系管理员。")
        self._update(
            job_id,
            status=JobStatus.done.value,
            phase="已完成",
            done=doc.entry_count,
            result=body,
            size=len(body),
            filename=export.filename(doc, fmt),
            finished_at=utcnow(),
            lease_until=None,
        )
        return JobStatus.done

    def _fail(self, job_id: int, message: str) -> JobStatus:
        self._update(
            job_id,
            status=JobStatus.failed.value,
            phase="失败",
            error=message[:1000],
            finished_at=utcnow(),
            lease_until=None,
        )
        return JobStatus.failed

    def run_once(self) -> bool:
        """Claim and run one job; False when none was waiting."""
        job_id = self.claim()
        if job_id is None:
            return False
        self.run(job_id)
        return True

    def _loop(self, first: bool) -> None:
        if first:
            self._purge()
        while not self._stop.is_set():
            try:
                busy = self.run_once()
            except Exception:  # the database may be briefly unavailable; try again later
                log.exception("handbook export worker pass failed")
                busy = False
            if not busy:
                self._stop.wait(self.poll_interval_s)

    def _purge(self) -> None:
        try:
            with Session(self.db_engine) as session:
                jobs.purge_finished(session)
                session.commit()
        except Exception:
            log.exception("purging old export jobs failed")

    def start(self) -> None:
        for n in range(self.limiter.limit):
            thread = threading.Thread(
                target=self._loop, args=(n == 0,), name=f"kbsvc-export-{n}", daemon=True
            )
            thread.start()
            self._threads.append(thread)

    def stop(self, timeout: float = 10) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout)
