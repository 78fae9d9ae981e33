-- What officials do on the web pages (huizong.web): explain a warning, approve
-- a child's return, withdraw an approval, and the links they came through.
-- Rows are only ever inserted, except an approval's withdrawal columns, so
-- the audit trail is the history itself.

-- A unit's 上报说明 for a warning finding. The latest row per finding is the
-- one shown; an explained warning is not alerted again.
CREATE TABLE IF NOT EXISTS web_explanation (
    explanation_id CHAR(32) PRIMARY KEY,
    finding_id CHAR(64) NOT NULL,
    unit_code CHAR(12) NOT NULL,
    form TEXT NOT NULL,
    period TEXT NOT NULL,
    submission_id CHAR(64),
    explanation TEXT NOT NULL,
    actor_email TEXT NOT NULL,
    actor_unit_code CHAR(12) NOT NULL,
    link_id CHAR(32) NOT NULL,
    created_at TIMESTAMP NOT NULL
);

CREATE INDEX IF NOT EXISTS ix_web_explanation_finding ON web_explanation (finding_id);

CREATE INDEX IF NOT EXISTS ix_web_explanation_unit ON web_explanation (unit_code, period);

-- A parent's sign-off on a child's return for one form and period. Active
-- while withdrawn_at is NULL; an active approval locks the return.
CREATE TABLE IF NOT EXISTS web_approval (
    approval_id CHAR(32) PRIMARY KEY,
    unit_code CHAR(12) NOT NULL,
    form TEXT NOT NULL,
    period TEXT NOT NULL,
    submission_id CHAR(64),
    approved_by_email TEXT NOT NULL,
    approved_by_unit_code CHAR(12) NOT NULL,
    approved_link_id CHAR(32) NOT NULL,
    approved_at TIMESTAMP NOT NULL,
    withdrawn_by_email TEXT,
    withdrawn_by_unit_code CHAR(12),
    withdrawn_link_id CHAR(32),
    withdrawn_at TIMESTAMP,
    withdrawal_reason TEXT
);

-- At most one active approval per return: a second approve races into this.
CREATE UNIQUE INDEX IF NOT EXISTS ux_web_approval_active
ON web_approval (unit_code, form, period)
WHERE withdrawn_at IS NULL;

-- Every explanation, approval and withdrawal: who, when, through which link.
CREATE TABLE IF NOT EXISTS web_audit (
    audit_id CHAR(32) PRIMARY KEY,
    action TEXT NOT NULL CHECK (action IN ('explain', 'approve', 'withdraw')),
    unit_code CHAR(12) NOT NULL,
    form TEXT NOT NULL,
    period TEXT NOT NULL,
    finding_id CHAR(64),
    approval_id CHAR(32),
    actor_email TEXT NOT NULL,
    actor_unit_code CHAR(12) NOT NULL,
    link_id CHAR(32) NOT NULL,
    detail TEXT,
    created_at TIMESTAMP NOT NULL
);

CREATE INDEX IF NOT EXISTS ix_web_audit_unit ON web_audit (unit_code, period);

-- Revoked sign-in links: one link by its id, or every link an address was
-- given up to a moment (issued_before), e.g. when an official leaves.
CREATE TABLE IF NOT EXISTS web_revoked_link (
    revocation_id CHAR(32) PRIMARY KEY,
    link_id CHAR(32),
    email TEXT,
    issued_before TIMESTAMP,
    reason TEXT NOT NULL,
    revoked_at TIMESTAMP NOT NULL,
    CHECK (link_id IS NOT NULL OR (email IS NOT NULL AND issued_before IS NOT NULL))
);

CREATE INDEX IF NOT EXISTS ix_web_revoked_link_id ON web_revoked_link (link_id);

CREATE INDEX IF NOT EXISTS ix_web_revoked_link_email ON web_revoked_link (email);
