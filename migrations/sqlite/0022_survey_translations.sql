-- Issue 12: a survey's texts in other languages (Survey.TranslationProvided), as JSON:
-- {"en": {"title": …, "description": …, "questions": {"q1": {"text": …, "options": […], …}}}}.
-- Empty texts and questions not named read in Japanese, the original. Rebuilt from the events.
ALTER TABLE surveys ADD COLUMN translations TEXT NOT NULL DEFAULT '{}';
