"""The co-creation projection: organisations, challenges, the proposal pipeline and the public tally.

A batch is folded in memory first: new proposals become rows to insert, proposals already stored
are loaded once (one query for the batch), changed in memory and written back with one statement
each kind; history, messages and attachments are appended. Sealed texts are opened with their
writers' live keys, read once per batch; an erased writer's text shows as （削除済み）.
"""

from collections.abc import Sequence
from typing import Any

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
CITY, PROPOSER = "city", "proposer"
ENDED = Stage.ENDED.value

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
        segment: list[tuple[int, Any]] = []
        for item in events:
            if type(item[1]) is Participant.Erased:
                # What came before is written first, then that person's texts are scrubbed.
                self._apply(cur, segment)
                segment = []
                _scrub(cur, str(item[1].originator_id))
            else:
                segment.append(item)
        self._apply(cur, segment)

    def _apply(self, cur: Cursor, events: Sequence[tuple[int, Any]]) -> None:
        if not events:
            return
        # A UUID's text, made once per batch: str(UUID) is dear, and so is hashing a UUID (its
        # __hash__ and __eq__ are Python), so the cache is keyed by its integer.
        names: dict[int, str] = {}

        def text(uuid: Any) -> str:
            found = names.get(uuid.int)
            if found is None:
                found = names[uuid.int] = str(uuid)
            return found

        new: dict[str, dict[str, Any]] = {}
        sealed_texts: list[tuple[dict[str, Any], str, bytes, str]] = []
        touched: set[str] = set()
        for _, event in events:
            cls = type(event)
            if cls is Proposal.Submitted:
                new[text(event.originator_id)] = {}
            elif cls in _PROPOSAL_EVENTS:
                touched.add(text(event.originator_id))
        state = _load(cur, touched - set(new))
        changed: set[str] = set()
        history: list[tuple[Any, ...]] = []
        messages: list[list[Any]] = []
        attachments: list[list[Any]] = []
        for position, event in events:
            cls = type(event)
            pid = text(event.originator_id)
            at = event.timestamp.isoformat()
            if cls is Proposal.Submitted:
                row = _new_row(event, at)
                new[pid] = state[pid] = row
                for name, sealed in event.texts.items():
                    sealed_texts.append((row, name, sealed, row["submitted_by"]))
                history.append(
                    (pid, position, "submitted", Stage.RECEIVED.value, row["department"], "", row["submitted_by"], at)
                )
            elif cls is Proposal.MessagePosted:
                row = state[pid]
                row["messages"] = event.number
                on = PROPOSER if event.from_city else CITY
                if row["waiting_on"] != on and row["stage"] != ENDED:  # _wait, inlined: the commonest event
                    row["waiting_on"], row["waiting_since"] = on, at
                messages.append(
                    [pid, event.number, position, text(event.author_id), int(event.from_city), event.text, at]
                )
                changed.add(pid)
            elif cls is Proposal.StageChanged:
                row = state[pid]
                row["stage"], row["stage_since"] = event.stage.value, at
                if event.stage is Stage.ENDED:
                    row["ended_reason"] = event.reason
                    row["waiting_on"] = row["waiting_since"] = None
                else:
                    _wait(row, PROPOSER, at, restart=True)
                history.append(
                    (pid, position, "stage", event.stage.value, None, event.reason, text(event.decided_by), at)
                )
                changed.add(pid)
            elif cls is Proposal.Routed:
                row = state[pid]
                row["department"], row["routed"] = event.department, 1
                history.append((pid, position, "routed", None, event.department, "", str(event.routed_by), at))
                changed.add(pid)
            elif cls is Proposal.AttachmentAdded:
                attachments.append(
                    [pid, event.sha256, event.name, event.media_type, event.size, str(event.added_by), at]
                )
            elif cls is Proposal.ConsentToPublishGiven:
                state[pid]["consent_at"] = at
                history.append((pid, position, "consent", None, None, "", str(event.given_by), at))
                changed.add(pid)
            elif cls is Proposal.SummaryPublished:
                row = state[pid]
                row["public_summary"], row["summary_published_at"] = event.text, at
                history.append((pid, position, "summary", None, None, "", str(event.published_by), at))
                changed.add(pid)
            elif cls.__qualname__.startswith("Organisation."):
                _apply_organisation(cur, event, at)
            else:
                _apply_challenge(cur, event, at)
        self._open(cur, sealed_texts, messages, attachments)
        if new:
            cur.insert_many(
                "proposals", PROPOSAL_COLUMNS, [[row[name] for name, _ in PROPOSAL_COLUMNS] for row in new.values()]
            )
        updates = [[state[pid][c] for c in MUTABLE] + [pid] for pid in changed if pid not in new]
        if updates:
            cur.executemany(_UPDATE, updates)
        if history:
            cur.append_rows("proposal_history", HISTORY_COLUMNS, history)
        if messages:
            cur.append_rows("proposal_messages", MESSAGE_COLUMNS, messages)
        if attachments:
            cur.append_rows("proposal_attachments", ATTACHMENT_COLUMNS, attachments)

    @staticmethod
    def _open(
        cur: Cursor,
        sealed_texts: list[tuple[dict[str, Any], str, bytes, str]],
        messages: list[list[Any]],
        attachments: list[list[Any]],
    ) -> None:
        writers = {t[3] for t in sealed_texts} | {m[3] for m in messages} | {a[5] for a in attachments}
        if not writers:
            return
        opener = _Opener(live_keys(cur, writers))
        for row, name, sealed, writer in sealed_texts:
            row[name] = opener.open(writer, sealed, text_context(row["proposal_id"], name))
        ciphers = opener.ciphers
        for message in messages:  # Opener.open, inlined: messages are most of the events.
            cipher, sealed = ciphers.get(message[3]), message[5]
            if cipher is None:  # The writer is erased.
                message[5] = ERASED_TEXT
                continue
            try:
                context = message_context(message[0], message[1]).encode()
                message[5] = cipher.decrypt(sealed[:NONCE_BYTES], sealed[NONCE_BYTES:], context).decode()
            except (InvalidTag, ValueError):
                message[5] = ERASED_TEXT
        for attachment in attachments:
            attachment[2] = opener.open(attachment[5], attachment[2], attachment_context(attachment[0], attachment[1]))


class _Opener:
    """domain.personal_data.unseal, with one cipher per writer for the whole batch (making the
    cipher costs as much as opening a short text)."""

    def __init__(self, keys: dict[str, bytes]) -> None:
        self.ciphers = {writer: AESGCM(key) for writer, key in keys.items()}

    def open(self, writer: str, sealed: bytes, context: str) -> str:
        cipher = self.ciphers.get(writer)
        if cipher is None:
            return ERASED_TEXT
        try:
            return cipher.decrypt(sealed[:NONCE_BYTES], sealed[NONCE_BYTES:], context.encode()).decode()
        except (InvalidTag, ValueError):
            return ERASED_TEXT


def _new_row(event: Any, at: str) -> dict[str, Any]:
    return {
        "proposal_id": str(event.originator_id),
        "organisation_id": str(event.organisation_id),
        "submitted_by": str(event.submitted_by),
        "challenge_id": str(event.challenge_id) if event.challenge_id else None,
        "department": event.department,
        "routed": 0,
        "sdg_goals": goals_text(event.sdg_goals),
        "cost_yen": event.cost_yen,
        "submitted_at": at,
        "fiscal_year": fiscal_year(city_date(event.timestamp)),
        "stage": Stage.RECEIVED.value,
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
    if row["stage"] == Stage.ENDED.value:
        return
    if restart or row["waiting_on"] != on:
        row["waiting_on"], row["waiting_since"] = on, at


def _load(cur: Cursor, ids: set[str]) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    wanted = list(ids)
    for start in range(0, len(wanted), _CHUNK):
        chunk = wanted[start : start + _CHUNK]
        cur.execute(_SELECT.format(marks=", ".join("?" for _ in chunk)), chunk)
        for row in cur.fetchall():
            found[row[0]] = dict(zip(MUTABLE, row[1:], strict=True))
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
