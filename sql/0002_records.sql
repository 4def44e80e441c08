-- 0002: records, their change sequence, idempotency keys and the outbox.

-- Each org numbers its record changes 1, 2, 3...: delta sync reads
-- "everything after change N" from records.change_seq.
ALTER TABLE orgs ADD COLUMN change_seq INTEGER NOT NULL DEFAULT 0;

CREATE TABLE records (
	seq		INTEGER PRIMARY KEY,	-- creation order, list keyset
	id		TEXT NOT NULL UNIQUE,
	org_id		TEXT NOT NULL REFERENCES orgs(id),
	title		TEXT NOT NULL,
	type		TEXT NOT NULL,
	site		TEXT,
	status		TEXT NOT NULL DEFAULT 'queued'
			CHECK (status IN ('queued', 'synced', 'conflict', 'failed')),
	data		TEXT NOT NULL DEFAULT '{}',	-- compact JSON object
	size		INTEGER NOT NULL,
	causal		TEXT NOT NULL,			-- ULID, new on every write
	version		INTEGER NOT NULL,
	deleted_at	INTEGER,			-- tombstone when set
	created_at	INTEGER NOT NULL,
	updated_at	INTEGER NOT NULL,
	created_by	TEXT NOT NULL,
	queue		TEXT NOT NULL DEFAULT 'default',
	change_seq	INTEGER NOT NULL
);
-- Lists walk (org_id, seq) and filter as they go; delta sync walks
-- (org_id, change_seq). Every index here is paid on every write.
CREATE UNIQUE INDEX records_org_change ON records(org_id, change_seq);
CREATE INDEX records_org_seq ON records(org_id, seq);
CREATE INDEX records_deleted ON records(deleted_at) WHERE deleted_at IS NOT NULL;

-- A key is written in the same transaction as the change it guards, with
-- the answer to replay; keys older than 24 h are ignored, then purged.
CREATE TABLE idempotency_keys (
	seq		INTEGER PRIMARY KEY,	-- rows append; only the
	org_id		TEXT NOT NULL,		-- small key index is random
	key		TEXT NOT NULL,
	request_hash	BLOB NOT NULL,
	state		TEXT NOT NULL DEFAULT 'completed'
			CHECK (state IN ('completed')),
	status		INTEGER NOT NULL,
	headers		TEXT NOT NULL,		-- "Name: value\n" lines
	body		TEXT NOT NULL,
	created_at	INTEGER NOT NULL,
	UNIQUE (org_id, key)
);

-- The outbox: one row per event, written in the transaction of the change
-- that caused it. Webhook jobs and the event stream read from here.
CREATE TABLE events (
	seq		INTEGER PRIMARY KEY,
	id		TEXT NOT NULL UNIQUE,
	org_id		TEXT NOT NULL REFERENCES orgs(id),
	type		TEXT NOT NULL,
	record_id	TEXT,
	payload		TEXT NOT NULL,		-- the webhook body
	created_at	INTEGER NOT NULL
);
CREATE INDEX events_org_seq ON events(org_id, seq);
