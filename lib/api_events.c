#include <string.h>

#include "limits.h"
#include "arena.h"
#include "reply.h"
#include "sse.h"
#include "store_orgseq.h"
#include "store_outbox.h"
#include "api_events.h"

const char *const rs_api_events_stream_query[] = {
	"types", "last_event_id", "after_seq", NULL,
};

/* How many types one stream may name: each is named once at most. */
#define RS_API_EVENTS_TYPES_MAX	16

/* Whose events a stream follows, and which of them. */
struct rs_api_events_follow {
	struct rs_db	*db;
	const char	*org;
	const char	*types[RS_API_EVENTS_TYPES_MAX];
	size_t		 ntypes;	/* 0: every type */
};

static int
rs_api_events_wanted(const struct rs_api_events_follow *f, const char *type)
{
	size_t	 i;

	if (f->ntypes == 0)
		return 1;
	for (i = 0; i < f->ntypes; i++)
		if (strcmp(f->types[i], type) == 0)
			return 1;
	return 0;
}

/* The stream's reader (sse.h): events of the wanted types, as sent. */
static enum rs_err
rs_api_events_read(void *arg, struct rs_arena *a, int64_t after, size_t max,
    struct rs_sse_frame *out, size_t *n, int64_t *scanned)
{
	const struct rs_api_events_follow *f = arg;
	struct rs_store_outbox_follow	*ev;
	size_t				 i, got;
	enum rs_err			 rc;

	*n = 0;
	if ((ev = rs_arena_calloc(a, max, sizeof(*ev))) == NULL)
		return RS_ERR_NOMEM;
	if ((rc = rs_store_outbox_follow(f->db, a, f->org, after, max, ev,
	    &got)) != RS_OK)
		return rc;
	for (i = 0; i < got; i++) {
		*scanned = ev[i].n;
		if (!rs_api_events_wanted(f, ev[i].type))
			continue;
		out[*n].id = ev[i].n;
		out[*n].event = ev[i].type;
		out[*n].data = ev[i].payload;
		(*n)++;
	}
	return RS_OK;
}

/* The query's types into f: RS_NEXT, or RS_ANSWERED (400). */
static enum rs_step
rs_api_events_types(struct rs_ctx *ctx, struct rs_api_events_follow *f)
{
	const char	*s = rs_query_get(&ctx->req.query, "types");
	char		*list, *t, *save = NULL;

	if (s == NULL)
		return RS_NEXT;
	if ((list = rs_arena_strdup(&ctx->app->arena, s)) == NULL)
		return RS_FAIL;
	/* strtok_r would skip empty names; they are mistakes to report. */
	for (t = list; t != NULL; t = save) {
		if ((save = strchr(t, ',')) != NULL)
			*save++ = '\0';
		if (!rs_store_outbox_type_known(t))
			return rs_reply_problem(ctx, RS_PROB_INVALID_REQUEST,
			    "types: \"%.64s\" is not an event type; use a "
			    "comma-separated list of " RS_STORE_OUTBOX_TYPES,
			    t);
		if (rs_api_events_wanted(f, t) && f->ntypes > 0)
			continue;	/* named twice */
		if (f->ntypes == RS_API_EVENTS_TYPES_MAX)
			return rs_reply_problem(ctx, RS_PROB_INVALID_REQUEST,
			    "types: at most %d names",
			    RS_API_EVENTS_TYPES_MAX);
		f->types[f->ntypes++] = t;
	}
	return RS_NEXT;
}

enum rs_step
rs_api_events_stream(struct rs_ctx *ctx)
{
	struct rs_api_events_follow	*f;
	struct rs_store_orgseq_fanout	 place;
	enum rs_step			 step;
	int64_t				 after;

	if ((f = rs_arena_calloc(&ctx->app->arena, 1, sizeof(*f))) == NULL)
		return RS_FAIL;
	f->db = ctx->app->db;
	f->org = ctx->who.org_id;
	if ((step = rs_api_events_types(ctx, f)) != RS_NEXT ||
	    (step = rs_sse_start(ctx, &after)) != RS_NEXT)
		return step;
	if (after < 0) {
		/* The current end: the org's count of events written. */
		if (rs_store_orgseq_fanout(f->db, f->org, &place) != RS_OK)
			return RS_FAIL;
		after = place.event;
	}
	return rs_sse_answer(ctx, rs_api_events_read, f, after);
}
