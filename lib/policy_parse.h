/*
 * policy_parse.h: the recursive-descent parsers of the policy language:
 * "when" into the compiled form of policy_eval.h, "then" into struct
 * rs_policy_then. They implement rs_policy_when_compile,
 * rs_policy_when_free and rs_policy_then_parse, declared in policy.h,
 * the module's public face; nothing else is exported.
 */
#ifndef RS_POLICY_PARSE_H
#define RS_POLICY_PARSE_H

#include "policy.h"

#endif /* RS_POLICY_PARSE_H */
