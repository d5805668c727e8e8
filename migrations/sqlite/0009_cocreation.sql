-- Co-creation (事業者提案): organisations, challenges, the proposal pipeline, its thread and files.
-- Proposal texts and messages are the opened (unsealed) texts; an erased writer's show （削除済み）.
-- The thread tables are WITHOUT ROWID: one b-tree per row inserted, not two.
-- No index by writer: erasure (rare) scans, so that projecting a message (frequent) stays cheap.

CREATE TABLE organisations (
    organisation_id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    corporate_number TEXT,
    name TEXT NOT NULL,
    -- Whose key sealed the name (a sole proprietor's trade name); NULL for a public company name.
    name_owner TEXT,
    registered_by TEXT NOT NULL,
    registered_at TEXT NOT NULL,
    verified INTEGER NOT NULL DEFAULT 0,
    verified_by TEXT,
    verified_at TEXT
);

CREATE TABLE organisation_members (
    organisation_id TEXT NOT NULL,
    participant_id TEXT NOT NULL,
    joined_at TEXT NOT NULL,
    PRIMARY KEY (organisation_id, participant_id)
);

CREATE INDEX organisation_members_by_participant ON organisation_members (participant_id);

CREATE TABLE challenges (
    challenge_id TEXT PRIMARY KEY,
    department TEXT NOT NULL,
    title TEXT NOT NULL,
    background TEXT NOT NULL,
    shareable_data TEXT NOT NULL,
    outcomes TEXT NOT NULL,
    sdg_goals TEXT NOT NULL,
    deadline TEXT NOT NULL,
    status TEXT NOT NULL,
    drafted_at TEXT NOT NULL,
    published_at TEXT,
    closed_at TEXT,
    updated_at TEXT NOT NULL
);

CREATE TABLE proposals (
    proposal_id TEXT PRIMARY KEY,
    organisation_id TEXT NOT NULL,
    submitted_by TEXT NOT NULL,
    challenge_id TEXT,
    department TEXT NOT NULL,
    routed INTEGER NOT NULL DEFAULT 0,
    -- ",3,11,": one goal is found with LIKE '%,3,%' on both engines.
    sdg_goals TEXT NOT NULL,
    cost_yen BIGINT NOT NULL,
    submitted_at TEXT NOT NULL,
    fiscal_year INTEGER NOT NULL,
    stage TEXT NOT NULL,
    stage_since TEXT NOT NULL,
    -- 'city' when the proposer spoke last (a submission or a message), 'proposer' after the city.
    waiting_on TEXT,
    waiting_since TEXT,
    ended_reason TEXT,
    title TEXT NOT NULL,
    summary TEXT NOT NULL,
    plan TEXT NOT NULL,
    effect TEXT NOT NULL,
    period TEXT NOT NULL,
    messages INTEGER NOT NULL DEFAULT 0,
    consent_at TEXT,
    public_summary TEXT,
    summary_published_at TEXT
);

CREATE INDEX proposals_by_stage ON proposals (stage, submitted_at);

CREATE INDEX proposals_by_fiscal_year ON proposals (fiscal_year);

CREATE INDEX proposals_by_organisation ON proposals (organisation_id);

CREATE TABLE proposal_history (
    proposal_id TEXT NOT NULL,
    position INTEGER NOT NULL,
    kind TEXT NOT NULL,
    stage TEXT,
    department TEXT,
    reason TEXT,
    actor_id TEXT NOT NULL,
    at TEXT NOT NULL,
    PRIMARY KEY (proposal_id, position)
) WITHOUT ROWID;

CREATE TABLE proposal_messages (
    proposal_id TEXT NOT NULL,
    number INTEGER NOT NULL,
    position INTEGER NOT NULL,
    author_id TEXT NOT NULL,
    from_city INTEGER NOT NULL,
    text TEXT NOT NULL,
    posted_at TEXT NOT NULL,
    PRIMARY KEY (proposal_id, number)
) WITHOUT ROWID;

CREATE TABLE proposal_attachments (
    proposal_id TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    name TEXT NOT NULL,
    media_type TEXT NOT NULL,
    size BIGINT NOT NULL,
    added_by TEXT NOT NULL,
    added_at TEXT NOT NULL,
    PRIMARY KEY (proposal_id, sha256)
) WITHOUT ROWID;

-- Attachment content, by SHA-256, outside the events. Not a read model: a rebuild keeps it.
-- A table rather than files under the data directory, since PostgreSQL workers may not share one.
CREATE TABLE attachments (
    sha256 TEXT PRIMARY KEY,
    content BLOB NOT NULL,
    media_type TEXT NOT NULL,
    size BIGINT NOT NULL,
    stored_at TEXT NOT NULL
);
