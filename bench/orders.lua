-- POST /v1/orders (keep-alive), spread over RESOURCES capacity resources
-- PREFIX1..PREFIX<RESOURCES> (default bench-1..bench-50) and CUSTOMERS
-- customers c-0..; the hot spot is RESOURCES=1 PREFIX=hot-.
dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "report.lua")
local prefix = os.getenv("PREFIX") or "bench-"
local resources = tonumber(os.getenv("RESOURCES") or "50")
local customers = tonumber(os.getenv("CUSTOMERS") or "10007")
local n = 0
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
function init() n = (tid or 0) * 7919 end
function request()
  n = n + 1
  local body = string.format('{"resourceId":"%s%d","customerId":"c-%d","quantity":1}',
                             prefix, (n % resources) + 1, n % customers)
  return wrk.format(nil, "/v1/orders", nil, body)
end
