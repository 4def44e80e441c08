-- wrk script: GET a random path from the file named by $BENCH_PATHS (one
-- path per line, written by seed.py). Headers given with -H (the bearer
-- token) go with every request. The fixed baseline is driven by this same
-- script, so the ceiling and the measured workload cost wrk the same.

local paths = {}

function setup(thread)
   nthreads = (nthreads or 0) + 1
   thread:set("tid", nthreads)
end

function init(args)
   local f = assert(io.open(os.getenv("BENCH_PATHS")))
   for line in f:lines() do
      if #line > 0 then paths[#paths + 1] = line end
   end
   f:close()
   assert(#paths > 0, "no paths in $BENCH_PATHS")
   math.randomseed(os.time() * 1000 + (tid or 0))
end

function request()
   return wrk.format("GET", paths[math.random(#paths)])
end
