-- SDGs points (issue 9): menus, budgets, the awards ledger, spending, rewards, codes and payouts.
-- Dates are Asia/Tokyo days (YYYY-MM-DD); moments are ISO 8601 UTC. An award's SDG goals are one
-- integer, bit n set for goal n: counts by goal group by the few distinct sets, not by row per goal.

CREATE TABLE points_menus (
    menu_id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    trigger TEXT NOT NULL,
    department TEXT NOT NULL,
    sdg_goals TEXT NOT NULL,
    points INTEGER NOT NULL,
    budget INTEGER NOT NULL,
    valid_from TEXT NOT NULL,
    valid_until TEXT NOT NULL,
    limit_kind TEXT NOT NULL,
    per_year INTEGER NOT NULL,
    expires_after_days INTEGER,
    rule_version INTEGER NOT NULL,
    survey_ids TEXT NOT NULL,
    funder_id TEXT,
    defined_at TEXT NOT NULL
);

CREATE TABLE points_budgets (
    menu_id TEXT NOT NULL,
    fiscal_year INTEGER NOT NULL,
    spent INTEGER NOT NULL,
    awards INTEGER NOT NULL,
    PRIMARY KEY (menu_id, fiscal_year)
) WITHOUT ROWID;

CREATE TABLE points_awards (
    award_id TEXT PRIMARY KEY,
    position INTEGER NOT NULL,
    participant_id TEXT NOT NULL,
    menu_id TEXT NOT NULL,
    menu_version INTEGER NOT NULL,
    points INTEGER NOT NULL,
    remaining INTEGER NOT NULL,
    source_kind TEXT NOT NULL,
    source TEXT NOT NULL,
    reason TEXT NOT NULL,
    awarded_at TEXT NOT NULL,
    earned_on TEXT NOT NULL,
    fiscal_year INTEGER NOT NULL,
    expires_on TEXT NOT NULL,
    goal_bits INTEGER NOT NULL,
    ward TEXT,
    revoked_at TEXT,
    revoke_reason TEXT,
    points_revoked INTEGER NOT NULL DEFAULT 0
);

CREATE INDEX points_awards_by_participant ON points_awards (participant_id, earned_on);

-- Awards counted by what the staff dashboard breaks them down by, folded per batch: the dashboard
-- reads a few hundred rows a year however many awards there are. Ward '' is "not given".
CREATE TABLE points_tally (
    fiscal_year INTEGER NOT NULL,
    menu_id TEXT NOT NULL,
    month TEXT NOT NULL,
    ward TEXT NOT NULL,
    goal_bits INTEGER NOT NULL,
    points INTEGER NOT NULL,
    awards INTEGER NOT NULL,
    PRIMARY KEY (fiscal_year, menu_id, month, ward, goal_bits, points)
) WITHOUT ROWID;

CREATE TABLE points_spendings (
    spending_id TEXT PRIMARY KEY,
    position INTEGER NOT NULL,
    participant_id TEXT NOT NULL,
    purpose TEXT NOT NULL,
    reference TEXT NOT NULL,
    points INTEGER NOT NULL,
    spent_at TEXT NOT NULL
);

CREATE INDEX points_spendings_by_participant ON points_spendings (participant_id);

-- Which awards paid for each spending (and each revocation's take-back), for the auditor's chain.
CREATE TABLE points_drawn (
    spending_id TEXT NOT NULL,
    award_id TEXT NOT NULL,
    points INTEGER NOT NULL,
    PRIMARY KEY (spending_id, award_id)
) WITHOUT ROWID;

CREATE TABLE points_rewards (
    reward_id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    partner TEXT NOT NULL,
    points INTEGER NOT NULL,
    stock INTEGER,
    taken INTEGER NOT NULL DEFAULT 0,
    active INTEGER NOT NULL DEFAULT 1,
    offered_at TEXT NOT NULL
);

CREATE TABLE points_transfers (
    transfer_id TEXT PRIMARY KEY,
    participant_id TEXT NOT NULL,
    points INTEGER NOT NULL,
    requested_at TEXT NOT NULL,
    batch_id TEXT
);

CREATE INDEX points_transfers_waiting ON points_transfers (batch_id, requested_at);

CREATE TABLE points_batches (
    batch_id TEXT PRIMARY KEY,
    made_at TEXT NOT NULL,
    made_by TEXT NOT NULL,
    points INTEGER NOT NULL,
    lines INTEGER NOT NULL
);

CREATE TABLE points_codes (
    code_id TEXT PRIMARY KEY,
    menu_id TEXT NOT NULL,
    label TEXT NOT NULL,
    valid_from TEXT NOT NULL,
    valid_until TEXT NOT NULL,
    issued_by TEXT NOT NULL,
    issued_at TEXT NOT NULL,
    withdrawn INTEGER NOT NULL DEFAULT 0
);

CREATE INDEX points_codes_by_menu ON points_codes (menu_id);

-- Keys the servers share (the venue-code key): one row each, made on first start.
CREATE TABLE signing_keys (
    name TEXT PRIMARY KEY,
    secret BLOB NOT NULL
);
