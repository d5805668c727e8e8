-- Events a projection could not apply. The position moves past such an event in the same
-- transaction that records it here, so one bad event never stops the others; the row stays
-- until `kyoso projections retry` applies the event or a rebuild records the failures afresh.
-- `error` holds the exception's type and first line only, never the event's content.

CREATE TABLE projection_failures (
    projection TEXT NOT NULL,
    position INTEGER NOT NULL,
    originator_id TEXT NOT NULL,
    originator_version INTEGER NOT NULL,
    topic TEXT NOT NULL,
    error TEXT NOT NULL,
    failed_at TEXT NOT NULL,
    PRIMARY KEY (projection, position)
);
