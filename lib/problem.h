/*
 * problem.h: RFC 9457 problem details, the one shape of every error.
 * Each code has one row in the table: its name (the "code" member and
 * the last part of "type"), its title and its HTTP status.
 */
#ifndef RS_PROBLEM_H
#define RS_PROBLEM_H

struct json_object;

enum rs_problem {
	RS_PROB_NOT_FOUND,
	RS_PROB_METHOD_NOT_ALLOWED,
	RS_PROB_UNSUPPORTED_MEDIA_TYPE,
	RS_PROB_PAYLOAD_TOO_LARGE,
	RS_PROB_INVALID_JSON,
	RS_PROB_INVALID_REQUEST,
	RS_PROB_UNAUTHORIZED,
	RS_PROB_FORBIDDEN,
	RS_PROB_INVALID_API_KEY,
	RS_PROB_RATE_LIMITED,
	RS_PROB_INTERNAL,
	RS_PROB_UNAVAILABLE,
	RS_PROB_INVALID_CURSOR,
	RS_PROB_SYNC_TOKEN_EXPIRED,
	RS_PROB_RECORD_DELETED,
	RS_PROB_CAUSAL_REQUIRED,
	RS_PROB_CAUSAL_CONFLICT,	/* 412 when the token came in If-Match */
	RS_PROB_CONFLICT_CLOSED,	/* a conflict resolved or superseded */
	RS_PROB_IDEM_REUSED,
	RS_PROB_IDEM_IN_PROGRESS,
	RS_PROB_USER_EXISTS,
	RS_PROB_INVITE_INVALID,
	RS_PROB_LAST_ADMIN,
	RS_PROB_USER_STATE,
	RS_PROB_INVALID_POLICY,		/* a policy text that does not parse */
	RS_PROB_INVALID_WEBHOOK_URL,	/* a webhook URL netguard.h refuses */
	RS_PROB_WEBHOOK_LIMIT,		/* an org's endpoints are all used */
	RS_PROB_JOB_NOT_RETRYABLE,	/* a succeeded or running job */
	RS_PROB_TOO_MANY_STREAMS,	/* the org's event streams, 429 */
	RS_PROB_BATCH_FAILED,		/* an atomic batch rolled back */
	RS_PROB_REQUEST_TIMEOUT,	/* the web server's own errors */
	RS_PROB_LENGTH_REQUIRED,
	RS_PROB_URI_TOO_LONG,
	RS_PROB_HEADERS_TOO_LARGE,
	RS_PROB_NOT_IMPLEMENTED,
	RS_PROB__MAX
};

#define RS_PROBLEM_TYPE_BASE	"https://relaysync.io/problems/"

const char	*rs_problem_code(enum rs_problem p);
const char	*rs_problem_title(enum rs_problem p);
int		 rs_problem_status(enum rs_problem p);
/*
 * The problem to answer a status 400..599 with that someone else (the
 * web server) decided: the generic code of that status (not_found for
 * 404, not the more particular record_deleted of 410), else
 * invalid_request for 4xx and internal_error for 5xx, whose own status
 * then differs from the one to answer.
 */
enum rs_problem	 rs_problem_for_status(int status);

/*
 * A new problem object (caller owns it) with type, title, status, detail,
 * code, instance and request_id; detail, instance and request_id may be
 * NULL and are then left out. NULL only on allocation failure.
 */
struct json_object *rs_problem_new(enum rs_problem p, const char *detail,
		    const char *instance, const char *request_id);
/* Appends {"field","message"} to the problem's "errors" array. */
int		 rs_problem_field(struct json_object *prob, const char *field,
		    const char *message);

#endif /* RS_PROBLEM_H */
