-- 0005: failed key exchanges, counted per client address and per key
-- prefix, so that a guesser is slowed down without a correct key ever
-- being refused (lib/api_auth.c, lib/store_throttle.c).
--
-- One row per counter: kind 'addr' (k: the client's address, an IPv6
-- client's /64) or 'key' (k: a keyed hash of the first 16 characters of
-- the key presented, so no part of a key is kept). A counter's window
-- starts at its first failure after the last window closed. Each failure
-- counted also removes a few rows whose window closed (by window_start),
-- so a flood of one-off guesses cannot grow the table without bound.
-- It replaces auth_failures (0001), counted per address only.
CREATE TABLE throttle (
	kind		TEXT NOT NULL CHECK (kind IN ('addr', 'key')),
	k		TEXT NOT NULL,
	window_start	INTEGER NOT NULL,	-- seconds
	failures	INTEGER NOT NULL,
	PRIMARY KEY (kind, k)
) WITHOUT ROWID;
CREATE INDEX throttle_window ON throttle(window_start);
DROP TABLE auth_failures;
