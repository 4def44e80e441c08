-- 0007: when and where each event is to be delivered, as the org's
-- policies decided for the write that caused it (lib/policy_set.c): the
-- queue, the priority (0..9) and the time before which it must not go
-- out (ms; the write's time plus the policy's delay). Events written
-- before this migration, and events of writes no policy chose for, get
-- the defaults: queue "default", priority 5, no delay.
ALTER TABLE events ADD COLUMN queue TEXT NOT NULL DEFAULT 'default';
ALTER TABLE events ADD COLUMN priority INTEGER NOT NULL DEFAULT 5
    CHECK (priority BETWEEN 0 AND 9);
ALTER TABLE events ADD COLUMN not_before INTEGER NOT NULL DEFAULT 0;
