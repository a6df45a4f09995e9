-- wrk script for bench/load.py: each connection answers pulses, one link after another.
--
-- load.py runs wrk with as many threads as connections (-tN -cN), so each wrk
-- thread owns exactly one connection and its request() and response() calls
-- strictly alternate: the state below always belongs to the request in flight.
-- setup() gives each thread its own slice of the links file; for each link the
-- thread GETs /p/<token>, reads the CSRF token, the signed item list ("shown"),
-- the radio items and the session cookie, then POSTs a full answer (a random
-- valid choice for every radio item) and counts a 303 to the thank-you page as
-- acknowledged. Every link is used once. When its slice is done the thread
-- writes its figures to $PULSE_LOAD_OUT/thread-<id>.txt, prints "PULSE_DONE <id>"
-- and stops; load.py interrupts wrk once every thread has said so.
--
-- Environment: PULSE_LOAD_LINKS (one path a line), PULSE_LOAD_FIRST (1-based
-- line of the first link to use), PULSE_LOAD_TOTAL (links to use),
-- PULSE_LOAD_THREADS (wrk's -t), PULSE_LOAD_OUT (a folder).

local ffi = require("ffi")
ffi.cdef [[
typedef struct { long tv_sec; long tv_nsec; } pulse_timespec;
int clock_gettime(int clock_id, pulse_timespec *tp);
]]
local CLOCK_MONOTONIC = 1 -- the clock Python's time.monotonic() reads on Linux
local timespec = ffi.new("pulse_timespec")
local function now()
  ffi.C.clock_gettime(CLOCK_MONOTONIC, timespec)
  return tonumber(timespec.tv_sec) + tonumber(timespec.tv_nsec) / 1e9
end

local LINKS = os.getenv("PULSE_LOAD_LINKS")
local OUT = os.getenv("PULSE_LOAD_OUT")
local FIRST = tonumber(os.getenv("PULSE_LOAD_FIRST") or "1")
local TOTAL = tonumber(os.getenv("PULSE_LOAD_TOTAL"))
local THREADS = tonumber(os.getenv("PULSE_LOAD_THREADS"))
local MAX_GET_RETRIES = 3

-- Main state: hand out the slices.

local threads = {}

function setup(thread)
  local i = #threads
  threads[i + 1] = thread
  thread:set("id", i)
  thread:set("lo", FIRST + math.floor(i * TOTAL / THREADS))
  thread:set("hi", FIRST + math.floor((i + 1) * TOTAL / THREADS) - 1)
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "PULSE_SUMMARY requests=%d duration_us=%d connect=%d read=%d write=%d status=%d timeout=%d\n",
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout))
end

-- Thread state.

local links = {}
local cursor, phase, pending, sent_at, pair_start, retries
local form -- {cookie=..., body=...} between a GET and its POST
local started, ended
local counts = {}
local lat = { get = {}, post = {}, submission = {} }
local acked = {}
local answers_acked = 0 -- item answers in acknowledged posts
local finished = false
local verify_call = false

function init(args)
  local line_no = 0
  for line in io.lines(LINKS) do
    line_no = line_no + 1
    if line_no >= lo and line_no <= hi then links[line_no] = line end
  end
  cursor, phase, retries = lo, "get", 0
  -- wrk 4.1 calls thread 0's request() once before the run, to see whether it is
  -- pipelined (script_verify_request); that request is never sent.
  verify_call = (id == 0)
  math.randomseed(1000 + id)
end

local function count(key)
  counts[key] = (counts[key] or 0) + 1
end

local function headers(extra)
  local h = { ["X-Forwarded-Proto"] = "https", ["User-Agent"] = "pulse-bench-load" }
  for k, v in pairs(extra or {}) do h[k] = v end
  return h
end

local function unescape(s)
  return (s:gsub("&#34;", '"'):gsub("&#39;", "'"):gsub("&quot;", '"'):gsub("&lt;", "<")
    :gsub("&gt;", ">"):gsub("&amp;", "&"))
end

local function urlencode(s)
  return (s:gsub("[^%w%-%._~]", function(c) return string.format("%%%02X", c:byte()) end))
end

local function hidden(body, name)
  local tag = body:match('<input[^>]-name="' .. name .. '"[^>]*>')
  local value = tag and tag:match('value="([^"]*)"')
  return value and unescape(value)
end

-- The answer to post: the form's hidden fields plus one valid choice per radio item.
local function build_answer(body)
  local csrf, shown = hidden(body, "csrf_token"), hidden(body, "shown")
  if not csrf or not shown then return nil end
  local options, order = {}, {}
  for name, value in body:gmatch('name="([%w_]+)" type="radio" value="([%w_]+)"') do
    if not options[name] then
      options[name] = {}
      order[#order + 1] = name
    end
    table.insert(options[name], value)
  end
  if #order == 0 then return nil end
  local parts = { "csrf_token=" .. urlencode(csrf), "shown=" .. urlencode(shown) }
  for _, name in ipairs(order) do
    local choices = options[name]
    parts[#parts + 1] = name .. "=" .. urlencode(choices[math.random(#choices)])
  end
  return table.concat(parts, "&"), #order
end

local function next_link()
  cursor, phase, form, pair_start, retries = cursor + 1, "get", nil, nil, 0
end

local function finish()
  if finished then return end
  finished = true
  local f = assert(io.open(string.format("%s/thread-%d.txt", OUT, id), "w"))
  f:write(string.format("started %.6f\nended %.6f\n", started or 0, ended or 0))
  f:write(string.format("answers_acked %d\n", answers_acked))
  for key, n in pairs(counts) do f:write(string.format("count %s %d\n", key, n)) end
  for kind, values in pairs(lat) do
    for _, v in ipairs(values) do f:write(string.format("latency %s %.6f\n", kind, v)) end
  end
  for _, path in ipairs(acked) do f:write("acked ", path, "\n") end
  f:close()
  io.write("PULSE_DONE ", id, "\n")
  io.stdout:flush()
  wrk.thread:stop()
end

function request()
  if verify_call then
    verify_call = false
    return wrk.format("GET", "/healthz", headers())
  end
  local t = now()
  if pending then -- no response came: the connection broke and wrk reconnected
    if pending == "post" then
      count("post lost") -- its fate is unknown, so the link is never posted again
      next_link()
    else
      count("get lost")
      retries = retries + 1
      if retries > MAX_GET_RETRIES then next_link() end
    end
    pending = nil
  end
  if cursor > hi then -- nothing left (wrk asked once more before the stop took effect)
    count("spare")
    pending = "spare"
    return wrk.format("GET", "/healthz", headers())
  end
  started = started or t
  sent_at = t
  if phase == "get" then
    pending = "get"
    pair_start = pair_start or t
    return wrk.format("GET", links[cursor], headers())
  end
  pending = "post"
  return wrk.format("POST", links[cursor], headers({
    ["Cookie"] = form.cookie,
    ["Content-Type"] = "application/x-www-form-urlencoded",
  }), form.body)
end

function response(status, hdrs, body)
  local t = now()
  local kind = pending
  pending = nil
  if kind == "get" then
    lat.get[#lat.get + 1] = t - sent_at
    count("get " .. status)
    local answer, items = nil, 0
    if status == 200 then answer, items = build_answer(body) end
    local cookie = hdrs["Set-Cookie"] and hdrs["Set-Cookie"]:match("^([^;]+)")
    if answer and cookie then
      form = { cookie = cookie, body = answer, items = items }
      phase = "post"
    else
      if status == 200 then count("get unparsed") end
      next_link()
    end
  elseif kind == "post" then
    lat.post[#lat.post + 1] = t - sent_at
    count("post " .. status)
    local location = hdrs["Location"] or ""
    if status == 303 and location:find("/thank-you/", 1, true) then
      acked[#acked + 1] = links[cursor]
      lat.submission[#lat.submission + 1] = t - pair_start
      answers_acked = answers_acked + form.items
    end
    next_link()
  end
  ended = t
  if cursor > hi then finish() end
end
