-- 0006: sync policies (CONTRACT.md section 5, lib/store_policies.c).
--
-- One row per policy name of an org; POST /v1/policies creates or
-- replaces by name. seq is the stored rowid (an INTEGER PRIMARY KEY
-- never changes under VACUUM): a list cursor names the last policy it
-- handed out by seq and reads its name back, so paging walks the keyset
-- (order, name) exactly. For the same reason a deleted policy is kept as
-- a tombstone (deleted_at set, hidden everywhere): a cursor that points
-- at it still knows where it was; creating the name again revives the
-- row with a new id.
--
-- orgs.policy_version is bumped in the transaction of every policy
-- write, so a process that caches an org's compiled policies knows when
-- its copy is stale with one read of one integer.
CREATE TABLE policies (
	seq		INTEGER PRIMARY KEY,
	id		TEXT NOT NULL UNIQUE,		-- pol_...
	org_id		TEXT NOT NULL REFERENCES orgs(id),
	name		TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 64
			    AND name NOT GLOB '*[^a-z0-9_]*'),
	"when"		TEXT NOT NULL,
	"then"		TEXT NOT NULL,
	"order"		INTEGER NOT NULL DEFAULT 100,
	enabled		INTEGER NOT NULL DEFAULT 1 CHECK (enabled IN (0, 1)),
	created_at	INTEGER NOT NULL,
	updated_at	INTEGER NOT NULL,
	deleted_at	INTEGER,			-- tombstone when set
	UNIQUE (org_id, name)
);
-- Evaluation and list order.
CREATE INDEX policies_order ON policies(org_id, "order", name);
ALTER TABLE orgs ADD COLUMN policy_version INTEGER NOT NULL DEFAULT 0;
