-- The DX推進会議 dashboard (issue 10): the plan's KPIs counted from events per city day, the audience
-- of each survey (responses to staff surveys are not 市政アンケート), and the measurements staff
-- record from sources outside Kyoso. Days are Asia/Tokyo (YYYY-MM-DD); moments are ISO 8601 UTC
-- with microseconds, fixed width, so that text order is time order.

-- A fiscal year of one metric is at most 366 rows, however many events there are.
CREATE TABLE kpi_daily (
    day TEXT NOT NULL,
    metric TEXT NOT NULL,
    events BIGINT NOT NULL,
    PRIMARY KEY (day, metric)
);

CREATE TABLE kpi_surveys (
    survey_id TEXT PRIMARY KEY,
    audience TEXT NOT NULL
);

-- Never updated but for the note that a later measurement corrected it (a measurement is corrected
-- at most once: a correction of a correction corrects the later one).
CREATE TABLE kpi_measurements (
    measurement_id TEXT PRIMARY KEY,
    position BIGINT NOT NULL,
    kpi TEXT NOT NULL,
    value DOUBLE PRECISION NOT NULL,
    measured_on TEXT NOT NULL,
    source TEXT NOT NULL,
    recorded_by TEXT NOT NULL,
    recorded_at TEXT NOT NULL,
    corrects TEXT,
    corrected_by TEXT,
    corrected_at TEXT
);

CREATE INDEX kpi_measurements_by_day ON kpi_measurements (measured_on, kpi);

CREATE INDEX kpi_measurements_by_kpi ON kpi_measurements (kpi, position);
