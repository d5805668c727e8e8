-- Theme analyses of free-text answers: one row per completed run, with its result as JSON.

CREATE TABLE theme_analyses (
    analysis_id TEXT PRIMARY KEY,
    survey_id TEXT NOT NULL,
    question_id TEXT NOT NULL,
    requested_by TEXT NOT NULL,
    completed_at TEXT NOT NULL,
    input_count INTEGER NOT NULL,
    model TEXT NOT NULL,
    params TEXT NOT NULL,
    seed INTEGER NOT NULL,
    themes TEXT NOT NULL,
    views INTEGER NOT NULL DEFAULT 0
);

CREATE INDEX theme_analyses_by_survey ON theme_analyses (survey_id, completed_at);
