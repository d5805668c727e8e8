-- The staff engagement index (ぱいたり値, issue 10): which staff surveys are waves of an instrument
-- (UWES-9), and per wave and respondent's department the number of answers and the sum of scores
-- per item, so that every mean is a division at read time. Item 0 counts respondents. Departments
-- under 5 respondents are folded into その他 at read time (projections/engagement_read.py); the
-- survey's lifecycle (opening, closing) is read from the surveys table.

CREATE TABLE engagement_waves (
    survey_id TEXT PRIMARY KEY,
    instrument TEXT NOT NULL,
    label TEXT NOT NULL,
    item_map TEXT NOT NULL,
    attached_at TEXT NOT NULL
);

CREATE TABLE engagement_cells (
    survey_id TEXT NOT NULL,
    department TEXT NOT NULL,
    item INTEGER NOT NULL,
    answers INTEGER NOT NULL,
    total INTEGER NOT NULL,
    PRIMARY KEY (survey_id, department, item)
) WITHOUT ROWID;

-- The department of each staff member and admin as the events have it so far: a response counts
-- under its author's department at the moment it was recorded, whatever happens to them later.
CREATE TABLE engagement_staff (
    participant_id TEXT PRIMARY KEY,
    department TEXT NOT NULL
) WITHOUT ROWID;
