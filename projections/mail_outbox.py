"""The e-mail outbox: what is to be sent to whom, by participant id; web/mailer.py sends it.

Addresses never enter the outbox (nor any event): the mailer looks each one up in the identity
store when it sends, so an erased person's mail is never sent and no copy of the address lingers.
Only people who opted in are queued, and the mailer checks again at sending time.

The outbox is not a read model: rebuilding the projections leaves it alone, and queuing the same
(kind, reference) for the same person again does nothing, so a replay never sends twice.
"""

from collections.abc import Sequence
from datetime import UTC, datetime

from projections.database import Cursor, Database

_CHUNK = 500
QUEUED, DELIVERED, FAILED, SKIPPED = "queued", "delivered", "failed", "skipped"
STATUS_LABELS = {QUEUED: "送信待ち", DELIVERED: "配信済み", FAILED: "送信失敗", SKIPPED: "対象外"}

OUTBOX_COLUMNS = [
    ("kind", "text"),
    ("reference", "text"),
    ("participant_id", "text"),
    ("status", "text"),
    ("attempts", "integer"),
    ("next_attempt_at", "text"),
    ("queued_at", "text"),
]


def moment(at: datetime) -> str:
    """A UTC moment as fixed-width text, so that due times compare as strings on both engines."""
    return at.astimezone(UTC).isoformat(timespec="microseconds")


def enqueue(
    cur: Cursor,
    *,
    kind: str,
    reference: str,
    recipients: Sequence[str],
    subject: str,
    body: str,
    link: str,
) -> int:
    """Queues one message for those of `recipients` (participant ids) who opted in to e-mail, inside
    the caller's transaction; returns how many were queued now (0 for a message already queued).

    `link` is a path on this site (e.g. /notices/ID) or an absolute URL; the mailer puts it in the
    body and, where it contains `{r}`, replaces that with a token naming the recipient
    (web.mailer.recipient_of verifies it), so a followed link can be counted per person.
    """
    now = moment(datetime.now(UTC))
    cur.execute(
        "INSERT INTO mail_messages (kind, reference, subject, body, link, queued_at) VALUES (?, ?, ?, ?, ?, ?)"
        " ON CONFLICT (kind, reference) DO NOTHING",
        (kind, reference, subject, body, link, now),
    )
    wanted = list(dict.fromkeys(str(r) for r in recipients))
    opted_in: list[str] = []
    for start in range(0, len(wanted), _CHUNK):
        chunk = wanted[start : start + _CHUNK]
        cur.execute(
            "SELECT participant_id FROM participants WHERE email_opt_in = 1 AND erased = 0"
            f" AND participant_id IN ({', '.join('?' for _ in chunk)})",
            chunk,
        )
        opted_in.extend(row[0] for row in cur.fetchall())
    if not opted_in:
        return 0
    cur.execute("SELECT COUNT(*) FROM mail_outbox WHERE kind = ? AND reference = ?", (kind, reference))
    before = cur.fetchone()[0]  # type: ignore[index]
    cur.insert_many(
        "mail_outbox",
        OUTBOX_COLUMNS,
        [(kind, reference, pid, QUEUED, 0, now, now) for pid in sorted(opted_in)],
        "ON CONFLICT (kind, reference, participant_id) DO NOTHING",
    )
    cur.execute("SELECT COUNT(*) FROM mail_outbox WHERE kind = ? AND reference = ?", (kind, reference))
    return cur.fetchone()[0] - before  # type: ignore[index]


def counts(db: Database, kind: str, reference: str) -> dict[str, int]:
    """How many of a message's e-mails are queued, delivered, failed and skipped."""
    found = {status: 0 for status in STATUS_LABELS}
    for status, n in db.query(
        "SELECT status, COUNT(*) FROM mail_outbox WHERE kind = ? AND reference = ? GROUP BY status", (kind, reference)
    ):
        found[status] = n
    return found


def totals(db: Database) -> dict[str, int]:
    """The whole outbox by status, for the staff page."""
    found = {status: 0 for status in STATUS_LABELS}
    for status, n in db.query("SELECT status, COUNT(*) FROM mail_outbox GROUP BY status"):
        found[status] = n
    return found
