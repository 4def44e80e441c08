-- wrk script for bench/soak: the mix of a crew's devices, one request at
-- a time per connection, every write with a fresh Idempotency-Key.
--
--   70% reads:  35% GET /v1/records/<id> (a seeded record, at random)
--               15% GET /v1/records?limit=50 (the first page)
--               20% GET /v1/records?since=<token>&limit=50 (delta pull:
--                   each thread keeps the sync_token of its last page)
--   25% writes: 12% POST /v1/records
--               10% PATCH /v1/records/<id> (a record this thread made)
--                3% DELETE /v1/records/<id> (the same)
--    5% batches: POST /v1/batch of SOAK_BATCH record creates
--
-- A PATCH or DELETE takes a record out of the thread's pool of its own
-- records (with the causal token its last answer carried), so two of its
-- connections never write one record at once; a PATCH's answer puts it
-- back with its new token. Without one of its own yet, a thread creates
-- instead.
--
-- Environment: SOAK_IDS (file of seeded ids, one a line), SOAK_SINCE (the
-- first sync_token), SOAK_BATCH (items a batch, default 10), SOAK_OUT
-- (where done() writes one JSON line: requests, bytes, duration,
-- latency, socket errors, answers by status, requests by kind);
-- SOAK_RATE and SOAK_CONNS: a connection pauses before each request,
-- at random (exponentially, as independent devices would), on average
-- SOAK_CONNS / SOAK_RATE seconds, so that all together send about
-- SOAK_RATE requests a second (a little less: each also waits for its
-- answer); without SOAK_RATE, each sends as soon as it has its answer.
-- Headers given with -H (the bearer token, Content-Type) go with every
-- request.

local threads = {}

local rate = tonumber(os.getenv("SOAK_RATE") or "0")
if rate > 0 then
   local mean_ms = 1000 * tonumber(os.getenv("SOAK_CONNS")) / rate
   function delay()
      return math.floor(-mean_ms * math.log(1 - math.random()))
   end
end

function setup(thread)
   threads[#threads + 1] = thread
   thread:set("tid", #threads)
end

local seeded = {}
local mine = {}         -- {id, causal} this thread made and may write
local busy = {}         -- id -> true while its PATCH is out
local since
local prefix
local counter = 0
local batch_size
local MINE_MAX = 2000   -- a thread keeps at most this many of its own

function init(args)
   local f = assert(io.open(os.getenv("SOAK_IDS")))
   for line in f:lines() do
      if #line > 0 then seeded[#seeded + 1] = line end
   end
   f:close()
   assert(#seeded > 0, "no ids in $SOAK_IDS")
   since = assert(os.getenv("SOAK_SINCE"), "no $SOAK_SINCE")
   batch_size = tonumber(os.getenv("SOAK_BATCH") or "10")
   math.randomseed(os.time() * 1000 + (tid or 0))
   prefix = string.format("soak-%d-%d-%08x-", os.time(), tid or 0,
                          math.random(0, 0x7fffffff))
   statuses = {}
   kinds = {get = 0, list = 0, delta = 0, create = 0, patch = 0,
            delete = 0, batch = 0}
end

-- About 300 bytes of data, like bench/seed.py's records.
local function record_body(n)
   return string.format(
      '{"title":"soak %s%d","type":"inspection","site":"north",' ..
      '"data":{"n":%d,"notes":"%s","readings":[%d,%d,%d]}}',
      prefix, n, n, string.rep("field note ", 20), n % 97, n % 89, n % 83)
end

local function key()
   counter = counter + 1
   wrk.headers["Idempotency-Key"] = prefix .. counter
   return counter
end

local function plain()
   wrk.headers["Idempotency-Key"] = nil
end

-- Takes one of this thread's records out of the pool: id, causal (or nil).
local function take()
   local n = #mine
   if n == 0 then return nil end
   local i = math.random(n)
   local rec = mine[i]
   mine[i] = mine[n]
   mine[n] = nil
   return rec[1], rec[2]
end

local function create()
   kinds.create = kinds.create + 1
   local n = key()
   return wrk.format("POST", "/v1/records", nil, record_body(n))
end

local function batch()
   kinds.batch = kinds.batch + 1
   local items = {}
   for i = 1, batch_size do
      local n = key()
      items[i] = string.format(
         '{"method":"POST","path":"/v1/records","headers":' ..
         '{"Idempotency-Key":"%sb%d"},"body":%s}', prefix, n,
         record_body(n))
   end
   key()
   return wrk.format("POST", "/v1/batch", nil,
                     '{"requests":[' .. table.concat(items, ",") .. ']}')
end

function request()
   local r = math.random(100)
   wrk.headers["If-Match"] = nil
   if r <= 35 then
      kinds.get = kinds.get + 1
      plain()
      return wrk.format("GET", "/v1/records/" .. seeded[math.random(#seeded)])
   elseif r <= 50 then
      kinds.list = kinds.list + 1
      plain()
      return wrk.format("GET", "/v1/records?limit=50")
   elseif r <= 70 then
      kinds.delta = kinds.delta + 1
      plain()
      return wrk.format("GET", "/v1/records?since=" .. since .. "&limit=50")
   elseif r <= 82 then
      return create()
   elseif r <= 95 then
      local id, causal = take()
      if id == nil then return create() end
      local n = key()
      if r <= 92 then
         kinds.patch = kinds.patch + 1
         busy[id] = true
         return wrk.format("PATCH", "/v1/records/" .. id, nil,
            string.format('{"causal":"%s","data":{"n":%d,"checked":true}}',
                          causal, n))
      end
      kinds.delete = kinds.delete + 1
      wrk.headers["If-Match"] = '"' .. causal .. '"'
      return wrk.format("DELETE", "/v1/records/" .. id)
   end
   return batch()
end

local function keep(id, causal)
   if id and causal and #mine < MINE_MAX then
      mine[#mine + 1] = {id, causal}
   end
end

-- A record's id and causal token, the first in BODY (a record's JSON
-- names its id first, its causal later).
local RECORD = '"id":"(rec_[%w]+)".-"causal":"([^"]+)"'

function response(status, headers, body)
   statuses[status] = (statuses[status] or 0) + 1
   if status == 201 then
      keep(string.match(body, RECORD))
   elseif status == 200 then
      if string.find(body, '"responses":', 1, true) then
         for id, causal in string.gmatch(body, RECORD) do
            keep(id, causal)
         end
         return
      end
      local tok = string.match(body, '"sync_token":"([^"]+)"')
      if tok then since = tok return end
      local id, causal = string.match(body, RECORD)
      if id and busy[id] then
         busy[id] = nil
         keep(id, causal)
      end
   end
end

local function json_counts(t)
   local parts = {}
   for k, v in pairs(t) do
      parts[#parts + 1] = string.format('"%s":%d', tostring(k), v)
   end
   return "{" .. table.concat(parts, ",") .. "}"
end

local function add(into, from)
   for k, v in pairs(from) do into[k] = (into[k] or 0) + v end
end

function done(summary, latency, requests)
   local st, kd = {}, {}
   for _, t in ipairs(threads) do
      add(st, t:get("statuses"))
      add(kd, t:get("kinds"))
   end
   local e = summary.errors
   local out = assert(io.open(assert(os.getenv("SOAK_OUT")), "a"))
   out:write(string.format(
      '{"requests":%d,"bytes":%d,"duration_us":%d,' ..
      '"latency_us":{"p50":%d,"p90":%d,"p99":%d,"max":%d},' ..
      '"socket_errors":{"connect":%d,"read":%d,"write":%d,' ..
      '"timeout":%d},"statuses":%s,"kinds":%s}\n',
      summary.requests, summary.bytes, summary.duration,
      latency:percentile(50), latency:percentile(90),
      latency:percentile(99), latency.max, e.connect, e.read, e.write,
      e.timeout, json_counts(st), json_counts(kd)))
   out:close()
end
