-- 0010: the audit log's target lookup leaves the write path.
--
-- An index on audit(target) cost every write a second B-tree under the
-- write lock: about half of what an audit entry costs a record create
-- (bench/README). audit_targets is the same lookup, filled in after the
-- fact by the worker (lib/relay.c), one row per entry (target NULL when
-- it has none), so an org's last row is how far it has got. A lookup by
-- target reads it up to there and scans the org's entries past it.
DROP INDEX audit_target;

CREATE TABLE audit_targets (
	seq		INTEGER PRIMARY KEY,	-- the entry's audit.seq
	target		TEXT
);
CREATE INDEX audit_targets_target ON audit_targets(target)
	WHERE target IS NOT NULL;

INSERT INTO audit_targets (seq, target) SELECT seq, target FROM audit;
