-- Theme analyses in progress, so that any web worker can report on a job another one runs.

CREATE TABLE theme_jobs (
    job_id TEXT PRIMARY KEY,
    survey_id TEXT NOT NULL,
    question_id TEXT NOT NULL,
    started_at TEXT NOT NULL,
    done INTEGER NOT NULL DEFAULT 0,
    total INTEGER NOT NULL DEFAULT 0,
    analysis_id TEXT,
    error TEXT
);
