-- Raw landing: what was received, as received. Bodies live in the raw store
-- (files named by content hash); these rows are their index. Never updated.

CREATE TABLE IF NOT EXISTS raw_page (
    portal_id TEXT NOT NULL,
    url TEXT NOT NULL,
    sha256 CHAR(64) NOT NULL,
    final_url TEXT NOT NULL,
    partition_key TEXT NOT NULL,
    fetched_at TIMESTAMP NOT NULL,
    http_status INTEGER NOT NULL,
    encoding TEXT,
    raw_path TEXT NOT NULL,
    etag TEXT,
    last_modified TEXT,
    PRIMARY KEY (portal_id, url, sha256)
);

CREATE TABLE IF NOT EXISTS raw_return (
    raw_sha256 CHAR(64) NOT NULL,
    channel TEXT NOT NULL CHECK (channel IN ('drop', 'api')),
    source_uri TEXT NOT NULL,
    submitted_unit_code TEXT NOT NULL,
    form TEXT NOT NULL,
    period TEXT NOT NULL,
    raw_path TEXT NOT NULL,
    received_at TIMESTAMP NOT NULL,
    submitted_at TIMESTAMP,
    partition_key TEXT NOT NULL,
    claimed_at TIMESTAMP,
    PRIMARY KEY (raw_sha256, channel, source_uri)
);

-- received_at: when the platform first received these bytes from this source
-- (the drop folder's change time or the API fetch), kept from the first landing
-- on. claimed_at: the time the file or item claims (modification time, the
-- API's submitted_at) — set on the submitter's side, information only.
-- submitted_at held that claimed time before claimed_at existed; no longer written.
ALTER TABLE raw_return ADD COLUMN IF NOT EXISTS claimed_at TIMESTAMP;
