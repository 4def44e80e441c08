/*
 * limits.h: every bound RelaySync puts on outside input, in one place.
 * Reached only as "limits.h" from lib/; <limits.h> stays the system's.
 */
#ifndef RS_LIMITS_H
#define RS_LIMITS_H

#define RS_MAX_BODY		(1024 * 1024)	/* request body, bytes */
#define RS_MAX_JSON_DEPTH	32		/* nesting of arrays/objects */
#define RS_MAX_URI		8192		/* REQUEST_URI, bytes */
#define RS_MAX_PATH_SEGMENTS	16		/* path segments kept, the mount
						 * point's included; a longer
						 * path matches no route */
#define RS_MAX_BASE_PATH	256		/* RELAYSYNC_BASE_PATH, bytes */
#define RS_MAX_BASE_SEGMENTS	8		/* ... and its segments */
#define RS_MAX_INSTANCE		512		/* a problem's instance made
						 * from a path we refused */
#define RS_MAX_QUERY_PARAMS	32		/* name=value pairs in a query */
#define RS_MAX_QUERY_VALUE	1024		/* one decoded name or value */
#define RS_MAX_HEADER		8192		/* one header value we read */
#define RS_MAX_REQUEST_ID	64		/* a client's X-Request-Id */
#define RS_MAX_TOKEN		512		/* a bearer token */
#define RS_MAX_API_KEY		128		/* an API key as sent */
#define RS_MAX_EMAIL		254		/* RFC 5321 path limit */
#define RS_MAX_NAME		200		/* org names, titles, types */
#define RS_MAX_RESP_HEADERS	24		/* extra headers on one answer */
#define RS_MAX_POLICY_TEXT	1024		/* a policy's when or then, characters */
#define RS_POLICY_DEFAULT_PRIORITY 5		/* when no policy matches */
#define RS_MAX_POLICY_DEPTH	32		/* nesting in a policy's when */
#define RS_VALID_MAX_ERRORS	16		/* field errors named in one 400 */
#define RS_MAX_CONTENT_LENGTH	(1LL << 60)	/* a Content-Length we parse;
						 * past RS_MAX_BODY is 413 */
#define RS_MAX_ROLE		16		/* a role or status name */
#define RS_MAX_INVITE_TOKEN	128		/* an invite token as sent */
#define RS_MAX_IDEM_KEY		255		/* an Idempotency-Key */

#define RS_ARENA_CHUNK		(64 * 1024)	/* arena growth step */
#define RS_ARENA_KEEP		16		/* chunks kept across requests */

#define RS_TOKEN_TTL_DEFAULT	900		/* seconds */
#define RS_TOKEN_TTL_MIN	30
#define RS_TOKEN_TTL_MAX	86400

#define RS_MAX_REQUESTS_MAX	100000000	/* RELAYSYNC_MAX_REQUESTS */
#define RS_RATE_LIMIT_DEFAULT	120		/* requests/s of a new org */
#define RS_RATE_LIMIT_MAX	1000000

#define RS_IDEM_TTL_MS		(24LL * 3600 * 1000)	/* keys remembered */
#define RS_INVITE_TTL_MS	(7LL * 24 * 3600 * 1000) /* an invite lives */
#define RS_SYNC_TOUCH_MS	60000		/* last_sync_at granularity */
/* How long a process trusts what it keeps from the database (a key's
 * holder, the schema version) even while the pool's generation word says
 * nothing changed (whocache.h). */
#define RS_SHARED_TTL_MS	1000

#define RS_AUTH_FAIL_BURST	10		/* failed key exchanges ... */
#define RS_AUTH_FAIL_WINDOW	60		/* ... per address, and per key
						 * prefix, per window (s) */
#define RS_AUTH_KEY_PREFIX	16		/* "rs_live_" + 8: the part of a
						 * wrong key counted */
#define RS_MAX_TRUSTED_PROXIES	16		/* RELAYSYNC_TRUSTED_PROXIES */
#define RS_HOSTS_MAX		64		/* RELAYSYNC_HOSTS */
#define RS_MAX_FORWARDED_HOPS	16		/* X-Forwarded-For hops read */

#define RS_MAX_BATCH_ITEMS	100		/* requests in one batch */
#define RS_MAX_BATCH_ANSWER	(16 * 1024 * 1024) /* a batch's answer bodies,
						   bytes: GET items past it
						   are refused */
#define RS_MAX_RECORD_DATA	(64 * 1024)	/* a record's data, compact */
#define RS_MAX_FIELD_CHARS	200		/* title, type, site */
#define RS_PAGE_DEFAULT		50		/* list limit */
#define RS_PAGE_MAX		200
#define RS_TOMBSTONE_DAYS_DEFAULT 90		/* delta-sync horizon */
#define RS_HISTORY_DAYS_DEFAULT	30		/* record history and
						 * closed conflicts kept */
#define RS_HISTORY_DAYS_MAX	3650		/* 0: no history at all */

#define RS_MAX_WEBHOOK_DESCRIPTION 500		/* characters */
#define RS_MAX_REPLAY_EVENTS	10000		/* events one replay queues */
#define RS_MAX_QUEUE_FILTER	200		/* queue= and event_type=, bytes */

#define RS_BUSY_TIMEOUT_MS	5000		/* waiting for a SQLite writer */

/*
 * Event streams (sse.h). A stream must write something at least every
 * heartbeat seconds, below mod_fcgid's 40 s idle-read timeout, and end
 * before its 300 s busy timeout kills it; each holds one pool process, so
 * the pool's streams are capped (RELAYSYNC_STREAMS, 0: no streams).
 */
#define RS_STREAM_LIFETIME_DEFAULT 55		/* s */
#define RS_STREAM_LIFETIME_MAX	280
#define RS_STREAM_HEARTBEAT_DEFAULT 15		/* s */
#define RS_STREAM_HEARTBEAT_MAX	35
#define RS_STREAMS_DEFAULT	2		/* the whole pool's: below
						 * the smallest pool (4) */
#define RS_STREAMS_PER_ORG_DEFAULT 2
#define RS_STREAMS_MAX		1000
#define RS_STREAM_POLL_MS	500		/* new rows within 2 s */
#define RS_STREAM_BATCH		100		/* rows read per poll */
#define RS_STREAM_RETRY_AFTER	"5"		/* s, on 429 and 503 */

/* Rowids of records and events: the org's number << 40 | a count within
 * the org (sql/0004), so one org's rows are one range, in order. */
#define RS_ORG_ROW_BITS		40
#define RS_ORG_NUM_MAX		((1LL << (62 - RS_ORG_ROW_BITS)) - 1)

/* A number macro as a string literal, for SQL text. */
#define RS_STR_(x)		#x
#define RS_STR(x)		RS_STR_(x)

#endif /* RS_LIMITS_H */
