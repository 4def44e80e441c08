-- 0003: invitations. The token is shown once; only its keyed hash is kept.

CREATE TABLE invites (
	hash		BLOB PRIMARY KEY,
	user_id		TEXT NOT NULL REFERENCES users(id),
	org_id		TEXT NOT NULL REFERENCES orgs(id),
	expires_at	INTEGER NOT NULL,
	used_at		INTEGER,
	created_at	INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX invites_user ON invites(user_id);
CREATE INDEX users_org_role ON users(org_id, role, status);
