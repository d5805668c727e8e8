"""Sending a notice: a background job per send, its progress kept in the database.

A segment may reach a hundred thousand people, more than a web request should wait for, so the
request only checks the rules and starts a job; the page polls its progress (any web worker can
answer, the progress being a row). The job resolves the segment against the participants read
model, records the Sent event with the count, then delivers in batches: each batch's inbox rows,
its e-mails (for those who opted in, through the shared outbox) and the job's progress go in one
transaction, the last one marking the job finished. Each batch stamps its delivery after locking
the notice's row (see projections/notices.py), so that "acted" is exact however the projector
and the job interleave.
"""

import contextvars
import logging
import threading
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from uuid import UUID

import msgspec

from domain import clock
from domain.errors import DomainError
from domain.notice import Segment
from projections import mail_outbox
from projections.notices import iso, lock_notices
from projections.notices_read import resolve_segment, running_job, write_recipients
from projections.storage import Storage

log = logging.getLogger(__name__)

BATCH = 1000
MAIL_KIND = "notice"
# Told (done, total) after each batch has committed.
Progress = Callable[[int, int], None]


class NoticeBeingSent(DomainError):
    code = "notice_being_sent"
    message = "このお知らせは送信中です。"


def notice_path(notice_id: UUID | str, *, via_email: bool = False) -> str:
    """The citizen's page of a notice. The e-mail's link carries `{r}`, which the mailer replaces
    with a token naming the recipient (web/mailer.py), so following it counts as opening by e-mail."""
    return f"/me/notices/{notice_id}" + ("?r={r}" if via_email else "")


class NoticeJobs:
    """Sends in flight, one thread each, at most `concurrency` at once in this process."""

    def __init__(self, storage: Storage, concurrency: int = 2, batch: int = BATCH) -> None:
        self.storage = storage
        self.batch = batch
        self._slots = threading.Semaphore(concurrency)

    def prepare(self, notice_id: UUID, staff_id: UUID, segment: Segment) -> str:
        """Checks what can be checked before any work, and records the job; returns its id."""
        self.storage.app.check_notice_sendable(notice_id, staff_id=staff_id)
        if running_job(self.storage.db, str(notice_id)):
            raise NoticeBeingSent()
        job_id = uuid.uuid4().hex
        with self.storage.db.transaction() as cur:
            cur.execute(
                "INSERT INTO notice_jobs (job_id, notice_id, staff_id, segment, started_at) VALUES (?, ?, ?, ?, ?)",
                (
                    job_id,
                    str(notice_id),
                    str(staff_id),
                    msgspec.json.encode(segment).decode(),
                    datetime.now(UTC).isoformat(),
                ),
            )
        return job_id

    def start(self, notice_id: UUID, staff_id: UUID, segment: Segment) -> str:
        """Starts sending in the background; returns the job's id at once."""
        job_id = self.prepare(notice_id, staff_id, segment)
        # The job keeps the caller's clock (a frozen clock in tests and the demo stays frozen).
        context = contextvars.copy_context()

        def work() -> None:
            with self._slots:
                context.run(self.run, job_id, notice_id, staff_id, segment)

        threading.Thread(target=work, name=f"notice-{job_id[:8]}", daemon=True).start()
        return job_id

    def send_now(self, notice_id: UUID, staff_id: UUID, segment: Segment, progress: Progress | None = None) -> str:
        """Sends in this thread (the demo, tests); returns the job's id."""
        job_id = self.prepare(notice_id, staff_id, segment)
        self.run(job_id, notice_id, staff_id, segment, progress)
        return job_id

    def run(
        self, job_id: str, notice_id: UUID, staff_id: UUID, segment: Segment, progress: Progress | None = None
    ) -> None:
        storage = self.storage
        try:
            recipients = resolve_segment(storage.db, segment)
            self._update(job_id, "total = ?", (len(recipients),))
            storage.app.send_notice(
                notice_id, staff_id=staff_id, segment=segment, recipient_count=len(recipients), job_id=job_id
            )
            # The notice's row must exist before delivery (it is locked, and the inbox joins it).
            storage.projector.catch_up()
            notice = storage.app.get_notice(notice_id)
            self._deliver(job_id, str(notice_id), notice.title, notice.body, recipients, progress)
        except DomainError as e:
            self._update(job_id, "error = ?", (e.message,))
        except Exception:
            log.exception("sending notice %s failed", notice_id)
            self._update(job_id, "error = ?", ("送信中にエラーが発生しました。",))

    def _deliver(
        self,
        job_id: str,
        notice_id: str,
        title: str,
        body: str,
        recipients: list[tuple[str, bool]],
        progress: Progress | None,
    ) -> None:
        link = notice_path(notice_id, via_email=True)
        for start in range(0, len(recipients), self.batch):
            batch = recipients[start : start + self.batch]
            last = start + self.batch >= len(recipients)
            with self.storage.db.transaction() as cur:
                lock_notices(cur, [notice_id])
                delivered_at = iso(clock.now())
                write_recipients(cur, notice_id, delivered_at, batch)
                opted_in = [pid for pid, opted_in in batch if opted_in]
                emailed = 0
                if opted_in:
                    emailed = mail_outbox.enqueue(
                        cur, kind=MAIL_KIND, reference=notice_id, recipients=opted_in, subject=title, body=body,
                        link=link,
                    )  # fmt: skip
                cur.execute(
                    "UPDATE notice_jobs SET done = done + ?, emailed = emailed + ?, finished_at = ? WHERE job_id = ?",
                    (len(batch), emailed, delivered_at if last else None, job_id),
                )
            if progress is not None:
                progress(start + len(batch), len(recipients))

    def _update(self, job_id: str, assignments: str, params: tuple[object, ...]) -> None:
        with self.storage.db.transaction() as cur:
            cur.execute(f"UPDATE notice_jobs SET {assignments} WHERE job_id = ?", (*params, job_id))
