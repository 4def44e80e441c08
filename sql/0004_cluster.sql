-- 0004: an org's records and events lie together, in the order they came.
--
-- Every index is one more b-tree to read and to write in each write
-- transaction, and writers take turns. Records had four b-trees and
-- events three; now three and one. Their rowids are numbered per org,
-- num << 40 | n, where num is the org's number (below) and n counts up
-- within the org: for a record, the org's change number at its creation;
-- for an event, orgs.event_seq. One org's rows are then one rowid range,
-- in order, and lists and the event stream walk the table itself instead
-- of an (org_id, seq) index. An event's id stays unique by construction
-- (time and 80 random bits) and is not looked up, so it has no index.

-- A stored copy of the rowid as it is now: rowids of a table without an
-- INTEGER PRIMARY KEY may change under VACUUM; num never does.
ALTER TABLE orgs ADD COLUMN num INTEGER NOT NULL DEFAULT 0;
ALTER TABLE orgs ADD COLUMN event_seq INTEGER NOT NULL DEFAULT 0;
UPDATE orgs SET num = rowid;
CREATE UNIQUE INDEX orgs_num ON orgs(num);

CREATE TABLE records_new (
	seq		INTEGER PRIMARY KEY,	-- num << 40 | n
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
INSERT INTO records_new (seq, id, org_id, title, type, site, status, data,
    size, causal, version, deleted_at, created_at, updated_at, created_by,
    queue, change_seq)
SELECT (o.num << 40) + row_number() OVER (PARTITION BY r.org_id
    ORDER BY r.seq), r.id, r.org_id, r.title, r.type, r.site, r.status,
    r.data, r.size, r.causal, r.version, r.deleted_at, r.created_at,
    r.updated_at, r.created_by, r.queue, r.change_seq
FROM records r JOIN orgs o ON o.id = r.org_id;
DROP TABLE records;
ALTER TABLE records_new RENAME TO records;
-- Delta sync walks (org_id, change_seq); the purge finds tombstones.
CREATE UNIQUE INDEX records_org_change ON records(org_id, change_seq);
CREATE INDEX records_deleted ON records(deleted_at) WHERE deleted_at IS NOT NULL;

CREATE TABLE events_new (
	seq		INTEGER PRIMARY KEY,	-- num << 40 | orgs.event_seq
	id		TEXT NOT NULL,
	org_id		TEXT NOT NULL REFERENCES orgs(id),
	type		TEXT NOT NULL,
	record_id	TEXT,
	payload		TEXT NOT NULL,		-- the webhook body
	created_at	INTEGER NOT NULL
);
INSERT INTO events_new (seq, id, org_id, type, record_id, payload,
    created_at)
SELECT (o.num << 40) + row_number() OVER (PARTITION BY e.org_id
    ORDER BY e.seq), e.id, e.org_id, e.type, e.record_id, e.payload,
    e.created_at
FROM events e JOIN orgs o ON o.id = e.org_id;
UPDATE orgs SET event_seq = (SELECT count(*) FROM events_new e
    WHERE e.org_id = orgs.id);
DROP TABLE events;
ALTER TABLE events_new RENAME TO events;
