-- Quality findings and who hears about them. A finding's id is derived from
-- what it is about, so a rerun updates last_seen instead of adding a row.

CREATE TABLE IF NOT EXISTS finding (
    finding_id CHAR(64) PRIMARY KEY,
    check_name TEXT NOT NULL,
    severity TEXT NOT NULL CHECK (severity IN ('error', 'warn')),
    unit_code CHAR(12) NOT NULL,
    form TEXT NOT NULL,
    indicator_code TEXT,
    period TEXT NOT NULL,
    submission_id CHAR(64),
    observed NUMERIC(20, 2),
    expected NUMERIC(20, 2),
    evidence TEXT,
    message_zh TEXT NOT NULL,
    message_en TEXT NOT NULL,
    first_seen TIMESTAMP NOT NULL,
    last_seen TIMESTAMP NOT NULL,
    resolved_at TIMESTAMP
);

CREATE INDEX IF NOT EXISTS ix_finding_unit ON finding (unit_code, period);

CREATE TABLE IF NOT EXISTS recipient (
    email TEXT NOT NULL,
    name TEXT NOT NULL,
    unit_code CHAR(12) NOT NULL,
    role TEXT NOT NULL,
    PRIMARY KEY (email, unit_code)
);

CREATE TABLE IF NOT EXISTS alert_sent (
    finding_id CHAR(64) NOT NULL,
    email TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('new', 'resolved')),
    sent_at TIMESTAMP NOT NULL,
    message_id TEXT NOT NULL,
    PRIMARY KEY (finding_id, email, kind)
);
