-- Issue 12: what changed in a survey after it was published, shown to respondents as 更新履歴.
-- One row per changed field of a Survey.DetailsCorrected or Survey.ClosingExtended event,
-- ordered by the event's version within its survey; `old_text` and `new_text` are the text as shown
-- (a closing date as YYYY-MM-DD). Rebuilt from the events like every read model.
CREATE TABLE survey_changes (
    survey_id TEXT NOT NULL,
    version INTEGER NOT NULL,
    field TEXT NOT NULL,
    old_text TEXT NOT NULL,
    new_text TEXT NOT NULL,
    changed_at TEXT NOT NULL,
    PRIMARY KEY (survey_id, version, field)
);
