-- 0012: conflicts as resources, and each record's prior versions.
--
-- Every index below is paid by some write; each says which, and which
-- query needs it. A record PATCH or DELETE now writes one history row
-- (its table and two indexes) and probes conflicts_open; a conflict is
-- written only when a causal check is lost, and changed again only when
-- it is resolved or superseded, so the conflicts indexes cost nothing on
-- an ordinary record write.

-- Who wrote the current version (NULL on rows written before this
-- migration: created_by), and the JSON array of the member names that
-- write changed ("title", "data.<key>", "deleted"; NULL: unknown). Never
-- shown as part of a record; history and the field merge read them.
ALTER TABLE records ADD COLUMN updated_by TEXT;
ALTER TABLE records ADD COLUMN changed TEXT;

-- One row per superseded version, written in the transaction of the
-- write that replaced it. record is that version exactly as the API
-- showed it; changed and actor are its changed and updated_by;
-- written_at its updated_at.
CREATE TABLE record_history (
	seq		INTEGER PRIMARY KEY,
	org_id		TEXT NOT NULL,
	record_id	TEXT NOT NULL,
	version		INTEGER NOT NULL,
	causal		TEXT NOT NULL,
	record		TEXT NOT NULL,
	changed		TEXT,
	actor		TEXT NOT NULL,
	written_at	INTEGER NOT NULL,
	superseded_at	INTEGER NOT NULL,
	-- GET /v1/records/{id}/history walks it backwards from a version;
	-- the field merge reads the versions after a base; a record's
	-- tombstone purge removes its rows (the trigger below).
	UNIQUE (org_id, record_id, version)
);
-- The worker's retention purge: the oldest rows first.
CREATE INDEX record_history_superseded ON record_history(superseded_at);

-- A lost causal check, kept until someone resolves it. attempted is
-- the request body without causal ({"deleted":true} for a DELETE);
-- current the record as the 409 showed it. AUTOINCREMENT: a list
-- cursor holds a seq, and a purged row's seq must never come back.
CREATE TABLE conflicts (
	seq		INTEGER PRIMARY KEY AUTOINCREMENT,
	id		TEXT NOT NULL UNIQUE,		-- GET /v1/conflicts/{id}
	org_id		TEXT NOT NULL REFERENCES orgs(id),
	record_id	TEXT NOT NULL,
	base_causal	TEXT NOT NULL,
	attempted	TEXT NOT NULL,
	current		TEXT NOT NULL,
	status		TEXT NOT NULL DEFAULT 'open'
			CHECK (status IN ('open', 'resolved', 'superseded')),
	created_by	TEXT NOT NULL,
	created_at	INTEGER NOT NULL,
	resolved_at	INTEGER,
	resolved_by	TEXT,
	resolution	TEXT CHECK (resolution IN ('current', 'attempted',
			    'record', 'superseded')),
	CHECK ((status = 'open') = (resolved_at IS NULL))
);
-- GET /v1/conflicts: an org's, oldest first (status filters as it walks).
CREATE INDEX conflicts_org ON conflicts(org_id, seq);
-- GET /v1/conflicts?record_id=, oldest first (the index ends in the
-- rowid), and the tombstone purge's removal of a record's conflicts.
CREATE INDEX conflicts_record ON conflicts(org_id, record_id);
-- The one probe every record PATCH and DELETE makes: the writer's open
-- conflicts on the record, superseded by the write. Partial, so it
-- holds only what is open: small, and left when a conflict closes.
CREATE INDEX conflicts_open ON conflicts(org_id, record_id, created_by)
	WHERE status = 'open';
-- The worker's purge of closed conflicts past the retention.
CREATE INDEX conflicts_closed ON conflicts(resolved_at)
	WHERE resolved_at IS NOT NULL;

-- Records are removed only by the tombstone purge (the worker), and
-- take their history and conflicts with them in the same statement: a
-- purged record's prior versions and quarrels name nothing any more.
CREATE TRIGGER records_purged AFTER DELETE ON records
BEGIN
	DELETE FROM record_history WHERE org_id = old.org_id
	    AND record_id = old.id;
	DELETE FROM conflicts WHERE org_id = old.org_id
	    AND record_id = old.id;
END;
