-- Issue 10: who each participant is, in coarse terms (for targeted notices), and the e-mail outbox.
-- `participants` is a read model of Participant events (ParticipantProjection); a person's SDG goals
-- are one integer, bit n set for goal n; their departments are newline-separated.
-- The outbox is not a read model: a rebuild of the projections leaves it alone, so nothing is sent twice.
-- It holds participant ids only; the mailer looks the address up when it sends.

CREATE TABLE participants (
    participant_id TEXT PRIMARY KEY,
    role TEXT NOT NULL,
    department TEXT,
    ward TEXT,
    age_band TEXT,
    has_children INTEGER,
    erased INTEGER NOT NULL DEFAULT 0,
    follows_goals INTEGER NOT NULL DEFAULT 0,
    follows_departments TEXT NOT NULL DEFAULT '',
    email_opt_in INTEGER NOT NULL DEFAULT 0,
    registered_at TEXT NOT NULL
);

CREATE INDEX participants_by_role ON participants (role, ward);

CREATE INDEX participants_opted_in ON participants (email_opt_in, participant_id);

-- One message per (kind, reference): the subject, body and link every recipient of it gets.
CREATE TABLE mail_messages (
    kind TEXT NOT NULL,
    reference TEXT NOT NULL,
    subject TEXT NOT NULL,
    body TEXT NOT NULL,
    link TEXT NOT NULL,
    queued_at TEXT NOT NULL,
    PRIMARY KEY (kind, reference)
);

-- One row per recipient of a message. status: queued, delivered, failed (gave up after retries)
-- or skipped (erased, no address, or opted out by the time of sending).
CREATE TABLE mail_outbox (
    mail_id INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL,
    reference TEXT NOT NULL,
    participant_id TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'queued',
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT NOT NULL,
    last_error TEXT,
    queued_at TEXT NOT NULL,
    sent_at TEXT,
    UNIQUE (kind, reference, participant_id)
);

CREATE INDEX mail_outbox_due ON mail_outbox (status, next_attempt_at);

CREATE INDEX mail_outbox_by_participant ON mail_outbox (participant_id);
