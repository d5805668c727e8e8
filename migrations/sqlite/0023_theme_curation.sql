-- Themes for people (issue 12): staff edits on a recorded analysis (ThemeAnalysis.ThemeRenamed,
-- ThemesMerged, ThemeSplit), one row each with the event's fields as JSON, replayed over the
-- machine's themes to show the curated ones; and the summaries published to citizens
-- (ThemeAnalysis.ThemeSummaryPublished), the latest per survey question shown on the public page.

CREATE TABLE theme_edits (
    analysis_id TEXT NOT NULL,
    version INTEGER NOT NULL,
    kind TEXT NOT NULL,
    edited_at TEXT NOT NULL,
    edited_by TEXT NOT NULL,
    payload TEXT NOT NULL,
    PRIMARY KEY (analysis_id, version)
);

CREATE TABLE theme_summaries (
    analysis_id TEXT NOT NULL,
    version INTEGER NOT NULL,
    survey_id TEXT NOT NULL,
    question_id TEXT NOT NULL,
    published_at TEXT NOT NULL,
    published_by TEXT NOT NULL,
    total INTEGER NOT NULL,
    themes TEXT NOT NULL,
    PRIMARY KEY (analysis_id, version)
);

CREATE INDEX theme_summaries_by_survey ON theme_summaries (survey_id, question_id, published_at);
