-- wrk script for the writes and mixed scenarios: every request is POST /v1/sources with a title no
-- other request uses (run tag, wrk thread, counter), so each 201 is one committed row.
--
--   BENCH_TOKEN=... BENCH_TAG=run-name wrk -s bench/post_source.lua http://127.0.0.1:PORT
--
-- done() prints one line that bench/run.sh reads:
--   post_source: created=N other=M sent=S [statuses: 409=2 503=1 ...]
-- created = 201s, other = any other status (listed by status), sent = requests handed to wrk; sent minus
-- answered is what was in flight when wrk stopped (committed or not, nobody saw the answer).

local token = os.getenv("BENCH_TOKEN") or ""
local tag = os.getenv("BENCH_TAG") or tostring(os.time())
local threads = {}
local next_thread = 1

function setup(thread)
  thread:set("thread_number", next_thread)
  next_thread = next_thread + 1
  table.insert(threads, thread)
end

function init(args)
  sent, created, other, statuses = 0, 0, 0, {}
  headers = { ["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. token }
end

function request()
  sent = sent + 1
  local body = string.format('{"title":"bench %s t%d #%d"}', tag, thread_number, sent)
  return wrk.format("POST", "/v1/sources", headers, body)
end

function response(status, _, _)
  if status == 201 then
    created = created + 1
  else
    other = other + 1
    statuses[status] = (statuses[status] or 0) + 1
  end
end

function done(_, _, _)
  local total = { sent = 0, created = 0, other = 0 }
  local by_status = {}
  for _, thread in ipairs(threads) do
    for key in pairs(total) do total[key] = total[key] + (thread:get(key) or 0) end
    for status, n in pairs(thread:get("statuses") or {}) do by_status[status] = (by_status[status] or 0) + n end
  end
  local list = {}
  for status, n in pairs(by_status) do list[#list + 1] = status .. "=" .. n end
  table.sort(list)
  io.write(string.format("post_source: created=%d other=%d sent=%d%s\n", total.created, total.other, total.sent,
    #list > 0 and (" statuses: " .. table.concat(list, " ")) or ""))
end
