-- The one request wrk sends over and over, and the figures it hands back to bench_api.py.
--
--   wrk -t1 -c8 -d10s -s wrk_request.lua http://127.0.0.1:PORT/graphql -- body.json
--
-- With a body file after `--`, the request is a POST of that JSON; without, a GET.
-- done() prints one JSON line: requests, elapsed microseconds, errors (any socket error,
-- timeout or non-2xx status), and the p50/p99 latency in microseconds.

function init(args)
  if args[1] then
    local file = assert(io.open(args[1], "rb"))
    wrk.method = "POST"
    wrk.body = file:read("*a")
    file:close()
    wrk.headers["Content-Type"] = "application/json"
  end
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '{"requests": %d, "duration_us": %d, "errors": %d, "p50_us": %.0f, "p99_us": %.0f}\n',
    summary.requests,
    summary.duration,
    e.connect + e.read + e.write + e.status + e.timeout,
    latency:percentile(50),
    latency:percentile(99)
  ))
end
