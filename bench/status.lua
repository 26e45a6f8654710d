-- wrk script for the dashboard scenario: every connection polls /v1/status with the ETag it last saw,
-- as a dashboard does, so most answers are 304 and each write costs one 200 per connection.
local etag = nil

request = function()
  if etag then
    return wrk.format("GET", "/v1/status", { ["If-None-Match"] = etag })
  end
  return wrk.format("GET", "/v1/status")
end

response = function(status, headers, body)
  if headers["ETag"] then etag = headers["ETag"] end
  if status == 200 then ok200 = (ok200 or 0) + 1 elseif status == 304 then notModified = (notModified or 0) + 1 end
end
