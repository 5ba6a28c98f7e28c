-- GET the paths listed in the file PATHS (one per line, e.g. the seeded
-- /v1/orders/{id} or /v1/customers/{id}/mypage), round robin (keep-alive).
dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "report.lua")
local paths, n = {}, 0
function init()
  for line in io.lines(os.getenv("PATHS")) do paths[#paths + 1] = line end
  n = ((tid or 0) * 7919) % #paths
end
function request()
  n = n % #paths + 1
  return wrk.format("GET", paths[n])
end
