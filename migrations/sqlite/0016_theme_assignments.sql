-- Themes v2 (issue 11): new opinions assigned to a recorded analysis's themes without
-- re-clustering. One row per assignment run (ThemeAnalysis.NewOpinionsAssigned), its result as JSON.

CREATE TABLE theme_assignments (
    analysis_id TEXT NOT NULL,
    version INTEGER NOT NULL,
    assigned_at TEXT NOT NULL,
    assigned_by TEXT NOT NULL,
    opinion_count INTEGER NOT NULL,
    new_count INTEGER NOT NULL,
    threshold REAL NOT NULL,
    rerun_recommended INTEGER NOT NULL,
    assignments TEXT NOT NULL,
    PRIMARY KEY (analysis_id, version)
);
