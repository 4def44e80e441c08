-- RelaySync, lighttpd mod_magnet (magnet.attract-response-start-to, on
-- /v<n> paths only; see relaysync-magnet.conf): an error answer that did
-- not come from the program (it has no X-Request-Id: the program always
-- sends one) gets an id, and lighttpd's static JSON problem for a program
-- that cannot start or died (500/502/503/504) is rewritten with that id as
-- request_id and the path as instance. Every other answer is left alone.
local r = lighty.r
local status = r.req_item.http_status
if status < 400 or r.resp_header["X-Request-Id"] then
    return 0
end

-- The client's X-Request-Id when it is 1..64 of [A-Za-z0-9._-] (as the
-- program does), else a fresh one: "req_" and 26 hex digits.
local id = r.req_header["X-Request-Id"]
if not id or #id > 64 or not id:match("^[A-Za-z0-9._-]+$") then
    local c = lighty.c
    id = "req_" .. string.sub(c.md("sha256",
        tostring(c.hrtime()) .. ":" .. tostring(c.rand()) .. ":" ..
        tostring(c.rand()) .. ":" .. (r.req_attr["request.remote-port"] or "")
        ), 1, 26):lower()
end
r.resp_header["X-Request-Id"] = id

local problems = {
    [500] = { "internal_error", "Internal server error",
              "The service failed to answer this request; try again later." },
    [502] = { "service_unavailable", "Service unavailable",
              "The service is not available; try again later." },
    [503] = { "service_unavailable", "Service unavailable",
              "The service is not available; try again later." },
    [504] = { "service_unavailable", "Service unavailable",
              "The service did not answer in time; try again later." },
}
local p = problems[status]
if not p then
    return 0
end
-- The path as the client sent it (an error handler may have rewritten
-- uri.path to /v1/_error), without its query.
local path = (r.req_attr["request.orig-uri"] or ""):gsub("%?.*$", "")
local function q(s) return '"' .. lighty.c.bsenc_json(s) .. '"' end
local body = table.concat({ "{\"type\":",
    q("https://relaysync.io/problems/" .. p[1]),
    ",\"title\":", q(p[2]), ",\"status\":", tostring(status),
    ",\"detail\":", q(p[3]), ",\"code\":", q(p[1]),
    ",\"instance\":", q(path), ",\"request_id\":", q(id), "}" })
r.resp_body.set({ body })
r.resp_header["Content-Type"] = "application/problem+json"
-- Returning the status marks the new body complete (else lighttpd sends it
-- chunked and never ends it).
return status
