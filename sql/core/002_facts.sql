-- Facts and their provenance. A value is keyed by unit × indicator × period ×
-- source × source_ref (the submission or the notice statistic), so any rerun
-- upserts the same rows. NULL means "not reported" and is never stored as 0.

CREATE TABLE IF NOT EXISTS load_run (
    batch_id TEXT PRIMARY KEY,
    dag_id TEXT NOT NULL,
    data_interval_start TIMESTAMP,
    data_interval_end TIMESTAMP,
    started_at TIMESTAMP NOT NULL,
    finished_at TIMESTAMP,
    rows_staged INTEGER,
    rows_published INTEGER
);

CREATE TABLE IF NOT EXISTS return_submission (
    submission_id CHAR(64) PRIMARY KEY,
    unit_code CHAR(12) NOT NULL,
    form TEXT NOT NULL,
    period TEXT NOT NULL,
    version INTEGER NOT NULL,
    channel TEXT NOT NULL,
    source_uri TEXT NOT NULL,
    raw_sha256 CHAR(64) NOT NULL,
    raw_path TEXT NOT NULL,
    unit_name TEXT,
    -- No longer written (it held the time a file claimed); see claimed_at.
    submitted_at TIMESTAMP,
    -- When the platform received the return: timeliness and version order.
    received_at TIMESTAMP NOT NULL,
    -- Timestamps are UTC; due dates are Beijing calendar dates, so the date the
    -- platform received it (received_at) is kept in UTC+8.
    submitted_on DATE NOT NULL,
    reported_on DATE,
    status TEXT NOT NULL CHECK (
        status IN ('staged', 'published', 'published_with_warnings', 'blocked', 'superseded')
    ),
    problems_json TEXT,
    batch_id TEXT NOT NULL,
    -- The time the file or item claims for itself: information only.
    claimed_at TIMESTAMP
);

ALTER TABLE return_submission ADD COLUMN IF NOT EXISTS claimed_at TIMESTAMP;

-- Not unique: an API version may meet a drop-folder version of the same number,
-- and a late drop file shares the number of the version it preceded. The latest
-- is the highest version, ties broken by receipt time (see load.publish).
CREATE INDEX IF NOT EXISTS ix_return_submission_key
ON return_submission (unit_code, form, period, version);

CREATE INDEX IF NOT EXISTS ix_return_submission_status ON return_submission (status);

CREATE TABLE IF NOT EXISTS quarantine (
    quarantine_id CHAR(64) PRIMARY KEY,
    channel TEXT NOT NULL,
    source_uri TEXT NOT NULL,
    raw_sha256 CHAR(64) NOT NULL,
    raw_path TEXT NOT NULL,
    submitted_unit_code TEXT,
    declared_unit_code TEXT,
    form TEXT,
    period TEXT,
    received_at TIMESTAMP NOT NULL,
    submitted_at TIMESTAMP,
    api_version INTEGER,
    filename TEXT,
    api_values_json TEXT,
    reason TEXT NOT NULL,
    detail TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    released_at TIMESTAMP,
    status TEXT NOT NULL CHECK (status IN ('held', 'released', 'requeued')),
    claimed_at TIMESTAMP
);

ALTER TABLE quarantine ADD COLUMN IF NOT EXISTS claimed_at TIMESTAMP;

CREATE TABLE IF NOT EXISTS notice (
    notice_id CHAR(64) PRIMARY KEY,
    portal_id TEXT NOT NULL,
    url TEXT NOT NULL,
    raw_sha256 CHAR(64) NOT NULL,
    title TEXT,
    issuer TEXT,
    issuer_code CHAR(12),
    issuer_level TEXT,
    published_at TIMESTAMP,
    doc_number TEXT,
    recipients TEXT,
    deadline DATE,
    deadline_task TEXT,
    report_to TEXT,
    first_seen TIMESTAMP NOT NULL
);

CREATE TABLE IF NOT EXISTS notice_statistic (
    statistic_id CHAR(64) PRIMARY KEY,
    notice_id CHAR(64) NOT NULL,
    quote TEXT NOT NULL,
    quote_start INTEGER NOT NULL,
    quote_end INTEGER NOT NULL,
    raw_start INTEGER,
    raw_end INTEGER,
    value NUMERIC(20, 2) NOT NULL,
    unit TEXT,
    qualifier TEXT NOT NULL,
    indicator_code TEXT,
    indicator_name TEXT,
    org TEXT,
    org_code CHAR(12),
    period TEXT,
    kind TEXT NOT NULL,
    row_header TEXT,
    col_header TEXT
);

CREATE INDEX IF NOT EXISTS ix_notice_statistic_notice ON notice_statistic (notice_id);

CREATE TABLE IF NOT EXISTS fact_indicator_value (
    unit_code CHAR(12) NOT NULL,
    form TEXT NOT NULL,
    indicator_code TEXT NOT NULL,
    period TEXT NOT NULL,
    source TEXT NOT NULL CHECK (source IN ('return', 'notice')),
    source_ref CHAR(64) NOT NULL,
    version INTEGER NOT NULL,
    is_latest BOOLEAN NOT NULL,
    value_current NUMERIC(20, 2),
    value_ytd NUMERIC(20, 2),
    value_last_year NUMERIC(20, 2),
    qualifier TEXT,
    provenance TEXT,
    has_warnings BOOLEAN NOT NULL,
    batch_id TEXT NOT NULL,
    PRIMARY KEY (unit_code, form, indicator_code, period, source, source_ref)
);

-- No index by period: it made every load 40 % slower (a million facts: 4 of
-- 11 s of the publish insert) and the consolidation queries it served slower
-- still (bitmap heap scans over the whole table beat by a parallel sequential
-- scan: 2.8 against 2.3 s for a province-year out of seven years). Reads by
-- unit use the primary key. When the table outgrows a sequential scan, the
-- answer is partitioning by year, not this index.
DROP INDEX IF EXISTS ix_fact_latest;
