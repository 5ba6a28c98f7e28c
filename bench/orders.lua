-- POST /v1/orders (keep-alive), spread over RESOURCES capacity resources
-- PREFIX1..PREFIX<RESOURCES> (default bench-1..bench-50) and CUSTOMERS
-- customers c-0..; the hot spot is RESOURCES=1 PREFIX=hot-.
dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "report.lua")
local prefix = os.getenv("PREFIX") or "bench-"
local resources = tonumber(os.getenv("RESOURCES") or "50")
local customers = tonumber(os.getenv("CUSTOMERS") or "10007")
-- KEYED=1: every order carries an Idempotency-Key of its own (this run's
-- start time, the thread, the count: runs last seconds, so no key repeats).
local keyed = os.getenv("KEYED") == "1"
local n = 0
local run = 0
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
function init() n = (tid or 0) * 7919; run = os.time() end
function request()
  n = n + 1
  local body = string.format('{"resourceId":"%s%d","customerId":"c-%d","quantity":1}',
                             prefix, (n % resources) + 1, n % customers)
  local headers = nil
  if keyed then headers = {["Idempotency-Key"] = string.format("k-%d-%d-%d", run, tid or 0, n)} end
  return wrk.format(nil, "/v1/orders", headers, body)
end
