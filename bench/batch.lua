-- wrk script: POST /v1/batch with BENCH_BATCH (default 100) record creates,
-- each item with a fresh Idempotency-Key of its own (run start, thread id,
-- a random number and a per-thread counter: keys never repeat across
-- threads, warm-up and measured runs), the same bodies post.lua sends.
-- The report counts records/s as req/s times the batch's size.

local counter = 0
local prefix
local size

function setup(thread)
   nthreads = (nthreads or 0) + 1
   thread:set("tid", nthreads)
end

function init(args)
   math.randomseed(os.time() * 1000 + (tid or 0))
   prefix = string.format("bench-b-%d-%d-%08x-", os.time(), tid or 0,
                          math.random(0, 0x7fffffff))
   size = tonumber(os.getenv("BENCH_BATCH") or "100")
end

function request()
   local items = {}
   for i = 1, size do
      counter = counter + 1
      items[i] = string.format(
         '{"method":"POST","path":"/v1/records","headers":' ..
         '{"Idempotency-Key":"%s%d"},"body":{"title":"bench %s%d",' ..
         '"type":"bench","site":"alpha","data":{"n":%d}}}',
         prefix, counter, prefix, counter, counter)
   end
   return wrk.format("POST", nil, nil,
                     '{"requests":[' .. table.concat(items, ",") .. ']}')
end
