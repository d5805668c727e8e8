-- Secondary indexes a rebuild drops while it writes a read model from zero, and builds again at
-- the end: one sort then costs less than keeping each index in order through every batch. The
-- definition is kept here, in the same transaction as the drop, so that a rebuild cut short
-- (a crash, a stop) still gets its indexes back once the projection has caught up.
CREATE TABLE projection_deferred_indexes (
    projection TEXT NOT NULL,
    index_name TEXT NOT NULL,
    definition TEXT NOT NULL,
    PRIMARY KEY (projection, index_name)
);
