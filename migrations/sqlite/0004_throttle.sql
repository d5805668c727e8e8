-- Counts behind the sign-in and sign-up rate limits and the lockout after failed logins, kept
-- here so that every web worker sees the same numbers. A key is a keyed hash of what is counted
-- (a client address, an e-mail): no personal data is stored in the clear.

CREATE TABLE throttle_counts (
    key TEXT PRIMARY KEY,
    hits INTEGER NOT NULL,
    expires_at REAL NOT NULL
);

CREATE INDEX throttle_counts_expires_at ON throttle_counts (expires_at);
