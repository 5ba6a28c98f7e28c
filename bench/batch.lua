-- Bounded batch client (the scale phase). COUNT POSTs in all, numbered
-- 0..COUNT-1; thread k of THREADS sends k, k+THREADS, ... (unique ids), then
-- only GET /health/live, and stops once all its POSTs are answered. wrk
-- itself sleeps until -d: run.sh interrupts it (SIGINT) once troupe's
-- counters show everything placed, and -d is the time bound.
--   KIND=resources: POST /v1/resources {"id":"PREFIX<i+1>", capacity CAPACITY, price 100}
--   KIND=orders:    POST /v1/orders on PREFIX<(i % RESOURCES)+1>, customer sc-<i % CUSTOMERS>
dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "report.lua")
local kind = os.getenv("KIND") or "orders"
local count = tonumber(os.getenv("COUNT"))
local threads_n = tonumber(os.getenv("THREADS") or "2")
local prefix = os.getenv("PREFIX") or "s-"
local resources = tonumber(os.getenv("RESOURCES") or "1")
local customers = tonumber(os.getenv("CUSTOMERS") or "100000")
local capacity = tonumber(os.getenv("CAPACITY") or "100")
local threads = {}
local base_setup = setup
function setup(thread) base_setup(thread); threads[#threads + 1] = thread end
local i, sent, quota, verify = 0, 0, 0, false
answered, failed, codes = 0, 0, "" -- codes: "503=2 504=1" (read by done())
local by_code = {}
function init()
  i = tid
  quota = math.floor((count - tid + threads_n - 1) / threads_n)
  -- wrk calls thread 0's request() once more, right after init(), only to
  -- check the request (never sent): that call must not take a number
  verify = tid == 0
end
local json = { ["Content-Type"] = "application/json" }
-- once this thread's POSTs are all sent, its connections idle (a GET every 200 ms)
function delay() return sent >= quota and 200 or 0 end
function request()
  if verify then verify = false; return wrk.format("GET", "/health/live") end
  if sent >= quota then return wrk.format("GET", "/health/live") end
  sent = sent + 1
  local k = i
  i = i + threads_n
  if kind == "resources" then
    return wrk.format("POST", "/v1/resources", json, string.format(
      '{"id":"%s%d","type":"bench","name":"S %d","mode":"capacity","capacity":%d,"price":100}',
      prefix, k + 1, k, capacity))
  end
  return wrk.format("POST", "/v1/orders", json, string.format(
    '{"resourceId":"%s%d","customerId":"sc-%d","quantity":1}', prefix, (k % resources) + 1, k % customers))
end
function response(status)
  if status == 200 then return end -- /health/live
  answered = answered + 1
  if status ~= 201 then
    failed = failed + 1
    by_code[status] = (by_code[status] or 0) + 1
    local t = {}
    for k, v in pairs(by_code) do t[#t + 1] = k .. "=" .. v end
    codes = table.concat(t, " ")
  end
  if answered >= quota then wrk.thread:stop() end
end
function done(s, latency)
  bench_report(s, latency)
  local a, f, c = 0, 0, {}
  for _, t in ipairs(threads) do
    a = a + (t:get("answered") or 0); f = f + (t:get("failed") or 0)
    for k, v in string.gmatch(t:get("codes") or "", "(%d+)=(%d+)") do c[k] = (c[k] or 0) + tonumber(v) end
  end
  local cs = {}
  for k, v in pairs(c) do cs[#cs + 1] = k .. ":" .. v end
  io.write(string.format("BATCH answered=%d failed=%d codes=%s\n", a, f, table.concat(cs, ",")))
end
