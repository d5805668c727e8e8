-- Citizens' ideas (市民の提案): the public list, its search index, comments and each idea's history.

-- One row per idea. title/body/search_text are the opened texts ('（削除済み）' and '' once the
-- author is erased); answer is the published answer only, draft_answer is for staff pages.
-- listed = 0 once withdrawn. support_count and comment_count are kept by the projection, so no
-- page ever counts supports or comments.
CREATE TABLE ideas (
    idea_id TEXT PRIMARY KEY,
    author_id TEXT NOT NULL,
    title TEXT NOT NULL,
    body TEXT NOT NULL,
    search_text TEXT NOT NULL DEFAULT '',
    department TEXT NOT NULL,
    sdg_goals TEXT NOT NULL DEFAULT '[]',
    ward TEXT,
    status TEXT NOT NULL,
    status_reason TEXT NOT NULL DEFAULT '',
    status_changed_at TEXT,
    listed INTEGER NOT NULL DEFAULT 1,
    withdrawn_at TEXT,
    responded INTEGER NOT NULL DEFAULT 0,
    erased INTEGER NOT NULL DEFAULT 0,
    support_count BIGINT NOT NULL DEFAULT 0,
    comment_count BIGINT NOT NULL DEFAULT 0,
    submitted_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    answer TEXT,
    answered_at TEXT,
    draft_answer TEXT,
    drafted_at TEXT
);

-- The list's sorts and filters, each walked in order and stopped at LIMIT.
CREATE INDEX ideas_newest ON ideas (listed, submitted_at, idea_id);
CREATE INDEX ideas_most_supported ON ideas (listed, support_count, submitted_at, idea_id);
CREATE INDEX ideas_answered ON ideas (listed, answered_at, idea_id);
CREATE INDEX ideas_by_status ON ideas (listed, status, submitted_at);
CREATE INDEX ideas_by_department ON ideas (department, status, submitted_at);
CREATE INDEX ideas_by_ward ON ideas (listed, ward, submitted_at);
CREATE INDEX ideas_by_author ON ideas (author_id);

CREATE TABLE idea_goals (
    idea_id TEXT NOT NULL,
    goal INTEGER NOT NULL,
    PRIMARY KEY (idea_id, goal)
);

-- Japanese search: every bigram of an idea's opened, normalised text (see projections/ideas.py
-- for why neither FTS5 nor pg_trgm is used).
CREATE TABLE idea_grams (
    gram TEXT NOT NULL,
    idea_id TEXT NOT NULL,
    PRIMARY KEY (gram, idea_id)
);

CREATE TABLE idea_comments (
    comment_id TEXT PRIMARY KEY,
    idea_id TEXT NOT NULL,
    parent_id TEXT,
    author_id TEXT NOT NULL,
    text TEXT NOT NULL,
    posted_at TEXT NOT NULL,
    report_count INTEGER NOT NULL DEFAULT 0,
    hidden INTEGER NOT NULL DEFAULT 0,
    hidden_reason TEXT,
    hidden_at TEXT,
    hidden_by TEXT,
    erased INTEGER NOT NULL DEFAULT 0
);

CREATE INDEX idea_comments_by_idea ON idea_comments (idea_id, posted_at);
CREATE INDEX idea_comments_by_author ON idea_comments (author_id);

-- What happened to each idea, for its page: status changes with reasons, reassignments, answers.
CREATE TABLE idea_history (
    idea_id TEXT NOT NULL,
    position BIGINT NOT NULL,
    at TEXT NOT NULL,
    kind TEXT NOT NULL,
    detail TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (idea_id, position)
);
