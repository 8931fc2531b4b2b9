-- wrk: upserts over 1,000 users, each request changing firstName so every one is a write.
local counter = 0
request = function()
  counter = counter + 1
  local n = counter % 1000
  local body = string.format('{"firstName":"L%d","email":"load%d@example.com"}', counter, n)
  return wrk.format("POST", "/users/load-" .. n,
    { ["Authorization"] = "dev-write-key", ["Content-Type"] = "application/json" }, body)
end
