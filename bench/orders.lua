-- POST /v1/orders spread over RESOURCES capacity resources and many customers.
local resources = tonumber(os.getenv("RESOURCES") or "50")
local n = 0
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
request = function()
  n = n + 1
  local body = string.format('{"resourceId":"bench-%d","customerId":"c-%d","quantity":1}',
                             (n % resources) + 1, n % 10007)
  return wrk.format(nil, "/v1/orders", nil, body)
end
