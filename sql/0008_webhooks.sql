-- 0008: webhook endpoints, their delivery jobs, and how far the worker has
-- fanned out each org's events.

-- An org's endpoints. The secret is kept sealed under the server secret
-- (lib/whsig.h), never in the clear, since the worker must sign with it.
-- from_event is the org's event count when the endpoint was made: only
-- later events fan out to it (a replay may reach back further).
CREATE TABLE webhooks (
	seq		INTEGER PRIMARY KEY,
	id		TEXT NOT NULL UNIQUE,
	org_id		TEXT NOT NULL REFERENCES orgs(id),
	url		TEXT NOT NULL CHECK (length(url) BETWEEN 1 AND 2048),
	events		TEXT NOT NULL,		-- JSON array of names, or ["*"]
	description	TEXT,
	status		TEXT NOT NULL DEFAULT 'enabled'
			CHECK (status IN ('enabled', 'disabled')),
	disabled_reason	TEXT,
	secret		BLOB NOT NULL,
	from_event	INTEGER NOT NULL,
	created_at	INTEGER NOT NULL,
	updated_at	INTEGER NOT NULL
);
CREATE INDEX webhooks_org ON webhooks(org_id, seq);

-- The worker's place in each org's events (a count, like orgs.event_seq):
-- events past it are not fanned out yet. Events written before webhooks
-- existed have nowhere to go.
ALTER TABLE orgs ADD COLUMN fanout_seq INTEGER NOT NULL DEFAULT 0;
UPDATE orgs SET fanout_seq = event_seq;

-- One job per (event, endpoint). due_at is when a waiting job (pending,
-- failed) is next tried, and when a running job's lease ends: a run that
-- dies leaves its jobs to come back then.
CREATE TABLE jobs (
	seq		INTEGER PRIMARY KEY,
	id		TEXT NOT NULL UNIQUE,
	org_id		TEXT NOT NULL REFERENCES orgs(id),
	webhook_seq	INTEGER NOT NULL,	-- webhooks.seq
	event_seq	INTEGER NOT NULL,	-- events.seq
	event_type	TEXT NOT NULL,
	record_id	TEXT,
	queue		TEXT NOT NULL,
	priority	INTEGER NOT NULL CHECK (priority BETWEEN 0 AND 9),
	state		TEXT NOT NULL DEFAULT 'pending'
			CHECK (state IN ('pending', 'running', 'succeeded',
			    'failed', 'dead')),
	attempts	INTEGER NOT NULL DEFAULT 0,
	max_attempts	INTEGER NOT NULL,
	due_at		INTEGER NOT NULL,
	last_error	TEXT,
	last_status	INTEGER,
	created_at	INTEGER NOT NULL,
	updated_at	INTEGER NOT NULL
);
-- The queue API pages an org's jobs and counts them by state.
CREATE INDEX jobs_org ON jobs(org_id, seq);
CREATE INDEX jobs_org_state ON jobs(org_id, state);
-- The worker's due work, in the order it is taken (higher priority
-- first, then the earliest due): a lease reads the first rows instead of
-- sorting every waiting job.
CREATE INDEX jobs_due ON jobs(priority DESC, due_at, seq)
    WHERE state IN ('pending', 'running', 'failed');
-- Leases that ran out.
CREATE INDEX jobs_leased ON jobs(due_at) WHERE state = 'running';
-- An endpoint's jobs, when it is deleted.
CREATE INDEX jobs_webhook ON jobs(webhook_seq);
-- One record's unfinished jobs to one endpoint, in event order: a job
-- waits while an earlier one is here (delivered jobs leave the index, so
-- the check is one probe however long the record's history).
CREATE INDEX jobs_chain ON jobs(webhook_seq, record_id, event_seq)
    WHERE state IN ('pending', 'running', 'failed');
-- The retention purge of finished jobs.
CREATE INDEX jobs_done ON jobs(updated_at) WHERE state = 'succeeded';
