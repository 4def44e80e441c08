/*
 * api_audit.h: the org's audit log (CONTRACT section 7): its entries,
 * oldest first, filtered and paged, as they are hashed (audit.h), so a
 * third party can recompute the chain from the answers alone, and as a
 * live stream of entries as they are appended (sse.h). Admins.
 * Reached only from router.c; reads go to store_audit.h. Nothing here
 * writes: no route changes or removes an entry.
 */
#ifndef RS_API_AUDIT_H
#define RS_API_AUDIT_H

#include "ctx.h"

/* The query parameters GET /v1/audit admits. */
extern const char *const rs_api_audit_list_query[];

/* The query parameters GET /v1/audit/stream admits. */
extern const char *const rs_api_audit_stream_query[];

enum rs_step	rs_api_audit_list(struct rs_ctx *ctx);	/* GET /v1/audit */
/* GET /v1/audit/stream */
enum rs_step	rs_api_audit_stream(struct rs_ctx *ctx);

#endif /* RS_API_AUDIT_H */
