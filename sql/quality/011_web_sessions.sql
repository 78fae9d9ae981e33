-- Signed-in sessions of the officials' pages (huizong.web.auth). A session
-- cookie is honoured only while its row is here, not ended and not expired:
-- signing out ends the row, so a copied cookie stops working at once instead
-- of living on until its signed expiry.
CREATE TABLE IF NOT EXISTS web_session (
    session_id CHAR(32) PRIMARY KEY,
    email TEXT NOT NULL,
    unit_code TEXT NOT NULL,
    link_id TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    ended_at TIMESTAMP
);

CREATE INDEX IF NOT EXISTS ix_web_session_expires ON web_session (expires_at);
