-- Staging: parsed rows waiting for the audit. A submission's rows are replaced
-- whenever it is staged again, so a rerun never duplicates them.

CREATE TABLE IF NOT EXISTS stg_return_value (
    batch_id TEXT NOT NULL,
    submission_id CHAR(64) NOT NULL,
    unit_code CHAR(12) NOT NULL,
    form TEXT NOT NULL,
    period TEXT NOT NULL,
    version INTEGER NOT NULL,
    indicator_code TEXT NOT NULL,
    value_current NUMERIC(20, 2),
    value_ytd NUMERIC(20, 2),
    value_last_year NUMERIC(20, 2),
    cell_current TEXT,
    cell_ytd TEXT,
    cell_last_year TEXT
);

-- No index on purpose. load.stage_returns writes one row per submission and
-- code by construction, and a unique index on two 64-character keys would
-- cost more than the COPY itself; an index on batch_id (one value per load)
-- cost 2.6 of 4.2 s of a million-row COPY. The table only ever holds what
-- waits for its audit (publish removes what it has decided), so the reads by
-- batch and by submission scan a small table.
DROP INDEX IF EXISTS ix_stg_return_value_batch;

CREATE TABLE IF NOT EXISTS stg_notice_statistic (
    batch_id TEXT NOT NULL,
    statistic_id CHAR(64) NOT NULL,
    notice_id CHAR(64) NOT NULL,
    unit_code CHAR(12),
    form TEXT,
    indicator_code TEXT,
    period TEXT,
    value NUMERIC(20, 2) NOT NULL,
    unit TEXT,
    qualifier TEXT NOT NULL,
    quote TEXT NOT NULL,
    PRIMARY KEY (batch_id, statistic_id)
);

CREATE INDEX IF NOT EXISTS ix_stg_notice_statistic_id ON stg_notice_statistic (statistic_id);

-- Scratch space of one publish transaction: the (unit, form, period) keys it
-- touches and the submission that wins each. Emptied at the start of every
-- publish; publishes are serialized (advisory lock on PostgreSQL).
CREATE TABLE IF NOT EXISTS stg_publish_scope (
    unit_code CHAR(12) NOT NULL,
    form TEXT NOT NULL,
    period TEXT NOT NULL,
    winner_submission_id CHAR(64),
    PRIMARY KEY (unit_code, form, period)
);
