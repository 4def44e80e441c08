-- wrk script: POST a new record-shaped JSON body to the URL's path, each
-- request with a fresh Idempotency-Key (run start, thread id, a random
-- number and a per-thread counter, so keys never repeat across threads,
-- warm-up and measured runs). Set BENCH_IDEMPOTENCY=0 to send no key.
-- Headers given with -H (bearer token, Content-Type) go with every request.
-- The insert baseline and PouchDB are driven by this same script.

local counter = 0
local prefix
local idem

function setup(thread)
   nthreads = (nthreads or 0) + 1
   thread:set("tid", nthreads)
end

function init(args)
   math.randomseed(os.time() * 1000 + (tid or 0))
   prefix = string.format("bench-%d-%d-%08x-", os.time(), tid or 0,
                          math.random(0, 0x7fffffff))
   idem = os.getenv("BENCH_IDEMPOTENCY") ~= "0"
end

function request()
   counter = counter + 1
   if idem then
      wrk.headers["Idempotency-Key"] = prefix .. counter
   end
   local body = string.format(
      '{"title":"bench %s%d","type":"bench","site":"alpha","data":{"n":%d}}',
      prefix, counter, counter)
   return wrk.format("POST", nil, nil, body)
end
