-- Personal data under the person's control: data keys for crypto-shredding, whose free text
-- is whose, which sessions are whose (so erasure ends them at once), and each person's answers.

-- One AES-256 key per person. Erasure sets key to NULL and keeps the row as a tombstone, so
-- that no new key can ever be made for an erased person.
CREATE TABLE data_keys (
    participant_id TEXT PRIMARY KEY,
    key BLOB,
    created_at TEXT NOT NULL,
    destroyed_at TEXT
);

ALTER TABLE free_text_answers ADD COLUMN participant_id TEXT;

ALTER TABLE free_text_answers ADD COLUMN erased INTEGER NOT NULL DEFAULT 0;

CREATE INDEX free_text_answers_by_participant ON free_text_answers (participant_id);

ALTER TABLE web_sessions ADD COLUMN participant_id TEXT;

CREATE INDEX web_sessions_by_participant ON web_sessions (participant_id);

CREATE TABLE participant_responses (
    participant_id TEXT NOT NULL,
    survey_id TEXT NOT NULL,
    response_id TEXT NOT NULL,
    position INTEGER NOT NULL,
    submitted_at TEXT NOT NULL,
    PRIMARY KEY (participant_id, survey_id)
);
