-- 0001: orgs, users, API keys and the failed-login throttle.
-- Times are integer milliseconds since the Unix epoch (UTC).

CREATE TABLE orgs (
	id		TEXT PRIMARY KEY,
	name		TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
	rate_limit	INTEGER NOT NULL DEFAULT 120 CHECK (rate_limit > 0),
	created_at	INTEGER NOT NULL
);

CREATE TABLE users (
	id		TEXT PRIMARY KEY,
	org_id		TEXT NOT NULL REFERENCES orgs(id),
	email		TEXT NOT NULL CHECK (length(email) BETWEEN 3 AND 254),
	role		TEXT NOT NULL
			CHECK (role IN ('admin', 'operator', 'viewer')),
	status		TEXT NOT NULL DEFAULT 'active'
			CHECK (status IN ('active', 'invited', 'disabled')),
	last_sync_at	INTEGER,
	created_at	INTEGER NOT NULL
);
-- One user per address per org, whatever its case.
CREATE UNIQUE INDEX users_org_email ON users(org_id, email COLLATE NOCASE);

-- Only a keyed BLAKE2b hash of each key is kept; the key is shown once.
CREATE TABLE api_keys (
	id		TEXT PRIMARY KEY,
	org_id		TEXT NOT NULL REFERENCES orgs(id),
	user_id		TEXT NOT NULL REFERENCES users(id),
	hash		BLOB NOT NULL UNIQUE,
	created_at	INTEGER NOT NULL,
	revoked_at	INTEGER
);
CREATE INDEX api_keys_user ON api_keys(user_id);

-- Failed key exchanges per client address, for slowing guessing.
CREATE TABLE auth_failures (
	addr		TEXT PRIMARY KEY,
	window_start	INTEGER NOT NULL,	-- seconds
	failures	INTEGER NOT NULL
) WITHOUT ROWID;
