-- Read models of the foundation: positions, identities, sessions, the survey catalogue, results.

CREATE TABLE projection_positions (
    projection TEXT PRIMARY KEY,
    position INTEGER NOT NULL
);

-- The one erasable place for personal data: never copied into events.
CREATE TABLE identities (
    participant_id TEXT PRIMARY KEY,
    email TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    created_at TEXT NOT NULL
);

CREATE TABLE web_sessions (
    session_id TEXT PRIMARY KEY,
    data BLOB NOT NULL,
    expires_at REAL
);

CREATE TABLE surveys (
    survey_id TEXT PRIMARY KEY,
    department TEXT NOT NULL,
    title TEXT NOT NULL,
    description TEXT NOT NULL,
    audience TEXT NOT NULL,
    status TEXT NOT NULL,
    results_published INTEGER NOT NULL DEFAULT 0,
    opens_on TEXT,
    closes_on TEXT,
    drafted_at TEXT NOT NULL,
    published_at TEXT,
    closed_at TEXT,
    updated_at TEXT NOT NULL,
    questions TEXT NOT NULL DEFAULT '[]',
    response_count INTEGER NOT NULL DEFAULT 0
);

CREATE INDEX surveys_by_status ON surveys (status, audience);
CREATE INDEX surveys_by_department ON surveys (department);

-- Pre-aggregated counts: a results page reads a few hundred rows whatever the response count.
-- question_id '_survey' with bucket '_n' counts respondents; bucket '_n' of a question counts
-- those who answered it; 'sum' carries the total of scale and number answers.
CREATE TABLE result_cells (
    survey_id TEXT NOT NULL,
    question_id TEXT NOT NULL,
    segment TEXT NOT NULL,
    segment_value TEXT NOT NULL,
    bucket TEXT NOT NULL,
    count INTEGER NOT NULL,
    sum REAL NOT NULL DEFAULT 0,
    PRIMARY KEY (survey_id, question_id, segment, segment_value, bucket)
);

CREATE TABLE free_text_answers (
    position INTEGER NOT NULL,
    survey_id TEXT NOT NULL,
    question_id TEXT NOT NULL,
    response_id TEXT NOT NULL,
    text TEXT NOT NULL,
    ward TEXT,
    age_band TEXT,
    has_children INTEGER,
    submitted_at TEXT NOT NULL,
    PRIMARY KEY (survey_id, question_id, position)
);
