-- Reporting deadlines a parent set for its children in a notice
-- (请于2020年3月23日前…报县妇联). Without one the period's default due date holds.

CREATE TABLE IF NOT EXISTS reporting_deadline (
    parent_code CHAR(12) NOT NULL,
    form TEXT NOT NULL,
    period TEXT NOT NULL,
    due_date DATE NOT NULL,
    notice_id CHAR(64) NOT NULL,
    PRIMARY KEY (parent_code, form, period)
);
