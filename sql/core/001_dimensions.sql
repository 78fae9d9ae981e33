-- Conformed dimensions: org units (12-digit statistical division codes),
-- indicators (the FL-01 catalog, loaded from data), periods.

CREATE TABLE IF NOT EXISTS dim_org_unit (
    unit_code CHAR(12) NOT NULL,
    valid_from DATE NOT NULL,
    valid_to DATE,
    name TEXT NOT NULL,
    federation_name TEXT NOT NULL,
    level TEXT NOT NULL CHECK (level IN ('province', 'city', 'county', 'town', 'village')),
    parent_code CHAR(12),
    PRIMARY KEY (unit_code, valid_from)
);

CREATE INDEX IF NOT EXISTS ix_dim_org_unit_parent ON dim_org_unit (parent_code);

CREATE TABLE IF NOT EXISTS dim_indicator (
    form TEXT NOT NULL,
    indicator_code TEXT NOT NULL,
    name TEXT NOT NULL,
    unit TEXT NOT NULL,
    temporal TEXT NOT NULL CHECK (temporal IN ('stock', 'flow', 'derived')),
    additive BOOLEAN NOT NULL,
    bound_by TEXT,
    bound_severity TEXT,
    numerator TEXT,
    denominator TEXT,
    scale INTEGER,
    PRIMARY KEY (form, indicator_code)
);

CREATE TABLE IF NOT EXISTS dim_period (
    period TEXT PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('year', 'quarter', 'month')),
    year INTEGER NOT NULL,
    quarter INTEGER,
    month INTEGER,
    start_date DATE NOT NULL,
    end_date DATE NOT NULL,
    due_date DATE NOT NULL
);
