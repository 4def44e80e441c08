#include <string.h>

#include <json-c/json.h>

#include "problem.h"

static const struct {
	const char	*code;
	const char	*title;
	int		 status;
} rs_problems[RS_PROB__MAX] = {
	{ "not_found", "Not found", 404 },
	{ "method_not_allowed", "Method not allowed", 405 },
	{ "unsupported_media_type", "Unsupported media type", 415 },
	{ "payload_too_large", "Payload too large", 413 },
	{ "invalid_json", "Invalid JSON", 400 },
	{ "invalid_request", "Invalid request", 400 },
	{ "unauthorized", "Unauthorized", 401 },
	{ "forbidden", "Forbidden", 403 },
	{ "invalid_api_key", "Invalid API key", 401 },
	{ "rate_limited", "Too many requests", 429 },
	{ "internal_error", "Internal server error", 500 },
	{ "service_unavailable", "Service unavailable", 503 },
	{ "invalid_cursor", "Invalid cursor", 400 },
	{ "sync_token_expired", "Sync token expired", 410 },
	{ "record_deleted", "Record deleted", 410 },
	{ "causal_required", "Causal token required", 428 },
	{ "causal_conflict", "Causal conflict", 409 },
	{ "conflict_closed", "Conflict closed", 409 },
	{ "idempotency_key_reused", "Idempotency key reused", 422 },
	{ "idempotency_in_progress", "Idempotent request in progress", 409 },
	{ "user_exists", "User exists", 409 },
	{ "invite_invalid", "Invite invalid", 410 },
	{ "last_admin", "Last active admin", 409 },
	{ "invalid_user_state", "Invalid user state", 409 },
	{ "invalid_policy", "Invalid policy", 400 },
	{ "invalid_webhook_url", "Invalid webhook URL", 400 },
	{ "webhook_limit_reached", "Webhook limit reached", 409 },
	{ "job_not_retryable", "Job not retryable", 409 },
	{ "too_many_streams", "Too many streams", 429 },
	{ "batch_failed", "Batch failed", 409 },
	{ "request_timeout", "Request timeout", 408 },
	{ "length_required", "Length required", 411 },
	{ "uri_too_long", "URI too long", 414 },
	{ "request_header_fields_too_large",
	    "Request header fields too large", 431 },
	{ "not_implemented", "Not implemented", 501 },
};

/* The codes a status alone names, with nothing more particular known. */
static const enum rs_problem rs_problem_generic[] = {
	RS_PROB_INVALID_REQUEST, RS_PROB_UNAUTHORIZED, RS_PROB_FORBIDDEN,
	RS_PROB_NOT_FOUND, RS_PROB_METHOD_NOT_ALLOWED,
	RS_PROB_REQUEST_TIMEOUT, RS_PROB_LENGTH_REQUIRED,
	RS_PROB_PAYLOAD_TOO_LARGE, RS_PROB_URI_TOO_LONG,
	RS_PROB_UNSUPPORTED_MEDIA_TYPE, RS_PROB_RATE_LIMITED,
	RS_PROB_HEADERS_TOO_LARGE, RS_PROB_INTERNAL, RS_PROB_NOT_IMPLEMENTED,
	RS_PROB_UNAVAILABLE,
};

const char *
rs_problem_code(enum rs_problem p)
{
	return rs_problems[p].code;
}

const char *
rs_problem_title(enum rs_problem p)
{
	return rs_problems[p].title;
}

int
rs_problem_status(enum rs_problem p)
{
	return rs_problems[p].status;
}

enum rs_problem
rs_problem_for_status(int status)
{
	size_t	 i;

	for (i = 0; i < sizeof(rs_problem_generic) /
	    sizeof(rs_problem_generic[0]); i++)
		if (rs_problems[rs_problem_generic[i]].status == status)
			return rs_problem_generic[i];
	return status < 500 ? RS_PROB_INVALID_REQUEST : RS_PROB_INTERNAL;
}

static int
rs_problem_add_str(struct json_object *o, const char *k, const char *v)
{
	struct json_object	*s;

	if ((s = json_object_new_string(v)) == NULL)
		return -1;
	if (json_object_object_add(o, k, s) != 0) {
		json_object_put(s);
		return -1;
	}
	return 0;
}

struct json_object *
rs_problem_new(enum rs_problem p, const char *detail, const char *instance,
    const char *request_id)
{
	struct json_object	*o;
	char			 type[128];

	if ((o = json_object_new_object()) == NULL)
		return NULL;
	strcpy(type, RS_PROBLEM_TYPE_BASE);
	strncat(type, rs_problems[p].code, sizeof(type) - strlen(type) - 1);
	if (rs_problem_add_str(o, "type", type) ||
	    rs_problem_add_str(o, "title", rs_problems[p].title) ||
	    json_object_object_add(o, "status",
		json_object_new_int(rs_problems[p].status)) ||
	    (detail != NULL && rs_problem_add_str(o, "detail", detail)) ||
	    rs_problem_add_str(o, "code", rs_problems[p].code) ||
	    (instance != NULL && rs_problem_add_str(o, "instance", instance)) ||
	    (request_id != NULL &&
		rs_problem_add_str(o, "request_id", request_id))) {
		json_object_put(o);
		return NULL;
	}
	return o;
}

int
rs_problem_field(struct json_object *prob, const char *field,
    const char *message)
{
	struct json_object	*errs, *e;

	if (!json_object_object_get_ex(prob, "errors", &errs)) {
		if ((errs = json_object_new_array()) == NULL)
			return -1;
		if (json_object_object_add(prob, "errors", errs) != 0) {
			json_object_put(errs);
			return -1;
		}
	}
	if ((e = json_object_new_object()) == NULL)
		return -1;
	if (rs_problem_add_str(e, "field", field) ||
	    rs_problem_add_str(e, "message", message) ||
	    json_object_array_add(errs, e) != 0) {
		json_object_put(e);
		return -1;
	}
	return 0;
}
