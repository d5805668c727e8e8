-- Targeted notices (ターゲット別情報発信): the notices, who each one reached, and the send jobs.
-- `notices` is projected from Notice and NoticeOpening events (and responses, for "acted").
-- `notice_recipients` rows are written by the send job (who a segment reached is never in an
-- event); a rebuild keeps them and only recomputes their opened/acted columns from the events.
-- `notice_jobs` is the send jobs' progress, which any web worker can report on.

CREATE TABLE notices (
    notice_id TEXT PRIMARY KEY,
    department TEXT NOT NULL,
    title TEXT NOT NULL,
    body TEXT NOT NULL,
    link_kind TEXT,
    link_id TEXT,
    drafted_by TEXT NOT NULL,
    drafted_at TEXT NOT NULL,
    sent_at TEXT,
    sent_by TEXT,
    -- The fiscal year (April-March, Asia/Tokyo) of the day it was sent.
    fiscal_year INTEGER,
    -- The segment's definition as JSON, and the number of people it reached when sent.
    segment TEXT,
    targeted INTEGER NOT NULL DEFAULT 0,
    job_id TEXT,
    opened INTEGER NOT NULL DEFAULT 0,
    opened_by_email INTEGER NOT NULL DEFAULT 0,
    acted INTEGER NOT NULL DEFAULT 0
);

CREATE INDEX notices_by_department ON notices (department, drafted_at);

CREATE INDEX notices_by_fiscal_year ON notices (fiscal_year);

CREATE INDEX notices_by_link ON notices (link_kind, link_id);

CREATE TABLE notice_recipients (
    notice_id TEXT NOT NULL,
    participant_id TEXT NOT NULL,
    delivered_at TEXT NOT NULL,
    opened_at TEXT,
    opened_how TEXT,
    acted_at TEXT,
    -- 1 when the notice was also queued to the person's e-mail (they had opted in).
    emailed INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (notice_id, participant_id)
) WITHOUT ROWID;

-- A person's inbox, and the responses that may count as acting on a notice.
CREATE INDEX notice_recipients_by_participant ON notice_recipients (participant_id, delivered_at);

CREATE TABLE notice_jobs (
    job_id TEXT PRIMARY KEY,
    notice_id TEXT NOT NULL,
    staff_id TEXT NOT NULL,
    segment TEXT NOT NULL,
    started_at TEXT NOT NULL,
    total INTEGER NOT NULL DEFAULT 0,
    done INTEGER NOT NULL DEFAULT 0,
    emailed INTEGER NOT NULL DEFAULT 0,
    finished_at TEXT,
    error TEXT
);

CREATE INDEX notice_jobs_by_notice ON notice_jobs (notice_id);
