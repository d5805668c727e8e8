-- Theme analyses name what they analysed (their corpus): a survey question's answers
-- ('survey:<survey id>:<question id>') or one department's ideas ('ideas:<department>').

ALTER TABLE theme_analyses ADD COLUMN corpus TEXT NOT NULL DEFAULT '';

UPDATE theme_analyses SET corpus = 'survey:' || survey_id || ':' || question_id WHERE corpus = '';

CREATE INDEX theme_analyses_by_corpus ON theme_analyses (corpus, completed_at);

ALTER TABLE theme_jobs ADD COLUMN corpus TEXT NOT NULL DEFAULT '';

UPDATE theme_jobs SET corpus = 'survey:' || survey_id || ':' || question_id WHERE corpus = '';
