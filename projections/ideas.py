"""The ideas projection: the public list of citizens' ideas, their supports, comments and answers.

Support counts are folded per batch (+1 per Given or GivenAgain, −1 per Withdrawn) and written
with one update per idea per batch, so a thousand concurrent supports of one idea cost one row
update and are counted exactly (the Support aggregate makes each person's events alternate).

Search in Japanese, on both engines, by a bigram table. What the engines' own tools do with a
two-character query such as 公園 (checked on SQLite 3.40 and PostgreSQL 15 with locale C, the
test server's):
- SQLite FTS5 `unicode61` splits on spaces and punctuation only, so a run of Japanese is one
  token: 「近所の公園に木陰を」 is a single token, and MATCH '公園' finds only a text that is
  exactly 公園.
- SQLite FTS5 `trigram` finds substrings of three or more characters (ベンチ, 公園に木陰), but a
  one- or two-character MATCH, and even LIKE '%公園%' on the trigram table, returns no rows.
- PostgreSQL pg_trgm (installable there): under locale C, show_trgm('公園') and
  show_trgm('近所の公園に木陰') are both empty (only ASCII letters and digits are word
  characters), similarity is 0, and LIKE '%公園%' through a gin_trgm_ops index extracts no
  trigram, so the "index scan" reads the whole index and rechecks every row: right answers,
  full-scan cost. to_tsvector('simple', …) makes the whole Japanese run one lexeme, like unicode61.
So the projection indexes every bigram of the normalised (NFKC, case-folded) title and body in
idea_grams(gram, idea_id); a query of two or more characters intersects its bigrams there and
confirms the exact substring with LIKE on the few candidates; a one-character query is a LIKE
over the list in its index order.
"""

import unicodedata
from collections import defaultdict
from collections.abc import Sequence
from typing import Any
from uuid import UUID

import msgspec

from domain.comment import Comment, comment_context
from domain.idea import Idea, body_context, title_context
from domain.participant import Participant
from domain.personal_data import unseal
from domain.support import Support
from projections.database import Cursor
from projections.keystore import live_keys

ERASED_TEXT = "（削除済み）"

IDEA_COLUMNS = [
    ("idea_id", "text"),
    ("author_id", "text"),
    ("title", "text"),
    ("body", "text"),
    ("search_text", "text"),
    ("department", "text"),
    ("sdg_goals", "text"),
    ("ward", "text"),
    ("status", "text"),
    ("erased", "integer"),
    ("submitted_at", "text"),
    ("updated_at", "text"),
]
GOAL_COLUMNS = [("idea_id", "text"), ("goal", "integer")]
GRAM_COLUMNS = [("gram", "text"), ("idea_id", "text")]
COMMENT_COLUMNS = [
    ("comment_id", "text"),
    ("idea_id", "text"),
    ("parent_id", "text"),
    ("author_id", "text"),
    ("text", "text"),
    ("posted_at", "text"),
    ("erased", "integer"),
]

_encode = msgspec.json.encode


def normalise(text: str) -> str:
    """The form both the index and the queries use: full-width letters and digits made
    half-width, half-width katakana made full-width (NFKC), and case folded."""
    return unicodedata.normalize("NFKC", text).casefold()


def bigrams(normalised: str) -> set[str]:
    """Every pair of adjacent characters within each run of non-space characters."""
    grams: set[str] = set()
    for run in normalised.split():
        grams.update(run[i : i + 2] for i in range(len(run) - 1))
    return grams


def _topic(cls: type) -> str:
    return f"{cls.__module__}:{cls.__qualname__}"


def moment(event: Any) -> str:
    return str(event.timestamp.isoformat(timespec="microseconds"))


class IdeaProjection:
    name = "ideas"
    topics: tuple[str, ...] = tuple(
        _topic(cls)
        for cls in (
            Idea.Submitted,
            Idea.Edited,
            Idea.Withdrawn,
            Idea.Reassigned,
            Idea.AnswerDrafted,
            Idea.AnswerPublished,
            Idea.StatusChanged,
            Support.Given,
            Support.GivenAgain,
            Support.Withdrawn,
            Comment.Posted,
            Comment.Reported,
            Comment.Hidden,
            Participant.Erased,
        )
    )

    def clear(self, cur: Cursor) -> None:
        for table in ("idea_history", "idea_comments", "idea_grams", "idea_goals", "ideas"):
            cur.execute(f"DELETE FROM {table}")

    def project(self, cur: Cursor, events: Sequence[tuple[int, Any]]) -> None:
        batch = _Batch(cur, events)
        for position, event in events:
            kind = type(event)
            if kind is Support.Given or kind is Support.GivenAgain:
                batch.supports[str(event.idea_id)] += 1
            elif kind is Support.Withdrawn:
                batch.supports[str(event.idea_id)] -= 1
            elif kind is Idea.Submitted:
                batch.add_idea(event)
            else:
                # Anything else may touch rows added earlier in this batch: write those first.
                batch.flush()
                batch.apply(position, event)
        batch.flush()
        batch.write_counts()


class _Batch:
    def __init__(self, cur: Cursor, events: Sequence[tuple[int, Any]]) -> None:
        self.cur = cur
        self.supports: defaultdict[str, int] = defaultdict(int)
        self.comments: defaultdict[str, int] = defaultdict(int)
        self.ideas: list[tuple[Any, ...]] = []
        self.goals: list[tuple[str, int]] = []
        self.grams: list[tuple[str, str]] = []
        # The authors' live keys, read once for the batch, inside its transaction.
        authors = {str(e.author_id) for _, e in events if type(e) is Idea.Submitted or type(e) is Comment.Posted}
        self.keys = live_keys(cur, authors) if authors else {}

    def key(self, author_id: str) -> bytes | None:
        if author_id not in self.keys:
            found = live_keys(self.cur, [author_id])
            self.keys[author_id] = found.get(author_id)  # type: ignore[assignment]
        return self.keys.get(author_id)

    def open_idea(self, idea_id: UUID, author_id: str, title: bytes, body: bytes) -> tuple[str, str] | None:
        key = self.key(author_id)
        if key is None:
            return None
        opened_title = unseal(key, title, title_context(idea_id))
        opened_body = unseal(key, body, body_context(idea_id))
        if opened_title is None or opened_body is None:
            return None
        return opened_title, opened_body

    def add_idea(self, event: Any) -> None:
        idea_id, author = str(event.originator_id), str(event.author_id)
        opened = self.open_idea(event.originator_id, author, event.title, event.body)
        title, body = opened if opened else (ERASED_TEXT, ERASED_TEXT)
        search = normalise(f"{title}\n{body}") if opened else ""
        at = moment(event)
        self.ideas.append(
            (
                idea_id,
                author,
                title,
                body,
                search,
                event.department,
                _encode(event.sdg_goals).decode(),
                event.ward.value if event.ward else None,
                "received",
                0 if opened else 1,
                at,
                at,
            )
        )
        self.goals.extend((idea_id, goal) for goal in event.sdg_goals)
        self.grams.extend((gram, idea_id) for gram in bigrams(search))

    def flush(self) -> None:
        if self.ideas:
            self.cur.insert_many("ideas", IDEA_COLUMNS, self.ideas)
            self.ideas = []
        if self.goals:
            self.cur.append_rows("idea_goals", GOAL_COLUMNS, self.goals)
            self.goals = []
        if self.grams:
            # In index order, the inserts append to the B-tree instead of landing all over it.
            self.grams.sort()
            self.cur.append_rows("idea_grams", GRAM_COLUMNS, self.grams)
            self.grams = []

    def write_counts(self) -> None:
        supports = [(n, idea) for idea, n in self.supports.items() if n]
        if supports:
            self.cur.executemany("UPDATE ideas SET support_count = support_count + ? WHERE idea_id = ?", supports)
        comments = [(n, idea) for idea, n in self.comments.items() if n]
        if comments:
            self.cur.executemany("UPDATE ideas SET comment_count = comment_count + ? WHERE idea_id = ?", comments)

    def history(self, position: int, event: Any, kind: str, detail: dict[str, Any]) -> None:
        self.cur.execute(
            "INSERT INTO idea_history (idea_id, position, at, kind, detail) VALUES (?, ?, ?, ?, ?)",
            (str(event.originator_id), position, moment(event), kind, _encode(detail).decode()),
        )

    def apply(self, position: int, event: Any) -> None:
        cur, kind, at = self.cur, type(event), moment(event)
        idea_id = str(event.originator_id)
        if kind is Idea.Edited:
            self._edit(event)
        elif kind is Idea.Withdrawn:
            cur.execute(
                "UPDATE ideas SET listed = 0, withdrawn_at = ?, updated_at = ? WHERE idea_id = ?", (at, at, idea_id)
            )
            cur.execute("DELETE FROM idea_grams WHERE idea_id = ?", (idea_id,))
            self.history(position, event, "withdrawn", {})
        elif kind is Idea.Reassigned:
            cur.execute(
                "UPDATE ideas SET department = ?, responded = 1, updated_at = ? WHERE idea_id = ?",
                (event.department, at, idea_id),
            )
            self.history(position, event, "reassigned", {"from": event.previous_department, "to": event.department})
        elif kind is Idea.AnswerDrafted:
            cur.execute(
                "UPDATE ideas SET draft_answer = ?, drafted_at = ?, responded = 1, updated_at = ? WHERE idea_id = ?",
                (event.answer, at, at, idea_id),
            )
        elif kind is Idea.AnswerPublished:
            cur.execute(
                "UPDATE ideas SET answer = ?, answered_at = ?, updated_at = ? WHERE idea_id = ?",
                (event.answer, at, at, idea_id),
            )
            self.history(position, event, "answered", {})
        elif kind is Idea.StatusChanged:
            cur.execute(
                "UPDATE ideas SET status = ?, status_reason = ?, status_changed_at = ?, responded = 1, updated_at = ?"
                " WHERE idea_id = ?",
                (event.status.value, event.reason, at, at, idea_id),
            )
            self.history(position, event, "status", {"status": event.status.value, "reason": event.reason})
        elif kind is Comment.Posted:
            self._post(event)
        elif kind is Comment.Reported:
            cur.execute("UPDATE idea_comments SET report_count = report_count + 1 WHERE comment_id = ?", (idea_id,))
        elif kind is Comment.Hidden:
            row = cur.execute(
                "UPDATE idea_comments SET hidden = 1, hidden_reason = ?, hidden_at = ?, hidden_by = ?"
                " WHERE comment_id = ? RETURNING idea_id",
                (event.reason, at, str(event.moderator_id), idea_id),
            ).fetchone()
            if row:
                self.comments[row[0]] -= 1
        elif kind is Participant.Erased:
            self._erase(idea_id)

    def _edit(self, event: Any) -> None:
        cur, idea_id = self.cur, str(event.originator_id)
        row = cur.execute("SELECT author_id, listed FROM ideas WHERE idea_id = ?", (idea_id,)).fetchone()
        if row is None:
            return
        opened = self.open_idea(event.originator_id, row[0], event.title, event.body)
        title, body = opened if opened else (ERASED_TEXT, ERASED_TEXT)
        search = normalise(f"{title}\n{body}") if opened and row[1] else ""
        cur.execute(
            "UPDATE ideas SET title = ?, body = ?, search_text = ?, department = ?, sdg_goals = ?, ward = ?,"
            " erased = ?, updated_at = ? WHERE idea_id = ?",
            (
                title,
                body,
                search,
                event.department,
                _encode(event.sdg_goals).decode(),
                event.ward.value if event.ward else None,
                0 if opened else 1,
                moment(event),
                idea_id,
            ),
        )
        cur.execute("DELETE FROM idea_goals WHERE idea_id = ?", (idea_id,))
        cur.execute("DELETE FROM idea_grams WHERE idea_id = ?", (idea_id,))
        self.goals.extend((idea_id, goal) for goal in event.sdg_goals)
        self.grams.extend((gram, idea_id) for gram in bigrams(search))
        self.flush()

    def _post(self, event: Any) -> None:
        author = str(event.author_id)
        key = self.key(author)
        text = unseal(key, event.text, comment_context(event.originator_id)) if key else None
        self.cur.insert_many(
            "idea_comments",
            COMMENT_COLUMNS,
            [
                (
                    str(event.originator_id),
                    str(event.idea_id),
                    str(event.parent_id) if event.parent_id else None,
                    author,
                    text if text is not None else "",
                    moment(event),
                    0 if text is not None else 1,
                )
            ],
        )
        self.comments[str(event.idea_id)] += 1

    def _erase(self, participant_id: str) -> None:
        """The person's ideas and comments keep their place and counts, not their words."""
        cur = self.cur
        cur.execute(
            "DELETE FROM idea_grams WHERE idea_id IN (SELECT idea_id FROM ideas WHERE author_id = ?)", (participant_id,)
        )
        cur.execute(
            "UPDATE ideas SET title = ?, body = ?, search_text = '', erased = 1 WHERE author_id = ?",
            (ERASED_TEXT, ERASED_TEXT, participant_id),
        )
        cur.execute("UPDATE idea_comments SET text = '', erased = 1 WHERE author_id = ?", (participant_id,))
        self.keys.pop(participant_id, None)
