-- Issue 9: an award's row is written once and never changed.
-- * `remaining` went down with every spending that drew on the award: each spending rewrote
--   several award rows, and a rebuild spent a good part of its time on those updates. What is
--   left of an award is the ledger's own figure (PointsAccount.lots), read with the balance.
-- * A revocation is rare, yet every row carried its three columns, two of them NULL: revocations
--   get a table of their own.
-- * The fiscal year (earned_on says it) and the ward (the tally breaks awards down by ward) were
--   never read from this table.
CREATE TABLE points_revocations (
    award_id TEXT PRIMARY KEY,
    revoked_at TEXT NOT NULL,
    reason TEXT NOT NULL,
    points INTEGER NOT NULL
) WITHOUT ROWID;

INSERT INTO points_revocations (award_id, revoked_at, reason, points)
SELECT award_id, revoked_at, COALESCE(revoke_reason, ''), points_revoked FROM points_awards WHERE revoked_at IS NOT NULL;

ALTER TABLE points_awards DROP COLUMN remaining;
ALTER TABLE points_awards DROP COLUMN revoked_at;
ALTER TABLE points_awards DROP COLUMN revoke_reason;
ALTER TABLE points_awards DROP COLUMN points_revoked;
ALTER TABLE points_awards DROP COLUMN fiscal_year;
ALTER TABLE points_awards DROP COLUMN ward;
