-- Places one guest order per request: POST /api/v1/orders, 1 unit of a random listing in 1..$LISTINGS,
-- a fresh Idempotency-Key every time (run nonce + thread id + counter: keys never repeat) and a random
-- Vietnamese mobile (+8491 and 7 digits). Counts the answers by status in each thread and prints them, with
-- the first body seen for every status other than 201, when the run is done.
--
--   LISTINGS=10000 wrk -t2 -c64 -d15s --latency -s bench/wrk/orders.lua http://127.0.0.1:18080
local listings = tonumber(os.getenv("LISTINGS") or "10000")
local nonce = os.getenv("RUN_NONCE") or tostring(os.time())

-- main state: one entry per thread, read back in done()
local threads = {}
local next_id = 1

function setup(thread)
  thread:set("id", next_id)
  threads[#threads + 1] = thread
  next_id = next_id + 1
end

-- thread states
counts = {}
samples = {}
local counter = 0
local headers = { ["Content-Type"] = "application/json" }

function init(args)
  math.randomseed(os.time() * 1000 + id * 7919)
end

function request()
  counter = counter + 1
  headers["Idempotency-Key"] = string.format("bench-%s-t%d-%d-%08x", nonce, id, counter, math.random(0, 0x7fffffff))
  local body = string.format(
    '{"items":[{"listing_id":%d,"quantity":1}],"buyer":{"name":"Khách","phone":"+8491%07d"},'
      .. '"address":{"ward_code":24778,"street":"12 Trần Phú"}}',
    math.random(1, listings), math.random(0, 9999999))
  return wrk.format("POST", "/api/v1/orders", headers, body)
end

function response(status, headers, body)
  local key = tostring(status)
  counts[key] = (counts[key] or 0) + 1
  if status ~= 201 and samples[key] == nil then
    samples[key] = string.sub(body or "", 1, 400)
  end
end

function done(summary, latency, requests)
  local total = {}
  for _, thread in ipairs(threads) do
    local c = thread:get("counts")
    local line = {}
    for status, n in pairs(c) do
      line[#line + 1] = status .. "=" .. n
      total[status] = (total[status] or 0) + n
    end
    table.sort(line)
    io.write(string.format("thread %d statuses: %s\n", thread:get("id"), table.concat(line, " ")))
    for status, body in pairs(thread:get("samples")) do
      io.write(string.format("thread %d first %s body: %s\n", thread:get("id"), status, body))
    end
  end
  local line = {}
  for status, n in pairs(total) do line[#line + 1] = status .. "=" .. n end
  table.sort(line)
  io.write("statuses: " .. table.concat(line, " ") .. "\n")
  io.write(string.format("socket errors: connect %d, read %d, write %d, timeout %d\n",
    summary.errors.connect, summary.errors.read, summary.errors.write, summary.errors.timeout))
end
