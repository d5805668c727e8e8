"""The co-creation projection: organisations, challenges, the proposal pipeline and the public tally.

A batch is folded in memory, in two passes: the first finds what must be read, once for the batch
(the proposals stored before it, and the writers' live keys); the second folds every event into
rows, opening sealed texts as it goes (an erased writer's show as （削除済み）). Then one statement
a kind: new proposals, history, messages and attachments are appended (COPY on PostgreSQL), the
thread rows in key order; proposals stored before the batch are written back with one update.
Messages are most of the events, so their path is inlined and does no work twice.
"""

from collections.abc import Sequence
from datetime import datetime
from operator import itemgetter
from typing import Any
from uuid import UUID

import msgspec
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from domain.challenge import Challenge, ChallengeStatus
from domain.clock import city_date, fiscal_year
from domain.organisation import Organisation, name_context
from domain.participant import Participant
from domain.personal_data import NONCE_BYTES, unseal
from domain.proposal import (
    ERASED_TEXT,
    TEXT_FIELDS,
    Proposal,
    Stage,
    attachment_context,
    message_context,
    text_context,
)
from projections.database import Cursor
from projections.keystore import live_keys

_CHUNK = 500
_encode = msgspec.json.Encoder().encode
CITY, PROPOSER = "city", "proposer"
# Enum members and their .value are Python descriptors, dear per event: read once here.
ENDED = Stage.ENDED.value
RECEIVED = Stage.RECEIVED.value
_ENDED_STAGE = Stage.ENDED

PROPOSAL_COLUMNS = [
    ("proposal_id", "text"),
    ("organisation_id", "text"),
    ("submitted_by", "text"),
    ("challenge_id", "text"),
    ("department", "text"),
    ("routed", "integer"),
    ("sdg_goals", "text"),
    ("cost_yen", "bigint"),
    ("submitted_at", "text"),
    ("fiscal_year", "integer"),
    ("stage", "text"),
    ("stage_since", "text"),
    ("waiting_on", "text"),
    ("waiting_since", "text"),
    ("ended_reason", "text"),
    ("title", "text"),
    ("summary", "text"),
    ("plan", "text"),
    ("effect", "text"),
    ("period", "text"),
    ("messages", "integer"),
    ("consent_at", "text"),
    ("public_summary", "text"),
    ("summary_published_at", "text"),
]
# What later events change: loaded for proposals stored before this batch, written back after it.
MUTABLE = [
    "department",
    "routed",
    "stage",
    "stage_since",
    "waiting_on",
    "waiting_since",
    "ended_reason",
    "messages",
    "consent_at",
    "public_summary",
    "summary_published_at",
]
HISTORY_COLUMNS = [
    ("proposal_id", "text"),
    ("position", "bigint"),
    ("kind", "text"),
    ("stage", "text"),
    ("department", "text"),
    ("reason", "text"),
    ("actor_id", "text"),
    ("at", "text"),
]
MESSAGE_COLUMNS = [
    ("proposal_id", "text"),
    ("number", "integer"),
    ("position", "bigint"),
    ("author_id", "text"),
    ("from_city", "integer"),
    ("text", "text"),
    ("posted_at", "text"),
]
ATTACHMENT_COLUMNS = [
    ("proposal_id", "text"),
    ("sha256", "text"),
    ("name", "text"),
    ("media_type", "text"),
    ("size", "bigint"),
    ("added_by", "text"),
    ("added_at", "text"),
]
_PROPOSAL_EVENTS = frozenset(
    {
        Proposal.Routed,
        Proposal.StageChanged,
        Proposal.MessagePosted,
        Proposal.AttachmentAdded,
        Proposal.ConsentToPublishGiven,
        Proposal.SummaryPublished,
    }
)
_SUBMITTED = Proposal.Submitted
_MESSAGE = Proposal.MessagePosted
_STAGE = Proposal.StageChanged
_ROUTED = Proposal.Routed
_ATTACHMENT = Proposal.AttachmentAdded
_CONSENT = Proposal.ConsentToPublishGiven
_SUMMARY = Proposal.SummaryPublished
_ERASED = Participant.Erased
_PROPOSAL_ROW = itemgetter(*(name for name, _ in PROPOSAL_COLUMNS))
_MUTABLE_ROW = itemgetter(*MUTABLE)
_FIRST = itemgetter(0)
_LOADED = ["proposal_id", *MUTABLE]
_UPDATE = "UPDATE proposals SET " + ", ".join(f"{c} = ?" for c in MUTABLE) + " WHERE proposal_id = ?"
_SELECT = "SELECT proposal_id, " + ", ".join(MUTABLE) + " FROM proposals WHERE proposal_id IN ({marks})"


def _topic(cls: type) -> str:
    return f"{cls.__module__}:{cls.__qualname__}"


def goals_text(goals: Sequence[int]) -> str:
    return "," + ",".join(str(g) for g in goals) + "," if goals else ""


class CoCreationProjection:
    name = "cocreation"
    topics: tuple[str, ...] = tuple(
        _topic(cls)
        for cls in (
            Organisation.Registered,
            Organisation.MemberAdded,
            Organisation.Verified,
            Challenge.Drafted,
            Challenge.Revised,
            Challenge.Published,
            Challenge.Closed,
            Proposal.Submitted,
            Proposal.Routed,
            Proposal.StageChanged,
            Proposal.MessagePosted,
            Proposal.AttachmentAdded,
            Proposal.ConsentToPublishGiven,
            Proposal.SummaryPublished,
            Participant.Erased,
        )
    )

    def clear(self, cur: Cursor) -> None:
        # The `attachments` blobs are not a read model: they exist nowhere else.
        for table in (
            "proposal_attachments",
            "proposal_messages",
            "proposal_history",
            "proposals",
            "challenges",
            "organisation_members",
            "organisations",
        ):
            cur.execute(f"DELETE FROM {table}")

    def project(self, cur: Cursor, events: Sequence[tuple[int, Any]]) -> None:
        # Erasures are rare: the batch is cut only where one is. What came before it is written
        # first, then that person's texts are scrubbed.
        cuts = [i for i, item in enumerate(events) if type(item[1]) is _ERASED]
        start = 0
        for cut in cuts:
            self._apply(cur, events[start:cut])
            _scrub(cur, str(events[cut][1].originator_id))
            start = cut + 1
        self._apply(cur, events[start:] if start else events)

    def _apply(self, cur: Cursor, events: Sequence[tuple[int, Any]]) -> None:
        if not events:
            return
        # First pass: what the batch needs from the database, read once: the proposals stored
        # before it, and the writers' keys. UUIDs are keyed by their integer, since hashing a
        # UUID (its __hash__ and __eq__ are Python) and str(UUID) are dear.
        submitted: set[int] = set()
        touched: set[int] = set()
        writers: set[int] = set()
        for _, event in events:
            cls = type(event)
            if cls is _MESSAGE:
                touched.add(event.originator_id.int)
                writers.add(event.author_id.int)
            elif cls is _SUBMITTED:
                submitted.add(event.originator_id.int)
                writers.add(event.submitted_by.int)
            elif cls in _PROPOSAL_EVENTS:
                touched.add(event.originator_id.int)
                if cls is _ATTACHMENT:
                    writers.add(event.added_by.int)
        state = _load(cur, touched - submitted)
        names = _Names()
        keys = live_keys(cur, [names[writer] for writer in writers]) if writers else {}
        # One cipher per writer for the whole batch: making one costs as much as opening a short text.
        ciphers = {writer: AESGCM(keys[names[writer]]) for writer in writers if names[writer] in keys}

        new: list[dict[str, Any]] = []
        changed: set[int] = set()
        history: list[tuple[Any, ...]] = []
        messages: list[tuple[Any, ...]] = []
        attachments: list[tuple[Any, ...]] = []
        for position, event in events:
            cls = type(event)
            if cls is _MESSAGE:  # Most of the events: everything inlined.
                oid = event.originator_id.int
                row = state[oid]
                pid, number, at = row["proposal_id"], event.number, _iso(event.timestamp)
                row["messages"] = number
                on = PROPOSER if event.from_city else CITY
                if row["waiting_on"] != on and row["stage"] != ENDED:  # _wait, inlined
                    row["waiting_on"], row["waiting_since"] = on, at
                writer = event.author_id.int
                cipher, sealed = ciphers.get(writer), event.text
                if cipher is None:  # The writer is erased.
                    text = ERASED_TEXT
                else:
                    try:
                        context = message_context(pid, number).encode()
                        text = cipher.decrypt(sealed[:NONCE_BYTES], sealed[NONCE_BYTES:], context).decode()
                    except (InvalidTag, ValueError):
                        text = ERASED_TEXT
                messages.append((pid, number, position, names[writer], int(event.from_city), text, at))
                changed.add(oid)
                continue
            at = _iso(event.timestamp)
            if cls is _SUBMITTED:
                row = state[event.originator_id.int] = _new_row(event, at, names)
                pid, writer = row["proposal_id"], event.submitted_by.int
                for name, sealed in event.texts.items():
                    row[name] = _open(ciphers.get(writer), sealed, text_context(pid, name))
                new.append(row)
                history.append((pid, position, "submitted", RECEIVED, row["department"], "", names[writer], at))
            elif cls is _STAGE:
                oid = event.originator_id.int
                row = state[oid]
                stage = event.stage
                value = str(stage)  # Stage is a StrEnum: its value, without the descriptor
                row["stage"], row["stage_since"] = value, at
                if stage is _ENDED_STAGE:
                    row["ended_reason"] = event.reason
                    row["waiting_on"] = row["waiting_since"] = None
                else:
                    _wait(row, PROPOSER, at, restart=True)
                actor = names[event.decided_by.int]
                history.append((row["proposal_id"], position, "stage", value, None, event.reason, actor, at))
                changed.add(oid)
            elif cls is _ROUTED:
                oid = event.originator_id.int
                row = state[oid]
                row["department"], row["routed"] = event.department, 1
                history.append(
                    (row["proposal_id"], position, "routed", None, event.department, "", names[event.routed_by.int], at)
                )
                changed.add(oid)
            elif cls is _ATTACHMENT:
                pid, writer = state[event.originator_id.int]["proposal_id"], event.added_by.int
                name = _open(ciphers.get(writer), event.name, attachment_context(pid, event.sha256))
                attachments.append((pid, event.sha256, name, event.media_type, event.size, names[writer], at))
            elif cls is _CONSENT:
                oid = event.originator_id.int
                row = state[oid]
                row["consent_at"] = at
                history.append((row["proposal_id"], position, "consent", None, None, "", names[event.given_by.int], at))
                changed.add(oid)
            elif cls is _SUMMARY:
                oid = event.originator_id.int
                row = state[oid]
                row["public_summary"], row["summary_published_at"] = event.text, at
                actor = names[event.published_by.int]
                history.append((row["proposal_id"], position, "summary", None, None, "", actor, at))
                changed.add(oid)
            elif cls.__qualname__.startswith("Organisation."):
                _apply_organisation(cur, event, at)
            else:
                _apply_challenge(cur, event, at)
        if new:  # A proposal's first event is its only Submitted: its row cannot be there yet.
            cur.append_rows("proposals", PROPOSAL_COLUMNS, [_PROPOSAL_ROW(row) for row in new])
        updates = [(*_MUTABLE_ROW(state[oid]), state[oid]["proposal_id"]) for oid in changed - submitted]
        if updates:
            cur.executemany(_UPDATE, updates)
        # The thread tables are kept in key order: rows sorted so, written together, touch each
        # page of the index once and in order.
        if history:
            history.sort(key=_FIRST)  # stable: a proposal's rows stay in event order, which is key order
            cur.append_rows("proposal_history", HISTORY_COLUMNS, history)
        if messages:
            messages.sort(key=_FIRST)
            cur.append_rows("proposal_messages", MESSAGE_COLUMNS, messages)
        if attachments:
            cur.append_rows("proposal_attachments", ATTACHMENT_COLUMNS, attachments)


def _open(cipher: AESGCM | None, sealed: bytes, context: str) -> str:
    """domain.personal_data.unseal, with the writer's cipher made once per batch; an erased
    writer's text (no cipher, or a key that no longer opens it) shows as （削除済み）."""
    if cipher is None:
        return ERASED_TEXT
    try:
        return cipher.decrypt(sealed[:NONCE_BYTES], sealed[NONCE_BYTES:], context.encode()).decode()
    except (InvalidTag, ValueError):
        return ERASED_TEXT


def _iso(moment: datetime) -> str:
    """moment.isoformat(), the same text in a fraction of the time for the UTC moments events are
    stamped with: datetime's own formats through printf and asks the zone for its offset, which
    costs more than the rest of projecting a message. msgspec writes RFC 3339, which for a zero
    offset differs from isoformat only in writing it as Z; any other zone is left to isoformat."""
    text = _encode(moment)
    if text[-2:] == b'Z"':
        return text[1:-2].decode() + "+00:00"
    return moment.isoformat()


class _Names(dict[int, str]):
    """str(UUID) of each UUID met in a batch, made once and keyed by the UUID's integer: str(UUID)
    is Python, and so are a UUID's __hash__ and __eq__, whereas the integer is at hand."""

    def __missing__(self, number: int) -> str:
        digits = f"{number:032x}"  # uuid.UUID.__str__
        text = self[number] = f"{digits[:8]}-{digits[8:12]}-{digits[12:16]}-{digits[16:20]}-{digits[20:]}"
        return text


def _new_row(event: Any, at: str, names: _Names) -> dict[str, Any]:
    return {
        "proposal_id": str(event.originator_id),
        "organisation_id": names[event.organisation_id.int],
        "submitted_by": names[event.submitted_by.int],
        "challenge_id": names[event.challenge_id.int] if event.challenge_id else None,
        "department": event.department,
        "routed": 0,
        "sdg_goals": goals_text(event.sdg_goals),
        "cost_yen": event.cost_yen,
        "submitted_at": at,
        "fiscal_year": fiscal_year(city_date(event.timestamp)),
        "stage": RECEIVED,
        "stage_since": at,
        "waiting_on": CITY,
        "waiting_since": at,
        "ended_reason": None,
        **dict.fromkeys(TEXT_FIELDS, ""),
        "messages": 0,
        "consent_at": None,
        "public_summary": None,
        "summary_published_at": None,
    }


def _wait(row: dict[str, Any], on: str, at: str, restart: bool = False) -> None:
    """Who must answer next, and since when: the first unanswered word counts, not the last."""
    if row["stage"] == ENDED:
        return
    if restart or row["waiting_on"] != on:
        row["waiting_on"], row["waiting_since"] = on, at


def _load(cur: Cursor, ids: set[int]) -> dict[int, dict[str, Any]]:
    """The mutable columns of proposals stored before this batch, keyed by the id's integer."""
    found: dict[int, dict[str, Any]] = {}
    wanted = [str(UUID(int=number)) for number in ids]
    for start in range(0, len(wanted), _CHUNK):
        chunk = wanted[start : start + _CHUNK]
        cur.execute(_SELECT.format(marks=", ".join("?" for _ in chunk)), chunk)
        for row in cur.fetchall():
            found[UUID(row[0]).int] = dict(zip(_LOADED, row, strict=True))
    return found


def _apply_organisation(cur: Cursor, event: Any, at: str) -> None:
    oid = str(event.originator_id)
    if isinstance(event, Organisation.Registered):
        name, owner = event.name, None
        if event.sealed_name is not None:
            owner = str(event.registered_by)
            key = live_keys(cur, [owner]).get(owner)
            name = (unseal(key, event.sealed_name, name_context(event.originator_id)) if key else None) or ERASED_TEXT
        cur.execute(
            "INSERT INTO organisations (organisation_id, kind, corporate_number, name, name_owner, registered_by,"
            " registered_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (oid, event.kind.value, event.corporate_number, name, owner, str(event.registered_by), at),
        )
    elif isinstance(event, Organisation.MemberAdded):
        cur.execute(
            "INSERT INTO organisation_members (organisation_id, participant_id, joined_at) VALUES (?, ?, ?)",
            (oid, str(event.participant_id), at),
        )
    elif isinstance(event, Organisation.Verified):
        cur.execute(
            "UPDATE organisations SET verified = 1, verified_by = ?, verified_at = ? WHERE organisation_id = ?",
            (str(event.verified_by), at, oid),
        )


def _apply_challenge(cur: Cursor, event: Any, at: str) -> None:
    cid = str(event.originator_id)
    if isinstance(event, Challenge.Drafted | Challenge.Revised):
        details = (
            event.title,
            event.background,
            event.shareable_data,
            event.outcomes,
            goals_text(event.sdg_goals),
            event.deadline.isoformat(),
        )
        if isinstance(event, Challenge.Drafted):
            cur.execute(
                "INSERT INTO challenges (challenge_id, department, title, background, shareable_data, outcomes,"
                " sdg_goals, deadline, status, drafted_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (cid, event.department, *details, ChallengeStatus.DRAFT.value, at, at),
            )
        else:
            cur.execute(
                "UPDATE challenges SET title = ?, background = ?, shareable_data = ?, outcomes = ?, sdg_goals = ?,"
                " deadline = ?, updated_at = ? WHERE challenge_id = ?",
                (*details, at, cid),
            )
    elif isinstance(event, Challenge.Published):
        cur.execute(
            "UPDATE challenges SET status = ?, published_at = ?, updated_at = ? WHERE challenge_id = ?",
            (ChallengeStatus.PUBLISHED.value, at, at, cid),
        )
    elif isinstance(event, Challenge.Closed):
        cur.execute(
            "UPDATE challenges SET status = ?, closed_at = ?, updated_at = ? WHERE challenge_id = ?",
            (ChallengeStatus.CLOSED.value, at, at, cid),
        )


def _scrub(cur: Cursor, participant_id: str) -> None:
    """An erased person's words, wherever they were opened: proposals, messages, file names, a trade name."""
    blank = ", ".join(f"{name} = ?" for name in TEXT_FIELDS)
    cur.execute(
        f"UPDATE proposals SET {blank} WHERE submitted_by = ?", (*[ERASED_TEXT] * len(TEXT_FIELDS), participant_id)
    )
    cur.execute("UPDATE proposal_messages SET text = ? WHERE author_id = ?", (ERASED_TEXT, participant_id))
    cur.execute("UPDATE proposal_attachments SET name = ? WHERE added_by = ?", (ERASED_TEXT, participant_id))
    cur.execute("UPDATE organisations SET name = ? WHERE name_owner = ?", (ERASED_TEXT, participant_id))
