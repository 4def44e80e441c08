-- 0011: failed key exchanges are counted in the rate limits' shared
-- table (lib/ratelimit.h, the file beside the database), not here: a
-- flood of wrong keys no longer costs a write each.
DROP TABLE throttle;
