-- wrk script for bench/load.py's baseline: each connection alternates GET /page and
-- POST /redirect on bench/bare_app.py (the same request pair as a pulse answer).

local requests_made = 0

function request()
  requests_made = requests_made + 1
  local headers = { ["X-Forwarded-Proto"] = "https", ["User-Agent"] = "pulse-bench-load" }
  if requests_made % 2 == 1 then return wrk.format("GET", "/page", headers) end
  headers["Content-Type"] = "application/x-www-form-urlencoded"
  return wrk.format("POST", "/redirect", headers, "answer=yes")
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "PULSE_SUMMARY requests=%d duration_us=%d connect=%d read=%d write=%d status=%d timeout=%d"
    .. " p50_us=%d p95_us=%d p99_us=%d\n",
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(95), latency:percentile(99)))
end
