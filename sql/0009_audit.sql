-- 0009: the audit log (CONTRACT section 7): one entry per write, in the
-- write's own transaction, hash-chained per org.
--
-- Rows are numbered like records and events: seq = num << 40 | n, where
-- num is the org's number and n its entry count (1, 2, 3 ...). One org's
-- entries are then one rowid range, in order: the list walks the table
-- itself, and the chain's head (the org's last n and hash) is the last
-- row of that range, one b-tree probe. So the head is not kept in orgs:
-- a second copy would be a second write under the lock on every change,
-- and one that could disagree with the rows it summarises.
--
-- detail is the canonical JSON (lib/audit.h) of what changed; at is
-- milliseconds since the epoch (the entry shows it as RFC 3339). hash is
-- the hex BLAKE2b-256 of prev_hash and the entry's canonical JSON.
CREATE TABLE audit (
	seq		INTEGER PRIMARY KEY,	-- num << 40 | n
	org_id		TEXT NOT NULL REFERENCES orgs(id),
	n		INTEGER NOT NULL CHECK (n > 0),
	at		INTEGER NOT NULL,
	actor_type	TEXT NOT NULL CHECK (actor_type IN ('user', 'system')),
	actor_id	TEXT NOT NULL,
	action		TEXT NOT NULL,
	target		TEXT,
	request_id	TEXT,
	ip		TEXT,
	detail		TEXT NOT NULL,
	prev_hash	TEXT NOT NULL CHECK (length(prev_hash) = 64),
	hash		TEXT NOT NULL CHECK (length(hash) = 64)
);
-- The filters of GET /v1/audit. Only target has an index (a record's
-- or a user's history is the common question); it ends, implicitly, in
-- the rowid, so within one org's rowid range it reads that target's
-- entries in order. Filters by action or actor walk the org's range
-- itself: an index each cost a tenth of a record create (bench), paid on
-- every write for an admin's occasional query.
CREATE INDEX audit_target ON audit(target) WHERE target IS NOT NULL;

-- Entries are never changed or removed.
CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
BEGIN
	SELECT RAISE(ABORT, 'audit entries are never changed');
END;
CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
BEGIN
	SELECT RAISE(ABORT, 'audit entries are never changed');
END;
