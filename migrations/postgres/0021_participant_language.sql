-- Issue 12: the interface language a person chose (Participant.LanguageChosen), so that their
-- choice follows them to every device. NULL: they never chose, and their browser decides.
ALTER TABLE participants ADD COLUMN language TEXT;
